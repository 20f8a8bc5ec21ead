//! The augmented field that the solvers integrate for a likelihood.
//!
//! ```text
//! z = (x, ℓ⁽¹⁾, …, ℓ⁽ᵐ⁾) ∈ ℝ^{d+m},    dz/dt = (v(x, t), δ⁽¹⁾(x, t), …, δ⁽ᵐ⁾(x, t))
//! exact (m = 1):        δ = ∇·v = tr ∂v/∂x
//! Hutchinson (m = k):   δ⁽ʲ⁾ = ε_jᵀ (∂v/∂x) ε_j,   ε_j fixed along the solve
//! ```
//!
//! The state is a plain `Points` with d + m columns, so the solvers need nothing new:
//! they integrate it like any other field, forwards or backwards.

use super::hutchinson::quadratic_forms;
use super::Divergence;
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::points::Points;
use std::cell::RefCell;

/// Buffers reused across evaluations.
struct Scratch {
    x: Points,
    v: Points,
    div: Vec<f64>,
    jv: Vec<Points>,
}

/// (x, ℓ) ↦ (v, ∇·v) for one field, with the probes (if any) fixed for the whole solve.
pub(super) struct Augmented<'a> {
    field: &'a dyn Divergence,
    /// Hutchinson's probes, each n × d; empty for the exact divergence.
    probes: Vec<Points>,
    scratch: RefCell<Option<Scratch>>,
}

impl<'a> Augmented<'a> {
    pub(super) fn new(field: &'a dyn Divergence, probes: Vec<Points>) -> Self {
        Augmented { field, probes, scratch: RefCell::new(None) }
    }

    /// Accumulator columns: one per probe, or one for the exact divergence.
    fn columns(&self) -> usize {
        self.probes.len().max(1)
    }

    /// z(1) = (x, 0, …, 0).
    pub(super) fn initial_state(&self, x: &Points) -> Points {
        let (n, d) = x.shape();
        let m = self.columns();
        Points::from_fn(n, d + m, |i, j| if j < d { x.row(i)[j] } else { 0.0 })
    }
}

impl VectorField for Augmented<'_> {
    fn eval_into(&self, z: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let Time::Same(t) = t.rows(z.len(), "the augmented likelihood field")? else {
            return Err(Error::invalid(
                "time of the augmented likelihood field",
                "it is evaluated at one time for all points, as an ODE solver does",
            ));
        };
        let (n, width) = z.shape();
        let m = self.columns();
        let d = width - m;
        let mut guard = self.scratch.borrow_mut();
        let s = guard.get_or_insert_with(|| Scratch {
            x: Points::zeros(n, d),
            v: Points::zeros(n, d),
            div: vec![0.0; n],
            jv: self.probes.iter().map(|_| Points::zeros(n, d)).collect(),
        });
        for (xi, zi) in s.x.rows_mut().zip(z.rows()) {
            xi.copy_from_slice(&zi[..d]);
        }
        if self.probes.is_empty() {
            self.field.divergence_into(&s.x, t, &mut s.v, &mut s.div)?;
            for ((oi, vi), di) in out.rows_mut().zip(s.v.rows()).zip(&s.div) {
                oi[..d].copy_from_slice(vi);
                oi[d] = *di;
            }
        } else {
            self.field.jvp_into(&s.x, t, &self.probes, &mut s.v, &mut s.jv)?;
            for (oi, vi) in out.rows_mut().zip(s.v.rows()) {
                oi[..d].copy_from_slice(vi);
            }
            for (j, (e, jv)) in self.probes.iter().zip(&s.jv).enumerate() {
                for (i, q) in quadratic_forms(e, jv).into_iter().enumerate() {
                    out.row_mut(i)[d + j] = q;
                }
            }
        }
        Ok(())
    }
}
