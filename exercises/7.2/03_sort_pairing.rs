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
    todo!()
}
