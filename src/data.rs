//! Toy distributions to learn: the "data" end p₁ of a flow.
//!
//! Flow Matching turns noise x₀ ~ N(0, I) into data x₁ ~ p₁. To see whether a
//! trained flow works we need data distributions that are cheap to sample,
//! easy to look at and, where possible, known in closed form. This module
//! gathers the usual two-dimensional ones behind one trait, [`Dataset`]:
//!
//! | type | shape | classes | closed forms |
//! | --- | --- | --- | --- |
//! | [`StandardGaussian`] | N(0, I) in any dimension | 1 | log p, mean, covariance |
//! | [`Gaussian`] | N(μ, Σ), full covariance | 1 | log p, mean, covariance |
//! | [`GaussianMixture`] | Σₖ wₖ N(μₖ, Σₖ) | one per component | log p, mean, covariance |
//! | [`EightGaussians`] | eight blobs on a circle (TorchCFM) | 8 | log p, mean, covariance |
//! | [`Moons`] | two interleaved half circles (scikit-learn / TorchCFM) | 2 | mean, covariance (large n) |
//! | [`Circles`] | two concentric circles | 2 | mean, covariance (large n) |
//! | [`Checkerboard`] | uniform on the dark squares of a board | 2 | mean, covariance |
//! | [`Spirals`] | arms winding out of the origin | one per arm | — |
//! | [`SCurve`] | the S-curve seen from the side | 1 | mean, covariance |
//!
//! ## Sampling
//!
//! Every dataset implements one low-level method, [`Dataset::fill`], which
//! overwrites a buffer of points (and optionally their class labels) from a
//! caller-owned random number generator. Everything else is built on it:
//!
//! * [`Dataset::sample`]`(n, seed)` — a fresh `StdRng::seed_from_u64(seed)`,
//!   so the same seed always gives the same points;
//! * [`Dataset::sample_with`]`(n, rng)` — draws from a stream the caller
//!   keeps, so a training loop can take batch after batch from one seeded
//!   generator;
//! * [`Dataset::sample_into`]`(out, rng)` — refills an existing buffer, with
//!   no allocation at all;
//! * `*_labeled` variants also return one class label per point.
//!
//! **n = 0 is an error**: every sampler returns [`Error::ZeroCount`] when asked
//! for no points, because an empty batch is almost always a bug upstream.
//!
//! **Labels.** Where a dataset has natural classes (mixture component, moon,
//! circle, spiral arm, checkerboard column parity) the label says which one a
//! point came from, in `0..num_classes()`. Datasets without classes report
//! `num_classes() == 1` and label every point 0. Labels will drive
//! classifier-free guidance later on.
//!
//! **Grid datasets.** [`Moons`] and [`Circles`] follow scikit-learn: within
//! one call the angles form an even grid over the batch (half the points on
//! each part) and only the noise is random; the points are then shuffled.
//! Their [`Dataset::mean`] and [`Dataset::covariance`] are the large-n limits
//! (uniform angle).
//!
//! **Bad parameters** (negative or NaN standard deviation, empty mixture,
//! weights that do not sum to a positive number, a covariance that is not
//! symmetric positive definite) give [`Error::InvalidParameter`]; lists whose
//! lengths disagree give [`Error::ShapeMismatch`].
//!
//! Notebooks and benchmarks can pick a dataset by name with [`by_name`].

use crate::error::{Error, Result};
use crate::points::Points;
use rand::distributions::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// ln(2π).
const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// A distribution we can draw points from.
///
/// Implementors write [`Dataset::dim`], [`Dataset::num_classes`],
/// [`Dataset::name`] and [`Dataset::fill`]; the other samplers come for free.
/// [`Dataset::log_density`], [`Dataset::mean`] and [`Dataset::covariance`]
/// return `None` unless a dataset knows them in closed form.
pub trait Dataset {
    /// Dimension d of each point (2 for the toy datasets).
    fn dim(&self) -> usize;

    /// Number of classes K; labels lie in `0..K`. 1 for datasets without classes.
    fn num_classes(&self) -> usize;

    /// Short label for titles and logs, e.g. `"moons"`.
    fn name(&self) -> String;

    /// Overwrites every row of `out` with a draw from the dataset, using `rng`,
    /// and writes each point's class into `labels` when given.
    ///
    /// This is the allocation-free core of every sampler. `out` must have at
    /// least one row and `self.dim()` columns, and `labels` (if any) one entry
    /// per row; otherwise it returns [`Error::ZeroCount`] or
    /// [`Error::ShapeMismatch`].
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()>;

    /// Refills `out` in place from `rng`, without labels (see [`Dataset::fill`]).
    fn sample_into(&self, out: &mut Points, rng: &mut dyn RngCore) -> Result<()> {
        self.fill(out, None, rng)
    }

    /// Draws `n` points from a caller-owned generator (one allocation: the result).
    ///
    /// Use it in training loops: seed one `StdRng` and call this every step.
    fn sample_with(&self, n: usize, rng: &mut dyn RngCore) -> Result<Points> {
        let mut out = empty_points(n, self.dim())?;
        self.fill(&mut out, None, rng)?;
        Ok(out)
    }

    /// Draws `n` points and their class labels from a caller-owned generator.
    fn sample_labeled_with(&self, n: usize, rng: &mut dyn RngCore) -> Result<(Points, Vec<usize>)> {
        let mut out = empty_points(n, self.dim())?;
        let mut labels = vec![0; n];
        self.fill(&mut out, Some(&mut labels), rng)?;
        Ok((out, labels))
    }

    /// Draws `n` points with a fresh generator `StdRng::seed_from_u64(seed)`.
    ///
    /// The same seed always gives the same points. `n = 0` is [`Error::ZeroCount`].
    fn sample(&self, n: usize, seed: u64) -> Result<Points> {
        self.sample_with(n, &mut StdRng::seed_from_u64(seed))
    }

