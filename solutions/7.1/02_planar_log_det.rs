//! Exercise 7.1.2 · 10 points: the log-determinant of a planar layer.
//!
//! A planar layer moves every point along one direction u by an amount that
//! depends on which side of a hyperplane it lies:
//!
//! ```text
//! f(z) = z + u·tanh(wᵀz + b)
//! ```
//!
//! A flow needs log |det ∂f/∂z| at every point. Work out the Jacobian of f and
//! its determinant in any dimension d (the answer needs no d × d matrix).
//!
//! Grade it: `cargo run --release --bin course -- grade planar_log_det`.

/// log |det ∂f/∂z| of f(z) = z + u·tanh(wᵀz + b) at `z`; `z`, `u` and `w` have the same length d ≥ 1.
/// Take u as given (uᵀw may be below −1 here: the determinant can then be negative).
pub fn planar_log_det(z: &[f64], u: &[f64], w: &[f64], b: f64) -> f64 {
    // BEGIN SOLUTION
    // ∂f/∂z = I + u ψᵀ with ψ = tanh'(wᵀz + b) w, and det(I + u ψᵀ) = 1 + ψᵀu.
    let a: f64 = w.iter().zip(z).map(|(wi, zi)| wi * zi).sum::<f64>() + b;
    let slope = 1.0 - a.tanh().powi(2);
    let u_dot_w: f64 = u.iter().zip(w).map(|(ui, wi)| ui * wi).sum();
    // The determinant may be negative when uᵀw < −1: the log of its absolute value.
    (1.0 + slope * u_dot_w).abs().ln()
    // END SOLUTION
}
