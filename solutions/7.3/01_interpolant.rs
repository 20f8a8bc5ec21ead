//! Exercise 7.3.1 · 10 points: the CondOT interpolant.
//!
//! Flow Matching moves a noise point x0 to a data point x1 along a path. On
//! the conditional optimal-transport (CondOT) path the point travels in a
//! straight line at constant speed, leaving x0 at t = 0 and arriving at x1 at
//! t = 1.
//!
//! Grade it: `cargo run --release --bin course -- grade interpolant`.

/// The point at time `t` on the straight line from the noise `x0` to the data point `x1`:
///
/// ```text
/// x_t = t·x1 + (1 − t)·x0        (coordinate by coordinate)
/// ```
///
/// `x0` and `x1` have the same length d (any d ≥ 1); return d numbers. At
/// t = 0 the answer is x0, at t = 1 it is x1. Example: x0 = (0, 0),
/// x1 = (2, 2) and t = 0.25 give (0.5, 0.5).
pub fn interpolant(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64> {
    // BEGIN SOLUTION
    // Each coordinate is a weighted average of the two points: weight t on the
    // data, 1 − t on the noise, so the weights always add up to one.
    x0.iter().zip(x1).map(|(a, b)| t * b + (1.0 - t) * a).collect()
    // END SOLUTION
}
