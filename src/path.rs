//! The affine Gaussian probability path x_t = α_t x_1 + σ_t x_0.
//!
//! # The idea
//!
//! Flow Matching trains a velocity field by regression. To get regression
//! targets we pick, for every training pair (noise x_0 ~ N(0, I), data x_1),
//! a path from x_0 to x_1 whose velocity we know in closed form:
//!
//! ```text
//! x_t  = α_t x_1 + σ_t x_0          (where the pair is at time t)
//! dx_t = α̇_t x_1 + σ̇_t x_0          (how fast it moves: the training target)
//! ```
//!
//! α_t, σ_t come from a [`Scheduler`] (t = 0 noise, t = 1 data). For a fixed
//! data point x_1 the points x_t form a Gaussian N(α_t x_1, σ_t² I): the
//! *conditional probability path*. [`AffinePath::sample`] returns
//! `(t, x_t, dx_t)` for a batch; a CFM loss regresses a model u_θ(x_t, t) onto
//! `dx_t`:
//!
//! ```text
//! L_CFM(θ) = E_{t, x_0, x_1} ‖u_θ(x_t, t) − dx_t‖²
//! ```
//!
//! The same velocity written with only the current point x and the data
//! point x_1 (not the noise) is the conditional velocity field
//!
//! ```text
//! u_t(x | x_1) = (α̇_t − (σ̇_t/σ_t) α_t) x_1 + (σ̇_t/σ_t) x        (σ_t > 0)
//! ```
//!
//! (some notes write β for σ and z for x_1); see [`AffinePath::conditional_velocity`].
//!
//! # Four ways to say the same thing
//!
//! A network on this path can predict any of four quantities at a point
//! (x_t, t): the velocity v, the clean data x̂_1, the noise x̂_0 (often called
//! ε) or the score ∇ log p_t(x_t). Because the path is affine they are related
//! linearly, and [`AffinePath::convert`] turns one into another. The two
//! equations
//!
//! ```text
//! x_t = α_t x̂_1 + σ_t x̂_0
//! v   = α̇_t x̂_1 + σ̇_t x̂_0
//! ```
//!
//! form a 2×2 linear system in (x̂_1, x̂_0) with determinant
//! D = α_t σ̇_t − σ_t α̇_t; and for a Gaussian path the score is
//! s = −x̂_0 / σ_t (Tweedie's formula). See [`Prediction`] for every formula.
//!
//! # Design notes
//!
//! Times are one per row (or a single time shared by all rows), checked to
//! be finite and in [0, 1]. Independent-coupling CFM with a small extra noise
//! σ_min (x_t = t x_1 + (1 − t) x_0 + σ_min ε) adds its term on top of
//! [`PathSample::x_t`] in the loss code; diffusion-style models reuse the
//! scheduler and [`AffinePath::convert`].
//!
//! # Example
//!
//! ```
//! use flowmatch::path::AffinePath;
//! use flowmatch::scheduler::CondOT;
//! use flowmatch::Points;
//! # fn main() -> flowmatch::Result<()> {
//! let path = AffinePath::new(CondOT)?;
//! let x0 = Points::from_rows(&[[0.0, 0.0], [1.0, -1.0]])?; // noise
//! let x1 = Points::from_rows(&[[2.0, 4.0], [3.0, 3.0]])?; // data
//! let s = path.sample(&x0, &x1, &[0.5, 0.25])?;
//! assert_eq!(s.x_t.row(0), &[1.0, 2.0]);
//! assert_eq!(s.dx_t.row(1), &[2.0, 4.0]); // x_1 − x_0 for CondOT
//! # Ok(())
//! # }
//! ```

use std::fmt;

use crate::error::{Error, Result};
use crate::points::Points;
use crate::scheduler::{validate_endpoints, Scheduler, SchedulerOutput};

/// A batch of points on the path, ready for a regression loss.
///
/// Row i holds time `t[i]`, position `x_t` and target velocity `dx_t`:
///
/// ```text
/// x_t  = α_t x_1 + σ_t x_0
/// dx_t = α̇_t x_1 + σ̇_t x_0        (regress the model u_θ(x_t, t) onto this)
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PathSample {
    /// One time per row.
    pub t: Vec<f64>,
    /// The points x_t on the path: the model input.
    pub x_t: Points,
    /// The conditional velocity dx_t/dt at x_t: the regression target.
    pub dx_t: Points,
}

