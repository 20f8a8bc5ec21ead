//! [`Net`]: a velocity MLP whose shape is chosen at run time, the model of the notebooks.
//!
//! ```text
//! Net::mlp(d, h) = Mlp::<d, h>   for d ∈ {1, 2}, h ∈ {32, 64, 128, 256}   (raw time, or 16 Fourier features)
//! Net::conditional(d, h, K) = Mlp::<d, h>::conditional(·, K)               (v(x, t | y), y ∈ 0..K or ∅)
//! ```
//!
//! `Net::mlp(2, 256)?.on(Device::Cuda(0))` is the same model on a GPU (with the `cuda` feature): the
//! weights are built on the CPU from the seed and copied, so both devices start from the same θ.
//!
//! It is not generic, so a notebook cell that trains it runs code compiled (optimised)
//! with the library whatever the cell's optimisation level, and its methods are
//! inherent: a cell calls `model.num_params()` without importing a trait.

use super::checkpoint::{self, NamedTensor};
use super::config::{MlpConfig, TimeEmbedding};
use super::device::{Device, ModelDevice};
use super::mlp::{regression, Mlp};
use super::optim::OptimizerConfig;
use super::TrainableModel;
use crate::error::{Error, Result};
use crate::field::{Model, Time, VectorField};
use crate::likelihood::{ConditionalDivergence, Divergence};
use crate::loss::Batch;
use crate::points::Points;
use dfdx::tensor::Cpu;

