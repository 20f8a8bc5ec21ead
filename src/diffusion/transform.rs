//! [`ScheduleTransform`]: sample a model trained on one scheduler as if it had been trained on another.
//!
//! ```text
//! trained on (α_t, σ_t), sampled as (ᾱ_r, σ̄_r):
//!   match the signal-to-noise ratio:   α_{t_r} / σ_{t_r} = ᾱ_r / σ̄_r          (t_r: the matched time)
//!   and the scale:                     s_r = ᾱ_r / α_{t_r} = σ̄_r / σ_{t_r} = (ᾱ_r + σ̄_r) / (α_{t_r} + σ_{t_r})
//!   then x̄_r = s_r x_{t_r} and        ū_r(x̄) = (ṡ_r / s_r) x̄ + s_r ṫ_r u_{t_r}(x̄ / s_r)
//!   with  ṫ_r = λ̄'(r) / λ'(t_r),  λ = ln(α/σ) (log-SNR),  λ' = α̇/α − σ̇/σ,   ṡ_r/s_r = σ̄̇_r/σ̄_r − (σ̇_{t_r}/σ_{t_r}) ṫ_r
//! ```
//!
//! # Why it works
//!
//! Two affine Gaussian paths with the same data and noise differ only in how
//! much signal and noise they mix at each time. A point of the second path,
//! x̄_r = ᾱ_r x₁ + σ̄_r x₀, is a rescaled point of the first, s·(α_t x₁ + σ_t x₀),
//! as soon as the two mixtures have the same ratio α_t/σ_t = ᾱ_r/σ̄_r: then
//! s = ᾱ_r/α_t = σ̄_r/σ_t. So the whole marginal path of the second scheduler is
//! the first one, re-timed (r ↦ t_r) and rescaled (x ↦ s_r x). Differentiating
//! x̄_r = s_r x_{t_r} along a trajectory gives the velocity above: a field that
//! generates the first path generates the second after this change of variables.
//! This is the model adaptation of Lipman et al. (2024, *Flow Matching Guide and
//! Code*, section on scheduler change), written here from that derivation.
//!
//! The consequence for 7.6: a Gaussian-path Flow Matching model and a diffusion
//! model on the VP path are one model in two parametrisations; the transform
//! turns one into the other without retraining, and DDIM is Euler's method on
//! the CondOT re-timing of a VP model.
//!
//! # Where it is defined
//!
//! The log-SNR λ(t) = ln(α_t/σ_t) must increase strictly in both schedulers, and
//! the target's SNR at r must lie in the range of the trained one: a VP model
//! (whose SNR starts at α_0/σ_0 ≈ 0.0066, not 0) has no matching time for CondOT's
//! r < 0.0066. At the data end (σ̄_r = 0) the log-SNR is infinite and the
//! velocity singular, as for the conversions of [`crate::path::Prediction`]:
//! samplers that never evaluate there (Euler, midpoint, DDIM) are fine.

use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::path::{check_time, validate_endpoints, Scheduler, SchedulerOutput};
use crate::points::Points;
use std::fmt;

/// The time and scale that match one time r of the target scheduler, with their derivatives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Matched {
    /// t_r, the trained scheduler's time with the same signal-to-noise ratio.
    pub t: f64,
    /// s_r = ᾱ_r / α_{t_r} = σ̄_r / σ_{t_r}.
    pub scale: f64,
    /// dt_r/dr.
    pub dt_dr: f64,
    /// (ds_r/dr) / s_r.
    pub dlog_scale_dr: f64,
}

/// A velocity field trained on one scheduler, sampled as if trained on another.
///
/// `field` is the velocity on the trained path (a [`super::Predictor`], a
/// [`crate::marginal::Marginal`], any [`VectorField`]); the transform is a
/// [`VectorField`] in the target scheduler's time r, so every solver samples it.
/// One evaluation of the transform costs one evaluation of `field`.
pub struct ScheduleTransform<'f> {
    field: Box<dyn VectorField + 'f>,
    trained: Box<dyn Scheduler>,
    target: Box<dyn Scheduler>,
}

impl<'f> ScheduleTransform<'f> {
    /// `field`, trained on the path of `trained_on`, seen on the path of `sample_as`.
    ///
    /// Errors: [`Error::InvalidParameter`] when a scheduler misses its endpoints.
    pub fn new(
        field: impl VectorField + 'f,
        trained_on: impl Scheduler + 'static,
        sample_as: impl Scheduler + 'static,
    ) -> Result<Self> {
        validate_endpoints(&trained_on)?;
        validate_endpoints(&sample_as)?;
        Ok(ScheduleTransform { field: Box::new(field), trained: Box::new(trained_on), target: Box::new(sample_as) })
    }

