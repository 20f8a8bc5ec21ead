//! Kernel and energy two-sample statistics: MMD with Gaussian kernels and the energy distance.
//!
//! ```text
//! MMD²_u = 1/(n(n−1)) Σ_{i≠i'} k(xᵢ, xᵢ') + 1/(m(m−1)) Σ_{j≠j'} k(yⱼ, yⱼ') − 2/(nm) Σ_{i,j} k(xᵢ, yⱼ)
//! E(a, b) = 2E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖
//! ```

use crate::error::{Error, Result};
use crate::numeric::sq_dist;
use crate::ot::check_pair;
use crate::points::Points;

/// Largest number of points per set that [`mmd_rbf`], [`mmd_rbf_multi`] and
/// [`energy_distance`] accept.
///
/// These statistics visit every pair of points, O((n + m)² d) time and O(1)
/// extra memory; at the limit that is about 8·10⁸ pairs, several seconds.
pub const PAIRWISE_MAX_POINTS: usize = 20_000;

/// At most this many points of each set enter [`median_bandwidth`]
/// (the first ones, as [`Points::head`] takes them).
pub const MEDIAN_MAX_POINTS: usize = 1000;

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
