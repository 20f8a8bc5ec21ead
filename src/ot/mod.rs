//! Optimal transport between point sets: the exact assignment problem, its
//! entropic relaxation (Sinkhorn), and the closed form between Gaussians.
//!
//! Between two uniform empirical measures of the same size n the optimal plan
//! is a permutation (Birkhoff–von Neumann), so optimal transport is the
//! linear assignment problem
//!
//! ```text
//! σ* = argmin_σ Σᵢ c(xᵢ, y_σ(i)),     c(x, y) = ‖x − y‖²      (W2² = (1/n) Σᵢ ‖xᵢ − y_σ*(i)‖²)
//! ```
//!
//! [`solve_assignment`] solves it exactly for any dense cost matrix
//! (Jonker–Volgenant shortest augmenting paths, warm-started by an ε-scaling
//! auction; the dual potentials certify optimality); [`optimal_assignment`]
//! builds the squared-distance cost of two point sets first. The
//! W2 distance ([`crate::metrics::w2`]) and minibatch OT couplings
//! ([`crate::coupling`], topic 7.2) both stand on it.
//!
//! [`sinkhorn`] solves the entropic problem (a blurred plan whose blur is ε,
//! in the log domain), and [`gaussian_ot_matrix`] gives the exact OT map
//! between two Gaussians, against which topic 7.2 compares what Flow Matching learns.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | the public entry points, the squared-distance cost matrix, size limits |
//! | `assignment.rs` | the exact solver: `f32` auction warm start, then `f64` shortest augmenting paths |
//! | `sinkhorn.rs` | [`sinkhorn`], [`SinkhornSettings`], [`SinkhornPlan`] (marginals checked, partners drawn from the plan) |
//! | `gaussian.rs` | [`gaussian_ot_matrix`], [`gaussian_w2_squared`], [`sqrtm_psd`] |

use crate::error::{Error, Result};
use crate::numeric::sq_dist;
use crate::points::Points;

mod assignment;
mod gaussian;
mod sinkhorn;

pub(crate) use assignment::lap_dense;
pub use gaussian::{gaussian_ot_matrix, gaussian_w2_squared, sqrtm_psd};
pub use sinkhorn::{sinkhorn, SinkhornPlan, SinkhornSettings, SINKHORN_MAX_ENTRIES};

/// Largest assignment problem that [`solve_assignment`], [`optimal_assignment`] and
/// [`crate::metrics::w2`] accept (number of points on each side).
///
/// The solver stores the dense `n × n` cost matrix in f64: 8 MB at n = 1000,
/// 32 MB at n = 2000 and 134 MB at n = 4096. Its worst-case time is O(n³).
/// At n = 512 (a training batch, 2-D) one solve takes about 2.5 ms of CPU time
/// (`examples/bench_assignment.rs`; 7 ms before the auction moved to `f32`).
/// Highly degenerate inputs (many repeated points, tight clusters) can take a
/// few times longer.
pub const MAX_POINTS: usize = 4096;

/// The optimal matching between two equal-size sets under squared Euclidean cost.
///
/// Returns the permutation `σ` (as `σ[i]` = index in `b` matched to point `i`
/// of `a`) that minimises `Σ_i ‖x_i − y_σ(i)‖²`. Pair `a.row(i)` with
/// `b.row(σ[i])`, or reorder `b` with `b.select(&σ)`. This is the coupling used
/// by minibatch optimal-transport flow matching ([`crate::coupling::ExactOt`]);
/// at batch size 512 one call takes a few milliseconds (see [`MAX_POINTS`]).
///
/// Errors as for [`crate::metrics::w2`]; sets of different sizes give [`Error::ShapeMismatch`].
pub fn optimal_assignment(a: &Points, b: &Points) -> Result<Vec<usize>> {
    check_pair(a, b, "optimal_assignment")?;
    if a.len() != b.len() {
        return Err(Error::shape(
            "optimal_assignment (a matching pairs every point of one set with one point of the other; \
             draw two batches of the same size)",
            format!("{} points in b, as many as in a", a.len()),
            format!("{} points in b", b.len()),
        ));
    }
    let n = a.len();
    if n > MAX_POINTS {
        return Err(size_error(format!("optimal_assignment between two sets of {n} points"), n));
    }
    let cost = centred_cost_matrix(a, b, 1, 1, n)?;
    Ok(lap_dense(&cost, n))
}

