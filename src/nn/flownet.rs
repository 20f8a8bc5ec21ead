//! [`FlowNet`]: a normalizing flow trained by maximum likelihood (topic 7.1): RealNVP's
//! affine coupling blocks, or stacks of planar or radial layers, over a diagonal Gaussian.
//!
//! ```text
//! generative order:   x = f_K ∘ … ∘ f_1 (μ + e^σ ⊙ ε),   ε ~ N(0, I)
//! log p(x) = log N(z; μ, diag e^{2σ}) + Σ_k log |det ∂f_k⁻¹/∂x_k|        (z = f_1⁻¹ ∘ … ∘ f_K⁻¹ (x))
//! training:  L(θ) = −(1/n) Σ_i log p_θ(x_i),   θ ← Adam(θ, ∇L)         (nats per point)
//! ```
//!
//! A coupling layer is cheap in both directions. A planar or radial layer has a cheap map in one
//! direction only, so here it is used in the direction maximum likelihood needs, data to noise:
//! f_k⁻¹ is the planar (or radial) map, and sampling runs its inverse by root finding. The
//! model's architecture mirrors normflows' RealNVP: coupling block = conditioner MLP
//! ⌈d/2⌉ → H → H → 2⌊d/2⌋ (ReLU, last layer zero so each block starts as the identity) and a
//! swap of the two halves after it; the base's μ and σ are trained too.
//!
//! The gradient is written by hand (`flowpass.rs`) on one flat parameter vector θ, which Adam
//! (dfdx's kernel, the same settings as every model: [`OptimizerConfig`]) updates in one call.
//! [`FlowNet::to_flow`] exports the trained layers as the f64 layers of [`crate::flows`], for
//! sampling, figures and the checks.

use super::checkpoint::{self, CheckpointMeta, NamedTensor};
use super::flowpass::{self, Kind, Plan};
use super::optim::{OptimizerConfig, OptimizerKind};
use super::TrainableModel;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::flows::{
    ActNorm, AffineCoupling, Bijector, Conditioner, Flow, Inverted, Nonlinearity, Permutation, Planar, Radial, ScaleMap,
};
use crate::loss::Batch;
use crate::points::Points;
use dfdx::prelude::Tensor;
use dfdx::tensor::{Cpu, Storage, TensorFromVec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

/// One layer of a [`FlowNet`], in the order the layers act on noise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowLayer {
    /// An affine coupling layer: the first ⌈d/2⌉ coordinates pass through and set the shift and
    /// log-scale of the others through an MLP ⌈d/2⌉ → H → H → 2⌊d/2⌋.
    Coupling,
    /// Swaps the two halves, x = (z_{⌊d/2⌋..}, z_{..⌊d/2⌋}), so the next coupling layer moves the other half.
    Swap,
    /// A planar map, applied in the density direction (data → noise).
    Planar,
    /// A radial map, applied in the density direction (data → noise).
    Radial,
}

impl FlowLayer {
    fn kind(self) -> Kind {
        match self {
            FlowLayer::Coupling => Kind::Coupling,
            FlowLayer::Swap => Kind::Swap,
            FlowLayer::Planar => Kind::Planar,
            FlowLayer::Radial => Kind::Radial,
        }
    }
}

/// What a [`FlowNet`] is built with. Saved in every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowNetConfig {
    /// The data dimension d.
    pub dim: usize,
    /// The layers, in the order they act on noise.
    pub layers: Vec<FlowLayer>,
    /// The width H of the conditioners' two hidden layers.
    pub hidden: usize,
    /// The conditioners' nonlinearity.
    pub nonlinearity: Nonlinearity,
    /// How a conditioner's raw output becomes a log-scale.
    pub scale: ScaleMap,
    /// Whether the base's mean and log-scale are trained (as normflows' `DiagGaussian`).
    pub trainable_base: bool,
    /// The seed of the initial parameters.
    pub seed: u64,
}

