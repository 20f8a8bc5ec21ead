//! Exercise 7.3.3 · 10 points: the velocity of a Gaussian conditional path.
//!
//! A Gaussian path conditioned on a data point z moves the noise x0 to
//! x = α_t·z + β_t·x0, with α going from 0 to 1 and β from 1 to 0 (the
//! library's schedulers call β "σ"). Its velocity is dx/dt = α̇_t·z + β̇_t·x0,
//! but a model only sees x, not x0. Solving x = α·z + β·x0 for x0 and
//! substituting gives the velocity at any point x:
//!
//! ```text
//! u_t(x | z) = (α̇ − (β̇/β)·α)·z + (β̇/β)·x          (β > 0)
//! ```
//!
//! Grade it: `cargo run --release --bin course -- grade gaussian_velocity`.

/// The conditional velocity u_t(x | z) = (α̇ − (β̇/β)·α)·z + (β̇/β)·x, coordinate by coordinate.
///
/// `alpha`, `beta`, `d_alpha` and `d_beta` are α_t, β_t, α̇_t and β̇_t at the
/// time of interest (β_t > 0); `x` and `z` have the same length. For CondOT
/// (α = t, β = 1 − t, α̇ = 1, β̇ = −1) the result must simplify to
/// (z − x)/(1 − t); check that on paper too.
pub fn gaussian_velocity(x: &[f64], z: &[f64], alpha: f64, beta: f64, d_alpha: f64, d_beta: f64) -> Vec<f64> {
    todo!()
}
