//! [`Mlp`]: the velocity MLP of the course on dfdx, typed by its data dimension `D`,
//! hidden width `H` and number of time features `TF`.
//!
//! ```text
//! v_θ(x, t) = W₄ act(W₃ act(W₂ act(W_x x + W_t τ(t) + b₁) + b₂) + b₃) + b₄
//! one step:  L(θ) = 1/(n d) Σᵢ ‖v_θ(x_t,i, tᵢ) − targetᵢ‖²,   θ ← Adam(θ, ∇L)
//! ```
//!
//! On the CPU with SiLU (the default), training and sampling take the fast path of
//! `fused.rs`; other activations and devices use the plain dfdx graph of `layers.rs`.
//! Every method that touches dfdx first syncs the calling cell's tensor ids (`ids.rs`).

use super::checkpoint::{self, CheckpointMeta};
use super::config::{Activation, MlpConfig, TimeEmbedding};
use super::device::{dev_err, ModelDevice};
use super::fused::{self, Frozen};
use super::ids::{advance_ids_past, tensor_id};
use super::layers::{MlpNet, Rows};
use super::optim::{OptimizerConfig, OptimizerKind};
use super::TrainableModel;
use crate::error::{Error, Result};
use crate::field::{Model, Time, VectorField};
use crate::loss::{mse, Batch};
use crate::path::PathSample;
use crate::points::Points;
use dfdx::nn::{BuildModule, ZeroGrads};
use dfdx::optim::{Adam, Optimizer};
use dfdx::prelude::{Const, Gradients, OwnedTape, Rank0, SplitTape, Tensor, Trace};
use dfdx::tensor::Cpu;
use dfdx::tensor_ops::Device;
use std::any::Any;
use std::sync::OnceLock;

mod jacobian;

/// The multilayer perceptron velocity model: data dimension `D`, hidden width `H`,
/// `TF` time features (1 for raw t), on a dfdx device (CPU by default).
///
/// ```no_run
/// use flowmatch::nn::{Mlp, MlpConfig};
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

    /// Makes the calling notebook cell's dfdx ids safe for this model (see `ids.rs`).
    fn sync_ids(&self) -> Result<()> {
        advance_ids_past(&self.dev, self.id_watermark)
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }

    /// The data dimension D.
    pub fn dim(&self) -> usize {
        D
    }

    /// The number of trainable parameters.
    pub fn num_params(&self) -> usize {
        (D * H + H) + TF * H + 2 * (H * H + H) + (H * D + D)
    }

    /// The predicted velocity v_θ(x, t) for every row of `x`, at one time for all rows
    /// (`0.5`) or one per row (`&times`). This model has no conditioning, so `labels` must be `None`.
    ///
    /// Errors: [`Error::ShapeMismatch`] for points of another dimension or a wrong
    /// number of times, [`Error::InvalidParameter`] for labels.
    pub fn velocity<'t>(&self, x: &Points, t: impl Into<Time<'t>>, labels: Option<&[usize]>) -> Result<Points> {
        self.velocity_at(x, t.into(), labels)
    }

    fn velocity_at(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points> {
        self.check_cond(labels)?;
        let n = x.len();
        if n == 0 {
            return Ok(Points::zeros(0, D));
        }
        self.check_x(x)?;
        let t = t.rows(n, "the model input t")?;
        let mut out = Points::zeros(n, D);
        self.write_velocity(x, t, &mut out)?;
        Ok(out)
    }

    /// v_θ(x, t) into `out`, on the fast path when there is one (which makes no dfdx tensors, so
    /// it needs no id sync); `x` and `t` are already checked.
    fn write_velocity(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        if let Some(frozen) = self.fast() {
            frozen.eval(x.as_slice(), t, out.as_mut_slice());
            return Ok(());
        }
        self.sync_ids()?;
        let (xs, tau) = self.inputs(x, &t.to_vec(x.len(), "the model input t")?)?;
        let v = self.net.forward(xs, tau, self.config.activation).map_err(dev_err)?;
        out.as_mut_slice().iter_mut().zip(v.as_vec()).for_each(|(o, v)| *o = v as f64);
        Ok(())
    }

    /// The mean squared error of the model on a regression batch, without updating.
    fn regression_loss(&self, batch: &PathSample) -> Result<f64> {
        batch.validate(D)?;
        let v = self.velocity_at(&batch.x_t, Time::PerRow(&batch.t), None)?;
        mse(&v, &batch.target)
    }

    /// One optimiser step on a regression batch; the batch's labels are not used (no conditioning).
    fn regression_step(&mut self, batch: &PathSample, opt: &OptimizerConfig) -> Result<f64> {
        batch.validate(D)?;
        opt.validate()?;
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
    ) -> Result<(Rows<D, Dev, dfdx::tensor::NoneTape>, Rows<TF, Dev, dfdx::tensor::NoneTape>)> {
        self.check_x(x)?;
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

    fn check_cond(&self, labels: Option<&[usize]>) -> Result<()> {
        if labels.is_some() {
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
    fn generic_loss(&mut self, batch: &PathSample) -> Result<Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>> {
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
            format: checkpoint::FORMAT_VERSION,
            model: "Mlp".into(),
            shape: [("D".to_string(), D), ("H".to_string(), H), ("TF".to_string(), TF)].into_iter().collect(),
            model_config: serde_json::to_value(&self.config)
                .map_err(|e| Error::invalid("model configuration", e.to_string()))?,
            training,
            steps: self.steps,
        })
    }

    /// Saves the weights and configuration to one safetensors file, atomically
    /// (see [`super::checkpoint`]).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.save_with(path, None)
    }

    /// Like [`Mlp::save`], also recording the training settings (JSON) in the file.
    pub fn save_with(&self, path: impl AsRef<std::path::Path>, training: Option<serde_json::Value>) -> Result<()> {
        self.sync_ids()?;
        checkpoint::save_module(&self.net, &self.checkpoint_meta(training)?, path)
    }

    /// Loads a model saved by [`Mlp::save`]. The file must hold an `Mlp<D, H, TF>` of this shape.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let meta = checkpoint::read_meta(path)?;
        checkpoint::check_shape(path, &meta, "Mlp", &[("D", D), ("H", H), ("TF", TF)])?;
        let config: MlpConfig = serde_json::from_value(meta.model_config.clone()).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!("its model configuration is not valid ({e})"),
        })?;
        let mut model = Self::new(config)?;
        checkpoint::load_module(&mut model.net, path)?;
        model.frozen = OnceLock::new();
        model.steps = meta.steps;
        model.id_watermark = model.probe_id()?;
        Ok(model)
    }
}

