//! [`Mlp`]: the velocity MLP of the course on dfdx, typed by its data dimension `D`,
//! hidden width `H` and number of time features `TF`.
//!
//! ```text
//! v_θ(x, t) = W₄ act(W₃ act(W₂ act(W_x x + W_t τ(t) + b₁) + b₂) + b₃) + b₄
//! v_θ(x, t | y) = the same with E[y] added inside the first act(·)     (conditional: y ∈ 0..K or ∅)
//! one step:  L(θ) = 1/(n d) Σᵢ ‖v_θ(x_t,i, tᵢ | yᵢ) − targetᵢ‖²,   θ ← Adam(θ, ∇L)
//! ```
//!
//! [`Mlp::conditional`] builds a model with K classes; its label vectors E (one per class and
//! one for the null label ∅) live in `labels.rs`.
//!
//! On the CPU with SiLU (the default), training and sampling take the fast path of
//! `fused.rs`; other activations and devices use the plain dfdx graph of `layers.rs`.
//! Every method that touches dfdx first syncs the calling cell's tensor ids (`ids.rs`).

use super::checkpoint::{self, CheckpointMeta, NamedTensor};
use super::config::{Activation, MlpConfig, TimeEmbedding};
use super::device::{dev_err, Device, ModelDevice};
use super::fused::{self, Embed, Frozen};
use super::ids::{advance_ids_past, tensor_id};
use super::labels::{self, GradSink, LabelTable};
use super::layers::{MlpNet, Rows};
use super::optim::{OptimizerConfig, OptimizerKind};
use super::TrainableModel;
use crate::error::{Error, Result};
use crate::field::{Model, Time, VectorField};
use crate::loss::{mse, Batch};
use crate::path::PathSample;
use crate::points::Points;
use dfdx::nn::{BuildModule, ToDevice, ZeroGrads};
use dfdx::optim::{Adam, Optimizer};
use dfdx::prelude::{Const, Gradients, OwnedTape, Rank0, SplitTape, Tensor, Trace};
use dfdx::tensor::Cpu;
use dfdx::tensor_ops::Device as DfdxDevice;
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
    /// Which device `dev` is (the CPU, or which GPU).
    place: Device,
    /// Every parameter's dfdx id is below this one.
    id_watermark: usize,
    opt: Option<(OptimizerKind, MlpAdam<D, H, TF, Dev>)>,
    grads: Option<Gradients<f32, Dev>>,
    steps: usize,
    /// The weights copied out for the tape-free forward pass (CPU + SiLU); reset on every update.
    frozen: OnceLock<Frozen>,
    /// The label vectors of a conditional model (`None`: no class conditioning).
    labels: Option<LabelTable>,
}

/// Adam's state for the layers of an [`Mlp`].
type MlpAdam<const D: usize, const H: usize, const TF: usize, Dev> = Adam<MlpNet<D, H, TF, f32, Dev>, f32, Dev>;

/// An [`Mlp`] with 16 Fourier time features.
pub type FourierMlp<const D: usize, const H: usize> = Mlp<D, H, 16>;

