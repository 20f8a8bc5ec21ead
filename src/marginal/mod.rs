//! Closed-form marginal paths, and five checks of the maths of Flow Matching.
//!
//! # From one data point to the whole data set
//!
//! An affine Gaussian path moves noise x₀ ~ N(0, I) towards one data point z:
//!
//! ```text
//! x_t = α_t z + σ_t x₀,      p_t(x | z) = N(x; α_t z, σ_t² I)
//! u_t(x | z) = (α̇_t − (σ̇_t/σ_t) α_t) z + (σ̇_t/σ_t) x        (the conditional velocity)
//! ```
//!
//! Averaging over the data gives the *marginal* path, the one a trained model follows:
//!
//! ```text
//! p_t(x) = ∫ p_t(x | z) p_data(z) dz
//! u_t(x) = ∫ u_t(x | z) p_t(x | z) p_data(z) dz / p_t(x)  =  E[ u_t(x | z) | x_t = x ]
//! ```
//!
//! So the marginal velocity at x is the average of the conditional velocities,
//! each weighted by how likely it is that the path through x came from that z
//! (the posterior p(z | x_t = x)). For two kinds of data everything is exact:
//!
//! * **a finite point set** z₁..z_K with weights w_k (an empirical distribution):
//!   p_t is the mixture Σ_k w_k N(x; α_t z_k, σ_t² I);
//! * **a Gaussian mixture** Σ_k w_k N(m_k, C_k): each component is carried to
//!   N(α_t m_k, Σ_k(t)) with Σ_k(t) = α_t² C_k + σ_t² I.
//!
//! A point set is the special case C_k = 0, and [`Marginal`] treats both the same way.
//!
//! # The formulas
//!
//! With r_k = x − α_t m_k and y_k = Σ_k(t)⁻¹ r_k, the posterior weight of component k is
//!
//! ```text
//! π_k(x) = w_k N(x; α_t m_k, Σ_k(t)) / p_t(x)        (computed in log space: log-sum-exp)
//! ```
//!
//! and the score is ∇ log p_t(x) = −Σ_k π_k(x) y_k.
//!
//! **Velocity of one Gaussian component.** Inside component k the pair
//! (x₁, x_t) is jointly Gaussian with Cov(x₁, x_t) = α_t C_k and
//! Cov(x₀, x_t) = σ_t I, so conditioning on x_t = x gives
//!
//! ```text
//! E[x₁ | x_t = x, k] = m_k + α_t C_k y_k
//! E[x₀ | x_t = x, k] = σ_t y_k
//! u_t^k(x) = E[α̇_t x₁ + σ̇_t x₀ | x_t = x, k] = α̇_t m_k + (α̇_t α_t C_k + σ̇_t σ_t I) Σ_k(t)⁻¹ (x − α_t m_k)
//! ```
//!
//! which is affine in x. It equals the conditional velocity u_t(x | z) evaluated
//! at the posterior mean z = E[x₁ | x_t = x, k] (because u_t(x | z) is affine in z);
//! for a point (C_k = 0) it is exactly u_t(x | z_k). The marginal velocity is
//! the posterior average u_t(x) = Σ_k π_k(x) u_t^k(x), which simplifies to
//!
//! ```text
//! u_t(x) = α̇_t x̂₁(x) − σ̇_t σ_t ∇ log p_t(x),      x̂₁(x) = E[x₁ | x_t = x] = Σ_k π_k (m_k + α_t C_k y_k)
//! ```
//!
//! **Velocity and score.** Tweedie's formula E[x₀ | x_t = x] = −σ_t ∇ log p_t(x)
//! and x = α_t x̂₁ + σ_t x̂₀ give, wherever α_t > 0,
//!
//! ```text
//! u_t(x) = (α̇_t/α_t) x + σ_t (α̇_t σ_t/α_t − σ̇_t) ∇ log p_t(x)
//! ```
//!
//! (for CondOT: u_t(x) = x/t + ((1 − t)/t) ∇ log p_t(x)).
//!
//! # Classes
//!
//! When the components are classes y (a mixture whose component k is class k, or a point set
//! with each point its own class), the data of one class is a single component, so its
//! marginal velocity is the component's own affine field:
//!
//! ```text
//! u_t(x | y = k) = u_t^k(x),        u_t(x) = Σ_k p(y = k | x_t = x) u_t(x | y = k)      (π_k = p(y = k | x_t = x))
//! ```
//!
//! [`Marginal::class_velocity`] evaluates it, and [`Marginal`] is a [`Model`] whose labels are
//! the components: the exact conditional model, v(x, t | k) = u_t^k(x) and v(x, t | ∅) = u_t(x),
//! against which classifier-free guidance is checked (`crate::guidance`).
//!
//! # Endpoints and far-away points
//!
//! Posterior weights go through log-sum-exp, so a point far from the data
//! (say ‖x‖ = 10³) gets finite weights, score and velocity instead of 0/0.
//! Near t = 1 the point-set marginal sharpens to point masses: σ_t = 10⁻⁶ is
//! fine, but at σ_t = 0 exactly (t = 1 for the usual schedulers) the density
//! is a sum of Dirac masses, so the point-set functions return an error; stop
//! at t = 1 − ε or use a mixture with a small covariance. A mixture whose
//! covariances are positive definite is fine on all of [0, 1].
//!
//! # Checks a learner can run
//!
//! Each check returns a [`CheckReport`] (a headline number, its tolerance,
//! pass/fail and a one-line explanation) and takes its settings from a
//! struct with a `Default`:
//!
//! | check | claim |
//! | --- | --- |
//! | [`check_marginalization`] | a Monte-Carlo average of conditional velocities converges to u_t(x) like 1/√n |
//! | [`check_continuity`] | ∂_t p_t + ∇·(p_t u_t) = 0, up to a finite-difference error that shrinks with the grid |
//! | [`check_fm_cfm_gradients`] | L_FM − L_CFM does not depend on θ, so both losses have the same gradient |
//! | [`check_bregman`] | with an L1 loss the minimiser is a median of the conditional velocities, not u_t(x) |
//! | [`check_sampling`] | solving dx/dt = u_t(x) from noise reproduces the data (W2 at the sampling-noise floor); [`check_sampler`] does the same for any sampler (an SDE, DDIM) |
//!
//! [`GaussianBridge`] (`gaussian.rs`) is the exact marginal field between two
//! Gaussians with independent pairs, and its flow map: topic 7.2 compares it with
//! the optimal transport map.
//!
//! The checks take the field *under test* as a [`VectorField`], so feeding
//! them a wrong field (a sign flip, or a conditional velocity used as if it
//! were the marginal one) makes them fail. They live in `checks.rs`, apart from
//! the closed forms (`mod.rs`), with the [`CheckReport`] they share.
//!
//! ```
//! use flowmatch::data::EightGaussians;
//! use flowmatch::marginal::{check_continuity, ContinuitySettings, Marginal};
//! use flowmatch::path::CondOT;
//! # fn main() -> flowmatch::Result<()> {
//! let m = Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), CondOT)?;
//! let x = flowmatch::Points::from_rows(&[[1.0, 2.0]])?;
//! let u = m.velocity(&x, 0.5)?; // the exact marginal velocity
//! assert!(u.check_finite("u").is_ok());
//! let settings = ContinuitySettings { times: vec![0.5], ..Default::default() };
//! let report = check_continuity(&m, &m, &settings)?; // the field under test is m itself
//! assert!(report.passed, "{report}");
//! # Ok(())
//! # }
//! ```

