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
    todo!()
}