/// Records the loss of a regression batch on a tape and hands it, with the sink of the label
/// vectors' gradients, to `$then` together with the model: through the fused SiLU path when the
/// model is a SiLU MLP on the CPU (the downcast makes the device concrete, so `$then` runs on
/// that `Mlp<D, H, TF, Cpu>`), otherwise through dfdx's generic graph. The batch is validated,
/// its labels mapped to label-vector rows and the tensor ids synchronised first.
macro_rules! on_batch_loss {
    ($model:ident, $batch:expr, |$m:ident, $loss:ident, $sink:ident| $then:expr) => {{
        let batch = $batch;
        batch.validate(D)?;
        let rows = match $model.batch_labels(batch)? {
            Some(l) => $model.label_rows(Some(l), batch.len())?,
            None => None,
        };
        $model.sync_ids()?;
        if $model.config.activation == Activation::Silu {
            if let Some($m) = ($model as &mut dyn Any).downcast_mut::<Mlp<D, H, TF, Cpu>>() {
                let ($loss, $sink) = $m.fast_loss(batch, rows)?;
                return $then;
            }
        }
        let $m = $model;
        let ($loss, $sink) = $m.generic_loss(batch, rows)?;
        $then
    }};
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Mlp<D, H, TF, Dev> {
    /// Builds a freshly initialised model (dfdx's default uniform init, seeded by `config.seed`).
    pub fn new(config: MlpConfig) -> Result<Self> {
        Self::check_shapes(&config)?;
        let dev = Dev::seeded(config.seed)?;
        let net = MlpNet::<D, H, TF, f32, Dev>::try_build(&dev).map_err(dev_err)?;
        Self::assemble(net, config, dev, Dev::DEFAULT, 0)
    }

    fn assemble(
        net: MlpNet<D, H, TF, f32, Dev>,
        config: MlpConfig,
        dev: Dev,
        place: Device,
        steps: usize,
    ) -> Result<Self> {
        let mut model = Mlp {
            net,
            config,
            dev,
            place,
            id_watermark: 0,
            opt: None,
            grads: None,
            steps,
            frozen: OnceLock::new(),
            labels: None,
        };
        model.id_watermark = model.probe_id()?;
        Ok(model)
    }

    /// A copy of this model on `device` (of type `Dev2`: `Cpu`, or `Cuda` with the `cuda` feature),
    /// with the same weights, configuration and step count; the copy starts with a fresh optimiser.
    pub fn to_device<Dev2: ModelDevice>(&self, device: Device) -> Result<Mlp<D, H, TF, Dev2>> {
        self.sync_ids()?;
        let dev = Dev2::create(device, self.config.seed)?;
        let net = self.net.try_to_device(&dev).map_err(dev_err)?;
        let mut moved = Mlp::assemble(net, self.config.clone(), dev, device, self.steps)?;
        moved.labels = self.labels.clone(); // the label vectors live on the host, whatever the device
        Ok(moved)
    }

    /// Which device the model lives on.
    pub fn placement(&self) -> Device {
        self.place
    }

    /// Every weight and bias, named as in checkpoints (`hidden1.weight`), with its shape and values.
    pub fn parameters(&self) -> Result<Vec<NamedTensor>> {
        self.sync_ids()?;
        checkpoint::module_tensors(&self.net)
    }

    /// The loss on a regression batch and its gradient ∇_θ L with respect to every parameter (named
    /// and ordered as [`Mlp::parameters`]), computed as a training step computes them (on the CPU
    /// with SiLU, through the fused path), without updating the weights. A conditional model uses
    /// the batch's labels; the gradient of its label vectors is not among the returned tensors.
    pub fn gradients(&mut self, batch: &PathSample) -> Result<(f64, Vec<NamedTensor>)> {
        on_batch_loss!(self, batch, |model, loss, _label_grads| model.backprop(loss))
    }

    fn backprop(&mut self, loss: Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>) -> Result<(f64, Vec<NamedTensor>)> {
        use dfdx::tensor_ops::Backward;
        let value = loss.as_vec()[0] as f64;
        let mut grads = loss.try_backward().map_err(dev_err)?;
        let named = checkpoint::module_gradients(&self.net, &grads);
        self.net.try_zero_grads(&mut grads).map_err(dev_err)?;
        self.grads = Some(grads);
        Ok((value, named?))
    }

    /// Rescales the first layer so that W_x, b₁ and W_t are uniform on ±1/√(D + TF): PyTorch's
    /// `nn.Linear` initialisation of one layer on the concatenation [x, τ(t)].
    ///
    /// ```text
    /// dfdx draws W_x, b₁ ~ U(±1/√D) and W_t ~ U(±1/√TF) (two layers, two fan-ins);
    /// W_x, b₁ ← √(D/(D+TF)) · (W_x, b₁),   W_t ← √(TF/(D+TF)) · W_t   ⇒   all ~ U(±1/√(D+TF))
    /// ```
    ///
    /// The other layers already match PyTorch (U(±1/√fan_in) for weights and biases). Meant for
    /// a fresh model: the optimiser's state is reset.
    pub fn pytorch_first_layer_init(&mut self) -> Result<()> {
        use dfdx::tensor_ops::TryMul;
        self.sync_ids()?;
        let fan_in = (D + TF) as f32;
        let (sx, st) = ((D as f32 / fan_in).sqrt(), (TF as f32 / fan_in).sqrt());
        self.net.x_in.weight = self.net.x_in.weight.clone().try_mul(sx).map_err(dev_err)?;
        self.net.x_in.bias = self.net.x_in.bias.clone().try_mul(sx).map_err(dev_err)?;
        self.net.t_in.weight = self.net.t_in.weight.clone().try_mul(st).map_err(dev_err)?;
        self.frozen = OnceLock::new();
        self.opt = None;
        self.grads = None;
        self.id_watermark = self.probe_id()?;
        Ok(())
    }

    /// A conditional model v_θ(x, t | y) with `classes` classes K ≥ 1: the layers of
    /// [`Mlp::new`] (the same initial weights for the same seed) plus a learned vector `E[y]`
    /// for each class and for the null label ∅, added to the first layer's pre-activation.
    ///
    /// Labels are `0..K`, or [`NULL_LABEL`](crate::field::NULL_LABEL) (or `None`) for ∅.
    ///
    /// ```no_run
    /// use flowmatch::nn::{Mlp, MlpConfig};
    /// let model = Mlp::<2, 64>::conditional(MlpConfig::default(), 8).unwrap();
    /// assert_eq!(model.classes(), Some(8));
    /// ```
    pub fn conditional(config: MlpConfig, classes: usize) -> Result<Self> {
        let mut model = Self::new(config)?;
        model.labels = Some(LabelTable::new(classes, H, model.config.seed)?);
        Ok(model)
    }

    /// The number of classes K of a conditional model, `None` without class conditioning.
    pub fn classes(&self) -> Option<usize> {
        self.labels.as_ref().map(LabelTable::classes)
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

    /// The number of trainable parameters (with the (K + 1) × H label vectors of a conditional model).
    pub fn num_params(&self) -> usize {
        (D * H + H) + TF * H + 2 * (H * H + H) + (H * D + D) + self.labels.as_ref().map_or(0, LabelTable::len)
    }

    /// The predicted velocity v_θ(x, t | y) for every row of `x`, at one time for all rows
    /// (`0.5`) or one per row (`&times`). A conditional model takes one label per row
    /// (`0..K`, or `NULL_LABEL` for ∅; `None` is ∅ for every row); a model without
    /// conditioning takes `None`.
    ///
    /// Errors: [`Error::ShapeMismatch`] for points of another dimension or a wrong
    /// number of times or labels, [`Error::InvalidParameter`] for a label outside the
    /// model's classes, or labels for a model without conditioning.
    pub fn velocity<'t>(&self, x: &Points, t: impl Into<Time<'t>>, labels: Option<&[usize]>) -> Result<Points> {
        self.velocity_at(x, t.into(), labels)
    }

    fn velocity_at(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points> {
        let n = x.len();
        let rows = self.label_rows(labels, n)?;
        if n == 0 {
            return Ok(Points::zeros(0, D));
        }
        self.check_x(x)?;
        let t = t.rows(n, "the model input t")?;
        let mut out = Points::zeros(n, D);
        self.write_velocity(x, t, rows.as_deref(), &mut out)?;
        Ok(out)
    }

    /// The label-table row of each of `n` points for a conditional model (∅ for all when
    /// `labels` is `None`); `None` for a model without conditioning, which rejects labels.
    fn label_rows(&self, labels: Option<&[usize]>, n: usize) -> Result<Option<Vec<usize>>> {
        match &self.labels {
            Some(table) => table.rows_of(labels, n).map(Some),
            None if labels.is_some() => Err(Error::invalid(
                "conditioning",
                "this Mlp was built without class conditioning; pass None as the label, or build a conditional \
                 model (Mlp::conditional, Net::conditional)",
            )),
            None => Ok(None),
        }
    }

    /// v_θ(x, t | y) into `out`, on the fast path when there is one (which makes no dfdx tensors,
    /// so it needs no id sync); `x`, `t` and the label rows are already checked.
    fn write_velocity(&self, x: &Points, t: Time<'_>, rows: Option<&[usize]>, out: &mut Points) -> Result<()> {
        let table = self.labels.as_ref().zip(rows);
        if let Some(frozen) = self.fast() {
            let embed = table.map(|(l, rows)| Embed { table: l.table(), rows });
            frozen.eval(x.as_slice(), t, embed, out.as_mut_slice());
            return Ok(());
        }
        self.sync_ids()?;
        let (xs, tau) = self.inputs(x, &t.to_vec(x.len(), "the model input t")?)?;
        let extra = table.map(|(l, rows)| self.dev.tensor_from_vec(l.gather(rows), (rows.len(), Const::<H>)));
        let v = self.net.forward_with(xs, tau, extra, self.config.activation).map_err(dev_err)?;
        out.as_mut_slice().iter_mut().zip(v.as_vec()).for_each(|(o, v)| *o = v as f64);
        Ok(())
    }

    /// The labels a regression batch trains on: its labels for a conditional model (which
    /// needs them), none for a model without conditioning (which ignores them).
    fn batch_labels<'b>(&self, batch: &'b PathSample) -> Result<Option<&'b [usize]>> {
        match (&self.labels, &batch.labels) {
            (None, _) => Ok(None),
            (Some(_), Some(l)) => Ok(Some(l)),
            (Some(table), None) => Err(Error::invalid(
                "training batch",
                format!(
                    "this model is conditional on {} classes but the batch has no labels; train it on a dataset \
                     with classes (Dataset::num_classes() > 1), or build an unconditional model",
                    table.classes()
                ),
            )),
        }
    }

    /// The mean squared error of the model on a regression batch, without updating.
    fn regression_loss(&self, batch: &PathSample) -> Result<f64> {
        batch.validate(D)?;
        let v = self.velocity_at(&batch.x_t, Time::PerRow(&batch.t), self.batch_labels(batch)?)?;
        mse(&v, &batch.target)
    }

    /// One optimiser step on a regression batch; the batch's labels are used by a conditional
    /// model only.
    fn regression_step(&mut self, batch: &PathSample, opt: &OptimizerConfig) -> Result<f64> {
        opt.validate()?;
        on_batch_loss!(self, batch, |model, loss, sink| model.apply_step(loss, sink, opt))
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

    /// The batch loss on the plain dfdx graph, with a tape; for a conditional model also where
    /// the backward pass leaves the label table's gradient.
    fn generic_loss(
        &mut self,
        batch: &PathSample,
        rows: Option<Vec<usize>>,
    ) -> Result<(LossOnTape<Dev>, Option<GradSink>)> {
        let n = batch.x_t.len();
        let (xs, tau) = self.inputs(&batch.x_t, &batch.t)?;
        let target = self.dev.tensor_from_vec(batch.target.to_f32(), (n, Const::<D>));
        let grads = self.take_grads()?;
        let xs = xs.traced(grads);
        let tau = tau.retaped::<OwnedTape<f32, Dev>>();
        let (extra, sink) = match (&self.labels, rows) {
            (Some(table), Some(rows)) => {
                let sink = table.sink();
                (Some(tapped_label_rows::<H, Dev>(&self.dev, table, rows, sink.clone())), Some(sink))
            }
            _ => (None, None),
        };
        let pred = self.net.forward_with(xs, tau, extra, self.config.activation).map_err(dev_err)?;
        Ok((mse_on_tape(pred, target)?, sink))
    }

    /// Checks the loss, backpropagates, takes the optimiser step (on the layers, and on the
    /// label table with the gradient left in `sink`) and returns the loss.
    fn apply_step(&mut self, loss: LossOnTape<Dev>, sink: Option<GradSink>, opt: &OptimizerConfig) -> Result<f64> {
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
            if let Some(table) = &mut self.labels {
                table.reset_optimizer();
            }
        }
        let (_, adam) = self.opt.as_mut().expect("optimiser was just set");
        adam.cfg = adam_cfg;
        self.frozen = OnceLock::new();
        adam.update(&mut self.net, &grads).map_err(|e| Error::invalid("optimiser step", format!("{e:?}")))?;
        if let (Some(table), Some(sink)) = (&mut self.labels, sink) {
            let g = std::mem::take(&mut *sink.lock().expect("the backward pass has finished"));
            assert_eq!(g.len(), table.len(), "the backward pass leaves the label table's gradient");
            table.adam_step(&g, &adam_cfg);
        }
        self.net.try_zero_grads(&mut grads).map_err(dev_err)?;
        self.grads = Some(grads);
        self.steps += 1;
        Ok(loss_value)
    }

    /// The checkpoint metadata describing this model (the trainer adds its own settings). Its
    /// shape is `D`, `H`, `TF`, and `C` (the number of classes) for a conditional model.
    pub fn checkpoint_meta(&self, training: Option<serde_json::Value>) -> Result<CheckpointMeta> {
        Ok(CheckpointMeta {
            format: checkpoint::FORMAT_VERSION,
            model: "Mlp".into(),
            shape: Self::shape(self.classes()).into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            model_config: serde_json::to_value(&self.config)
                .map_err(|e| Error::invalid("model configuration", e.to_string()))?,
            training,
            steps: self.steps,
        })
    }

    /// The shape recorded in a checkpoint: D, H, TF, and C for `classes`.
    fn shape(classes: Option<usize>) -> Vec<(&'static str, usize)> {
        let mut shape = vec![("D", D), ("H", H), ("TF", TF)];
        shape.extend(classes.map(|c| ("C", c)));
        shape
    }

    /// Saves the weights and configuration to one safetensors file, atomically
    /// (see [`super::checkpoint`]); a conditional model's label vectors go in as the tensor
    /// `label_embedding` [K + 1, H] and its K as `C` in the recorded shape.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.save_with(path, None)
    }

    /// Like [`Mlp::save`], also recording the training settings (JSON) in the file.
    pub fn save_with(&self, path: impl AsRef<std::path::Path>, training: Option<serde_json::Value>) -> Result<()> {
        self.sync_ids()?;
        let extra: Vec<_> = self.labels.iter().map(LabelTable::named_tensor).collect();
        checkpoint::save_module_with(&self.net, &extra, &self.checkpoint_meta(training)?, path)
    }

    /// Loads a model saved by [`Mlp::save`]. The file must hold an `Mlp<D, H, TF>` of this
    /// shape; a conditional one comes back conditional, with the number of classes it records.
    ///
    /// Errors: [`Error::Checkpoint`] for another shape, or a label table that does not match
    /// the recorded number of classes.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let meta = checkpoint::read_meta(path)?;
        let classes = meta.shape.get("C").copied();
        checkpoint::check_shape(path, &meta, "Mlp", &Self::shape(classes))?;
        let config: MlpConfig = serde_json::from_value(meta.model_config.clone()).map_err(|e| Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!("its model configuration is not valid ({e})"),
        })?;
        let mut model = match classes {
            Some(c) => Self::conditional(config, c)?,
            None => Self::new(config)?,
        };
        checkpoint::load_module(&mut model.net, path)?;
        if let Some(table) = &mut model.labels {
            let (shape, values) = checkpoint::read_tensor(path, labels::TENSOR_NAME)?;
            table.set_from(path, &shape, values)?;
        }
        model.frozen = OnceLock::new();
        model.steps = meta.steps;
        model.id_watermark = model.probe_id()?;
        Ok(model)
    }
}

