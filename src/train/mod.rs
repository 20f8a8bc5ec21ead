//! The training loop, once for every objective: draw a batch, take one optimiser step, repeat.
//!
//! ```text
//! for step in 1..=steps:
//!     B ~ objective                    (CFM: x₀ ~ p₀, x₁ ~ p₁ paired by π; t ~ p(t);
//!                                             x_t = α_t x₁ + σ_t x₀ (+ σ ε);  target = α̇_t x₁ + σ̇_t x₀)
//!     θ ← optimiser step on loss(θ; B)   (CFM: ‖v_θ(x_t, t) − target‖²)
//! ```
//!
//! [`Trainer`] holds the settings ([`TrainConfig`]) and the [`Objective`]
//! (by default CFM: source, target, coupling, path); [`Trainer::train`] runs
//! the loop on any [`TrainableModel`] and returns a [`TrainReport`] with the
//! loss history. Another objective (maximum likelihood for a flow, ε-matching
//! for diffusion) plugs in with [`Trainer::objective`].
//! Runs are bit-identical under the same seed on the CPU. A NaN or infinite
//! loss stops the run with [`Error::NonFiniteLoss`] naming the step, before
//! the bad step touches the weights. Progress is shown as a live line in a
//! terminal and as periodic lines elsewhere (notebooks, CI logs).

use crate::coupling::Coupling;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::loss::{Cfm, CfmMethod, CfmObjective, Objective};
use crate::nn::{Device, OptimizerConfig, OptimizerKind, TrainableModel};
use progress::ProgressLine;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

mod progress;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Progress {
    /// A live line when stderr is a terminal, otherwise about ten plain lines.
    #[default]
    Auto,
    /// About ten plain lines on stdout (what a notebook cell shows).
    Lines,
    /// A live, overwritten line on stderr.
    Live,
    /// Nothing.
    Off,
}

/// The settings of one training run. Saved with checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of optimiser steps.
    pub steps: usize,
    /// Points per batch.
    pub batch_size: usize,
    /// Optimiser and learning rate.
    pub optimizer: OptimizerConfig,
    /// Seed of the batch stream (the model's initial weights have their own seed).
    pub seed: u64,
    /// How progress is shown.
    pub progress: Progress,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            steps: 1000,
            batch_size: 256,
            optimizer: OptimizerConfig::default(),
            seed: 0,
            progress: Progress::Auto,
        }
    }
}

impl TrainConfig {
    /// Errors unless the counts are positive and the optimiser settings valid.
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(Error::ZeroCount { what: "the number of training steps".into() });
        }
        if self.batch_size == 0 {
            return Err(Error::ZeroCount { what: "the batch size".into() });
        }
        self.optimizer.validate()
    }
}

/// What a training run returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// The loss of every step of this run, in order.
    pub losses: Vec<f64>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Optimiser steps the model had seen before this run.
    pub first_step: usize,
}

impl TrainReport {
    /// Steps taken in this run.
    pub fn steps(&self) -> usize {
        self.losses.len()
    }
    /// Steps per second.
    pub fn steps_per_second(&self) -> f64 {
        self.losses.len() as f64 / self.seconds.max(1e-12)
    }
    /// The mean loss of the last `k` steps (or of all, if fewer).
    pub fn final_loss(&self, k: usize) -> f64 {
        let k = k.clamp(1, self.losses.len().max(1));
        let tail = &self.losses[self.losses.len().saturating_sub(k)..];
        tail.iter().sum::<f64>() / tail.len().max(1) as f64
    }
}

/// What a trainer optimises: the default CFM objective (whose parts the builder
/// methods set), or any other [`Objective`].
enum Problem {
    Cfm(CfmObjective),
    Other(Box<dyn Objective>),
}

impl Problem {
    fn objective(&self) -> &dyn Objective {
        match self {
            Problem::Cfm(c) => c,
            Problem::Other(o) => o.as_ref(),
        }
    }
}

