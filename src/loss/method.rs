//! The Flow Matching variants that the trainer and `benchmark_2d` select by name.
//!
//! Each variant is an affine path (a [`crate::path::Scheduler`]), extra noise around it
//! ([`PathNoise`]) and a coupling of the pairs. With noise at t = 0 and data at t = 1:
//!
//! ```text
//! x_t = μ_t + s_t ε,   target = μ̇_t + ṡ_t ε,   pairs (x₀, x₁) ~ π,   all at σ = 0.1 in TorchCFM's 2-D runs
//!
//! icfm:     μ_t = t x₁ + (1 − t) x₀                  s_t = σ              π = p₀ ⊗ p₁
//! otcfm:    μ_t = t x₁ + (1 − t) x₀                  s_t = σ              π = exact minibatch OT
//! sinkhorn: μ_t = t x₁ + (1 − t) x₀                  s_t = σ              π = entropic OT, ε = 0.5
//! sbcfm:    μ_t = t x₁ + (1 − t) x₀                  s_t = σ √(t(1 − t))  π = exact minibatch OT
//!           target = x₁ − x₀ + (1 − 2t)/(2t(1 − t)) · (x_t − μ_t)
//! sbcfm-sinkhorn: as sbcfm, with π = entropic OT, ε = 2σ² (the plan of the paper)
//! fm:       μ_t = t x₁,  x_t = μ_t + (1 − (1 − σ) t) x₀,  x₀ ~ N(0, I)      π = p₀ ⊗ p₁
//!           target = x₁ − (1 − σ) x₀ = (x₁ − (1 − σ) x_t) / (1 − (1 − σ) t)
//! vpcfm:    μ_t = cos(πt/2) x₀ + sin(πt/2) x₁        s_t = σ              π = p₀ ⊗ p₁
//!           target = (π/2)(cos(πt/2) x₁ − sin(πt/2) x₀)
//! otcfm-resampled: as otcfm, with the plan's n pairs drawn with replacement (TorchCFM's sampler)
//! ```
//!
//! **Dictionary with TorchCFM.** TorchCFM uses the same direction (x₀ the source at t = 0,
//! x₁ the target at t = 1) and the same names: `ConditionalFlowMatcher` (icfm),
//! `ExactOptimalTransportConditionalFlowMatcher` (otcfm),
//! `SchrodingerBridgeConditionalFlowMatcher` (sbcfm), `TargetConditionalFlowMatcher` (fm,
//! Lipman et al. 2023) and `VariancePreservingConditionalFlowMatcher` (vpcfm). Two
//! differences: its FM draws the noise afresh and ignores x₀, where ours takes x₀ from the
//! N(0, I) source as the noise (the same distribution; a non-Gaussian source is refused); and
//! its `SchrodingerBridgeConditionalFlowMatcher` builds its plan with `ot_method = "exact"`
//! unless told otherwise (TorchCFM 1.0.7's default, which the 2-D yardstick keeps: its
//! `reg = 2σ²` is then unused and POT's Sinkhorn never runs). So `sbcfm` pairs by exact OT
//! as the yardstick does, and `sbcfm-sinkhorn` takes the entropic plan ε = 2σ² of the paper
//! (our log-domain Sinkhorn does not underflow at ε = 0.02, but at that ε it needs many
//! iterations: about 0.2–0.8 s per batch of 512 on this machine, against milliseconds for
//! the exact plan).
//!
//! [`CfmMethod::cfm`] and [`CfmMethod::coupling`] give the two parts, which the trainer
//! takes together with [`crate::train::Trainer::method`].

use super::Cfm;
use crate::coupling::{Coupling, ExactOt, ExactOtResampled, Independent, Sinkhorn};
use crate::error::{Error, Result};
use crate::path::{Cosine, LipmanOT, PathNoise};

/// A Flow Matching variant: which pairs are drawn, and along which path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CfmMethod {
    /// I-CFM (TorchCFM's `ConditionalFlowMatcher`): independent pairs.
    Icfm,
    /// OT-CFM (Tong et al. 2024): pairs by exact minibatch optimal transport ([`ExactOt`]).
    OtCfm,
    /// OT-CFM with the pairs of the exact plan drawn with replacement, as TorchCFM
    /// does ([`ExactOtResampled`]).
    OtCfmResampled,
    /// CFM on pairs drawn from the entropic (Sinkhorn) plan of each batch, regularisation ε ([`Sinkhorn`]).
    SinkhornCfm {
        /// The entropic regularisation, in units of squared distance.
        epsilon: f64,
    },
    /// SB-CFM (Tong et al. 2024) as TorchCFM runs it by default: a Brownian-bridge path,
    /// s_t = σ √(t(1 − t)) ([`PathNoise::Bridge`]), on pairs by exact minibatch OT ([`ExactOt`]).
    SbCfm,
    /// SB-CFM with the entropic plan of the paper, ε = 2σ² ([`Sinkhorn`]), and the bridge path.
    SbCfmSinkhorn,
    /// FM (Lipman et al. 2023): the path of [`LipmanOT`] with σ_min = σ from N(0, I), independent pairs.
    Fm,
    /// VP-CFM: the trigonometric interpolation of the [`Cosine`] scheduler with constant noise σ.
    VpCfm,
}

