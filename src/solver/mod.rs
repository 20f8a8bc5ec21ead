//! ODE solvers: move a batch of points along a velocity field, `dx/dt = u_t(x)`.
//!
//! Sampling a flow model means solving this ODE from noise at `t = 0` to data
//! at `t = 1`; computing a likelihood later means solving an augmented ODE
//! backwards from `t = 1` to `t = 0`. Both are the same job: start from a
//! state `x(t₀)` and follow the field along a [`TimeGrid`].
//!
//! Fixed-step methods take exactly one step per grid interval `h = t_{k+1} − t_k`
//! (negative on a backward grid). They are all explicit Runge–Kutta methods:
//! `s` stages
//!
//! `k_i = u(x + h Σ_{j<i} a_ij k_j, t + c_i h)`,  then  `x ← x + h Σ_i b_i k_i`,
//!
//! and they differ only in the coefficients (the Butcher tableau) and so in
//! their order `p`: halving `h` divides the final error by about `2^p`.
//!
//! | method | stages (NFE per step) | order |
//! | --- | --- | --- |
//! | [`Method::Euler`] | 1 | 1 |
//! | [`Method::Midpoint`] | 2 | 2 |
//! | [`Method::Heun`] | 2 | 2 |
//! | [`Method::Rk4`] | 4 | 4 |
//! | [`Method::Dopri5`] | 6 per attempted step (+1 to choose the first step) | 5 |
//!
//! [`Method::Dopri5`] is adaptive: it estimates its own local error with an
//! embedded 4th-order solution and picks its step sizes to meet a tolerance.
//! The grid times are then only output times; it takes as many substeps in
//! between as it needs.
//!
//! NFE (number of function evaluations) counts calls of the vector field on
//! the whole batch. It is the cost measure that matters when the field is a
//! neural network, so every [`Solution`] reports it exactly.
//!
//! # Files
//!
//! | file | what |
//! | --- | --- |
//! | `grid.rs` | [`TimeGrid`]: validated, strictly monotone output times |
//! | `method.rs` | [`Method`] and [`Dopri5Options`] |
//! | `rk.rs` | the fixed-step explicit Runge–Kutta methods (Butcher tableaux, one step per interval) |
//! | `dopri5.rs` | adaptive Dormand–Prince 5(4) with step-size control |
//! | [`sde`] | Euler–Maruyama for dx = f(x, t) dt + g(t) dW, with its own seeded noise |
//!
//! Extending the module: fixed steps go through a small internal `Stepper`
//! trait (advance `x` from `t` to `t + h` in place, with its own scratch
//! buffers and, if needed, its own state such as the seeded RNG of the
//! Euler–Maruyama step in [`sde`], or the scheduler of DDIM in
//! [`crate::diffusion`]). Nothing assumes `h > 0`, and the state is a plain
//! [`Points`] of any dimension, so an augmented state `(x, log p)` stored as
//! `d + 1` columns integrates backwards on a decreasing grid unchanged.
//!
//! ```
//! use flowmatch::prelude::*;
//! use flowmatch::solver::{solve, Method};
//!
//! // dx/dt = −x from x(0) = 1: x(1) = e^{−1}.
//! let field = pointwise(|x: &[f64], _t| vec![-x[0]]);
//! let x0 = Points::from_rows(&[[1.0]]).unwrap();
//! let grid = TimeGrid::uniform(0.0, 1.0, 20).unwrap();
//! let sol = solve(&field, &x0, &grid, Method::Rk4).unwrap();
//! assert!((sol.final_state.row(0)[0] - (-1.0f64).exp()).abs() < 1e-6);
//! assert_eq!(sol.nfe, 80);
//! ```

use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::points::Points;

mod dopri5;
mod grid;
mod method;
mod rk;
pub mod sde;

pub use grid::{TimeGrid, MAX_UNIFORM_STEPS};
pub use method::{Dopri5Options, Method};
pub(crate) use rk::Stepper;
pub use sde::{euler_maruyama, euler_maruyama_trajectory, SdeOptions};

/// What a solve returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The state at the last grid time.
    pub final_state: Points,
    /// The state at every grid time (first = x0, last = `final_state`) when
    /// [`solve_trajectory`] was called; `None` from [`solve`].
    pub trajectory: Option<Vec<Points>>,
    /// The grid times.
    pub times: Vec<f64>,
    /// Number of vector-field evaluations (each on the whole batch).
    pub nfe: usize,
    /// Steps taken (for fixed-step methods: the number of grid intervals).
    pub accepted_steps: usize,
    /// Steps an adaptive method tried and threw away (0 for fixed-step methods).
    pub rejected_steps: usize,
}

