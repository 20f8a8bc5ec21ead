//! Exercise guidance.1 · 10 points: label dropout on a training batch.
//!
//! Classifier-free guidance needs two velocities from one network: the conditional
//! v(x, t | y) and the unconditional v(x, t | ∅). The network learns both when, in every
//! training batch, a random share p_uncond of the rows has its label replaced by the null
//! label ∅ (`NULL_LABEL`): for those rows the best answer is the velocity averaged over all
//! classes, which is the unconditional one.
//!
//! Grade it: `cargo run --release --bin course -- grade label_dropout`.

use flowmatch::field::NULL_LABEL;
use flowmatch::path::PathSample;

/// Replaces the label of each row of `batch` by `NULL_LABEL` with probability `p_uncond`.
///
/// `batch.labels` holds one class per row. Decide for every row on its own: each call of
/// `uniform()` returns a fresh random number, uniform in [0, 1). A row whose label is
/// dropped stays in the batch: its points, its time and its target are not changed.
pub fn label_dropout(batch: &mut PathSample, p_uncond: f64, uniform: &mut dyn FnMut() -> f64) {
    // BEGIN SOLUTION
    if let Some(labels) = batch.labels.as_mut() {
        for y in labels.iter_mut() {
            // One fresh draw per row: P(uniform() < p) = p.
            if uniform() < p_uncond {
                *y = NULL_LABEL;
            }
        }
    }
    // END SOLUTION
}
