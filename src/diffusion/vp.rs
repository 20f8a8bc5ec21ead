//! The variance-preserving SDE (Song et al. 2021) and its DDPM discretisation (Ho et al. 2020).
//!
//! ```text
//! forward, diffusion time s ∈ [0, 1]:   dx = −½ β(s) x ds + √β(s) dW,      β(s) = β_min + (β_max − β_min) s
//! closed-form marginal:                 x_s | x_data ~ N(e^{−T(s)/2} x_data, (1 − e^{−T(s)}) I),   T(s) = ∫₀ˢ β
//! in our time t = 1 − s:                x_t = α_t x₁ + σ_t x₀,   α_t = e^{−T(1−t)/2},   σ_t = √(1 − α_t²)
//! DDPM, N steps:                        β_n = (β_min + (β_max − β_min)(n − 1)/(N − 1)) / N,   ᾱ_n = Π_{k ≤ n} (1 − β_k)
//! ```

use crate::error::{Error, Result};
use crate::path::time::{from_ddpm_step, from_diffusion, to_diffusion};
use crate::path::{Scheduler, VariancePreserving};
use crate::points::Points;

/// The VP-SDE: the noising process whose marginals are the
/// [`VariancePreserving`] path.
///
/// In diffusion time s (data at s = 0) the forward process is
/// dx = −½ β(s) x ds + √β(s) dW. Started at a data point x₁ it stays Gaussian,
///
/// ```text
/// x_s = e^{−T(s)/2} x₁ + √(1 − e^{−T(s)}) ε,   T(s) = β_min s + ½ (β_max − β_min) s²
/// ```
///
/// which, read at s = 1 − t, is x_t = α_t x₁ + σ_t x₀ with the scheduler's α_t
/// and σ_t: the Flow Matching path of [`VariancePreserving`]. The reverse-time
/// samplers are [`ReverseSde`](super::ReverseSde), [`ProbabilityFlow`](super::ProbabilityFlow) and [`ddim`](super::ddim).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VpSde {
    scheduler: VariancePreserving,
}

impl Default for VpSde {
    /// β_min = 0.1, β_max = 20 (Song et al. 2021).
    fn default() -> Self {
        VpSde { scheduler: VariancePreserving::default() }
    }
}

impl VpSde {
    /// The VP-SDE with noise rates β_min (at the data) and β_max (at the noise).
    ///
    /// Errors: [`Error::InvalidParameter`] unless both are finite, 0 ≤ β_min < β_max,
    /// and the process ends within 0.01 of pure noise (β_min + β_max ≥ 18.42); the
    /// message names the rule that failed and a typical value.
    pub fn new(beta_min: f64, beta_max: f64) -> Result<Self> {
        Ok(VpSde { scheduler: VariancePreserving::new(beta_min, beta_max)? })
    }

    /// The scheduler (α_t, σ_t) of the same path, in Flow Matching time.
    pub fn scheduler(&self) -> VariancePreserving {
        self.scheduler
    }

    /// β_min.
    pub fn beta_min(&self) -> f64 {
        self.scheduler.beta_min()
    }

    /// β_max.
    pub fn beta_max(&self) -> f64 {
        self.scheduler.beta_max()
    }

    /// β at **diffusion** time s: β(s) = β_min + (β_max − β_min) s.
    pub fn beta(&self, s: f64) -> f64 {
        self.scheduler.beta(s)
    }

    /// β at **Flow Matching** time t: β(1 − t), the rate every sampler of this room uses.
    pub fn beta_at(&self, t: f64) -> f64 {
        self.beta(to_diffusion(t))
    }

    /// The closed-form marginal at **diffusion** time s given a data point x:
    /// x_s ~ N(m x, v I) with (m, v) = (e^{−T(s)/2}, 1 − e^{−T(s)}).
    ///
    /// Errors: as [`crate::path::check_time`] for s outside [0, 1].
    pub fn marginal(&self, s: f64) -> Result<(f64, f64)> {
        let c = self.scheduler.eval_checked(from_diffusion(s))?;
        Ok((c.alpha, c.sigma * c.sigma))
    }

    /// The drift of the forward (noising) SDE in **Flow Matching** time, for a solve on a
    /// backward grid (t from 1 towards 0, h < 0): f(x, t) = ½ β(1 − t) x. With dt = −ds
    /// it is the drift −½ β(s) x of dx/ds; the noise level is g(t) = √β(1 − t).
    pub fn forward_drift(&self, x: &Points, t: f64) -> Points {
        0.5 * self.beta_at(t) * x
    }