/// Solves `dx/dt = u_t(x)` from `x(t_0) = x0` over `grid` and returns the state at `t_K`.
///
/// Errors: [`Error::NonFinite`] when `x0` or the state during the solve holds
/// NaN/inf (the message names the time), [`Error::Tolerance`] for bad Dopri5
/// tolerances, [`Error::SolverFailed`] when Dopri5 runs out of steps or its
/// step size underflows, and any error the field itself returns.
///
/// An empty `x0` (zero points) is allowed: it is returned as is, without
/// evaluating the field (`nfe = 0`, `accepted_steps = 0`).
pub fn solve<F>(field: &F, x0: &Points, grid: &TimeGrid, method: Method) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    integrate(field, x0, grid, method, false)
}

/// Like [`solve`], and also keeps the state at every grid time in [`Solution::trajectory`].
pub fn solve_trajectory<F>(field: &F, x0: &Points, grid: &TimeGrid, method: Method) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    integrate(field, x0, grid, method, true)
}

/// A residual network of `layers` blocks with shared weights f: `x ← x + (1/K) f(x, k/K)`, k = 0, …, K − 1.
///
/// This is exactly Euler's method for dx/dt = f(x, t) on K equal steps of [0, 1]
/// (topic 7.2: a ResNet is a discretised flow, and a flow is the limit of ever
/// deeper ResNets). Its error against the ODE's flow shrinks like 1/K (Euler's
/// order is one). Errors as for [`solve`]; `layers = 0` is [`Error::ZeroCount`].
pub fn residual_stack<F>(field: &F, x0: &Points, layers: usize) -> Result<Points>
where
    F: VectorField + ?Sized,
{
    Ok(solve(field, x0, &TimeGrid::uniform(0.0, 1.0, layers)?, Method::Euler)?.final_state)
}

/// Shared driver behind [`solve`] and [`solve_trajectory`].
fn integrate<F>(field: &F, x0: &Points, grid: &TimeGrid, method: Method, keep: bool) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    match (method, method.tableau()) {
        (Method::Dopri5(opts), _) => {
            opts.validate()?;
            drive(x0, grid, keep, |x, out| dopri5::run(field, x, grid, &opts, out))
        }
        (_, Some(tab)) => run_stepper(&mut rk::RkStepper::new(tab, x0.len(), x0.dim()), field, x0, grid, keep),
        (_, None) => Err(Error::invalid("method", format!("{} has no solver yet", method.name()))),
    }
}

/// Runs a fixed-step [`Stepper`] over `grid`, one step per interval: the driver shared by the
/// Runge–Kutta methods, Euler–Maruyama ([`sde`]) and DDIM ([`crate::diffusion`]).
///
/// Errors: as [`solve`]; a state that becomes NaN/∞ names the step.
pub(crate) fn run_stepper<S, F>(
    stepper: &mut S,
    field: &F,
    x0: &Points,
    grid: &TimeGrid,
    keep: bool,
) -> Result<Solution>
where
    S: Stepper,
    F: VectorField + ?Sized,
{
    drive(x0, grid, keep, |x, out| rk::run_fixed(stepper, field, x, grid, out))
}

/// Checks `x0`, handles an empty batch, and runs `body` on a copy of `x0` with a recorder.
fn drive(
    x0: &Points,
    grid: &TimeGrid,
    keep: bool,
    body: impl FnOnce(&mut Points, &mut Recorder) -> Result<Stats>,
) -> Result<Solution> {
    x0.check_finite("the initial state x0")?;
    let mut out = Recorder::new(grid, keep);
    let mut x = x0.clone();
    out.record(&x);
    if x0.is_empty() {
        for _ in 1..grid.times().len() {
            out.record(&x);
        }
        return Ok(out.finish(x, Stats::default()));
    }
    let stats = body(&mut x, &mut out)?;
    Ok(out.finish(x, stats))
}

/// Counters gathered during a solve.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) nfe: usize,
    pub(crate) accepted: usize,
    pub(crate) rejected: usize,
}

/// Collects the states at grid times when a trajectory was asked for.
pub(crate) struct Recorder {
    times: Vec<f64>,
    states: Option<Vec<Points>>,
}

impl Recorder {
    fn new(grid: &TimeGrid, keep: bool) -> Self {
        let states = keep.then(|| Vec::with_capacity(grid.times().len()));
        Recorder { times: grid.times().to_vec(), states }
    }

    pub(crate) fn record(&mut self, x: &Points) {
        if let Some(s) = &mut self.states {
            s.push(x.clone());
        }
    }

    fn finish(self, x: Points, stats: Stats) -> Solution {
        Solution {
            final_state: x,
            trajectory: self.states,
            times: self.times,
            nfe: stats.nfe,
            accepted_steps: stats.accepted,
            rejected_steps: stats.rejected,
        }
    }
}