use rand::distributions::WeightedIndex;
use rand::{Rng, RngCore};
use rand_distr::{Distribution, StandardNormal};

use crate::data::{Dataset, GaussianMixture};
use crate::error::{Error, Result};
use crate::field::{check_labels, Model, Time, VectorField, NULL_LABEL};
use crate::numeric::{normalise_weights, shifted_exp, Cholesky, LN_2PI};
use crate::path::{AffinePath, Scheduler, SchedulerOutput};
use crate::points::Points;

mod checks;
mod gaussian;

pub use gaussian::GaussianBridge;

pub use checks::{
    check_bregman, check_continuity, check_fm_cfm_gradients, check_marginalization, check_sampler, check_sampling,
    skewed_example, weighted_mean, weighted_median, BregmanSettings, CheckReport, ContinuitySettings, GradientSettings,
    MarginalizationSettings, Minimiser, SamplingSettings,
};

/// The data behind a [`Marginal`]: a weighted point set or a Gaussian mixture.
#[derive(Clone, Debug)]
pub enum MarginalData {
    /// An empirical distribution Σ_k w_k δ(z − z_k); `weights` are normalised to sum to 1.
    Points {
        /// The data points z_k, one per row.
        points: Points,
        /// Their probabilities w_k (sum 1).
        weights: Vec<f64>,
    },
    /// A Gaussian mixture Σ_k w_k N(m_k, C_k).
    Mixture(GaussianMixture),
}

/// The exact marginal probability path p_t and velocity u_t for data `MarginalData`
/// and an affine Gaussian path x_t = α_t x₁ + σ_t x₀.
///
/// Build it with [`Marginal::from_points`], [`Marginal::from_weighted_points`]
/// or [`Marginal::from_mixture`]. It implements [`VectorField`] (the marginal
/// velocity), so the ODE solvers can integrate the true field.
#[derive(Clone, Debug)]
pub struct Marginal<S> {
    data: MarginalData,
    path: AffinePath<S>,
    dim: usize,
    /// ln w_k.
    log_weights: Vec<f64>,
    /// m_k (or z_k), K × d row-major.
    means: Vec<f64>,
    /// C_k, K × d × d row-major; `None` for point data (C_k = 0).
    covs: Option<Vec<f64>>,
    /// Draws a point index for point data.
    index: Option<WeightedIndex<f64>>,
}

