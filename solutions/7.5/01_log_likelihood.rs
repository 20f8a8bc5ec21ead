//! Exercise 7.5.1 · 20 points: the log-likelihood by the backward ODE.
//!
//! A flow moves noise x₀ ~ p₀ (at t = 0) to data (at t = 1) along dx/dt = v(x, t), and
//! along every path the log-density changes at the rate
//!
//! ```text
//! d/dt log p_t(x_t) = −∇·v(x_t, t)
//! ```
//!
//! Given data points x₁, compute log p₁(x₁). You know p₀ in closed form and nothing at
//! t = 1 except the field. Use `steps` = K equal Euler steps of length h = 1/K, each one
//! reading the field at the start of its step; work out for yourself which way to go, where
//! to evaluate log p₀, and the sign of the divergence term.
//!
//! Grade it: `cargo run --release --bin course -- grade log_likelihood`.

use flowmatch::likelihood::Divergence;
use flowmatch::Points;

/// log p₁(x) for every point (row) of `x1`, with `steps` Euler steps of the ODE.
///
/// `field.divergence(&x, t)` returns `(v, div)`: the velocities v(x_i, t) and the divergences
/// ∇·v(x_i, t), one per point (`.expect(…)` the `Result`); `log_p0(&x)` gives log p₀ of every
/// row of `x`. `Points::plus_scaled` and `Points::add_scaled` move points.
pub fn log_likelihood(
    field: &dyn Divergence,
    log_p0: &dyn Fn(&Points) -> Vec<f64>,
    x1: &Points,
    steps: usize,
) -> Vec<f64> {
    // BEGIN SOLUTION
    // Only p₀ is known, so walk from the data (t = 1) back to the noise (t = 0) ...
    let h = 1.0 / steps as f64;
    let mut x = x1.clone();
    let mut integral = vec![0.0; x1.len()];
    for k in 0..steps {
        let t = 1.0 - k as f64 * h;
        let (v, div) = field.divergence(&x, t).expect("points of the field's dimension");
        x.add_scaled(-h, &v);
        for (acc, d) in integral.iter_mut().zip(div) {
            *acc += h * d;
        }
    }
    // ... where log p₁(x₁) = log p₀(x₀) − ∫₀¹ ∇·v dt.
    log_p0(&x).iter().zip(&integral).map(|(lp, i)| lp - i).collect()
    // END SOLUTION
}
