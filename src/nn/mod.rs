//! Neural networks on dfdx: the only room of the crate that names dfdx.
//!
//! ```text
//! v_θ(x, t) = W₄ act(W₃ act(W₂ act(W_x x + W_t τ(t) + b₁) + b₂) + b₃) + b₄      (the velocity MLP)
//! v_θ(x, t | y): E[y] added inside the first act(·), y ∈ {0, …, K − 1, ∅}        (a conditional MLP)
//! one training step on a batch B:   ℓ(θ) = loss(θ; B),   θ ← Adam(θ, ∇_θ ℓ)
//! ```
//!
//! Every model keeps one contract, [`Model`](crate::field::Model):
//! `(x, t, labels) ↦ v`, with one time for all rows or one per row. Every model
//! is a [`VectorField`](crate::field::VectorField) too, so sampling a model is
//! solving an ODE with [`crate::solver`]. [`TrainableModel`] adds one
//! optimisation step on a [`Batch`] drawn by an objective ([`crate::loss`]);
//! it is what [`crate::train::Trainer`] trains, and it names no dfdx type, so
//! a model written elsewhere (a test model, a normalizing flow) trains
//! through the same trainer.
//!
//! | file | what |
//! | --- | --- |
//! | `config.rs` | [`Activation`], [`TimeEmbedding`], [`MlpConfig`]: what an MLP is built with |
//! | `layers.rs` | [`MlpNet`]: the layers as a dfdx module, and the plain dfdx forward graph |
//! | `mlp.rs` | [`Mlp<D, H, TF>`](Mlp): the typed velocity model (velocity, loss, one Adam step, save/load), unconditional or conditional on K classes |
//! | `labels.rs` | class conditioning: a learned vector per class and for the null label ∅, added to the first layer |
//! | `net.rs` | [`Net`]: an `Mlp` whose shape is chosen at run time, for notebooks |
//! | `fused.rs`, `act.rs`, `pool.rs` | the fast CPU path: fused Linear + bias + SiLU with its own backward, vectorised SiLU, a fork-join pool |
//! | `ids.rs` | the tensor-id workaround that lets a model cross notebook cells |
//! | `optim.rs` | [`OptimizerConfig`]: Adam or AdamW and the learning rate |
//! | [`checkpoint`] | weights + configuration in one safetensors file, written atomically |
//! | `silu.rs` | SiLU as one op on dfdx's tape, optionally after a per-channel shift (the U-Net's embedding), vectorised and split over the pool |
//! | `conv.rs` | a 2-D convolution as one op on dfdx's tape: im2col (channels last, L2-sized sub-blocks) + gemm 0.19 forward, its own backward (stable Rust, run-time shapes) |
//! | `classifier.rs` | [`DigitClassifier`]: an MLP on the 64 pixels of a digit, its features φ; class accuracy and the Fréchet distance of generated digits, the shipped checkpoint |
//! | `unet.rs` | [`UNet`], [`UNetConfig`]: a small U-Net on square grey images (skips, time and label embedding with ∅), non-generic, trained by the one trainer, saved as a checkpoint |
//! | `device.rs` | [`Device`] (`cpu`, `cuda:k`: the plain choice, parsed from a string) and [`ModelDevice`], the dfdx device behind it; CUDA with the `cuda` feature |
//!
//! ## Speed
//! On the CPU ([`Cpu`](dfdx::tensor::Cpu)) with SiLU (the default), training and sampling take a
//! fast path (`fused.rs`): each layer is one fused dfdx op (matmul, bias and SiLU) with its own
//! backward, using AVX-512/AVX2 kernels chosen at run time, and sampling runs a tape-free forward
//! pass on plain buffers. The weights stay ordinary dfdx modules, so Adam, checkpoints and
//! [`Mlp::net`] are unchanged. Work is split over `FLOWMATCH_THREADS` threads (else
//! `RAYON_NUM_THREADS`, else one per CPU), in a fixed way, so results are the same run to run.
//! Other activations and devices use the plain dfdx graph.

