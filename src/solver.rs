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
//! Extending the module: fixed steps go through a small internal `Stepper`
//! trait (advance `x` from `t` to `t + h` in place, with its own scratch
//! buffers and, if needed, its own state such as a seeded RNG for an
//! Euler–Maruyama step). Nothing assumes `h > 0`, and the state is a plain
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
//! let sol = solve(&field, &x0, &grid, &Method::Rk4).unwrap();
//! assert!((sol.final_state.row(0)[0] - (-1.0f64).exp()).abs() < 1e-6);
//! assert_eq!(sol.nfe, 80);
//! ```

use std::fmt;

use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::points::Points;

/// Largest number of steps [`TimeGrid::uniform`] builds (ten million).
pub const MAX_UNIFORM_STEPS: usize = 10_000_000;

// ---------------------------------------------------------------------------
// Time grid
// ---------------------------------------------------------------------------

/// A validated, strictly monotone list of times `t_0, t_1, …, t_K` (K ≥ 1).
///
/// The grid runs forwards (`t_0 < t_1 < …`, sampling) or backwards
/// (`t_0 > t_1 > …`, e.g. from 1 to 0 for likelihoods). Fixed-step methods
/// take one step per interval; adaptive methods report the state at each time.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeGrid {
    times: Vec<f64>,
}

impl TimeGrid {
    /// Wraps explicit times after checking them.
    ///
    /// Errors with [`Error::TimeGrid`] when the list is empty, has a single
    /// time, holds a NaN or infinite time, or is not strictly increasing or
    /// strictly decreasing throughout (repeated times included).
    pub fn new(times: Vec<f64>) -> Result<TimeGrid> {
        if times.is_empty() {
            return Err(Error::TimeGrid { reason: "the grid is empty (no times at all)".into() });
        }
        if let Some(i) = times.iter().position(|t| !t.is_finite()) {
            return Err(Error::TimeGrid { reason: format!("time {i} is {}, which is not a finite number", times[i]) });
        }
        if times.len() == 1 {
            return Err(Error::TimeGrid {
                reason: format!("the grid has a single time t = {}; it needs a start and an end time", times[0]),
            });
        }
        let forward = times[1] > times[0];
        for (i, w) in times.windows(2).enumerate() {
            let ok = if forward { w[1] > w[0] } else { w[1] < w[0] };
            if !ok {
                let reason = if w[0] == w[1] {
                    format!("times {i} and {} are both {}; a grid must not repeat a time", i + 1, w[0])
                } else {
                    let way = if forward { "increases" } else { "decreases" };
                    format!(
                        "the grid is not monotone: it {way} at first (t_0 = {}, t_1 = {}) but goes from \
                         t_{i} = {} to t_{} = {}",
                        times[0],
                        times[1],
                        w[0],
                        i + 1,
                        w[1]
                    )
                };
                return Err(Error::TimeGrid { reason });
            }
        }
        Ok(TimeGrid { times })
    }

    /// `steps` equal intervals from `t0` to `t1`: `t_k = t0 + (t1 − t0)·k/steps`, `k = 0, …, steps`.
    ///
    /// `t1 < t0` gives a backward grid. The last time is exactly `t1`.
    /// Errors with [`Error::ZeroCount`] when `steps == 0`, [`Error::TimeGrid`]
    /// when `t0 == t1` or either is NaN/infinite, and [`Error::SizeLimit`]
    /// above [`MAX_UNIFORM_STEPS`].
    pub fn uniform(t0: f64, t1: f64, steps: usize) -> Result<TimeGrid> {
        if steps == 0 {
            return Err(Error::ZeroCount { what: "the number of steps of TimeGrid::uniform".into() });
        }
        if steps > MAX_UNIFORM_STEPS {
            return Err(Error::SizeLimit {
                what: "TimeGrid::uniform steps".into(),
                size: steps,
                limit: MAX_UNIFORM_STEPS,
                hint: "Use fewer steps, or an adaptive method (Method::dopri5) on a short grid".into(),
            });
        }
        for (name, t) in [("t0", t0), ("t1", t1)] {
            if !t.is_finite() {
                return Err(Error::TimeGrid { reason: format!("{name} = {t} is not a finite number") });
            }
        }
        if t0 == t1 {
            return Err(Error::TimeGrid {
                reason: format!("t0 and t1 are both {t0}, so the interval has zero length"),
            });
        }
        let span = t1 - t0;
        let n = steps as f64;
        let mut times: Vec<f64> = (0..=steps).map(|k| t0 + span * (k as f64) / n).collect();
        times[steps] = t1;
        TimeGrid::new(times)
    }