/// Everything [`Marginal::evaluate`] computes at a batch of points, one row per point.
#[derive(Clone, Debug, PartialEq)]
pub struct MarginalValues {
    /// log p_t(x).
    pub log_density: Vec<f64>,
    /// ∇ log p_t(x) = −Σ_k π_k(x) Σ_k(t)⁻¹ (x − α_t m_k).
    pub score: Points,
    /// u_t(x) = α̇_t x̂₁(x) − σ̇_t σ_t ∇ log p_t(x).
    pub velocity: Points,
    /// x̂₁(x) = E[x₁ | x_t = x], the posterior mean of the data point (the "denoiser").
    pub posterior_mean: Points,
}

/// The posterior over the data components at one point x and time t.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    /// π_k(x) = p(component k | x_t = x); they sum to 1.
    pub weights: Vec<f64>,
    /// E[x₁ | x_t = x, k], one row per component (z_k itself for point data).
    pub means: Points,
    /// u_t^k(x) = E[dx_t/dt | x_t = x, k], one row per component: the conditional
    /// velocity u_t(x | z_k) for point data.
    pub velocities: Points,
}

/// Scheduler values and per-component quantities at one time t.
struct Frame {
    c: SchedulerOutput,
    /// ln w_k − ½ ln det Σ_k(t) − (d/2) ln 2π.
    log_norms: Vec<f64>,
    /// α_t m_k, K × d.
    centers: Vec<f64>,
    /// Cholesky factors of Σ_k(t), one per component; empty for point data.
    chols: Vec<Cholesky>,
    /// 1/σ_t² for point data (Σ_k(t) = σ_t² I).
    inv_var: f64,
}

/// Reusable buffers for one point.
struct Scratch {
    logits: Vec<f64>,
    /// Posterior weights π_k(x).
    weights: Vec<f64>,
    /// y_k = Σ_k(t)⁻¹ (x − α_t m_k), K × d.
    ys: Vec<f64>,
    r: Vec<f64>,
    /// E[x₁ | x_t = x, k] for one k.
    mean: Vec<f64>,
}

impl<S: Scheduler> Marginal<S> {
    /// The marginal of equally weighted data points z_1..z_K (rows of `points`):
    /// p_t(x) = (1/K) Σ_k N(x; α_t z_k, σ_t² I).
    ///
    /// Errors: [`Error::ZeroCount`] for no points, [`Error::NonFinite`] for NaN/∞
    /// coordinates, [`Error::InvalidParameter`] when the scheduler misses its endpoints.
    pub fn from_points(points: &Points, scheduler: S) -> Result<Self> {
        Marginal::from_weighted_points(points, &vec![1.0; points.len()], scheduler)
    }

    /// The marginal of data points z_k with probabilities proportional to `weights`:
    /// p_t(x) = Σ_k w_k N(x; α_t z_k, σ_t² I).
    ///
    /// Errors: as [`Marginal::from_points`], plus [`Error::ShapeMismatch`] for a
    /// wrong number of weights and [`Error::InvalidParameter`] for a negative or
    /// non-finite weight or weights that sum to 0.
    pub fn from_weighted_points(points: &Points, weights: &[f64], scheduler: S) -> Result<Self> {
        if points.is_empty() {
            return Err(Error::ZeroCount { what: "the number of data points of a Marginal".into() });
        }
        points.check_finite("the data points of a Marginal")?;
        if weights.len() != points.len() {
            return Err(Error::shape(
                "the weights of Marginal::from_weighted_points",
                format!("{} weights (one per point)", points.len()),
                format!("{} weights", weights.len()),
            ));
        }
        let weights = normalise_weights(weights, "the weights of Marginal::from_weighted_points")?;
        let index = WeightedIndex::new(&weights)
            .map_err(|e| Error::invalid("the weights of a Marginal", format!("cannot be sampled from: {e}")))?;
        let path = AffinePath::new(scheduler)?;
        Ok(Marginal {
            dim: points.dim(),
            log_weights: weights.iter().map(|w| w.ln()).collect(),
            means: points.as_slice().to_vec(),
            covs: None,
            index: Some(index),
            data: MarginalData::Points { points: points.clone(), weights },
            path,
        })
    }

    /// The marginal of a Gaussian mixture Σ_k w_k N(m_k, C_k):
    /// p_t(x) = Σ_k w_k N(x; α_t m_k, α_t² C_k + σ_t² I).
    ///
    /// Errors: [`Error::InvalidParameter`] when the scheduler misses its endpoints.
    pub fn from_mixture(mixture: &GaussianMixture, scheduler: S) -> Result<Self> {
        let path = AffinePath::new(scheduler)?;
        let comps = mixture.components();
        Ok(Marginal {
            dim: mixture.dim(),
            log_weights: mixture.weights().iter().map(|w| w.ln()).collect(),
            means: comps.iter().flat_map(|c| c.loc().iter().copied()).collect(),
            covs: Some(comps.iter().flat_map(|c| c.cov().iter().copied()).collect()),
            index: None,
            data: MarginalData::Mixture(mixture.clone()),
            path,
        })
    }

    /// The data this marginal was built from.
    pub fn data(&self) -> &MarginalData {
        &self.data
    }

