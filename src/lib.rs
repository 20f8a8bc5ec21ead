//! # flowmatch
//!
//! A course crate for learning Flow Matching: train a velocity field by
//! regression, then sample by solving an ODE.
//!
//! The maths core works on plain f64 point sets ([`Points`]) and closures so
//! that every piece can be checked against a closed form:
//!
//! | module | concept |
//! | --- | --- |
//! | [`points`] | a set of n points in d dimensions |
//! | [`field`] | the [`VectorField`] trait that solvers integrate; [`Time`]: one time or one per row |
//! | [`data`] | two-dimensional toy distributions behind one [`Dataset`] trait |
//! | [`path`] | schedulers α_t, σ_t; the affine Gaussian probability path x_t = α_t x_1 + σ_t x_0; the sample type |
//! | [`solver`] | Euler, Midpoint, Heun, RK4 and adaptive Dopri5 over a [`TimeGrid`] |
//! | [`metrics`] | W2 by exact optimal transport, MMD, energy distance, straightness |
//! | [`loss`] | objectives: CFM on any path, maximum likelihood; one batch type per step |
//! | [`nn`] | models on dfdx: the velocity MLP, `Net`, the fast CPU path, checkpoints |
//! | [`train`] | one trainer for every objective |
//! | [`plot`] | SVG figures that save to a file or show inline in evcxr |

pub mod coupling;
pub mod course;
pub mod data;
pub mod error;
pub mod field;
pub mod grade;
pub mod loss;
pub mod marginal;
pub mod metrics;
pub mod nn;
pub mod numeric;
pub mod ot;
pub mod path;
pub mod plot;
pub mod points;
pub mod solver;
pub mod train;

pub use data::Dataset;
pub use error::{Error, Result};
pub use field::{batched, pointwise, Model, Time, VectorField};
pub use points::Points;
pub use solver::TimeGrid;

/// Re-exports for notebooks and examples: `use flowmatch::prelude::*;`.
///
/// Points and fields, the datasets, the path and its schedulers, the solvers,
/// the CFM objective, the model, the trainer and the marginal closed forms,
/// plus the modules (`data`, `metrics`, `plot`, ...) and [`check!`](crate::check).
pub mod prelude {
    pub use crate::check;
    pub use crate::data::{
        self, Checkerboard, Circles, Dataset, EightGaussians, Gaussian, GaussianMixture, Moons, SCurve, Spirals,
        StandardGaussian,
    };
    pub use crate::error::{Error, Result};
    pub use crate::field::{batched, pointwise, Model, Time, VectorField};
    pub use crate::loss::{self, Batch, Cfm};
    pub use crate::marginal::{self, Marginal};
    pub use crate::nn::{self, MlpConfig, Net, OptimizerConfig, TrainableModel};
    pub use crate::path::{self, AffinePath, CondOT, PathSample, Scheduler};
    pub use crate::points::Points;
    pub use crate::solver::{self, solve, solve_trajectory, Method, TimeGrid};
    pub use crate::train::{Progress, Trainer};
    pub use crate::{metrics, plot};
}
