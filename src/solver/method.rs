//! [`Method`]: which ODE integrator a solve uses, and the settings of the adaptive one.
//!
//! ```text
//! explicit Runge–Kutta, s stages:  k_i = u(x + h Σ_{j<i} a_ij k_j, t + c_i h),   x ← x + h Σ_i b_i k_i
//! order p: halving h divides the final error by about 2^p
//! ```

use super::rk::{self, Tableau};
use crate::error::{Error, Result};
use std::fmt;

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

    pub(crate) fn tableau(&self) -> Option<&'static Tableau> {
        match self {
            Method::Euler => Some(&rk::EULER),
            Method::Midpoint => Some(&rk::MIDPOINT),
            Method::Heun => Some(&rk::HEUN),
            Method::Rk4 => Some(&rk::RK4),
            Method::Dopri5(_) => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