    /// The affine path x_t = α_t x₁ + σ_t x₀.
    pub fn path(&self) -> &AffinePath<S> {
        &self.path
    }

    /// The scheduler (α_t, σ_t).
    pub fn scheduler(&self) -> &S {
        self.path.scheduler()
    }

    /// Dimension d of the data.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number K of data points or mixture components.
    pub fn num_components(&self) -> usize {
        self.log_weights.len()
    }

    /// log p_t(x), score ∇ log p_t(x), velocity u_t(x) and posterior mean
    /// E[x₁ | x_t = x] at every row of `x`, in one pass (see the module docs
    /// for the formulas).
    ///
    /// Errors: [`Error::ShapeMismatch`] for points of the wrong dimension,
    /// [`Error::NonFinite`] for NaN/∞ in `x` or t, or a point so far away that
    /// its squared distance overflows; [`Error::InvalidParameter`] for t outside
    /// [0, 1], or σ_t = 0 with point data (t = 1: the marginal is a sum of point
    /// masses; stop at t = 1 − ε).
    pub fn evaluate(&self, x: &Points, t: f64) -> Result<MarginalValues> {
        self.check_query(x, "Marginal::evaluate")?;
        let f = self.frame(t)?;
        let (n, d) = x.shape();
        let mut out = MarginalValues {
            log_density: vec![0.0; n],
            score: Points::zeros(n, d),
            velocity: Points::zeros(n, d),
            posterior_mean: Points::zeros(n, d),
        };
        let mut s = self.scratch();
        for (i, xi) in x.rows().enumerate() {
            let lp = self.point_eval(&f, xi, &mut s, out.score.row_mut(i), out.posterior_mean.row_mut(i))?;
            out.log_density[i] = lp;
            let (sc, x1) = (out.score.row(i), out.posterior_mean.row(i));
            for ((u, a), b) in out.velocity.row_mut(i).iter_mut().zip(x1).zip(sc) {
                *u = f.c.d_alpha * a - f.c.d_sigma * f.c.sigma * b;
            }
        }
        Ok(out)
    }

    /// log p_t(x) = logsumexp_k (ln w_k + log N(x; α_t m_k, α_t² C_k + σ_t² I)), one number per row.
    ///
    /// Errors: as [`Marginal::evaluate`].
    pub fn log_density(&self, x: &Points, t: f64) -> Result<Vec<f64>> {
        Ok(self.evaluate(x, t)?.log_density)
    }

    /// p_t(x) = exp(log p_t(x)), one number per row (0 far from the data: use
    /// [`Marginal::log_density`] there).
    ///
    /// Errors: as [`Marginal::evaluate`].
    pub fn density(&self, x: &Points, t: f64) -> Result<Vec<f64>> {
        Ok(self.log_density(x, t)?.into_iter().map(f64::exp).collect())
    }

    /// The score ∇ log p_t(x) = −Σ_k π_k(x) Σ_k(t)⁻¹ (x − α_t m_k), one row per point.
    ///
    /// Errors: as [`Marginal::evaluate`].
    pub fn score(&self, x: &Points, t: f64) -> Result<Points> {
        Ok(self.evaluate(x, t)?.score)
    }

    /// The marginal velocity u_t(x) = Σ_k π_k(x) u_t^k(x) = α̇_t x̂₁(x) − σ̇_t σ_t ∇ log p_t(x),
    /// one row per point. For point data u_t^k(x) is the conditional velocity
    /// u_t(x | z_k); for a Gaussian component it is
    /// α̇_t m_k + (α̇_t α_t C_k + σ̇_t σ_t I)(α_t² C_k + σ_t² I)⁻¹ (x − α_t m_k).
    ///
    /// Errors: as [`Marginal::evaluate`].
    pub fn velocity(&self, x: &Points, t: f64) -> Result<Points> {
        Ok(self.evaluate(x, t)?.velocity)
    }

    /// The velocity of class k alone, u_t(x | y = k) = u_t^k(x), one row per point: the exact
    /// marginal velocity of the data restricted to component k,
    ///
    /// ```text
    /// u_t^k(x) = α̇_t m_k + (α̇_t α_t C_k + σ̇_t σ_t I)(α_t² C_k + σ_t² I)⁻¹ (x − α_t m_k)     (a Gaussian component)
    /// u_t^k(x) = u_t(x | z_k)                                                              (a data point)
    /// ```
    ///
    /// Errors: as [`Marginal::evaluate`], and [`Error::InvalidParameter`] for k ≥ K.
    pub fn class_velocity(&self, x: &Points, t: f64, k: usize) -> Result<Points> {
        self.check_query(x, "Marginal::class_velocity")?;
        let k_count = self.num_components();
        if k >= k_count {
            return Err(Error::invalid(
                format!("class {k} for Marginal::class_velocity"),
                format!("the data has {k_count} components, so the classes are 0..{k_count}"),
            ));
        }
        let f = self.frame(t)?;
        let d = self.dim;
        let mut out = Points::zeros(x.len(), d);
        let (mut r, mut y, mut mean) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        for (xi, oi) in x.rows().zip(out.rows_mut()) {
            for ((rj, xj), cj) in r.iter_mut().zip(xi).zip(&f.centers[k * d..(k + 1) * d]) {
                *rj = xj - cj;
            }
            if f.chols.is_empty() {
                y.iter_mut().zip(&r).for_each(|(yj, rj)| *yj = rj * f.inv_var);
            } else {
                f.chols[k].solve(&r, &mut y);
            }
            self.component_mean(&f, k, &y, &mut mean);
            for ((o, m), yj) in oi.iter_mut().zip(&mean).zip(&y) {
                *o = f.c.d_alpha * m + f.c.d_sigma * f.c.sigma * yj;
            }
        }
        Ok(out)
    }

