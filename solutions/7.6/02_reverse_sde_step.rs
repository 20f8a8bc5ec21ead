//! Exercise 7.6.2 · 10 points: one step of the reverse SDE.
//!
//! In Flow Matching time (noise at t = 0, data at t = 1) the VP reverse SDE reads
//!
//! ```text
//! dx = [½·β·x + β·∇log p_t(x)] dt + √β dW,        β = β(1 − t)
//! ```
//!
//! Euler–Maruyama takes one step of length h from (x, t) with drift and noise
//! level frozen at the start, and a standard normal draw z for the Brownian motion.
//!
//! Grade it: `cargo run --release --bin course -- grade reverse_sde_step`.

use flowmatch::diffusion::VpSde;

/// One Euler–Maruyama step of length `h` from the point `x` at time `t`, given the score
/// s = ∇log p_t(x) (`score`) and a standard normal draw `z` (one entry per coordinate).
/// `sde.beta(s)` is β at **diffusion** time s; `sde.beta_at(t)` reads it at our time t.
pub fn reverse_sde_step(x: &[f64], score: &[f64], t: f64, h: f64, z: &[f64], sde: &VpSde) -> Vec<f64> {
    // BEGIN SOLUTION
    // β at diffusion time 1 − t; the drift moves by h, the Brownian increment by √h.
    let beta = sde.beta_at(t);
    x.iter()
        .zip(score)
        .zip(z)
        .map(|((xi, si), zi)| xi + h * (0.5 * beta * xi + beta * si) + (beta * h).sqrt() * zi)
        .collect()
    // END SOLUTION
}
