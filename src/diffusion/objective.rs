//! ε-prediction denoising score matching, as an [`Objective`] of the one trainer, and its
//! loss weight against the velocity loss.
//!
//! ```text
//! L_ε(θ) = E_{t, x₀ ~ N(0, I), x₁ ~ p_data} ‖ε_θ(x_t, t) − x₀‖²,     x_t = α_t x₁ + σ_t x₀
//!        = E w(t) ‖v_θ(x_t, t) − (α̇_t x₁ + σ̇_t x₀)‖²,               w(t) = α_t² / (α_t σ̇_t − σ_t α̇_t)²
//! VP path: w(t) = (2 σ_t / β(1 − t))²          CondOT: w(t) = t²
//! ```
//!
//! # The weight, derived
//!
//! Read an ε-prediction ε̂ as a velocity with [`crate::path::Prediction`]'s
//! conversion, v̂ = (α̇_t/α_t) x_t + b_t ε̂ with b_t = σ̇_t − α̇_t σ_t/α_t = D_t/α_t
//! and D_t = α_t σ̇_t − σ_t α̇_t. The regression target of Flow Matching is the
//! same map applied to the true noise: α̇_t x₁ + σ̇_t x₀ = (α̇_t/α_t) x_t + b_t x₀.
//! The x_t terms cancel in the difference,
//!
//! ```text
//! v̂ − (α̇_t x₁ + σ̇_t x₀) = b_t (ε̂ − x₀)   ⇒   ‖ε̂ − x₀‖² = ‖v̂ − target‖² / b_t² = w(t) ‖v̂ − target‖²
//! ```
//!
//! so noise prediction is Flow Matching's regression with the time weight
//! w(t) = 1/b_t² = α_t²/D_t², nothing more: the same minimiser for a model
//! flexible enough, a different balance of effort over t for a real one. On
//! the VP path D_t = −α̇_t/σ_t and α̇_t = ½ β(1 − t) α_t, so w(t) = 4σ_t²/β(1 − t)²:
//! about 0.01 at the noise end (β = β_max), rising to about 0.1 near t = 0.95 and
//! falling to 0 only in the last moments before the data (σ_t → 0). On CondOT,
//! w(t) = t², which ignores velocity errors near the noise.

use crate::data::{Dataset, StandardGaussian};
use crate::error::{Error, Result};
use crate::loss::{Batch, Objective, TimeSampler};
use crate::path::{AffinePath, PathSample, Scheduler, SchedulerOutput, VariancePreserving};
use crate::points::Points;
use rand::RngCore;

/// The weight w(t) = α_t² / (α_t σ̇_t − σ_t α̇_t)² that turns the velocity loss into the ε-loss:
/// ‖ε̂ − ε‖² = w(t) ‖v̂ − (α̇_t x₁ + σ̇_t x₀)‖² for predictions converted at the same (x_t, t).
///
/// Errors: [`Error::InvalidParameter`] where D_t = α_t σ̇_t − σ_t α̇_t = 0 (the
/// velocity does not determine ε there), [`Error::NonFinite`] for non-finite values.
pub fn eps_weight(c: &SchedulerOutput) -> Result<f64> {
    let det = c.alpha * c.d_sigma - c.sigma * c.d_alpha;
    if det == 0.0 {
        return Err(Error::invalid(
            "the ε-loss weight",
            format!("D = α σ̇ − σ α̇ = 0 at {c:?}: a velocity does not determine ε here"),
        ));
    }
    let w = (c.alpha / det).powi(2);
    if !w.is_finite() {
        return Err(Error::NonFinite { what: "the ε-loss weight".into(), detail: format!("w = {w} at {c:?}") });
    }
    Ok(w)
}

/// Denoising score matching in ε-prediction form (Ho et al. 2020): the model learns the
/// noise x₀ that produced x_t = α_t x₁ + σ_t x₀.
///
/// It draws [`Batch::Regression`] batches whose [`PathSample::target`] is x₀,
/// so any regression model (the velocity MLP of [`crate::nn`], unchanged) trains
/// on it through [`crate::train::Trainer`], with its progress line, NaN
/// detection, determinism under a seed and checkpoints. Read the trained model
/// with [`super::Predictor`] and [`crate::path::Prediction::Noise`].
///
/// The default: the [`VariancePreserving`] path (β_min = 0.1, β_max = 20), t ~ U(0, 1),
/// noise N(0, I).
pub struct EpsMatching {
    data: Box<dyn Dataset>,
    path: AffinePath<Box<dyn Scheduler>>,
    time: TimeSampler,
}

impl EpsMatching {
    /// ε-matching towards `data` on the default VP path.
    pub fn new(data: impl Dataset + 'static) -> Self {
        let scheduler: Box<dyn Scheduler> = Box::new(VariancePreserving::default());
        let path = AffinePath::new(scheduler).expect("the default VP scheduler starts at noise and ends at data");
        EpsMatching { data: Box::new(data), path, time: TimeSampler::Uniform }
    }

    /// Uses the path of another scheduler.
    ///
    /// Errors: [`Error::InvalidParameter`] when the scheduler misses its endpoints.
    pub fn scheduler(mut self, scheduler: impl Scheduler + 'static) -> Result<Self> {
        let scheduler: Box<dyn Scheduler> = Box::new(scheduler);
        self.path = AffinePath::new(scheduler)?;
        Ok(self)
    }

    /// Uses another time sampler.
    ///
    /// Errors: as [`TimeSampler::validate`].
    pub fn time(mut self, time: TimeSampler) -> Result<Self> {
        time.validate()?;
        self.time = time;
        Ok(self)
    }

    /// The path.
    pub fn path(&self) -> &AffinePath<Box<dyn Scheduler>> {
        &self.path
    }

    /// The data distribution.
    pub fn data(&self) -> &dyn Dataset {
        self.data.as_ref()
    }

    /// The regression batch of ε-matching for given noise, data and times:
    /// x_t = α_t x₁ + σ_t x₀ and target = x₀.
    ///
    /// Errors: as [`AffinePath::sample_pairs`].
    pub fn batch_at(&self, x0: Points, x1: Points, t: &[f64], labels: Option<Vec<usize>>) -> Result<PathSample> {
        let mut s = self.path.sample_pairs(x0, x1, t, labels)?;
        s.target = s.x0.clone();
        Ok(s)
    }

    /// The ε-loss weight w(t) of this objective's path at time t (see [`eps_weight`]).
    ///
    /// Errors: as [`crate::path::Scheduler::eval_checked`] and [`eps_weight`].
    pub fn weight(&self, t: f64) -> Result<f64> {
        eps_weight(&self.path.scheduler().eval_checked(t)?)
    }
}

impl Objective for EpsMatching {
    fn name(&self) -> String {
        format!("ε-matching({}, t ~ {:?})", self.path.scheduler().name(), self.time)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "objective": self.name(), "data": self.data.name(), "source": "N(0, I)" })
    }

    fn dim(&self) -> usize {
        self.data.dim()
    }

    fn draw(&self, n: usize, rng: &mut dyn RngCore) -> Result<Batch> {
        let x0 = StandardGaussian::new(self.data.dim())?.sample_with(n, rng)?;
        let (x1, labels) = self.data.sample_labeled_with(n, rng)?;
        let labels = (self.data.num_classes() > 1).then_some(labels);
        let t = self.time.sample(n, rng);
        Ok(Batch::Regression(self.batch_at(x0, x1, &t, labels)?))
    }
}
