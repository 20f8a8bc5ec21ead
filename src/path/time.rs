//! The time dictionary between diffusion papers and this crate, written once.
//!
//! This crate runs **Flow Matching time** t from noise (t = 0) to data (t = 1).
//! Diffusion papers (Ho et al. 2020, Song et al. 2021) run **diffusion time** s
//! the other way: data at s = 0, noise at s = 1 (or at step N of N). The two are
//! one reflection apart:
//!
//! ```text
//! s = 1 − t,      t = 1 − s,      dt = −ds
//! ```
//!
//! | | this crate | diffusion papers |
//! | --- | --- | --- |
//! | noise | t = 0, the point x₀ | s = 1 (DDPM step N), the point x_T |
//! | data | t = 1, the point x₁ | s = 0 (DDPM step 0), the point x₀ |
//! | a point on the path | x_t = α_t x₁ + σ_t x₀ | x_s = √ᾱ x₀ + √(1 − ᾱ) ε |
//! | noising (forward) | t decreasing | s increasing |
//! | sampling (generation) | t increasing, 0 → 1 | s decreasing, 1 → 0 |
//! | DDPM step n of N | t = 1 − n/N | s = n/N |
//! | a rate β(s) | evaluated at s = 1 − t | β(s) |
//!
//! Beware the clash of names: diffusion's x₀ is our data x₁, and our noise x₀ is
//! diffusion's ε. Every conversion between the two conventions in the crate (the
//! [`VariancePreserving`](super::VariancePreserving) scheduler, the VP-SDE and
//! the DDPM steps of [`crate::diffusion`]) goes through the two functions below.
//!
//! ```
//! use flowmatch::path::time::{from_diffusion, to_diffusion};
//! assert_eq!(to_diffusion(1.0), 0.0); // our data end is diffusion's start
//! assert_eq!(from_diffusion(to_diffusion(0.25)), 0.25);
//! ```

use crate::error::{Error, Result};

/// Diffusion time s of the Flow Matching time t: s = 1 − t (data at s = 0).
pub fn to_diffusion(t: f64) -> f64 {
    1.0 - t
}

/// Flow Matching time t of the diffusion time s: t = 1 − s (data at t = 1).
pub fn from_diffusion(s: f64) -> f64 {
    1.0 - s
}

/// The Flow Matching time of DDPM step n of N: s_n = n/N, so t_n = 1 − n/N
/// (step 0 is the data, t = 1; step N is the noise, t = 0).
///
/// Errors: [`Error::ZeroCount`] for N = 0, [`Error::InvalidParameter`] for n > N.
pub fn from_ddpm_step(n: usize, steps: usize) -> Result<f64> {
    if steps == 0 {
        return Err(Error::ZeroCount { what: "the number of DDPM steps".into() });
    }
    if n > steps {
        return Err(Error::invalid(
            "DDPM step",
            format!("step {n} of {steps}: DDPM steps run from 0 (data) to N = {steps} (noise)"),
        ));
    }
    Ok(from_diffusion(n as f64 / steps as f64))
}

/// Checks that a flow-matching time is finite and lies in [0, 1].
///
/// Errors: [`Error::NonFinite`] for NaN or ±∞, [`Error::InvalidParameter`] for
/// t < 0 or t > 1.
pub fn check_time(t: f64) -> Result<()> {
    if !t.is_finite() {
        return Err(Error::NonFinite {
            what: "time t".into(),
            detail: format!("t = {t}; pass a finite time in [0, 1]"),
        });
    }
    if !(0.0..=1.0).contains(&t) {
        return Err(Error::invalid(
            "time t",
            format!("t = {t} is outside [0, 1]; flow-matching time runs from t = 0 (noise) to t = 1 (data)"),
        ));
    }
    Ok(())
}
