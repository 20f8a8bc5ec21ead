//! Couplings: how a batch of noise x₀ is paired with a batch of data x₁.
//!
//! ```text
//! π(x₀, x₁) with marginals p₀ and p₁
//! independent:   π = p₀ ⊗ p₁                                     (pairs as drawn)
//! exact OT:      x₁ᵢ ← x₁[σ*(i)],  σ* = argmin_σ Σᵢ ‖x₀ᵢ − x₁σ(i)‖²   (a permutation of the batch)
//! resampled OT:  (x₀ᵢ, x₁ᵢ) ← (x₀[kᵢ], x₁[σ*(kᵢ)]),  kᵢ ~ U{1..n}      (TorchCFM: pairs drawn with replacement)
//! Sinkhorn:      x₁ᵢ ← x₁[jᵢ],      jᵢ ~ π^ε(i, ·) / π^ε(i, ·)1         (entropic plan, partners drawn per row)
//! ```
//!
//! Conditional Flow Matching regresses the velocity of the path between each
//! pair (x₀, x₁). Any joint distribution π(x₀, x₁) whose marginals are the
//! source p₀ and the target p₁ gives a valid objective; the coupling decides
//! which one. The independent coupling π = p₀ ⊗ p₁ keeps the draws as they
//! come. A minibatch optimal-transport coupling (Tong et al. 2024; Pooladian
//! et al. 2023) re-pairs each batch by optimal transport, so the straight
//! conditional paths cross less and the learned flow is straighter: fewer
//! solver steps for the same quality.
//!
//! | file | coupling |
//! | --- | --- |
//! | `mod.rs` | the [`Coupling`] trait, [`Independent`] |
//! | `exact.rs` | [`ExactOt`]: the optimal permutation of the batch (exact assignment, [`crate::ot`]); [`ExactOtResampled`]: its pairs drawn with replacement, as TorchCFM does |
//! | `sinkhorn.rs` | [`Sinkhorn`]: partners drawn from the entropic plan ([`crate::ot::sinkhorn`]) |

use crate::error::Result;
use crate::points::Points;
use rand::RngCore;

mod exact;
mod sinkhorn;

pub use exact::{ExactOt, ExactOtResampled};
pub use sinkhorn::Sinkhorn;

/// Pairs a batch of source points with a batch of target points, row by row.
///
/// A coupling reorders the targets and their labels together, so a label always
/// stays with its point.
pub trait Coupling {
    /// A short name for logs and tables, e.g. `"independent"`.
    fn name(&self) -> String;

    /// Reorders the rows of `x1` (and its `labels`, when given) so that row i of
    /// `x0` and row i of `x1` form a pair drawn from the coupling π(x₀, x₁).
    ///
    /// Most couplings leave `x0` as it is; one that draws whole pairs (i, j) from a
    /// plan ([`ExactOtResampled`]) rewrites the rows of `x0` too.
    fn pair(&self, x0: &mut Points, x1: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore)
        -> Result<()>;
}

/// The independent coupling π(x₀, x₁) = p₀(x₀) p₁(x₁): independent draws are already pairs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Independent;

impl Coupling for Independent {
    fn name(&self) -> String {
        "independent".into()
    }

    fn pair(
        &self,
        x0: &mut Points,
        x1: &mut Points,
        _labels: Option<&mut [usize]>,
        _rng: &mut dyn RngCore,
    ) -> Result<()> {
        x0.check_same_shape(x1, "the pair (x0, x1) of a coupling")
    }
}

/// Reorders (or resamples) `x1` and its labels by `index`: row i becomes old row `index[i]`.
pub(crate) fn take_rows(x1: &mut Points, labels: Option<&mut [usize]>, index: &[usize]) {
    *x1 = x1.select(index);
    if let Some(l) = labels {
        let old = l.to_vec();
        for (li, &j) in l.iter_mut().zip(index) {
            *li = old[j];
        }
    }
}
