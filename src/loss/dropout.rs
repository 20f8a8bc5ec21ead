//! Label dropout: one network learns the conditional and the unconditional velocity at once.
//!
//! ```text
//! every training step, for every row i independently:   yᵢ ← ∅  with probability p_uncond,   else yᵢ
//! (x₀ᵢ, x₁ᵢ, tᵢ, x_t,i and targetᵢ are left as they are)
//! ```
//!
//! A row whose label is dropped still regresses the same target, α̇_t x₁ + σ̇_t x₀, but the
//! model is told nothing about its class. Averaged over the classes, the best it can answer
//! for ∅ is E[α̇_t x₁ + σ̇_t x₀ | x_t = x], the unconditional velocity u_t(x); for a kept
//! label y it is u_t(x | y). Classifier-free guidance (`crate::guidance`) needs both.
//! Dropping labels never drops data: the batch keeps every row, and the draws are fresh at
//! every step (from the trainer's seeded stream), so no row is always unlabelled.

use crate::error::{Error, Result};
use crate::field::NULL_LABEL;
use rand::{Rng, RngCore};

/// Errors unless `p` is a probability: finite and in [0, 1].
pub fn check_dropout(p: f64) -> Result<()> {
    if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
        return Err(Error::invalid(
            "label dropout p_uncond",
            format!("{p} is not a probability; use a number in [0, 1] (0.1–0.2 is usual)"),
        ));
    }
    Ok(())
}

/// Replaces each label by [`NULL_LABEL`] (∅) with probability `p`, independently, with one
/// uniform draw per row from `rng`; returns how many were dropped. `p = 0` draws nothing and
/// changes nothing.
///
/// Errors: [`Error::InvalidParameter`] unless `p` is in [0, 1].
///
/// ```
/// use flowmatch::field::NULL_LABEL;
/// use flowmatch::loss::drop_labels;
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut labels = vec![3; 1000];
/// let dropped = drop_labels(&mut labels, 0.2, &mut rng).unwrap();
/// assert_eq!(labels.iter().filter(|&&y| y == NULL_LABEL).count(), dropped);
/// assert!((150..250).contains(&dropped));
/// ```
pub fn drop_labels(labels: &mut [usize], p: f64, rng: &mut dyn RngCore) -> Result<usize> {
    check_dropout(p)?;
    if p == 0.0 {
        return Ok(0);
    }
    let mut dropped = 0;
    for y in labels.iter_mut() {
        if rng.gen::<f64>() < p {
            *y = NULL_LABEL;
            dropped += 1;
        }
    }
    Ok(dropped)
}
