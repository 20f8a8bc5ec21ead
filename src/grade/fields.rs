//! Vector fields with known formulas for the solver exercises (5, 6 and 8).
//!
//! All of them depend on t, so a step that evaluates the field at the wrong
//! time gives a different answer; one is nonlinear in x, so a step that
//! combines its stages wrongly cannot agree by accident.

use crate::error::Result;
use crate::field::{Time, VectorField};
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
}

/// A test field that counts how often it is evaluated.
pub(crate) struct TestField {
    kind: Kind,
    evals: Cell<usize>,
}

impl TestField {
    pub(crate) fn new(kind: Kind) -> Self {
        TestField { kind, evals: Cell::new(0) }
    }

    /// The formula, for messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Linear => "u_t(x)_j = (1 + 2t)·x_j + sin(3t + j)",
            Kind::Nonlinear => "u_t(x)_j = sin(x_j + 2t) − t·x_(j+1) (indices wrap around)",
            Kind::TimeOnly => "u_t(x)_j = 3t² + j",
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
            })
            .collect()
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