/// A scalar loss with its tape.
type LossOnTape<Dev> = Tensor<Rank0, f32, Dev, OwnedTape<f32, Dev>>;

/// The label vectors E[rows[i]] as a tensor on the tape, for the plain dfdx graph. Its backward
/// op (recorded first, so it runs after every op that uses the tensor) reads their gradient
/// ∂L/∂z₁ and leaves the table's gradient in `sink`.
fn tapped_label_rows<const H: usize, Dev: ModelDevice>(
    dev: &Dev,
    table: &LabelTable,
    rows: Vec<usize>,
    sink: GradSink,
) -> Rows<H, Dev, OwnedTape<f32, Dev>> {
    use dfdx::tensor::{PutTape, Tape};
    let e = dev.tensor_from_vec(table.gather(&rows), (rows.len(), Const::<H>));
    let ghost = e.ghost();
    let len = table.len();
    let mut tape = OwnedTape::<f32, Dev>::default();
    tape.add_backward_op(move |grads| {
        grads.try_alloc_for(&ghost)?;
        let dz = grads.get(&ghost).as_vec();
        let mut g = vec![0.0; len];
        labels::scatter_into(&mut g, &rows, &dz, H);
        *sink.lock().expect("the gradient sink is only used here") = g;
        Ok(())
    });
    e.put_tape(tape)
}

