//! How far apart are two sample sets, and how straight are the paths a flow takes?
//!
//! A generative model is judged by comparing the points it produces with
//! points from the data. This module offers three distances between two
//! finite sample sets `a = {x_1, …, x_n}` and `b = {y_1, …, y_m}`, each seen as
//! an empirical distribution that puts weight `1/n` (resp. `1/m`) on every point:
//!
//! * [`w2`] — the 2-Wasserstein distance, computed **exactly**. For equal sizes
//!   the optimal transport plan between two uniform empirical measures is a
//!   permutation (Birkhoff–von Neumann), so
//!   `W2²(a, b) = min_σ (1/n) Σ_i ‖x_i − y_σ(i)‖²`,
//!   an assignment problem that [`solve_assignment`] solves exactly with the
//!   Jonker–Volgenant shortest-augmenting-path method (dual potentials, warm
//!   started by an auction). The permutation itself
//!   is available from [`optimal_assignment`] (minibatch optimal-transport
//!   couplings pair `x_i` with `y_σ(i)`).
//! * [`mmd_rbf`] — the maximum mean discrepancy with a Gaussian kernel, a
//!   kernel two-sample statistic that is cheap (no optimisation) and smooth.
//! * [`energy_distance`] — `2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖`, which is zero
//!   exactly when the two distributions agree and needs no bandwidth.
//!
//! Two trajectory statistics measure the paths `t ↦ x_t` that an ODE solver
//! produces, given as states `x_{t_0}, …, x_{t_K}` of the same `n` particles:
//!
//! * [`kinetic_energy`] — `E[∫ ‖ẋ_t‖² dt]`, the quantity optimal transport minimises;
//! * [`straightness`] — `E[∫ ‖(x_1 − x_0) − ẋ_t‖² dt]` (Liu et al., rectified
//!   flow): zero exactly for straight lines travelled at constant speed, which
//!   is what lets a few Euler steps sample well.
//!
//! Both use finite differences: between two stored states the path is taken to
//! be the straight segment travelled at constant speed.
//!
//! Everything here is plain `f64` numerics on [`Points`]; nothing is random.

use crate::error::{Error, Result};
use crate::points::Points;

/// Largest assignment problem that [`w2`], [`w2_squared`], [`optimal_assignment`]
/// and [`solve_assignment`] accept (number of points on each side).
///
/// The solver stores the dense `n × n` cost matrix in f64: 8 MB at n = 1000,
/// 32 MB at n = 2000 and 134 MB at n = 4096. Its worst-case time is O(n³).
/// Measured CPU time per call (opt-level 3, 2-D Gaussian samples, on a shared
/// 2-core AMD EPYC development VM that was busy with other jobs, so read these
/// as upper bounds): about 4 ms at n = 256, 15 ms at n = 512, 0.08 s at
/// n = 1000, 0.4 s at n = 2000 and 1.8 s at n = 4096. Highly degenerate inputs
/// (many repeated points, tight clusters) can take a few times longer.
pub const W2_MAX_POINTS: usize = 4096;

/// Largest number of points per set that [`mmd_rbf`], [`mmd_rbf_multi`] and
/// [`energy_distance`] accept.
///
/// These statistics visit every pair of points, O((n + m)² d) time and O(1)
/// extra memory; at the limit that is about 8·10⁸ pairs, several seconds.
pub const PAIRWISE_MAX_POINTS: usize = 20_000;

/// At most this many points of each set enter [`median_bandwidth`]
/// (the first ones, as [`Points::head`] takes them).
pub const MEDIAN_MAX_POINTS: usize = 1000;

// ---------------------------------------------------------------------------
// Wasserstein-2 by exact optimal transport
// ---------------------------------------------------------------------------

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
/// Errors: an empty set ([`Error::ZeroCount`]), different dimensions
/// ([`Error::ShapeMismatch`]), NaN/inf ([`Error::NonFinite`]), a problem larger
/// than [`W2_MAX_POINTS`] ([`Error::SizeLimit`]: compare `a.head(k)` with
/// `b.head(k)`, or use [`mmd_rbf`] / [`energy_distance`] on large sets).
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

