//! Exercise guidance.1: label dropout on a training batch.
//!
//! One network learns both v(x, t | y) and the unconditional v(x, t | ∅) when a random share of
//! every batch has its label hidden:
//!
//! ```text
//! for every row i independently:  labelᵢ ← ∅ (NULL_LABEL)  with probability p_uncond
//! the row stays in the batch: x₀ᵢ, x₁ᵢ, tᵢ, x_t,i and targetᵢ are not touched
//! ```
//!
//! The student writes
//! `fn label_dropout(batch: &mut PathSample, p_uncond: f64, uniform: &mut dyn FnMut() -> f64)`,
//! where each call of `uniform()` is a fresh U(0, 1) draw.
//!
//! The checker runs it on 60 labelled batches of 200 rows (eight classes) for p_uncond = 0.2
//! and 0.5, then at 0 and 1. Every row must stay, with its data unchanged; a label may only
//! stay or become `NULL_LABEL`; the share of ∅ must be p_uncond within 4 standard deviations;
//! the rows dropped must change from batch to batch, and within a batch some rows keep their
//! label while others lose it.

use super::text;
use super::{Checker, Exercise, Hints};
use crate::data::{EightGaussians, StandardGaussian};
use crate::field::NULL_LABEL;
use crate::loss::Cfm;
use crate::path::PathSample;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&mut PathSample, f64, &mut dyn FnMut() -> f64) + Sync;

/// Exercise guidance.1: `label_dropout`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Label dropout: hide the class of a random share of the rows, keep their data",
        points: 10,
        time_limit: Duration::from_secs(20),
        hints: Hints {
            concept: "label dropout hides the class, not the point: every row stays in the batch with its data, and \
                each row decides on its own, with a fresh random draw at every call, whether its label becomes the \
                null label ∅.",
            formula: "labels[i] = NULL_LABEL when uniform() < p_uncond, with one fresh draw for every row i of \
                batch.labels; every other field of the batch stays as it is",
        },
        ..super::registered::label_dropout
    },
    compare,
);

const ROWS: usize = 200;
const BATCHES: usize = 60;

/// Runs `f` on fresh labelled batches and checks what it did (on the calling thread, no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let (source, target) = (StandardGaussian::new(2).expect("d = 2"), EightGaussians::torchcfm());
    let mut data_rng = StdRng::seed_from_u64(0x1AB_0001);
    let mut draw_rng = StdRng::seed_from_u64(0x1AB_0002);
    let mut uniform = move || draw_rng.gen::<f64>();
    for p in [0.2, 0.5] {
        let (mut nulls, mut masks) = (0usize, Vec::with_capacity(BATCHES));
        for _ in 0..BATCHES {
            let before =
                Cfm::condot().draw_independent(&source, &target, ROWS, &mut data_rng).expect("a labelled batch");
            let mut batch = before.clone();
            f(&mut batch, p, &mut uniform);
            let mask = check_batch(&before, &batch, p)?;
            nulls += mask.iter().filter(|m| **m).count();
            masks.push(mask);
        }
        let context = format!("With p_uncond = {},", text::num(p));
        if masks.windows(2).all(|w| w[0] == w[1]) {
            return Err(format!(
                "{context} the same rows lost their label in every batch; the rows dropped must change from call \
                 to call (draw afresh with uniform() for every row), or those rows never train with their class."
            ));
        }
        if masks.iter().all(|m| m.iter().all(|&d| d == m[0])) {
            return Err(format!(
                "{context} each batch lost either all of its labels or none: one draw decided for the whole batch. \
                 Each row must draw on its own, so every batch holds both labelled and unlabelled rows."
            ));
        }
        let total = (BATCHES * ROWS) as f64;
        let share = nulls as f64 / total;
        let sd = (p * (1.0 - p) / total).sqrt();
        if (share - p).abs() > 4.0 * sd {
            let reason = if (share - (1.0 - p)).abs() < 4.0 * sd {
                " (that is 1 − p_uncond: the comparison is reversed, drop when uniform() < p_uncond)"
            } else {
                ""
            };
            return Err(format!(
                "{context} {} of {} labels became NULL_LABEL, a share of {}; expected about {} (within {}){reason}.",
                nulls,
                BATCHES * ROWS,
                text::num(share),
                text::num(p),
                text::num(4.0 * sd)
            ));
        }
    }
    for (p, want) in [(0.0, 0usize), (1.0, ROWS)] {
        let before = Cfm::condot().draw_independent(&source, &target, ROWS, &mut data_rng).expect("a labelled batch");
        let mut batch = before.clone();
        f(&mut batch, p, &mut uniform);
        let got = check_batch(&before, &batch, p)?.iter().filter(|m| **m).count();
        if got != want {
            return Err(format!(
                "With p_uncond = {}, {got} of {ROWS} labels became NULL_LABEL; expected {want}.",
                text::num(p)
            ));
        }
    }
    Ok(())
}

/// Checks that `after` is `before` with some labels replaced by `NULL_LABEL`; returns which.
fn check_batch(before: &PathSample, after: &PathSample, p: f64) -> Result<Vec<bool>, String> {
    let context = format!("With p_uncond = {},", text::num(p));
    if after.len() != before.len() || after.t.len() != before.t.len() {
        return Err(format!(
            "{context} the batch had {} rows and your function left {}: dropping a label must keep its row. The \
             point still trains the model; only its class is hidden.",
            before.len(),
            after.len()
        ));
    }
    let data_kept = after.x0 == before.x0
        && after.x1 == before.x1
        && after.t == before.t
        && after.x_t == before.x_t
        && after.target == before.target;
    if !data_kept {
        return Err(format!(
            "{context} your function changed the data of the batch (x0, x1, t, x_t or target): label dropout \
             hides the class of a row, never its point or its target: only batch.labels must change."
        ));
    }
    let (Some(was), Some(now)) = (&before.labels, &after.labels) else {
        return Err(format!(
            "{context} the batch's labels were removed (batch.labels is None): the list must stay, with single \
             entries set to NULL_LABEL."
        ));
    };
    if let Some((i, &y)) = now.iter().enumerate().find(|&(i, &y)| y != was[i] && y != NULL_LABEL) {
        return Err(format!(
            "{context} row {i}'s label {} became {y}: a dropped label must be NULL_LABEL (∅), the label no class \
             uses; any other value trains the row as the wrong class.",
            was[i]
        ));
    }
    Ok(now.iter().zip(was).map(|(&y, &old)| y == NULL_LABEL && old != NULL_LABEL).collect())
}
