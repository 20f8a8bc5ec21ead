//! The three samplers of a diffusion model, in Flow Matching time (noise at t = 0, data at t = 1).
//!
//! ```text
//! reverse SDE:       dx = [½ β x + β ∇log p_t(x)] dt + √β dW,      β = β(1 − t)       (Euler–Maruyama)
//! probability flow:  dx/dt = ½ β (x + ∇log p_t(x))                                   (any ODE solver)
//! DDIM:              x̂₁ = (x − σ_t ε̂)/α_t,   x_{t'} = α_{t'} x̂₁ + σ_{t'} ε̂             (one ε̂ per step)
//! ```
//!
//! # The convention, stated once
//!
//! Song et al. (2021) write the VP reverse SDE in diffusion time s, running from
//! s = 1 (noise) down to s = 0 (data): dx = [−½ β(s) x − β(s) ∇log p_s(x)] ds + √β(s) dW̄.
//! With t = 1 − s (the dictionary of [`crate::path::time`]) and dt = −ds, the
//! same process runs forward in our time:
//!
//! ```text
//! dx = [½ β(1 − t) x + β(1 − t) ∇log p_t(x)] dt + √β(1 − t) dW,      t from 0 to 1
//! ```
//!
//! where p_t is the marginal of the [`VariancePreserving`](crate::path::VariancePreserving)
//! path at our time t. Dropping the noise and halving the score term gives the
//! probability-flow ODE, whose solutions have the same marginals p_t. Its field
//! ½ β (x + ∇log p_t) is exactly the Flow Matching marginal velocity u_t of the VP
//! path (α̇_t/α_t = ½ β and σ_t(α̇_t σ_t/α_t − σ̇_t) = ½ β in the identity
//! u_t = (α̇_t/α_t) x + σ_t(α̇_t σ_t/α_t − σ̇_t) ∇log p_t of [`crate::marginal`]).
//!
//! # Cost
//!
//! Every sampler reports its NFE in [`Solution::nfe`]: one score (or ε) evaluation
//! per Euler–Maruyama or DDIM step, the solver's count for the probability flow.
//! The samplers never evaluate at t = 1 (Euler–Maruyama, DDIM, Euler and
//! midpoint look only at the start or middle of a step), where a model's score
//! −ε̂/σ_t is undefined. For a method that does (Heun, RK4, Dopri5) end the grid
//! at t = 1 − 10⁻³ (Song et al.'s ε).

use super::predictor::Predictor;
use super::vp::VpSde;
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::path::{Prediction, Scheduler};
use crate::points::Points;
use crate::solver::{self, SdeOptions, Solution, Stepper, TimeGrid};

/// The reverse-time VP SDE driven by a score field (exact or learned), in our time.
///
/// As a [`VectorField`] it is the drift f(x, t) = ½ β(1 − t) x + β(1 − t) s(x, t);
/// [`ReverseSde::sample`] integrates dx = f dt + √β(1 − t) dW by Euler–Maruyama.
pub struct ReverseSde<'s> {
    score: Box<dyn VectorField + 's>,
    sde: VpSde,
}

impl<'s> ReverseSde<'s> {
    /// The reverse SDE of `sde` with the score `score` (e.g. [`Predictor::view`] of
    /// [`Prediction::Score`], or the exact [`crate::marginal::Marginal::score_field`]).
    pub fn new(score: impl VectorField + 's, sde: VpSde) -> Self {
        ReverseSde { score: Box::new(score), sde }
    }

    /// The noise level g(t) = √β(1 − t).
    pub fn g(&self, t: f64) -> f64 {
        self.sde.beta_at(t).sqrt()
    }

    /// Samples from noise `x0` (at `grid`'s first time, usually t = 0) to the last grid
    /// time by Euler–Maruyama with noise seeded by `seed`; the last step adds no
    /// noise (it returns that step's mean, as Song et al. 2021 do). NFE = steps.
    ///
    /// Errors: [`Error::NonFinite`] for a NaN/∞ start or a state that blows up (naming
    /// the step); the score's errors (e.g. a model's score at t = 1).
    pub fn sample(&self, x0: &Points, grid: &TimeGrid, seed: u64) -> Result<Solution> {
        let g = |t: f64| self.g(t);
        solver::euler_maruyama(self, &g, x0, grid, &Self::options(seed))
    }

    /// Like [`ReverseSde::sample`], keeping the state at every grid time.
    ///
    /// Errors: as [`ReverseSde::sample`].
    pub fn sample_trajectory(&self, x0: &Points, grid: &TimeGrid, seed: u64) -> Result<Solution> {
        let g = |t: f64| self.g(t);
        solver::euler_maruyama_trajectory(self, &g, x0, grid, &Self::options(seed))
    }

    fn options(seed: u64) -> SdeOptions {
        SdeOptions { seed, noise_on_last_step: false }
    }
}

impl VectorField for ReverseSde<'_> {
    /// The drift ½ β(1 − t) x + β(1 − t) s(x, t).
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        vp_combination(&*self.score, &self.sde, 1.0, x, t, out)
    }
}