    /// The trained scheduler's time, the scale and their derivatives that match the target's time r.
    ///
    /// Errors: [`Error::NonFinite`]/[`Error::InvalidParameter`] for a bad r (as
    /// [`Scheduler::eval_checked`]); [`Error::InvalidParameter`] when r is at the
    /// data end (σ̄_r = 0, infinite log-SNR), or when the target's SNR at r lies
    /// outside the trained scheduler's range.
    pub fn matched(&self, r: f64) -> Result<Matched> {
        check_time(r)?;
        let c = self.target.eval(r);
        if c.sigma <= 0.0 {
            return Err(Error::invalid(
                format!("time r = {r} for a schedule transform"),
                "the target path has reached the data here (σ̄_r = 0, infinite signal-to-noise ratio), where the \
                 transformed velocity is singular; use a sampler that stops short of r = 1 or evaluates only \
                 before it (Euler, midpoint)",
            ));
        }
        let t = self.match_log_snr(log_snr(&c), r)?;
        let m = self.trained.eval_checked(t)?;
        let dt_dr = d_log_snr(&c) / d_log_snr(&m);
        // Both ratios are equal at a matched point; divide by the larger pair for precision.
        let scale = (c.alpha + c.sigma) / (m.alpha + m.sigma);
        let dlog_scale_dr = if c.sigma >= c.alpha {
            c.d_sigma / c.sigma - (m.d_sigma / m.sigma) * dt_dr
        } else {
            c.d_alpha / c.alpha - (m.d_alpha / m.alpha) * dt_dr
        };
        let out = Matched { t, scale, dt_dr, dlog_scale_dr };
        if !(scale.is_finite() && dt_dr.is_finite() && dlog_scale_dr.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("the schedule transform at r = {r}"),
                detail: format!("{out:?}; one of the schedulers is singular at the matched times, move r away"),
            });
        }
        Ok(out)
    }

    /// The trained time t with ln(α_t/σ_t) = `target`, by bisection (λ increases with t).
    fn match_log_snr(&self, target: f64, r: f64) -> Result<f64> {
        let lambda = |t: f64| log_snr(&self.trained.eval(t));
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        let (l0, l1) = (lambda(lo), lambda(hi));
        if !(l0 <= target && target <= l1) {
            return Err(Error::invalid(
                format!("time r = {r} for a schedule transform"),
                format!(
                    "the target {} has log-SNR ln(ᾱ/σ̄) = {target:.4} here, outside the range [{l0:.4}, {l1:.4}] of \
                     the trained {}; no time of the trained path matches it. Start the target grid later \
                     (e.g. a VP-trained model has no match for the first CondOT times, whose SNR is below its α_0/σ_0)",
                    self.target.name(),
                    self.trained.name()
                ),
            ));
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if lambda(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    }

    /// The transformed velocity at one time r for all rows.
    fn eval_same(&self, x: &Points, r: f64, out: &mut Points) -> Result<()> {
        let m = self.matched(r)?;
        let inner = (1.0 / m.scale) * x;
        self.field.eval_into(&inner, Time::Same(m.t), out)?;
        for (o, xi) in out.as_mut_slice().iter_mut().zip(x.as_slice()) {
            *o = m.dlog_scale_dr * xi + m.scale * m.dt_dr * *o;
        }
        Ok(())
    }
}

/// ln(α/σ), +∞ where σ = 0 and −∞ where α = 0.
fn log_snr(c: &SchedulerOutput) -> f64 {
    c.alpha.ln() - c.sigma.ln()
}

/// dλ/dt = α̇/α − σ̇/σ.
fn d_log_snr(c: &SchedulerOutput) -> f64 {
    c.d_alpha / c.alpha - c.d_sigma / c.sigma
}

impl VectorField for ScheduleTransform<'_> {
    /// ū_r(x̄) = (ṡ_r/s_r) x̄ + s_r ṫ_r u_{t_r}(x̄/s_r), at one r for all rows or one per row.
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        match t.rows(x.len(), "a schedule transform")? {
            Time::Same(r) => self.eval_same(x, r, out),
            Time::PerRow(rs) => {
                for (i, &r) in rs.iter().enumerate() {
                    let mut row = Points::zeros(1, x.dim());
                    self.eval_same(&x.select(&[i]), r, &mut row)?;
                    out.row_mut(i).copy_from_slice(row.as_slice());
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for ScheduleTransform<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScheduleTransform(trained on {}, sampled as {})", self.trained.name(), self.target.name())
    }
}
