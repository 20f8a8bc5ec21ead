//! Exercise 7.2.3 · 10 points: optimal transport on a line.
//!
//! On a line, optimal transport for the squared distance never lets two pairs
//! cross: the smallest noise point goes to the smallest data point, the second
//! to the second, and so on. Sorting solves it, in O(n log n).
//!
//! Grade it: `cargo run --release --bin course -- grade sort_pairing`.

/// The optimal pairing of the numbers `x0` (noise) with the numbers `x1` (data), of equal length n:
/// returns σ with `σ[i]` the index in `x1` of the partner of `x0[i]` (a permutation of 0..n).
///
/// Example: x0 = [2, 0, 1] and x1 = [10, 30, 20] give σ = [1, 0, 2].
pub fn sort_pairing(x0: &[f64], x1: &[f64]) -> Vec<usize> {
    // BEGIN SOLUTION
    let rank = |v: &[f64]| {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        idx
    };
    let (r0, r1) = (rank(x0), rank(x1));
    // The k-th smallest noise point takes the k-th smallest data point.
    let mut sigma = vec![0; x0.len()];
    for k in 0..x0.len() {
        sigma[r0[k]] = r1[k];
    }
    sigma
    // END SOLUTION
}
