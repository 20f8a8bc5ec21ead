//! Statistics of trajectories t ↦ x_t stored at grid times: kinetic energy and straightness.
//!
//! ```text
//! KE = E[∫ ‖ẋ_t‖² dt],        S = E[∫ ‖(x_{t_K} − x_{t_0})/(t_K − t_0) − ẋ_t‖² dt]        (by finite differences)
//! ```

use crate::error::{Error, Result};
use crate::numeric::sq_dist;
use crate::points::Points;

/// Mean kinetic energy of a trajectory, `E[∫ ‖ẋ_t‖² dt]`, by finite differences.
///
/// `trajectory[k]` holds the `n` particles at time `times[k]`. On each interval
/// the velocity is `v_k = (x_{k+1} − x_k) / (t_{k+1} − t_k)`, so
///
/// `KE = (1/n) Σ_i Σ_k ‖x_{k+1,i} − x_{k,i}‖² / |t_{k+1} − t_k|`,
///
/// which is exact for piecewise-linear paths: `x_t = x_0 + t·d` on `[0, 1]`
/// gives `‖d‖²`. Times may increase or decrease (backward integration), but
/// strictly.
///
/// Errors: fewer than 2 states or a non-monotone/non-finite time grid
/// ([`Error::TimeGrid`]), `times.len() ≠ trajectory.len()` or states of
/// different shapes ([`Error::ShapeMismatch`]), no particles, NaN/inf states.
pub fn kinetic_energy(trajectory: &[Points], times: &[f64]) -> Result<f64> {
    let n = check_trajectory(trajectory, times, "kinetic_energy")?;
    let mut total = 0.0;
    for (k, w) in trajectory.windows(2).enumerate() {
        let dt = (times[k + 1] - times[k]).abs();
        total += sq_dist(w[1].as_slice(), w[0].as_slice()) / dt;
    }
    Ok(total / n as f64)
}

/// Straightness of a trajectory (Liu et al., rectified flow), by finite differences:
///
/// `S = E[ ∫ ‖ v̄ − ẋ_t ‖² dt ]`, with `v̄ = (x_{t_K} − x_{t_0}) / (t_K − t_0)`,
///
/// computed as `(1/n) Σ_i Σ_k |t_{k+1} − t_k| ‖v̄_i − v_{k,i}‖²` with
/// `v_k = (x_{k+1} − x_k) / (t_{k+1} − t_k)`. On `t ∈ [0, 1]`, `v̄ = x_1 − x_0`
/// and this is exactly `S = E[∫₀¹ ‖(x_1 − x_0) − ẋ_t‖² dt]`.
///
/// `S = 0` exactly when every particle moves on a straight line at constant
/// speed (then one Euler step is exact); since `Σ_k Δt_k v_k = (t_K − t_0) v̄`,
/// also `S = KE − E‖x_{t_K} − x_{t_0}‖² / |t_K − t_0|`. For a quarter circle
/// of radius 1 on `[0, 1]`, `S = π²/4 − 2`. Inputs and errors as for
/// [`kinetic_energy`].
pub fn straightness(trajectory: &[Points], times: &[f64]) -> Result<f64> {
    let n = check_trajectory(trajectory, times, "straightness")?;
    let last = trajectory.len() - 1;
    let span = times[last] - times[0];
    let (first, end) = (trajectory[0].as_slice(), trajectory[last].as_slice());
    let mut total = 0.0;
    for (k, w) in trajectory.windows(2).enumerate() {
        let dt = times[k + 1] - times[k];
        let mut s = 0.0;
        for (((p0, p1), q0), q1) in w[0].as_slice().iter().zip(w[1].as_slice()).zip(first).zip(end) {
            let diff = (q1 - q0) / span - (p1 - p0) / dt;
            s += diff * diff;
        }
        total += dt.abs() * s;
    }
    Ok(total / n as f64)
}

/// Validates a trajectory and returns its number of particles.
fn check_trajectory(trajectory: &[Points], times: &[f64], func: &str) -> Result<usize> {
    if trajectory.len() != times.len() {
        return Err(Error::shape(
            format!("{func} (one time per stored state)"),
            format!("{} times for {} states", trajectory.len(), trajectory.len()),
            format!("{} times", times.len()),
        ));
    }
    if times.len() < 2 {
        return Err(Error::TimeGrid {
            reason: format!("{func} got {} state(s); a trajectory needs at least two", times.len()),
        });
    }
    if let Some(k) = times.iter().position(|t| !t.is_finite()) {
        return Err(Error::TimeGrid { reason: format!("time {k} given to {func} is {}", times[k]) });
    }
    let increasing = times[1] > times[0];
    if let Some(k) = times.windows(2).position(|w| if increasing { w[1] <= w[0] } else { w[1] >= w[0] }) {
        return Err(Error::TimeGrid {
            reason: format!(
                "times {k} and {} given to {func} are {} and {}, which breaks strict monotonicity",
                k + 1,
                times[k],
                times[k + 1]
            ),
        });
    }
    let first = &trajectory[0];
    if first.is_empty() {
        return Err(Error::ZeroCount { what: format!("the number of particles in the trajectory given to {func}") });
    }
    for (k, state) in trajectory.iter().enumerate() {
        first.check_same_shape(
            state,
            &format!("state {k} of the trajectory given to {func} (state 0 sets the shape)"),
        )?;
        state.check_finite(&format!("state {k} of the trajectory given to {func}"))?;
    }
    Ok(first.len())
}
