//! Exercise 7.4.4 · 10 points: one Euler step.
//!
//! Sampling a flow model means solving the ODE dx/dt = u_t(x). Euler's method
//! assumes the velocity stays what it is at the start of a step of length h:
//!
//! ```text
//! x(t + h) ≈ x + h·u_t(x)
//! ```
//!
//! Grade it: `cargo run --release --bin course -- grade euler_step`.

use flowmatch::{Points, VectorField};

/// One Euler step of length `h` from time `t` for every point (row) of `x`: returns x + h·u_t(x).
///
/// `field.eval(x, t)` returns the velocities of the whole batch (a
/// `Result<Points>`; it cannot fail for a valid batch, so `.expect(…)` it).
/// `Points::plus_scaled(a, &other)` returns `self + a·other`.
pub fn euler_step(field: &dyn VectorField, x: &Points, t: f64, h: f64) -> Points {
    todo!()
}