use crate::error::Result;
use crate::loss::Batch;

/// Borrows the gradient buffers of `dL/dout` (shared) and of several parameters (mutable) at once.
///
/// Every entry is allocated first; afterwards the map is only read, so no buffer moves.
/// The tensors have different ids, so the buffers are distinct and do not alias.
macro_rules! grad_slices {
    ($grads:expr, $out:expr; $($t:expr),*) => {{
        $( $grads.try_alloc_for($t)?; )*
        $grads.try_alloc_for($out)?;
        let go: *const [f32] = &$grads.get_or_alloc_mut($out)?[..];
        // SAFETY: see above: distinct, live buffers that stay in place while the slices are used.
        unsafe { (&*go, ( $( &mut *(&mut $grads.get_or_alloc_mut($t)?[..] as *mut [f32]), )* )) }
    }};
}

mod act;
pub mod checkpoint;
mod classifier;
mod config;
mod conv;
mod device;
mod flownet;
mod flowpass;
mod fused;
mod ids;
mod labels;
mod layers;
mod mlp;
mod net;
mod optim;
mod pool;
mod silu;
mod unet;

pub use classifier::{ClassifierConfig, DigitClassifier, DigitScore, SHIPPED_CLASSIFIER};
pub use config::{Activation, MlpConfig, TimeEmbedding};
pub use device::{Device, ModelDevice};
pub use flownet::{FlowLayer, FlowNet, FlowNetConfig};
pub use layers::MlpNet;
pub use mlp::{FourierMlp, Mlp};
pub use net::{Net, NET_DIMS, NET_FOURIER_FEATURES, NET_WIDTHS};
pub use optim::{OptimizerConfig, OptimizerKind};
pub use unet::{UNet, UNetConfig, SHIPPED_UNET};

/// A model that learns from batches: one optimisation step at a time, on the
/// kind of [`Batch`] it can use.
///
/// The [trainer](crate::train::Trainer) calls [`TrainableModel::train_step`] once
/// per step with a batch drawn by its objective. A velocity model learns by
/// regression ([`Batch::Regression`]); a density model by maximum likelihood
/// ([`Batch::Samples`]). A model handed a batch kind it cannot use returns
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) saying so.
pub trait TrainableModel {
    /// The data dimension d.
    fn dim(&self) -> usize;
    /// The loss on `batch` (for a velocity model, `1/(n d) Σᵢ ‖v_θ(x_t,i, tᵢ) − targetᵢ‖²`), without updating.
    fn loss(&self, batch: &Batch) -> Result<f64>;
    /// One optimiser step on `batch`; returns the loss before the update.
    ///
    /// A NaN or infinite loss returns [`Error::NonFiniteLoss`](crate::Error::NonFiniteLoss)
    /// and leaves the weights as they were.
    fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> Result<f64>;
    /// Forgets the optimiser's state (moments), e.g. before training with new settings.
    fn reset_optimizer(&mut self);
    /// The number of trainable parameters.
    fn num_params(&self) -> usize;
    /// How many optimiser steps the weights have seen.
    fn steps_trained(&self) -> usize;
    /// Saves weights and configuration to `path` atomically, recording `training` (JSON) in the file.
    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()>;
    /// The device the model computes on (the CPU unless the model says otherwise).
    fn device(&self) -> Device {
        Device::Cpu
    }
    /// Moves the model to `device`, keeping its weights (a [`Net`] can; by default a model
    /// stays where it is, and asking for another device is an error).
    fn to_device(&mut self, device: Device) -> Result<()> {
        if device == self.device() {
            return Ok(());
        }
        device.check_available()?;
        Err(crate::Error::invalid(
            "device",
            format!("this model lives on {} and cannot move to {device}; use nn::Net, which can", self.device()),
        ))
    }
}