    /// Like [`Dataset::sample`], also returning one class label per point.
    ///
    /// Labels take no randomness of their own, so the points equal `sample(n, seed)`.
    fn sample_labeled(&self, n: usize, seed: u64) -> Result<(Points, Vec<usize>)> {
        self.sample_labeled_with(n, &mut StdRng::seed_from_u64(seed))
    }

    /// log p(x) for every point of `x`, or `None` when the dataset has no
    /// closed-form density.
    ///
    /// `Some(Err(..))` when `x` has the wrong dimension or holds NaN/∞.
    fn log_density(&self, _x: &Points) -> Option<Result<Vec<f64>>> {
        None
    }

    /// E(x) in closed form, or `None`.
    fn mean(&self) -> Option<Vec<f64>> {
        None
    }

    /// Cov(x) = E[(x − E x)(x − E x)ᵀ] in closed form, row-major d×d, or `None`.
    fn covariance(&self) -> Option<Vec<f64>> {
        None
    }
}

/// A boxed dataset (what [`by_name`] returns) is a dataset too.
impl<D: Dataset + ?Sized> Dataset for Box<D> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn num_classes(&self) -> usize {
        (**self).num_classes()
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        (**self).fill(out, labels, rng)
    }
    fn sample_into(&self, out: &mut Points, rng: &mut dyn RngCore) -> Result<()> {
        (**self).sample_into(out, rng)
    }
    fn sample_with(&self, n: usize, rng: &mut dyn RngCore) -> Result<Points> {
        (**self).sample_with(n, rng)
    }
    fn sample_labeled_with(&self, n: usize, rng: &mut dyn RngCore) -> Result<(Points, Vec<usize>)> {
        (**self).sample_labeled_with(n, rng)
    }
    fn sample(&self, n: usize, seed: u64) -> Result<Points> {
        (**self).sample(n, seed)
    }
    fn sample_labeled(&self, n: usize, seed: u64) -> Result<(Points, Vec<usize>)> {
        (**self).sample_labeled(n, seed)
    }
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        (**self).log_density(x)
    }
    fn mean(&self) -> Option<Vec<f64>> {
        (**self).mean()
    }
    fn covariance(&self) -> Option<Vec<f64>> {
        (**self).covariance()
    }
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// A zeroed `n × dim` buffer, or an error for `n = 0` / `dim = 0`.
fn empty_points(n: usize, dim: usize) -> Result<Points> {
    if n == 0 {
        return Err(Error::ZeroCount { what: "the number of points to sample".into() });
    }
    if dim == 0 {
        return Err(Error::ZeroCount { what: "the dimension of a dataset".into() });
    }
    Ok(Points::zeros(n, dim))
}

/// Checks the buffers handed to [`Dataset::fill`].
fn check_fill(dim: usize, out: &Points, labels: &Option<&mut [usize]>) -> Result<()> {
    if out.is_empty() {
        return Err(Error::ZeroCount { what: "the number of points to sample (rows of the output buffer)".into() });
    }
    if out.dim() != dim {
        return Err(Error::shape(
            "the output buffer of Dataset::fill",
            format!("points of dimension {dim}"),
            format!("points of dimension {}", out.dim()),
        ));
    }
    if let Some(l) = labels {
        if l.len() != out.len() {
            return Err(Error::shape(
                "the label buffer of Dataset::fill",
                format!("{} labels (one per point)", out.len()),
                format!("{} labels", l.len()),
            ));
        }
    }
    Ok(())
}

/// Checks the points handed to a log-density.
fn check_query(dim: usize, x: &Points) -> Result<()> {
    if x.dim() != dim {
        return Err(Error::shape(
            "the points passed to log_density",
            format!("points of dimension {dim}"),
            format!("points of dimension {}", x.dim()),
        ));
    }
    x.check_finite("the points passed to log_density")
}

fn check_positive(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, format!("must be a finite number > 0, got {v}")))
    }
}

fn check_non_negative(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, format!("must be a finite number ≥ 0, got {v}")))
    }
}

fn check_finite_vec(what: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|a| !a.is_finite()) {
        None => Ok(()),
        Some(k) => Err(Error::invalid(what, format!("entry {k} is {}; all entries must be finite", v[k]))),
    }
}

#[inline]
fn normal(rng: &mut dyn RngCore) -> f64 {
    rng.sample(StandardNormal)
}

/// Writes `k` into slot `i` of an optional label buffer.
#[inline]
fn set_label(labels: &mut Option<&mut [usize]>, i: usize, k: usize) {
    if let Some(l) = labels.as_deref_mut() {
        l[i] = k;
    }
}

/// Fisher–Yates shuffle of the rows of `out` (and of `labels`, in step).
fn shuffle_rows(out: &mut Points, labels: &mut Option<&mut [usize]>, rng: &mut dyn RngCore) {
    let dim = out.dim();
    let data = out.as_mut_slice();
    for i in (1..data.len() / dim).rev() {
        let j = rng.gen_range(0..=i);
        if i != j {
            for c in 0..dim {
                data.swap(i * dim + c, j * dim + c);
            }
            if let Some(l) = labels.as_deref_mut() {
                l.swap(i, j);
            }
        }
    }
}

/// np.linspace(0, stop, m) (endpoint included): θᵢ = stop · i / (m − 1), and [0] for m = 1.
#[inline]
fn linspace_closed(stop: f64, i: usize, m: usize) -> f64 {
    if m <= 1 {
        0.0
    } else {
        stop * i as f64 / (m - 1) as f64
    }
}

/// Log-sum-exp of `v`: ln Σ exp(vᵢ), stable for very negative entries.
fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|a| (a - m).exp()).sum::<f64>().ln()
}

fn identity(dim: usize, diag: f64) -> Vec<f64> {
    let mut c = vec![0.0; dim * dim];
    for a in 0..dim {
        c[a * dim + a] = diag;
    }
    c
}

// ---------------------------------------------------------------------------
// Gaussians
// ---------------------------------------------------------------------------

/// The standard normal N(0, I) in `dim` dimensions: the usual source p₀.
///
/// log p(x) = −½‖x‖² − (d/2) ln 2π.
#[derive(Clone, Debug, PartialEq)]
pub struct StandardGaussian {
    dim: usize,
}