impl CfmMethod {
    /// The names [`CfmMethod::from_name`] accepts.
    pub const NAMES: &'static [&'static str] =
        &["icfm", "otcfm", "otcfm-resampled", "sinkhorn", "sbcfm", "sbcfm-sinkhorn", "fm", "vpcfm"];

    /// ε of `"sinkhorn"` when picked by name.
    pub const SINKHORN_EPSILON: f64 = 0.5;

    /// The variant called `name` (`icfm`, `otcfm`, `sinkhorn`, `sbcfm`, `sbcfm-sinkhorn`, `fm`, `vpcfm`;
    /// `sinkhorn` takes ε = [`Self::SINKHORN_EPSILON`]).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "icfm" => CfmMethod::Icfm,
            "otcfm" => CfmMethod::OtCfm,
            "otcfm-resampled" => CfmMethod::OtCfmResampled,
            "sinkhorn" => CfmMethod::SinkhornCfm { epsilon: Self::SINKHORN_EPSILON },
            "sbcfm" => CfmMethod::SbCfm,
            "sbcfm-sinkhorn" => CfmMethod::SbCfmSinkhorn,
            "fm" => CfmMethod::Fm,
            "vpcfm" => CfmMethod::VpCfm,
            other => {
                return Err(Error::invalid(
                    "Flow Matching method",
                    format!("'{other}' is not one of {}", Self::NAMES.join(", ")),
                ))
            }
        })
    }

    /// The short name, as [`CfmMethod::from_name`] takes it.
    pub fn name(&self) -> &'static str {
        match self {
            CfmMethod::Icfm => "icfm",
            CfmMethod::OtCfm => "otcfm",
            CfmMethod::OtCfmResampled => "otcfm-resampled",
            CfmMethod::SinkhornCfm { .. } => "sinkhorn",
            CfmMethod::SbCfm => "sbcfm",
            CfmMethod::SbCfmSinkhorn => "sbcfm-sinkhorn",
            CfmMethod::Fm => "fm",
            CfmMethod::VpCfm => "vpcfm",
        }
    }

    /// The regression part at noise level σ: the path and its extra noise (module table).
    pub fn cfm(&self, sigma: f64) -> Result<Cfm> {
        match self {
            CfmMethod::Icfm | CfmMethod::OtCfm | CfmMethod::OtCfmResampled | CfmMethod::SinkhornCfm { .. } => {
                Cfm::icfm(sigma)
            }
            CfmMethod::SbCfm | CfmMethod::SbCfmSinkhorn => Cfm::condot().with_noise(PathNoise::Bridge(sigma)),
            CfmMethod::Fm => Cfm::new(LipmanOT::new(sigma)?),
            CfmMethod::VpCfm => Cfm::new(Cosine)?.with_sigma(sigma),
        }
    }

    /// The coupling that draws the pairs at noise level σ (SB-CFM's plan has ε = 2σ²).
    pub fn coupling(&self, sigma: f64) -> Result<Box<dyn Coupling>> {
        Ok(match *self {
            CfmMethod::Icfm | CfmMethod::Fm | CfmMethod::VpCfm => Box::new(Independent),
            CfmMethod::OtCfm | CfmMethod::SbCfm => Box::new(ExactOt),
            CfmMethod::OtCfmResampled => Box::new(ExactOtResampled),
            CfmMethod::SinkhornCfm { epsilon } => Box::new(Sinkhorn::new(epsilon)?),
            CfmMethod::SbCfmSinkhorn => {
                if !(sigma.is_finite() && sigma > 0.0) {
                    return Err(Error::invalid(
                        "SB-CFM sigma",
                        format!("{sigma}: the entropic plan needs ε = 2σ² > 0 (TorchCFM uses σ = 0.1)"),
                    ));
                }
                Box::new(Sinkhorn::new(2.0 * sigma * sigma)?)
            }
        })
    }
}
