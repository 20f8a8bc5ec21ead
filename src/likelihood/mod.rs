//! Exact log-likelihoods of a flow: the backward ODE with the instantaneous change of
//! variables, with the divergence computed exactly or by Hutchinson's estimator.
//!
//! # The formula
//!
//! A velocity field v carries noise x₀ ~ p₀ at t = 0 to x₁ at t = 1. Along one path
//! x_t, the log-density changes at the rate minus the divergence of the field:
//!
//! ```text
//! d/dt log p_t(x_t) = −∇·v(x_t, t),        ∇·v = tr ∂v/∂x = Σ_j ∂v_j/∂x_j
//! log p₁(x) = log p₀(x₀) − ∫₀¹ ∇·v(x_t, t) dt,      x_t the path through x₁ = x
//! ```
//!
//! (The continuity equation ∂_t p + ∇·(p v) = 0 read along the path.) To evaluate
//! log p₁ at a given x, integrate **backwards** from t = 1 to t = 0 the augmented state
//! (x_t, ℓ_t) with
//!
//! ```text
//! dx/dt = v(x, t),   dℓ/dt = ∇·v(x, t),   x(1) = x,   ℓ(1) = 0
//! ⇒  ℓ(0) = ∫₁⁰ ∇·v dt = −∫₀¹ ∇·v dt,        log p₁(x) = log p₀(x(0)) + ℓ(0)
//! ```
//!
//! The augmented state is plain [`Points`] with d + 1 columns (x, then ℓ), so every
//! solver of [`crate::solver`] integrates it unchanged, Dopri5 included (its error
//! control then watches the log-density too). The number of field evaluations (NFE)
//! is reported with the result.
//!
//! # Two ways to get the divergence
//!
//! * **Exact**: tr ∂v/∂x. For a trained MLP it needs the input Jacobian (d
//!   Jacobian-vector products, computed in forward mode by the model in [`crate::nn`]);
//!   for a closed-form field ([`crate::marginal::Marginal`], [`with_jacobian`]) it is
//!   written out.
//! * **Hutchinson**: for a probe ε with E\[ε\] = 0 and E[ε εᵀ] = I (Rademacher ±1 or
//!   standard Gaussian), E[εᵀ J ε] = tr J. With k probes the estimate of ∇·v is
//!   (1/k) Σ_j ε_jᵀ J ε_j, one Jacobian-vector product per probe whatever d is. Each
//!   probe is drawn once and **kept along the whole solve**: the integrand is then one
//!   smooth function of t (an adaptive solver's error control and step rejections make
//!   sense, and a re-evaluation at the same (x, t) gives the same value), and the result
//!   is the integral of an unbiased estimate, so unbiased itself. Every probe gets its
//!   own accumulator ℓ^(j) (the state has d + k columns), so the k estimates
//!   log p₀(x(0)) + ℓ^(j)(0) give the standard error of their mean, s/√k, per point.
//!
//! # Conditional models
//!
//! A model conditional on a class y (`Net::conditional`) has one flow per label, and
//! [`Given`] fixes the label: `log_prob(&Given::new(&model, y)?, …)` is log q(x | y), with
//! J(x, t | y) = ∂v(x, t | y)/∂x in the divergence ([`ConditionalDivergence`]); y = ∅ gives
//! the model's unconditional log q(x).
//!
//! # Files
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | [`Divergence`] (the contract), [`Likelihood`] (settings), [`LogLikelihood`] (the result) |
//! | `augmented.rs` | the augmented field (x, ℓ) that the solvers integrate |
//! | `hutchinson.rs` | [`Probe`], drawing probes, [`quadratic_forms`] and [`hutchinson_divergence`] |
//! | `given.rs` | [`ConditionalDivergence`] (J at given labels) and [`Given`], a conditional model at fixed labels: log q(x \| y) |
//! | `fields.rs` | [`Divergence`] for closures with a Jacobian ([`with_jacobian`]) and for [`Marginal`](crate::marginal::Marginal) |
//!
//! ```
//! use flowmatch::data::StandardGaussian;
//! use flowmatch::likelihood::{with_jacobian, Likelihood};
//! use flowmatch::solver::Method;
//! use flowmatch::Points;
//! # fn main() -> flowmatch::Result<()> {
//! // v(x, t) = x: the flow x₁ = e·x₀ stretches N(0, 1) into N(0, e²).
//! let field = with_jacobian(1, |x: &[f64], _t| (vec![x[0]], vec![1.0]));
//! let x = Points::from_rows(&[[0.5]])?;
//! let result = Likelihood::new(Method::Rk4, 50)?.log_prob(&field, &StandardGaussian::new(1)?, &x)?;
//! let e = 1f64.exp();
//! let closed_form = -0.5 * (0.5 / e).powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln() - 1.0;
//! assert!((result.log_p[0] - closed_form).abs() < 1e-8);
//! assert_eq!(result.nfe, 200);
//! # Ok(())
//! # }
//! ```

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::points::Points;
use crate::solver::{solve, Method, TimeGrid};

