//! Schedulers: the two numbers α_t and σ_t that define an affine Gaussian path.
//!
//! # The idea
//!
//! A Flow Matching model moves noise into data as time runs from t = 0 to t = 1.
//! Given a noise sample x_0 ~ N(0, I) and a data point x_1, an *affine* path
//! mixes the two with time-dependent weights:
//!
//! ```text
//! x_t = α_t x_1 + σ_t x_0        (0 ≤ t ≤ 1)
//! ```
//!
//! α_t is the weight on the data ("signal") and σ_t the weight on the noise.
//! A scheduler returns both weights and their time derivatives α̇_t = dα/dt,
//! σ̇_t = dσ/dt. The derivatives give the velocity of a point along its path,
//! `dx_t/dt = α̇_t x_1 + σ̇_t x_0`, which is the regression target of training.
//!
//! The convention is the one of Meta's `flow_matching` library: **t = 0 is
//! noise, t = 1 is data**, so every scheduler must satisfy
//!
//! ```text
//! α_0 = 0, σ_0 = 1        (start: pure noise)
//! α_1 = 1, σ_1 = 0        (end: the data point; [`LipmanOT`] keeps a floor σ_1 = σ_min)
//! ```
//!
//! Diffusion papers usually run time the other way (data at s = 0); the
//! [`VariancePreserving`] scheduler below rewrites their schedule in this
//! time direction through the one dictionary of [`super::time`] (s = 1 − t).
//!
//! Some lecture notes write β_t for the noise weight σ_t. With that spelling the
//! conditional velocity field that pushes a point x towards a data point z is
//!
//! ```text
//! u_t(x | z) = (α̇_t − (β̇_t / β_t) α_t) z + (β̇_t / β_t) x
//! ```
//!
//! which is [`crate::path::AffinePath::conditional_velocity`] with β = σ, z = x_1.
//!
//! # Which schedulers are provided
//!
//! | type | α_t | σ_t |
//! | --- | --- | --- |
//! | [`CondOT`] | t | 1 − t |
//! | [`Polynomial`] | tⁿ | 1 − tⁿ |
//! | [`VariancePreserving`] | exp(−½ T(1 − t)) | √(1 − α_t²) |
//! | [`LinearVP`] | t | √(1 − t²) |
//! | [`Cosine`] | sin(πt/2) | cos(πt/2) |
//! | [`LipmanOT`] | t | 1 − (1 − σ_min) t (ends at σ_1 = σ_min, not 0) |
//!
//! Any type that implements [`Scheduler`] can be used; run [`validate_endpoints`]
//! on your own scheduler to check that it really starts at noise and ends at
//! data.
//!
//! # Times outside [0, 1]
//!
//! [`Scheduler::eval`] is a plain formula: it never fails and does not check t
//! (outside [0, 1] the numbers are meaningless and may be NaN).
//! [`Scheduler::eval_checked`] is the validated version used by
//! [`crate::path`]: it rejects a NaN, infinite or out-of-range t, and a time
//! where the scheduler is singular (for example σ̇_1 = −∞ for [`LinearVP`]).
//!
//! # Example
//!
//! ```
//! use flowmatch::path::scheduler::{CondOT, Scheduler};
//! let s = CondOT.eval(0.25);
//! assert_eq!((s.alpha, s.sigma, s.d_alpha, s.d_sigma), (0.25, 0.75, 1.0, -1.0));
//! ```

use std::f64::consts::FRAC_PI_2;
use std::fmt;

pub use super::time::check_time;
use super::time::to_diffusion;
use crate::error::{Error, Result};

/// How far from their targets the endpoint values may be for a scheduler to be
/// accepted: |α_0| , |σ_0 − 1|, |α_1 − 1| and |σ_1| must all be at most 0.01.
///
/// The exact schedulers ([`CondOT`], [`Polynomial`], [`LinearVP`], [`Cosine`])
/// hit their endpoints to rounding error. [`VariancePreserving`] never reaches
/// α_0 = 0 exactly (its α_0 = exp(−(β_min + β_max)/4) > 0), so it is accepted
/// only when it gets within this tolerance of pure noise.
pub const ENDPOINT_TOLERANCE: f64 = 1e-2;