impl StandardGaussian {
    /// N(0, I) in `dim ≥ 1` dimensions.
    pub fn new(dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::invalid("StandardGaussian dimension", "must be at least 1, got 0"));
        }
        Ok(StandardGaussian { dim })
    }
}

impl Default for StandardGaussian {
    /// N(0, I) in two dimensions.
    fn default() -> Self {
        StandardGaussian { dim: 2 }
    }
}

impl Dataset for StandardGaussian {
    fn dim(&self) -> usize {
        self.dim
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "gaussian".into()
    }
    /// Each coordinate is an independent N(0, 1) draw; labels are 0.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(self.dim, out, &labels)?;
        for v in out.as_mut_slice() {
            *v = normal(rng);
        }
        if let Some(l) = labels {
            l.fill(0);
        }
        Ok(())
    }
    /// log p(x) = −½‖x‖² − (d/2) ln 2π.
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(check_query(self.dim, x).map(|_| {
            let c = 0.5 * self.dim as f64 * LN_2PI;
            x.rows().map(|r| -0.5 * r.iter().map(|v| v * v).sum::<f64>() - c).collect()
        }))
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; self.dim])
    }
    /// Cov(x) = I.
    fn covariance(&self) -> Option<Vec<f64>> {
        Some(identity(self.dim, 1.0))
    }
}

/// A Gaussian N(μ, Σ) with full covariance, sampled as x = μ + L z with
/// Σ = L Lᵀ (Cholesky) and z ~ N(0, I).
///
/// log p(x) = −½‖L⁻¹(x − μ)‖² − ½ ln det Σ − (d/2) ln 2π, with
/// ln det Σ = 2 Σᵢ ln Lᵢᵢ.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    cov: Vec<f64>,
    chol: Vec<f64>,
    log_det: f64,
}

impl Gaussian {
    /// N(μ, Σ) from the mean `mean` (length d) and the covariance `cov`
    /// (row-major d×d, symmetric positive definite).
    ///
    /// Errors: [`Error::ShapeMismatch`] when `cov` is not d×d,
    /// [`Error::InvalidParameter`] for an empty mean, a non-finite entry, an
    /// asymmetric matrix or one that is not positive definite.
    pub fn new(mean: Vec<f64>, cov: Vec<f64>) -> Result<Self> {
        let d = mean.len();
        if d == 0 {
            return Err(Error::invalid("Gaussian mean", "is empty; give at least one coordinate"));
        }
        if cov.len() != d * d {
            return Err(Error::shape(
                "the Gaussian covariance (row-major)",
                format!("{d} x {d} = {} numbers", d * d),
                format!("{} numbers", cov.len()),
            ));
        }
        check_finite_vec("Gaussian mean", &mean)?;
        check_finite_vec("Gaussian covariance", &cov)?;
        let scale = cov.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        for a in 0..d {
            for b in 0..a {
                let (x, y) = (cov[a * d + b], cov[b * d + a]);
                if (x - y).abs() > 1e-9 * scale {
                    return Err(Error::invalid(
                        "Gaussian covariance",
                        format!("is not symmetric: entry ({a},{b}) = {x} but ({b},{a}) = {y}"),
                    ));
                }
            }
        }
        let chol = cholesky(&cov, d)?;
        let log_det = 2.0 * (0..d).map(|a| chol[a * d + a].ln()).sum::<f64>();
        Ok(Gaussian { mean, cov, chol, log_det })
    }

    /// N(μ, s² I): an isotropic Gaussian with per-coordinate standard deviation `std > 0`.
    pub fn isotropic(mean: Vec<f64>, std: f64) -> Result<Self> {
        check_positive("Gaussian standard deviation", std)?;
        let d = mean.len();
        Gaussian::new(mean, identity(d, std * std))
    }

    /// The mean μ.
    pub fn loc(&self) -> &[f64] {
        &self.mean
    }

    /// The covariance Σ, row-major d×d.
    pub fn cov(&self) -> &[f64] {
        &self.cov
    }

    /// The lower-triangular Cholesky factor L (Σ = L Lᵀ), row-major d×d.
    pub fn cholesky(&self) -> &[f64] {
        &self.chol
    }

    /// ln det Σ.
    pub fn log_det(&self) -> f64 {
        self.log_det
    }

    /// Writes μ + L z into `row`, drawing z ~ N(0, I) into the scratch `z`.
    fn draw(&self, row: &mut [f64], z: &mut [f64], rng: &mut dyn RngCore) {
        let d = self.mean.len();
        for v in z.iter_mut() {
            *v = normal(rng);
        }
        for a in 0..d {
            let l = &self.chol[a * d..a * d + a + 1];
            row[a] = self.mean[a] + l.iter().zip(&z[..=a]).map(|(p, q)| p * q).sum::<f64>();
        }
    }

    /// log N(x; μ, Σ) for one point, solving L y = x − μ into the scratch `y`.
    fn log_pdf(&self, x: &[f64], y: &mut [f64]) -> f64 {
        let d = self.mean.len();
        let mut q = 0.0;
        for a in 0..d {
            let l = &self.chol[a * d..a * d + a];
            let s = x[a] - self.mean[a] - l.iter().zip(&y[..a]).map(|(p, v)| p * v).sum::<f64>();
            y[a] = s / self.chol[a * d + a];
            q += y[a] * y[a];
        }
        -0.5 * q - 0.5 * self.log_det - 0.5 * d as f64 * LN_2PI
    }
}

/// Lower Cholesky factor of a symmetric matrix (only the lower triangle is read).
fn cholesky(c: &[f64], d: usize) -> Result<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let s = c[j * d + j] - (0..j).map(|k| l[j * d + k] * l[j * d + k]).sum::<f64>();
        if !(s > 0.0 && s.is_finite()) {
            return Err(Error::invalid(
                "Gaussian covariance",
                format!(
                    "is not positive definite (Cholesky pivot {j} is {s}); use a symmetric matrix \
                     with positive eigenvalues, e.g. add a small multiple of the identity"
                ),
            ));
        }
        let ljj = s.sqrt();
        l[j * d + j] = ljj;
        for i in j + 1..d {
            let t = c[i * d + j] - (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum::<f64>();
            l[i * d + j] = t / ljj;
        }
    }
    Ok(l)
}