mod augmented;
mod fields;
mod given;
mod hutchinson;

pub use fields::{with_jacobian, WithJacobian};
pub use given::{ConditionalDivergence, Given};
pub use hutchinson::{draw_probes, hutchinson_divergence, quadratic_forms, Probe};

/// A vector field whose input Jacobian J = ∂v/∂x is available: what the likelihood needs.
///
/// Implementors write [`Divergence::dim`] and [`Divergence::jvp_into`]; the exact
/// divergence then comes from the d products with the unit vectors, and a field that
/// knows a faster way (a trained MLP, a closed form) overrides [`Divergence::divergence_into`].
/// Every method evaluates all rows of `x` at one time t, as an ODE solver does.
/// [`Divergence::jvp`] and [`Divergence::divergence`] are the conveniences that allocate.
pub trait Divergence: VectorField {
    /// The dimension d of the points the field acts on.
    fn dim(&self) -> usize;

    /// Writes v(x_i, t) into row i of `v` and, for every probe ε_j (n × d, one direction
    /// per point), the product J(x_i, t) ε_j,i into row i of `jv[j]`.
    ///
    /// `v` has the shape of `x`; `jv` holds one `Points` of that shape per probe.
    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()>;

    /// Writes v(x_i, t) into row i of `v` and the divergence ∇·v(x_i, t) = tr J(x_i, t)
    /// into `div[i]`.
    ///
    /// The default takes the d products J e_a with the unit vectors and sums their
    /// diagonal entries (J e_a)_a.
    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        let (n, d) = x.shape();
        let basis: Vec<Points> = (0..d).map(|a| Points::from_fn(n, d, |_, b| if a == b { 1.0 } else { 0.0 })).collect();
        let mut jv: Vec<Points> = (0..d).map(|_| Points::zeros(n, d)).collect();
        self.jvp_into(x, t, &basis, v, &mut jv)?;
        for (i, o) in div.iter_mut().enumerate() {
            *o = (0..d).map(|a| jv[a].row(i)[a]).sum();
        }
        Ok(())
    }

    /// The velocities v(x_i, t) and, for every probe ε_j, the products J(x_i, t) ε_j,i
    /// (one `Points` per probe, each the shape of `x`).
    ///
    /// Errors: [`Error::ShapeMismatch`] for points of another dimension or a probe whose shape
    /// is not that of `x`, and the field's own errors.
    fn jvp(&self, x: &Points, t: f64, probes: &[Points]) -> Result<(Points, Vec<Points>)> {
        check_points(self.dim(), x)?;
        for p in probes {
            x.check_same_shape(p, "a probe (one direction per point)")?;
        }
        let mut v = Points::zeros(x.len(), x.dim());
        let mut jv: Vec<Points> = probes.iter().map(|_| Points::zeros(x.len(), x.dim())).collect();
        self.jvp_into(x, t, probes, &mut v, &mut jv)?;
        Ok((v, jv))
    }

    /// The velocities v(x_i, t) and the divergences ∇·v(x_i, t), one per row.
    ///
    /// Errors: [`Error::ShapeMismatch`] for points of another dimension, and the field's own errors.
    fn divergence(&self, x: &Points, t: f64) -> Result<(Points, Vec<f64>)> {
        check_points(self.dim(), x)?;
        let mut v = Points::zeros(x.len(), x.dim());
        let mut div = vec![0.0; x.len()];
        self.divergence_into(x, t, &mut v, &mut div)?;
        Ok((v, div))
    }
}