/// The values of a scheduler at one time t: (α_t, σ_t, α̇_t, σ̇_t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerOutput {
    /// α_t, the weight on the data point x_1.
    pub alpha: f64,
    /// σ_t, the weight on the noise x_0.
    pub sigma: f64,
    /// α̇_t = dα_t/dt.
    pub d_alpha: f64,
    /// σ̇_t = dσ_t/dt.
    pub d_sigma: f64,
}

impl SchedulerOutput {
    /// True when all four numbers are finite.
    pub fn is_finite(&self) -> bool {
        self.alpha.is_finite() && self.sigma.is_finite() && self.d_alpha.is_finite() && self.d_sigma.is_finite()
    }
}

/// A schedule t ↦ (α_t, σ_t) with its derivatives, for t in [0, 1].
///
/// Implement [`eval`](Scheduler::eval) and [`name`](Scheduler::name); the
/// checked evaluation comes for free. `Box<dyn Scheduler>` and `&S` are
/// schedulers too, so a path can hold a scheduler chosen at run time.
pub trait Scheduler {
    /// α_t, σ_t, α̇_t, σ̇_t at time t. A plain formula: t is not checked.
    fn eval(&self, t: f64) -> SchedulerOutput;

    /// A short human-readable name with the parameters, e.g. `"Polynomial(n=2)"`.
    fn name(&self) -> String;

    /// The noise weight σ_1 left at t = 1: 0 for a path that ends exactly on the data point
    /// (every scheduler but [`LipmanOT`], which keeps σ_min of it). [`validate_endpoints`]
    /// checks σ_1 against this value.
    fn terminal_sigma(&self) -> f64 {
        0.0
    }

    /// [`eval`](Scheduler::eval) after checking that t is finite and in [0, 1],
    /// and that all four values come out finite.
    ///
    /// Errors: [`Error::NonFinite`] for a NaN or infinite t, or for a time where
    /// the scheduler is singular (e.g. σ̇_1 = −∞ for [`LinearVP`]; draw t from
    /// [0, 1) or clip it away from that endpoint); [`Error::InvalidParameter`]
    /// for a t outside [0, 1].
    fn eval_checked(&self, t: f64) -> Result<SchedulerOutput> {
        check_time(t)?;
        let out = self.eval(t);
        if !out.is_finite() {
            return Err(Error::NonFinite {
                what: format!("scheduler {} at t = {t}", self.name()),
                detail: format!(
                    "α = {}, σ = {}, α̇ = {}, σ̇ = {}; this scheduler is singular at this time, \
                     so keep t away from it (e.g. clip t to [1e-5, 1 − 1e-5])",
                    out.alpha, out.sigma, out.d_alpha, out.d_sigma
                ),
            });
        }
        Ok(out)
    }
}

impl<S: Scheduler + ?Sized> Scheduler for Box<S> {
    fn eval(&self, t: f64) -> SchedulerOutput {
        (**self).eval(t)
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn terminal_sigma(&self) -> f64 {
        (**self).terminal_sigma()
    }
}

impl<S: Scheduler + ?Sized> Scheduler for &S {
    fn eval(&self, t: f64) -> SchedulerOutput {
        (**self).eval(t)
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn terminal_sigma(&self) -> f64 {
        (**self).terminal_sigma()
    }
}

impl fmt::Debug for dyn Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())
    }
}