    /// The marginal velocity u_t(x) and its Jacobian ∂u_t/∂x at every row: the Jacobians are
    /// n × d × d row-major (`jac[i·d² + a·d + b] = ∂u_a/∂x_b` at point i). Each component's
    /// velocity is affine in x and the posterior weights move with x, so
    ///
    /// ```text
    /// ∂u_t/∂x = Σ_k π_k B_k + Σ_k π_k (u_t^k − u_t)(ȳ − y_k)ᵀ,    B_k = (α̇_t α_t C_k + σ̇_t σ_t I) Σ_k(t)⁻¹,
    /// ȳ = Σ_k π_k y_k = −∇ log p_t(x)                              (∇π_k = π_k (ȳ − y_k))
    /// ```
    ///
    /// and its trace is the divergence ∇·u_t that the likelihood of the marginal flow needs.
    ///
    /// Errors: as [`Marginal::evaluate`].
    pub fn velocity_jacobian(&self, x: &Points, t: f64) -> Result<(Points, Vec<f64>)> {
        self.check_query(x, "Marginal::velocity_jacobian")?;
        let f = self.frame(t)?;
        let (n, d) = x.shape();
        let k_count = self.num_components();
        let blocks = self.velocity_slopes(&f);
        let mut s = self.scratch();
        let (mut score, mut x1, mut uk) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let mut v = Points::zeros(n, d);
        let mut jac = vec![0.0; n * d * d];
        let (da, dss) = (f.c.d_alpha, f.c.d_sigma * f.c.sigma);
        for (i, xi) in x.rows().enumerate() {
            self.point_eval(&f, xi, &mut s, &mut score, &mut x1)?;
            let u = v.row_mut(i);
            for ((uj, a), b) in u.iter_mut().zip(&x1).zip(&score) {
                *uj = da * a - dss * b;
            }
            let u = v.row(i);
            let ji = &mut jac[i * d * d..(i + 1) * d * d];
            for k in 0..k_count {
                let w = s.weights[k];
                if w == 0.0 {
                    continue;
                }
                let y = &s.ys[k * d..(k + 1) * d];
                self.component_mean(&f, k, y, &mut s.mean);
                for ((o, m), yj) in uk.iter_mut().zip(&s.mean).zip(y) {
                    *o = da * m + dss * yj;
                }
                let bk = &blocks[k * d * d..(k + 1) * d * d];
                for a in 0..d {
                    let du = w * (uk[a] - u[a]);
                    for b in 0..d {
                        // ȳ − y_k = −score − y_k
                        ji[a * d + b] += w * bk[a * d + b] + du * (-score[b] - y[b]);
                    }
                }
            }
        }
        Ok((v, jac))
    }

    /// B_k = (α̇_t α_t C_k + σ̇_t σ_t I) Σ_k(t)⁻¹ for every component (K × d × d row-major):
    /// the slope of component k's velocity in x.
    fn velocity_slopes(&self, f: &Frame) -> Vec<f64> {
        let (k_count, d) = (self.num_components(), self.dim);
        let (aa, dss) = (f.c.d_alpha * f.c.alpha, f.c.d_sigma * f.c.sigma);
        let mut out = vec![0.0; k_count * d * d];
        match &self.covs {
            None => {
                for k in 0..k_count {
                    for a in 0..d {
                        out[k * d * d + a * d + a] = dss * f.inv_var;
                    }
                }
            }
            Some(covs) => {
                let (mut e, mut col) = (vec![0.0; d], vec![0.0; d]);
                let mut inv = vec![0.0; d * d];
                for k in 0..k_count {
                    // Σ_k(t)⁻¹ column by column (it is symmetric, so row-major is the same).
                    for b in 0..d {
                        e.iter_mut().enumerate().for_each(|(j, v)| *v = if j == b { 1.0 } else { 0.0 });
                        f.chols[k].solve(&e, &mut col);
                        for a in 0..d {
                            inv[a * d + b] = col[a];
                        }
                    }
                    let c = &covs[k * d * d..(k + 1) * d * d];
                    let bk = &mut out[k * d * d..(k + 1) * d * d];
                    for a in 0..d {
                        for b in 0..d {
                            let ci: f64 = (0..d).map(|m| c[a * d + m] * inv[m * d + b]).sum();
                            bk[a * d + b] = aa * ci + dss * inv[a * d + b];
                        }
                    }
                }
            }
        }
        out
    }