/// Errors unless the points have the field's dimension d.
fn check_points(d: usize, x: &Points) -> Result<()> {
    if x.dim() != d {
        return Err(Error::shape(
            "the points given to a field's Jacobian",
            format!("points of dimension {d} (the field's)"),
            format!("points of dimension {}", x.dim()),
        ));
    }
    Ok(())
}

impl<F: Divergence + ?Sized> Divergence for &F {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        (**self).jvp_into(x, t, probes, v, jv)
    }
    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        (**self).divergence_into(x, t, v, div)
    }
}

impl<F: Divergence + ?Sized> Divergence for Box<F> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        (**self).jvp_into(x, t, probes, v, jv)
    }
    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        (**self).divergence_into(x, t, v, div)
    }
}

/// How the divergence along the backward solve is computed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Estimator {
    /// tr ∂v/∂x exactly.
    Exact,
    /// Hutchinson's (1/k) Σ_j ε_jᵀ (∂v/∂x) ε_j with `probes` = k probes of kind `probe`,
    /// drawn from `seed` and kept along the solve.
    Hutchinson {
        /// The number k of probes (at least 1; 2 or more give a standard error).
        probes: usize,
        /// Rademacher (±1) or Gaussian.
        probe: Probe,
        /// The seed of the probes.
        seed: u64,
    },
}

/// How to compute log p₁(x): the backward grid from t = 1 to t = 0, the solver and the
/// divergence estimator.
///
/// ```
/// use flowmatch::likelihood::{Likelihood, Probe};
/// use flowmatch::solver::Method;
/// # fn main() -> flowmatch::Result<()> {
/// let exact = Likelihood::new(Method::Midpoint, 20)?;                       // 40 NFE, exact divergence
/// let cheap = Likelihood::new(Method::Midpoint, 20)?.hutchinson(4, Probe::Rademacher, 0)?;
/// let adaptive = Likelihood::new(Method::dopri5(1e-6, 1e-6), 1)?;          // steps chosen by Dopri5
/// assert!(Likelihood::new(Method::Euler, 0).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Likelihood {
    grid: TimeGrid,
    method: Method,
    estimator: Estimator,
}

impl Likelihood {
    /// `steps` equal steps from t = 1 to t = 0 with `method` and the exact divergence.
    ///
    /// For Dopri5 the grid's times are only output times: `steps = 1` lets it choose
    /// all of its own steps. Errors: [`Error::ZeroCount`] for `steps = 0`, and bad
    /// Dopri5 tolerances ([`Error::Tolerance`]).
    pub fn new(method: Method, steps: usize) -> Result<Likelihood> {
        Likelihood::on_grid(TimeGrid::uniform(1.0, 0.0, steps)?, method)
    }

    /// Any grid that runs from t = 1 down to t = 0, with the exact divergence.
    ///
    /// Errors: [`Error::InvalidParameter`] for a grid that does not start at 1 and end
    /// at 0 (a forward grid 0 → 1 included: it would push the points the wrong way and
    /// give the density of another distribution), and bad Dopri5 tolerances.
    pub fn on_grid(grid: TimeGrid, method: Method) -> Result<Likelihood> {
        if grid.t0() != 1.0 || grid.t1() != 0.0 {
            let hint = if grid.t0() == 0.0 && grid.t1() == 1.0 {
                "this grid runs forwards from 0 to 1; the likelihood integrates backwards from the data at t = 1 \
                 to the noise at t = 0: use grid.reversed() or TimeGrid::uniform(1.0, 0.0, steps)"
                    .to_string()
            } else {
                format!(
                    "it runs from t = {} to t = {}; log p₁(x) needs the whole path from the data (t = 1) back to \
                     the noise (t = 0), where the source density p₀ is known: use TimeGrid::uniform(1.0, 0.0, steps)",
                    grid.t0(),
                    grid.t1()
                )
            };
            return Err(Error::invalid("time grid of a likelihood", hint));
        }
        if let Method::Dopri5(opts) = &method {
            opts.validate()?;
        }
        Ok(Likelihood { grid, method, estimator: Estimator::Exact })
    }