impl FlowNetConfig {
    /// normflows' RealNVP: `blocks` × (affine coupling, swap), conditioners ⌈d/2⌉ → H → H → 2⌊d/2⌋
    /// with ReLU and the last layer zero, log-scales taken as they come (`exp`, no clamp), and a
    /// trained diagonal Gaussian base.
    pub fn real_nvp(dim: usize, blocks: usize, hidden: usize) -> FlowNetConfig {
        FlowNetConfig {
            dim,
            layers: (0..blocks).flat_map(|_| [FlowLayer::Coupling, FlowLayer::Swap]).collect(),
            hidden,
            nonlinearity: Nonlinearity::Relu,
            scale: ScaleMap::Identity,
            trainable_base: true,
            seed: 0,
        }
    }

    /// `depth` planar layers over a trained diagonal Gaussian.
    pub fn planar(dim: usize, depth: usize) -> FlowNetConfig {
        FlowNetConfig { layers: vec![FlowLayer::Planar; depth], ..FlowNetConfig::real_nvp(dim, 0, 1) }
    }

    /// `depth` radial layers over a trained diagonal Gaussian.
    pub fn radial(dim: usize, depth: usize) -> FlowNetConfig {
        FlowNetConfig { layers: vec![FlowLayer::Radial; depth], ..FlowNetConfig::real_nvp(dim, 0, 1) }
    }

    /// The same configuration with another seed for the initial parameters.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same configuration with another scale map (e.g. a soft clamp).
    pub fn scale(mut self, scale: ScaleMap) -> Self {
        self.scale = scale;
        self
    }

    /// The same configuration with another conditioner nonlinearity.
    pub fn nonlinearity(mut self, act: Nonlinearity) -> Self {
        self.nonlinearity = act;
        self
    }

    /// Errors unless the configuration describes a buildable flow.
    pub fn validate(&self) -> Result<()> {
        crate::numeric::check_count("the dimension of a FlowNet", self.dim)?;
        crate::numeric::check_count("the conditioner width of a FlowNet", self.hidden)?;
        if self.layers.contains(&FlowLayer::Coupling) && self.dim < 2 {
            return Err(Error::invalid("FlowNet layers", "a coupling layer needs dimension ≥ 2"));
        }
        self.scale.validate()
    }

    fn plan(&self) -> Plan {
        let kinds: Vec<Kind> = self.layers.iter().map(|l| l.kind()).collect();
        Plan::new(self.dim, self.hidden, &kinds, self.nonlinearity, self.scale, self.trainable_base)
    }
}

/// A normalizing flow trained by maximum likelihood through [`crate::train::Trainer`] with
/// [`crate::loss::Likelihood`]. It is not generic, so notebook cells run code compiled with the library.
pub struct FlowNet {
    config: FlowNetConfig,
    plan: Plan,
    dev: Cpu,
    /// Every parameter, in the layout of `flowpass::Plan`.
    theta: Tensor<(usize,), f32, Cpu>,
    /// A copy of θ for the passes (refreshed after every update).
    params: Vec<f32>,
    /// Adam's moments and the gradient buffer, with the optimiser kind and its step count.
    adam: Option<AdamState>,
    steps: usize,
    /// The buffers of the training pass, one per block of rows, kept between steps.
    workspaces: Vec<flowpass::Workspace>,
}

struct AdamState {
    kind: OptimizerKind,
    t: i32,
    m: <Cpu as Storage<f32>>::Vec,
    v: <Cpu as Storage<f32>>::Vec,
    grad: <Cpu as Storage<f32>>::Vec,
}

fn dev_err<E: std::fmt::Debug>(e: E) -> Error {
    super::device::dev_err(e)
}