    /// The posterior mean of the data point, x̂₁(x) = E[x₁ | x_t = x] = Σ_k π_k(x) (m_k + α_t C_k y_k),
    /// one row per point (what an x-prediction model learns).
    ///
    /// Errors: as [`Marginal::evaluate`].
    pub fn posterior_mean(&self, x: &Points, t: f64) -> Result<Points> {
        Ok(self.evaluate(x, t)?.posterior_mean)
    }

    /// The posterior over components at one point `x`: weights π_k(x), the
    /// per-component means E[x₁ | x_t = x, k] and velocities u_t^k(x).
    ///
    /// u_t(x) = Σ_k π_k(x) u_t^k(x) is their weighted mean.
    ///
    /// Errors: as [`Marginal::evaluate`] (`x` must have length d).
    pub fn posterior(&self, x: &[f64], t: f64) -> Result<Posterior> {
        let xp = Points::new(1, x.len(), x.to_vec())?;
        self.check_query(&xp, "Marginal::posterior")?;
        let f = self.frame(t)?;
        let (k_count, d) = (self.num_components(), self.dim);
        let mut s = self.scratch();
        let (mut score, mut x1) = (vec![0.0; d], vec![0.0; d]);
        self.point_eval(&f, x, &mut s, &mut score, &mut x1)?;
        let weights = s.weights.clone();
        let mut means = Points::zeros(k_count, d);
        let mut velocities = Points::zeros(k_count, d);
        for k in 0..k_count {
            let y = &s.ys[k * d..(k + 1) * d];
            let mean = means.row_mut(k);
            self.component_mean(&f, k, y, mean);
            let mean = means.row(k).to_vec();
            for ((v, m), yj) in velocities.row_mut(k).iter_mut().zip(&mean).zip(y) {
                *v = f.c.d_alpha * m + f.c.d_sigma * f.c.sigma * yj;
            }
        }
        Ok(Posterior { weights, means, velocities })
    }

    /// The conditional velocity of the path through the data point `z`, at `x`:
    ///
    /// ```text
    /// u_t(x | z) = (α̇_t − (σ̇_t/σ_t) α_t) z + (σ̇_t/σ_t) x
    /// ```
    ///
    /// Errors: [`Error::ShapeMismatch`] unless `x` and `z` have length d,
    /// [`Error::NonFinite`] for NaN/∞, time errors as [`Marginal::evaluate`], and
    /// [`Error::InvalidParameter`] where σ_t = 0 (t = 1: the path has arrived at z).
    pub fn conditional_velocity(&self, x: &[f64], z: &[f64], t: f64) -> Result<Vec<f64>> {
        for (name, v) in [("x", x), ("z", z)] {
            if v.len() != self.dim {
                return Err(Error::shape(
                    format!("{name} in Marginal::conditional_velocity"),
                    format!("{} numbers (the data dimension)", self.dim),
                    format!("{} numbers", v.len()),
                ));
            }
            if let Some(j) = v.iter().position(|a| !a.is_finite()) {
                return Err(Error::NonFinite {
                    what: format!("{name} in Marginal::conditional_velocity"),
                    detail: format!("coordinate {j} is {}", v[j]),
                });
            }
        }
        let c = self.path.scheduler().eval_checked(t)?;
        if c.sigma <= 0.0 {
            return Err(Error::invalid(
                format!("time t = {t} for a conditional velocity"),
                "σ_t = 0 here (the path has reached z), so u_t(x | z) divides by zero; use t < 1",
            ));
        }
        let a = c.d_sigma / c.sigma;
        let b = c.d_alpha - a * c.alpha;
        Ok(x.iter().zip(z).map(|(xi, zi)| b * zi + a * xi).collect())
    }

    /// Draws `n` data points x₁ ~ p_data from `rng` (a point z_k with
    /// probability w_k, or a mixture sample).
    ///
    /// Errors: [`Error::ZeroCount`] for n = 0.
    pub fn sample_data(&self, n: usize, rng: &mut dyn RngCore) -> Result<Points> {
        match (&self.data, &self.index) {
            (MarginalData::Points { points, .. }, Some(index)) => {
                if n == 0 {
                    return Err(Error::ZeroCount { what: "the number of data points to sample".into() });
                }
                let idx: Vec<usize> = (0..n).map(|_| index.sample(rng)).collect();
                Ok(points.select(&idx))
            }
            (MarginalData::Mixture(m), _) => m.sample_with(n, rng),
            (MarginalData::Points { .. }, None) => unreachable!("point data always has an index"),
        }
    }

    /// Draws `n` points x_t = α_t x₁ + σ_t x₀ ~ p_t from `rng`
    /// (x₁ ~ p_data, then x₀ ~ N(0, I)).
    ///
    /// Errors: [`Error::ZeroCount`] for n = 0, time errors as [`Marginal::evaluate`].
    pub fn sample_marginal(&self, n: usize, t: f64, rng: &mut dyn RngCore) -> Result<Points> {
        let c = self.path.scheduler().eval_checked(t)?;
        let mut x = self.sample_data(n, rng)?;
        for v in x.as_mut_slice() {
            let z: f64 = rng.sample(StandardNormal);
            *v = c.alpha * *v + c.sigma * z;
        }
        Ok(x)
    }

