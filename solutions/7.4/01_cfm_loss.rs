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
    // BEGIN SOLUTION
    // All three buffers are row-major with the same shape, so walking them in
    // step pairs up the same coordinate of the same point.
    let total: f64 = pred
        .as_slice()
        .iter()
        .zip(x0.as_slice().iter().zip(x1.as_slice()))
        .map(|(v, (a, b))| {
            let e = v - (b - a);
            e * e
        })
        .sum();
    // A mean over points AND coordinates: divide by n·d.
    total / pred.as_slice().len() as f64
    // END SOLUTION
}
