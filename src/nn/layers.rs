//! The layers of the velocity MLP as a dfdx module, and the plain dfdx forward graph.
//!
//! ```text
//! h₁ = act(W_x x + W_t τ(t) + b₁),   h₂ = act(W₂ h₁ + b₂),   h₃ = act(W₃ h₂ + b₃),   v = W₄ h₃ + b₄
//! ```
//!
//! The first layer is split into an x part and a t part, which is the same as
//! one layer on the concatenation `[x, τ(t)]` but needs no `Const` concatenation
//! (which dfdx only offers on nightly Rust).

use super::config::Activation;
use dfdx::nn::modules::{Linear, UnbiasedLinear};
use dfdx::nn::{Module, TensorCollection};
use dfdx::prelude::{Const, Dtype, ModuleVisitor, Shape, Tape, Tensor};
use dfdx::tensor::WithEmptyTape;
use dfdx::tensor_ops::Device;

/// The layers of an [`Mlp`](super::Mlp), as a dfdx module.
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

pub(crate) type Rows<const N: usize, Dev, T> = Tensor<(usize, Const<N>), f32, Dev, T>;

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
        Activation::Selu => {
            // λ x⁺ + λα (e^{min(x, 0)} − 1), with min(x, 0) = −relu(−x).
            use dfdx::tensor_ops::{TryAdd, TrySub};
            const LAMBDA: f32 = 1.050_700_9;
            const ALPHA: f32 = 1.673_263_2;
            let neg = x.with_empty_tape().try_negate()?.try_relu()?.try_negate()?;
            let neg = neg.try_exp()?.try_sub(1.0)?.try_mul(LAMBDA * ALPHA)?;
            x.try_relu()?.try_mul(LAMBDA)?.try_add(neg)
        }
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: Device<f32>> MlpNet<D, H, TF, f32, Dev> {
    /// v = W₄ act(W₃ act(W₂ act(W_x x + W_t τ + b₁) + b₂) + b₃) + b₄, with `extra` (one row per
    /// point, e.g. the label vectors E[y] of a conditional model) added to the first
    /// pre-activation when given: act(W_x x + W_t τ + extra + b₁).
    pub(crate) fn forward_with<T: Tape<f32, Dev>>(
        &self,
        x: Rows<D, Dev, T>,
        tau: Rows<TF, Dev, T>,
        extra: Option<Rows<H, Dev, T>>,
        act: Activation,
    ) -> std::result::Result<Rows<D, Dev, T>, Dev::Err> {
        use dfdx::tensor_ops::TryAdd;
        let mut h = self.x_in.try_forward(x)?.try_add(self.t_in.try_forward(tau)?)?;
        if let Some(e) = extra {
            h = h.try_add(e)?;
        }
        let h = activate(act, h)?;
        let h = activate(act, self.hidden1.try_forward(h)?)?;
        let h = activate(act, self.hidden2.try_forward(h)?)?;
        self.out.try_forward(h)
    }
}
