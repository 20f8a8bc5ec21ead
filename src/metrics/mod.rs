//! How far apart are two sample sets, and how straight are the paths a flow takes?
//!
//! A generative model is judged by comparing the points it produces with
//! points from the data. This module offers three distances between two
//! finite sample sets `a = {x_1, …, x_n}` and `b = {y_1, …, y_m}`, each seen as
//! an empirical distribution that puts weight `1/n` (resp. `1/m`) on every point:
//!
//! * [`w2`] — the 2-Wasserstein distance, computed **exactly**. For equal sizes
//!   the optimal transport plan between two uniform empirical measures is a
//!   permutation (Birkhoff–von Neumann), so
//!   `W2²(a, b) = min_σ (1/n) Σ_i ‖x_i − y_σ(i)‖²`,
//!   an assignment problem that [`crate::ot::solve_assignment`] solves exactly with the
//!   Jonker–Volgenant shortest-augmenting-path method (dual potentials, warm
//!   started by an auction). The permutation itself
//!   is available from [`crate::ot::optimal_assignment`] (minibatch optimal-transport
//!   couplings pair `x_i` with `y_σ(i)`).
//! * [`mmd_rbf`] — the maximum mean discrepancy with a Gaussian kernel, a
//!   kernel two-sample statistic that is cheap (no optimisation) and smooth.
//! * [`energy_distance`] — `2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖`, which is zero
//!   exactly when the two distributions agree and needs no bandwidth.
//!
//! Two trajectory statistics measure the paths `t ↦ x_t` that an ODE solver
//! produces, given as states `x_{t_0}, …, x_{t_K}` of the same `n` particles:
//!
//! * [`kinetic_energy`] — `E[∫ ‖ẋ_t‖² dt]`, the quantity optimal transport minimises;
//! * [`straightness`] — `E[∫ ‖(x_1 − x_0) − ẋ_t‖² dt]` (Liu et al., rectified
//!   flow): zero exactly for straight lines travelled at constant speed, which
//!   is what lets a few Euler steps sample well;
//! * [`normalized_path_energy`] — `|PE − W2²| / W2²` (Tong et al. 2024), the
//!   kinetic (path) energy measured against the least possible one, that of
//!   optimal transport.
//!
//! [`crossings`] counts how many of the straight segments of a pairing
//! (x₀ᵢ → x₁ᵢ) cross each other: an optimal-transport pairing has none.
//!
//! Both use finite differences: between two stored states the path is taken to
//! be the straight segment travelled at constant speed.
//!
//! Three class-aware measures judge a conditional sampler: [`knn_classify`] (the class a point
//! looks like, by its nearest labelled data points), [`accuracy`] (how often that is the class
//! asked for) and [`spread`] (tr Cov, the diversity of a sample).
//!
//! Everything here is plain `f64` numerics on [`Points`](crate::Points); nothing is random
//! ([`nfe_sweep`] takes its noise and reference draws from the caller).
//!
//! | file | what |
//! | --- | --- |
//! | `wasserstein.rs` | [`w2`], [`w2_squared`] (exact, through [`crate::ot`]) |
//! | `kernel.rs` | [`mmd_rbf`], [`mmd_rbf_multi`], [`median_bandwidth`], [`energy_distance`] |
//! | `trajectory.rs` | [`kinetic_energy`], [`straightness`], [`normalized_path_energy`], [`crossings`] |
//! | `sweep.rs` | [`nfe_sweep`]: W2 against NFE for each solver, with the noise floor as mean ± spread |
//! | `classes.rs` | [`knn_classify`], [`accuracy`], [`spread`] |
//! | `frechet.rs` | [`frechet_distance`], [`frechet_gaussians`]: d²_F between Gaussian fits (FID in a classifier's features) |
//! | `runs.rs` | [`runs`]: stored benchmark runs read back, medians per cell, the side-by-side comparison |

mod classes;
mod frechet;
mod kernel;
pub mod runs;
mod sweep;
mod trajectory;
mod wasserstein;

pub use classes::{accuracy, knn_classify, spread};
pub use frechet::{frechet_distance, frechet_gaussians};
pub use kernel::{energy_distance, median_bandwidth, mmd_rbf, mmd_rbf_multi, MEDIAN_MAX_POINTS, PAIRWISE_MAX_POINTS};
pub use sweep::{nfe_sweep, NfeSweep, Spread, SweepRow};
pub use trajectory::{crossings, kinetic_energy, normalized_path_energy, straightness, CROSSINGS_MAX_POINTS};
pub use wasserstein::{w2, w2_squared, W2_MAX_POINTS};
