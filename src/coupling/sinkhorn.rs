//! Entropic minibatch OT: partners drawn from the Sinkhorn plan of the batch.
//!
//! ```text
//! π^ε = sinkhorn(x₀, x₁; ε),     jᵢ ~ π^ε(i, ·) / Σ_k π^ε(i, k),     pairs (x₀ᵢ, x₁jᵢ)
//! ```

use super::{take_rows, Coupling};
use crate::error::Result;
use crate::ot::{sinkhorn, SinkhornSettings};
use crate::points::Points;
use rand::RngCore;

/// Entropic minibatch OT: solves the Sinkhorn plan π^ε of the batch, then gives
/// every noise point x₀ᵢ a partner drawn from row i of the plan.
///
/// **Sampling.** Each x₀ᵢ is used exactly once (without replacement); the
/// partners x₁ⱼ are drawn **with replacement**, so a data point can appear
/// twice in a batch or not at all. Columns of π^ε sum to 1/n, so every data point
/// is used once on average. (TorchCFM draws whole pairs (i, j) from π with
/// replacement, which also duplicates and drops noise points.)
///
/// As ε → 0 the plan tends to the exact OT permutation ([`super::ExactOt`]); as
/// ε → ∞ to the independent coupling. ε is in units of squared distance: the
/// Schrödinger-bridge CFM of Tong et al. uses ε = 2σ². Small ε needs many
/// iterations; a batch whose plan does not converge fails with
/// [`crate::Error::NotConverged`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sinkhorn {
    settings: SinkhornSettings,
}

impl Sinkhorn {
    /// Sinkhorn pairing with regularisation ε: marginals within 10⁻⁴ (ℓ₁, far below
    /// what drawing n partners can resolve), at most 10 000 iterations.
    pub fn new(epsilon: f64) -> Result<Self> {
        Sinkhorn::with_settings(SinkhornSettings { epsilon, tolerance: 1e-4, max_iterations: 10_000 })
    }

    /// Sinkhorn pairing with all settings given.
    pub fn with_settings(settings: SinkhornSettings) -> Result<Self> {
        settings.validate()?;
        Ok(Sinkhorn { settings })
    }

    /// The solver settings.
    pub fn settings(&self) -> SinkhornSettings {
        self.settings
    }
}

impl Coupling for Sinkhorn {
    fn name(&self) -> String {
        format!("Sinkhorn (ε = {})", self.settings.epsilon)
    }

    fn pair(
        &self,
        x0: &mut Points,
        x1: &mut Points,
        labels: Option<&mut [usize]>,
        rng: &mut dyn RngCore,
    ) -> Result<()> {
        x0.check_same_shape(x1, "the pair (x0, x1) of a coupling")?;
        let plan = sinkhorn(x0, x1, &self.settings)?;
        let partners = plan.sample_partners(rng);
        take_rows(x1, labels, &partners);
        Ok(())
    }
}