/// Checks that a scheduler starts at noise and ends at data:
///
/// ```text
/// |α_0| ≤ tol,  |σ_0 − 1| ≤ tol,  |α_1 − 1| ≤ tol,  |σ_1 − σ_end| ≤ tol      (tol = ENDPOINT_TOLERANCE)
/// ```
///
/// σ_end is [`Scheduler::terminal_sigma`]: 0 except for a path that deliberately keeps some
/// noise at the data end ([`LipmanOT`]); it must lie in [0, 1).
///
/// Use it on your own [`Scheduler`] before training with it; the constructors
/// of this module already run it. Only α and σ are checked: a derivative may
/// be infinite at an endpoint (as for [`LinearVP`] at t = 1).
///
/// Errors: [`Error::InvalidParameter`] naming the scheduler and the values it
/// returned, for instance when α and σ are swapped or time runs backwards.
pub fn validate_endpoints(scheduler: &dyn Scheduler) -> Result<()> {
    let start = scheduler.eval(0.0);
    let end = scheduler.eval(1.0);
    // Written so that a NaN value counts as a miss.
    let misses =
        |value: f64, target: f64| (value - target).abs().is_nan() || (value - target).abs() > ENDPOINT_TOLERANCE;
    let sigma_end = scheduler.terminal_sigma();
    if !(0.0..1.0).contains(&sigma_end) {
        return Err(Error::invalid(
            format!("scheduler {}", scheduler.name()),
            format!("its terminal noise weight σ_end = {sigma_end} must lie in [0, 1) (0: the path ends on the data)"),
        ));
    }
    if misses(start.alpha, 0.0) || misses(start.sigma, 1.0) || misses(end.alpha, 1.0) || misses(end.sigma, sigma_end) {
        return Err(Error::invalid(
            format!("scheduler {}", scheduler.name()),
            format!(
                "it must start at noise (α_0 = 0, σ_0 = 1) and end at data (α_1 = 1, σ_1 = {sigma_end}) within \
                 {ENDPOINT_TOLERANCE}, but it gives α_0 = {}, σ_0 = {}, α_1 = {}, σ_1 = {}. \
                 Check that t = 0 is noise (not data) and that α weighs the data, σ the noise",
                start.alpha, start.sigma, end.alpha, end.sigma
            ),
        ));
    }
    Ok(())
}

/// Conditional optimal transport (straight lines): α_t = t, σ_t = 1 − t.
///
/// ```text
/// α_t = t,  σ_t = 1 − t,  α̇_t = 1,  σ̇_t = −1
/// ```
///
/// The velocity along a path is the constant x_1 − x_0.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CondOT;

impl Scheduler for CondOT {
    fn eval(&self, t: f64) -> SchedulerOutput {
        SchedulerOutput { alpha: t, sigma: 1.0 - t, d_alpha: 1.0, d_sigma: -1.0 }
    }
    fn name(&self) -> String {
        "CondOT".into()
    }
}

/// Polynomial schedule: α_t = tⁿ, σ_t = 1 − tⁿ.
///
/// ```text
/// α_t = tⁿ,  σ_t = 1 − tⁿ,  α̇_t = n tⁿ⁻¹,  σ̇_t = −n tⁿ⁻¹
/// ```
///
/// n = 1 is [`CondOT`]. For n < 1 the derivatives are infinite at t = 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polynomial {
    n: f64,
}

impl Polynomial {
    /// A polynomial schedule with exponent n.
    ///
    /// Errors: [`Error::InvalidParameter`] unless n is finite and n > 0.
    pub fn new(n: f64) -> Result<Self> {
        if !(n.is_finite() && n > 0.0) {
            return Err(Error::invalid(
                "Polynomial scheduler exponent n",
                format!("n = {n}; it must be finite and positive (n = 1 is CondOT, n = 2 is a common choice)"),
            ));
        }
        Ok(Polynomial { n })
    }

    /// The exponent n.
    pub fn n(&self) -> f64 {
        self.n
    }
}

impl Scheduler for Polynomial {
    fn eval(&self, t: f64) -> SchedulerOutput {
        let alpha = t.powf(self.n);
        let d_alpha = self.n * t.powf(self.n - 1.0);
        SchedulerOutput { alpha, sigma: 1.0 - alpha, d_alpha, d_sigma: -d_alpha }
    }
    fn name(&self) -> String {
        format!("Polynomial(n={})", self.n)
    }
}

/// The variance-preserving (VP-SDE) schedule of score-based diffusion, in
/// flow-matching time (t = 0 noise, t = 1 data).
///
/// Diffusion uses a noise rate β(s) = β_min + (β_max − β_min) s over diffusion
/// time s ∈ [0, 1] (s = 0 data). With s = 1 − t and the integrated rate
///
/// ```text
/// T(s) = ∫₀ˢ β(r) dr = β_min s + ½ (β_max − β_min) s²
/// α_t = exp(−½ T(1 − t)),   σ_t = √(1 − α_t²)
/// α̇_t = ½ β(1 − t) α_t,     σ̇_t = −α_t α̇_t / σ_t = −α_t² β(1 − t) / (2 σ_t)
/// ```
///
/// α_t² + σ_t² = 1 at every t ("variance preserving").
///
/// **Endpoints.** At t = 1 it is exact (α_1 = 1, σ_1 = 0), but σ̇_1 = −∞ when
/// β_min > 0. At t = 0 it never reaches pure noise: α_0 = exp(−(β_min + β_max)/4) > 0.
/// The constructor accepts the parameters only when α_0 ≤ [`ENDPOINT_TOLERANCE`]
/// (0.01), that is when β_min + β_max ≥ 4 ln 100 ≈ 18.42. The usual
/// β_min = 0.1, β_max = 20 (the [`Default`]) gives α_0 ≈ 0.0066.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariancePreserving {
    beta_min: f64,
    beta_max: f64,
}

