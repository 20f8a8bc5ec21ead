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
//! | [`Digits`] | 8 × 8 handwritten digits (UCI), 64 pixels in [−1, 1], a fixed train/test split | 10 | mean |
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
//! * `*_labeled` variants also return one class label per point;
//! * [`Dataset::sample_class_with`] draws the points of one class only, x ~ p(x | y).
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
//!
//! ## Files
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | the [`Dataset`] trait, shared sampling helpers, [`by_name`] |
//! | `gaussian.rs` | [`StandardGaussian`], [`Gaussian`] (full covariance, Cholesky by nalgebra) |
//! | `mixture.rs` | [`GaussianMixture`], [`EightGaussians`] |
//! | `toys.rs` | the two-dimensional curves: [`Moons`], [`Circles`], [`Checkerboard`], [`Spirals`], [`SCurve`] |
//! | `digits.rs` | [`Digits`]: the handwritten digits shipped in `data/digits/` (images, labels, splits) |

use crate::error::{Error, Result};
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::StandardNormal;

mod digits;
mod gaussian;
mod mixture;
mod toys;

pub use digits::{level_to_pixel, pixel_to_level, Digits, Split, DIGIT_CLASSES, DIGIT_PIXELS, DIGIT_SIDE};
pub use gaussian::{Gaussian, StandardGaussian};
pub use mixture::{EightGaussians, GaussianMixture};
pub use toys::{Checkerboard, Circles, MoonNoise, Moons, SCurve, Spirals};

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

    /// Draws `n` points of class `class` alone (x ~ p(x | y = class)) from a caller-owned
    /// generator: labelled batches of 2n are drawn and the points of that class kept, until
    /// there are `n`.
    ///
    /// Errors: [`Error::ZeroCount`] for n = 0, [`Error::InvalidParameter`] for a class
    /// outside `0..num_classes()` or one that 100 batches never produced.
    fn sample_class_with(&self, class: usize, n: usize, rng: &mut dyn RngCore) -> Result<Points> {
        let k = self.num_classes();
        if class >= k {
            return Err(Error::invalid(
                format!("class {class} of '{}'", self.name()),
                format!("the dataset has {k} classes, 0..{k}"),
            ));
        }
        let mut out = empty_points(n, self.dim())?;
        let mut filled = 0;
        for _ in 0..100 {
            let (x, labels) = self.sample_labeled_with(2 * n, rng)?;
            for (row, _) in x.rows().zip(&labels).filter(|(_, &y)| y == class) {
                if filled < n {
                    out.row_mut(filled).copy_from_slice(row);
                    filled += 1;
                }
            }
            if filled == n {
                return Ok(out);
            }
        }
        Err(Error::invalid(
            format!("class {class} of '{}'", self.name()),
            format!("only {filled} of {n} points of this class came up in 100 batches of {}; is its weight 0?", 2 * n),
        ))
    }

    /// Like [`Dataset::sample_class_with`], with a fresh generator `StdRng::seed_from_u64(seed)`.
    fn sample_class(&self, class: usize, n: usize, seed: u64) -> Result<Points> {
        self.sample_class_with(class, n, &mut StdRng::seed_from_u64(seed))
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
pub(crate) fn empty_points(n: usize, dim: usize) -> Result<Points> {
    if n == 0 {
        return Err(Error::ZeroCount { what: "the number of points to sample".into() });
    }
    if dim == 0 {
        return Err(Error::ZeroCount { what: "the dimension of a dataset".into() });
    }
    Ok(Points::zeros(n, dim))
}

/// Checks the buffers handed to [`Dataset::fill`].
pub(crate) fn check_fill(dim: usize, out: &Points, labels: &Option<&mut [usize]>) -> Result<()> {
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
pub(crate) fn check_query(dim: usize, x: &Points) -> Result<()> {
    if x.dim() != dim {
        return Err(Error::shape(
            "the points passed to log_density",
            format!("points of dimension {dim}"),
            format!("points of dimension {}", x.dim()),
        ));
    }
    x.check_finite("the points passed to log_density")
}

#[inline]
pub(crate) fn normal(rng: &mut dyn RngCore) -> f64 {
    rng.sample(StandardNormal)
}

/// Writes `k` into slot `i` of an optional label buffer.
#[inline]
pub(crate) fn set_label(labels: &mut Option<&mut [usize]>, i: usize, k: usize) {
    if let Some(l) = labels.as_deref_mut() {
        l[i] = k;
    }
}

/// Fisher–Yates shuffle of the rows of `out` (and of `labels`, in step).
pub(crate) fn shuffle_rows(out: &mut Points, labels: &mut Option<&mut [usize]>, rng: &mut dyn RngCore) {
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

pub(crate) fn identity(dim: usize, diag: f64) -> Vec<f64> {
    let mut c = vec![0.0; dim * dim];
    for a in 0..dim {
        c[a * dim + a] = diag;
    }
    c
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