    /// The times `t_0, …, t_K`.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Number of intervals `K` (one less than the number of times).
    pub fn steps(&self) -> usize {
        self.times.len() - 1
    }

    /// Start time `t_0`.
    pub fn t0(&self) -> f64 {
        self.times[0]
    }

    /// End time `t_K`.
    pub fn t1(&self) -> f64 {
        self.times[self.times.len() - 1]
    }

    /// True when the times increase (`t_0 < t_K`), false on a backward grid.
    pub fn is_forward(&self) -> bool {
        self.times[1] > self.times[0]
    }

    /// The same times in reverse order (`t_K, …, t_0`): a forward grid becomes backward and vice versa.
    pub fn reversed(&self) -> TimeGrid {
        TimeGrid { times: self.times.iter().rev().copied().collect() }
    }
}

// ---------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------

/// Settings of the adaptive Dormand–Prince 5(4) method.
///
/// A step is accepted when the mixed error norm
/// `err = √( (1/N) Σ_i ( e_i / (atol + rtol·max(|x_i|, |x̂_i|)) )² ) ≤ 1`,
/// where `e_i` is the difference between the 5th- and 4th-order solutions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dopri5Options {
    /// Relative tolerance (≥ 0, finite).
    pub rtol: f64,
    /// Absolute tolerance (≥ 0, finite; at least one of rtol, atol must be positive).
    pub atol: f64,
    /// Most steps (accepted + rejected) over the whole grid before giving up.
    pub max_steps: usize,
    /// First step size |h| to try; `None` lets the solver pick it (costs one extra evaluation).
    pub initial_step: Option<f64>,
}

impl Default for Dopri5Options {
    /// `rtol = atol = 1e-5`, `max_steps = 100 000`, automatic first step.
    fn default() -> Self {
        Dopri5Options { rtol: 1e-5, atol: 1e-5, max_steps: 100_000, initial_step: None }
    }
}

impl Dopri5Options {
    /// Checks the settings: tolerances (→ [`Error::Tolerance`]), `max_steps > 0`
    /// (→ [`Error::ZeroCount`]) and a positive finite initial step (→ [`Error::InvalidParameter`]).
    pub fn validate(&self) -> Result<()> {
        let (rtol, atol) = (self.rtol, self.atol);
        let bad = |v: f64| !v.is_finite() || v < 0.0;
        if bad(rtol) || bad(atol) || (rtol == 0.0 && atol == 0.0) {
            return Err(Error::Tolerance { rtol, atol });
        }
        if self.max_steps == 0 {
            return Err(Error::ZeroCount { what: "Dopri5Options::max_steps".into() });
        }
        if let Some(h) = self.initial_step {
            if !(h.is_finite() && h > 0.0) {
                return Err(Error::invalid(
                    "Dopri5Options::initial_step",
                    format!("{h} is not a positive finite step size; pass Some(h) with h > 0 or None"),
                ));
            }
        }
        Ok(())
    }
}

/// An ODE integration method.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Forward Euler, order 1: `x ← x + h u(x, t)`.
    Euler,
    /// Explicit midpoint, order 2: `x ← x + h u(x + (h/2) u(x, t), t + h/2)`.
    Midpoint,
    /// Heun (explicit trapezoid), order 2: `k₁ = u(x, t)`, `k₂ = u(x + h k₁, t + h)`, `x ← x + (h/2)(k₁ + k₂)`.
    Heun,
    /// Classical Runge–Kutta, order 4: `k₁ = u(x, t)`, `k₂ = u(x + (h/2)k₁, t + h/2)`,
    /// `k₃ = u(x + (h/2)k₂, t + h/2)`, `k₄ = u(x + h k₃, t + h)`, `x ← x + (h/6)(k₁ + 2k₂ + 2k₃ + k₄)`.
    Rk4,
    /// Adaptive Dormand–Prince 5(4) with an embedded error estimate; see [`Dopri5Options`].
    ///
    /// It lands exactly on every grid time, so each output time costs at least
    /// one step (6 evaluations): for the cheapest solve pass a grid with few
    /// times, e.g. `TimeGrid::uniform(0.0, 1.0, 1)`.
    Dopri5(Dopri5Options),
}