impl Dataset for Gaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "gaussian".into()
    }
    /// x = μ + L z, z ~ N(0, I); labels are 0.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(self.dim(), out, &labels)?;
        let mut z = vec![0.0; self.dim()];
        for row in out.rows_mut() {
            self.draw(row, &mut z, rng);
        }
        if let Some(l) = labels {
            l.fill(0);
        }
        Ok(())
    }
    /// log p(x) = −½‖L⁻¹(x − μ)‖² − ½ ln det Σ − (d/2) ln 2π.
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(check_query(self.dim(), x).map(|_| {
            let mut y = vec![0.0; self.dim()];
            x.rows().map(|r| self.log_pdf(r, &mut y)).collect()
        }))
    }
    /// E(x) = μ.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(self.mean.clone())
    }
    /// Cov(x) = Σ.
    fn covariance(&self) -> Option<Vec<f64>> {
        Some(self.cov.clone())
    }
}

/// A Gaussian mixture p(x) = Σₖ wₖ N(x; μₖ, Σₖ), with wₖ ≥ 0 normalised to sum to 1.
///
/// Sampling picks component k with probability wₖ, then draws from it; the
/// label of a point is its component k. The log-density uses log-sum-exp,
/// log p(x) = logsumexp_k (ln wₖ + log N(x; μₖ, Σₖ)), so it stays finite far
/// from every component.
#[derive(Clone, Debug)]
pub struct GaussianMixture {
    weights: Vec<f64>,
    components: Vec<Gaussian>,
    index: WeightedIndex<f64>,
}

impl GaussianMixture {
    /// Mixture of the given Gaussians with weights `weights` (any non-negative
    /// numbers with a positive sum; they are normalised).
    ///
    /// Errors: [`Error::InvalidParameter`] for no components, a negative or
    /// non-finite weight, or weights summing to 0; [`Error::ShapeMismatch`]
    /// when the counts or the components' dimensions disagree.
    pub fn from_components(weights: Vec<f64>, components: Vec<Gaussian>) -> Result<Self> {
        if components.is_empty() {
            return Err(Error::invalid("Gaussian mixture", "has no components; give at least one"));
        }
        if weights.len() != components.len() {
            return Err(Error::shape(
                "the Gaussian mixture weights",
                format!("{} weights (one per component)", components.len()),
                format!("{} weights", weights.len()),
            ));
        }
        let d = components[0].dim();
        for (k, c) in components.iter().enumerate() {
            if c.dim() != d {
                return Err(Error::shape(
                    format!("component {k} of the Gaussian mixture"),
                    format!("dimension {d} (as component 0)"),
                    format!("dimension {}", c.dim()),
                ));
            }
        }
        for (k, &w) in weights.iter().enumerate() {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::invalid(
                    "Gaussian mixture weights",
                    format!("weight {k} is {w}; weights must be finite and ≥ 0"),
                ));
            }
        }
        let total: f64 = weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(Error::invalid(
                "Gaussian mixture weights",
                format!("sum to {total}; they must sum to a finite positive number"),
            ));
        }
        let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let index = WeightedIndex::new(&weights)
            .map_err(|e| Error::invalid("Gaussian mixture weights", format!("cannot be sampled from: {e}")))?;
        Ok(GaussianMixture { weights, components, index })
    }

    /// Mixture from weights, means (each of length d) and full covariances
    /// (each row-major d×d); see [`Gaussian::new`] and
    /// [`GaussianMixture::from_components`] for the checks.
    pub fn new(weights: Vec<f64>, means: Vec<Vec<f64>>, covs: Vec<Vec<f64>>) -> Result<Self> {
        if means.len() != covs.len() {
            return Err(Error::shape(
                "the Gaussian mixture covariances",
                format!("{} covariances (one per mean)", means.len()),
                format!("{} covariances", covs.len()),
            ));
        }
        let components = means.into_iter().zip(covs).map(|(m, c)| Gaussian::new(m, c)).collect::<Result<Vec<_>>>()?;
        GaussianMixture::from_components(weights, components)
    }

    /// Mixture of isotropic components N(μₖ, sₖ² I) from weights, means and
    /// per-component standard deviations `stds` (each > 0).
    pub fn isotropic(weights: Vec<f64>, means: Vec<Vec<f64>>, stds: Vec<f64>) -> Result<Self> {
        if means.len() != stds.len() {
            return Err(Error::shape(
                "the Gaussian mixture standard deviations",
                format!("{} standard deviations (one per mean)", means.len()),
                format!("{} standard deviations", stds.len()),
            ));
        }
        let components =
            means.into_iter().zip(stds).map(|(m, s)| Gaussian::isotropic(m, s)).collect::<Result<Vec<_>>>()?;
        GaussianMixture::from_components(weights, components)
    }

    /// Normalised weights w₁..w_K (they sum to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The components N(μₖ, Σₖ); read μₖ with [`Gaussian::loc`] and Σₖ with [`Gaussian::cov`].
    pub fn components(&self) -> &[Gaussian] {
        &self.components
    }

    /// Number of components K.
    pub fn num_components(&self) -> usize {
        self.components.len()
    }
}

