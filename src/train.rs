//! The training loop: draw a CFM batch, take one optimiser step, repeat.
//!
//! ```text
//! for step in 1..=steps:
//!     x₀ ~ p₀, x₁ ~ p₁, paired by the coupling;  t ~ p(t)
//!     x_t = α_t x₁ + σ_t x₀ (+ σ ε);  target = α̇_t x₁ + σ̇_t x₀
//!     θ ← optimiser step on ‖v_θ(x_t, t) − target‖²
//! ```
//!
//! [`Trainer`] holds the settings ([`TrainConfig`]) and the problem (source,
//! target, coupling, CFM objective); [`Trainer::train`] runs the loop on any
//! [`TrainableModel`] and returns a [`TrainReport`] with the loss history.
//! Runs are bit-identical under the same seed on the CPU. A NaN or infinite
//! loss stops the run with [`Error::NonFiniteLoss`] naming the step, before
//! the bad step touches the weights. Progress is shown as a live line in a
//! terminal and as periodic lines elsewhere (notebooks, CI logs).

use crate::coupling::{Coupling, Independent};
use crate::data::{Dataset, StandardGaussian};
use crate::error::{Error, Result};
use crate::loss::Cfm;
use crate::model::{OptimizerConfig, OptimizerKind, TrainableModel};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::io::{IsTerminal, Write};
use std::time::Instant;

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

/// A training problem and its settings: learn the flow from `source` (p₀) to `target` (p₁).
///
/// It is not generic, so notebook cells run the copy compiled (optimised) in the library.
pub struct Trainer {
    source: Box<dyn Dataset>,
    target: Box<dyn Dataset>,
    coupling: Box<dyn Coupling>,
    cfm: Cfm,
    config: TrainConfig,
    checkpoint: Option<(std::path::PathBuf, usize)>,
}

impl Trainer {
    /// Learn N(0, I) → `target` with CFM on the CondOT path and the default settings.
    pub fn new(target: impl Dataset + 'static) -> Self {
        let dim = target.dim();
        let source = StandardGaussian::new(dim).expect("a dataset has dimension ≥ 1");
        Trainer {
            source: Box::new(source),
            target: Box::new(target),
            coupling: Box::new(Independent),
            cfm: Cfm::condot(),
            config: TrainConfig::default(),
            checkpoint: None,
        }
    }

    /// Uses `source` as p₀ instead of N(0, I).
    pub fn source(mut self, source: impl Dataset + 'static) -> Self {
        self.source = Box::new(source);
        self
    }
    /// Uses another coupling of (x₀, x₁).
    pub fn coupling(mut self, coupling: impl Coupling + 'static) -> Self {
        self.coupling = Box::new(coupling);
        self
    }
    /// Uses another CFM objective (path, σ, time sampler).
    pub fn cfm(mut self, cfm: Cfm) -> Self {
        self.cfm = cfm;
        self
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
    /// Adam (the default) or AdamW.
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
    pub fn objective(&self) -> &Cfm {
        &self.cfm
    }
    /// The source distribution p₀.
    pub fn source_dataset(&self) -> &dyn Dataset {
        self.source.as_ref()
    }
    /// The target distribution p₁.
    pub fn target_dataset(&self) -> &dyn Dataset {
        self.target.as_ref()
    }

    /// The settings and the problem as JSON, for checkpoints.
    pub fn describe_json(&self) -> serde_json::Value {
        serde_json::json!({
            "config": self.config,
            "source": self.source.name(),
            "target": self.target.name(),
            "coupling": self.coupling.name(),
            "objective": self.cfm.describe(),
        })
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
        self.config.validate()?;
        if self.source.dim() != model.dim() || self.target.dim() != model.dim() {
            return Err(Error::shape(
                "the training problem",
                format!("datasets of the model's dimension {}", model.dim()),
                format!("source dimension {}, target dimension {}", self.source.dim(), self.target.dim()),
            ));
        }
        let first_step = model.steps_trained();
        let mut rng = StdRng::seed_from_u64(self.config.seed ^ (first_step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut progress = ProgressLine::new(self.config.progress, self.config.steps);
        let mut losses = Vec::with_capacity(self.config.steps);
        let start = Instant::now();
        for i in 1..=self.config.steps {
            let batch = self.cfm.draw(
                self.source.as_ref(),
                self.target.as_ref(),
                self.coupling.as_ref(),
                self.config.batch_size,
                &mut rng,
            )?;
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

/// Prints progress: step, loss (smoothed), rate and time left.
struct ProgressLine {
    mode: Progress,
    total: usize,
    every: usize,
    last_print: Instant,
    smoothed: Option<f64>,
}

impl ProgressLine {
    fn new(mode: Progress, total: usize) -> Self {
        let mode = match mode {
            Progress::Auto if std::io::stderr().is_terminal() => Progress::Live,
            Progress::Auto => Progress::Lines,
            m => m,
        };
        ProgressLine { mode, total, every: total.div_ceil(10).max(1), last_print: Instant::now(), smoothed: None }
    }

    fn text(&self, step: usize, start: Instant) -> String {
        let secs = start.elapsed().as_secs_f64();
        let rate = step as f64 / secs.max(1e-9);
        let left = (self.total - step) as f64 / rate.max(1e-9);
        let width = self.total.to_string().len();
        let loss = self.smoothed.map(|l| format!("{l:.4}")).unwrap_or_else(|| "-".into());
        format!(
            "step {step:>width$}/{} [{:>3.0}%]  loss {loss}  {rate:.0} steps/s  {secs:.1}s elapsed, ~{left:.1}s left",
            self.total,
            100.0 * step as f64 / self.total as f64
        )
    }

    fn update(&mut self, step: usize, loss: f64, start: Instant) {
        self.smoothed = Some(match self.smoothed {
            None => loss,
            Some(s) => 0.95 * s + 0.05 * loss,
        });
        match self.mode {
            Progress::Lines if step.is_multiple_of(self.every) || step == 1 => {
                println!("{}", self.text(step, start));
                let _ = std::io::stdout().flush();
            }
            Progress::Live if self.last_print.elapsed().as_millis() >= 100 || step == self.total => {
                self.last_print = Instant::now();
                let mut e = std::io::stderr();
                let _ = write!(e, "\r{}\x1b[K", self.text(step, start));
                let _ = e.flush();
            }
            _ => {}
        }
    }

    fn finish(&mut self, step: usize, _loss: Option<f64>, start: Instant) {
        match self.mode {
            Progress::Live => {
                let _ = writeln!(std::io::stderr(), "\r{}\x1b[K", self.text(step, start));
            }
            Progress::Lines if !step.is_multiple_of(self.every) && step > 1 => println!("{}", self.text(step, start)),
            _ => {}
        }
    }
}
