//! The affine Gaussian probability path x_t = α_t x_1 + σ_t x_0.
//!
//! # The idea
//!
//! Flow Matching trains a velocity field by regression. To get regression
//! targets we pick, for every training pair (noise x_0 ~ N(0, I), data x_1),
//! a path from x_0 to x_1 whose velocity we know in closed form:
//!
//! ```text
//! x_t  = α_t x_1 + σ_t x_0          (where the pair is at time t)
//! dx_t = α̇_t x_1 + σ̇_t x_0          (how fast it moves: the training target)
//! ```
//!
//! α_t, σ_t come from a [`Scheduler`] (t = 0 noise, t = 1 data). For a fixed
//! data point x_1 the points x_t form a Gaussian N(α_t x_1, σ_t² I): the
//! *conditional probability path*. [`AffinePath::sample`] returns a
//! [`PathSample`] `{x_0, x_1, t, x_t, target = dx_t}` for a batch; a CFM loss
//! regresses a model u_θ(x_t, t) onto the target:
//!
//! ```text
//! L_CFM(θ) = E_{t, x_0, x_1} ‖u_θ(x_t, t) − dx_t‖²
//! ```
//!
//! The same velocity written with only the current point x and the data
//! point x_1 (not the noise) is the conditional velocity field
//!
//! ```text
//! u_t(x | x_1) = (α̇_t − (σ̇_t/σ_t) α_t) x_1 + (σ̇_t/σ_t) x        (σ_t > 0)
//! ```
//!
//! (some notes write β for σ and z for x_1); see [`AffinePath::conditional_velocity`].
//!
//! # Four ways to say the same thing
//!
//! A network on this path can predict any of four quantities at a point
//! (x_t, t): the velocity v, the clean data x̂_1, the noise x̂_0 (often called
//! ε) or the score ∇ log p_t(x_t). Because the path is affine they are related
//! linearly, and [`AffinePath::convert`] turns one into another. The two
//! equations
//!
//! ```text
//! x_t = α_t x̂_1 + σ_t x̂_0
//! v   = α̇_t x̂_1 + σ̇_t x̂_0
//! ```
//!
//! form a 2×2 linear system in (x̂_1, x̂_0) with determinant
//! D = α_t σ̇_t − σ_t α̇_t; and for a Gaussian path the score is
//! s = −x̂_0 / σ_t (Tweedie's formula). See [`Prediction`] for every formula.
//!
//! # Design notes
//!
//! Times are one per row (or a single time shared by all rows, see
//! [`Time`](crate::field::Time)), checked to be finite and in [0, 1].
//! Independent-coupling CFM with a small extra noise σ_min
//! (x_t = t x_1 + (1 − t) x_0 + σ_min ε) adds its term on top of
//! [`PathSample::x_t`] in the loss code; diffusion-style models reuse the
//! scheduler and [`AffinePath::convert`].
//!
//! # Files
//!
//! | file | what |
//! | --- | --- |
//! | [`scheduler`] | α_t, σ_t and their derivatives |
//! | [`time`] | the time dictionary with diffusion papers: s = 1 − t, DDPM steps |
//! | `affine.rs` | [`AffinePath`]: samples on the path, the conditional velocity |
//! | `sample.rs` | [`PathSample`]: the one sample type {x₀, x₁, t, x_t, target, labels} |
//! | `convert.rs` | [`Prediction`]: velocity ↔ x₁ ↔ x₀ (ε) ↔ score |
//! | `noise.rs` | [`PathNoise`]: extra noise around a path, constant (I-CFM) or a Brownian bridge (SB-CFM) |
//!
//! # Example
//!
//! ```
//! use flowmatch::path::{AffinePath, CondOT};
//! use flowmatch::Points;
//! # fn main() -> flowmatch::Result<()> {
//! let path = AffinePath::new(CondOT)?;
//! let x0 = Points::from_rows(&[[0.0, 0.0], [1.0, -1.0]])?; // noise
//! let x1 = Points::from_rows(&[[2.0, 4.0], [3.0, 3.0]])?; // data
//! let s = path.sample(&x0, &x1, &[0.5, 0.25])?;
//! assert_eq!(s.x_t.row(0), &[1.0, 2.0]);
//! assert_eq!(s.target.row(1), &[2.0, 4.0]); // x_1 − x_0 for CondOT
//! # Ok(())
//! # }
//! ```

pub mod scheduler;
pub mod time;

mod affine;
mod convert;
mod noise;
mod sample;

pub use affine::AffinePath;
pub use convert::Prediction;
pub use noise::PathNoise;
pub use sample::PathSample;
pub use scheduler::{
    check_time, validate_endpoints, CondOT, Cosine, LinearVP, LipmanOT, Polynomial, Scheduler, SchedulerOutput,
    VariancePreserving, ENDPOINT_TOLERANCE,
};
