//! Vector fields with known formulas (and Jacobians) for the solver and likelihood exercises.
//!
//! All of them depend on t, so a step that evaluates the field at the wrong
//! time gives a different answer; one is nonlinear in x, so a step that
//! combines its stages wrongly cannot agree by accident; one mixes the
//! coordinates through a dense, non-symmetric matrix, so J ε, Jᵀ ε and the
//! diagonal of J all differ.

use crate::error::Result;
use crate::field::{Time, VectorField};
use crate::likelihood::Divergence;
use crate::points::Points;
use std::cell::Cell;

/// Which formula a [`TestField`] uses.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// u_t(x)_j = (1 + 2t) x_j + sin(3t + j): linear in x.
    Linear,
    /// u_t(x)_j = sin(x_j + 2t) − t x_{j+1} (indices wrap around): nonlinear.
    Nonlinear,
    /// u_t(x)_j = 3t² + j: depends on t only.
    TimeOnly,
    /// u_t(x)_j = (1 + t) Σ_k sin(1 + j + 2k) x_k + cos(3t + j): linear, dense, non-symmetric.
    Mixing,
}

/// A test field that counts how often it is evaluated.
pub(crate) struct TestField {
    kind: Kind,
    evals: Cell<usize>,
    /// The dimension it reports as a [`Divergence`] (the formulas work in any).
    dim: usize,
}

impl TestField {
    pub(crate) fn new(kind: Kind) -> Self {
        TestField { kind, evals: Cell::new(0), dim: 0 }
    }

    /// A test field that reports dimension `d` as a [`Divergence`].
    pub(crate) fn of_dim(kind: Kind, d: usize) -> Self {
        TestField { dim: d, ..TestField::new(kind) }
    }

    /// The formula, for messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Linear => "u_t(x)_j = (1 + 2t)·x_j + sin(3t + j)",
            Kind::Nonlinear => "u_t(x)_j = sin(x_j + 2t) − t·x_(j+1) (indices wrap around)",
            Kind::TimeOnly => "u_t(x)_j = 3t² + j",
            Kind::Mixing => "u_t(x)_j = (1 + t)·Σ_k sin(1 + j + 2k)·x_k + cos(3t + j)",
        }
    }

    /// Batch evaluations since the last [`TestField::reset`].
    pub(crate) fn evals(&self) -> usize {
        self.evals.get()
    }

    pub(crate) fn reset(&self) {
        self.evals.set(0);
    }

    /// u_t(x) for one point, without counting.
    pub(crate) fn at(&self, x: &[f64], t: f64) -> Vec<f64> {
        let d = x.len();
        (0..d)
            .map(|j| match self.kind {
                Kind::Linear => (1.0 + 2.0 * t) * x[j] + (3.0 * t + j as f64).sin(),
                Kind::Nonlinear => (x[j] + 2.0 * t).sin() - t * x[(j + 1) % d],
                Kind::TimeOnly => 3.0 * t * t + j as f64,
                Kind::Mixing => {
                    (1.0 + t) * (0..d).map(|k| (1.0 + j as f64 + 2.0 * k as f64).sin() * x[k]).sum::<f64>()
                        + (3.0 * t + j as f64).cos()
                }
            })
            .collect()
    }

    /// The Jacobian ∂u_t/∂x at one point, row-major d × d (`[a·d + b] = ∂u_a/∂x_b`), without counting.
    pub(crate) fn jacobian(&self, x: &[f64], t: f64) -> Vec<f64> {
        let d = x.len();
        let mut jac = vec![0.0; d * d];
        for a in 0..d {
            match self.kind {
                Kind::Linear => jac[a * d + a] = 1.0 + 2.0 * t,
                Kind::Nonlinear => {
                    jac[a * d + a] += (x[a] + 2.0 * t).cos();
                    jac[a * d + (a + 1) % d] -= t;
                }
                Kind::TimeOnly => {}
                Kind::Mixing => {
                    for b in 0..d {
                        jac[a * d + b] = (1.0 + t) * (1.0 + a as f64 + 2.0 * b as f64).sin();
                    }
                }
            }
        }
        jac
    }

    /// u_t(x) for a batch, without counting.
    pub(crate) fn batch(&self, x: &Points, t: f64) -> Points {
        let mut out = Points::zeros(x.len(), x.dim());
        for (xi, oi) in x.rows().zip(out.rows_mut()) {
            oi.copy_from_slice(&self.at(xi, t));
        }
        out
    }
}

