//! Exercise 7.4.2: one Conditional Flow Matching training step.
//!
//! The body of the training loop: given a batch of noise points x₀, data
//! points x₁ and times t (one per row), build the CFM regression batch on the
//! CondOT path and take one optimiser step on it:
//!
//! ```text
//! x_t,i    = t_i x₁ᵢ + (1 − t_i) x₀ᵢ          (exercise 1, row by row)
//! target_i = x₁ᵢ − x₀ᵢ                          (exercise 2)
//! loss     = 1/(n d) Σᵢ ‖v_θ(x_t,i, t_i) − target_i‖²   (exercise 4), minimised by one Adam step
//! ```
//!
//! The student writes
//! `fn train_step(model: &mut dyn TrainableModel, x0: &Points, x1: &Points, t: &[f64], opt: &OptimizerConfig) -> f64`,
//! which puts the batch in a [`PathSample`] (no labels), calls
//! [`TrainableModel::train_step`] once on it (as a [`Batch::Regression`]) and
//! returns what it returns: the loss before the update.
//!
//! The checker trains a fresh `Net::mlp(2, 32)` on one fixed batch (t = 0,
//! t = 1 and t close to 1 included) by calling the student's function 30
//! times. Before every call it computes the true CFM loss of the model on that
//! batch, with the correct x_t and target; the value the student's function
//! returns must equal it (so a flipped target or swapped t and 1 − t fail on
//! the first call), each call must take exactly one optimiser step, and the
//! true loss must drop by at least 30 % over the 30 calls. A short second run
//! on a one-dimensional model checks that nothing assumes d = 2.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::loss::Batch;
use crate::nn::{MlpConfig, Net, OptimizerConfig, OptimizerKind, TrainableModel};
use crate::path::PathSample;
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&mut dyn TrainableModel, &Points, &Points, &[f64], &OptimizerConfig) -> f64 + Sync;

/// Exercise 7.4.2: `train_step`, 20 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "One CFM training step: the regression batch, then one optimiser step",
        points: 20,
        time_limit: Duration::from_secs(60),
        hints: Hints {
            concept: "each row lives at its own time t[i] on its own straight path from x0_i to x1_i, and its \
                regression target is that path's velocity; build the batch from the pairs (no labels), let the model \
                take exactly one optimiser step on it, and return the loss that step reports.",
            formula: "x_t[i] = t[i]·x1_i + (1 − t[i])·x0_i; target[i] = x1_i − x0_i; loss = \
                model.train_step(&Batch::Regression(PathSample { x0, x1, t, x_t, target, labels: None }), opt), \
                called once",
        },
        ..super::registered::train_step
    },
    compare,
);

/// Calls of the student's function in the main run.
const STEPS: usize = 30;
/// The true loss must end below this fraction of where it started.
const MAX_RATIO: f64 = 0.7;

/// The regression batch with x_t = a_i x₁ + b_i x₀ and target = c (x₁ − x₀), (a_i, b_i) from `coef(t_i)`.
fn batch(x0: &Points, x1: &Points, t: &[f64], coef: impl Fn(f64) -> (f64, f64), sign: f64) -> Batch {
    let (a, b): (Vec<f64>, Vec<f64>) = t.iter().map(|&s| coef(s)).unzip();
    let x_t = x1.scale_rows(&a) + x0.scale_rows(&b);
    let target = sign * (x1 - x0);
    Batch::Regression(PathSample { x0: x0.clone(), x1: x1.clone(), t: t.to_vec(), x_t, target, labels: None })
}

/// One training run: `calls` calls of `f` on a fixed batch of `n` points in `dim` dimensions.
/// Returns the true loss before the first and after the last call.
fn run(f: &StudentFn, dim: usize, n: usize, calls: usize, seed: u64) -> Result<(f64, f64), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Net::mlp_with(dim, 32, MlpConfig { seed, ..MlpConfig::default() }).map_err(setup)?;
    let x0 = Points::from_fn(n, dim, |_, _| rng.sample(StandardNormal));
    let x1 = Points::from_fn(n, dim, |_, j| 0.3 * rng.sample::<f64, _>(StandardNormal) + [2.5, -1.5][j % 2]);
    let mut t: Vec<f64> = (0..n).map(|_| rng.gen::<f64>()).collect();
    t[0] = 0.0;
    t[1] = 1.0;
    t[2] = 1.0 - 1e-6;
    let opt = OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-2 };
    let good = batch(&x0, &x1, &t, |s| (s, 1.0 - s), 1.0);
    let suspects = [
        (
            "the loss with the target x0 − x1: the sign of the target is flipped",
            batch(&x0, &x1, &t, |s| (s, 1.0 - s), -1.0),
        ),
        (
            "the loss with t and 1 − t are swapped in x_t: each path runs from the data to the noise",
            batch(&x0, &x1, &t, |s| (1.0 - s, s), 1.0),
        ),
        ("the loss with x_t = x0: the points were not moved along the path", batch(&x0, &x1, &t, |_| (0.0, 1.0), 1.0)),
        ("the loss with x_t = x1: the points were not moved along the path", batch(&x0, &x1, &t, |_| (1.0, 0.0), 1.0)),
    ];
    let first = model.loss(&good).map_err(setup)?;
    for call in 1..=calls {
        let before = model.loss(&good).map_err(setup)?;
        let mut suspect_losses = Vec::with_capacity(suspects.len());
        for (what, b) in &suspects {
            suspect_losses.push((*what, vec![model.loss(b).map_err(setup)?]));
        }
        let steps_before = model.steps_trained();
        let got = f(&mut model, &x0, &x1, &t, &opt);
        let taken = model.steps_trained().saturating_sub(steps_before);
        let context =
            format!("On call {call} (a batch of {n} points in {dim} dimension{}),", if dim == 1 { "" } else { "s" });
        if taken != 1 {
            return Err(format!(
                "{context} your train_step took {taken} optimiser steps (calls of model.train_step); it must take \
                 exactly one."
            ));
        }
        if !close(got, before, 1e-4) {
            let (g, w) = text::num_pair(got, before);
            let why = text::diagnose(&[got], &suspect_losses, 1e-4).map(|d| format!("yours is {d}"));
            return Err(format!(
                "{context} your train_step returned {g}; expected {w}, the model's CFM loss on the correct regression \
                 batch before the step{}.",
                text::remark(why.as_deref())
            ));
        }
    }
    let last = model.loss(&good).map_err(setup)?;
    Ok((first, last))
}

/// Trains fresh models with `f` and checks the returned losses, the number of
/// optimiser steps and the drop of the true CFM loss, on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let (first, last) = run(f, 2, 128, STEPS, 0x7407)?;
    let dropped = last < MAX_RATIO * first;
    if !dropped {
        let (a, b) = text::num_pair(first, last);
        return Err(format!(
            "After {STEPS} calls on the same batch the true CFM loss went from {a} to {b}; with the right batch it \
             drops below {} % of where it started. Pass `opt` on to model.train_step unchanged.",
            MAX_RATIO * 100.0
        ));
    }
    run(f, 1, 16, 3, 0x7417)?;
    Ok(())
}
