//! Exercise 7.4.6 · 10 points: generating samples with Euler steps.
//!
//! A trained flow model turns noise into data by solving dx/dt = u_t(x) from
//! t = 0 to t = 1. With K equal Euler steps, h = 1/K and step k starts at
//! t_k = k·h:
//!
//! ```text
//! x ← x + h·u_{t_k}(x),    k = 0, 1, …, K − 1
//! ```
//!
//! Grade it: `cargo run --release --bin course -- grade sample_euler`.

use flowmatch::{Points, VectorField};

/// Moves the starting points `x0` (noise, one per row) from t = 0 to t = 1 with `steps` Euler steps.
///
/// Takes exactly `steps` steps (≥ 1) of size h = 1/steps; step k uses the
/// velocity at its start time k·h. Returns the points at t = 1 (the samples).
/// Use `field.eval(&x, t)` (a `Result<Points>`; `.expect(…)` it) and
/// `Points::add_scaled(a, &other)`, which does `self += a·other`.
pub fn sample_euler(field: &dyn VectorField, x0: &Points, steps: usize) -> Points {
    todo!()
}