/// The probability-flow ODE of the VP SDE: dx/dt = ½ β(1 − t) (x + s(x, t)).
///
/// A [`VectorField`], so any solver of [`crate::solver`] samples it.
pub struct ProbabilityFlow<'s> {
    score: Box<dyn VectorField + 's>,
    sde: VpSde,
}

impl<'s> ProbabilityFlow<'s> {
    /// The probability flow of `sde` with the score `score`.
    pub fn new(score: impl VectorField + 's, sde: VpSde) -> Self {
        ProbabilityFlow { score: Box::new(score), sde }
    }
}

impl VectorField for ProbabilityFlow<'_> {
    /// ½ β(1 − t) (x + s(x, t)).
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        vp_combination(&*self.score, &self.sde, 0.5, x, t, out)
    }
}

/// out = ½ β(1 − t) x + k β(1 − t) s(x, t), row by row (k = 1: reverse-SDE drift, ½: probability flow).
fn vp_combination(
    score: &dyn VectorField,
    sde: &VpSde,
    k: f64,
    x: &Points,
    t: Time<'_>,
    out: &mut Points,
) -> Result<()> {
    let t = t.rows(x.len(), "a VP sampler")?;
    score.eval_into(x, t, out)?;
    for (i, (o, xi)) in out.rows_mut().zip(x.rows()).enumerate() {
        let b = sde.beta_at(t.at(i));
        for (oj, xj) in o.iter_mut().zip(xi) {
            *oj = 0.5 * b * xj + k * b * *oj;
        }
    }
    Ok(())
}

/// DDIM (Song, Meng & Ermon 2021), deterministic: one noise prediction per step.
///
/// From (x, t) to t': predict ε̂ at (x, t), the clean point x̂₁ = (x − σ_t ε̂)/α_t,
/// and move to the point of the path through x̂₁ and ε̂ at t':
/// x' = α_{t'} x̂₁ + σ_{t'} ε̂. It needs α_t > 0 at every step's start (true on
/// the VP path, α_0 ≈ 0.0066; on CondOT start after t = 0). Any [`Predictor`]
/// works, whatever it predicts: its ε̂ comes from the conversion. On the CondOT
/// path a DDIM step is exactly an Euler step; on any other path it is an Euler
/// step of the same model re-timed to CondOT (see [`super::ScheduleTransform`]).
///
/// Errors: [`Error::InvalidParameter`] where α_t = 0 at a step's start; the
/// model's errors; [`Error::NonFinite`] for a NaN/∞ start or blow-up.
pub fn ddim(model: &Predictor<'_>, x0: &Points, grid: &TimeGrid) -> Result<Solution> {
    solver::run_stepper(&mut Ddim::new(model, x0), &model.view(Prediction::Noise), x0, grid, false)
}

/// Like [`ddim`], keeping the state at every grid time.
///
/// Errors: as [`ddim`].
pub fn ddim_trajectory(model: &Predictor<'_>, x0: &Points, grid: &TimeGrid) -> Result<Solution> {
    solver::run_stepper(&mut Ddim::new(model, x0), &model.view(Prediction::Noise), x0, grid, true)
}

/// The DDIM stepper: the path's scheduler and a buffer for ε̂.
struct Ddim<'p> {
    scheduler: &'p dyn Scheduler,
    eps: Points,
}

impl<'p> Ddim<'p> {
    fn new(model: &'p Predictor<'_>, x0: &Points) -> Self {
        Ddim { scheduler: model.path().scheduler().as_ref(), eps: Points::zeros(x0.len(), x0.dim()) }
    }
}

impl Stepper for Ddim<'_> {
    fn name(&self) -> &'static str {
        "DDIM"
    }

    fn evals_per_step(&self) -> usize {
        1
    }

    /// `field` is the model's ε̂.
    fn step<F: VectorField + ?Sized>(&mut self, field: &F, x: &mut Points, t: f64, h: f64) -> Result<()> {
        let now = self.scheduler.eval_checked(t)?;
        // Only α and σ are needed at the step's end (σ̇ may be infinite at t = 1); rounding of t + h is clamped.
        let next = self.scheduler.eval((t + h).clamp(0.0, 1.0));
        if !(next.alpha.is_finite() && next.sigma.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("the scheduler {} at t = {}", self.scheduler.name(), t + h),
                detail: format!("α = {}, σ = {}", next.alpha, next.sigma),
            });
        }
        if now.alpha <= 0.0 {
            return Err(Error::invalid(
                format!("a DDIM step from t = {t}"),
                format!(
                    "α_t = {} here, so the clean point x̂₁ = (x − σ_t ε̂)/α_t is undefined; start the grid at a \
                     time with α_t > 0 (on CondOT, after t = 0)",
                    now.alpha
                ),
            ));
        }
        field.eval_into(x, Time::Same(t), &mut self.eps)?;
        // x' = α' (x − σ ε̂)/α + σ' ε̂ = (α'/α) x + (σ' − α' σ/α) ε̂
        let a = next.alpha / now.alpha;
        let b = next.sigma - a * now.sigma;
        for (xi, ei) in x.as_mut_slice().iter_mut().zip(self.eps.as_slice()) {
            *xi = a * *xi + b * ei;
        }
        Ok(())
    }
}
