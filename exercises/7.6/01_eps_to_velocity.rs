//! Exercise 7.6.1 · 10 points: a noise prediction read as a velocity.
//!
//! A diffusion model predicts the noise ε̂ in x = α_t·x₁ + σ_t·ε. On the same
//! Gaussian path that prediction also fixes the data point x̂₁ it came from,
//! and so the velocity of the path through (x̂₁, ε̂): the quantity a Flow
//! Matching model predicts. Find it from x, ε̂ and the scheduler's values.
//!
//! Grade it: `cargo run --release --bin course -- grade eps_to_velocity`.

/// The velocity v at the point `x` (one coordinate per entry) implied by the noise
/// prediction `eps`, on the path with α_t = `alpha` > 0, σ_t = `sigma`, α̇_t = `d_alpha`,
/// σ̇_t = `d_sigma`. Check your formula on CondOT (α = t, σ = 1 − t): there
/// v must be x̂₁ − ε̂.
pub fn eps_to_velocity(x: &[f64], eps: &[f64], alpha: f64, sigma: f64, d_alpha: f64, d_sigma: f64) -> Vec<f64> {
    todo!()
}