/// The optimal matching between two equal-size sets under squared Euclidean cost.
///
/// Returns the permutation `σ` (as `σ[i]` = index in `b` matched to point `i`
/// of `a`) that minimises `Σ_i ‖x_i − y_σ(i)‖²`. Pair `a.row(i)` with
/// `b.row(σ[i])`, or reorder `b` with `b.select(&σ)`. This is the coupling used
/// by minibatch optimal-transport flow matching; at batch sizes 256–512 one
/// call takes about 4–15 ms (see [`W2_MAX_POINTS`]).
///
/// Errors as for [`w2`]; sets of different sizes give [`Error::ShapeMismatch`].
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
    if n > W2_MAX_POINTS {
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
/// `n > W2_MAX_POINTS`.
pub fn solve_assignment(cost: &[f64], n: usize) -> Result<Vec<usize>> {
    if n == 0 {
        return Err(Error::ZeroCount { what: "the size n of the assignment problem".into() });
    }
    if n > W2_MAX_POINTS {
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

fn size_error(what: String, size: usize) -> Error {
    Error::SizeLimit {
        what,
        size,
        limit: W2_MAX_POINTS,
        hint: format!(
            "Exact optimal transport stores an n × n cost matrix and takes O(n³) time. Compare \
             subsets of equal size, e.g. w2(&a.head({W2_MAX_POINTS}), &b.head({W2_MAX_POINTS})) \
             (shuffle first if the order of the points matters), or use mmd_rbf / energy_distance \
             for large sets"
        ),
    }
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

/// Non-empty, same dimension, finite.
fn check_pair(a: &Points, b: &Points, func: &str) -> Result<()> {
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
fn centred_cost_matrix(a: &Points, b: &Points, ka: usize, kb: usize, l: usize) -> Result<Vec<f64>> {
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

fn overflow(i: usize, j: usize) -> Error {
    Error::NonFinite {
        what: "a squared distance between the two sets".into(),
        detail: format!("‖a[{i}] − b[{j}]‖² overflowed; rescale the points"),
    }
}

#[inline]
fn sq_dist(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum()
}

const NONE: usize = usize::MAX;

/// Exact assignment on a validated dense `n × n` matrix of finite costs (n ≥ 1).
/// Returns `col4row`: the column given to each row.
///
/// Dual potentials `u_i` (rows) and `v_j` (columns) always satisfy
/// `u_i + v_j ≤ c_ij`, with equality on every assigned pair. An auction gives
/// good starting potentials and a partial assignment ([`auction_init`]); each
/// row still free is then assigned by the Jonker–Volgenant shortest
/// augmenting path: Dijkstra from that row over the reduced costs
/// `c_ij − u_i − v_j ≥ 0`, through assigned pairs, to the nearest free column,
/// followed by a potential update that keeps the invariant and a flip of the
/// path. When no row is left, the invariant proves the matching optimal
/// (linear programming duality).
fn lap_dense(cost: &[f64], n: usize) -> Vec<usize> {
    if n == 1 {
        return vec![0];
    }
    let row = |i: usize| &cost[i * n..(i + 1) * n];
    let mut v = vec![0.0f64; n];
    let mut col4row = vec![NONE; n];
    let mut row4col = vec![NONE; n];

    let free = auction_init(cost, n, &mut v, &mut col4row, &mut row4col);
    // Shortest augmenting paths for the rows still free. During one search the
    // `v[j]` of a finished column is parked in `done` and replaced by −∞, which
    // makes its reduced cost +∞: the scan over all columns then needs neither
    // an index list nor a branch on "finished".
    let mut u = vec![0.0f64; n];
    for i in 0..n {
        u[i] = match col4row[i] {
            NONE => row(i).iter().zip(&v).map(|(c, vj)| c - vj).fold(f64::INFINITY, f64::min),
            j => row(i)[j] - v[j],
        };
    }
    let mut shortest = vec![f64::INFINITY; n];
    let mut path = vec![0usize; n];
    // (column, its v before the search, its final distance)
    let mut done: Vec<(usize, f64, f64)> = Vec::new();
    for &start in &free {
        shortest.fill(f64::INFINITY);
        done.clear();
        let mut min_val = 0.0;
        let mut i = start;
        let sink = loop {
            let base = min_val - u[i];
            let (lowest, index) = relax_row(row(i), &v, base, i, &mut shortest, &mut path);
            min_val = lowest;
            let j = index;
            done.push((j, v[j], lowest));
            v[j] = f64::NEG_INFINITY;
            shortest[j] = f64::INFINITY;
            if row4col[j] == NONE {
                break j;
            }
            i = row4col[j];
        };
        // Update the potentials (keeps u_i + v_j ≤ c_ij, tight on the new matching).
        u[start] += min_val;
        for &(j, vj, d) in &done {
            v[j] = vj - (min_val - d);
            if row4col[j] != NONE {
                u[row4col[j]] += min_val - d;
            }
        }
        // Flip the augmenting path.
        let mut j = sink;
        loop {
            let i = path[j];
            row4col[j] = i;
            let prev = col4row[i];
            col4row[i] = j;
            if i == start {
                break;
            }
            j = prev;
        }
    }
    col4row
}

/// One Dijkstra step: `shortest_j ← min(shortest_j, base + c_j − v_j)` (recording
/// `row` in `path_j` where it improves), then returns the smallest `shortest_j`
/// and its column. Blocks of eight as in [`best_two`].
#[inline]
fn relax_row(c: &[f64], v: &[f64], base: f64, row: usize, shortest: &mut [f64], path: &mut [usize]) -> (f64, usize) {
    const L: usize = 8;
    let (mut lowest, mut index) = (f64::INFINITY, 0);
    let n = c.len();
    let blocks = n / L;
    for k in 0..blocks {
        let r0 = k * L;
        let (cc, vv) = (&c[r0..r0 + L], &v[r0..r0 + L]);
        let (ss, pp) = (&mut shortest[r0..r0 + L], &mut path[r0..r0 + L]);
        let mut m = f64::INFINITY;
        for l in 0..L {
            let r = base + cc[l] - vv[l];
            let better = r < ss[l];
            ss[l] = if better { r } else { ss[l] };
            pp[l] = if better { row } else { pp[l] };
            m = if ss[l] < m { ss[l] } else { m };
        }
        if m < lowest {
            lowest = m;
            index = r0 + ss.iter().position(|&x| x == m).unwrap_or(0);
        }
    }
    for j in blocks * L..n {
        let r = base + c[j] - v[j];
        if r < shortest[j] {
            shortest[j] = r;
            path[j] = row;
        }
        if shortest[j] < lowest {
            lowest = shortest[j];
            index = j;
        }
    }
    (lowest, index)
}

/// Smallest and second smallest of `c_j + p_j`, and where the smallest is.
///
/// Works in blocks of eight: the block minimum is a short branch-free loop,
/// and only a block that beats the current second best is looked at closely.
#[inline]
fn best_two(c: &[f64], p: &[f64]) -> (f64, usize, f64) {
    const L: usize = 8;
    #[inline(always)]
    fn visit(best: &mut (f64, usize, f64), j: usize, w: f64) {
        if w < best.2 {
            if w < best.0 {
                *best = (w, j, best.0);
            } else {
                best.2 = w;
            }
        }
    }
    let mut best = (f64::INFINITY, 0, f64::INFINITY);
    let blocks = c.len() / L;
    for k in 0..blocks {
        let mut w = [0.0; L];
        let mut m = f64::INFINITY;
        for l in 0..L {
            w[l] = c[k * L + l] + p[k * L + l];
            m = if w[l] < m { w[l] } else { m };
        }
        if m < best.2 {
            for (l, &x) in w.iter().enumerate() {
                visit(&mut best, k * L + l, x);
            }
        }
    }
    for j in blocks * L..c.len() {
        visit(&mut best, j, c[j] + p[j]);
    }
    best
}

/// Auction warm start (Bertsekas, with ε-scaling) for [`lap_dense`].
///
/// Rows bid for columns with prices `p_j`: row `i` takes its cheapest column
/// `j₁ = argmin_j (c_ij + p_j)` and raises `p_{j₁}` by `w₂ − w₁ + ε`, where
/// `w₁ ≤ w₂` are its two smallest values of `c_ij + p_j`; an evicted owner
/// bids again. Each phase ends with every row assigned and within `ε` of its
/// best column; ε then shrinks by [`AUCTION_SHRINK`]. The prices, as column
/// potentials `v_j = −p_j`, are nearly optimal, so the shortest augmenting
/// paths that finish the job stay short.
///
/// Sets `v`, assigns every row whose best column under `v` is still free (a
/// tight pair: `c_ij − v_j = min_k (c_ik − v_k)`), and returns the other rows.
/// Stopping the auction anywhere is safe: only the potentials it leaves matter.
fn auction_init(cost: &[f64], n: usize, v: &mut [f64], col4row: &mut [usize], row4col: &mut [usize]) -> Vec<usize> {
    let row = |i: usize| &cost[i * n..(i + 1) * n];
    let (lo, hi) = cost.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &c| (a.min(c), b.max(c)));
    let range = hi - lo;
    let mut p = vec![0.0f64; n];
    let mut owner = vec![NONE; n];
    let mut assigned = vec![NONE; n];
    let mut queue: Vec<usize> = Vec::with_capacity(n);
    // Bounds the work (prices rise by at least ε per bid, but a tiny ε can be
    // lost to rounding when the costs are large and nearly equal).
    let mut bids_left = AUCTION_MAX_BIDS_PER_ROW * n;
    let mut eps = range * AUCTION_EPS_START;
    let eps_end = range * AUCTION_EPS_END;
    if range > 0.0 {
        'phases: loop {
            owner.fill(NONE);
            assigned.fill(NONE);
            queue.clear();
            queue.extend((0..n).rev());
            while let Some(i) = queue.pop() {
                if bids_left == 0 {
                    break 'phases;
                }
                bids_left -= 1;
                let (w1, j1, w2) = best_two(row(i), &p);
                p[j1] += w2 - w1 + eps;
                let prev = owner[j1];
                if prev != NONE {
                    assigned[prev] = NONE;
                    queue.push(prev);
                }
                owner[j1] = i;
                assigned[i] = j1;
            }
            if eps <= eps_end {
                break;
            }
            eps = (eps / AUCTION_SHRINK).max(eps_end);
        }
    }
    for (vj, pj) in v.iter_mut().zip(&p) {
        *vj = -pj;
    }
    // Tight pairs: first rows whose auction column is also their exact best
    // column, then any row whose best column nobody has taken yet.
    let mut best = vec![0usize; n];
    for i in 0..n {
        let (_, j, _) = best_two(row(i), &p);
        best[i] = j;
        if assigned[i] == j && row4col[j] == NONE {
            col4row[i] = j;
            row4col[j] = i;
        }
    }
    let mut free = Vec::new();
    for i in 0..n {
        if col4row[i] == NONE {
            if row4col[best[i]] == NONE {
                col4row[i] = best[i];
                row4col[best[i]] = i;
            } else {
                free.push(i);
            }
        }
    }
    free
}

/// First auction ε, as a fraction of the range of the costs.
const AUCTION_EPS_START: f64 = 0.02;
/// Last auction ε, as a fraction of the range of the costs.
const AUCTION_EPS_END: f64 = 1e-8;
/// ε shrinks by this factor from one phase to the next.
const AUCTION_SHRINK: f64 = 5.0;
/// Work cap: at most this many bids per row in the whole auction (typical: 20–40).
const AUCTION_MAX_BIDS_PER_ROW: usize = 100;

// ---------------------------------------------------------------------------
// Kernel and energy statistics
// ---------------------------------------------------------------------------

/// Squared maximum mean discrepancy with the Gaussian (RBF) kernel
/// `k(x, y) = exp(−‖x − y‖² / (2h²))`, `h = bandwidth`.
///
/// Unbiased U-statistic (Gretton et al. 2012):
///
/// `MMD²_u = 1/(n(n−1)) Σ_{i≠i'} k(x_i, x_i') + 1/(m(m−1)) Σ_{j≠j'} k(y_j, y_j') − 2/(nm) Σ_{i,j} k(x_i, y_j)`.
///
/// Its expectation is the population MMD², so it fluctuates around 0 — and can
/// be slightly **negative** — when both sets come from the same distribution.
/// Needs at least 2 points per set. O((n + m)² d) time, no extra memory.
///
/// Errors: a set with fewer than 2 points, mismatched dimensions, NaN/inf,
/// `bandwidth` not finite and positive ([`Error::InvalidParameter`]), more than
/// [`PAIRWISE_MAX_POINTS`] points in a set.
pub fn mmd_rbf(a: &Points, b: &Points, bandwidth: f64) -> Result<f64> {
    mmd_rbf_multi(a, b, &[bandwidth])
}

/// [`mmd_rbf`] with the sum of several Gaussian kernels, `k(x, y) = Σ_h exp(−‖x − y‖² / (2h²))`.
///
/// A sum of kernels is a kernel, so this is again an unbiased MMD², and it is
/// sensitive at several length scales at once (e.g. `[0.5·h, h, 2·h]` around
/// [`median_bandwidth`]). Errors as for [`mmd_rbf`], and an empty list.
pub fn mmd_rbf_multi(a: &Points, b: &Points, bandwidths: &[f64]) -> Result<f64> {
    if bandwidths.is_empty() {
        return Err(Error::invalid("bandwidths of mmd_rbf_multi", "the list is empty; pass at least one bandwidth"));
    }
    for &h in bandwidths {
        if !(h.is_finite() && h > 0.0) {
            return Err(Error::invalid(
                "bandwidth of the RBF kernel",
                format!("got {h}, it must be finite and positive (median_bandwidth(a, b) gives a sensible one)"),
            ));
        }
    }
    check_pairwise(a, b, "mmd_rbf", 2)?;
    let gammas: Vec<f64> = bandwidths.iter().map(|h| 1.0 / (2.0 * h * h)).collect();
    let k = |s: f64| gammas.iter().map(|g| (-g * s).exp()).sum::<f64>();
    let (n, m) = (a.len() as f64, b.len() as f64);
    // Within-set sums over unordered pairs i < i', doubled for ordered pairs.
    let kxx = 2.0 * sum_within(a, k) / (n * (n - 1.0));
    let kyy = 2.0 * sum_within(b, k) / (m * (m - 1.0));
    let kxy = sum_cross(a, b, k) / (n * m);
    Ok(kxx + kyy - 2.0 * kxy)
}

/// The median heuristic for the RBF bandwidth: the median Euclidean distance
/// between two distinct points of the pooled set `a ∪ b`.
///
/// Uses at most the first [`MEDIAN_MAX_POINTS`] points of each set (O(N²)
/// distances for N pooled points). Errors on an empty set, NaN/inf or
/// mismatched dimensions, and if the median distance is 0
/// (more than half the pairs coincide; choose a bandwidth by hand).
pub fn median_bandwidth(a: &Points, b: &Points) -> Result<f64> {
    check_pair(a, b, "median_bandwidth")?;
    let pooled = a.head(MEDIAN_MAX_POINTS).concat(&b.head(MEDIAN_MAX_POINTS))?;
    let np = pooled.len(); // at least 2: both sets are non-empty
    let mut d = Vec::with_capacity(np * (np - 1) / 2);
    for i in 0..np {
        let x = pooled.row(i);
        for j in i + 1..np {
            d.push(sq_dist(x, pooled.row(j)));
        }
    }
    let mid = d.len() / 2;
    let (_, med, _) = d.select_nth_unstable_by(mid, f64::total_cmp);
    let h = med.sqrt();
    if !(h > 0.0 && h.is_finite()) {
        return Err(Error::invalid(
            "data for median_bandwidth",
            format!("the median pairwise distance is {h}; pass an explicit positive bandwidth to mmd_rbf"),
        ));
    }
    Ok(h)
}

/// Energy distance between the empirical distributions of `a` and `b`
/// (Székely–Rizzo E-statistic, a V-statistic: every pair, including `i = i'`):
///
/// `E(a, b) = 2/(nm) Σ_{i,j} ‖x_i − y_j‖ − 1/n² Σ_{i,i'} ‖x_i − x_i'‖ − 1/m² Σ_{j,j'} ‖y_j − y_j'‖`.
///
/// This is the exact energy distance `2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖` between the
/// two empirical measures, so it is never negative (up to rounding) and is 0
/// only when the two sets hold the same points with the same frequencies. It
/// is biased upwards by O(1/n + 1/m) as an estimate of the population value.
/// Works for single points: `E({p}, {q}) = 2‖p − q‖`. O((n + m)² d) time.
///
/// Errors: empty sets, mismatched dimensions, NaN/inf, more than
/// [`PAIRWISE_MAX_POINTS`] points in a set.
pub fn energy_distance(a: &Points, b: &Points) -> Result<f64> {
    check_pairwise(a, b, "energy_distance", 1)?;
    let (n, m) = (a.len() as f64, b.len() as f64);
    let dxy = sum_cross(a, b, f64::sqrt) / (n * m);
    let dxx = 2.0 * sum_within(a, f64::sqrt) / (n * n);
    let dyy = 2.0 * sum_within(b, f64::sqrt) / (m * m);
    Ok(2.0 * dxy - dxx - dyy)
}

fn check_pairwise(a: &Points, b: &Points, func: &str, min_points: usize) -> Result<()> {
    check_pair(a, b, func)?;
    for (p, name) in [(a, "first set (a)"), (b, "second set (b)")] {
        if p.len() < min_points {
            return Err(Error::invalid(
                format!("{name} of {func}"),
                format!("it has {} point(s), {func} needs at least {min_points}", p.len()),
            ));
        }
        if p.len() > PAIRWISE_MAX_POINTS {
            return Err(Error::SizeLimit {
                what: format!("the {name} of {func}"),
                size: p.len(),
                limit: PAIRWISE_MAX_POINTS,
                hint: format!(
                    "The statistic visits every pair of points (O(n²) time); pass a subset such as \
                     a.head({PAIRWISE_MAX_POINTS})"
                ),
            });
        }
    }
    Ok(())
}

/// `Σ_{i<i'} f(‖x_i − x_i'‖²)`.
fn sum_within(p: &Points, f: impl Fn(f64) -> f64) -> f64 {
    let mut total = 0.0;
    for i in 0..p.len() {
        let x = p.row(i);
        let mut s = 0.0;
        for j in i + 1..p.len() {
            s += f(sq_dist(x, p.row(j)));
        }
        total += s;
    }
    total
}

/// `Σ_{i,j} f(‖x_i − y_j‖²)`.
fn sum_cross(a: &Points, b: &Points, f: impl Fn(f64) -> f64) -> f64 {
    let mut total = 0.0;
    for x in a.rows() {
        total += b.rows().map(|y| f(sq_dist(x, y))).sum::<f64>();
    }
    total
}

// ---------------------------------------------------------------------------
// Trajectory statistics
// ---------------------------------------------------------------------------

/// Mean kinetic energy of a trajectory, `E[∫ ‖ẋ_t‖² dt]`, by finite differences.
///
/// `trajectory[k]` holds the `n` particles at time `times[k]`. On each interval
/// the velocity is `v_k = (x_{k+1} − x_k) / (t_{k+1} − t_k)`, so
///
/// `KE = (1/n) Σ_i Σ_k ‖x_{k+1,i} − x_{k,i}‖² / |t_{k+1} − t_k|`,
///
/// which is exact for piecewise-linear paths: `x_t = x_0 + t·d` on `[0, 1]`
/// gives `‖d‖²`. Times may increase or decrease (backward integration), but
/// strictly.
///
/// Errors: fewer than 2 states or a non-monotone/non-finite time grid
/// ([`Error::TimeGrid`]), `times.len() ≠ trajectory.len()` or states of
/// different shapes ([`Error::ShapeMismatch`]), no particles, NaN/inf states.
pub fn kinetic_energy(trajectory: &[Points], times: &[f64]) -> Result<f64> {
    let n = check_trajectory(trajectory, times, "kinetic_energy")?;
    let mut total = 0.0;
    for (k, w) in trajectory.windows(2).enumerate() {
        let dt = (times[k + 1] - times[k]).abs();
        total += sq_dist(w[1].as_slice(), w[0].as_slice()) / dt;
    }
    Ok(total / n as f64)
}

/// Straightness of a trajectory (Liu et al., rectified flow), by finite differences:
///
/// `S = E[ ∫ ‖ v̄ − ẋ_t ‖² dt ]`, with `v̄ = (x_{t_K} − x_{t_0}) / (t_K − t_0)`,
///
/// computed as `(1/n) Σ_i Σ_k |t_{k+1} − t_k| ‖v̄_i − v_{k,i}‖²` with
/// `v_k = (x_{k+1} − x_k) / (t_{k+1} − t_k)`. On `t ∈ [0, 1]`, `v̄ = x_1 − x_0`
/// and this is exactly `S = E[∫₀¹ ‖(x_1 − x_0) − ẋ_t‖² dt]`.
///
/// `S = 0` exactly when every particle moves on a straight line at constant
/// speed (then one Euler step is exact); since `Σ_k Δt_k v_k = (t_K − t_0) v̄`,
/// also `S = KE − E‖x_{t_K} − x_{t_0}‖² / |t_K − t_0|`. For a quarter circle
/// of radius 1 on `[0, 1]`, `S = π²/4 − 2`. Inputs and errors as for
/// [`kinetic_energy`].
pub fn straightness(trajectory: &[Points], times: &[f64]) -> Result<f64> {
    let n = check_trajectory(trajectory, times, "straightness")?;
    let last = trajectory.len() - 1;
    let span = times[last] - times[0];
    let (first, end) = (trajectory[0].as_slice(), trajectory[last].as_slice());
    let mut total = 0.0;
    for (k, w) in trajectory.windows(2).enumerate() {
        let dt = times[k + 1] - times[k];
        let mut s = 0.0;
        for (((p0, p1), q0), q1) in w[0].as_slice().iter().zip(w[1].as_slice()).zip(first).zip(end) {
            let diff = (q1 - q0) / span - (p1 - p0) / dt;
            s += diff * diff;
        }
        total += dt.abs() * s;
    }
    Ok(total / n as f64)
}

/// Validates a trajectory and returns its number of particles.
fn check_trajectory(trajectory: &[Points], times: &[f64], func: &str) -> Result<usize> {
    if trajectory.len() != times.len() {
        return Err(Error::shape(
            format!("{func} (one time per stored state)"),
            format!("{} times for {} states", trajectory.len(), trajectory.len()),
            format!("{} times", times.len()),
        ));
    }
    if times.len() < 2 {
        return Err(Error::TimeGrid {
            reason: format!("{func} got {} state(s); a trajectory needs at least two", times.len()),
        });
    }
    if let Some(k) = times.iter().position(|t| !t.is_finite()) {
        return Err(Error::TimeGrid { reason: format!("time {k} given to {func} is {}", times[k]) });
    }
    let increasing = times[1] > times[0];
    if let Some(k) = times.windows(2).position(|w| if increasing { w[1] <= w[0] } else { w[1] >= w[0] }) {
        return Err(Error::TimeGrid {
            reason: format!(
                "times {k} and {} given to {func} are {} and {}, which breaks strict monotonicity",
                k + 1,
                times[k],
                times[k + 1]
            ),
        });
    }
    let first = &trajectory[0];
    if first.is_empty() {
        return Err(Error::ZeroCount { what: format!("the number of particles in the trajectory given to {func}") });
    }
    for (k, state) in trajectory.iter().enumerate() {
        first.check_same_shape(
            state,
            &format!("state {k} of the trajectory given to {func} (state 0 sets the shape)"),
        )?;
        state.check_finite(&format!("state {k} of the trajectory given to {func}"))?;
    }
    Ok(first.len())
}