impl Dataset for GaussianMixture {
    fn dim(&self) -> usize {
        self.components[0].dim()
    }
    fn num_classes(&self) -> usize {
        self.components.len()
    }
    fn name(&self) -> String {
        "gaussian mixture".into()
    }
    /// k ~ Categorical(w), x = μₖ + Lₖ z; the label is k.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(self.dim(), out, &labels)?;
        let mut z = vec![0.0; self.dim()];
        for (i, row) in out.rows_mut().enumerate() {
            let k = self.index.sample(rng);
            self.components[k].draw(row, &mut z, rng);
            set_label(&mut labels, i, k);
        }
        Ok(())
    }
    /// log p(x) = logsumexp_k (ln wₖ + log N(x; μₖ, Σₖ)).
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(check_query(self.dim(), x).map(|_| {
            let mut y = vec![0.0; self.dim()];
            let mut terms = vec![0.0; self.components.len()];
            x.rows()
                .map(|r| {
                    for ((t, c), w) in terms.iter_mut().zip(&self.components).zip(&self.weights) {
                        *t = w.ln() + c.log_pdf(r, &mut y);
                    }
                    log_sum_exp(&terms)
                })
                .collect()
        }))
    }
    /// E(x) = Σₖ wₖ μₖ.
    fn mean(&self) -> Option<Vec<f64>> {
        let d = self.dim();
        let mut m = vec![0.0; d];
        for (c, w) in self.components.iter().zip(&self.weights) {
            for (a, mu) in m.iter_mut().zip(c.loc()) {
                *a += w * mu;
            }
        }
        Some(m)
    }
    /// Cov(x) = Σₖ wₖ (Σₖ + μₖ μₖᵀ) − E(x) E(x)ᵀ.
    fn covariance(&self) -> Option<Vec<f64>> {
        let d = self.dim();
        let m = self.mean()?;
        let mut c = vec![0.0; d * d];
        for (g, w) in self.components.iter().zip(&self.weights) {
            let mu = g.loc();
            for a in 0..d {
                for b in 0..d {
                    c[a * d + b] += w * (g.cov()[a * d + b] + mu[a] * mu[b]);
                }
            }
        }
        for a in 0..d {
            for b in 0..d {
                c[a * d + b] -= m[a] * m[b];
            }
        }
        Some(c)
    }
}

/// Eight equally weighted Gaussians on a circle, as in TorchCFM.
///
/// Centres are r·eₖ with the unit vectors in TorchCFM's order
/// (1,0), (−1,0), (0,1), (0,−1), (1/√2,1/√2), (1/√2,−1/√2), (−1/√2,1/√2),
/// (−1/√2,−1/√2); each component is N(r·eₖ, v I). The label of a point is
/// its centre's index in that order.
///
/// TorchCFM's `sample_8gaussians` uses r = 5 and passes `var = 0.1` to a
/// helper that builds the covariance √var · I, so its per-coordinate variance
/// is v = √0.1 ≈ 0.316 (standard deviation 0.1^¼ ≈ 0.562). That is
/// [`EightGaussians::torchcfm`] (and the default).
///
/// E(x) = 0 and Cov(x) = (r²/2 + v) I.
#[derive(Clone, Debug)]
pub struct EightGaussians {
    radius: f64,
    variance: f64,
    mixture: GaussianMixture,
}

/// Unit directions of the eight centres, in TorchCFM's order.
const EIGHT_DIRECTIONS: [[f64; 2]; 8] = [
    [1.0, 0.0],
    [-1.0, 0.0],
    [0.0, 1.0],
    [0.0, -1.0],
    [FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
];

impl EightGaussians {
    /// Centres at radius `radius ≥ 0`, each component N(centre, `variance` · I)
    /// with `variance > 0` the per-coordinate variance (not the standard deviation).
    pub fn new(radius: f64, variance: f64) -> Result<Self> {
        check_non_negative("EightGaussians radius", radius)?;
        check_positive("EightGaussians variance", variance)?;
        let std = variance.sqrt();
        let components = EIGHT_DIRECTIONS
            .iter()
            .map(|e| Gaussian::isotropic(vec![radius * e[0], radius * e[1]], std))
            .collect::<Result<Vec<_>>>()?;
        let mixture = GaussianMixture::from_components(vec![1.0; 8], components)?;
        Ok(EightGaussians { radius, variance, mixture })
    }

    /// TorchCFM's form: radius 5, per-coordinate variance √0.1.
    pub fn torchcfm() -> Self {
        EightGaussians::new(5.0, 0.1_f64.sqrt()).expect("the TorchCFM parameters are valid")
    }

    /// Radius r of the circle of centres.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// Per-coordinate variance v of each component.
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// The same distribution as a [`GaussianMixture`] (borrowed).
    pub fn as_mixture(&self) -> &GaussianMixture {
        &self.mixture
    }

    /// The same distribution as an owned [`GaussianMixture`].
    pub fn to_mixture(&self) -> GaussianMixture {
        self.mixture.clone()
    }
}

impl Default for EightGaussians {
    /// [`EightGaussians::torchcfm`].
    fn default() -> Self {
        EightGaussians::torchcfm()
    }
}

impl Dataset for EightGaussians {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        8
    }
    fn name(&self) -> String {
        "8gaussians".into()
    }
    /// k uniform in 0..8, x = r·eₖ + √v z; the label is k.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        self.mixture.fill(out, labels, rng)
    }
    /// log p(x) = logsumexp_k (ln ⅛ + log N(x; r·eₖ, v I)).
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        self.mixture.log_density(x)
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; 2])
    }
    /// Cov(x) = (r²/2 + v) I.
    fn covariance(&self) -> Option<Vec<f64>> {
        Some(identity(2, 0.5 * self.radius * self.radius + self.variance))
    }
}

// ---------------------------------------------------------------------------
// Curves with noise
// ---------------------------------------------------------------------------

/// How the moons are blurred.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MoonNoise {
    /// scikit-learn's `make_moons(noise = s)`: independent N(0, s²) on each coordinate.
    Gaussian(f64),
    /// torchdyn's `generate_moons(noise = w)`, which TorchCFM uses: one
    /// u ~ U[0, 1) per point, and w·u added to *both* coordinates, i.e. a
    /// shift along the diagonal (1, 1).
    SharedUniform(f64),
}