    /// The same settings with Hutchinson's estimator: `probes` probes of kind `probe`,
    /// drawn from `seed` and kept along each solve.
    ///
    /// Errors: [`Error::ZeroCount`] for `probes = 0`.
    pub fn hutchinson(mut self, probes: usize, probe: Probe, seed: u64) -> Result<Likelihood> {
        if probes == 0 {
            return Err(Error::ZeroCount { what: "the number of Hutchinson probes".into() });
        }
        self.estimator = Estimator::Hutchinson { probes, probe, seed };
        Ok(self)
    }

    /// The same settings with the exact divergence.
    pub fn exact(mut self) -> Likelihood {
        self.estimator = Estimator::Exact;
        self
    }

    /// The backward grid.
    pub fn grid(&self) -> &TimeGrid {
        &self.grid
    }

    /// The solver.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The divergence estimator.
    pub fn estimator(&self) -> Estimator {
        self.estimator
    }

    /// log p₁(x_i) for every row of `x` under the flow of `field` from the source `source`
    /// (p₀, whose log-density must be known in closed form).
    ///
    /// Errors: [`Error::ShapeMismatch`] when `x`, the field and the source disagree on the
    /// dimension; [`Error::NonFinite`] for a NaN or infinite coordinate in `x` (naming the
    /// point) or a solve that blows up; [`Error::InvalidParameter`] for a source without a
    /// closed-form density; the solver's and the field's own errors.
    pub fn log_prob(&self, field: &dyn Divergence, source: &dyn Dataset, x: &Points) -> Result<LogLikelihood> {
        let (n, d) = x.shape();
        for (what, dim) in [("the velocity field", field.dim()), ("the source distribution p₀", source.dim())] {
            if dim != d {
                return Err(Error::shape(
                    format!("the log-likelihood: {what} and the points"),
                    format!("{what} of dimension {d}, the dimension of the points"),
                    format!("{what} of dimension {dim}"),
                ));
            }
        }
        x.check_finite("the points whose log-likelihood is asked for")?;
        let probes = match self.estimator {
            Estimator::Exact => Vec::new(),
            Estimator::Hutchinson { probes, probe, seed } => draw_probes(n, d, probes, probe, seed),
        };
        let columns = probes.len().max(1);
        if n == 0 {
            return Ok(LogLikelihood::empty(d, self.estimator));
        }
        let aug = augmented::Augmented::new(field, probes);
        let z1 = aug.initial_state(x);
        let sol = solve(&aug as &dyn VectorField, &z1, &self.grid, self.method)?;
        let z0 = sol.final_state;
        let x0 = Points::from_fn(n, d, |i, j| z0.row(i)[j]);
        let log_p0 = match source.log_density(&x0) {
            Some(r) => r?,
            None => {
                return Err(Error::invalid(
                    "source distribution of a likelihood",
                    format!(
                        "{} has no closed-form log-density, so log p₀(x₀) at the end of the backward solve is \
                         unknown; use a source with one, e.g. StandardGaussian",
                        source.name()
                    ),
                ))
            }
        };
        let mut log_p = vec![0.0; n];
        let mut div_integral = vec![0.0; n];
        let mut std_error = (columns > 1).then(|| vec![0.0; n]);
        for i in 0..n {
            let ell = &z0.row(i)[d..];
            let mean = ell.iter().sum::<f64>() / columns as f64;
            log_p[i] = log_p0[i] + mean;
            div_integral[i] = -mean;
            if let Some(se) = &mut std_error {
                let var = ell.iter().map(|l| (l - mean) * (l - mean)).sum::<f64>() / (columns - 1) as f64;
                se[i] = (var / columns as f64).sqrt();
            }
        }
        Ok(LogLikelihood {
            log_p,
            std_error,
            log_p0,
            div_integral,
            x0,
            estimator: self.estimator,
            nfe: sol.nfe,
            accepted_steps: sol.accepted_steps,
            rejected_steps: sol.rejected_steps,
        })
    }
}

