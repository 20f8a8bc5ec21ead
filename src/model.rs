//! Velocity models on dfdx: the network v_θ(x, t) that Flow Matching trains.
//!
//! Every model keeps one contract, `(x, t, cond) ↦ v`: a batch of points, one
//! time per point, and an optional class label per point (for guidance later).
//! The contract is the [`VelocityModel`] trait; [`TrainableModel`] adds one
//! optimisation step on a regression batch. Every model also implements
//! [`VectorField`], so sampling a model is solving an ODE with [`crate::solver`].
//!
//! [`Mlp<D, H, TF>`] is the multilayer perceptron of the course, typed by its
//! data dimension `D`, hidden width `H` and number of time features `TF`:
//!
//! ```text
//! h₁ = act(W_x x + W_t τ(t) + b₁)        τ(t) ∈ ℝ^TF: the time embedding
//! h₂ = act(W₂ h₁ + b₂)
//! h₃ = act(W₃ h₂ + b₃)
//! v  = W₄ h₃ + b₄                        v ∈ ℝ^D
//! ```
//!
//! The first layer is split into an x part and a t part, which is the same as
//! one layer on the concatenation `[x, τ(t)]` but needs no `Const` concatenation
//! (which dfdx only offers on nightly Rust).
//!
//! ## Models and notebook cells
//! evcxr compiles each notebook cell into its own library, so each cell carries
//! its own copy of dfdx's tensor-id counter. A model built in one cell and
//! trained in another would reuse ids that its parameters already hold, and
//! gradients would be mixed up. Every method of [`Mlp`] that touches dfdx first
//! moves the calling cell's counter past the highest id the model holds, so
//! "build in one cell, train in the next, sample in a third" just works.
//!
//! ## Speed
//! On the CPU ([`Cpu`]) with SiLU (the default), training and sampling take a fast path
//! (`src/fused.rs`): each layer is one fused dfdx op (matmul, bias and SiLU) with its own
//! backward, using AVX-512/AVX2 kernels chosen at run time, and sampling runs a tape-free
//! forward pass on plain buffers. The weights stay ordinary dfdx modules, so Adam, checkpoints
//! and [`Mlp::net`] are unchanged. Work is split over `FLOWMATCH_THREADS` threads (else
//! `RAYON_NUM_THREADS`, else one per CPU), in a fixed way, so results are the same run to run.
//! Other activations and devices use the plain dfdx graph.

use crate::checkpoint::CheckpointMeta;
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::fused::{self, Frozen, Times};
use crate::points::Points;
use dfdx::nn::modules::{Linear, UnbiasedLinear};
use dfdx::nn::{BuildModule, Module, TensorCollection, ZeroGrads};
use dfdx::optim::{Adam, AdamConfig, Optimizer, WeightDecay};
use dfdx::prelude::{Const, Dtype, Gradients, ModuleVisitor, OwnedTape, Rank0, Shape, SplitTape, Tape, Tensor, Trace};
use dfdx::tensor::Cpu;
use dfdx::tensor_ops::Device;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::sync::OnceLock;

/// The nonlinearity between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// SiLU (swish): x·σ(x). The default.
    #[default]
    Silu,
    /// max(0, x).
    Relu,
    /// tanh(x).
    Tanh,
    /// GELU, tanh approximation.
    Gelu,
}

/// How the time t ∈ [0, 1] enters the network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum TimeEmbedding {
    /// τ(t) = (t): one feature. Needs `TF = 1`.
    #[default]
    Raw,
    /// Sinusoidal features τ(t) = (sin 2πf₁t, cos 2πf₁t, …, sin 2πf_k t, cos 2πf_k t) with
    /// k = TF/2 frequencies spaced geometrically from 1 to `max_frequency`. Needs an even `TF ≥ 2`.
    Fourier {
        /// The highest frequency f_k (cycles per unit time), at least 1.
        max_frequency: f64,
    },
}

impl TimeEmbedding {
    /// Fourier features with frequencies up to 16 (a good default for t ∈ [0, 1]).
    pub fn fourier() -> Self {
        TimeEmbedding::Fourier { max_frequency: 16.0 }
    }

    /// The frequencies f_j = max^(j/(k−1)), j = 0..k (k = 1 gives f = 1).
    fn frequencies(&self, k: usize) -> Vec<f64> {
        match *self {
            TimeEmbedding::Raw => Vec::new(),
            TimeEmbedding::Fourier { max_frequency } => {
                (0..k).map(|j| if k == 1 { 1.0 } else { max_frequency.powf(j as f64 / (k - 1) as f64) }).collect()
            }
        }
    }