/// Two interleaving half circles (scikit-learn's `make_moons`), scaled and shifted.
///
/// For n points, n_out = ⌊n/2⌋ lie on the outer moon (cos θ, sin θ) and
/// n_in = n − n_out on the inner moon (1 − cos θ, ½ − sin θ), with θ on the
/// even grid np.linspace(0, π, m) of each moon (label 0 = outer, 1 = inner).
/// Then noise ε is added ([`MoonNoise`]), the result is mapped to
/// x = scale · (moon + ε) + shift, and the rows are shuffled.
///
/// [`Moons::torchcfm`] (the default) is TorchCFM's `sample_moons`:
/// torchdyn's moons with noise 0.2, then x ↦ 3x − 1. Note that torchdyn's
/// noise is *not* scikit-learn's Gaussian noise: it is w·u·(1, 1) with
/// u ~ U[0, 1) (see [`MoonNoise::SharedUniform`]). [`Moons::sklearn`] gives
/// the Gaussian version.
///
/// Mean and covariance (limit n → ∞, θ ~ U[0, π]): the unit moons have
/// E = (½, ¼), Var = (¾, 9/16 − 1/π), Cov₁₂ = ⅛ − 1/π; Gaussian noise adds
/// s² I, shared uniform noise adds w/2 · (1, 1) to the mean and
/// w²/12 · [[1, 1], [1, 1]] to the covariance; then E ↦ scale·E + shift and
/// Cov ↦ scale²·Cov.
#[derive(Clone, Debug, PartialEq)]
pub struct Moons {
    noise: MoonNoise,
    scale: f64,
    shift: [f64; 2],
}

impl Moons {
    /// Moons with the given noise, then x = `scale` · (moon + ε) + `shift`.
    ///
    /// Errors ([`Error::InvalidParameter`]): a negative or non-finite noise
    /// level, a non-positive or non-finite scale, a non-finite shift.
    pub fn new(noise: MoonNoise, scale: f64, shift: [f64; 2]) -> Result<Self> {
        match noise {
            MoonNoise::Gaussian(s) => check_non_negative("Moons noise standard deviation", s)?,
            MoonNoise::SharedUniform(w) => check_non_negative("Moons uniform noise width", w)?,
        }
        check_positive("Moons scale", scale)?;
        check_finite_vec("Moons shift", &shift)?;
        Ok(Moons { noise, scale, shift })
    }

    /// scikit-learn's `make_moons(noise = noise_std)`: Gaussian noise, no scaling.
    pub fn sklearn(noise_std: f64) -> Result<Self> {
        Moons::new(MoonNoise::Gaussian(noise_std), 1.0, [0.0, 0.0])
    }

    /// TorchCFM's `sample_moons`: shared uniform noise of width 0.2, then x ↦ 3x − 1.
    pub fn torchcfm() -> Self {
        Moons { noise: MoonNoise::SharedUniform(0.2), scale: 3.0, shift: [-1.0, -1.0] }
    }

    /// The noise model.
    pub fn noise(&self) -> MoonNoise {
        self.noise
    }
}

impl Default for Moons {
    /// [`Moons::torchcfm`].
    fn default() -> Self {
        Moons::torchcfm()
    }
}

impl Dataset for Moons {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "moons".into()
    }
    /// Grid θ per moon, outer (cos θ, sin θ) / inner (1 − cos θ, ½ − sin θ),
    /// x = scale · (moon + ε) + shift, then a shuffle.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        let n = out.len();
        let n_out = n / 2;
        let n_in = n - n_out;
        for (i, row) in out.rows_mut().enumerate() {
            let (mut x, mut y, k) = if i < n_out {
                let t = linspace_closed(PI, i, n_out);
                (t.cos(), t.sin(), 0)
            } else {
                let t = linspace_closed(PI, i - n_out, n_in);
                (1.0 - t.cos(), 0.5 - t.sin(), 1)
            };
            match self.noise {
                MoonNoise::Gaussian(s) => {
                    x += s * normal(rng);
                    y += s * normal(rng);
                }
                MoonNoise::SharedUniform(w) => {
                    let e = w * rng.gen::<f64>();
                    x += e;
                    y += e;
                }
            }
            row[0] = self.scale * x + self.shift[0];
            row[1] = self.scale * y + self.shift[1];
            set_label(&mut labels, i, k);
        }
        shuffle_rows(out, &mut labels, rng);
        Ok(())
    }
    /// E(x) = scale · ((½, ¼) + E ε) + shift (limit n → ∞).
    fn mean(&self) -> Option<Vec<f64>> {
        let e = match self.noise {
            MoonNoise::Gaussian(_) => 0.0,
            MoonNoise::SharedUniform(w) => 0.5 * w,
        };
        Some(vec![self.scale * (0.5 + e) + self.shift[0], self.scale * (0.25 + e) + self.shift[1]])
    }
    /// Cov(x) = scale² · ([[¾, ⅛ − 1/π], [⅛ − 1/π, 9/16 − 1/π]] + Cov ε) (limit n → ∞).
    fn covariance(&self) -> Option<Vec<f64>> {
        let (v11, v12, v22) = (0.75, 0.125 - 1.0 / PI, 0.5625 - 1.0 / PI);
        let (n11, n12, n22) = match self.noise {
            MoonNoise::Gaussian(s) => (s * s, 0.0, s * s),
            MoonNoise::SharedUniform(w) => (w * w / 12.0, w * w / 12.0, w * w / 12.0),
        };
        let s2 = self.scale * self.scale;
        Some(vec![s2 * (v11 + n11), s2 * (v12 + n12), s2 * (v12 + n12), s2 * (v22 + n22)])
    }
}

/// Two concentric circles (scikit-learn's `make_circles`), scaled.
///
/// For n points, n_out = ⌊n/2⌋ lie on the unit circle and n_in = n − n_out
/// on the circle of radius `factor`, each at the angles θᵢ = 2π i / m
/// (i = 0..m, m points per circle), label 0 = outer, 1 = inner. Then
/// x = scale · (circle + ε) with ε ~ N(0, noise² I), and the rows are shuffled.
/// The default (factor ½, noise 0.08, scale 3) follows the FFJORD toy data.
///
/// E(x) = 0 and, for large n, Cov(x) = scale² ((1 + factor²)/4 + noise²) I.
#[derive(Clone, Debug, PartialEq)]
pub struct Circles {
    factor: f64,
    noise: f64,
    scale: f64,
}

