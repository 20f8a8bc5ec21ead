//! The Conditional Flow Matching (CFM) objective.
//!
//! Flow Matching wants v_θ(x, t) ≈ u_t(x), the marginal velocity, which is out
//! of reach. CFM regresses the conditional velocity instead,
//!
//! ```text
//! L_CFM(θ) = E_{t ~ p(t), (x₀, x₁) ~ π, x_t = α_t x₁ + σ_t x₀ (+ σ ε)} ‖v_θ(x_t, t) − (α̇_t x₁ + σ̇_t x₀)‖²
//! ```
//!
//! and has the same gradients (topic 7.3). [`Cfm`] draws the regression batch
//! (x_t, t, target) on any [`AffinePath`]; the model does the regression.
//! [`mse`] is the loss itself, averaged over the batch and the coordinates.

use crate::coupling::{Coupling, Independent};
use crate::data::Dataset;
use crate::error::{Error, Result};
pub use crate::model::TrainBatch;
use crate::path::AffinePath;
use crate::path::{CondOT, Scheduler};
use crate::points::Points;
use rand::{Rng, RngCore};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// How the training times t are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum TimeSampler {
    /// t ~ U(0, 1).
    #[default]
    Uniform,
    /// t = sigmoid(m + s·z), z ~ N(0, 1): more weight in the middle of the path (s > 0).
    LogitNormal {
        /// Location m of the normal before the sigmoid.
        mean: f64,
        /// Scale s > 0 of the normal before the sigmoid.
        std: f64,
    },
}

impl TimeSampler {
    /// The logit-normal sampler with m = 0, s = 1.
    pub fn logit_normal() -> Self {
        TimeSampler::LogitNormal { mean: 0.0, std: 1.0 }
    }

    /// Errors unless the parameters are finite and `std > 0`.
    pub fn validate(&self) -> Result<()> {
        if let TimeSampler::LogitNormal { mean, std } = *self {
            if !(mean.is_finite() && std.is_finite() && std > 0.0) {
                return Err(Error::invalid(
                    "logit-normal time sampler",
                    format!("mean = {mean}, std = {std}: both must be finite and std > 0 (try mean 0, std 1)"),
                ));
            }
        }
        Ok(())
    }

    /// Draws `n` times in [0, 1].
    pub fn sample(&self, n: usize, rng: &mut dyn RngCore) -> Vec<f64> {
        match *self {
            TimeSampler::Uniform => (0..n).map(|_| rng.gen::<f64>()).collect(),
            TimeSampler::LogitNormal { mean, std } => (0..n)
                .map(|_| {
                    let z: f64 = rng.sample(StandardNormal);
                    1.0 / (1.0 + (-(mean + std * z)).exp())
                })
                .collect(),
        }
    }
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

/// The CFM objective on an affine path, with optional extra noise σ (I-CFM) and a time sampler.
///
/// It is not generic, so notebook cells use the copy compiled (optimised) in the library.
#[derive(Debug)]
pub struct Cfm {
    path: AffinePath<Box<dyn Scheduler>>,
    sigma: f64,
    time: TimeSampler,
}

impl Cfm {
    /// CFM on the CondOT path x_t = t x₁ + (1 − t) x₀, target x₁ − x₀.
    pub fn condot() -> Self {
        Cfm::new(CondOT).expect("CondOT hits its endpoints")
    }

    /// I-CFM (TorchCFM's `ConditionalFlowMatcher`): x_t = t x₁ + (1 − t) x₀ + σ ε, target x₁ − x₀.
    pub fn icfm(sigma: f64) -> Result<Self> {
        Cfm::condot().with_sigma(sigma)
    }

    /// CFM on the affine path of `scheduler`, no extra noise, t ~ U(0, 1).
    pub fn new(scheduler: impl Scheduler + 'static) -> Result<Self> {
        let boxed: Box<dyn Scheduler> = Box::new(scheduler);
        Ok(Cfm { path: AffinePath::new(boxed)?, sigma: 0.0, time: TimeSampler::Uniform })
    }

    /// Adds Gaussian noise of standard deviation σ ≥ 0 around every conditional path point.
    pub fn with_sigma(mut self, sigma: f64) -> Result<Self> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::invalid("I-CFM sigma", format!("{sigma} must be finite and ≥ 0 (TorchCFM uses 0.1)")));
        }
        self.sigma = sigma;
        Ok(self)
    }

    /// Uses another time sampler.
    pub fn with_time(mut self, time: TimeSampler) -> Result<Self> {
        time.validate()?;
        self.time = time;
        Ok(self)
    }

    /// The probability path.
    pub fn path(&self) -> &AffinePath<Box<dyn Scheduler>> {
        &self.path
    }

    /// The extra noise σ.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// The time sampler.
    pub fn time_sampler(&self) -> TimeSampler {
        self.time
    }

    /// A short description, e.g. `"CFM(CondOT, σ = 0.1, t ~ Uniform)"`.
    pub fn describe(&self) -> String {
        format!("CFM({}, σ = {}, t ~ {:?})", self.path.scheduler().name(), self.sigma, self.time)
    }

    /// The regression batch for pairs (x₀ᵢ, x₁ᵢ): draws tᵢ, then
    /// x_t = α_t x₁ + σ_t x₀ + σ ε and target = α̇_t x₁ + σ̇_t x₀.
    pub fn batch(
        &self,
        x0: &Points,
        x1: &Points,
        labels: Option<Vec<usize>>,
        rng: &mut dyn RngCore,
    ) -> Result<TrainBatch> {
        let t = self.time.sample(x0.len(), rng);
        self.batch_at(x0, x1, &t, labels, rng)
    }

    /// Like [`Cfm::batch`] with the times given.
    pub fn batch_at(
        &self,
        x0: &Points,
        x1: &Points,
        t: &[f64],
        labels: Option<Vec<usize>>,
        rng: &mut dyn RngCore,
    ) -> Result<TrainBatch> {
        let s = self.path.sample(x0, x1, t)?;
        let mut x_t = s.x_t;
        if self.sigma > 0.0 {
            for v in x_t.as_mut_slice() {
                let e: f64 = rng.sample(StandardNormal);
                *v += self.sigma * e;
            }
        }
        Ok(TrainBatch { x_t, t: s.t, target: s.target, cond: labels })
    }

    /// Draws a whole batch: x₀ from `source`, x₁ from `target`, paired by `coupling`.
    pub fn draw(
        &self,
        source: &dyn Dataset,
        target: &dyn Dataset,
        coupling: &dyn Coupling,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<TrainBatch> {
        if source.dim() != target.dim() {
            return Err(Error::shape(
                "the source and target datasets",
                format!("the same dimension (source has {})", source.dim()),
                format!("target dimension {}", target.dim()),
            ));
        }
        let x0 = source.sample_with(n, rng)?;
        let mut x1 = target.sample_with(n, rng)?;
        coupling.pair(&x0, &mut x1, None, rng)?;
        self.batch(&x0, &x1, None, rng)
    }

    /// Draws a batch with the independent coupling.
    pub fn draw_independent(
        &self,
        source: &dyn Dataset,
        target: &dyn Dataset,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<TrainBatch> {
        self.draw(source, target, &Independent, n, rng)
    }
}