impl Method {
    /// Dormand–Prince 5(4) with the given tolerances and default other settings.
    pub fn dopri5(rtol: f64, atol: f64) -> Method {
        Method::Dopri5(Dopri5Options { rtol, atol, ..Dopri5Options::default() })
    }

    /// The four fixed-step methods, lowest order first: Euler, Midpoint, Heun, RK4.
    pub fn all_fixed() -> [Method; 4] {
        [Method::Euler, Method::Midpoint, Method::Heun, Method::Rk4]
    }

    /// Short name for tables and plot legends: "Euler", "Midpoint", "Heun", "RK4", "Dopri5".
    pub fn name(&self) -> &'static str {
        match self {
            Method::Euler => "Euler",
            Method::Midpoint => "Midpoint",
            Method::Heun => "Heun",
            Method::Rk4 => "RK4",
            Method::Dopri5(_) => "Dopri5",
        }
    }

    /// Order of accuracy `p`: global error `O(h^p)`.
    pub fn order(&self) -> usize {
        match self {
            Method::Euler => 1,
            Method::Midpoint | Method::Heun => 2,
            Method::Rk4 => 4,
            Method::Dopri5(_) => 5,
        }
    }

    /// Vector-field evaluations per step for a fixed-step method (NFE = this × grid steps);
    /// `None` for the adaptive Dopri5, whose NFE depends on the problem.
    pub fn evals_per_step(&self) -> Option<usize> {
        self.tableau().map(|tab| tab.b.len())
    }

    /// True for methods that choose their own step sizes.
    pub fn is_adaptive(&self) -> bool {
        matches!(self, Method::Dopri5(_))
    }

    fn tableau(&self) -> Option<&'static Tableau> {
        match self {
            Method::Euler => Some(&EULER),
            Method::Midpoint => Some(&MIDPOINT),
            Method::Heun => Some(&HEUN),
            Method::Rk4 => Some(&RK4),
            Method::Dopri5(_) => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------
// Solution and entry points
// ---------------------------------------------------------------------------

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
pub fn solve<F>(field: &F, x0: &Points, grid: &TimeGrid, method: &Method) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    integrate(field, x0, grid, method, false)
}

/// Like [`solve`], and also keeps the state at every grid time in [`Solution::trajectory`].
pub fn solve_trajectory<F>(field: &F, x0: &Points, grid: &TimeGrid, method: &Method) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    integrate(field, x0, grid, method, true)
}

/// Shared driver behind [`solve`] and [`solve_trajectory`].
fn integrate<F>(field: &F, x0: &Points, grid: &TimeGrid, method: &Method, keep: bool) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    if let Method::Dopri5(opts) = method {
        opts.validate()?;
    }
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

    let stats = match (method, method.tableau()) {
        (Method::Dopri5(opts), _) => run_dopri5(field, &mut x, grid, opts, &mut out)?,
        (_, Some(tab)) => {
            let mut stepper = RkStepper::new(tab, x.len(), x.dim());
            run_fixed(&mut stepper, field, &mut x, grid, &mut out)?
        }
        (_, None) => return Err(Error::invalid("method", format!("{} has no solver yet", method.name()))),
    };
    Ok(out.finish(x, stats))
}

/// Counters gathered during a solve.
#[derive(Default)]
struct Stats {
    nfe: usize,
    accepted: usize,
    rejected: usize,
}

/// Collects the states at grid times when a trajectory was asked for.
struct Recorder {
    times: Vec<f64>,
    states: Option<Vec<Points>>,
}