    /// Writes τ(t) for every t into a row-major `t.len() × tf` buffer.
    pub fn features(&self, t: &[f64], tf: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(t.len() * tf);
        match self {
            TimeEmbedding::Raw => out.extend(t.iter().map(|&t| t as f32)),
            TimeEmbedding::Fourier { .. } => {
                let freqs = self.frequencies(tf / 2);
                for &ti in t {
                    for f in &freqs {
                        let a = 2.0 * std::f64::consts::PI * f * ti;
                        out.push(a.sin() as f32);
                        out.push(a.cos() as f32);
                    }
                }
            }
        }
        out
    }
}

/// What an [`Mlp`] was built with. Saved in every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// The nonlinearity.
    pub activation: Activation,
    /// The time embedding.
    pub time_embedding: TimeEmbedding,
    /// The seed of the initial weights.
    pub seed: u64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig { activation: Activation::Silu, time_embedding: TimeEmbedding::Raw, seed: 0 }
    }
}

/// Which optimiser a training step uses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba).
    Adam,
    /// AdamW: Adam with decoupled weight decay λ (Loshchilov & Hutter).
    AdamW {
        /// The decoupled weight decay λ.
        weight_decay: f64,
    },
}

/// Optimiser settings for one training step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// Adam or AdamW.
    pub kind: OptimizerKind,
    /// Learning rate.
    pub lr: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 }
    }
}

impl OptimizerConfig {
    /// Errors unless the learning rate and weight decay are finite and non-negative.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid("learning rate", format!("{} must be finite and positive (try 1e-3)", self.lr)));
        }
        if let OptimizerKind::AdamW { weight_decay } = self.kind {
            if !(weight_decay.is_finite() && weight_decay >= 0.0) {
                return Err(Error::invalid("weight decay", format!("{weight_decay} must be finite and ≥ 0")));
            }
        }
        Ok(())
    }

    fn adam(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr,
            weight_decay: match self.kind {
                OptimizerKind::Adam => None,
                OptimizerKind::AdamW { weight_decay } => Some(WeightDecay::Decoupled(weight_decay)),
            },
            ..Default::default()
        }
    }
}

/// A regression batch: inputs `(x_t, t, cond)` and the velocity `target` the model should output.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainBatch {
    /// Points on the path, one per row.
    pub x_t: Points,
    /// The time of each row.
    pub t: Vec<f64>,
    /// The regression target u_t(x_t | z), one per row.
    pub target: Points,
    /// Optional class label per row (for conditional models).
    pub cond: Option<Vec<usize>>,
}

impl TrainBatch {
    /// Errors unless shapes agree and every number is finite.
    pub fn validate(&self, dim: usize) -> Result<()> {
        if self.x_t.is_empty() {
            return Err(Error::ZeroCount { what: "the batch size".into() });
        }
        if self.x_t.dim() != dim {
            return Err(Error::shape(
                "the batch points x_t",
                format!("dimension {dim}"),
                format!("dimension {}", self.x_t.dim()),
            ));
        }
        self.x_t.check_same_shape(&self.target, "the batch target")?;
        if self.t.len() != self.x_t.len() {
            return Err(Error::shape(
                "the batch times",
                format!("{} times", self.x_t.len()),
                format!("{}", self.t.len()),
            ));
        }
        self.x_t.check_finite("the batch points x_t")?;
        self.target.check_finite("the batch target")?;
        if let Some(i) = self.t.iter().position(|t| !t.is_finite()) {
            return Err(Error::NonFinite { what: "the batch times".into(), detail: format!("t[{i}] = {}", self.t[i]) });
        }
        Ok(())
    }
}

/// The contract of every velocity model: `(x, t, cond) ↦ v_θ(x, t, cond)`.
pub trait VelocityModel {
    /// The data dimension d.
    fn dim(&self) -> usize;
    /// The predicted velocity for every row of `x`, at the time `t[i]` of that row.
    fn velocity(&self, x: &Points, t: &[f64], cond: Option<&[usize]>) -> Result<Points>;
}