/// `mean((pred − target)²)` with the tape of `pred`.
fn mse_on_tape<const D: usize, Dev: DfdxDevice<f32>>(
    pred: Rows<D, Dev, OwnedTape<f32, Dev>>,
    target: Rows<D, Dev, dfdx::tensor::NoneTape>,
) -> Result<LossOnTape<Dev>> {
    use dfdx::tensor_ops::{MeanTo, TrySub};
    pred.try_sub(target).map_err(dev_err)?.try_square().map_err(dev_err)?.try_mean::<Rank0, _>().map_err(dev_err)
}

impl<const D: usize, const H: usize, const TF: usize> Mlp<D, H, TF, Cpu> {
    /// The batch loss through the fused SiLU network (see `fused.rs`), with a tape; for a
    /// conditional model also where the backward pass leaves the label table's gradient.
    fn fast_loss(
        &mut self,
        batch: &PathSample,
        rows: Option<Vec<usize>>,
    ) -> Result<(LossOnTape<Cpu>, Option<GradSink>)> {
        use dfdx::tensor::TensorFromVec;
        let n = batch.x_t.len();
        self.check_x(&batch.x_t)?;
        let xs = self.dev.tensor_from_vec(batch.x_t.to_f32(), (n, Const::<D>));
        let tau = self.config.time_embedding.features(&batch.t, TF);
        let target = self.dev.tensor_from_vec(batch.target.to_f32(), (n, Const::<D>));
        let xs = xs.traced(self.take_grads()?);
        let (embed, sink) = match (&self.labels, rows) {
            (Some(table), Some(rows)) => {
                let sink = table.sink();
                (Some((table.table(), rows, sink.clone())), Some(sink))
            }
            _ => (None, None),
        };
        let pred = fused::mlp(xs, tau, &self.net, embed);
        Ok((mse_on_tape(pred, target)?, sink))
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Model for Mlp<D, H, TF, Dev> {
    fn dim(&self) -> usize {
        D
    }

    fn classes(&self) -> Option<usize> {
        Mlp::classes(self)
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
        // A conditional model's field is its unconditional velocity v(x, t | ∅).
        let rows = self.label_rows(None, x.len())?;
        self.write_velocity(x, t, rows.as_deref(), out)
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
        if let Some(table) = &mut self.labels {
            table.reset_optimizer();
        }
    }

    fn num_params(&self) -> usize {
        Mlp::num_params(self)
    }

    fn steps_trained(&self) -> usize {
        self.steps
    }

    fn device(&self) -> Device {
        self.place
    }

    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        self.save_with(path, training)
    }
}

/// The path sample inside a regression batch, or an error naming the batch kind a velocity model cannot use.
pub(crate) fn regression(batch: &Batch) -> Result<&PathSample> {
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
            place: self.place,
            id_watermark: self.id_watermark,
            opt: None,
            grads: None,
            steps: self.steps,
            frozen: OnceLock::new(),
            labels: self.labels.clone().map(|mut l| {
                l.reset_optimizer();
                l
            }),
        }
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> std::fmt::Debug for Mlp<D, H, TF, Dev> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let classes = self.classes().map(|c| format!("{c} classes, ")).unwrap_or_default();
        write!(f, "Mlp<D={D}, H={H}, TF={TF}> {{ {:?}, {classes}{} parameters }}", self.config, Mlp::num_params(self))
    }
}

