//! Exercise 7.4.2 · 20 points: one Conditional Flow Matching training step.
//!
//! This is the body of the training loop. Given a batch of noise points x0,
//! data points x1 (paired row by row) and one time per row, build the CondOT
//! regression batch and let the model take one optimiser step on it:
//!
//! ```text
//! x_t,i    = t_i·x1_i + (1 − t_i)·x0_i      (exercise 7.3.1, with each row's own time)
//! target_i = x1_i − x0_i                      (exercise 7.3.2)
//! ```
//!
//! The model computes the loss of exercise 7.4.1 on (x_t, t) → target and updates
//! its weights to lower it.
//!
//! Grade it: `cargo run --release --bin course -- grade train_step`.

use flowmatch::loss::Batch;
use flowmatch::nn::{OptimizerConfig, TrainableModel};
use flowmatch::path::PathSample;
use flowmatch::Points;

/// One training step on the batch (x0, x1, t); returns the loss before the update.
///
/// `x0` and `x1` hold n points of the model's dimension d, `t` holds n times.
/// Build x_t and the target as n × d `Points` (`Points::from_fn(n, d, |i, j| …)`
/// and `x1 - x0` help), put them with the pairs in a
/// `PathSample { x0: x0.clone(), x1: x1.clone(), t, x_t, target, labels: None }`
/// (`t` as a `Vec<f64>`), call `model.train_step(&Batch::Regression(sample), opt)`
/// exactly once and return the loss it gives back (it returns a `Result<f64>`;
/// `.expect(…)` it).
pub fn train_step(model: &mut dyn TrainableModel, x0: &Points, x1: &Points, t: &[f64], opt: &OptimizerConfig) -> f64 {
    todo!()
}
