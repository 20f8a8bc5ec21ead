//! Exercise 7.2.1 · 10 points: a minibatch optimal-transport pairing.
//!
//! OT-CFM re-pairs each training batch: noise point i gets the data point σ(i),
//! where the permutation σ makes the total squared distance of the pairs as
//! small as possible. Every point of both batches is used exactly once.
//!
//! Grade it: `cargo run --release --bin course -- grade ot_pairing`.

use flowmatch::Points;

/// The optimal pairing of the batches `x0` (noise) and `x1` (data), both n × d:
/// returns σ, a permutation of 0..n, with `σ[i]` the data point paired with noise point i,
/// that minimises Σᵢ ‖x0ᵢ − x1σ(i)‖².
///
/// `flowmatch::ot::solve_assignment(&cost, n)` solves the assignment problem for an
/// n × n row-major cost matrix (`cost[i * n + j]` = cost of giving column j to row i)
/// and returns a `Result<Vec<usize>>`; `flowmatch::numeric::sq_dist(a, b)` is ‖a − b‖².
pub fn ot_pairing(x0: &Points, x1: &Points) -> Vec<usize> {
    todo!()
}