impl FlowNet {
    /// A freshly initialised flow: conditioner weights uniform on ±1/√(inputs) with the last layer
    /// zero (each coupling block starts as the identity), planar u ~ U(±√2), w ~ U(±√(2/d)), b = 0,
    /// radial centres ~ N(0, I) and β = 0, base N(0, I); all from `config.seed`.
    pub fn new(config: FlowNetConfig) -> Result<FlowNet> {
        config.validate()?;
        let plan = config.plan();
        let mut rng = StdRng::seed_from_u64(config.seed);
        let mut theta = vec![0.0f32; plan.total];
        let d = plan.d;
        for (l, &(kind, off)) in plan.layers.iter().enumerate() {
            match kind {
                Kind::Coupling => {
                    for (name, shape, range) in plan.blocks(l) {
                        let fan_in = if name.starts_with('w') {
                            shape[1]
                        } else {
                            if name == "b1" {
                                plan.k
                            } else {
                                plan.h
                            }
                        };
                        let bound = 1.0 / (fan_in as f32).sqrt();
                        let last = name.ends_with('3');
                        for v in &mut theta[range] {
                            *v = if last { 0.0 } else { rng.gen_range(-bound..bound) };
                        }
                    }
                }
                Kind::Swap => {}
                Kind::Planar => {
                    let (lu, lw) = (2.0f32.sqrt(), (2.0 / d as f32).sqrt());
                    for j in 0..d {
                        theta[off + j] = rng.gen_range(-lu..lu);
                        theta[off + d + j] = rng.gen_range(-lw..lw);
                    }
                }
                Kind::Radial => {
                    for j in 0..d {
                        theta[off + j] = rng.sample::<f64, _>(StandardNormal) as f32;
                    }
                }
            }
        }
        FlowNet::with_params(config, plan, theta, 0)
    }

    fn with_params(config: FlowNetConfig, plan: Plan, theta: Vec<f32>, steps: usize) -> Result<FlowNet> {
        let dev = Cpu::default();
        let tensor = dev.tensor_from_vec(theta.clone(), (theta.len(),));
        Ok(FlowNet { config, plan, dev, theta: tensor, params: theta, adam: None, steps, workspaces: Vec::new() })
    }

    /// The configuration the flow was built with.
    pub fn config(&self) -> &FlowNetConfig {
        &self.config
    }

    /// The data dimension d.
    pub fn dim(&self) -> usize {
        self.plan.d
    }

    /// The number of trained parameters (the base's two d-vectors included).
    pub fn num_params(&self) -> usize {
        self.plan.total
    }

    /// How many optimiser steps the parameters have seen.
    pub fn steps_trained(&self) -> usize {
        self.steps
    }

    fn check_points(&self, x: &Points, what: &str) -> Result<()> {
        if x.dim() != self.plan.d {
            return Err(Error::shape(
                what,
                format!("points of dimension {}", self.plan.d),
                format!("dimension {}", x.dim()),
            ));
        }
        x.check_finite(what)
    }

    /// log p(x) in nats for every row of `x`, computed in f32 on the worker threads.
    pub fn log_prob(&self, x: &Points) -> Result<Vec<f64>> {
        self.check_points(x, "the points a FlowNet evaluates")?;
        let mut out = vec![0.0f32; x.len()];
        flowpass::log_prob(&self.plan, &self.params, &x.to_f32(), &mut out);
        Ok(out.into_iter().map(|v| v as f64).collect())
    }

    /// The negative log-likelihood −(1/n) Σ log p(x_i) of a sample, in nats per point.
    pub fn nll(&self, x: &Points) -> Result<f64> {
        crate::numeric::check_count("the number of points to score", x.len())?;
        let lp = self.log_prob(x)?;
        Ok(-lp.iter().sum::<f64>() / lp.len() as f64)
    }

    /// All parameters θ, flat, in the order of the checkpoint's tensors.
    pub fn parameters(&self) -> &[f32] {
        &self.params
    }

    /// A copy of this flow with the parameters `theta` (same length as [`FlowNet::parameters`]).
    pub fn with_parameters(&self, theta: Vec<f32>) -> Result<FlowNet> {
        if theta.len() != self.plan.total {
            return Err(Error::shape(
                "FlowNet::with_parameters",
                format!("{} parameters", self.plan.total),
                format!("{}", theta.len()),
            ));
        }
        crate::numeric::check_finite_entries(
            "the parameters of a FlowNet",
            &theta.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        )?;
        FlowNet::with_params(self.config.clone(), self.plan.clone(), theta, self.steps)
    }

    /// The loss −(1/n) Σ log p(x_i) on `x` and its gradient with respect to [`FlowNet::parameters`],
    /// without updating (the pass a training step takes).
    pub fn gradient(&self, x: &Points) -> Result<(f64, Vec<f32>)> {
        self.check_points(x, "the points of FlowNet::gradient")?;
        crate::numeric::check_count("the number of points", x.len())?;
        let mut grad = vec![0.0; self.plan.total];
        let loss = flowpass::loss_and_gradient(&self.plan, &self.params, &x.to_f32(), &mut grad, &mut Vec::new());
        Ok((loss, grad))
    }

