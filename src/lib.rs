//! # flowmatch
//!
//! A course crate for learning Flow Matching: train a velocity field by
//! regression, then sample by solving an ODE.
//!
//! ```text
//! train:   min_θ E_{t, (x₀, x₁) ~ π} ‖v_θ(x_t, t) − (α̇_t x₁ + σ̇_t x₀)‖²,   x_t = α_t x₁ + σ_t x₀
//! sample:  dx/dt = v_θ(x, t) from x(0) ~ N(0, I) to t = 1
//! ```
//!
//! ## A tour of the rooms
//!
//! One concept per room; imports flow down this table, never up. Only [`nn`]
//! names dfdx (a test fails otherwise), so everything above it is plain f64
//! numerics that can be checked against closed forms.
//!
//! | room | concept |
//! | --- | --- |
//! | [`points`], [`numeric`], [`error`] | the ground: f64 point sets with `+ − ×`, shared numerics (log-sum-exp, Cholesky), one [`Error`] |
//! | [`field`] | [`VectorField`] (what solvers integrate) and [`Model`] (`(x, t, labels) ↦ v`); [`Time`]: one time or one per row |
//! | [`data`] | distributions behind one [`Dataset`] trait: Gaussians, mixtures, 2-D toys; labels where natural |
//! | [`path`] | schedulers α_t, σ_t; the affine path x_t = α_t x₁ + σ_t x₀; [`PathSample`](path::PathSample); velocity ↔ x₁ ↔ ε ↔ score |
//! | [`ot`], [`coupling`] | exact optimal assignment, Sinkhorn, the Gaussian OT map; how noise and data are paired (independent, exact OT, Sinkhorn) |
//! | [`solver`] | [`TimeGrid`]; Euler, Midpoint, Heun, RK4, adaptive Dopri5; Euler–Maruyama for SDEs |
//! | [`metrics`] | W2 (exact), MMD, energy distance, kinetic (path) energy, straightness, NPE, crossings, the NFE–W2 sweep; k-NN class, accuracy, spread; the Fréchet distance |
//! | [`marginal`] | closed-form p_t, score and u_t (per class too); the five checks of topic 7.3 |
//! | [`likelihood`] | log p₁(x) by the backward ODE: exact divergence or Hutchinson's estimator; [`Divergence`](likelihood::Divergence) |
//! | [`flows`] | normalizing flows in f64: planar, radial, affine coupling, permutation, ActNorm, affine layers; [`Flow`](flows::Flow) and the change of variables; Jacobian checks and the measured limits of topic 7.1 |
//! | [`guidance`] | classifier-free guidance: [`Guided`](guidance::Guided), ṽ = (1 − w) v(x, t \| ∅) + w v(x, t \| y), itself a vector field |
//! | [`plot`] | SVG figures and GIF animations that save to a file or show inline in evcxr |
//! | [`diffusion`] | the VP-SDE and DDPM, ε-prediction training, reverse SDE / probability flow / DDIM, a model read as ε, x̂₁, velocity or score, the schedule transform (7.6) |
//! | [`loss`] | objectives: [`Objective`](loss::Objective) draws a [`Batch`](loss::Batch) per step; CFM (with label dropout), maximum likelihood |
//! | [`nn`] | models on dfdx: the velocity MLP (unconditional or conditional on K classes), [`Net`](nn::Net), the normalizing flow [`FlowNet`](nn::FlowNet) trained by maximum likelihood, the digits' [`UNet`](nn::UNet) and [`DigitClassifier`](nn::DigitClassifier), the fast CPU path, checkpoints, devices |
//! | [`train`] | one [`Trainer`](train::Trainer) for every objective: progress, NaN → error with the step, seeds, checkpoints |
//! | [`grade`], [`quiz`], [`course`] | one registry of exercises and quizzes, a generic checker with two tiers of hints, graded quizzes, JSON grades; notebook copies for students and instructors |
//!
//! A notebook cell starts with `use flowmatch::prelude::*;`, which brings what
//! the cells of the topic notebooks use.

pub mod coupling;
pub mod course;
pub mod data;
pub mod diffusion;
pub mod error;
pub mod field;
pub mod flows;
pub mod grade;
pub mod guidance;
pub mod likelihood;
pub mod loss;
pub mod marginal;
pub mod metrics;
pub mod nn;
pub mod numeric;
pub mod ot;
pub mod path;
pub mod plot;
pub mod points;
pub mod quiz;
pub mod solver;
pub mod train;

pub use data::Dataset;
pub use error::{Error, Result};
pub use field::{batched, pointwise, Model, Time, VectorField};
/// nalgebra, re-exported for the matrices of [`ot::gaussian_ot_matrix`] and [`marginal::GaussianBridge`].
pub use nalgebra;
pub use points::Points;
/// rand, re-exported for the generators a training loop draws from ([`Dataset::sample_with`],
/// exercise 7.4.3): `use flowmatch::rand::{rngs::StdRng, Rng, SeedableRng};` in a notebook.
pub use rand;
pub use solver::TimeGrid;

/// Re-exports for notebooks and examples: `use flowmatch::prelude::*;`.
///
/// Points and fields, the datasets, the path, its schedulers and predictions, the
/// solvers, the CFM objective, the model, the trainer, the marginal closed forms and
/// the diffusion room's VP-SDE, ε-objective, predictor and samplers, guidance, plus the modules
/// (`data`, `metrics`, `plot`, `quiz`, ...), [`check!`](crate::check) and
/// [`check_with_hint!`](crate::check_with_hint).
pub mod prelude {
    pub use crate::coupling::{self, Coupling, ExactOt, ExactOtResampled, Independent, Sinkhorn};
    pub use crate::data::{
        self, Checkerboard, Circles, Dataset, Digits, EightGaussians, Gaussian, GaussianMixture, Moons, SCurve,
        Spirals, StandardGaussian,
    };
    pub use crate::diffusion::{self, EpsMatching, Predictor, ProbabilityFlow, ReverseSde, VpSde};
    pub use crate::error::{Error, Result};
    pub use crate::field::{batched, pointwise, Model, Time, VectorField, NULL_LABEL};
    pub use crate::flows::{self, Bijector, Flow};
    pub use crate::guidance::{self, Guided};
    pub use crate::likelihood::{self, ConditionalDivergence, Divergence, Given, Likelihood, Probe};
    pub use crate::loss::{self, Batch, Cfm, CfmMethod};
    pub use crate::marginal::{self, Marginal};
    pub use crate::nn::{self, FlowLayer, FlowNet, FlowNetConfig, MlpConfig, Net, OptimizerConfig, TrainableModel};
    pub use crate::nn::{ClassifierConfig, DigitClassifier, DigitScore, UNet, UNetConfig};
    pub use crate::path::{self, AffinePath, CondOT, PathSample, Prediction, Scheduler, VariancePreserving};
    pub use crate::points::Points;
    pub use crate::solver::{self, solve, solve_trajectory, Method, TimeGrid};
    pub use crate::train::{Progress, Trainer};
    pub use crate::{check, check_with_hint};
    pub use crate::{metrics, ot, plot, quiz};
}
