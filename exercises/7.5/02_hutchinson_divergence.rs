//! Exercise 7.5.2 · 10 points: Hutchinson's estimate of the divergence.
//!
//! The divergence ∇·v = tr J (J = ∂v/∂x, the Jacobian of the field in x) costs d
//! Jacobian-vector products J e_a, one per coordinate. Hutchinson's idea: a random probe ε
//! with E\[ε\] = 0 and E[ε εᵀ] = I turns the trace into an expectation, so one product J ε per
//! probe gives an unbiased estimate whatever d is. Find the number, built from ε and J ε,
//! whose expected value is tr J (write it in coordinates and use E[ε_a ε_b] = 1 if a = b,
//! else 0). With k probes, average their k numbers.
//!
//! The probes come in as an argument instead of being drawn inside: a likelihood solve
//! draws them once and keeps them for the whole path (the notebook says why).
//!
//! Grade it: `cargo run --release --bin course -- grade hutchinson_divergence`.

use flowmatch::likelihood::Divergence;
use flowmatch::Points;

/// Hutchinson's estimate of ∇·v(x_i, t) for every point (row) of `x`, from the given probes.
///
/// `field.jvp(x, t, probes)` returns `(v, jv)`: the velocities and, for every probe ε_j, the
/// products J ε_j (each the shape of `x`; `.expect(…)` the `Result`). Return one number per point.
pub fn hutchinson_divergence(field: &dyn Divergence, x: &Points, t: f64, probes: &[Points]) -> Vec<f64> {
    todo!()
}
