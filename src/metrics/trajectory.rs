//! Statistics of trajectories t ↦ x_t stored at grid times, and of pairings: kinetic (path)
//! energy, straightness, normalised path energy and crossings.
//!
//! ```text
//! KE = PE = E[∫ ‖ẋ_t‖² dt],        S = E[∫ ‖(x_{t_K} − x_{t_0})/(t_K − t_0) − ẋ_t‖² dt]        (by finite differences)
//! NPE = |PE − W2²(p₀, p₁)| / W2²(p₀, p₁)
//! crossings = #{ i < j : segment x₀ᵢ → x₁ᵢ meets segment x₀ⱼ → x₁ⱼ }
//! ```

use super::w2_squared;
use crate::error::{Error, Result};
use crate::numeric::sq_dist;
use crate::points::Points;

/// Mean kinetic energy of a trajectory, `E[∫ ‖ẋ_t‖² dt]`, by finite differences: the
/// *path energy* PE of Tong et al. (2024).
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

/// Normalised path energy (Tong et al. 2024), exactly as TorchCFM's two-dimensional
/// benchmark (`shared/bench/torchcfm_2d.py`) computes it:
///
/// `NPE = |PE − W2²(x₀, y)| / W2²(x₀, y)`
///
/// where PE is [`kinetic_energy`] of `trajectory` (for an Euler solve with n steps
/// this is `(1/N) Σᵢ Σₖ ‖v(xₖᵢ, tₖ)‖² / n`, the benchmark's sum, since each step
/// moves by v/n), x₀ = `trajectory[0]` are the starting points and `target` a
/// fresh sample of the target of the same size; W2² is exact ([`w2_squared`]).
/// Optimal transport has the least path energy of all flows between the two
/// distributions, W2², so NPE = 0 for the OT flow; the straighter and less
/// tangled the learned flow, the smaller NPE. (Read it with care near 0: PE of a
/// flow that misses the target can fall below W2².)
///
/// Errors: as for [`kinetic_energy`] and [`w2_squared`]; a target equal to the
/// starting points (W2² = 0) gives [`Error::InvalidParameter`].
pub fn normalized_path_energy(trajectory: &[Points], times: &[f64], target: &Points) -> Result<f64> {
    let pe = kinetic_energy(trajectory, times)?;
    let ot = w2_squared(&trajectory[0], target)?;
    if ot <= 0.0 {
        return Err(Error::invalid(
            "target of normalized_path_energy",
            "W2²(start, target) is 0, so the energy cannot be normalised; pass a fresh sample of the target",
        ));
    }
    Ok((pe - ot).abs() / ot)
}

/// Largest pairing [`crossings`] accepts (it compares every pair of segments).
pub const CROSSINGS_MAX_POINTS: usize = 20_000;

/// How many pairs of the straight segments x₀ᵢ → x₁ᵢ cross each other (two-dimensional points).
///
/// Row i of `x0` is joined to row i of `x1`. Two segments count when they meet
/// at a point inside both (touching end points and collinear overlaps are not
/// counted). An optimal pairing under squared distance crosses far less than an
/// independent one, but not never: it only guarantees ⟨x₀ᵢ − x₀ⱼ, x₁ᵢ − x₁ⱼ⟩ ≥ 0
/// for every two pairs (swapping their partners cannot help), so two particles
/// moving along its straight lines at constant speed never meet *at the same
/// time*, though one may pass where another has been. O(n²) time.
///
/// Errors: shapes that differ, points that are not 2-D, NaN/inf, more than [`CROSSINGS_MAX_POINTS`].
pub fn crossings(x0: &Points, x1: &Points) -> Result<usize> {
    x0.check_same_shape(x1, "crossings (one end point per start point)")?;
    if x0.dim() != 2 {
        return Err(Error::shape(
            "crossings (segments in the plane)",
            "points of dimension 2",
            format!("dimension {}", x0.dim()),
        ));
    }
    x0.check_finite("the start points given to crossings")?;
    x1.check_finite("the end points given to crossings")?;
    let n = x0.len();
    if n > CROSSINGS_MAX_POINTS {
        return Err(Error::SizeLimit {
            what: "segments given to crossings".into(),
            size: n,
            limit: CROSSINGS_MAX_POINTS,
            hint: "Count the crossings of a subset, e.g. x0.head(1000) and x1.head(1000)".into(),
        });
    }
    let orient = |a: &[f64], b: &[f64], c: &[f64]| (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    let mut count = 0;
    for i in 0..n {
        let (a, b) = (x0.row(i), x1.row(i));
        // Bounding boxes first: most pairs are far apart.
        let (ax0, ax1) = (a[0].min(b[0]), a[0].max(b[0]));
        let (ay0, ay1) = (a[1].min(b[1]), a[1].max(b[1]));
        for j in i + 1..n {
            let (c, d) = (x0.row(j), x1.row(j));
            if c[0].max(d[0]) < ax0 || c[0].min(d[0]) > ax1 || c[1].max(d[1]) < ay0 || c[1].min(d[1]) > ay1 {
                continue;
            }
            let (o1, o2) = (orient(a, b, c), orient(a, b, d));
            let (o3, o4) = (orient(c, d, a), orient(c, d, b));
            if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
                count += 1;
            }
        }
    }
    Ok(count)
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