impl VariancePreserving {
    /// A VP schedule with noise rates β_min (at the data end) and β_max (at the noise end).
    ///
    /// Errors: [`Error::InvalidParameter`] unless both are finite,
    /// 0 ≤ β_min < β_max, and the path starts within [`ENDPOINT_TOLERANCE`] of
    /// noise (β_min + β_max ≥ 4 ln(1/0.01) ≈ 18.42).
    pub fn new(beta_min: f64, beta_max: f64) -> Result<Self> {
        let what = "VariancePreserving scheduler parameters";
        if !(beta_min.is_finite() && beta_max.is_finite()) {
            return Err(Error::invalid(
                what,
                format!("beta_min = {beta_min}, beta_max = {beta_max}; both must be finite (typical: 0.1 and 20)"),
            ));
        }
        if !(0.0 <= beta_min && beta_min < beta_max) {
            return Err(Error::invalid(
                what,
                format!(
                    "beta_min = {beta_min}, beta_max = {beta_max}; they must satisfy 0 ≤ beta_min < beta_max \
                     (typical: 0.1 and 20)"
                ),
            ));
        }
        let s = VariancePreserving { beta_min, beta_max };
        let alpha_0 = s.eval(0.0).alpha;
        if alpha_0 > ENDPOINT_TOLERANCE {
            let needed = 4.0 * (1.0 / ENDPOINT_TOLERANCE).ln() - beta_min;
            return Err(Error::invalid(
                what,
                format!(
                    "with beta_min = {beta_min}, beta_max = {beta_max} the path does not start at noise: \
                     α_0 = exp(−(beta_min + beta_max)/4) = {alpha_0:.4} > {ENDPOINT_TOLERANCE}. \
                     Raise beta_max to at least {needed:.3} (typical: 20)"
                ),
            ));
        }
        validate_endpoints(&s)?;
        Ok(s)
    }

    /// β_min, the noise rate at the data end (t = 1).
    pub fn beta_min(&self) -> f64 {
        self.beta_min
    }

    /// β_max, the noise rate at the noise end (t = 0).
    pub fn beta_max(&self) -> f64 {
        self.beta_max
    }
}

impl Default for VariancePreserving {
    /// β_min = 0.1, β_max = 20 (the values of the VP-SDE paper).
    fn default() -> Self {
        VariancePreserving { beta_min: 0.1, beta_max: 20.0 }
    }
}

impl VariancePreserving {
    /// The noise rate β(s) = β_min + (β_max − β_min) s at **diffusion** time s (s = 0 data, s = 1 noise).
    pub fn beta(&self, s: f64) -> f64 {
        self.beta_min + (self.beta_max - self.beta_min) * s
    }

    /// The integrated rate T(s) = ∫₀ˢ β(r) dr = β_min s + ½ (β_max − β_min) s² at **diffusion** time s.
    pub fn integrated_beta(&self, s: f64) -> f64 {
        self.beta_min * s + 0.5 * (self.beta_max - self.beta_min) * s * s
    }
}

impl Scheduler for VariancePreserving {
    fn eval(&self, t: f64) -> SchedulerOutput {
        let s = to_diffusion(t);
        let big_t = self.integrated_beta(s);
        let rate = self.beta(s);
        let alpha = (-0.5 * big_t).exp();
        // 1 − α² = 1 − exp(−T), computed without cancellation near t = 1.
        let sigma = (-(-big_t).exp_m1()).max(0.0).sqrt();
        let d_alpha = 0.5 * rate * alpha;
        let d_sigma = if sigma > 0.0 {
            -alpha * alpha * rate / (2.0 * sigma)
        } else if self.beta_min > 0.0 {
            // σ ≈ √(β_min s) near s = 0: the derivative blows up.
            f64::NEG_INFINITY
        } else {
            // β_min = 0: σ ≈ √(β_max / 2) s near s = 0.
            -(0.5 * self.beta_max).sqrt()
        };
        SchedulerOutput { alpha, sigma, d_alpha, d_sigma }
    }
    fn name(&self) -> String {
        format!("VariancePreserving(beta_min={}, beta_max={})", self.beta_min, self.beta_max)
    }
}

