//! Exercise 7.3.4 · 10 points: the marginal velocity of a finite data set.
//!
//! Take the data set to be N points z_1, …, z_N, each with weight 1/N, and the
//! CondOT path: the conditional path towards z_i is N(t·z_i, (1 − t)² I) and
//! its velocity at x is (z_i − x)/(1 − t). The marginal velocity at (x, t) is
//! the average of these conditional velocities, weighted by the posterior
//! probability that x, seen at time t, is on its way to z_i.
//!
//! It must stay finite everywhere the checker looks: at t = 0, close to t = 1
//! (t = 0.999), and far from the data, where every Gaussian likelihood is far
//! below the smallest positive `f64`.
//!
//! Grade it: `cargo run --release --bin course -- grade marginal_velocity`.

use flowmatch::Points;

/// The marginal velocity u_t(x) of the CondOT path for the data points in the
/// rows of `data` (equal weights), at one point `x` and a time 0 ≤ t < 1.
pub fn marginal_velocity(x: &[f64], data: &Points, t: f64) -> Vec<f64> {
    todo!()
}