impl VectorField for TestField {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let t = t.rows(x.len(), "a test field")?;
        self.evals.set(self.evals.get() + 1);
        for (i, (xi, oi)) in x.rows().zip(out.rows_mut()).enumerate() {
            oi.copy_from_slice(&self.at(xi, t.at(i)));
        }
        Ok(())
    }
}

/// The exact Jacobian of the test fields: the likelihood exercises differentiate them.
/// Each call of [`Divergence::jvp_into`] or [`Divergence::divergence_into`] counts as one evaluation.
impl Divergence for TestField {
    fn dim(&self) -> usize {
        self.dim
    }

    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        self.evals.set(self.evals.get() + 1);
        let d = x.dim();
        for i in 0..x.len() {
            v.row_mut(i).copy_from_slice(&self.at(x.row(i), t));
            let jac = self.jacobian(x.row(i), t);
            for (e, out) in probes.iter().zip(jv.iter_mut()) {
                for (a, o) in out.row_mut(i).iter_mut().enumerate() {
                    *o = (0..d).map(|b| jac[a * d + b] * e.row(i)[b]).sum();
                }
            }
        }
        Ok(())
    }

    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        self.evals.set(self.evals.get() + 1);
        let d = x.dim();
        for (i, di) in div.iter_mut().enumerate().take(x.len()) {
            v.row_mut(i).copy_from_slice(&self.at(x.row(i), t));
            let jac = self.jacobian(x.row(i), t);
            *di = (0..d).map(|a| jac[a * d + a]).sum();
        }
        Ok(())
    }
}

/// One test case of a one-step checker: field, points n, dimension d, start time t, step h.
pub(crate) type StepCase = (Kind, usize, usize, f64, f64);

/// Typical wrong results, each with what it says about a result equal to it.
pub(crate) type Suspects = Vec<(&'static str, Vec<f64>)>;

/// What tells one single-step method (Euler, midpoint) from another; see [`compare_one_step`].
pub(crate) struct OneStep {
    /// Seed of the random test points.
    pub seed: u64,
    pub cases: &'static [StepCase],
    /// The correct step from x at time t with step h.
    pub reference: fn(&TestField, &Points, f64, f64) -> Points,
    /// Typical wrong steps.
    pub suspects: fn(&TestField, &Points, f64, f64) -> Suspects,
    /// A remark on the number of field evaluations the student's step made, if it is wrong.
    pub evals_remark: fn(usize) -> Option<String>,
}

/// Compares a student's step `f(field, x, t, h)` with `spec.reference` on every case, and
/// explains the first wrong row: which typical mistake it matches, else how often the field
/// was evaluated.
pub(crate) fn compare_one_step(
    f: &dyn Fn(&dyn VectorField, &Points, f64, f64) -> Points,
    spec: &OneStep,
) -> std::result::Result<(), String> {
    use super::text;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use rand_distr::StandardNormal;

    let mut rng = StdRng::seed_from_u64(spec.seed);
    for &(kind, n, d, t, h) in spec.cases {
        let field = TestField::new(kind);
        let x = Points::from_fn(n, d, |_, _| rng.sample::<f64, _>(StandardNormal) + rng.gen::<f64>());
        let want = (spec.reference)(&field, &x, t, h);
        let got = f(&field, &x, t, h);
        let context = format!(
            "For the field {} at t = {} with h = {} ({n} point{} in {d} dimension{}),",
            field.describe(),
            text::num(t),
            text::num(h),
            if n == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" }
        );
        text::check_shape("x after the step", &got, &want, &context)?;
        if let Some(i) = text::first_bad_row(&got, &want, 1e-10) {
            let evals = field.evals();
            let suspects = (spec.suspects)(&field, &x, t, h);
            let why = text::diagnose(got.as_slice(), &suspects, 1e-10)
                .map(str::to_string)
                .or_else(|| (spec.evals_remark)(evals));
            let (g, w) = text::vector_pair(got.row(i), want.row(i));
            return Err(format!(
                "{context} row {i} of your result was {g}; expected {w} for x = {}{}.",
                text::vector(x.row(i)),
                text::remark(why.as_deref())
            ));
        }
    }
    Ok(())
}
