//! Exercise 7.4.1 · 10 points: the CFM loss on a batch.
//!
//! Training regresses the network's predicted velocities onto the CondOT
//! targets x1 − x0 (exercise 7.3.2). The loss of a batch of n points in d
//! dimensions is the mean squared error over every point and coordinate:
//!
//! ```text
//! L = 1/(n·d) · Σ_i Σ_j (pred_ij − (x1_ij − x0_ij))²
//! ```
//!
//! Grade it: `cargo run --release --bin course -- grade cfm_loss`.

use flowmatch::Points;

/// The CFM loss of the predictions `pred` (row i: the model's velocity for pair i) against the targets x1 − x0.
///
/// `pred`, `x0` and `x1` have the same shape (n points of dimension d). Return
/// the mean over all n·d coordinates of the squared difference. Useful:
/// `Points::as_slice()` gives the n·d numbers row by row.
pub fn cfm_loss(pred: &Points, x0: &Points, x1: &Points) -> f64 {
    todo!()
}
