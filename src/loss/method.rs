//! The Flow Matching variants that the trainer and `benchmark_2d` select by name.
//!
//! ```text
//! every variant:  x_t = t x₁ + (1 − t) x₀ + σ ε,   target x₁ − x₀,   pairs (x₀, x₁) ~ π
//! icfm:      π = p₀ ⊗ p₁ (independent)
//! otcfm:     π = exact minibatch OT (a permutation of each batch)
//! otcfm-resampled: the same plan, n pairs drawn from it with replacement (TorchCFM's sampler)
//! sinkhorn:  π = entropic minibatch OT with regularisation ε (partners drawn from the plan)
//! ```
//!
//! A variant is a path (with its noise σ) plus a coupling; [`CfmMethod::cfm`]
//! and [`CfmMethod::coupling`] give the two parts, which the trainer takes
//! together with [`crate::train::Trainer::method`]. Later variants (SB-CFM, FM,
//! VP-CFM) add a case here with their own path and coupling.

use super::Cfm;
use crate::coupling::{Coupling, ExactOt, ExactOtResampled, Independent, Sinkhorn};
use crate::error::{Error, Result};

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
}

impl CfmMethod {
    /// The names [`CfmMethod::from_name`] accepts.
    pub const NAMES: &'static [&'static str] = &["icfm", "otcfm", "otcfm-resampled", "sinkhorn"];

    /// ε of `"sinkhorn"` when picked by name.
    pub const SINKHORN_EPSILON: f64 = 0.5;

    /// The variant called `name` (`icfm`, `otcfm`, `sinkhorn`; `sinkhorn` takes ε = [`Self::SINKHORN_EPSILON`]).
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "icfm" => CfmMethod::Icfm,
            "otcfm" => CfmMethod::OtCfm,
            "otcfm-resampled" => CfmMethod::OtCfmResampled,
            "sinkhorn" => CfmMethod::SinkhornCfm { epsilon: Self::SINKHORN_EPSILON },
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
        }
    }

    /// The regression part: CFM on the CondOT path with noise σ around each conditional path.
    pub fn cfm(&self, sigma: f64) -> Result<Cfm> {
        Cfm::icfm(sigma)
    }

    /// The coupling that draws the pairs.
    pub fn coupling(&self) -> Result<Box<dyn Coupling>> {
        Ok(match *self {
            CfmMethod::Icfm => Box::new(Independent),
            CfmMethod::OtCfm => Box::new(ExactOt),
            CfmMethod::OtCfmResampled => Box::new(ExactOtResampled),
            CfmMethod::SinkhornCfm { epsilon } => Box::new(Sinkhorn::new(epsilon)?),
        })
    }
}
