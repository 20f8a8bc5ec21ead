//! Exercise 7.3.2 · 10 points: the CondOT target velocity.
//!
//! Conditional Flow Matching trains the network to predict how fast, and in
//! which direction, a point on the conditional path is moving. For the
//! straight-line path x_t = t·x1 + (1 − t)·x0 of exercise 7.3.1 that velocity is
//! the regression target of the CFM loss.
//!
//! Grade it: `cargo run --release --bin course -- grade condot_velocity`.

/// The velocity u_t(x_t | x0, x1) = d/dt x_t of the point on the CondOT path from `x0` to `x1` at time `t`:
///
/// ```text
/// u_t(x_t | x0, x1) = d/dt (t·x1 + (1 − t)·x0)
/// ```
///
/// Work out the derivative on paper first. Return one number per coordinate,
/// for any dimension and every t in [0, 1], t = 1 included. Example: for
/// x0 = (0, 0), x1 = (2, 2) and t = 0.25 the velocity is (2, 2).
pub fn condot_velocity(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64> {
    todo!()
}
