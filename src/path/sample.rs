//! [`PathSample`]: the one sample type of the crate, a batch of points on a probability path.
//!
//! ```text
//! row i:  x₀ᵢ (source, noise),  x₁ᵢ (target, data),  tᵢ,  x_t,i = α_t x₁ᵢ + σ_t x₀ᵢ,  targetᵢ,  labelᵢ
//! CFM:    targetᵢ = dx_t/dt = α̇_t x₁ᵢ + σ̇_t x₀ᵢ          (the conditional velocity)
//! ```
//!
//! Paths fill it ([`crate::path::AffinePath::sample`]), couplings decide which x₀
//! goes with which x₁ (and its label), the CFM objective adds its noise to x_t,
//! and models regress on it. Keeping x₀ and x₁ lets every objective form its
//! own target from the same draw: an ε-prediction objective (diffusion) puts
//! x₀ there instead of the velocity, a score objective −x₀/σ_t.

use crate::error::{Error, Result};
use crate::points::Points;

/// A batch of points on a path, ready for a regression loss: row i holds the
/// pair (x₀ᵢ, x₁ᵢ), its time tᵢ, the point x_t,i and the regression target.
///
/// ```text
/// x_t    = α_t x₁ + σ_t x₀               (the model input, with t)
/// target = α̇_t x₁ + σ̇_t x₀              (the conditional velocity, for Flow Matching)
/// ```
///
/// A path always fills `target` with the conditional velocity dx_t/dt. Other
/// objectives overwrite it with their own regression target (an ε-prediction
/// objective with x₀, for instance). `labels` carries the class of each x₁
/// when the dataset has classes; an unconditional model ignores it.
#[derive(Debug, Clone, PartialEq)]
pub struct PathSample {
    /// The source points x₀ (noise), one per row.
    pub x0: Points,
    /// The target points x₁ (data), row i paired with row i of `x0`.
    pub x1: Points,
    /// One time per row.
    pub t: Vec<f64>,
    /// The points x_t on the path: the model input.
    pub x_t: Points,
    /// The regression target of each row (the conditional velocity dx_t/dt, unless an objective says otherwise).
    pub target: Points,
    /// The class label of each row (of its x₁), when the data has classes.
    pub labels: Option<Vec<usize>>,
}

impl PathSample {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.x_t.len()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.x_t.is_empty()
    }

    /// Errors unless the batch has rows of dimension `dim`, every array has one
    /// row per time, and every number is finite (what a model checks before
    /// a regression step).
    ///
    /// Errors: [`Error::ZeroCount`], [`Error::ShapeMismatch`], [`Error::NonFinite`].
    pub fn validate(&self, dim: usize) -> Result<()> {
        if self.x_t.is_empty() {
            return Err(Error::ZeroCount { what: "the batch size".into() });
        }
        if self.x_t.dim() != dim {
            return Err(Error::shape(
                "the batch points x_t",
                format!("dimension {dim}"),
                format!("dimension {}", self.x_t.dim()),
            ));
        }
        self.x_t.check_same_shape(&self.target, "the batch target")?;
        self.x_t.check_same_shape(&self.x0, "the batch sources x0")?;
        self.x_t.check_same_shape(&self.x1, "the batch targets x1")?;
        if self.t.len() != self.x_t.len() {
            return Err(Error::shape(
                "the batch times",
                format!("{} times", self.x_t.len()),
                format!("{}", self.t.len()),
            ));
        }
        if let Some(labels) = &self.labels {
            if labels.len() != self.x_t.len() {
                return Err(Error::shape(
                    "the batch labels",
                    format!("{} labels (one per row)", self.x_t.len()),
                    format!("{}", labels.len()),
                ));
            }
        }
        self.x_t.check_finite("the batch points x_t")?;
        self.target.check_finite("the batch target")?;
        if let Some(i) = self.t.iter().position(|t| !t.is_finite()) {
            return Err(Error::NonFinite { what: "the batch times".into(), detail: format!("t[{i}] = {}", self.t[i]) });
        }
        Ok(())
    }
}