/// `mean((pred − target)²)` with the tape of `pred`.
fn mse_on_tape<const D: usize, Dev: Device<f32>>(
    pred: Rows<D, Dev, OwnedTape<f32, Dev>>,
    target: Rows<D, Dev, dfdx::tensor::NoneTape>,
) -> Result<Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>> {
    use dfdx::tensor_ops::{MeanTo, TrySub};
    pred.try_sub(target).map_err(dev_err)?.try_square().map_err(dev_err)?.try_mean::<Rank0, _>().map_err(dev_err)
}

impl<const D: usize, const H: usize, const TF: usize> Mlp<D, H, TF, Cpu> {
    /// The batch loss through the fused SiLU network (see `fused.rs`), with a tape.
    fn fast_loss(&mut self, batch: &PathSample) -> Result<Tensor<Rank0, f32, Cpu, OwnedTape<f32, Cpu>>> {
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

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Model for Mlp<D, H, TF, Dev> {
    fn dim(&self) -> usize {
        D
    }

    fn velocity(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points> {
        self.velocity_at(x, t, labels)
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> VectorField for Mlp<D, H, TF, Dev> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        self.check_x(x)?;
        x.check_same_shape(out, "the output of eval_into")?;
        if x.is_empty() {
            return Ok(());
        }
        let t = t.rows(x.len(), "the model input t")?;
        self.write_velocity(x, t, out)
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> TrainableModel for Mlp<D, H, TF, Dev> {
    fn dim(&self) -> usize {
        D
    }

    fn loss(&self, batch: &Batch) -> Result<f64> {
        self.regression_loss(regression(batch)?)
    }

    fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> Result<f64> {
        self.regression_step(regression(batch)?, opt)
    }

    fn reset_optimizer(&mut self) {
        self.opt = None;
    }

    fn num_params(&self) -> usize {
        Mlp::num_params(self)
    }

    fn steps_trained(&self) -> usize {
        self.steps
    }

    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        self.save_with(path, training)
    }
}

/// The path sample inside a regression batch, or an error naming the batch kind a velocity model cannot use.
fn regression(batch: &Batch) -> Result<&PathSample> {
    match batch {
        Batch::Regression(s) => Ok(s),
        other => Err(Error::invalid(
            "training batch",
            format!(
                "a velocity model learns by regression on path samples (Batch::Regression), but this batch holds {}; \
                 train it with a regression objective such as CFM",
                other.kind()
            ),
        )),
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
        write!(f, "Mlp<D={D}, H={H}, TF={TF}> {{ {:?}, {} parameters }}", self.config, Mlp::num_params(self))
    }
}