/// Linear variance-preserving schedule: α_t = t, σ_t = √(1 − t²).
///
/// ```text
/// α_t = t,  σ_t = √(1 − t²),  α̇_t = 1,  σ̇_t = −t / √(1 − t²)
/// ```
///
/// α_t² + σ_t² = 1; σ̇_1 = −∞.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinearVP;

impl Scheduler for LinearVP {
    fn eval(&self, t: f64) -> SchedulerOutput {
        // (1 − t)(1 + t) keeps precision near t = 1.
        let sigma = ((1.0 - t) * (1.0 + t)).sqrt();
        SchedulerOutput { alpha: t, sigma, d_alpha: 1.0, d_sigma: -t / sigma }
    }
    fn name(&self) -> String {
        "LinearVP".into()
    }
}

/// Cosine schedule: α_t = sin(πt/2), σ_t = cos(πt/2).
///
/// ```text
/// α_t = sin(πt/2),  σ_t = cos(πt/2),  α̇_t = (π/2) cos(πt/2),  σ̇_t = −(π/2) sin(πt/2)
/// ```
///
/// α_t² + σ_t² = 1 and both endpoints are exact (σ is computed as
/// sin(π(1 − t)/2) so that σ_1 is exactly 0).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cosine;

impl Scheduler for Cosine {
    fn eval(&self, t: f64) -> SchedulerOutput {
        let alpha = (FRAC_PI_2 * t).sin();
        let sigma = (FRAC_PI_2 * (1.0 - t)).sin();
        SchedulerOutput { alpha, sigma, d_alpha: FRAC_PI_2 * sigma, d_sigma: -FRAC_PI_2 * alpha }
    }
    fn name(&self) -> String {
        "Cosine".into()
    }
}

/// The Gaussian conditional OT path of Lipman et al. (2023), the "FM" of TorchCFM's
/// `TargetConditionalFlowMatcher`: straight towards the data point, with a floor σ_min of
/// noise left at the end.
///
/// ```text
/// α_t = t,  σ_t = 1 − (1 − σ_min) t,  α̇_t = 1,  σ̇_t = −(1 − σ_min)
/// x_t = t x₁ + (1 − (1 − σ_min) t) x₀,   target α̇_t x₁ + σ̇_t x₀ = x₁ − (1 − σ_min) x₀
/// ```
///
/// Given x₁, x_t ~ N(t x₁, σ_t² I) when x₀ ~ N(0, I): the path needs a standard normal
/// source. TorchCFM writes the target as (x₁ − (1 − σ_min) x_t)/σ_t, the same vector once
/// x₀ = (x_t − t x₁)/σ_t is substituted. σ_1 = σ_min is [`Scheduler::terminal_sigma`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LipmanOT {
    sigma_min: f64,
}

impl LipmanOT {
    /// The path with terminal noise σ_min.
    ///
    /// Errors: [`Error::InvalidParameter`] unless 0 ≤ σ_min < 1 (TorchCFM's 2-D runs use 0.1).
    pub fn new(sigma_min: f64) -> Result<Self> {
        if !(sigma_min.is_finite() && (0.0..1.0).contains(&sigma_min)) {
            return Err(Error::invalid(
                "LipmanOT sigma_min",
                format!("{sigma_min}: it must be finite, ≥ 0 and < 1 (0 is CondOT; TorchCFM uses 0.1)"),
            ));
        }
        Ok(LipmanOT { sigma_min })
    }

    /// σ_min, the noise weight left at t = 1.
    pub fn sigma_min(&self) -> f64 {
        self.sigma_min
    }
}

impl Scheduler for LipmanOT {
    fn eval(&self, t: f64) -> SchedulerOutput {
        let slope = 1.0 - self.sigma_min;
        SchedulerOutput { alpha: t, sigma: 1.0 - slope * t, d_alpha: 1.0, d_sigma: -slope }
    }
    fn name(&self) -> String {
        format!("LipmanOT(σ_min={})", self.sigma_min)
    }
    fn terminal_sigma(&self) -> f64 {
        self.sigma_min
    }
}