/// Everything a [`Net`] needs from the typed model inside it.
trait NetModel: TrainableModel + ConditionalDivergence {
    fn clone_box(&self) -> Box<dyn NetModel>;
    fn describe(&self) -> String;
    fn mlp_config(&self) -> &MlpConfig;
    fn hidden(&self) -> usize;
    fn moved(&self, device: Device) -> Result<Box<dyn NetModel>>;
    fn parameters(&self) -> Result<Vec<NamedTensor>>;
    fn gradients(&mut self, batch: &Batch) -> Result<(f64, Vec<NamedTensor>)>;
    fn pytorch_first_layer_init(&mut self) -> Result<()>;
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> NetModel for Mlp<D, H, TF, Dev> {
    fn clone_box(&self) -> Box<dyn NetModel> {
        Box::new(self.clone())
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    fn mlp_config(&self) -> &MlpConfig {
        self.config()
    }
    fn hidden(&self) -> usize {
        H
    }
    fn moved(&self, device: Device) -> Result<Box<dyn NetModel>> {
        match device {
            Device::Cpu => Ok(Box::new(self.to_device::<Cpu>(device)?)),
            #[cfg(feature = "cuda")]
            Device::Cuda(_) => Ok(Box::new(self.to_device::<dfdx::tensor::Cuda>(device)?)),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(super::device::cuda_not_built(device)),
        }
    }
    fn parameters(&self) -> Result<Vec<NamedTensor>> {
        Mlp::parameters(self)
    }
    fn gradients(&mut self, batch: &Batch) -> Result<(f64, Vec<NamedTensor>)> {
        Mlp::gradients(self, regression(batch)?)
    }
    fn pytorch_first_layer_init(&mut self) -> Result<()> {
        Mlp::pytorch_first_layer_init(self)
    }
}

/// The data dimensions a [`Net`] can be built with.
pub const NET_DIMS: [usize; 2] = [1, 2];
/// The hidden widths a [`Net`] can be built with.
pub const NET_WIDTHS: [usize; 4] = [32, 64, 128, 256];
/// The number of time features of a [`Net`] with [`TimeEmbedding::Fourier`].
pub const NET_FOURIER_FEATURES: usize = 16;

macro_rules! build_net {
    ($dim:expr, $hidden:expr, $tf:expr, $make:ident $args:tt; $(($d:literal, $h:literal)),*) => {
        match ($dim, $hidden, $tf) {
            $(
                ($d, $h, 1) => Some(Box::new(Mlp::<$d, $h, 1>::$make $args?) as Box<dyn NetModel>),
                ($d, $h, 16) => Some(Box::new(Mlp::<$d, $h, 16>::$make $args?) as Box<dyn NetModel>),
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
        let tf = Net::time_features(&config);
        build_net!(dim, hidden, tf, new(config); (1, 32), (1, 64), (1, 128), (1, 256), (2, 32), (2, 64), (2, 128), (2, 256))
            .map(|inner| Net { inner })
            .ok_or_else(|| Net::unsupported(dim, hidden))
    }

    /// A conditional MLP velocity model v_θ(x, t | y) with `classes` classes (raw time, SiLU,
    /// seed 0): a learned vector for each class and for the null label ∅ is added to the first
    /// layer (see [`Mlp::conditional`]). Train it on a dataset with labels, with label dropout
    /// for classifier-free guidance.
    ///
    /// ```no_run
    /// use flowmatch::nn::Net;
    /// let model = Net::conditional(2, 128, 8).unwrap();
    /// assert_eq!(model.classes(), Some(8));
    /// ```
    pub fn conditional(dim: usize, hidden: usize, classes: usize) -> Result<Net> {
        Net::conditional_with(dim, hidden, classes, MlpConfig::default())
    }

    /// A conditional MLP with the given activation, time embedding and seed.
    pub fn conditional_with(dim: usize, hidden: usize, classes: usize, config: MlpConfig) -> Result<Net> {
        let tf = Net::time_features(&config);
        build_net!(dim, hidden, tf, conditional(config, classes); (1, 32), (1, 64), (1, 128), (1, 256), (2, 32), (2, 64), (2, 128), (2, 256))
            .map(|inner| Net { inner })
            .ok_or_else(|| Net::unsupported(dim, hidden))
    }

    fn time_features(config: &MlpConfig) -> usize {
        match config.time_embedding {
            TimeEmbedding::Raw => 1,
            TimeEmbedding::Fourier { .. } => NET_FOURIER_FEATURES,
        }
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

    /// The same model on `device`: `Net::mlp(2, 256)?.on(Device::Cuda(0))?`. See [`Net::to_device`].
    pub fn on(mut self, device: Device) -> Result<Net> {
        self.to_device(device)?;
        Ok(self)
    }

    /// Moves the model to `device` (the CPU, or a GPU with the `cuda` feature), keeping its weights,
    /// configuration and step count; the optimiser's moments start afresh, as after
    /// [`Net::reset_optimizer`]. Nothing happens if it is there already.
    ///
    /// Errors: without the `cuda` feature, a GPU is an error naming the feature; with it, a machine
    /// without a CUDA driver or with no GPU of that number is an error saying so.
    pub fn to_device(&mut self, device: Device) -> Result<()> {
        if device != self.device() {
            self.inner = self.inner.moved(device)?;
        }
        Ok(())
    }

    /// The device the model computes on.
    pub fn device(&self) -> Device {
        TrainableModel::device(&*self.inner)
    }

    /// Every weight and bias, named as in checkpoints (`hidden1.weight`), with its shape and values.
    pub fn parameters(&self) -> Result<Vec<NamedTensor>> {
        self.inner.parameters()
    }

    /// The loss on a regression batch and its gradient with respect to every parameter (named and
    /// ordered as [`Net::parameters`]), as a training step computes them, without updating.
    pub fn gradients(&mut self, batch: &Batch) -> Result<(f64, Vec<NamedTensor>)> {
        self.inner.gradients(batch)
    }

    /// Loads a checkpoint written by [`Net::save`] or [`Mlp::save`], conditional or not (a
    /// conditional one records its number of classes).
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Net> {
        let path = path.as_ref();
        let meta = checkpoint::read_meta(path)?;
        let get = |k: &str| meta.shape.get(k).copied().unwrap_or(0);
        let (dim, hidden, tf) = (get("D"), get("H"), get("TF"));
        if meta.model != "Mlp" {
            return Err(Error::Checkpoint {
                path: path.display().to_string(),
                reason: format!("it holds a {} model, which Net cannot load", meta.model),
            });
        }
        build_net!(dim, hidden, tf, load(path); (1, 32), (1, 64), (1, 128), (1, 256), (2, 32), (2, 64), (2, 128), (2, 256))
            .map(|inner| Net { inner })
            .ok_or_else(|| Net::unsupported(dim, hidden))
    }

    /// Saves weights and configuration atomically (see [`super::checkpoint`]).
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

    /// The data dimension d.
    pub fn dim(&self) -> usize {
        Model::dim(&*self.inner)
    }

    /// The number of classes K of a conditional model, `None` without class conditioning.
    pub fn classes(&self) -> Option<usize> {
        Model::classes(&*self.inner)
    }

    /// The predicted velocity v_θ(x, t | y) for every row of `x`, at one time for all rows
    /// (`0.5`) or one per row (`&times`). A conditional model takes one label per row (`0..K`,
    /// or `NULL_LABEL` for ∅; `None` is ∅ for all); a model without conditioning takes `None`.
    pub fn velocity<'t>(&self, x: &Points, t: impl Into<Time<'t>>, labels: Option<&[usize]>) -> Result<Points> {
        Model::velocity(&*self.inner, x, t.into(), labels)
    }

    /// The loss on `batch` (the mean squared error on a regression batch), without updating.
    pub fn loss(&self, batch: &Batch) -> Result<f64> {
        self.inner.loss(batch)
    }

    /// One optimiser step on `batch`; returns the loss before the update.
    pub fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> Result<f64> {
        self.inner.train_step(batch, opt)
    }

    /// Rescales the first layer to PyTorch's `nn.Linear` initialisation on [x, τ(t)]
    /// (see [`Mlp::pytorch_first_layer_init`]).
    pub fn pytorch_first_layer_init(&mut self) -> Result<()> {
        self.inner.pytorch_first_layer_init()
    }

    /// Forgets the optimiser's state (moments), e.g. before training with new settings.
    pub fn reset_optimizer(&mut self) {
        self.inner.reset_optimizer()
    }

    /// The number of trainable parameters.
    pub fn num_params(&self) -> usize {
        self.inner.num_params()
    }

    /// How many optimiser steps the weights have seen.
    pub fn steps_trained(&self) -> usize {
        self.inner.steps_trained()
    }
}

impl Model for Net {
    fn dim(&self) -> usize {
        Model::dim(&*self.inner)
    }
    fn classes(&self) -> Option<usize> {
        Model::classes(&*self.inner)
    }
    fn velocity(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points> {
        Model::velocity(&*self.inner, x, t, labels)
    }
}

impl TrainableModel for Net {
    fn dim(&self) -> usize {
        Model::dim(&*self.inner)
    }
    fn loss(&self, batch: &Batch) -> Result<f64> {
        self.inner.loss(batch)
    }
    fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> Result<f64> {
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
    fn device(&self) -> Device {
        Net::device(self)
    }
    fn to_device(&mut self, device: Device) -> Result<()> {
        Net::to_device(self, device)
    }
}

impl VectorField for Net {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        self.inner.eval_into(x, t, out)
    }
}

/// The input Jacobian of the MLP (see [`Mlp`]'s [`Divergence`]): exact divergences and
/// Hutchinson's products for likelihoods.
impl Divergence for Net {
    fn dim(&self) -> usize {
        Model::dim(&*self.inner)
    }
    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        self.inner.jvp_into(x, t, probes, v, jv)
    }
    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        self.inner.divergence_into(x, t, v, div)
    }
}

/// The input Jacobian at given labels (a conditional `Net`): log q(x | y) through
/// [`Given`](crate::likelihood::Given).
impl ConditionalDivergence for Net {
    fn jvp_given_into(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        probes: &[Points],
        v: &mut Points,
        jv: &mut [Points],
    ) -> Result<()> {
        self.inner.jvp_given_into(x, t, labels, probes, v, jv)
    }
    fn divergence_given_into(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        v: &mut Points,
        div: &mut [f64],
    ) -> Result<()> {
        self.inner.divergence_given_into(x, t, labels, v, div)
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
