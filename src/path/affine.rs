//! [`AffinePath`]: the affine Gaussian path x_t = α_t x₁ + σ_t x₀ on a scheduler.
//!
//! ```text
//! x_t            = α_t x₁ + σ_t x₀
//! dx_t/dt        = α̇_t x₁ + σ̇_t x₀                                (the CFM target)
//! u_t(x | x₁)    = (α̇_t − (σ̇_t/σ_t) α_t) x₁ + (σ̇_t/σ_t) x          (σ_t > 0)
//! ```

use super::convert::Prediction;
use super::sample::PathSample;
use super::scheduler::{check_time, validate_endpoints, Scheduler};
use crate::error::{Error, Result};
use crate::field::Time;
use crate::points::Points;

/// The affine Gaussian path x_t = α_t x_1 + σ_t x_0 built on a [`Scheduler`].
///
/// `S` may be a concrete scheduler (`AffinePath<CondOT>`) or a boxed one chosen
/// at run time (`AffinePath<Box<dyn Scheduler>>`).
#[derive(Debug, Clone)]
pub struct AffinePath<S> {
    scheduler: S,
}

impl<S: Scheduler> AffinePath<S> {
    /// A path on `scheduler`, after checking that it starts at noise and ends at
    /// data ([`validate_endpoints`]).
    ///
    /// Errors: [`Error::InvalidParameter`] when the scheduler misses its endpoints.
    pub fn new(scheduler: S) -> Result<Self> {
        validate_endpoints(&scheduler)?;
        Ok(AffinePath { scheduler })
    }

    /// The scheduler of this path.
    pub fn scheduler(&self) -> &S {
        &self.scheduler
    }

    /// Points on the path and their velocities, one time per row:
    ///
    /// ```text
    /// x_t  = α_t x_1 + σ_t x_0
    /// dx_t = α̇_t x_1 + σ̇_t x_0
    /// ```
    ///
    /// `x0` is the noise, `x1` the data (same shape); `t` is one time for all
    /// rows (`0.5`) or one per row (`&times`). The sample keeps copies of `x0`
    /// and `x1`; its `target` is `dx_t`, and it has no labels
    /// ([`sample_pairs`](Self::sample_pairs) takes the pairs by value, with labels).
    ///
    /// Errors: [`Error::ShapeMismatch`] for different shapes or a wrong number of
    /// times; [`Error::NonFinite`] for NaN/∞ in the inputs, a NaN/∞ time or a
    /// time where the scheduler is singular (e.g. t = 1 for `LinearVP`);
    /// [`Error::InvalidParameter`] for a time outside [0, 1].
    pub fn sample<'t>(&self, x0: &Points, x1: &Points, t: impl Into<Time<'t>>) -> Result<PathSample> {
        self.sample_pairs(x0.clone(), x1.clone(), t, None)
    }

    /// [`sample`](Self::sample) on pairs given by value (no copy), keeping their `labels`.
    ///
    /// Errors: as [`sample`](Self::sample), plus [`Error::ShapeMismatch`] for a
    /// wrong number of labels.
    pub fn sample_pairs<'t>(
        &self,
        x0: Points,
        x1: Points,
        t: impl Into<Time<'t>>,
        labels: Option<Vec<usize>>,
    ) -> Result<PathSample> {
        x0.check_same_shape(&x1, "AffinePath::sample (x0 is the noise, x1 the data)")?;
        x0.check_finite("x0 (noise) in AffinePath::sample")?;
        x1.check_finite("x1 (data) in AffinePath::sample")?;
        let t = checked_times(t.into(), x0.len(), "AffinePath::sample")?;
        if let Some(l) = &labels {
            if l.len() != x0.len() {
                return Err(Error::shape(
                    "the labels of AffinePath::sample_pairs",
                    format!("{} labels (one per pair)", x0.len()),
                    format!("{} labels", l.len()),
                ));
            }
        }
        let (n, d) = x0.shape();
        let mut x_t = Points::zeros(n, d);
        let mut target = Points::zeros(n, d);
        for (i, &ti) in t.iter().enumerate() {
            let c = self.scheduler.eval_checked(ti)?;
            let (a, b) = (x0.row(i), x1.row(i));
            for (k, (xt, dxt)) in x_t.row_mut(i).iter_mut().zip(target.row_mut(i)).enumerate() {
                *xt = c.alpha * b[k] + c.sigma * a[k];
                *dxt = c.d_alpha * b[k] + c.d_sigma * a[k];
            }
        }
        Ok(PathSample { x0, x1, t, x_t, target, labels })
    }

    /// The conditional velocity at a point x_t given only the data point x_1:
    ///
    /// ```text
    /// u_t(x_t | x_1) = (α̇_t − (σ̇_t/σ_t) α_t) x_1 + (σ̇_t/σ_t) x_t
    /// ```
    ///
    /// It follows from dx_t = α̇_t x_1 + σ̇_t x_0 after eliminating the noise,
    /// x_0 = (x_t − α_t x_1)/σ_t; when x_t came from [`sample`](Self::sample)
    /// the two agree. The formula divides by σ_t, which is 0 at t = 1 (the path
    /// has arrived at x_1), so t = 1 is an error here: use the `target` of
    /// [`sample`](Self::sample) or a time below 1.
    ///
    /// Errors: as [`sample`](Self::sample), plus [`Error::InvalidParameter`]
    /// for a row where σ_t = 0.
    pub fn conditional_velocity<'t>(&self, x_t: &Points, x1: &Points, t: impl Into<Time<'t>>) -> Result<Points> {
        self.convert_impl(x_t, t.into(), x1, Prediction::Data, Prediction::Velocity, "AffinePath::conditional_velocity")
    }
}

/// One time per row, each checked to be finite and in [0, 1] (a single time is repeated n times).
pub(super) fn checked_times(t: Time<'_>, n: usize, what: &str) -> Result<Vec<f64>> {
    let t = t.to_vec(n, what)?;
    for &ti in &t {
        check_time(ti)?;
    }
    Ok(t)
}