/// What a model predicts at a point (x_t, t). All four are linear in each other.
///
/// Writing x̂_1 for the predicted data point and x̂_0 for the predicted noise,
/// each quantity as a function of the pair (x̂_1, x̂_0):
///
/// ```text
/// Velocity:  v   = α̇_t x̂_1 + σ̇_t x̂_0
/// Data:      x̂_1
/// Noise:     x̂_0                        (ε-prediction)
/// Score:     s   = −x̂_0 / σ_t            (∇ log p_t(x_t) of a Gaussian path, σ_t > 0)
/// ```
///
/// and the pair (x̂_1, x̂_0) recovered from each one, using x_t = α_t x̂_1 + σ_t x̂_0:
///
/// ```text
/// from v:    x̂_1 = (σ̇_t x_t − σ_t v) / D,   x̂_0 = (α_t v − α̇_t x_t) / D,   D = α_t σ̇_t − σ_t α̇_t ≠ 0
/// from x̂_1:  x̂_0 = (x_t − α_t x̂_1) / σ_t                                    (σ_t ≠ 0)
/// from x̂_0:  x̂_1 = (x_t − σ_t x̂_0) / α_t                                    (α_t ≠ 0)
/// from s:    x̂_0 = −σ_t s,   x̂_1 = (x_t + σ_t² s) / α_t                     (σ_t > 0, α_t ≠ 0)
/// ```
///
/// For example data → velocity gives v = (α̇_t − (σ̇_t/σ_t) α_t) x̂_1 + (σ̇_t/σ_t) x_t,
/// the conditional velocity formula. A conversion that would divide by zero
/// (noise → data at t = 0, anything → score at t = 1, ...) returns an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prediction {
    /// The velocity v = dx_t/dt (what Flow Matching trains).
    Velocity,
    /// The clean data point x̂_1 (x-prediction).
    Data,
    /// The noise x̂_0, also called ε (ε-prediction in diffusion models).
    Noise,
    /// The score ∇_x log p_t(x_t) = −x̂_0 / σ_t.
    Score,
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Prediction::Velocity => "velocity v",
            Prediction::Data => "data prediction x̂_1",
            Prediction::Noise => "noise prediction x̂_0",
            Prediction::Score => "score ∇log p_t",
        };
        f.write_str(s)
    }
}

/// The affine Gaussian path x_t = α_t x_1 + σ_t x_0 built on a [`Scheduler`].
///
/// `S` may be a concrete scheduler (`AffinePath<CondOT>`) or a boxed one chosen
/// at run time (`AffinePath<Box<dyn Scheduler>>`).
#[derive(Debug, Clone)]
pub struct AffinePath<S> {
    scheduler: S,
}