    // -- internals ----------------------------------------------------------

    fn check_query(&self, x: &Points, what: &str) -> Result<()> {
        if x.dim() != self.dim {
            return Err(Error::shape(
                format!("the points passed to {what}"),
                format!("points of dimension {} (the data dimension)", self.dim),
                format!("points of dimension {}", x.dim()),
            ));
        }
        x.check_finite(&format!("the points passed to {what}"))
    }

    fn scratch(&self) -> Scratch {
        let k = self.num_components();
        Scratch {
            logits: vec![0.0; k],
            weights: vec![0.0; k],
            ys: vec![0.0; k * self.dim],
            r: vec![0.0; self.dim],
            mean: vec![0.0; self.dim],
        }
    }

    /// Per-time quantities: α_t m_k, Cholesky factors of Σ_k(t) and the normalisers.
    fn frame(&self, t: f64) -> Result<Frame> {
        let c = self.path.scheduler().eval_checked(t)?;
        let (k_count, d) = (self.num_components(), self.dim);
        let centers: Vec<f64> = self.means.iter().map(|m| c.alpha * m).collect();
        let half_d_ln_2pi = 0.5 * d as f64 * LN_2PI;
        match &self.covs {
            None => {
                if !(c.sigma > 0.0 && (1.0 / (c.sigma * c.sigma)).is_finite()) {
                    return Err(Error::invalid(
                        format!("time t = {t} for the marginal of a point set"),
                        format!(
                            "σ_t = {} here, so p_t is a sum of point masses and its density, score and \
                             velocity are undefined; stop at t = 1 − ε (e.g. 1 − 1e-4), or use a Gaussian \
                             mixture with a small covariance",
                            c.sigma
                        ),
                    ));
                }
                let shift = d as f64 * c.sigma.ln() + half_d_ln_2pi;
                Ok(Frame {
                    c,
                    log_norms: self.log_weights.iter().map(|lw| lw - shift).collect(),
                    centers,
                    chols: Vec::new(),
                    inv_var: 1.0 / (c.sigma * c.sigma),
                })
            }
            Some(covs) => {
                let mut chols = Vec::with_capacity(k_count);
                let mut log_norms = vec![0.0; k_count];
                let (a2, s2) = (c.alpha * c.alpha, c.sigma * c.sigma);
                let mut sigma_t = vec![0.0; d * d];
                for k in 0..k_count {
                    for (o, cv) in sigma_t.iter_mut().zip(&covs[k * d * d..(k + 1) * d * d]) {
                        *o = a2 * cv;
                    }
                    for j in 0..d {
                        sigma_t[j * d + j] += s2;
                    }
                    let factor = Cholesky::new(&sigma_t, d).ok_or_else(|| {
                        Error::invalid(
                            format!("time t = {t} for component {k} of the mixture marginal"),
                            format!(
                                "α_t² C_k + σ_t² I is not positive definite (α_t = {}, σ_t = {}); \
                                 use a time where σ_t > 0 or components with a positive definite covariance",
                                c.alpha, c.sigma
                            ),
                        )
                    })?;
                    log_norms[k] = self.log_weights[k] - 0.5 * factor.log_det() - half_d_ln_2pi;
                    chols.push(factor);
                }
                Ok(Frame { c, log_norms, centers, chols, inv_var: 0.0 })
            }
        }
    }

    /// Fills `s.logits` (ln w_k + log N_k(x)) and `s.ys`, writes the score and
    /// the posterior mean x̂₁ into `score` and `x1`, and returns log p_t(x).
    fn point_eval(&self, f: &Frame, x: &[f64], s: &mut Scratch, score: &mut [f64], x1: &mut [f64]) -> Result<f64> {
        let (k_count, d) = (self.num_components(), self.dim);
        for k in 0..k_count {
            for ((r, xj), cj) in s.r.iter_mut().zip(x).zip(&f.centers[k * d..(k + 1) * d]) {
                *r = xj - cj;
            }
            let y = &mut s.ys[k * d..(k + 1) * d];
            let quad = if f.chols.is_empty() {
                let mut q = 0.0;
                for (yj, rj) in y.iter_mut().zip(&s.r) {
                    *yj = rj * f.inv_var;
                    q += rj * *yj;
                }
                q
            } else {
                f.chols[k].solve(&s.r, y)
            };
            s.logits[k] = f.log_norms[k] - 0.5 * quad;
        }
        // log-sum-exp, keeping the normalised posterior weights π_k in `s.weights`.
        let (top, total) = shifted_exp(&s.logits, &mut s.weights);
        let lse = top + total.ln();
        if !lse.is_finite() {
            return Err(Error::NonFinite {
                what: "the marginal log-density".into(),
                detail: format!(
                    "log p_t(x) = {lse} at α_t = {}, σ_t = {}: the point is so far from the data that \
                     its squared distance overflows; bring x closer (|x| below about 1e150)",
                    f.c.alpha, f.c.sigma
                ),
            });
        }
        score.iter_mut().for_each(|v| *v = 0.0);
        x1.iter_mut().for_each(|v| *v = 0.0);
        for k in 0..k_count {
            s.weights[k] /= total;
            let w = s.weights[k];
            if w == 0.0 {
                continue;
            }
            let y = &s.ys[k * d..(k + 1) * d];
            self.component_mean(f, k, y, &mut s.mean);
            for ((sc, x1j), (yj, mj)) in score.iter_mut().zip(x1.iter_mut()).zip(y.iter().zip(&s.mean)) {
                *sc -= w * yj;
                *x1j += w * mj;
            }
        }
        Ok(lse)
    }