impl Recorder {
    fn new(grid: &TimeGrid, keep: bool) -> Self {
        let states = keep.then(|| Vec::with_capacity(grid.times().len()));
        Recorder { times: grid.times().to_vec(), states }
    }

    fn record(&mut self, x: &Points) {
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

// ---------------------------------------------------------------------------
// Fixed-step methods
// ---------------------------------------------------------------------------

/// One fixed step of some kind: advances the state in place from `t` to `t + h`.
///
/// `h` may be negative (backward grids). Implementors own their scratch
/// buffers (and any extra state, e.g. a seeded RNG for a stochastic step),
/// so a new step kind plugs into [`run_fixed`] unchanged.
pub(crate) trait Stepper {
    /// Short name used in error messages.
    fn name(&self) -> &'static str;
    /// Field evaluations one step costs.
    fn evals_per_step(&self) -> usize;
    /// `x(t) ↦ x(t + h)`, in place.
    fn step<F: VectorField + ?Sized>(&mut self, field: &F, x: &mut Points, t: f64, h: f64) -> Result<()>;
}

/// Butcher tableau of an explicit Runge–Kutta method (`a` is strictly lower triangular).
struct Tableau {
    name: &'static str,
    c: &'static [f64],
    a: &'static [&'static [f64]],
    b: &'static [f64],
}

const EULER: Tableau = Tableau { name: "Euler", c: &[0.0], a: &[&[]], b: &[1.0] };

const MIDPOINT: Tableau = Tableau { name: "Midpoint", c: &[0.0, 0.5], a: &[&[], &[0.5]], b: &[0.0, 1.0] };

const HEUN: Tableau = Tableau { name: "Heun", c: &[0.0, 1.0], a: &[&[], &[1.0]], b: &[0.5, 0.5] };

const RK4: Tableau = Tableau {
    name: "RK4",
    c: &[0.0, 0.5, 0.5, 1.0],
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
};

/// Fixed-step explicit Runge–Kutta stepper with reusable stage buffers.
struct RkStepper {
    tab: &'static Tableau,
    k: Vec<Points>,
    tmp: Points,
}

impl RkStepper {
    fn new(tab: &'static Tableau, n: usize, dim: usize) -> Self {
        RkStepper { tab, k: (0..tab.b.len()).map(|_| Points::zeros(n, dim)).collect(), tmp: Points::zeros(n, dim) }
    }
}

impl Stepper for RkStepper {
    fn name(&self) -> &'static str {
        self.tab.name
    }

    fn evals_per_step(&self) -> usize {
        self.tab.b.len()
    }

    fn step<F: VectorField + ?Sized>(&mut self, field: &F, x: &mut Points, t: f64, h: f64) -> Result<()> {
        rk_stages(self.tab.c, self.tab.a, field, x, t, h, 0, &mut self.k, &mut self.tmp)?;
        for (&bi, ki) in self.tab.b.iter().zip(&self.k) {
            if bi != 0.0 {
                x.add_scaled(h * bi, ki);
            }
        }
        Ok(())
    }
}

/// Evaluates the stages `k_i = u(x + h Σ_{j<i} a_ij k_j, t + c_i h)` for `first ≤ i < k.len()`
/// (stages before `first` are already in `k`, e.g. a reused FSAL stage).
#[allow(clippy::too_many_arguments)]
fn rk_stages<F: VectorField + ?Sized>(
    c: &[f64],
    a: &[&[f64]],
    field: &F,
    x: &Points,
    t: f64,
    h: f64,
    first: usize,
    k: &mut [Points],
    tmp: &mut Points,
) -> Result<()> {
    for i in first..k.len() {
        let (done, rest) = k.split_at_mut(i);
        if i == 0 {
            field.eval_into(x, t, &mut rest[0])?;
        } else {
            combine(tmp, x, h, a[i], done);
            field.eval_into(tmp, t + c[i] * h, &mut rest[0])?;
        }
    }
    Ok(())
}

