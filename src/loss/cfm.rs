//! Conditional Flow Matching: the regression batch on an affine path, and the objective the trainer draws from.
//!
//! ```text
//! L_CFM(θ) = E_{t ~ p(t), (x₀, x₁) ~ π, x_t = α_t x₁ + σ_t x₀ + s_t ε} ‖v_θ(x_t, t) − (α̇_t x₁ + σ̇_t x₀ + ṡ_t ε)‖²
//! s_t: the extra noise of [`PathNoise`] (σ for I-CFM, σ√(t(1 − t)) for SB-CFM, 0 by default)
//! conditional, with label dropout:  ‖v_θ(x_t, t | ỹ) − (α̇_t x₁ + σ̇_t x₀)‖²,  ỹ = ∅ with probability p_uncond, else y
//! ```

use super::dropout::{check_dropout, drop_labels};
use super::{Batch, Objective};
use crate::coupling::{Coupling, Independent};
use crate::data::{Dataset, StandardGaussian};
use crate::error::{Error, Result};
use crate::path::{AffinePath, CondOT, PathNoise, PathSample, Scheduler};
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

/// The CFM objective on an affine path, with optional extra noise ([`PathNoise`]: a constant
/// σ as in I-CFM, or the Brownian bridge of SB-CFM) and a time sampler.
///
/// It is not generic, so notebook cells use the copy compiled (optimised) in the library.
#[derive(Debug)]
pub struct Cfm {
    path: AffinePath<Box<dyn Scheduler>>,
    noise: PathNoise,
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
        Ok(Cfm { path: AffinePath::new(boxed)?, noise: PathNoise::Constant(0.0), time: TimeSampler::Uniform })
    }

    /// Adds Gaussian noise of standard deviation σ ≥ 0 around every conditional path point.
    pub fn with_sigma(self, sigma: f64) -> Result<Self> {
        self.with_noise(PathNoise::Constant(sigma))
    }

    /// Adds the extra noise `noise` around every conditional path point, and its term ṡ_t ε
    /// to the target.
    pub fn with_noise(mut self, noise: PathNoise) -> Result<Self> {
        noise.validate()?;
        self.noise = noise;
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

    /// The extra noise σ (its level; see [`Cfm::noise`] for how it moves with t).
    pub fn sigma(&self) -> f64 {
        self.noise.sigma()
    }

    /// The extra noise around each conditional path.
    pub fn noise(&self) -> PathNoise {
        self.noise
    }

    /// The time sampler.
    pub fn time_sampler(&self) -> TimeSampler {
        self.time
    }

    /// A short description, e.g. `"CFM(CondOT, σ = 0.1, t ~ Uniform)"`.
    pub fn describe(&self) -> String {
        format!("CFM({}, {}, t ~ {:?})", self.path.scheduler().name(), self.noise.describe(), self.time)
    }

    /// The regression batch for pairs (x₀ᵢ, x₁ᵢ): draws tᵢ, then
    /// x_t = α_t x₁ + σ_t x₀ + s_t ε and target = α̇_t x₁ + σ̇_t x₀ + ṡ_t ε.
    pub fn batch(
        &self,
        x0: &Points,
        x1: &Points,
        labels: Option<Vec<usize>>,
        rng: &mut dyn RngCore,
    ) -> Result<PathSample> {
        self.batch_pairs(x0.clone(), x1.clone(), labels, rng)
    }

    /// [`Cfm::batch`] on pairs given by value (no copy).
    pub fn batch_pairs(
        &self,
        x0: Points,
        x1: Points,
        labels: Option<Vec<usize>>,
        rng: &mut dyn RngCore,
    ) -> Result<PathSample> {
        let t = self.time.sample(x0.len(), rng);
        self.noisy(self.path.sample_pairs(x0, x1, &t, labels)?, rng)
    }

    /// Like [`Cfm::batch`] with the times given.
    pub fn batch_at(
        &self,
        x0: &Points,
        x1: &Points,
        t: &[f64],
        labels: Option<Vec<usize>>,
        rng: &mut dyn RngCore,
    ) -> Result<PathSample> {
        self.noisy(self.path.sample_pairs(x0.clone(), x1.clone(), t, labels)?, rng)
    }

    /// Adds the extra noise s_t ε to x_t and ṡ_t ε to the target (nothing when σ = 0).
    fn noisy(&self, mut s: PathSample, rng: &mut dyn RngCore) -> Result<PathSample> {
        if self.noise.sigma() > 0.0 {
            let d = s.x_t.dim();
            // One draw per coordinate, row after row.
            for (i, &ti) in s.t.iter().enumerate() {
                let (scale, d_scale) = self.noise.scale(ti);
                for k in 0..d {
                    let e: f64 = rng.sample(StandardNormal);
                    s.x_t.row_mut(i)[k] += scale * e;
                    s.target.row_mut(i)[k] += d_scale * e;
                }
            }
        }
        Ok(s)
    }

    /// Refuses a source that the path cannot take: a path that keeps noise at t = 1
    /// ([`Scheduler::terminal_sigma`] > 0, as [`crate::path::LipmanOT`]) uses x₀ as its
    /// Gaussian noise, so x₀ must be drawn from N(0, I).
    pub fn check_source(&self, source: &dyn Dataset) -> Result<()> {
        let floor = self.path.scheduler().terminal_sigma();
        if floor > 0.0 && !is_standard_normal(source) {
            return Err(Error::invalid(
                "the source of this Flow Matching path",
                format!(
                    "{} keeps σ_1 = {floor} of x₀ at t = 1, so x₀ must be N(0, I) noise, but the source is '{}'; \
                     use a standard normal source (Lipman et al.'s FM), or a path that ends on the data such as \
                     CondOT (I-CFM, OT-CFM) to start from another distribution",
                    self.path.scheduler().name(),
                    source.name()
                ),
            ));
        }
        Ok(())
    }

    /// Draws a whole batch: x₀ from `source`, x₁ from `target` (with its labels when
    /// the target has classes), paired by `coupling`.
    pub fn draw(
        &self,
        source: &dyn Dataset,
        target: &dyn Dataset,
        coupling: &dyn Coupling,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<PathSample> {
        if source.dim() != target.dim() {
            return Err(Error::shape(
                "the source and target datasets",
                format!("the same dimension (source has {})", source.dim()),
                format!("target dimension {}", target.dim()),
            ));
        }
        self.check_source(source)?;
        let mut x0 = source.sample_with(n, rng)?;
        // Labels take no randomness of their own: the points are those of `sample_with`.
        let (mut x1, mut labels) = target.sample_labeled_with(n, rng)?;
        coupling.pair(&mut x0, &mut x1, Some(&mut labels), rng)?;
        let labels = (target.num_classes() > 1).then_some(labels);
        self.batch_pairs(x0, x1, labels, rng)
    }

    /// Draws a batch with the independent coupling.
    pub fn draw_independent(
        &self,
        source: &dyn Dataset,
        target: &dyn Dataset,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<PathSample> {
        self.draw(source, target, &Independent, n, rng)
    }
}

/// True when `source` is N(0, I): a Gaussian with mean 0 and identity covariance in closed form.
fn is_standard_normal(source: &dyn Dataset) -> bool {
    let d = source.dim();
    let identity = (0..d * d).map(|k| if k % (d + 1) == 0 { 1.0 } else { 0.0 });
    source.name() == "gaussian"
        && source.mean().is_some_and(|m| m.iter().all(|&v| v == 0.0))
        && source.covariance().is_some_and(|c| c.len() == d * d && c.iter().zip(identity).all(|(&a, b)| a == b))
}

/// The Flow Matching objective of the trainer: learn the flow from `source` (p₀) to
/// `target` (p₁) by CFM regression on pairs drawn by `coupling`.
///
/// ```text
/// x₀ ~ p₀, x₁ ~ p₁ (with labels), paired by π;  t ~ p(t);  x_t = α_t x₁ + σ_t x₀ (+ σ ε);  target = α̇_t x₁ + σ̇_t x₀
/// ```
///
/// It draws [`Batch::Regression`] batches. The default: N(0, I) → target,
/// independent pairs, CFM on the CondOT path, labels kept as drawn.
/// [`CfmObjective::with_label_dropout`] replaces each label by ∅ with probability p_uncond
/// (fresh draws every step), for a conditional model used with classifier-free guidance.
pub struct CfmObjective {
    source: Box<dyn Dataset>,
    target: Box<dyn Dataset>,
    coupling: Box<dyn Coupling>,
    cfm: Cfm,
    p_uncond: f64,
}

impl CfmObjective {
    /// N(0, I) → `target`, independent pairs, CFM on the CondOT path.
    pub fn new(target: impl Dataset + 'static) -> Self {
        let dim = target.dim();
        let source = StandardGaussian::new(dim).expect("a dataset has dimension ≥ 1");
        CfmObjective {
            source: Box::new(source),
            target: Box::new(target),
            coupling: Box::new(Independent),
            cfm: Cfm::condot(),
            p_uncond: 0.0,
        }
    }

    /// Label dropout: every step, each row's label becomes ∅ (`NULL_LABEL`) with probability
    /// `p_uncond`, independently (see [`drop_labels`]); the points are left as drawn. The
    /// target must have classes.
    ///
    /// Errors: [`Error::InvalidParameter`] unless `p_uncond` is in [0, 1].
    pub fn with_label_dropout(mut self, p_uncond: f64) -> Result<Self> {
        self.set_label_dropout(p_uncond)?;
        Ok(self)
    }

    pub(crate) fn set_label_dropout(&mut self, p_uncond: f64) -> Result<()> {
        check_dropout(p_uncond)?;
        self.p_uncond = p_uncond;
        Ok(())
    }

    /// The label dropout probability p_uncond (0: labels kept).
    pub fn label_dropout(&self) -> f64 {
        self.p_uncond
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

    pub(crate) fn set_source(&mut self, source: Box<dyn Dataset>) {
        self.source = source;
    }

    pub(crate) fn set_coupling(&mut self, coupling: Box<dyn Coupling>) {
        self.coupling = coupling;
    }

    pub(crate) fn set_cfm(&mut self, cfm: Cfm) {
        self.cfm = cfm;
    }

    /// The CFM settings (path, σ, time sampler).
    pub fn cfm_settings(&self) -> &Cfm {
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
}

impl Objective for CfmObjective {
    fn name(&self) -> String {
        match self.p_uncond {
            p if p > 0.0 => format!("{} with label dropout p_uncond = {p}", self.cfm.describe()),
            _ => self.cfm.describe(),
        }
    }

    /// `{"source", "target", "coupling", "objective"}`: the names of the parts (and
    /// `"label_dropout"` when labels are dropped).
    fn describe(&self) -> serde_json::Value {
        let mut json = serde_json::json!({
            "source": self.source.name(),
            "target": self.target.name(),
            "coupling": self.coupling.name(),
            "objective": self.cfm.describe(),
        });
        if self.p_uncond > 0.0 {
            json["label_dropout"] = serde_json::json!(self.p_uncond);
        }
        json
    }

    fn dim(&self) -> usize {
        self.target.dim()
    }

    fn check_model_dim(&self, dim: usize) -> Result<()> {
        if self.source.dim() != dim || self.target.dim() != dim {
            return Err(Error::shape(
                "the training problem",
                format!("datasets of the model's dimension {dim}"),
                format!("source dimension {}, target dimension {}", self.source.dim(), self.target.dim()),
            ));
        }
        Ok(())
    }

    fn draw(&self, n: usize, rng: &mut dyn RngCore) -> Result<Batch> {
        let mut sample = self.cfm.draw(self.source.as_ref(), self.target.as_ref(), self.coupling.as_ref(), n, rng)?;
        if self.p_uncond > 0.0 {
            let labels = sample.labels.as_mut().ok_or_else(|| {
                Error::invalid(
                    "label dropout",
                    format!(
                        "the target '{}' has no classes, so its batches carry no labels to drop; train on a dataset \
                         with classes, or leave p_uncond at 0",
                        self.target.name()
                    ),
                )
            })?;
            drop_labels(labels, self.p_uncond, rng)?;
        }
        Ok(Batch::Regression(sample))
    }
}
