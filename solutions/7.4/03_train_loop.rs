//! Exercise 7.4.3 · 20 points: the whole Conditional Flow Matching training loop.
//!
//! Exercise 7.4.2 was one step on a batch somebody else drew. Now draw the
//! batches yourself, `steps` times: noise from `source`, data from `target`,
//! one time per row, and one optimiser step on each batch:
//!
//! ```text
//! for each step:  x0 ~ source (batch rows),  x1 ~ target (batch rows),  t_i ~ U(0, 1) per row
//!                 x_t,i = t_i·x1_i + (1 − t_i)·x0_i,   target_i = x1_i − x0_i,   one optimiser step
//! ```
//!
//! Return the losses, one per step, as `model.train_step` reports them. Take
//! every random number from one generator seeded with `seed`, so that the
//! same seed gives the same run.
//!
//! Grade it: `cargo run --release --bin course -- grade train_loop`.

use flowmatch::loss::Batch;
use flowmatch::nn::{OptimizerConfig, TrainableModel};
use flowmatch::path::PathSample;
use flowmatch::rand::rngs::StdRng;
use flowmatch::rand::{Rng, SeedableRng};
use flowmatch::{Dataset, Points, Result};

/// Trains `model` for `steps` steps on batches of `batch` pairs; returns the loss of every step.
///
/// `source.sample_with(n, &mut rng)?` and `target.sample_with(n, &mut rng)?` draw n points
/// from a generator `rng` (`StdRng::seed_from_u64(seed)`), and `rng.gen_range(0.0..1.0)` is a number
/// in [0, 1). Build each step's `PathSample` as in exercise 7.4.2 and pass it to
/// `model.train_step(&Batch::Regression(sample), opt)?`, once per step.
pub fn train_loop(
    model: &mut dyn TrainableModel,
    source: &dyn Dataset,
    target: &dyn Dataset,
    steps: usize,
    batch: usize,
    seed: u64,
    opt: &OptimizerConfig,
) -> Result<Vec<f64>> {
    // BEGIN SOLUTION
    // One generator for everything: the same seed gives the same run.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        // A fresh batch every step: noise and data, paired row by row ...
        let x0 = source.sample_with(batch, &mut rng)?;
        let x1 = target.sample_with(batch, &mut rng)?;
        // ... and each row its own time, uniform on [0, 1).
        let t: Vec<f64> = (0..batch).map(|_| rng.gen_range(0.0..1.0)).collect();
        let d = x0.dim();
        let x_t = Points::from_fn(batch, d, |i, j| t[i] * x1.row(i)[j] + (1.0 - t[i]) * x0.row(i)[j]);
        let velocity = &x1 - &x0;
        let sample = PathSample { x0, x1, t, x_t, target: velocity, labels: None };
        losses.push(model.train_step(&Batch::Regression(sample), opt)?);
    }
    Ok(losses)
    // END SOLUTION
}