/// A model that can take one optimisation step on a [`TrainBatch`].
pub trait TrainableModel: VelocityModel {
    /// The mean squared error `mean_i ‖v_θ(x_t,i, t_i) − target_i‖² / d` on `batch`, without updating.
    fn loss(&self, batch: &TrainBatch) -> Result<f64>;
    /// One optimiser step on `batch`; returns the loss before the update.
    fn train_step(&mut self, batch: &TrainBatch, opt: &OptimizerConfig) -> Result<f64>;
    /// Forgets the optimiser's state (moments), e.g. before training with new settings.
    fn reset_optimizer(&mut self);
    /// The number of trainable parameters.
    fn num_params(&self) -> usize;
    /// How many optimiser steps the weights have seen.
    fn steps_trained(&self) -> usize;
    /// Saves weights and configuration to `path` atomically, recording `training` (JSON) in the file.
    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()>;
}

/// A dfdx device that can be created from a seed: [`Cpu`], or `Cuda` with the `cuda` feature.
pub trait ModelDevice: Device<f32> + Clone {
    /// A device whose random numbers (used for initial weights) start from `seed`.
    fn seeded(seed: u64) -> Result<Self>;
}

impl ModelDevice for Cpu {
    fn seeded(seed: u64) -> Result<Self> {
        Ok(Cpu::seed_from_u64(seed))
    }
}

#[cfg(feature = "cuda")]
impl ModelDevice for dfdx::tensor::Cuda {
    fn seeded(seed: u64) -> Result<Self> {
        dfdx::tensor::Cuda::try_seed_from_u64(seed).map_err(|e| Error::invalid(
            "CUDA device",
            format!("could not start it ({e:?}); check that an NVIDIA GPU and driver are present, or build without `--features cuda`"),
        ))
    }
}

/// The layers of an [`Mlp`], as a dfdx module.
#[derive(Clone, Debug)]
pub struct MlpNet<const D: usize, const H: usize, const TF: usize, E: Dtype, Dev: dfdx::tensor::Storage<E>> {
    /// W_x, b₁.
    pub x_in: Linear<D, H, E, Dev>,
    /// W_t (the bias lives in `x_in`).
    pub t_in: UnbiasedLinear<TF, H, E, Dev>,
    /// W₂, b₂.
    pub hidden1: Linear<H, H, E, Dev>,
    /// W₃, b₃.
    pub hidden2: Linear<H, H, E, Dev>,
    /// W₄, b₄.
    pub out: Linear<H, D, E, Dev>,
}

impl<const D: usize, const H: usize, const TF: usize, Dev: Device<f32>> TensorCollection<f32, Dev>
    for MlpNet<D, H, TF, f32, Dev>
{
    type To<E2: Dtype, D2: Device<E2>> = MlpNet<D, H, TF, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, Dev>>(
        visitor: &mut V,
    ) -> std::result::Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("x_in", |s| &s.x_in, |s| &mut s.x_in),
                Self::module("t_in", |s| &s.t_in, |s| &mut s.t_in),
                Self::module("hidden1", |s| &s.hidden1, |s| &mut s.hidden1),
                Self::module("hidden2", |s| &s.hidden2, |s| &mut s.hidden2),
                Self::module("out", |s| &s.out, |s| &mut s.out),
            ),
            |(x_in, t_in, hidden1, hidden2, out)| MlpNet { x_in, t_in, hidden1, hidden2, out },
        )
    }
}

type Batch<const N: usize, Dev, T> = Tensor<(usize, Const<N>), f32, Dev, T>;

fn activate<S: Shape, Dev: Device<f32>, T: Tape<f32, Dev>>(
    act: Activation,
    x: Tensor<S, f32, Dev, T>,
) -> std::result::Result<Tensor<S, f32, Dev, T>, Dev::Err> {
    use dfdx::tensor_ops::TryMul;
    match act {
        Activation::Silu => {
            let s = x.with_empty_tape().try_sigmoid()?;
            x.try_mul(s)
        }
        Activation::Relu => x.try_relu(),
        Activation::Tanh => x.try_tanh(),
        Activation::Gelu => x.try_fast_gelu(),
    }
}

use dfdx::tensor::WithEmptyTape;

impl<const D: usize, const H: usize, const TF: usize, Dev: Device<f32>> MlpNet<D, H, TF, f32, Dev> {
    /// v = W₄ act(W₃ act(W₂ act(W_x x + W_t τ + b₁) + b₂) + b₃) + b₄.
    pub(crate) fn forward<T: Tape<f32, Dev>>(
        &self,
        x: Batch<D, Dev, T>,
        tau: Batch<TF, Dev, T>,
        act: Activation,
    ) -> std::result::Result<Batch<D, Dev, T>, Dev::Err> {
        use dfdx::tensor_ops::TryAdd;
        let h = self.x_in.try_forward(x)?.try_add(self.t_in.try_forward(tau)?)?;
        let h = activate(act, h)?;
        let h = activate(act, self.hidden1.try_forward(h)?)?;
        let h = activate(act, self.hidden2.try_forward(h)?)?;
        self.out.try_forward(h)
    }
}

