//! Fields whose Jacobian is known in closed form: closures that return it, and the exact
//! marginal velocity of [`crate::marginal`].
//!
//! ```text
//! J ε = (∂v/∂x) ε,        ∇·v = tr ∂v/∂x,        J row-major: J[a·d + b] = ∂v_a/∂x_b
//! ```

use super::Divergence;
use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::marginal::Marginal;
use crate::path::Scheduler;
use crate::points::Points;

/// A field given point by point together with its Jacobian: `f(x, t)` returns
/// `(v, J)` with `J` row-major d × d (`J[a·d + b] = ∂v_a/∂x_b`). Build it with [`with_jacobian`].
#[derive(Clone, Copy)]
pub struct WithJacobian<F> {
    dim: usize,
    f: F,
}

/// Wraps `|x: &[f64], t: f64| -> (Vec<f64>, Vec<f64>)`, the velocity and its row-major
/// d × d Jacobian at one point, as a field with an exact divergence.
///
/// ```
/// use flowmatch::likelihood::{with_jacobian, Divergence};
/// use flowmatch::Points;
/// // v(x) = (−x₂, x₁): a rotation, divergence 0.
/// let rot = with_jacobian(2, |x: &[f64], _t| (vec![-x[1], x[0]], vec![0.0, -1.0, 1.0, 0.0]));
/// let x = Points::from_rows(&[[1.0, 2.0]]).unwrap();
/// let (v, div) = rot.divergence(&x, 0.0).unwrap();
/// assert_eq!((v.row(0), div[0]), (&[-2.0, 1.0][..], 0.0));
/// ```
pub fn with_jacobian<F: Fn(&[f64], f64) -> (Vec<f64>, Vec<f64>)>(dim: usize, f: F) -> WithJacobian<F> {
    WithJacobian { dim, f }
}

impl<F: Fn(&[f64], f64) -> (Vec<f64>, Vec<f64>)> WithJacobian<F> {
    /// Velocity and Jacobian at one point, with their lengths checked.
    fn at(&self, x: &[f64], t: f64) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.dim;
        if x.len() != d {
            return Err(Error::shape(
                "the points given to a field with a Jacobian",
                format!("points of dimension {d}"),
                format!("dimension {}", x.len()),
            ));
        }
        let (v, j) = (self.f)(x, t);
        if v.len() != d || j.len() != d * d {
            return Err(Error::shape(
                "what a with_jacobian closure returns",
                format!("a velocity of {d} numbers and a row-major {d} × {d} Jacobian ({} numbers)", d * d),
                format!("{} and {} numbers", v.len(), j.len()),
            ));
        }
        Ok((v, j))
    }
}

impl<F: Fn(&[f64], f64) -> (Vec<f64>, Vec<f64>)> VectorField for WithJacobian<F> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let t = t.rows(x.len(), "a field with a Jacobian")?;
        for (i, (xi, oi)) in x.rows().zip(out.rows_mut()).enumerate() {
            oi.copy_from_slice(&self.at(xi, t.at(i))?.0);
        }
        Ok(())
    }
}

impl<F: Fn(&[f64], f64) -> (Vec<f64>, Vec<f64>)> Divergence for WithJacobian<F> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        let d = self.dim;
        for i in 0..x.len() {
            let (vi, j) = self.at(x.row(i), t)?;
            v.row_mut(i).copy_from_slice(&vi);
            for (e, out) in probes.iter().zip(jv.iter_mut()) {
                apply(&j, e.row(i), out.row_mut(i), d);
            }
        }
        Ok(())
    }

    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        let d = self.dim;
        for (i, di) in div.iter_mut().enumerate().take(x.len()) {
            let (vi, j) = self.at(x.row(i), t)?;
            v.row_mut(i).copy_from_slice(&vi);
            *di = (0..d).map(|a| j[a * d + a]).sum();
        }
        Ok(())
    }
}

/// `out = J e` for a row-major d × d matrix `J`.
fn apply(j: &[f64], e: &[f64], out: &mut [f64], d: usize) {
    for (a, o) in out.iter_mut().enumerate() {
        *o = j[a * d..(a + 1) * d].iter().zip(e).map(|(p, q)| p * q).sum();
    }
}

/// The exact marginal velocity u_t of a point set or a Gaussian mixture, with its closed-form
/// Jacobian ([`Marginal::velocity_jacobian`]): the likelihood of the true marginal flow.
impl<S: Scheduler> Divergence for Marginal<S> {
    fn dim(&self) -> usize {
        Marginal::dim(self)
    }

    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        let d = Marginal::dim(self);
        let (u, jac) = self.velocity_jacobian(x, t)?;
        v.as_mut_slice().copy_from_slice(u.as_slice());
        for (e, out) in probes.iter().zip(jv.iter_mut()) {
            for i in 0..x.len() {
                apply(&jac[i * d * d..(i + 1) * d * d], e.row(i), out.row_mut(i), d);
            }
        }
        Ok(())
    }

    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        let d = Marginal::dim(self);
        let (u, jac) = self.velocity_jacobian(x, t)?;
        v.as_mut_slice().copy_from_slice(u.as_slice());
        for (i, o) in div.iter_mut().enumerate() {
            *o = (0..d).map(|a| jac[i * d * d + a * d + a]).sum();
        }
        Ok(())
    }
}
