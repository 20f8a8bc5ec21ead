//! Vector fields with known formulas for the solver exercises (5, 6 and 8).
//!
//! All of them depend on t, so a step that evaluates the field at the wrong
//! time gives a different answer; one is nonlinear in x, so a step that
//! combines its stages wrongly cannot agree by accident.

use crate::error::Result;
use crate::field::VectorField;
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
    fn eval_into(&self, x: &Points, t: f64, out: &mut Points) -> Result<()> {
        self.evals.set(self.evals.get() + 1);
        for (xi, oi) in x.rows().zip(out.rows_mut()) {
            oi.copy_from_slice(&self.at(xi, t));
        }
        Ok(())
    }
}