    /// E[x₁ | x_t = x, k] = m_k + α_t C_k y_k into `out`.
    fn component_mean(&self, f: &Frame, k: usize, y: &[f64], out: &mut [f64]) {
        let d = self.dim;
        out.copy_from_slice(&self.means[k * d..(k + 1) * d]);
        if let Some(covs) = &self.covs {
            let c = &covs[k * d * d..(k + 1) * d * d];
            for (a, o) in out.iter_mut().enumerate() {
                *o += f.c.alpha * c[a * d..(a + 1) * d].iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
            }
        }
    }
}

impl<S: Scheduler> VectorField for Marginal<S> {
    /// The marginal velocity u_t(x), as [`Marginal::velocity`] (row by row for one time per row).
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        by_time(x, t, out, "the marginal velocity", |x, t| self.velocity(x, t))
    }
}

impl<S: Scheduler> Model for Marginal<S> {
    fn dim(&self) -> usize {
        self.dim
    }

    /// K: the components are the classes.
    fn classes(&self) -> Option<usize> {
        Some(self.num_components())
    }

    /// The exact conditional model: u_t(x | y = k) ([`Marginal::class_velocity`]) for a row
    /// labelled k, and the marginal velocity u_t(x) for ∅ (`NULL_LABEL`, or `labels = None`).
    fn velocity(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points> {
        let n = x.len();
        let t = t.rows(n, "the exact conditional model")?;
        let mut out = Points::zeros(n, x.dim());
        let Some(labels) = labels else {
            self.check_query(x, "the exact conditional model")?;
            self.eval_into(x, t, &mut out)?;
            return Ok(out);
        };
        check_labels(labels, n, self.num_components(), "the exact conditional model")?;
        let field = |xs: &Points, t: f64, y: usize| match y {
            NULL_LABEL => self.velocity(xs, t),
            k => self.class_velocity(xs, t, k),
        };
        match t {
            Time::Same(t) => {
                // One call per label value, on the rows that carry it.
                let mut values: Vec<usize> = labels.to_vec();
                values.sort_unstable();
                values.dedup();
                for y in values {
                    let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == y).collect();
                    let v = field(&x.select(&rows), t, y)?;
                    for (j, &i) in rows.iter().enumerate() {
                        out.row_mut(i).copy_from_slice(v.row(j));
                    }
                }
            }
            Time::PerRow(ts) => {
                for (i, (&ti, &y)) in ts.iter().zip(labels).enumerate() {
                    let v = field(&x.select(&[i]), ti, y)?;
                    out.row_mut(i).copy_from_slice(v.row(0));
                }
            }
        }
        Ok(out)
    }
}

/// The score ∇ log p_t(x) of a [`Marginal`] as a [`VectorField`] (see [`Marginal::score_field`]).
#[derive(Clone, Copy, Debug)]
pub struct MarginalScore<'m, S>(&'m Marginal<S>);

impl<S: Scheduler> Marginal<S> {
    /// The exact score ∇ log p_t(x) as a [`VectorField`], for samplers that are
    /// driven by a score (the reverse SDE and probability-flow ODE of [`crate::diffusion`]).
    pub fn score_field(&self) -> MarginalScore<'_, S> {
        MarginalScore(self)
    }
}

impl<S: Scheduler> VectorField for MarginalScore<'_, S> {
    /// ∇ log p_t(x), as [`Marginal::score`] (row by row for one time per row).
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        by_time(x, t, out, "the marginal score", |x, t| self.0.score(x, t))
    }
}

/// Writes `f(x, t)` into `out`: in one call for one time, row by row for one time per row.
fn by_time(
    x: &Points,
    t: Time<'_>,
    out: &mut Points,
    what: &str,
    f: impl Fn(&Points, f64) -> Result<Points>,
) -> Result<()> {
    match t.rows(x.len(), what)? {
        Time::Same(t) => {
            let v = f(x, t)?;
            out.as_mut_slice().copy_from_slice(v.as_slice());
        }
        Time::PerRow(ts) => {
            for (i, &ti) in ts.iter().enumerate() {
                let v = f(&x.select(&[i]), ti)?;
                out.row_mut(i).copy_from_slice(v.as_slice());
            }
        }
    }
    Ok(())
}
