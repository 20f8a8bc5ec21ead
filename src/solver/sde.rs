//! Euler–Maruyama: the Euler step of a stochastic differential equation.
//!
//! ```text
//! dx = f(x, t) dt + g(t) dW                                       (Itô; diagonal noise, one g for all coordinates)
//! x ← x + h f(x, t) + g(t) √|h| z,      z ~ N(0, I) fresh at every step
//! ```
//!
//! Both the drift and the noise level are taken at the start of the step. The
//! method has **strong order ½** (paths converge like √h) and **weak order 1**:
//! expectations E[φ(x_T)] converge like h, which is what matters when the SDE is
//! a sampler and only the distribution of x_T counts.
//!
//! The noise comes from its own generator, seeded by [`SdeOptions::seed`], so a
//! run is reproducible: the same seed gives bit-identical samples, another seed
//! other samples. The drift is any [`VectorField`]; one step costs one
//! evaluation of it, so the NFE equals the number of steps.
//!
//! On a backward grid (h < 0) the step reads the same with √|h|; that is how the
//! crate runs a forward noising process from data (t = 1) towards noise (t = 0).
//!
//! ```
//! use flowmatch::prelude::*;
//! use flowmatch::solver::{euler_maruyama, SdeOptions};
//!
//! // Ornstein–Uhlenbeck: dx = −x dt + √2 dW keeps N(0, 1) invariant.
//! let drift = pointwise(|x: &[f64], _t| vec![-x[0]]);
//! let x0 = Points::randn(4000, 1, 3);
//! let grid = TimeGrid::uniform(0.0, 1.0, 50).unwrap();
//! let sol = euler_maruyama(&drift, &|_t| 2f64.sqrt(), &x0, &grid, &SdeOptions::seeded(7)).unwrap();
//! let var = sol.final_state.as_slice().iter().map(|v| v * v).sum::<f64>() / 4000.0;
//! assert!((var - 1.0).abs() < 0.1);
//! assert_eq!(sol.nfe, 50);
//! ```

use super::rk::Stepper;
use super::{run_stepper, Solution, TimeGrid};
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// Settings of [`euler_maruyama`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdeOptions {
    /// Seed of the noise z of every step.
    pub seed: u64,
    /// Whether the last step adds its noise. `false` returns the mean of the
    /// last step, x + h f(x, t) (what score-based samplers do, Song et al. 2021:
    /// the last increment's noise would only blur the samples).
    pub noise_on_last_step: bool,
}

impl SdeOptions {
    /// Seed `seed`, noise on every step (the plain Euler–Maruyama scheme).
    pub fn seeded(seed: u64) -> Self {
        SdeOptions { seed, noise_on_last_step: true }
    }
}

/// Solves dx = f(x, t) dt + g(t) dW from `x0` over `grid` by Euler–Maruyama
/// and returns the state at the last grid time.
///
/// `drift` is f (one evaluation per step), `g` the noise level g(t) ≥ 0.
///
/// Errors: [`Error::NonFinite`] when `x0` holds NaN/∞ or the state becomes
/// NaN/∞ (the message names the step), [`Error::InvalidParameter`] when g(t) is
/// negative or not finite at a step, and any error of the drift.
pub fn euler_maruyama<F>(
    drift: &F,
    g: &dyn Fn(f64) -> f64,
    x0: &Points,
    grid: &TimeGrid,
    options: &SdeOptions,
) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    run_stepper(&mut EulerMaruyama::new(g, x0, grid, options), drift, x0, grid, false)
}

/// Like [`euler_maruyama`], and also keeps the state at every grid time in
/// [`Solution::trajectory`].
pub fn euler_maruyama_trajectory<F>(
    drift: &F,
    g: &dyn Fn(f64) -> f64,
    x0: &Points,
    grid: &TimeGrid,
    options: &SdeOptions,
) -> Result<Solution>
where
    F: VectorField + ?Sized,
{
    run_stepper(&mut EulerMaruyama::new(g, x0, grid, options), drift, x0, grid, true)
}

/// The Euler–Maruyama stepper: its drift buffer, noise level and seeded generator.
struct EulerMaruyama<'g> {
    g: &'g dyn Fn(f64) -> f64,
    rng: StdRng,
    drift: Points,
    steps_left: usize,
    noise_on_last_step: bool,
}

impl<'g> EulerMaruyama<'g> {
    fn new(g: &'g dyn Fn(f64) -> f64, x0: &Points, grid: &TimeGrid, options: &SdeOptions) -> Self {
        EulerMaruyama {
            g,
            rng: StdRng::seed_from_u64(options.seed),
            drift: Points::zeros(x0.len(), x0.dim()),
            steps_left: grid.steps(),
            noise_on_last_step: options.noise_on_last_step,
        }
    }
}

impl Stepper for EulerMaruyama<'_> {
    fn name(&self) -> &'static str {
        "Euler–Maruyama"
    }

    fn evals_per_step(&self) -> usize {
        1
    }

    fn step<F: VectorField + ?Sized>(&mut self, field: &F, x: &mut Points, t: f64, h: f64) -> Result<()> {
        field.eval_into(x, Time::Same(t), &mut self.drift)?;
        x.add_scaled(h, &self.drift);
        self.steps_left -= 1;
        if self.steps_left == 0 && !self.noise_on_last_step {
            return Ok(());
        }
        let g = (self.g)(t);
        if !(g.is_finite() && g >= 0.0) {
            return Err(Error::invalid(
                format!("noise level g(t) of an SDE at t = {t}"),
                format!("g = {g}; it must be finite and ≥ 0 (it multiplies √h times a standard normal)"),
            ));
        }
        let scale = g * h.abs().sqrt();
        if scale > 0.0 {
            for v in x.as_mut_slice() {
                let z: f64 = self.rng.sample(StandardNormal);
                *v += scale * z;
            }
        }
        Ok(())
    }
}
