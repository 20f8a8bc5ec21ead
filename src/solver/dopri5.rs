//! Adaptive Dormand–Prince 5(4): an embedded 4th-order solution estimates the local error,
//! and the step size follows it.
//!
//! ```text
//! x̂ = x + h Σ b_i k_i (order 5),   e = h Σ (b_i − b̂_i) k_i,   accept when ‖e‖ ≤ 1 (mixed norm),
//! h ← h · clamp(0.9 · ‖e‖^{−1/5}, 0.2, 10);   first same as last: an accepted step costs 6 evaluations
//! ```

use super::rk::{combine, first_non_finite, rk_stages};
use super::{Dopri5Options, Recorder, Stats, TimeGrid};
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::points::Points;

/// Stage times of Dormand–Prince 5(4) (stage 7 is at `t + h`, the FSAL stage).
const DP_C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];

/// Stage coefficients `a_ij` of Dormand–Prince 5(4); row 6 doubles as the 5th-order weights `b`.
const DP_A: [&[f64]; 7] = [
    &[],
    &[1.0 / 5.0],
    &[3.0 / 40.0, 9.0 / 40.0],
    &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
    &[19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0],
    &[9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0],
    &[35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
];

/// Error weights `e_i = b_i − b̂_i` (5th minus embedded 4th order), over all 7 stages.
const DP_E: [f64; 7] =
    [71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0];

/// Safety factor of the step-size controller.
const SAFETY: f64 = 0.9;
/// Largest shrink and growth of the step in one go.
const MIN_FACTOR: f64 = 0.2;
const MAX_FACTOR: f64 = 10.0;

/// Dormand–Prince 5(4) from grid time to grid time with adaptive substeps.
///
/// One attempt from `(t, x)` with step `h` (after FSAL, `k₁` is already known):
/// `k₂ … k₆` as in the tableau, `x̂ = x + h Σ b_i k_i`, `k₇ = u(x̂, t + h)`,
/// local error `e = h Σ e_i k_i`. Accept when `err ≤ 1` (norm in
/// [`Dopri5Options`]); the next step is `h·clamp(0.9·err^{−1/5}, 0.2, 10)`
/// (not growing right after a rejection). On acceptance `k₇` becomes the next
/// `k₁` (first same as last), so an accepted step costs 6 evaluations.
pub(crate) fn run<F>(
    field: &F,
    x: &mut Points,
    grid: &TimeGrid,
    opts: &Dopri5Options,
    out: &mut Recorder,
) -> Result<Stats>
where
    F: VectorField + ?Sized,
{
    let (n, d) = x.shape();
    let mut stats = Stats::default();
    let mut k: Vec<Points> = (0..7).map(|_| Points::zeros(n, d)).collect();
    let mut tmp = Points::zeros(n, d);
    let mut x_new = Points::zeros(n, d);

    let dir = if grid.is_forward() { 1.0 } else { -1.0 };
    let span = (grid.t1() - grid.t0()).abs();
    let mut t = grid.t0();

    field.eval_into(x, Time::Same(t), &mut k[0])?;
    stats.nfe += 1;
    if let Some((i, j, v)) = first_non_finite(&k[0]) {
        return Err(Error::NonFinite {
            what: "the vector field at the initial state".into(),
            detail: format!("its output for point {i}, coordinate {j} is {v} at t = {t}"),
        });
    }

    let mut h_abs = match opts.initial_step {
        Some(h) => h.min(span),
        None => {
            let (h, used) = initial_step(field, x, &k[0], t, dir, span, opts, &mut tmp, &mut x_new)?;
            stats.nfe += used;
            h
        }
    };

    let mut last_rejected = false;
    // Time of the last trial step that produced NaN/inf, cleared on acceptance.
    let mut non_finite_at: Option<f64> = None;

    for &t_out in &grid.times()[1..] {
        while t != t_out {
            let remaining = t_out - t;
            let hits_end = h_abs >= 0.99 * remaining.abs();
            let h = if hits_end { remaining } else { dir * h_abs };
            let min_step = 10.0 * f64::EPSILON * t.abs().max(span);
            if !hits_end && h_abs < min_step {
                return Err(step_too_small(t, h_abs, opts, non_finite_at));
            }
            if stats.accepted + stats.rejected >= opts.max_steps {
                return Err(Error::SolverFailed {
                    reason: format!(
                        "Dopri5 used all max_steps = {} steps (accepted {}, rejected {}) and only reached \
                         t = {t} on its way to t = {}; the field may be stiff or the tolerances \
                         (rtol = {}, atol = {}) too tight. Raise max_steps in Dopri5Options, loosen \
                         the tolerances, or use a fixed-step method",
                        opts.max_steps,
                        stats.accepted,
                        stats.rejected,
                        grid.t1(),
                        opts.rtol,
                        opts.atol
                    ),
                });
            }

            // Stages 2..6, the 5th-order solution, then the FSAL stage 7 at t + h.
            rk_stages(&DP_C, &DP_A, field, x, t, h, 1, &mut k[..6], &mut tmp)?;
            combine(&mut x_new, x, h, DP_A[6], &k[..6]);
            field.eval_into(&x_new, Time::Same(t + h), &mut k[6])?;
            stats.nfe += 6;

            let err = error_norm(x, &x_new, &k, h, opts.rtol, opts.atol, &mut tmp);
            let Some(err) = err else {
                stats.rejected += 1;
                non_finite_at = Some(t + h);
                last_rejected = true;
                h_abs = h.abs() * MIN_FACTOR;
                continue;
            };
            if err <= 1.0 {
                stats.accepted += 1;
                t = if hits_end { t_out } else { t + h };
                std::mem::swap(x, &mut x_new);
                k.swap(0, 6);
                let mut factor = if err == 0.0 { MAX_FACTOR } else { (SAFETY * err.powf(-0.2)).min(MAX_FACTOR) };
                factor = factor.max(MIN_FACTOR);
                if last_rejected {
                    factor = factor.min(1.0);
                }
                let proposed = h.abs() * factor;
                // A step shortened to land on an output time says nothing against the longer proposal.
                let clipped = hits_end && h.abs() < h_abs;
                h_abs = if clipped && factor >= 1.0 { proposed.max(h_abs) } else { proposed };
                last_rejected = false;
                non_finite_at = None;
            } else {
                stats.rejected += 1;
                last_rejected = true;
                h_abs = h.abs() * (SAFETY * err.powf(-0.2)).max(MIN_FACTOR);
            }
        }
        out.record(x);
    }
    Ok(stats)
}

/// The error after the step size fell below what f64 can resolve.
fn step_too_small(t: f64, h: f64, opts: &Dopri5Options, non_finite_at: Option<f64>) -> Error {
    match non_finite_at {
        Some(tb) => Error::NonFinite {
            what: "the ODE state".into(),
            detail: format!(
                "Dopri5 kept getting NaN/inf from the vector field on steps from t = {t} (last at t = {tb}) \
                 and shrank its step to {h:e} without escaping them; the field is not finite there"
            ),
        },
        None => Error::SolverFailed {
            reason: format!(
                "Dopri5 step size underflow at t = {t}: the step shrank to {h:e}, below what f64 can resolve. \
                 The tolerances (rtol = {}, atol = {}) are too tight for f64 or the field is singular \
                 near this time; loosen the tolerances or check the field",
                opts.rtol, opts.atol
            ),
        },
    }
}

/// Mixed error norm `√( (1/N) Σ_i ( e_i / (atol + rtol·max(|x_i|, |x̂_i|)) )² )` with `e = h Σ_j e_j k_j`.
///
/// Returns `None` when the trial step produced NaN/inf (in `x̂` or in `e`); the
/// norm itself may still be `+∞` when the scale is tiny, which just means "reject".
/// A component whose error is exactly 0 contributes 0 even when its scale is 0 (atol = 0).
fn error_norm(x: &Points, x_new: &Points, k: &[Points], h: f64, rtol: f64, atol: f64, e: &mut Points) -> Option<f64> {
    // e = h Σ_j e_j k_j, accumulated pass by pass into the scratch buffer.
    e.as_mut_slice().fill(0.0);
    for (&ej, kj) in DP_E.iter().zip(k) {
        if ej != 0.0 {
            e.add_scaled(h * ej, kj);
        }
    }
    let mut sum = 0.0;
    let mut finite = true;
    for ((&y0, &y1), &ei) in x.as_slice().iter().zip(x_new.as_slice()).zip(e.as_slice()) {
        finite &= y1.is_finite() && ei.is_finite();
        if ei != 0.0 {
            let r = ei / (atol + rtol * y0.abs().max(y1.abs()));
            sum += r * r;
        }
    }
    finite.then(|| (sum / x.as_slice().len() as f64).sqrt())
}

/// Root mean square of `v_i / s_i`, with 0/0 read as 0.
fn rms_scaled(v: impl Iterator<Item = f64>, scale: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (vi, &si) in v.zip(scale) {
        if vi != 0.0 {
            let r = vi / si;
            sum += r * r;
        }
    }
    (sum / scale.len() as f64).sqrt()
}

/// Hairer's starting step: with `s_i = atol + rtol·|x_i|`, `d₀ = ‖x/s‖`, `d₁ = ‖f₀/s‖`,
/// `h₀ = 0.01·d₀/d₁`, one Euler step gives `d₂ = ‖(f₁ − f₀)/s‖/h₀`, and
/// `h = min(100·h₀, (0.01/max(d₁, d₂))^{1/5})`, never longer than the grid. Returns `(h, evaluations used)`.
#[allow(clippy::too_many_arguments)]
fn initial_step<F: VectorField + ?Sized>(
    field: &F,
    x: &Points,
    f0: &Points,
    t: f64,
    dir: f64,
    span: f64,
    opts: &Dopri5Options,
    x1: &mut Points,
    f1: &mut Points,
) -> Result<(f64, usize)> {
    let scale: Vec<f64> = x.as_slice().iter().map(|v| opts.atol + opts.rtol * v.abs()).collect();
    let d0 = rms_scaled(x.as_slice().iter().copied(), &scale);
    let d1 = rms_scaled(f0.as_slice().iter().copied(), &scale);
    let mut h0 = if d0 < 1e-5 || d1 < 1e-5 || !(d0 / d1).is_finite() { 1e-6 } else { 0.01 * d0 / d1 };
    h0 = h0.min(span);

    combine(x1, x, dir * h0, &[1.0], std::slice::from_ref(f0));
    field.eval_into(x1, Time::Same(t + dir * h0), f1)?;
    let diff = f1.as_slice().iter().zip(f0.as_slice()).map(|(a, b)| a - b);
    let d2 = rms_scaled(diff, &scale) / h0;

    let h = if !d2.is_finite() {
        h0
    } else {
        let dm = d1.max(d2);
        let h1 = if dm <= 1e-15 { (h0 * 1e-3).max(1e-6) } else { (0.01 / dm).powf(0.2) };
        (100.0 * h0).min(h1)
    };
    let h = if h.is_finite() && h > 0.0 { h.min(span) } else { 1e-6 * span };
    Ok((h, 1))
}