    /// The DDPM discretisation of this SDE with `steps` steps (1000 gives Ho et al.'s
    /// β₁ = 10⁻⁴, β_N = 0.02 for the default β_min = 0.1, β_max = 20).
    ///
    /// Errors: [`Error::ZeroCount`] for 0 steps; [`Error::InvalidParameter`] for
    /// fewer steps than β_max (a step β_n would reach 1 and destroy the signal at once).
    pub fn ddpm(&self, steps: usize) -> Result<Ddpm> {
        Ddpm::new(*self, steps)
    }
}

/// The discrete noising chain of DDPM (Ho et al. 2020) matching a [`VpSde`].
///
/// ```text
/// x_n = √(1 − β_n) x_{n−1} + √β_n ε_n,    x_n = √ᾱ_n x_data + √(1 − ᾱ_n) ε,    ᾱ_n = Π_{k=1..n} (1 − β_k)
/// β_n = (β_min + (β_max − β_min)(n − 1)/(N − 1)) / N                        (n = 1 … N)
/// ```
///
/// Step n sits at diffusion time s = n/N, i.e. Flow Matching time t = 1 − n/N
/// ([`crate::path::time::from_ddpm_step`]). As N grows, ᾱ_n → α_t² of the
/// [`VariancePreserving`] scheduler at that time, with an error of order 1/N.
#[derive(Clone, Debug, PartialEq)]
pub struct Ddpm {
    sde: VpSde,
    betas: Vec<f64>,
    alpha_bars: Vec<f64>,
}

impl Ddpm {
    fn new(sde: VpSde, steps: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::ZeroCount { what: "the number of DDPM steps".into() });
        }
        if (steps as f64) <= sde.beta_max() {
            return Err(Error::invalid(
                "the number of DDPM steps",
                format!(
                    "{steps} steps with beta_max = {} give a last step β_N = beta_max/N ≥ 1, which wipes out \
                     the signal in one step; use more than {} steps (DDPM uses 1000)",
                    sde.beta_max(),
                    sde.beta_max().ceil()
                ),
            ));
        }
        let n = steps as f64;
        let betas: Vec<f64> = (1..=steps)
            .map(|k| {
                let frac = if steps == 1 { 0.0 } else { (k - 1) as f64 / (n - 1.0) };
                (sde.beta_min() + (sde.beta_max() - sde.beta_min()) * frac) / n
            })
            .collect();
        let mut alpha_bars = Vec::with_capacity(steps + 1);
        alpha_bars.push(1.0);
        for b in &betas {
            alpha_bars.push(alpha_bars.last().copied().unwrap_or(1.0) * (1.0 - b));
        }
        Ok(Ddpm { sde, betas, alpha_bars })
    }

    /// The number of steps N.
    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// β_1 … β_N.
    pub fn betas(&self) -> &[f64] {
        &self.betas
    }

    /// ᾱ_n = Π_{k ≤ n} (1 − β_k), for n = 0 … N (ᾱ_0 = 1).
    ///
    /// Errors: [`Error::InvalidParameter`] for n > N.
    pub fn alpha_bar(&self, n: usize) -> Result<f64> {
        self.alpha_bars
            .get(n)
            .copied()
            .ok_or_else(|| Error::invalid("DDPM step", format!("step {n} of {}: steps run from 0 to N", self.steps())))
    }

    /// The Flow Matching time of step n: t = 1 − n/N.
    ///
    /// Errors: [`Error::InvalidParameter`] for n > N.
    pub fn time(&self, n: usize) -> Result<f64> {
        from_ddpm_step(n, self.steps())
    }

    /// The SDE this chain discretises.
    pub fn sde(&self) -> VpSde {
        self.sde
    }

    /// x_n = √ᾱ_n x_data + √(1 − ᾱ_n) ε: the data `x` noised to step n in one go.
    ///
    /// Errors: [`Error::ShapeMismatch`] when `x` and `eps` differ in shape,
    /// [`Error::InvalidParameter`] for n > N.
    pub fn noised(&self, x: &Points, n: usize, eps: &Points) -> Result<Points> {
        x.check_same_shape(eps, "Ddpm::noised (the data x and the noise ε)")?;
        let a = self.alpha_bar(n)?;
        Ok(a.sqrt() * x + (1.0 - a).sqrt() * eps)
    }
}
