//! Normalizing flows in plain f64 (topic 7.1): invertible layers, the change of variables,
//! and a flow as a stack of layers over a Gaussian.
//!
//! ```text
//! x = f(z),  z ~ p_Z = N(0, I)           ⇒   log p_X(x) = log p_Z(f⁻¹(x)) + log |det ∂f⁻¹/∂x (x)|
//!                                                      = log p_Z(z) − log |det ∂f/∂z (z)|
//! f = f_K ∘ … ∘ f_1                       ⇒   log |det ∂f/∂z| = Σ_k log |det ∂f_k/∂z_{k−1}|
//! ```
//!
//! Every layer is a [`Bijector`]: `forward(z) → (x, log|det J|)` and
//! `inverse(x) → (z, log|det J⁻¹|)`, with log|det J⁻¹|(x) = −log|det J|(z). The layers:
//!
//! | file | layer | forward x = f(z) | log \|det J\| | inverse |
//! | --- | --- | --- | --- | --- |
//! | `planar.rs` | [`Planar`] | z + û tanh(wᵀz + b) | ln \|1 + (1 − tanh²) ûᵀw\| | monotone scalar equation in wᵀz ([`root`]) |
//! | `radial.rs` | [`Radial`] | z + β (z − z₀)/(α + r) | (d − 1) ln(1 + β/(α+r)) + ln(1 + αβ/(α+r)²) | closed form: r solves a quadratic |
//! | `coupling.rs` | [`AffineCoupling`] | x_A = z_A, x_B = z_B ⊙ e^{s(z_A)} + t(z_A) | Σ s | closed form |
//! | `simple.rs` | [`Permutation`], [`ActNorm`], [`Affine`], [`Inverted`] | P z; z ⊙ e^s + t; A z + c; g⁻¹ | 0; Σ s; ln \|det A\| (LU); −… | closed form |
//!
//! [`Flow`] (`flow.rs`) stacks layers over N(0, I): [`Flow::log_prob`] by the change of
//! variables, sampling through [`Dataset`](crate::data::Dataset) (`flow.sample(n, seed)`), and
//! the states after each layer ([`Flow::trace`]) for figures. [`Conditioner`] (`conditioner.rs`)
//! is the small f64 MLP of a coupling layer. [`jacobian`] holds the checks against finite
//! differences and the measured limits of topic 7.1 (`limits.rs`): the cost of a general
//! Jacobian against a coupling layer's, and the mass a flow leaves between separated modes.
//!
//! The trainable RealNVP, which learns these layers by maximum likelihood, lives in
//! [`crate::nn`] (`FlowNet`) and exports itself as a [`Flow`] of these f64 layers.

use crate::error::{Error, Result};
use crate::points::Points;

mod conditioner;
mod coupling;
mod flow;
pub mod jacobian;
mod limits;
mod planar;
mod radial;
pub mod root;
mod simple;

pub use conditioner::{Conditioner, Nonlinearity};
pub use coupling::{AffineCoupling, ScaleMap};
pub use flow::Flow;
pub use limits::{jacobian_costs, mass_outside_discs, JacobianCost};
pub use planar::Planar;
pub use radial::Radial;
pub use simple::{ActNorm, Affine, Inverted, Permutation};

/// An invertible map x = f(z) of ℝᵈ with a tractable log-determinant: one layer of a flow.
///
/// Implementors write the per-point maps; the batch methods [`Bijector::forward`] and
/// [`Bijector::inverse`] check shapes and loop over the rows (a layer may override them with a
/// faster batch version). Per point:
///
/// ```text
/// forward_point(z, x)  writes x = f(z),   returns ln |det ∂f/∂z (z)|
/// inverse_point(x, z)  writes z = f⁻¹(x), returns ln |det ∂f⁻¹/∂x (x)| = −ln |det ∂f/∂z (z)|
/// ```
pub trait Bijector: Send + Sync {
    /// The dimension d of z and x.
    fn dim(&self) -> usize;

    /// A short description for logs and figure titles, e.g. `"planar"`.
    fn name(&self) -> String;

    /// Writes x = f(z) into `x` and returns ln |det ∂f/∂z| at z. Both slices hold d numbers.
    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64;

    /// Writes z = f⁻¹(x) into `z` and returns ln |det ∂f⁻¹/∂x| at x.
    ///
    /// Errors when x has no preimage the layer can find (a planar layer whose invertibility
    /// condition was switched off, for instance).
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64>;

    /// A boxed copy (so a [`Flow`] can be cloned).
    fn box_clone(&self) -> Box<dyn Bijector>;

    /// x = f(z) and ln |det ∂f/∂z| for every row of `z`.
    fn forward(&self, z: &Points) -> Result<(Points, Vec<f64>)> {
        check_input(self.dim(), z, "the input z of a flow layer")?;
        let mut x = Points::zeros(z.len(), self.dim());
        let ld = z.rows().zip(x.rows_mut()).map(|(zi, xi)| self.forward_point(zi, xi)).collect();
        Ok((x, ld))
    }

    /// z = f⁻¹(x) and ln |det ∂f⁻¹/∂x| for every row of `x`.
    fn inverse(&self, x: &Points) -> Result<(Points, Vec<f64>)> {
        check_input(self.dim(), x, "the input x of a flow layer's inverse")?;
        let mut z = Points::zeros(x.len(), self.dim());
        let ld = x.rows().zip(z.rows_mut()).map(|(xi, zi)| self.inverse_point(xi, zi)).collect::<Result<_>>()?;
        Ok((z, ld))
    }
}

impl Clone for Box<dyn Bijector> {
    fn clone(&self) -> Self {
        self.box_clone()
    }
}

impl std::fmt::Debug for dyn Bijector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (d = {})", self.name(), self.dim())
    }
}

/// Errors unless `p` has dimension `dim` and only finite coordinates.
fn check_input(dim: usize, p: &Points, what: &str) -> Result<()> {
    if p.dim() != dim {
        return Err(Error::shape(what, format!("points of dimension {dim}"), format!("dimension {}", p.dim())));
    }
    p.check_finite(what)
}

/// Errors unless a parameter vector of a layer has length `dim` and finite entries.
fn check_vector(what: &str, v: &[f64], dim: usize) -> Result<()> {
    if v.len() != dim {
        return Err(Error::shape(what, format!("{dim} numbers (the layer's dimension)"), format!("{}", v.len())));
    }
    crate::numeric::check_finite_entries(what, v)
}

/// softplus(a) = ln(1 + eᵃ), computed without overflow.
pub(crate) fn softplus(a: f64) -> f64 {
    if a > 30.0 {
        a + (-a).exp().ln_1p()
    } else {
        a.exp().ln_1p()
    }
}

/// The dot product aᵀb.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}
