//! Fixed-step explicit Runge–Kutta methods: one step per grid interval.
//!
//! ```text
//! k_i = u(x + h Σ_{j<i} a_ij k_j, t + c_i h),   x ← x + h Σ_i b_i k_i          (Butcher tableau (a, b, c))
//! Euler: b = (1);  Midpoint: c = (0, ½), b = (0, 1);  Heun: c = (0, 1), b = (½, ½);  RK4: b = (⅙, ⅓, ⅓, ⅙)
//! ```

use super::{Recorder, Stats, TimeGrid};
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::points::Points;

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
pub(crate) struct Tableau {
    pub(crate) name: &'static str,
    pub(crate) c: &'static [f64],
    pub(crate) a: &'static [&'static [f64]],
    pub(crate) b: &'static [f64],
}

pub(crate) const EULER: Tableau = Tableau { name: "Euler", c: &[0.0], a: &[&[]], b: &[1.0] };

pub(crate) const MIDPOINT: Tableau = Tableau { name: "Midpoint", c: &[0.0, 0.5], a: &[&[], &[0.5]], b: &[0.0, 1.0] };

pub(crate) const HEUN: Tableau = Tableau { name: "Heun", c: &[0.0, 1.0], a: &[&[], &[1.0]], b: &[0.5, 0.5] };

pub(crate) const RK4: Tableau = Tableau {
    name: "RK4",
    c: &[0.0, 0.5, 0.5, 1.0],
    a: &[&[], &[0.5], &[0.0, 0.5], &[0.0, 0.0, 1.0]],
    b: &[1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0],
};

/// Fixed-step explicit Runge–Kutta stepper with reusable stage buffers.
pub(crate) struct RkStepper {
    tab: &'static Tableau,
    k: Vec<Points>,
    tmp: Points,
}

impl RkStepper {
    pub(crate) fn new(tab: &'static Tableau, n: usize, dim: usize) -> Self {
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
pub(crate) fn rk_stages<F: VectorField + ?Sized>(
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
            field.eval_into(x, Time::Same(t), &mut rest[0])?;
        } else {
            combine(tmp, x, h, a[i], done);
            field.eval_into(tmp, Time::Same(t + c[i] * h), &mut rest[0])?;
        }
    }
    Ok(())
}

/// `out = x + h Σ_j coeffs_j k_j` (zero coefficients skipped), without allocating.
pub(crate) fn combine(out: &mut Points, x: &Points, h: f64, coeffs: &[f64], k: &[Points]) {
    out.as_mut_slice().copy_from_slice(x.as_slice());
    for (&aj, kj) in coeffs.iter().zip(k) {
        if aj != 0.0 {
            out.add_scaled(h * aj, kj);
        }
    }
}

/// Row, column and value of the first NaN/inf coordinate, if any.
pub(crate) fn first_non_finite(x: &Points) -> Option<(usize, usize, f64)> {
    let d = x.dim();
    x.as_slice().iter().position(|v| !v.is_finite()).map(|k| (k / d, k % d, x.as_slice()[k]))
}

/// One step per grid interval.
pub(crate) fn run_fixed<S, F>(
    stepper: &mut S,
    field: &F,
    x: &mut Points,
    grid: &TimeGrid,
    out: &mut Recorder,
) -> Result<Stats>
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