/// The multilayer perceptron velocity model: data dimension `D`, hidden width `H`,
/// `TF` time features (1 for raw t), on a dfdx device (CPU by default).
///
/// ```no_run
/// use flowmatch::model::{Mlp, MlpConfig};
/// let model = Mlp::<2, 64>::new(MlpConfig::default()).unwrap();
/// ```
pub struct Mlp<const D: usize, const H: usize, const TF: usize = 1, Dev: ModelDevice = Cpu> {
    net: MlpNet<D, H, TF, f32, Dev>,
    config: MlpConfig,
    dev: Dev,
    /// Every parameter's dfdx id is below this one.
    id_watermark: usize,
    opt: Option<(OptimizerKind, MlpAdam<D, H, TF, Dev>)>,
    grads: Option<Gradients<f32, Dev>>,
    steps: usize,
    /// The weights copied out for the tape-free forward pass (CPU + SiLU); reset on every update.
    frozen: OnceLock<Frozen>,
}

/// Adam's state for the layers of an [`Mlp`].
type MlpAdam<const D: usize, const H: usize, const TF: usize, Dev> = Adam<MlpNet<D, H, TF, f32, Dev>, f32, Dev>;

/// An [`Mlp`] with 16 Fourier time features.
pub type FourierMlp<const D: usize, const H: usize> = Mlp<D, H, 16>;