/// A training problem and its settings: an [`Objective`] (by default, learn the
/// flow from `source` (p₀) to `target` (p₁) by CFM) and a [`TrainConfig`].
///
/// It is not generic, so notebook cells run the copy compiled (optimised) in the library.
pub struct Trainer {
    problem: Problem,
    config: TrainConfig,
    checkpoint: Option<(std::path::PathBuf, usize)>,
    /// The device to train on, when one was asked for (else the model's own).
    device: Option<Device>,
    /// A builder method that did not apply (reported by [`Trainer::train`]).
    misuse: Option<Error>,
}

impl Trainer {
    /// Learn N(0, I) → `target` with CFM on the CondOT path and the default settings.
    pub fn new(target: impl Dataset + 'static) -> Self {
        Trainer::with_problem(Problem::Cfm(CfmObjective::new(target)))
    }

    /// Train on any objective (maximum likelihood, ε-matching, ...) with the default settings.
    pub fn for_objective(objective: impl Objective + 'static) -> Self {
        Trainer::with_problem(Problem::Other(Box::new(objective)))
    }

    fn with_problem(problem: Problem) -> Self {
        Trainer { problem, config: TrainConfig::default(), checkpoint: None, device: None, misuse: None }
    }

    /// Replaces the objective (the CFM objective by default) with `objective`.
    pub fn objective(mut self, objective: impl Objective + 'static) -> Self {
        self.problem = Problem::Other(Box::new(objective));
        self
    }

    /// Applies `f` to the CFM objective, or records that a CFM setting was given to another objective.
    fn cfm_part(mut self, what: &str, f: impl FnOnce(&mut CfmObjective)) -> Self {
        match &mut self.problem {
            Problem::Cfm(c) => f(c),
            Problem::Other(o) => {
                self.misuse = Some(Error::invalid(
                    format!("Trainer::{what}"),
                    format!(
                        "it sets a part of the default CFM objective, but this trainer optimises {}; set it \
                         inside that objective instead",
                        o.name()
                    ),
                ))
            }
        }
        self
    }

