//! [`Prediction`]: four ways to say the same thing on an affine path, and the
//! conversions between them.
//!
//! ```text
//! x_t = α_t x̂₁ + σ_t x̂₀,   v = α̇_t x̂₁ + σ̇_t x̂₀,   s = −x̂₀ / σ_t          (D = α_t σ̇_t − σ_t α̇_t)
//! ```

use super::affine::{checked_times, AffinePath};
use super::scheduler::{Scheduler, SchedulerOutput};
use crate::error::{Error, Result};
use crate::field::Time;
use crate::numeric::check_finite_input;
use crate::points::Points;
use std::fmt;

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

/// Coefficients (a, b) of `a · x_t + b · value`, or why they do not exist.
type Coef = std::result::Result<(f64, f64), String>;

impl<S: Scheduler> AffinePath<S> {
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
    pub fn convert<'t>(
        &self,
        x_t: &Points,
        t: impl Into<Time<'t>>,
        value: &Points,
        from: Prediction,
        to: Prediction,
    ) -> Result<Points> {
        self.convert_impl(x_t, t.into(), value, from, to, "AffinePath::convert")
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
        check_finite_input("x_t in AffinePath::convert_point", x_t)?;
        check_finite_input("value in AffinePath::convert_point", value)?;
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
        let c = self.scheduler().eval_checked(t)?;
        coefficients(&c, from, to)
            .map_err(|reason| Error::invalid(format!("conversion from {from} to {to} at t = {t}"), reason))
    }

    pub(super) fn convert_impl(
        &self,
        x_t: &Points,
        t: Time<'_>,
        value: &Points,
        from: Prediction,
        to: Prediction,
        what: &str,
    ) -> Result<Points> {
        x_t.check_same_shape(value, &format!("{what} (x_t and the {from})"))?;
        x_t.check_finite(&format!("x_t in {what}"))?;
        value.check_finite(&format!("the {from} in {what}"))?;
        let t = checked_times(t, x_t.len(), what)?;
        let mut out = value.clone();
        for (i, &ti) in t.iter().enumerate() {
            let c = self.scheduler().eval_checked(ti)?;
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
