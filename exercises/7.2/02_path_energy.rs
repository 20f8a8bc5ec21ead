//! Exercise 7.2.2 · 10 points: the path energy of a set of trajectories.
//!
//! The energy of a path is ∫ ‖ẋ_t‖² dt: how fast, squared, for how long. Optimal
//! transport moves mass with the least of it, so comparing a flow's path energy
//! with W2² says how far from optimal its paths are.
//!
//! Grade it: `cargo run --release --bin course -- grade path_energy`.

use flowmatch::Points;

/// The mean path energy of n particles stored at `times[k]` in `states[k]` (each n × d),
/// taking each particle to move in a straight line at constant speed between two stored times.
///
/// `times` increase strictly and may be unevenly spaced; `states.len() == times.len() ≥ 2`.
/// Example: one particle that moves from (0, 0) at t = 0 to (3, 4) at t = 1 has energy 25.
pub fn path_energy(states: &[Points], times: &[f64]) -> f64 {
    todo!()
}