impl Circles {
    /// Circles of radii 1 and `factor ∈ [0, 1)`, Gaussian noise `noise ≥ 0`, then × `scale > 0`.
    pub fn new(factor: f64, noise: f64, scale: f64) -> Result<Self> {
        if !(factor.is_finite() && (0.0..1.0).contains(&factor)) {
            return Err(Error::invalid("Circles factor", format!("must lie in [0, 1), got {factor}")));
        }
        check_non_negative("Circles noise standard deviation", noise)?;
        check_positive("Circles scale", scale)?;
        Ok(Circles { factor, noise, scale })
    }
}

impl Default for Circles {
    /// factor ½, noise 0.08, scale 3.
    fn default() -> Self {
        Circles { factor: 0.5, noise: 0.08, scale: 3.0 }
    }
}

impl Dataset for Circles {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "circles".into()
    }
    /// x = scale · (ρ (cos θᵢ, sin θᵢ) + ε), ρ ∈ {1, factor}, θᵢ = 2π i / m; then a shuffle.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        let n = out.len();
        let n_out = n / 2;
        let n_in = n - n_out;
        for (i, row) in out.rows_mut().enumerate() {
            let (j, m, r, k) = if i < n_out { (i, n_out, 1.0, 0) } else { (i - n_out, n_in, self.factor, 1) };
            let t = 2.0 * PI * j as f64 / m as f64;
            row[0] = self.scale * (r * t.cos() + self.noise * normal(rng));
            row[1] = self.scale * (r * t.sin() + self.noise * normal(rng));
            set_label(&mut labels, i, k);
        }
        shuffle_rows(out, &mut labels, rng);
        Ok(())
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; 2])
    }
    /// Cov(x) = scale² ((1 + factor²)/4 + noise²) I (limit n → ∞).
    fn covariance(&self) -> Option<Vec<f64>> {
        let v = (1.0 + self.factor * self.factor) / 4.0 + self.noise * self.noise;
        Some(identity(2, self.scale * self.scale * v))
    }
}

/// Uniform distribution on the dark squares of a `cells × cells` board of
/// squares of side `cell_size`, centred at the origin.
///
/// Cell (i, j) (column i, row j, both from 0) covers
/// [(i − c/2) s, (i + 1 − c/2) s) × [(j − c/2) s, (j + 1 − c/2) s) and is dark
/// when i + j is even. A point picks a dark cell uniformly, then a uniform
/// position inside it. The label is the column parity i mod 2 (two classes,
/// each itself a lattice of squares). The default (4 cells of side 2, on
/// [−4, 4]²) is the FFJORD checkerboard.
///
/// With cᵦ the centres of the N dark cells: E(x) = (1/N) Σ cᵦ and
/// Cov(x) = (1/N) Σ (cᵦ − E x)(cᵦ − E x)ᵀ + (s²/12) I.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkerboard {
    cells: usize,
    cell_size: f64,
    dark: Vec<[usize; 2]>,
}

impl Checkerboard {
    /// A board of `cells ≥ 2` squares per side, each of side `cell_size > 0`.
    pub fn new(cells: usize, cell_size: f64) -> Result<Self> {
        if cells < 2 {
            return Err(Error::invalid("Checkerboard cells", format!("must be at least 2 per side, got {cells}")));
        }
        if cells > 4096 {
            return Err(Error::invalid("Checkerboard cells", format!("must be at most 4096 per side, got {cells}")));
        }
        check_positive("Checkerboard cell size", cell_size)?;
        let dark = (0..cells).flat_map(|j| (0..cells).map(move |i| [i, j])).filter(|[i, j]| (i + j) % 2 == 0).collect();
        Ok(Checkerboard { cells, cell_size, dark })
    }

    /// Lower-left corner of cell index `i` along one axis.
    fn corner(&self, i: usize) -> f64 {
        (i as f64 - 0.5 * self.cells as f64) * self.cell_size
    }
}

impl Default for Checkerboard {
    /// 4 × 4 cells of side 2, covering [−4, 4]².
    fn default() -> Self {
        Checkerboard::new(4, 2.0).expect("the default checkerboard is valid")
    }
}

impl Dataset for Checkerboard {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "checkerboard".into()
    }
    /// Dark cell (i, j) uniform, x = corner(i, j) + s (u, v) with u, v ~ U[0, 1); label i mod 2.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        for (n, row) in out.rows_mut().enumerate() {
            let [i, j] = self.dark[rng.gen_range(0..self.dark.len())];
            row[0] = self.corner(i) + self.cell_size * rng.gen::<f64>();
            row[1] = self.corner(j) + self.cell_size * rng.gen::<f64>();
            set_label(&mut labels, n, i % 2);
        }
        Ok(())
    }
    /// E(x) = mean of the dark cells' centres.
    fn mean(&self) -> Option<Vec<f64>> {
        let h = 0.5 * self.cell_size;
        let n = self.dark.len() as f64;
        let mut m = vec![0.0; 2];
        for c in &self.dark {
            m[0] += (self.corner(c[0]) + h) / n;
            m[1] += (self.corner(c[1]) + h) / n;
        }
        Some(m)
    }
    /// Cov(x) = covariance of the dark cells' centres + (s²/12) I.
    fn covariance(&self) -> Option<Vec<f64>> {
        let h = 0.5 * self.cell_size;
        let m = self.mean()?;
        let n = self.dark.len() as f64;
        let w = self.cell_size * self.cell_size / 12.0;
        let mut c = vec![w, 0.0, 0.0, w];
        for cell in &self.dark {
            let p = [self.corner(cell[0]) + h - m[0], self.corner(cell[1]) + h - m[1]];
            for a in 0..2 {
                for b in 0..2 {
                    c[a * 2 + b] += p[a] * p[b] / n;
                }
            }
        }
        Some(c)
    }
}