#[cfg(test)]
mod tests {
    //! The two training paths of a conditional model agree: the fused op and the plain dfdx
    //! graph with its tapped label vectors give the same loss and the same gradients,
    //! the label table's included.
    use super::*;
    use crate::data::{EightGaussians, StandardGaussian};
    use crate::loss::{drop_labels, Cfm};
    use dfdx::tensor_ops::Backward;
    use rand::SeedableRng;

    #[test]
    fn fused_and_plain_graph_agree_for_a_conditional_model() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let (source, target) = (StandardGaussian::new(2).unwrap(), EightGaussians::torchcfm());
        let mut batch = Cfm::condot().draw_independent(&source, &target, 200, &mut rng).unwrap();
        drop_labels(batch.labels.as_mut().unwrap(), 0.3, &mut rng).unwrap();
        let mut fast = Mlp::<2, 64>::conditional(MlpConfig { seed: 5, ..Default::default() }, 8).unwrap();
        let mut plain = fast.clone();
        let rows = fast.label_rows(batch.labels.as_deref(), batch.len()).unwrap();

        let (loss, sink) = fast.fast_loss(&batch, rows.clone()).unwrap();
        let loss_fast = loss.as_vec()[0];
        let grads_fast = loss.backward();
        let table_fast = sink.unwrap().lock().unwrap().clone();

        let (loss, sink) = plain.generic_loss(&batch, rows).unwrap();
        let loss_plain = loss.as_vec()[0];
        let grads_plain = loss.backward();
        let table_plain = sink.unwrap().lock().unwrap().clone();

        let rel = |a: &[f32], b: &[f32]| {
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
            a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs())) / scale
        };
        assert!((loss_fast - loss_plain).abs() < 1e-5 * loss_plain, "{loss_fast} vs {loss_plain}");
        assert_eq!(table_fast.len(), 9 * 64);
        // Every class and ∅ occur in 200 rows, so every row of the table has a gradient.
        assert!(table_fast.chunks(64).all(|r| r.iter().any(|v| *v != 0.0)));
        assert!(rel(&table_fast, &table_plain) < 1e-5, "table gradient off by {}", rel(&table_fast, &table_plain));
        let (wf, wp) =
            (grads_fast.get(&fast.net.x_in.weight).as_vec(), grads_plain.get(&plain.net.x_in.weight).as_vec());
        assert!(rel(&wf, &wp) < 1e-5, "x_in gradient off by {}", rel(&wf, &wp));
    }
}