/// Coefficients (a, b) of `a · x_t + b · value`, or why they do not exist.
type Coef = std::result::Result<(f64, f64), String>;

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
    /// `x0` is the noise, `x1` the data (same shape); `t` holds one time per
    /// row, or a single time for all rows. Regress a model onto `dx_t`.
    ///
    /// Errors: [`Error::ShapeMismatch`] for different shapes or a wrong number of
    /// times; [`Error::NonFinite`] for NaN/∞ in the inputs, a NaN/∞ time or a
    /// time where the scheduler is singular (e.g. t = 1 for `LinearVP`);
    /// [`Error::InvalidParameter`] for a time outside [0, 1].
    pub fn sample(&self, x0: &Points, x1: &Points, t: &[f64]) -> Result<PathSample> {
        x0.check_same_shape(x1, "AffinePath::sample (x0 is the noise, x1 the data)")?;
        x0.check_finite("x0 (noise) in AffinePath::sample")?;
        x1.check_finite("x1 (data) in AffinePath::sample")?;
        let t = per_row_times(t, x0.len(), "AffinePath::sample")?;
        let (n, d) = x0.shape();
        let mut x_t = Points::zeros(n, d);
        let mut dx_t = Points::zeros(n, d);
        for (i, &ti) in t.iter().enumerate() {
            let c = self.scheduler.eval_checked(ti)?;
            let (a, b) = (x0.row(i), x1.row(i));
            for (k, (xt, dxt)) in x_t.row_mut(i).iter_mut().zip(dx_t.row_mut(i)).enumerate() {
                *xt = c.alpha * b[k] + c.sigma * a[k];
                *dxt = c.d_alpha * b[k] + c.d_sigma * a[k];
            }
        }
        Ok(PathSample { t, x_t, dx_t })
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
    /// has arrived at x_1), so t = 1 is an error here: use `dx_t` from
    /// [`sample`](Self::sample) or a time below 1.
    ///
    /// Errors: as [`sample`](Self::sample), plus [`Error::InvalidParameter`]
    /// for a row where σ_t = 0.
    pub fn conditional_velocity(&self, x_t: &Points, x1: &Points, t: &[f64]) -> Result<Points> {
        self.convert_impl(x_t, t, x1, Prediction::Data, Prediction::Velocity, "AffinePath::conditional_velocity")
    }

    /// Converts a prediction of one kind into another at the points x_t, one
    /// time per row (or one time for all rows). See [`Prediction`] for the
    /// formulas. Each conversion is `out = a_t x_t + b_t value` with the
    /// coefficients of [`conversion_coefficients`](Self::conversion_coefficients).
    ///
    /// ```text
    /// e.g. velocity → score:  s = (α̇_t x_t − α_t v) / (σ_t D),   D = α_t σ̇_t − σ_t α̇_t
    /// ```
    ///
    /// Errors: [`Error::ShapeMismatch`], [`Error::NonFinite`] and time errors as
    /// [`sample`](Self::sample); [`Error::InvalidParameter`] where the
    /// conversion is singular (σ_t = 0 with data → noise/velocity/score, α_t = 0
    /// with noise/score → data/velocity, D = 0 from velocity) instead of
    /// producing infinities.
    pub fn convert(&self, x_t: &Points, t: &[f64], value: &Points, from: Prediction, to: Prediction) -> Result<Points> {
        self.convert_impl(x_t, t, value, from, to, "AffinePath::convert")
    }

    /// [`convert`](Self::convert) for a single point x_t at time t.
    ///
    /// Errors: as [`convert`](Self::convert).
    pub fn convert_point(
        &self,
        x_t: &[f64],
        t: f64,
        value: &[f64],
        from: Prediction,
        to: Prediction,
    ) -> Result<Vec<f64>> {
        if x_t.len() != value.len() {
            return Err(Error::shape(
                "AffinePath::convert_point",
                format!("value of length {} (the length of x_t)", x_t.len()),
                format!("length {}", value.len()),
            ));
        }
        check_finite_slice(x_t, "x_t in AffinePath::convert_point")?;
        check_finite_slice(value, "value in AffinePath::convert_point")?;
        let (a, b) = self.conversion_coefficients(t, from, to)?;
        Ok(x_t.iter().zip(value).map(|(x, v)| a * x + b * v).collect())
    }

    /// The coefficients (a, b) with `to = a · x_t + b · from` at time t.
    ///
    /// Useful to apply a conversion to a model output in another array type
    /// (e.g. an f32 tensor). For instance data → velocity gives
    /// a = σ̇_t/σ_t, b = α̇_t − (σ̇_t/σ_t) α_t. See [`Prediction`] for all formulas.
    ///
    /// Errors: time errors as [`Scheduler::eval_checked`];
    /// [`Error::InvalidParameter`] where the conversion is singular at t.
    pub fn conversion_coefficients(&self, t: f64, from: Prediction, to: Prediction) -> Result<(f64, f64)> {
        let c = self.scheduler.eval_checked(t)?;
        coefficients(&c, from, to)
            .map_err(|reason| Error::invalid(format!("conversion from {from} to {to} at t = {t}"), reason))
    }

    fn convert_impl(
        &self,
        x_t: &Points,
        t: &[f64],
        value: &Points,
        from: Prediction,
        to: Prediction,
        what: &str,
    ) -> Result<Points> {
        x_t.check_same_shape(value, &format!("{what} (x_t and the {from})"))?;
        x_t.check_finite(&format!("x_t in {what}"))?;
        value.check_finite(&format!("the {from} in {what}"))?;
        let t = per_row_times(t, x_t.len(), what)?;
        let mut out = value.clone();
        for (i, &ti) in t.iter().enumerate() {
            let c = self.scheduler.eval_checked(ti)?;
            let (a, b) = coefficients(&c, from, to)
                .map_err(|reason| Error::invalid(format!("{what}: {from} → {to} at t = {ti} (row {i})"), reason))?;
            for (o, x) in out.row_mut(i).iter_mut().zip(x_t.row(i)) {
                *o = a * x + b * *o;
            }
        }
        Ok(out)
    }
}

