//! Objectives: what a model learns from, one batch at a time.
//!
//! Flow Matching wants v_θ(x, t) ≈ u_t(x), the marginal velocity, which is out
//! of reach. Conditional Flow Matching regresses the conditional velocity instead,
//!
//! ```text
//! L_CFM(θ) = E_{t ~ p(t), (x₀, x₁) ~ π, x_t = α_t x₁ + σ_t x₀ (+ σ ε)} ‖v_θ(x_t, t) − (α̇_t x₁ + σ̇_t x₀)‖²
//! L_NLL(θ) = −E_{x ~ p_data} log p_θ(x)                                   (maximum likelihood)
//! ```
//!
//! and has the same gradients (topic 7.3). An [`Objective`] draws one
//! [`Batch`] per training step; the [trainer](crate::train::Trainer) hands it
//! to the model, which takes one optimiser step on it. A regression objective
//! draws [`Batch::Regression`] (a [`PathSample`] with its target); a
//! likelihood objective draws [`Batch::Samples`]. Each later objective
//! (ε-matching for diffusion, label dropout for guidance, NLL for flows) is a
//! new `Objective`, not a new trainer.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | [`Objective`], [`Batch`], [`mse`] |
//! | `cfm.rs` | [`Cfm`] (the CFM batch on any path, I-CFM noise σ, [`TimeSampler`]), [`CfmObjective`] (source, target, coupling, label dropout) |
//! | `dropout.rs` | [`drop_labels`]: label dropout, the null label ∅ on a random share p_uncond of the rows |
//! | `likelihood.rs` | [`Likelihood`]: plain data samples for maximum-likelihood training |
//! | `method.rs` | [`CfmMethod`]: the variants by name (I-CFM, OT-CFM, Sinkhorn, SB-CFM, FM, VP-CFM), each a path plus a coupling |
//!
//! [`mse`] is the regression loss itself, averaged over the batch and the coordinates.

use crate::error::{Error, Result};
use crate::path::PathSample;
use crate::points::Points;
use rand::RngCore;

mod cfm;
mod dropout;
mod likelihood;
mod method;

pub use cfm::{Cfm, CfmObjective, TimeSampler};
pub use dropout::{check_dropout, drop_labels};
pub use likelihood::Likelihood;
pub use method::CfmMethod;

/// One training batch, as an objective draws it.
#[derive(Clone, Debug, PartialEq)]
pub enum Batch {
    /// A regression batch: the model maps (x_t, t) to `target` (CFM, ε-matching, ...).
    Regression(PathSample),
    /// Plain data samples, with their labels when the data has classes (maximum likelihood).
    Samples {
        /// The samples, one per row.
        x: Points,
        /// The class of each sample, when the data has classes.
        labels: Option<Vec<usize>>,
    },
}

impl Batch {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Batch::Regression(s) => s.len(),
            Batch::Samples { x, .. } => x.len(),
        }
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What kind of batch this is, for messages: `"a regression batch (path samples)"` or `"plain samples"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Batch::Regression(_) => "a regression batch (path samples)",
            Batch::Samples { .. } => "plain samples (a maximum-likelihood batch)",
        }
    }
}

impl From<PathSample> for Batch {
    fn from(s: PathSample) -> Self {
        Batch::Regression(s)
    }
}

/// What a model learns from: draws one [`Batch`] per training step.
///
/// The [trainer](crate::train::Trainer) is written once against this trait;
/// progress, NaN detection, determinism under a seed and checkpoints come with
/// it for every objective. The trait is object safe and not generic, so
/// notebook cells run the trainer compiled (optimised) with the library.
pub trait Objective {
    /// A short name for logs, e.g. `"CFM(CondOT, σ = 0, t ~ Uniform)"`.
    fn name(&self) -> String;

    /// The objective's settings as JSON, stored in checkpoints next to the trainer's settings.
    fn describe(&self) -> serde_json::Value;

    /// The dimension of the data the batches hold.
    fn dim(&self) -> usize;

    /// Errors unless a model of dimension `dim` can learn from these batches
    /// (by default: `dim` must equal [`Objective::dim`]).
    fn check_model_dim(&self, dim: usize) -> Result<()> {
        if self.dim() != dim {
            return Err(Error::shape(
                "the training problem",
                format!("data of the model's dimension {dim}"),
                format!("{} with data of dimension {}", self.name(), self.dim()),
            ));
        }
        Ok(())
    }

    /// Draws a batch of `n` rows from `rng` (the trainer's seeded stream).
    fn draw(&self, n: usize, rng: &mut dyn RngCore) -> Result<Batch>;
}

/// The mean squared error `1/(n d) Σ_i ‖pred_i − target_i‖²`, the CFM loss on a batch.
pub fn mse(pred: &Points, target: &Points) -> Result<f64> {
    pred.check_same_shape(target, "the CFM loss (prediction vs target)")?;
    if pred.is_empty() {
        return Err(Error::ZeroCount { what: "the batch size of the CFM loss".into() });
    }
    let s: f64 = pred.as_slice().iter().zip(target.as_slice()).map(|(a, b)| (a - b) * (a - b)).sum();
    Ok(s / pred.as_slice().len() as f64)
}