    /// The trained flow as f64 layers over N(0, I): an [`ActNorm`] for the base's μ and σ, then
    /// every layer in generative order (planar and radial ones as [`Inverted`], since they were
    /// trained as maps from data to noise).
    pub fn to_flow(&self) -> Result<Flow> {
        let d = self.plan.d;
        let th: Vec<f64> = self.params.iter().map(|&v| v as f64).collect();
        let base = self.plan.base;
        let mut flow =
            Flow::new(d)?.then(ActNorm::new(th[base + d..base + 2 * d].to_vec(), th[base..base + d].to_vec())?)?;
        for (l, &(kind, off)) in self.plan.layers.iter().enumerate() {
            let layer: Box<dyn Bijector> = match kind {
                Kind::Coupling => {
                    let blocks = self.plan.blocks(l);
                    let part = |i: usize| th[blocks[i].2.clone()].to_vec();
                    let (k, h, mb) = (self.plan.k, self.plan.h, self.plan.mb);
                    let net = Conditioner::from_parameters(
                        &[k, h, h, 2 * mb],
                        self.plan.act,
                        vec![part(0), part(2), part(4)],
                        vec![part(1), part(3), part(5)],
                    )?;
                    let mask: Vec<bool> = (0..d).map(|i| i < k).collect();
                    Box::new(AffineCoupling::with_mask(&mask, net, self.plan.scale)?)
                }
                Kind::Swap => Box::new(Permutation::swap(d)?),
                Kind::Planar => Box::new(Inverted(Box::new(Planar::new(
                    th[off..off + d].to_vec(),
                    th[off + d..off + 2 * d].to_vec(),
                    th[off + 2 * d],
                )?))),
                Kind::Radial => Box::new(Inverted(Box::new(Radial::from_unconstrained(
                    th[off..off + d].to_vec(),
                    th[off + d],
                    th[off + d + 1],
                )?))),
            };
            flow.push(layer)?;
        }
        Ok(flow)
    }

    /// `n` samples x = f(z), z ~ N(0, I) from `StdRng::seed_from_u64(seed)`, through [`FlowNet::to_flow`].
    pub fn sample(&self, n: usize, seed: u64) -> Result<Points> {
        self.to_flow()?.sample(n, seed)
    }