/// (a, b) such that `to = a · x_t + b · from`, for scheduler values `c`.
fn coefficients(c: &SchedulerOutput, from: Prediction, to: Prediction) -> Coef {
    if from == to {
        return Ok((0.0, 1.0));
    }
    let SchedulerOutput { alpha, sigma, d_alpha, d_sigma } = *c;
    let sigma_zero = || "σ_t = 0 here (the path has reached the data), so x̂_0 is undefined; use t < 1".to_string();
    let alpha_zero = || {
        "α_t = 0 here (pure noise carries no information about the data), so x̂_1 is undefined; use t > 0".to_string()
    };
    if (from == Prediction::Score || to == Prediction::Score) && sigma <= 0.0 {
        return Err(format!("the score needs σ_t > 0, but σ_t = {sigma}; use t < 1"));
    }
    // The pair (x̂_1, x̂_0) as coefficients of (x_t, value).
    let (data, noise): (Coef, Coef) = match from {
        Prediction::Velocity => {
            let det = alpha * d_sigma - sigma * d_alpha;
            if det == 0.0 {
                let reason = format!(
                    "D = α_t σ̇_t − σ_t α̇_t = 0 here (α = {alpha}, σ = {sigma}, α̇ = {d_alpha}, σ̇ = {d_sigma}), \
                     so the velocity does not determine x̂_1 and x̂_0; move t away from this time"
                );
                (Err(reason.clone()), Err(reason))
            } else {
                (Ok((d_sigma / det, -sigma / det)), Ok((-d_alpha / det, alpha / det)))
            }
        }
        Prediction::Data => {
            let noise = if sigma == 0.0 { Err(sigma_zero()) } else { Ok((1.0 / sigma, -alpha / sigma)) };
            (Ok((0.0, 1.0)), noise)
        }
        Prediction::Noise => {
            let data = if alpha == 0.0 { Err(alpha_zero()) } else { Ok((1.0 / alpha, -sigma / alpha)) };
            (data, Ok((0.0, 1.0)))
        }
        Prediction::Score => {
            let data = if alpha == 0.0 { Err(alpha_zero()) } else { Ok((1.0 / alpha, sigma * sigma / alpha)) };
            (data, Ok((0.0, -sigma)))
        }
    };
    let (a, b) = match to {
        Prediction::Data => data?,
        Prediction::Noise => noise?,
        Prediction::Velocity => {
            let (d, n) = (data?, noise?);
            (d_alpha * d.0 + d_sigma * n.0, d_alpha * d.1 + d_sigma * n.1)
        }
        Prediction::Score => {
            let n = noise?;
            (-n.0 / sigma, -n.1 / sigma)
        }
    };
    if !(a.is_finite() && b.is_finite()) {
        return Err(format!(
            "the coefficients overflow (a = {a}, b = {b}; α = {alpha}, σ = {sigma}, α̇ = {d_alpha}, σ̇ = {d_sigma}); \
             move t away from this endpoint"
        ));
    }
    Ok((a, b))
}

/// One time per row: `t` of length n, or a single time repeated n times; each checked.
fn per_row_times(t: &[f64], n: usize, what: &str) -> Result<Vec<f64>> {
    let t = if t.len() == n {
        t.to_vec()
    } else if t.len() == 1 {
        vec![t[0]; n]
    } else {
        return Err(Error::shape(
            format!("{what} (times)"),
            format!("{n} times (one per row) or a single time for all rows"),
            format!("{} times", t.len()),
        ));
    };
    for &ti in &t {
        crate::scheduler::check_time(ti)?;
    }
    Ok(t)
}

fn check_finite_slice(x: &[f64], what: &str) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(k) => Err(Error::NonFinite { what: what.to_string(), detail: format!("coordinate {k} is {}", x[k]) }),
    }
}
