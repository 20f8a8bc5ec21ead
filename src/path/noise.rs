//! [`PathNoise`]: extra Gaussian noise around each conditional path, and its share of the target.
//!
//! ```text
//! x_t = μ_t + s_t ε,   ε ~ N(0, I),   μ_t = α_t x₁ + σ_t x₀ (the affine path)
//! target = μ̇_t + ṡ_t ε = μ̇_t + (ṡ_t / s_t)(x_t − μ_t)
//! constant (I-CFM, OT-CFM, VP-CFM):   s_t = σ,             ṡ_t = 0
//! bridge (SB-CFM):                    s_t = σ √(t(1 − t)),  ṡ_t / s_t = (1 − 2t) / (2 t (1 − t))
//! ```
//!
//! Given the pair (x₀, x₁), x_t ~ N(μ_t, s_t² I), and the target is the time derivative
//! of t ↦ μ_t + s_t ε at fixed ε: the velocity of that conditional path.

use crate::error::{Error, Result};

/// The scale s_t of the extra noise around a conditional path (see the module formulas).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PathNoise {
    /// s_t = σ at every t (TorchCFM's `ConditionalFlowMatcher` and its OT and VP variants);
    /// the target is unchanged. σ = 0 is no noise.
    Constant(f64),
    /// s_t = σ √(t(1 − t)), a Brownian bridge of diffusion σ pinned at both ends (the
    /// Schrödinger-bridge CFM of Tong et al. 2024, TorchCFM's
    /// `SchrodingerBridgeConditionalFlowMatcher`). It adds ṡ_t ε to the target.
    Bridge(f64),
}

impl PathNoise {
    /// Errors unless σ is finite and ≥ 0 (> 0 for the bridge).
    pub fn validate(&self) -> Result<()> {
        match *self {
            PathNoise::Constant(s) if s.is_finite() && s >= 0.0 => Ok(()),
            PathNoise::Bridge(s) if s.is_finite() && s > 0.0 => Ok(()),
            PathNoise::Constant(s) => {
                Err(Error::invalid("I-CFM sigma", format!("{s} must be finite and ≥ 0 (TorchCFM uses 0.1)")))
            }
            PathNoise::Bridge(s) => Err(Error::invalid(
                "Schrödinger-bridge sigma",
                format!("{s} must be finite and > 0 (TorchCFM uses 0.1; σ = 0 is OT-CFM)"),
            )),
        }
    }

    /// σ, the noise level.
    pub fn sigma(&self) -> f64 {
        match *self {
            PathNoise::Constant(s) | PathNoise::Bridge(s) => s,
        }
    }

    /// (s_t, ṡ_t) at time t. The bridge's ṡ_t = σ (1 − 2t) / (2 √(t(1 − t))) is infinite at
    /// t = 0 and t = 1, where s_t = 0: there it is returned as 0, which is what TorchCFM's
    /// (1 − 2t)/(2t(1 − t) + 10⁻⁸)·(x_t − μ_t) gives, x_t − μ_t being 0.
    pub fn scale(&self, t: f64) -> (f64, f64) {
        match *self {
            PathNoise::Constant(s) => (s, 0.0),
            PathNoise::Bridge(s) => {
                let v = t * (1.0 - t);
                if v > 0.0 {
                    let r = v.sqrt();
                    (s * r, s * (1.0 - 2.0 * t) / (2.0 * r))
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }

    /// A short description, e.g. `"σ = 0.1"` or `"bridge σ = 0.1"`.
    pub fn describe(&self) -> String {
        match *self {
            PathNoise::Constant(s) => format!("σ = {s}"),
            PathNoise::Bridge(s) => format!("bridge σ√(t(1 − t)), σ = {s}"),
        }
    }
}