/// `out = x + h Σ_j coeffs_j k_j` (zero coefficients skipped), without allocating.
fn combine(out: &mut Points, x: &Points, h: f64, coeffs: &[f64], k: &[Points]) {
    out.as_mut_slice().copy_from_slice(x.as_slice());
    for (&aj, kj) in coeffs.iter().zip(k) {
        if aj != 0.0 {
            out.add_scaled(h * aj, kj);
        }
    }
}

/// Row, column and value of the first NaN/inf coordinate, if any.
fn first_non_finite(x: &Points) -> Option<(usize, usize, f64)> {
    let d = x.dim();
    x.as_slice().iter().position(|v| !v.is_finite()).map(|k| (k / d, k % d, x.as_slice()[k]))
}

/// One step per grid interval.
fn run_fixed<S, F>(stepper: &mut S, field: &F, x: &mut Points, grid: &TimeGrid, out: &mut Recorder) -> Result<Stats>
where
    S: Stepper,
    F: VectorField + ?Sized,
{
    let mut stats = Stats::default();
    for (k, w) in grid.times().windows(2).enumerate() {
        let (t, t_next) = (w[0], w[1]);
        stepper.step(field, x, t, t_next - t)?;
        stats.nfe += stepper.evals_per_step();
        stats.accepted += 1;
        if let Some((i, j, v)) = first_non_finite(x) {
            return Err(Error::NonFinite {
                what: "the ODE state".into(),
                detail: format!(
                    "point {i}, coordinate {j} became {v} at t = {t_next}, after {} step {} of {} from t = {t}; \
                     the vector field returned NaN/inf or grew too fast for this step size \
                     (try more steps or Method::dopri5)",
                    stepper.name(),
                    k + 1,
                    grid.steps()
                ),
            });
        }
        out.record(x);
    }
    Ok(stats)
}

// ---------------------------------------------------------------------------
// Adaptive Dormand–Prince 5(4)
// ---------------------------------------------------------------------------

/// Stage times of Dormand–Prince 5(4) (stage 7 is at `t + h`, the FSAL stage).
const DP_C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];

