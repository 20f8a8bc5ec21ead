//! The 2-Wasserstein distance between two point sets, computed exactly.
//!
//! ```text
//! W2²(a, b) = min_π Σ_ij π_ij ‖x_i − y_j‖²  =  min_σ (1/n) Σᵢ ‖x_i − y_σ(i)‖²      (n = m)
//! ```

use crate::error::Result;
use crate::numeric::sq_dist;
use crate::ot::{centred_cost_matrix, check_pair, lap_dense, overflow, size_error};
use crate::points::Points;

/// Largest problem [`w2`] and [`w2_squared`] accept: [`crate::ot::MAX_POINTS`]
/// points on each side (after replication for unequal sizes).
pub const W2_MAX_POINTS: usize = crate::ot::MAX_POINTS;

/// The 2-Wasserstein distance between the uniform empirical distributions on `a` and `b`.
///
/// `W2(a, b) = sqrt( min_π Σ_ij π_ij ‖x_i − y_j‖² )`, the minimum over couplings `π`
/// with row sums `1/n` and column sums `1/m`. For `n = m` the optimum is a
/// permutation `σ` and `W2² = (1/n) Σ_i ‖x_i − y_σ(i)‖²`.
///
/// **Unequal sizes** are handled exactly: each point of `a` is repeated `L/n`
/// times and each point of `b` `L/m` times, `L = lcm(n, m)`, which turns the
/// problem into an `L × L` assignment with the same optimal value. This needs
/// `L ≤ W2_MAX_POINTS`, so sizes where one divides the other (1000 and 500)
/// work, while 1000 and 999 (L = 999000) do not — draw equal-size sets then.
///
/// Cost: O(L³) time in the worst case and L² f64 of memory; see
/// [`W2_MAX_POINTS`] for measured times.
///
/// Errors: an empty set ([`Error::ZeroCount`](crate::Error::ZeroCount)), different dimensions
/// ([`Error::ShapeMismatch`](crate::Error::ShapeMismatch)), NaN/inf ([`Error::NonFinite`](crate::Error::NonFinite)), a problem larger
/// than [`W2_MAX_POINTS`] ([`Error::SizeLimit`](crate::Error::SizeLimit): compare `a.head(k)` with
/// `b.head(k)`, or use [`mmd_rbf`](super::mmd_rbf) / [`energy_distance`](super::energy_distance) on large sets).
pub fn w2(a: &Points, b: &Points) -> Result<f64> {
    Ok(w2_squared(a, b)?.sqrt())
}

/// The squared 2-Wasserstein distance `W2²(a, b)`; see [`w2`] for the formula,
/// the handling of unequal sizes, cost and errors.
pub fn w2_squared(a: &Points, b: &Points) -> Result<f64> {
    check_pair(a, b, "w2")?;
    let (n, m) = (a.len(), b.len());
    let l = lcm(n, m);
    if l > W2_MAX_POINTS {
        let what = if n == m {
            format!("w2 between two sets of {n} points")
        } else {
            format!(
                "w2 between sets of {n} and {m} points (an exact plan for unequal sizes replicates \
                 points up to lcm(n, m) = {l})"
            )
        };
        return Err(size_error(what, l));
    }
    let (ka, kb) = (l / n, l / m);
    let cost = centred_cost_matrix(a, b, ka, kb, l)?;
    let perm = lap_dense(&cost, l);
    drop(cost);
    let mut total = 0.0;
    for (r, &c) in perm.iter().enumerate() {
        let d = sq_dist(a.row(r / ka), b.row(c / kb));
        if !d.is_finite() {
            return Err(overflow(r / ka, c / kb));
        }
        total += d;
    }
    Ok(total / l as f64)
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// lcm(n, m), saturating instead of overflowing (the caller only compares it to a limit).
fn lcm(n: usize, m: usize) -> usize {
    (n / gcd(n, m)).saturating_mul(m)
}