impl Likelihood {
    /// How the spread of Hutchinson's estimate of log p₁ falls with the number of probes:
    /// for each k in `probes`, `repeats` solves with fresh probes of kind `probe` (seeds
    /// k·2³² + r), the standard deviation of log p₁(x_i) between them, then its root mean
    /// square over the points. Returns `(k, spread)` pairs; the spread falls like k^(−½).
    ///
    /// Errors: [`Error::ZeroCount`] for a zero k, [`Error::InvalidParameter`] for fewer than
    /// 2 repeats, and those of [`Likelihood::log_prob`].
    pub fn hutchinson_spread(
        &self,
        field: &dyn Divergence,
        source: &dyn Dataset,
        x: &Points,
        probe: Probe,
        probes: &[usize],
        repeats: usize,
    ) -> Result<Vec<(f64, f64)>> {
        if repeats < 2 {
            return Err(Error::invalid(
                "repeats of hutchinson_spread",
                format!("{repeats}: a spread needs at least 2"),
            ));
        }
        let n = x.len();
        let mut out = Vec::with_capacity(probes.len());
        for &k in probes {
            let runs = (0..repeats)
                .map(|r| {
                    let seed = ((k as u64) << 32) + r as u64;
                    Ok(self.clone().hutchinson(k, probe, seed)?.log_prob(field, source, x)?.log_p)
                })
                .collect::<Result<Vec<Vec<f64>>>>()?;
            let mut total = 0.0;
            for i in 0..n {
                let mean = runs.iter().map(|r| r[i]).sum::<f64>() / repeats as f64;
                total += runs.iter().map(|r| (r[i] - mean).powi(2)).sum::<f64>() / (repeats - 1) as f64;
            }
            out.push((k as f64, (total / n as f64).sqrt()));
        }
        Ok(out)
    }
}

/// What [`Likelihood::log_prob`] returns, one entry per point.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLikelihood {
    /// log p₁(x_i) = log p₀(x₀,i) − ∫₀¹ ∇·v dt (with Hutchinson: the mean of the k probes' estimates).
    pub log_p: Vec<f64>,
    /// With Hutchinson and k ≥ 2 probes, the standard error of `log_p[i]`: the spread of the
    /// k per-probe estimates over √k. `None` for the exact divergence or a single probe.
    pub std_error: Option<Vec<f64>>,
    /// log p₀(x₀,i), the source's log-density where the backward solve ends.
    pub log_p0: Vec<f64>,
    /// ∫₀¹ ∇·v(x_t, t) dt along each point's path (estimated with Hutchinson).
    pub div_integral: Vec<f64>,
    /// The points carried back to t = 0.
    pub x0: Points,
    /// The estimator used.
    pub estimator: Estimator,
    /// Evaluations of the field (each on the whole batch, divergence included).
    pub nfe: usize,
    /// Solver steps taken.
    pub accepted_steps: usize,
    /// Steps Dopri5 tried and rejected (0 for fixed-step methods).
    pub rejected_steps: usize,
}

impl LogLikelihood {
    fn empty(d: usize, estimator: Estimator) -> LogLikelihood {
        LogLikelihood {
            log_p: Vec::new(),
            std_error: None,
            log_p0: Vec::new(),
            div_integral: Vec::new(),
            x0: Points::zeros(0, d),
            estimator,
            nfe: 0,
            accepted_steps: 0,
            rejected_steps: 0,
        }
    }

    /// The mean log-likelihood (1/n) Σ_i log p₁(x_i), in nats.
    pub fn mean(&self) -> f64 {
        self.log_p.iter().sum::<f64>() / self.log_p.len() as f64
    }

    /// The negative log-likelihood per point, −(1/n) Σ_i log p₁(x_i), in nats.
    pub fn nll(&self) -> f64 {
        -self.mean()
    }

    /// The root mean square of the per-point standard errors (Hutchinson with k ≥ 2), if any.
    pub fn rms_std_error(&self) -> Option<f64> {
        let se = self.std_error.as_ref()?;
        Some((se.iter().map(|s| s * s).sum::<f64>() / se.len() as f64).sqrt())
    }
}