/// Spiral arms winding out of the origin (the FFJORD "2spirals" shape,
/// generalised to any number of arms, without its uniform jitter).
///
/// A point picks an arm k uniformly (its label) and t = 3π √u with
/// u ~ U[0, 1); the arm-0 curve is (−t cos t, t sin t)/3, rotated by 2πk/K
/// for arm k, plus N(0, noise² I). With two arms, arm 1 is arm 0 mirrored
/// through the origin.
#[derive(Clone, Debug, PartialEq)]
pub struct Spirals {
    arms: usize,
    noise: f64,
    rotations: Vec<[f64; 2]>,
}

impl Spirals {
    /// `arms ≥ 1` arms (at most 64) and Gaussian noise of standard deviation `noise ≥ 0`.
    pub fn new(arms: usize, noise: f64) -> Result<Self> {
        if arms == 0 || arms > 64 {
            return Err(Error::invalid("Spirals arms", format!("must be between 1 and 64, got {arms}")));
        }
        check_non_negative("Spirals noise standard deviation", noise)?;
        let rotations = (0..arms)
            .map(|k| {
                let phi = 2.0 * PI * k as f64 / arms as f64;
                [phi.cos(), phi.sin()]
            })
            .collect();
        Ok(Spirals { arms, noise, rotations })
    }

    /// Number of arms K.
    pub fn arms(&self) -> usize {
        self.arms
    }
}

impl Default for Spirals {
    /// Two arms, noise 0.1.
    fn default() -> Self {
        Spirals::new(2, 0.1).expect("the default spirals are valid")
    }
}

impl Dataset for Spirals {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        self.arms
    }
    fn name(&self) -> String {
        "spirals".into()
    }
    /// k uniform, t = 3π√u, x = R(2πk/K) (−t cos t, t sin t)/3 + ε; label k.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        for (i, row) in out.rows_mut().enumerate() {
            let k = rng.gen_range(0..self.arms);
            let t = 3.0 * PI * rng.gen::<f64>().sqrt();
            let (a, b) = (-t * t.cos() / 3.0, t * t.sin() / 3.0);
            let [c, s] = self.rotations[k];
            row[0] = c * a - s * b + self.noise * normal(rng);
            row[1] = s * a + c * b + self.noise * normal(rng);
            set_label(&mut labels, i, k);
        }
        Ok(())
    }
}

/// A two-dimensional S: scikit-learn's 3-D `make_s_curve` seen along its flat axis.
///
/// t = 3π(u − ½) with u ~ U[0, 1), the curve is (sin t, sign(t)(cos t − 1)),
/// and x = scale · (curve + ε) with ε ~ N(0, noise² I). It spans about
/// [−1, 1] × [−2, 2] before scaling. One class.
///
/// E(x) = 0 and Cov(x) = scale² ([[½, −1/(3π)], [−1/(3π), 3/2 + 4/(3π)]] + noise² I)
/// (from E sin² t = ½, E cos t = −2/(3π), E sin t · sign(t)(cos t − 1) = −1/(3π)).
#[derive(Clone, Debug, PartialEq)]
pub struct SCurve {
    noise: f64,
    scale: f64,
}

impl SCurve {
    /// Gaussian noise `noise ≥ 0` (in curve units), then × `scale > 0`.
    pub fn new(noise: f64, scale: f64) -> Result<Self> {
        check_non_negative("SCurve noise standard deviation", noise)?;
        check_positive("SCurve scale", scale)?;
        Ok(SCurve { noise, scale })
    }
}

impl Default for SCurve {
    /// noise 0.1, scale 1.
    fn default() -> Self {
        SCurve { noise: 0.1, scale: 1.0 }
    }
}

impl Dataset for SCurve {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "scurve".into()
    }
    /// t = 3π(u − ½), x = scale · ((sin t, sign(t)(cos t − 1)) + ε); labels 0.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        for row in out.rows_mut() {
            let t = 3.0 * PI * (rng.gen::<f64>() - 0.5);
            row[0] = self.scale * (t.sin() + self.noise * normal(rng));
            row[1] = self.scale * (t.signum() * (t.cos() - 1.0) + self.noise * normal(rng));
        }
        if let Some(l) = labels {
            l.fill(0);
        }
        Ok(())
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; 2])
    }
    /// Cov(x) = scale² ([[½, −1/(3π)], [−1/(3π), 3/2 + 4/(3π)]] + noise² I).
    fn covariance(&self) -> Option<Vec<f64>> {
        let s2 = self.scale * self.scale;
        let n2 = self.noise * self.noise;
        let c12 = -1.0 / (3.0 * PI);
        Some(vec![s2 * (0.5 + n2), s2 * c12, s2 * c12, s2 * (1.5 + 4.0 / (3.0 * PI) + n2)])
    }
}

// ---------------------------------------------------------------------------
// Picking by name
// ---------------------------------------------------------------------------

/// The names [`by_name`] understands.
pub const NAMES: [&str; 7] = ["8gaussians", "moons", "gaussian", "circles", "checkerboard", "spirals", "scurve"];

/// The default dataset called `name` (case, spaces, `-` and `_` ignored):
///
/// * `"8gaussians"` (also `"eightgaussians"`): [`EightGaussians::torchcfm`]
/// * `"moons"`: [`Moons::torchcfm`]
/// * `"gaussian"`: [`StandardGaussian`] in 2-D
/// * `"circles"`, `"checkerboard"`, `"spirals"`, `"scurve"`: their `Default`
///
/// An unknown name is [`Error::InvalidParameter`], listing the valid ones.
pub fn by_name(name: &str) -> Result<Box<dyn Dataset>> {
    let key: String = name.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).flat_map(char::to_lowercase).collect();
    Ok(match key.as_str() {
        "8gaussians" | "eightgaussians" => Box::new(EightGaussians::torchcfm()),
        "moons" => Box::new(Moons::torchcfm()),
        "gaussian" => Box::new(StandardGaussian::default()),
        "circles" => Box::new(Circles::default()),
        "checkerboard" => Box::new(Checkerboard::default()),
        "spirals" => Box::new(Spirals::default()),
        "scurve" => Box::new(SCurve::default()),
        _ => {
            return Err(Error::invalid(
                format!("dataset name '{name}'"),
                format!("no such dataset; valid names are: {}", NAMES.join(", ")),
            ))
        }
    })
}