/// Solves the linear assignment problem for any dense `n × n` cost matrix.
///
/// `cost` is row-major (`cost[i * n + j]` is the cost of giving column `j` to
/// row `i`); the result `σ` minimises `Σ_i cost[i·n + σ(i)]` over permutations.
///
/// Method: the Jonker–Volgenant shortest-augmenting-path algorithm with dual
/// potentials `u_i + v_j ≤ c_ij` (equality on assigned pairs). An ε-scaling
/// auction (Bertsekas) first computes nearly optimal potentials and assigns
/// most rows; each remaining row is assigned by a Dijkstra search for the
/// cheapest augmenting path on the reduced costs `c_ij − u_i − v_j ≥ 0`. At the
/// end the potentials certify optimality (LP duality), so the result is exact
/// up to floating-point rounding, whatever the auction did. O(n³) time in the
/// worst case (typically about 30–40 passes over the matrix), O(n) memory
/// besides the matrix.
///
/// Errors: `n = 0`, a matrix whose length is not `n²`, NaN/inf entries, or
/// `n > MAX_POINTS`.
pub fn solve_assignment(cost: &[f64], n: usize) -> Result<Vec<usize>> {
    if n == 0 {
        return Err(Error::ZeroCount { what: "the size n of the assignment problem".into() });
    }
    if n > MAX_POINTS {
        return Err(size_error(format!("solve_assignment with {n} rows"), n));
    }
    if cost.len() != n * n {
        return Err(Error::shape(
            "solve_assignment (the cost matrix is n × n, row-major)",
            format!("{n} × {n} = {} numbers", n * n),
            format!("{} numbers", cost.len()),
        ));
    }
    if let Some(k) = cost.iter().position(|c| !c.is_finite()) {
        return Err(Error::NonFinite {
            what: "the cost matrix of solve_assignment".into(),
            detail: format!("entry ({}, {}) is {}", k / n, k % n, cost[k]),
        });
    }
    Ok(lap_dense(cost, n))
}

pub(crate) fn size_error(what: String, size: usize) -> Error {
    Error::SizeLimit {
        what,
        size,
        limit: MAX_POINTS,
        hint: format!(
            "Exact optimal transport stores an n × n cost matrix and takes O(n³) time. Compare \
             subsets of equal size, e.g. w2(&a.head({MAX_POINTS}), &b.head({MAX_POINTS})) \
             (shuffle first if the order of the points matters), or use mmd_rbf / energy_distance \
             for large sets"
        ),
    }
}

/// Non-empty, same dimension, finite.
pub(crate) fn check_pair(a: &Points, b: &Points, func: &str) -> Result<()> {
    if a.is_empty() {
        return Err(Error::ZeroCount { what: format!("the number of points in the first set (a) given to {func}") });
    }
    if b.is_empty() {
        return Err(Error::ZeroCount { what: format!("the number of points in the second set (b) given to {func}") });
    }
    if a.dim() != b.dim() {
        return Err(Error::shape(
            format!("{func} (both sets must live in the same space)"),
            format!("points of dimension {} in b, as in a", a.dim()),
            format!("points of dimension {}", b.dim()),
        ));
    }
    a.check_finite(&format!("the first set (a) given to {func}"))?;
    b.check_finite(&format!("the second set (b) given to {func}"))?;
    Ok(())
}

/// The cost matrix the solver sees: squared distances between row `r / ka` of
/// `a` and row `c / kb` of `b` (`r, c < l`, the replicated problem), after
/// moving both sets to mean zero.
///
/// Centring changes `‖x_i − y_j‖²` by a term of row `i` plus a term of column
/// `j` plus a constant, which every permutation pays equally, so the optimal
/// matching is the same; it keeps the numbers small when the sets are far apart.
pub(crate) fn centred_cost_matrix(a: &Points, b: &Points, ka: usize, kb: usize, l: usize) -> Result<Vec<f64>> {
    let (ma, mb) = (a.mean(), b.mean());
    let centre = |p: &Points, m: &[f64]| Points::from_fn(p.len(), p.dim(), |i, j| p.row(i)[j] - m[j]);
    let (ac, bc) = (centre(a, &ma), centre(b, &mb));
    let mut cost = vec![0.0; l * l];
    for (r, out) in cost.chunks_exact_mut(l).enumerate() {
        let x = ac.row(r / ka);
        for (c, o) in out.iter_mut().enumerate() {
            *o = sq_dist(x, bc.row(c / kb));
        }
    }
    if let Some(k) = cost.iter().position(|c| !c.is_finite()) {
        return Err(overflow((k / l) / ka, (k % l) / kb));
    }
    Ok(cost)
}

pub(crate) fn overflow(i: usize, j: usize) -> Error {
    Error::NonFinite {
        what: "a squared distance between the two sets".into(),
        detail: format!("‖a[{i}] − b[{j}]‖² overflowed; rescale the points"),
    }
}
