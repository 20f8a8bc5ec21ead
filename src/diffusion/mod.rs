//! Diffusion models (topic 7.6): the VP-SDE, ε-prediction training, and the three ways to
//! sample them, written in Flow Matching's notation so the two can be compared term by term.
//!
//! ```text
//! forward (noising):   x_t = α_t x₁ + σ_t x₀,   α_t = e^{−T(1−t)/2},  σ_t² = 1 − α_t²       (the VP path, data at t = 1)
//! training:            min_θ E ‖ε_θ(x_t, t) − x₀‖²  =  min_θ E w(t) ‖v_θ(x_t, t) − (α̇_t x₁ + σ̇_t x₀)‖²
//! sampling:            reverse SDE dx = [½βx + β∇log p_t] dt + √β dW  |  PF-ODE dx/dt = ½β(x + ∇log p_t)  |  DDIM
//! ```
//!
//! # One model, two parametrisations
//!
//! A diffusion model on the variance-preserving path and a Flow Matching model
//! on a Gaussian path are built from the same object: an affine Gaussian path
//! x_t = α_t x₁ + σ_t x₀ (topic 7.3). They differ in three choices, none of them
//! fundamental:
//!
//! | choice | Flow Matching (CondOT) | diffusion (VP, ε-prediction) |
//! | --- | --- | --- |
//! | scheduler | α_t = t, σ_t = 1 − t | α_t = e^{−T(1−t)/2}, σ_t = √(1 − α_t²) |
//! | what the network predicts | the velocity v | the noise ε (∝ the score, −σ_t ∇log p_t) |
//! | loss weight over t (as a velocity loss) | 1 | w(t) = α_t²/(α_t σ̇_t − σ_t α̇_t)² ([`eps_weight`]) |
//! | sampler | an ODE solver | the reverse SDE, its probability-flow ODE, or DDIM |
//!
//! Each choice can be swapped without retraining the other way: a [`Predictor`]
//! reads any model as ε, x̂₁, velocity or score; a [`ScheduleTransform`] samples a
//! model trained on one scheduler as if trained on another. Neither family owns
//! determinism: a diffusion model has an ODE (the probability flow, DDIM), and a
//! Flow Matching model has SDEs with the same marginals (its score gives the drift).
//!
//! # Time
//!
//! Every function here takes **our** time t (noise 0, data 1). Diffusion papers'
//! s = 1 − t goes through the one dictionary, [`crate::path::time`] (re-exported
//! as [`time`]): β is always evaluated at s = 1 − t.
//!
//! # Files
//!
//! | file | what |
//! | --- | --- |
//! | `vp.rs` | [`VpSde`] (β(s), closed-form marginals, the forward drift) and [`Ddpm`] (β_n, ᾱ_n) |
//! | `objective.rs` | [`EpsMatching`], the ε-prediction objective of the one trainer; [`eps_weight`] |
//! | `predictor.rs` | [`Predictor`]: a trained model read as ε, x̂₁, velocity or score; itself a field |
//! | `sample.rs` | [`ReverseSde`] (Euler–Maruyama), [`ProbabilityFlow`] (any ODE solver), [`ddim`] |
//! | `transform.rs` | [`ScheduleTransform`]: a model trained on one scheduler, sampled on another |
//! | `compare.rs` | [`Comparison`]: both models, every sampler, W2 against NFE (the measured table of 7.6) |
//!
//! ```
//! use flowmatch::diffusion::{ProbabilityFlow, ReverseSde, VpSde};
//! use flowmatch::marginal::Marginal;
//! use flowmatch::prelude::*;
//! # fn main() -> flowmatch::Result<()> {
//! let sde = VpSde::default();
//! let exact = Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), sde.scheduler())?;
//! let x = Points::from_rows(&[[1.0, -2.0]])?;
//! // The probability-flow field of the exact score is the Flow Matching marginal velocity.
//! let pf = ProbabilityFlow::new(exact.score_field(), sde).eval(&x, 0.7)?;
//! let u = exact.velocity(&x, 0.7)?;
//! assert!((pf.row(0)[0] - u.row(0)[0]).abs() < 1e-9);
//! // The reverse SDE, driven by the same score, with its own seeded noise.
//! let grid = TimeGrid::uniform(0.0, 1.0, 100)?;
//! let sol = ReverseSde::new(exact.score_field(), sde).sample(&Points::randn(8, 2, 0), &grid, 1)?;
//! assert_eq!(sol.nfe, 100);
//! # Ok(())
//! # }
//! ```

mod compare;
mod objective;
mod predictor;
mod sample;
mod transform;
mod vp;

pub use crate::path::time;
pub use compare::{Comparison, SamplerCurve, DOPRI5_TOLERANCES, NFE_LADDER};
pub use objective::{eps_weight, EpsMatching};
pub use predictor::{Predictor, View};
pub use sample::{ddim, ddim_trajectory, ProbabilityFlow, ReverseSde};
pub use transform::{Matched, ScheduleTransform};
pub use vp::{Ddpm, VpSde};