    /// Saves parameters and configuration atomically (tensors named `layer<k>.<part>` and `base.*`).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.save_with(path.as_ref(), None)
    }

    fn save_with(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        let d = self.plan.d;
        let mut tensors: Vec<NamedTensor> = Vec::new();
        for l in 0..self.plan.layers.len() {
            for (name, shape, range) in self.plan.blocks(l) {
                tensors.push((format!("layer{l}.{name}"), shape, self.params[range].to_vec()));
            }
        }
        let b = self.plan.base;
        tensors.push(("base.loc".into(), vec![d], self.params[b..b + d].to_vec()));
        tensors.push(("base.log_scale".into(), vec![d], self.params[b + d..b + 2 * d].to_vec()));
        checkpoint::save_tensors(tensors, &self.meta(training)?, path)
    }

    fn meta(&self, training: Option<serde_json::Value>) -> Result<CheckpointMeta> {
        Ok(CheckpointMeta {
            format: checkpoint::FORMAT_VERSION,
            model: "FlowNet".into(),
            shape: [
                ("dim".to_string(), self.plan.d),
                ("layers".to_string(), self.plan.layers.len()),
                ("hidden".to_string(), self.plan.h),
            ]
            .into_iter()
            .collect(),
            model_config: serde_json::to_value(&self.config)
                .map_err(|e| Error::invalid("FlowNet configuration", e.to_string()))?,
            training,
            steps: self.steps,
        })
    }

    /// Loads a flow saved by [`FlowNet::save`] (or by a trainer's checkpoints).
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<FlowNet> {
        let path = path.as_ref();
        let (meta, tensors) = checkpoint::load_tensors(path)?;
        let bad = |reason: String| Error::Checkpoint { path: path.display().to_string(), reason };
        if meta.model != "FlowNet" {
            return Err(bad(format!("it holds a {} model, which FlowNet::load cannot read", meta.model)));
        }
        let config: FlowNetConfig = serde_json::from_value(meta.model_config.clone())
            .map_err(|e| bad(format!("its FlowNet configuration is not valid ({e})")))?;
        let mut model = FlowNet::new(config)?;
        let d = model.plan.d;
        let mut theta = model.params.clone();
        let mut fill = |name: String, shape: Vec<usize>, range: std::ops::Range<usize>| -> Result<()> {
            let (s, v) = tensors.get(&name).ok_or_else(|| bad(format!("tensor {name} is missing")))?;
            if *s != shape {
                return Err(bad(format!(
                    "tensor {name} has shape {s:?} but the model expects {shape:?}: the file was saved from a model of another shape"
                )));
            }
            theta[range].copy_from_slice(v);
            Ok(())
        };
        for l in 0..model.plan.layers.len() {
            for (name, shape, range) in model.plan.blocks(l) {
                fill(format!("layer{l}.{name}"), shape, range)?;
            }
        }
        let b = model.plan.base;
        fill("base.loc".into(), vec![d], b..b + d)?;
        fill("base.log_scale".into(), vec![d], b + d..b + 2 * d)?;
        model = FlowNet::with_params(model.config, model.plan, theta, meta.steps)?;
        Ok(model)
    }

    /// The samples of a maximum-likelihood batch, or an error naming the batch kind a flow cannot use.
    fn samples<'b>(&self, batch: &'b Batch) -> Result<&'b Points> {
        match batch {
            Batch::Samples { x, .. } => {
                self.check_points(x, "a FlowNet's training batch")?;
                crate::numeric::check_count("the batch size", x.len())?;
                Ok(x)
            }
            other => Err(Error::invalid(
                "training batch",
                format!(
                    "a normalizing flow learns by maximum likelihood on plain samples (Batch::Samples), but this batch \
                     holds {}; train it with loss::Likelihood",
                    other.kind()
                ),
            )),
        }
    }
}

impl TrainableModel for FlowNet {
    fn dim(&self) -> usize {
        self.plan.d
    }

    /// −(1/n) Σ log p(x_i) on a batch of samples, without updating.
    fn loss(&self, batch: &Batch) -> Result<f64> {
        let x = self.samples(batch)?;
        self.nll(x)
    }

    fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> Result<f64> {
        opt.validate()?;
        let x = self.samples(batch)?.to_f32();
        let n = self.plan.total;
        if !matches!(&self.adam, Some(a) if a.kind == opt.kind) {
            let zeros = || self.dev.try_alloc_len(n).map_err(dev_err);
            self.adam = Some(AdamState { kind: opt.kind, t: 0, m: zeros()?, v: zeros()?, grad: zeros()? });
        }
        let adam = self.adam.as_mut().expect("the optimiser state was just made");
        let loss = flowpass::loss_and_gradient(&self.plan, &self.params, &x, &mut adam.grad, &mut self.workspaces);
        if !loss.is_finite() {
            // Leave the parameters as they were.
            return Err(Error::NonFiniteLoss { step: self.steps + 1, value: loss });
        }
        adam.t += 1;
        opt.adam().try_update(adam.t, &mut self.theta, &mut adam.m, &mut adam.v, &adam.grad).map_err(dev_err)?;
        self.theta.copy_into(&mut self.params);
        self.steps += 1;
        Ok(loss)
    }

    fn reset_optimizer(&mut self) {
        self.adam = None;
    }

    fn num_params(&self) -> usize {
        self.plan.total
    }

    fn steps_trained(&self) -> usize {
        self.steps
    }

    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        self.save_with(path, training)
    }
}

impl Clone for FlowNet {
    /// Copies the parameters and configuration; the copy starts with a fresh optimiser.
    fn clone(&self) -> Self {
        FlowNet::with_params(self.config.clone(), self.plan.clone(), self.params.clone(), self.steps)
            .expect("the parameters of a built model are valid")
    }
}

impl std::fmt::Debug for FlowNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FlowNet {{ d = {}, {} layers, H = {}, {} parameters, {} steps }}",
            self.plan.d,
            self.plan.layers.len(),
            self.plan.h,
            self.plan.total,
            self.steps
        )
    }
}