    /// Uses `source` as p₀ instead of N(0, I) (CFM objective).
    pub fn source(self, source: impl Dataset + 'static) -> Self {
        self.cfm_part("source", |c| c.set_source(Box::new(source)))
    }
    /// Uses another coupling of (x₀, x₁) (CFM objective).
    pub fn coupling(self, coupling: impl Coupling + 'static) -> Self {
        self.cfm_part("coupling", |c| c.set_coupling(Box::new(coupling)))
    }
    /// Uses a Flow Matching variant with noise σ: its path and its coupling (CFM objective),
    /// e.g. `.method(CfmMethod::OtCfm, 0.1)` for OT-CFM as TorchCFM runs it.
    pub fn method(self, method: CfmMethod, sigma: f64) -> Self {
        let parts = method.cfm(sigma).and_then(|cfm| Ok((cfm, method.coupling(sigma)?)));
        match parts {
            Ok((cfm, coupling)) => self.cfm_part("method", |c| {
                c.set_cfm(cfm);
                c.set_coupling(coupling);
            }),
            Err(e) => Trainer { misuse: Some(e), ..self },
        }
    }
    /// Uses other CFM settings: path, σ, time sampler (CFM objective).
    pub fn cfm(self, cfm: Cfm) -> Self {
        self.cfm_part("cfm", |c| c.set_cfm(cfm))
    }
    /// Label dropout with probability `p_uncond` (CFM objective; see
    /// [`CfmObjective::with_label_dropout`]): every step, each row's label becomes ∅ with
    /// probability `p_uncond`. A value outside [0, 1] is reported by [`Trainer::train`].
    pub fn label_dropout(self, p_uncond: f64) -> Self {
        let mut bad = None;
        let mut this = self.cfm_part("label_dropout", |c| bad = c.set_label_dropout(p_uncond).err());
        if bad.is_some() {
            this.misuse = bad;
        }
        this
    }
    /// Replaces all settings at once.
    pub fn config(mut self, config: TrainConfig) -> Self {
        self.config = config;
        self
    }
    /// Number of optimiser steps.
    pub fn steps(mut self, steps: usize) -> Self {
        self.config.steps = steps;
        self
    }
    /// Points per batch.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.config.batch_size = n;
        self
    }
    /// Learning rate.
    pub fn lr(mut self, lr: f64) -> Self {
        self.config.optimizer.lr = lr;
        self
    }
    /// Adam (the default), AdamW or Adam with L2 weight decay.
    pub fn optimizer(mut self, kind: OptimizerKind) -> Self {
        self.config.optimizer.kind = kind;
        self
    }
    /// Seed of the batch stream.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }
    /// How progress is shown.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.config.progress = progress;
        self
    }
    /// Trains on `device`: the model is moved there first (keeping its weights) and stays there,
    /// so sampling it afterwards runs there too. Without this, the model trains where it lives
    /// (the CPU unless it was moved). A GPU needs the `cuda` feature (see [`Device`]).
    pub fn device(mut self, device: Device) -> Self {
        self.device = Some(device);
        self
    }
    /// Saves a checkpoint to `path` every `every` steps and at the end.
    pub fn checkpoint_every(mut self, every: usize, path: impl Into<std::path::PathBuf>) -> Self {
        self.checkpoint = Some((path.into(), every.max(1)));
        self
    }
    /// The settings.
    pub fn settings(&self) -> &TrainConfig {
        &self.config
    }
    /// The objective.
    pub fn current_objective(&self) -> &dyn Objective {
        self.problem.objective()
    }

    /// The settings and the objective as JSON, for checkpoints: the objective's
    /// [`Objective::describe`] with `"config"` added.
    pub fn describe_json(&self) -> serde_json::Value {
        let config = serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null);
        match self.problem.objective().describe() {
            serde_json::Value::Object(mut map) => {
                map.insert("config".into(), config);
                serde_json::Value::Object(map)
            }
            other => serde_json::json!({ "config": config, "objective": other }),
        }
    }

    /// Trains `model` for the configured number of steps and returns the loss history.
    ///
    /// Calling it again continues training: the optimiser state is kept and the
    /// batch stream moves on (it is seeded by the seed and the model's step count).
    ///
    /// With [`Trainer::checkpoint_every`], a checkpoint is written (atomically) on the way and at the end.
    pub fn train(&self, model: &mut dyn TrainableModel) -> Result<TrainReport> {
        let json = self.describe_json();
        let report = self.run(model, &mut |m: &dyn TrainableModel, step: usize| match &self.checkpoint {
            Some((path, every)) if step.is_multiple_of(*every) => m.save_checkpoint(path, Some(json.clone())),
            _ => Ok(()),
        })?;
        if let Some((path, every)) = &self.checkpoint {
            if !model.steps_trained().is_multiple_of(*every) {
                model.save_checkpoint(path, Some(json))?;
            }
        }
        Ok(report)
    }

    fn run(
        &self,
        model: &mut dyn TrainableModel,
        after_step: &mut dyn FnMut(&dyn TrainableModel, usize) -> Result<()>,
    ) -> Result<TrainReport> {
        if let Some(e) = &self.misuse {
            return Err(e.clone());
        }
        self.config.validate()?;
        if let Some(device) = self.device {
            model.to_device(device)?;
        }
        let objective = self.problem.objective();
        objective.check_model_dim(model.dim())?;
        let first_step = model.steps_trained();
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ (first_step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut progress = ProgressLine::new(self.config.progress, self.config.steps);
        let mut losses = Vec::with_capacity(self.config.steps);
        let start = Instant::now();
        for i in 1..=self.config.steps {
            let batch = objective.draw(self.config.batch_size, &mut rng)?;
            let loss = match model.train_step(&batch, &self.config.optimizer) {
                Ok(l) => l,
                Err(Error::NonFiniteLoss { value, .. }) => {
                    progress.finish(i - 1, losses.last().copied(), start);
                    return Err(Error::NonFiniteLoss { step: first_step + i, value });
                }
                Err(e) => return Err(e),
            };
            losses.push(loss);
            progress.update(i, loss, start);
            after_step(model, first_step + i)?;
        }
        progress.finish(self.config.steps, losses.last().copied(), start);
        Ok(TrainReport { losses, seconds: start.elapsed().as_secs_f64(), first_step })
    }
}