/// dfdx's id of a tensor, read from the start of its `Debug` form (dfdx keeps the accessor private).
///
/// The `Debug` form begins `Tensor { id: UniqueId(n), ...` and goes on to print the device,
/// whose allocation cache can be large, so formatting stops as soon as the id has been read.
fn tensor_id<S: Shape, Dev: Device<f32>>(t: &Tensor<S, f32, Dev>) -> usize {
    struct Head(String);
    impl std::fmt::Write for Head {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.push_str(s);
            if self.0.len() > 64 {
                Err(std::fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    let mut head = Head(String::new());
    let _ = std::fmt::write(&mut head, format_args!("{t:?}"));
    head.0
        .split("UniqueId(")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("dfdx's Tensor Debug output starts with `Tensor { id: UniqueId(n)`")
}

/// Moves the calling cell's dfdx id counter past `watermark`, so new tensors never reuse a model's ids.
fn advance_ids_past<Dev: Device<f32>>(dev: &Dev, watermark: usize) -> Result<()> {
    let probe: Tensor<Rank0, f32, Dev> = dev.try_zeros().map_err(dev_err)?;
    let current = tensor_id(&probe);
    for _ in current..=watermark {
        let _: Tensor<Rank0, f32, Dev> = dev.try_zeros().map_err(dev_err)?;
    }
    Ok(())
}

fn dev_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::invalid("device operation", format!("dfdx reported {e:?}"))
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Mlp<D, H, TF, Dev> {
    /// Builds a freshly initialised model (dfdx's default uniform init, seeded by `config.seed`).
    pub fn new(config: MlpConfig) -> Result<Self> {
        Self::check_shapes(&config)?;
        let dev = Dev::seeded(config.seed)?;
        let net = MlpNet::<D, H, TF, f32, Dev>::try_build(&dev).map_err(dev_err)?;
        let mut model =
            Mlp { net, config, dev, id_watermark: 0, opt: None, grads: None, steps: 0, frozen: OnceLock::new() };
        model.id_watermark = model.probe_id()?;
        Ok(model)
    }

    fn check_shapes(config: &MlpConfig) -> Result<()> {
        if D == 0 || H == 0 || TF == 0 {
            return Err(Error::invalid("Mlp shape", format!("D = {D}, H = {H}, TF = {TF}: all must be at least 1")));
        }
        match config.time_embedding {
            TimeEmbedding::Raw if TF != 1 => Err(Error::invalid(
                "time embedding",
                format!("raw time has one feature but the model has TF = {TF}; use Mlp<{D}, {H}> (TF = 1)"),
            )),
            TimeEmbedding::Fourier { max_frequency } => {
                if !TF.is_multiple_of(2) {
                    Err(Error::invalid("time embedding", format!("Fourier features come in sin/cos pairs: TF = {TF} must be even, e.g. FourierMlp<{D}, {H}> (TF = 16)")))
                } else if !(max_frequency.is_finite() && max_frequency >= 1.0) {
                    Err(Error::invalid(
                        "time embedding",
                        format!("max_frequency = {max_frequency} must be finite and ≥ 1"),
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    fn probe_id(&self) -> Result<usize> {
        let probe: Tensor<Rank0, f32, Dev> = self.dev.try_zeros().map_err(dev_err)?;
        Ok(tensor_id(&probe))
    }

    /// Makes the calling notebook cell's dfdx ids safe for this model (see the module docs).
    fn sync_ids(&self) -> Result<()> {
        advance_ids_past(&self.dev, self.id_watermark)
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The dfdx device the model lives on.
    pub fn device(&self) -> &Dev {
        &self.dev
    }

    /// The underlying dfdx module (for advanced use; prefer the methods of `Mlp`).
    pub fn net(&self) -> &MlpNet<D, H, TF, f32, Dev> {
        &self.net
    }

    fn inputs(
        &self,
        x: &Points,
        t: &[f64],
    ) -> Result<(Batch<D, Dev, dfdx::tensor::NoneTape>, Batch<TF, Dev, dfdx::tensor::NoneTape>)> {
        if x.dim() != D {
            return Err(Error::shape(
                "the model input x",
                format!("points of dimension {D}"),
                format!("dimension {}", x.dim()),
            ));
        }
        if t.len() != x.len() {
            return Err(Error::shape(
                "the model input t",
                format!("one time per point ({})", x.len()),
                format!("{} times", t.len()),
            ));
        }
        let n = x.len();
        let xs = self.dev.tensor_from_vec(x.to_f32(), (n, Const::<D>));
        let tau = self.dev.tensor_from_vec(self.config.time_embedding.features(t, TF), (n, Const::<TF>));
        Ok((xs, tau))
    }

    fn check_cond(&self, cond: Option<&[usize]>) -> Result<()> {
        if cond.is_some() {
            return Err(Error::invalid(
                "conditioning",
                "this Mlp was built without class conditioning; pass None as the label, or use a conditional model",
            ));
        }
        Ok(())
    }

    /// The tape-free forward pass, when this model takes the fast path (CPU and SiLU).
    fn fast(&self) -> Option<&Frozen> {
        if self.config.activation != Activation::Silu {
            return None;
        }
        let cpu = (self as &dyn Any).downcast_ref::<Mlp<D, H, TF, Cpu>>()?;
        Some(cpu.frozen.get_or_init(|| Frozen::new(&cpu.net, cpu.config.time_embedding)))
    }

    fn check_x(&self, x: &Points) -> Result<()> {
        if x.dim() != D {
            return Err(Error::shape(
                "the model input x",
                format!("points of dimension {D}"),
                format!("dimension {}", x.dim()),
            ));
        }
        Ok(())
    }

    fn take_grads(&mut self) -> Result<Gradients<f32, Dev>> {
        match self.grads.take() {
            Some(g) => Ok(g),
            None => self.net.try_alloc_grads().map_err(dev_err),
        }
    }

    /// The batch loss on the plain dfdx graph, with a tape.
    fn generic_loss(&mut self, batch: &TrainBatch) -> Result<Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>> {
        let n = batch.x_t.len();
        let (xs, tau) = self.inputs(&batch.x_t, &batch.t)?;
        let target = self.dev.tensor_from_vec(batch.target.to_f32(), (n, Const::<D>));
        let grads = self.take_grads()?;
        let xs = xs.traced(grads);
        let tau = tau.retaped::<OwnedTape<f32, Dev>>();
        let pred = self.net.forward(xs, tau, self.config.activation).map_err(dev_err)?;
        mse_on_tape(pred, target)
    }

    /// Checks the loss, backpropagates, takes the optimiser step and returns the loss.
    fn apply_step(&mut self, loss: Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>, opt: &OptimizerConfig) -> Result<f64> {
        use dfdx::tensor_ops::Backward;
        let loss_value = loss.as_vec()[0] as f64;
        if !loss_value.is_finite() {
            // Leave the weights as they were: the gradients of a NaN loss are garbage.
            let (_, tape) = loss.split_tape();
            drop(tape);
            return Err(Error::NonFiniteLoss { step: self.steps + 1, value: loss_value });
        }
        let mut grads = loss.try_backward().map_err(dev_err)?;
        let adam_cfg = opt.adam();
        let reuse = matches!(&self.opt, Some((kind, _)) if *kind == opt.kind);
        if !reuse {
            self.opt = Some((opt.kind, Adam::new(&self.net, adam_cfg)));
        }
        let (_, adam) = self.opt.as_mut().expect("optimiser was just set");
        adam.cfg = adam_cfg;
        self.frozen = OnceLock::new();
        adam.update(&mut self.net, &grads).map_err(|e| Error::invalid("optimiser step", format!("{e:?}")))?;
        self.net.try_zero_grads(&mut grads).map_err(dev_err)?;
        self.grads = Some(grads);
        self.steps += 1;
        Ok(loss_value)
    }

    /// The checkpoint metadata describing this model (the trainer adds its own settings).
    pub fn checkpoint_meta(&self, training: Option<serde_json::Value>) -> Result<CheckpointMeta> {
        Ok(CheckpointMeta {
            format: crate::checkpoint::FORMAT_VERSION,
            model: "Mlp".into(),
            shape: [("D".to_string(), D), ("H".to_string(), H), ("TF".to_string(), TF)].into_iter().collect(),
            model_config: serde_json::to_value(&self.config)
                .map_err(|e| Error::invalid("model configuration", e.to_string()))?,
            training,
            steps: self.steps,
        })
    }

    /// Saves the weights and configuration to one safetensors file, atomically
    /// (see [`crate::checkpoint`]).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.save_with(path, None)
    }

    /// Like [`Mlp::save`], also recording the training settings (JSON) in the file.
    pub fn save_with(&self, path: impl AsRef<std::path::Path>, training: Option<serde_json::Value>) -> Result<()> {
        self.sync_ids()?;
        crate::checkpoint::save_module(&self.net, &self.checkpoint_meta(training)?, path)
    }

    /// Loads a model saved by [`Mlp::save`]. The file must hold an `Mlp<D, H, TF>` of this shape.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let meta = crate::checkpoint::read_meta(path)?;
        crate::checkpoint::check_shape(path, &meta, "Mlp", &[("D", D), ("H", H), ("TF", TF)])?;
        let config: MlpConfig = serde_json::from_value(meta.model_config.clone()).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!("its model configuration is not valid ({e})"),
        })?;
        let mut model = Self::new(config)?;
        crate::checkpoint::load_module(&mut model.net, path)?;
        model.frozen = OnceLock::new();
        model.steps = meta.steps;
        model.id_watermark = model.probe_id()?;
        Ok(model)
    }
}

/// `mean((pred − target)²)` with the tape of `pred`.
fn mse_on_tape<const D: usize, Dev: Device<f32>>(
    pred: Batch<D, Dev, OwnedTape<f32, Dev>>,
    target: Batch<D, Dev, dfdx::tensor::NoneTape>,
) -> Result<Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>> {
    use dfdx::tensor_ops::{MeanTo, TrySub};
    pred.try_sub(target).map_err(dev_err)?.try_square().map_err(dev_err)?.try_mean::<Rank0, _>().map_err(dev_err)
}

impl<const D: usize, const H: usize, const TF: usize> Mlp<D, H, TF, Cpu> {
    /// The batch loss through the fused SiLU network (see `src/fused.rs`), with a tape.
    fn fast_loss(&mut self, batch: &TrainBatch) -> Result<Tensor<Rank0, f32, Cpu, OwnedTape<f32, Cpu>>> {
        use dfdx::tensor::TensorFromVec;
        let n = batch.x_t.len();
        self.check_x(&batch.x_t)?;
        let xs = self.dev.tensor_from_vec(batch.x_t.to_f32(), (n, Const::<D>));
        let tau = self.config.time_embedding.features(&batch.t, TF);
        let target = self.dev.tensor_from_vec(batch.target.to_f32(), (n, Const::<D>));
        let xs = xs.traced(self.take_grads()?);
        let pred = fused::mlp(xs, tau, &self.net);
        mse_on_tape(pred, target)
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> VelocityModel for Mlp<D, H, TF, Dev> {
    fn dim(&self) -> usize {
        D
    }

    fn velocity(&self, x: &Points, t: &[f64], cond: Option<&[usize]>) -> Result<Points> {
        self.check_cond(cond)?;
        self.sync_ids()?;
        let n = x.len();
        if n == 0 {
            return Ok(Points::zeros(0, D));
        }
        if let Some(frozen) = self.fast() {
            self.check_x(x)?;
            if t.len() != n {
                return Err(Error::shape(
                    "the model input t",
                    format!("one time per point ({n})"),
                    format!("{} times", t.len()),
                ));
            }
            let mut out = Points::zeros(n, D);
            frozen.eval(x.as_slice(), Times::PerRow(t), out.as_mut_slice());
            return Ok(out);
        }
        let (xs, tau) = self.inputs(x, t)?;
        let v = self.net.forward(xs, tau, self.config.activation).map_err(dev_err)?;
        Points::from_f32(n, D, &v.as_vec())
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> VectorField for Mlp<D, H, TF, Dev> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let t = t.rows(x.len(), "the model input t")?;
        if let Some(frozen) = self.fast() {
            self.check_x(x)?;
            x.check_same_shape(out, "the output of eval_into")?;
            let times = match t {
                Time::Same(t) => Times::Same(t),
                Time::PerRow(ts) => Times::PerRow(ts),
            };
            frozen.eval(x.as_slice(), times, out.as_mut_slice());
            return Ok(());
        }
        let v = self.velocity(x, &t.to_vec(x.len(), "the model input t")?, None)?;
        out.as_mut_slice().copy_from_slice(v.as_slice());
        Ok(())
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> TrainableModel for Mlp<D, H, TF, Dev> {
    fn loss(&self, batch: &TrainBatch) -> Result<f64> {
        batch.validate(D)?;
        let v = self.velocity(&batch.x_t, &batch.t, batch.cond.as_deref())?;
        let n = (v.len() * D) as f64;
        Ok(v.as_slice().iter().zip(batch.target.as_slice()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n)
    }

    fn train_step(&mut self, batch: &TrainBatch, opt: &OptimizerConfig) -> Result<f64> {
        batch.validate(D)?;
        opt.validate()?;
        self.check_cond(batch.cond.as_deref())?;
        self.sync_ids()?;
        if self.config.activation == Activation::Silu {
            if let Some(cpu) = (self as &mut dyn Any).downcast_mut::<Mlp<D, H, TF, Cpu>>() {
                let loss = cpu.fast_loss(batch)?;
                return cpu.apply_step(loss, opt);
            }
        }
        let loss = self.generic_loss(batch)?;
        self.apply_step(loss, opt)
    }

    fn reset_optimizer(&mut self) {
        self.opt = None;
    }

    fn num_params(&self) -> usize {
        (D * H + H) + TF * H + 2 * (H * H + H) + (H * D + D)
    }

    fn steps_trained(&self) -> usize {
        self.steps
    }

    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        self.save_with(path, training)
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Clone for Mlp<D, H, TF, Dev> {
    /// Clones the weights and configuration; the copy starts with a fresh optimiser.
    fn clone(&self) -> Self {
        Mlp {
            net: self.net.clone(),
            config: self.config.clone(),
            dev: self.dev.clone(),
            id_watermark: self.id_watermark,
            opt: None,
            grads: None,
            steps: self.steps,
            frozen: OnceLock::new(),
        }
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> std::fmt::Debug for Mlp<D, H, TF, Dev> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mlp<D={D}, H={H}, TF={TF}> {{ {:?}, {} parameters }}", self.config, self.num_params())
    }
}

/// Everything a [`Net`] needs from the typed model inside it.
trait NetModel: TrainableModel + VectorField {
    fn clone_box(&self) -> Box<dyn NetModel>;
    fn describe(&self) -> String;
    fn mlp_config(&self) -> &MlpConfig;
    fn hidden(&self) -> usize;
}

impl<const D: usize, const H: usize, const TF: usize> NetModel for Mlp<D, H, TF, Cpu> {
    fn clone_box(&self) -> Box<dyn NetModel> {
        Box::new(self.clone())
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    fn mlp_config(&self) -> &MlpConfig {
        &self.config
    }
    fn hidden(&self) -> usize {
        H
    }
}

/// The data dimensions a [`Net`] can be built with.
pub const NET_DIMS: [usize; 2] = [1, 2];
/// The hidden widths a [`Net`] can be built with.
pub const NET_WIDTHS: [usize; 4] = [32, 64, 128, 256];
/// The number of time features of a [`Net`] with [`TimeEmbedding::Fourier`].
pub const NET_FOURIER_FEATURES: usize = 16;

macro_rules! build_net {
    ($dim:expr, $hidden:expr, $tf:expr, $make:ident, $arg:expr; $(($d:literal, $h:literal)),*) => {
        match ($dim, $hidden, $tf) {
            $(
                ($d, $h, 1) => Some(Box::new(Mlp::<$d, $h, 1>::$make($arg)?) as Box<dyn NetModel>),
                ($d, $h, 16) => Some(Box::new(Mlp::<$d, $h, 16>::$make($arg)?) as Box<dyn NetModel>),
            )*
            _ => None,
        }
    };
}

/// A velocity MLP whose shape is chosen at run time: the model the notebooks use.
///
/// `Net::mlp(2, 64)` is an [`Mlp<2, 64>`] on the CPU behind a non-generic type. All
/// of its numerics were compiled (optimised) with the library, so a notebook cell
/// that trains it runs at full speed whatever the cell's optimisation level. Shapes:
/// dimension in [`NET_DIMS`], width in [`NET_WIDTHS`]; use [`Mlp`] directly for others.
pub struct Net {
    inner: Box<dyn NetModel>,
}

impl Net {
    /// An MLP velocity model with raw time input and SiLU, initial weights from seed 0.
    pub fn mlp(dim: usize, hidden: usize) -> Result<Net> {
        Net::mlp_with(dim, hidden, MlpConfig::default())
    }

    /// An MLP velocity model with the given activation, time embedding and seed.
    pub fn mlp_with(dim: usize, hidden: usize, config: MlpConfig) -> Result<Net> {
        let tf = match config.time_embedding {
            TimeEmbedding::Raw => 1,
            TimeEmbedding::Fourier { .. } => NET_FOURIER_FEATURES,
        };
        build_net!(dim, hidden, tf, new, config; (1, 32), (1, 64), (1, 128), (1, 256), (2, 32), (2, 64), (2, 128), (2, 256))
            .map(|inner| Net { inner })
            .ok_or_else(|| Net::unsupported(dim, hidden))
    }

    fn unsupported(dim: usize, hidden: usize) -> Error {
        Error::invalid(
            "Net shape",
            format!(
                "dimension {dim} with width {hidden} is not prebuilt; choose a dimension in {NET_DIMS:?} and a \
                 width in {NET_WIDTHS:?}, or use the typed model Mlp::<D, H>"
            ),
        )
    }

    /// Loads a checkpoint written by [`Net::save`] or [`Mlp::save`].
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Net> {
        let path = path.as_ref();
        let meta = crate::checkpoint::read_meta(path)?;
        let get = |k: &str| meta.shape.get(k).copied().unwrap_or(0);
        let (dim, hidden, tf) = (get("D"), get("H"), get("TF"));
        if meta.model != "Mlp" {
            return Err(Error::Checkpoint {
                path: path.display().to_string(),
                reason: format!("it holds a {} model, which Net cannot load", meta.model),
            });
        }
        build_net!(dim, hidden, tf, load, path; (1, 32), (1, 64), (1, 128), (1, 256), (2, 32), (2, 64), (2, 128), (2, 256))
            .map(|inner| Net { inner })
            .ok_or_else(|| Net::unsupported(dim, hidden))
    }

    /// Saves weights and configuration atomically (see [`crate::checkpoint`]).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.inner.save_checkpoint(path.as_ref(), None)
    }

    /// The hidden width.
    pub fn hidden(&self) -> usize {
        self.inner.hidden()
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &MlpConfig {
        self.inner.mlp_config()
    }
}

impl VelocityModel for Net {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn velocity(&self, x: &Points, t: &[f64], cond: Option<&[usize]>) -> Result<Points> {
        self.inner.velocity(x, t, cond)
    }
}

impl TrainableModel for Net {
    fn loss(&self, batch: &TrainBatch) -> Result<f64> {
        self.inner.loss(batch)
    }
    fn train_step(&mut self, batch: &TrainBatch, opt: &OptimizerConfig) -> Result<f64> {
        self.inner.train_step(batch, opt)
    }
    fn reset_optimizer(&mut self) {
        self.inner.reset_optimizer()
    }
    fn num_params(&self) -> usize {
        self.inner.num_params()
    }
    fn steps_trained(&self) -> usize {
        self.inner.steps_trained()
    }
    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        self.inner.save_checkpoint(path, training)
    }
}

impl VectorField for Net {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        self.inner.eval_into(x, t, out)
    }
}

impl Clone for Net {
    fn clone(&self) -> Self {
        Net { inner: self.inner.clone_box() }
    }
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Net({})", self.inner.describe())
    }
}
