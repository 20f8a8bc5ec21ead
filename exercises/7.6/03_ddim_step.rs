//! Exercise 7.6.3 · 10 points: one DDIM step.
//!
//! DDIM takes the model's noise prediction ε̂ at (x, t) at its word: x is a mix
//! α_t·x̂₁ + σ_t·ε̂ of some clean point x̂₁ and that noise. A step moves to the
//! point of the path through the same x̂₁ and ε̂ at the next time t', whose
//! weights are α' = α_{t'} and σ' = σ_{t'}.
//!
//! Grade it: `cargo run --release --bin course -- grade ddim_step`.

/// One deterministic DDIM step from `x` (weights `alpha` > 0, `sigma`) to the next time
/// (weights `alpha_next`, `sigma_next`), given the noise prediction `eps`.
pub fn ddim_step(x: &[f64], eps: &[f64], alpha: f64, sigma: f64, alpha_next: f64, sigma_next: f64) -> Vec<f64> {
    todo!()
}