/// Stage coefficients `a_ij` of Dormand–Prince 5(4); row 6 doubles as the 5th-order weights `b`.
const DP_A: [&[f64]; 7] = [
    &[],
    &[1.0 / 5.0],
    &[3.0 / 40.0, 9.0 / 40.0],
    &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
    &[19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0],
    &[9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0],
    &[35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
];

/// Error weights `e_i = b_i − b̂_i` (5th minus embedded 4th order), over all 7 stages.
const DP_E: [f64; 7] =
    [71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0];

/// Safety factor of the step-size controller.
const SAFETY: f64 = 0.9;
/// Largest shrink and growth of the step in one go.
const MIN_FACTOR: f64 = 0.2;
const MAX_FACTOR: f64 = 10.0;

/// Dormand–Prince 5(4) from grid time to grid time with adaptive substeps.
///
/// One attempt from `(t, x)` with step `h` (after FSAL, `k₁` is already known):
/// `k₂ … k₆` as in the tableau, `x̂ = x + h Σ b_i k_i`, `k₇ = u(x̂, t + h)`,
/// local error `e = h Σ e_i k_i`. Accept when `err ≤ 1` (norm in
/// [`Dopri5Options`]); the next step is `h·clamp(0.9·err^{−1/5}, 0.2, 10)`
/// (not growing right after a rejection). On acceptance `k₇` becomes the next
/// `k₁` (first same as last), so an accepted step costs 6 evaluations.
fn run_dopri5<F>(field: &F, x: &mut Points, grid: &TimeGrid, opts: &Dopri5Options, out: &mut Recorder) -> Result<Stats>
where
    F: VectorField + ?Sized,
{
    let (n, d) = x.shape();
    let mut stats = Stats::default();
    let mut k: Vec<Points> = (0..7).map(|_| Points::zeros(n, d)).collect();
    let mut tmp = Points::zeros(n, d);
    let mut x_new = Points::zeros(n, d);

    let dir = if grid.is_forward() { 1.0 } else { -1.0 };
    let span = (grid.t1() - grid.t0()).abs();
    let mut t = grid.t0();

    field.eval_into(x, t, &mut k[0])?;
    stats.nfe += 1;
    if let Some((i, j, v)) = first_non_finite(&k[0]) {
        return Err(Error::NonFinite {
            what: "the vector field at the initial state".into(),
            detail: format!("its output for point {i}, coordinate {j} is {v} at t = {t}"),
        });
    }

    let mut h_abs = match opts.initial_step {
        Some(h) => h.min(span),
        None => {
            let (h, used) = initial_step(field, x, &k[0], t, dir, span, opts, &mut tmp, &mut x_new)?;
            stats.nfe += used;
            h
        }
    };

    let mut last_rejected = false;
    // Time of the last trial step that produced NaN/inf, cleared on acceptance.
    let mut non_finite_at: Option<f64> = None;

    for &t_out in &grid.times()[1..] {
        while t != t_out {
            let remaining = t_out - t;
            let hits_end = h_abs >= 0.99 * remaining.abs();
            let h = if hits_end { remaining } else { dir * h_abs };
            let min_step = 10.0 * f64::EPSILON * t.abs().max(span);
            if !hits_end && h_abs < min_step {
                return Err(step_too_small(t, h_abs, opts, non_finite_at));
            }
            if stats.accepted + stats.rejected >= opts.max_steps {
                return Err(Error::SolverFailed {
                    reason: format!(
                        "Dopri5 used all max_steps = {} steps (accepted {}, rejected {}) and only reached \
                         t = {t} on its way to t = {}; the field may be stiff or the tolerances \
                         (rtol = {}, atol = {}) too tight. Raise max_steps in Dopri5Options, loosen \
                         the tolerances, or use a fixed-step method",
                        opts.max_steps,
                        stats.accepted,
                        stats.rejected,
                        grid.t1(),
                        opts.rtol,
                        opts.atol
                    ),
                });
            }

            // Stages 2..6, the 5th-order solution, then the FSAL stage 7 at t + h.
            rk_stages(&DP_C, &DP_A, field, x, t, h, 1, &mut k[..6], &mut tmp)?;
            combine(&mut x_new, x, h, DP_A[6], &k[..6]);
            field.eval_into(&x_new, t + h, &mut k[6])?;
            stats.nfe += 6;

            let err = error_norm(x, &x_new, &k, h, opts.rtol, opts.atol, &mut tmp);
            let Some(err) = err else {
                stats.rejected += 1;
                non_finite_at = Some(t + h);
                last_rejected = true;
                h_abs = h.abs() * MIN_FACTOR;
                continue;
            };
            if err <= 1.0 {
                stats.accepted += 1;
                t = if hits_end { t_out } else { t + h };
                std::mem::swap(x, &mut x_new);
                k.swap(0, 6);
                let mut factor = if err == 0.0 { MAX_FACTOR } else { (SAFETY * err.powf(-0.2)).min(MAX_FACTOR) };
                factor = factor.max(MIN_FACTOR);
                if last_rejected {
                    factor = factor.min(1.0);
                }
                let proposed = h.abs() * factor;
                // A step shortened to land on an output time says nothing against the longer proposal.
                let clipped = hits_end && h.abs() < h_abs;
                h_abs = if clipped && factor >= 1.0 { proposed.max(h_abs) } else { proposed };
                last_rejected = false;
                non_finite_at = None;
            } else {
                stats.rejected += 1;
                last_rejected = true;
                h_abs = h.abs() * (SAFETY * err.powf(-0.2)).max(MIN_FACTOR);
            }
        }
        out.record(x);
    }
    Ok(stats)
}

/// The error after the step size fell below what f64 can resolve.
fn step_too_small(t: f64, h: f64, opts: &Dopri5Options, non_finite_at: Option<f64>) -> Error {
    match non_finite_at {
        Some(tb) => Error::NonFinite {
            what: "the ODE state".into(),
            detail: format!(
                "Dopri5 kept getting NaN/inf from the vector field on steps from t = {t} (last at t = {tb}) \
                 and shrank its step to {h:e} without escaping them; the field is not finite there"
            ),
        },
        None => Error::SolverFailed {
            reason: format!(
                "Dopri5 step size underflow at t = {t}: the step shrank to {h:e}, below what f64 can resolve. \
                 The tolerances (rtol = {}, atol = {}) are too tight for f64 or the field is singular \
                 near this time; loosen the tolerances or check the field",
                opts.rtol, opts.atol
            ),
        },
    }
}

/// Mixed error norm `√( (1/N) Σ_i ( e_i / (atol + rtol·max(|x_i|, |x̂_i|)) )² )` with `e = h Σ_j e_j k_j`.
///
/// Returns `None` when the trial step produced NaN/inf (in `x̂` or in `e`); the
/// norm itself may still be `+∞` when the scale is tiny, which just means "reject".
/// A component whose error is exactly 0 contributes 0 even when its scale is 0 (atol = 0).
fn error_norm(x: &Points, x_new: &Points, k: &[Points], h: f64, rtol: f64, atol: f64, e: &mut Points) -> Option<f64> {
    // e = h Σ_j e_j k_j, accumulated pass by pass into the scratch buffer.
    e.as_mut_slice().fill(0.0);
    for (&ej, kj) in DP_E.iter().zip(k) {
        if ej != 0.0 {
            e.add_scaled(h * ej, kj);
        }
    }
    let mut sum = 0.0;
    let mut finite = true;
    for ((&y0, &y1), &ei) in x.as_slice().iter().zip(x_new.as_slice()).zip(e.as_slice()) {
        finite &= y1.is_finite() && ei.is_finite();
        if ei != 0.0 {
            let r = ei / (atol + rtol * y0.abs().max(y1.abs()));
            sum += r * r;
        }
    }
    finite.then(|| (sum / x.as_slice().len() as f64).sqrt())
}

/// Root mean square of `v_i / s_i`, with 0/0 read as 0.
fn rms_scaled(v: impl Iterator<Item = f64>, scale: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (vi, &si) in v.zip(scale) {
        if vi != 0.0 {
            let r = vi / si;
            sum += r * r;
        }
    }
    (sum / scale.len() as f64).sqrt()
}

/// Hairer's starting step: with `s_i = atol + rtol·|x_i|`, `d₀ = ‖x/s‖`, `d₁ = ‖f₀/s‖`,
/// `h₀ = 0.01·d₀/d₁`, one Euler step gives `d₂ = ‖(f₁ − f₀)/s‖/h₀`, and
/// `h = min(100·h₀, (0.01/max(d₁, d₂))^{1/5})`, never longer than the grid. Returns `(h, evaluations used)`.
#[allow(clippy::too_many_arguments)]
fn initial_step<F: VectorField + ?Sized>(
    field: &F,
    x: &Points,
    f0: &Points,
    t: f64,
    dir: f64,
    span: f64,
    opts: &Dopri5Options,
    x1: &mut Points,
    f1: &mut Points,
) -> Result<(f64, usize)> {
    let scale: Vec<f64> = x.as_slice().iter().map(|v| opts.atol + opts.rtol * v.abs()).collect();
    let d0 = rms_scaled(x.as_slice().iter().copied(), &scale);
    let d1 = rms_scaled(f0.as_slice().iter().copied(), &scale);
    let mut h0 = if d0 < 1e-5 || d1 < 1e-5 || !(d0 / d1).is_finite() { 1e-6 } else { 0.01 * d0 / d1 };
    h0 = h0.min(span);

    combine(x1, x, dir * h0, &[1.0], std::slice::from_ref(f0));
    field.eval_into(x1, t + dir * h0, f1)?;
    let diff = f1.as_slice().iter().zip(f0.as_slice()).map(|(a, b)| a - b);
    let d2 = rms_scaled(diff, &scale) / h0;

    let h = if !d2.is_finite() {
        h0
    } else {
        let dm = d1.max(d2);
        let h1 = if dm <= 1e-15 { (h0 * 1e-3).max(1e-6) } else { (0.01 / dm).powf(0.2) };
        (100.0 * h0).min(h1)
    };
    let h = if h.is_finite() && h > 0.0 { h.min(span) } else { 1e-6 * span };
    Ok((h, 1))
}
