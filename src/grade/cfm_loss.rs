//! Exercise 7.4.1: the CFM loss on a batch.
//!
//! With the model's predictions v_i = v_θ(x_t,i, t_i) and the CondOT targets
//! x₁ᵢ − x₀ᵢ, the Conditional Flow Matching loss of a batch of n points in d
//! dimensions is the mean squared error over every point and coordinate:
//!
//! ```text
//! L = 1/(n d) Σᵢ Σⱼ (v_ij − (x₁ᵢⱼ − x₀ᵢⱼ))²
//! ```
//!
//! which is [`crate::loss::mse`]`(pred, x₁ − x₀)`. The student writes
//! `fn cfm_loss(pred: &Points, x0: &Points, x1: &Points) -> f64`.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::loss::mse;
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&Points, &Points, &Points) -> f64 + Sync;

/// Exercise 7.4.1: `cfm_loss`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The CFM loss: mean squared error against the conditional velocities",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the loss is a mean squared error: the target of each row is the velocity of its own straight \
                path from x0 to x1 (exercise 7.3.2), and the mean runs over every number of the batch, points and \
                coordinates alike (no square root).",
            formula: "L = Σ_i Σ_j (pred_ij − (x1_ij − x0_ij))² / (n·d)",
        },
        ..super::registered::cfm_loss
    },
    compare,
);

fn gaussian(rng: &mut StdRng, n: usize, d: usize, scale: f64, shift: f64) -> Points {
    Points::from_fn(n, d, |_, _| scale * rng.sample::<f64, _>(StandardNormal) + shift)
}

/// Compares `f` with `mse(pred, x1 − x0)` on batches of several shapes, on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let mut rng = StdRng::seed_from_u64(0x7404);
    for (n, d) in [(7usize, 2usize), (1, 1), (1, 3), (5, 1), (64, 2), (10, 5), (3, 2)] {
        let x0 = gaussian(&mut rng, n, d, 1.0, 0.0);
        let x1 = gaussian(&mut rng, n, d, 2.0, 1.0);
        let target = x1.plus_scaled(-1.0, &x0);
        // The last batch predicts the target exactly: its loss is 0.
        let pred = if (n, d) == (3, 2) {
            target.clone()
        } else {
            Points::from_fn(n, d, |i, j| 0.5 * target.row(i)[j] + rng.gen::<f64>() - 0.5)
        };
        let want = mse(&pred, &target).map_err(setup)?;
        let got = f(&pred, &x0, &x1);
        if !close(got, want, 1e-9) {
            let flipped = mse(&pred, &x0.plus_scaled(-1.0, &x1)).map_err(setup)?;
            let total = want * (n * d) as f64;
            let suspects = [
                ("that is the sum of the squares over the batch, not their mean", vec![total]),
                ("that averages over the points but sums over the coordinates", vec![want * d as f64]),
                (
                    "that is the square root of the loss, an RMSE; the loss is the mean of the squares",
                    vec![want.sqrt()],
                ),
                ("the target has the wrong sign: it points from the data to the noise", vec![flipped]),
            ];
            let (g, w) = text::num_pair(got, want);
            let sample = if n == 1 {
                format!(
                    " (pred = {}, x0 = {}, x1 = {})",
                    text::vector(pred.row(0)),
                    text::vector(x0.row(0)),
                    text::vector(x1.row(0))
                )
            } else {
                String::new()
            };
            return Err(format!(
                "For a batch of {n} point{} in {d} dimension{}{sample} your loss was {g}; expected {w}{}.",
                if n == 1 { "" } else { "s" },
                if d == 1 { "" } else { "s" },
                text::remark(text::diagnose(&[got], &suspects, 1e-9))
            ));
        }
    }
    Ok(())
}
