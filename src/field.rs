//! [`VectorField`]: anything that maps a batch of points `x` at time `t` to velocities `u_t(x)`.
//!
//! The ODE solvers integrate any `VectorField`. Closures implement it now,
//! closed-form marginal velocities implement it in `marginal`, and trained
//! models implement it in `model`, so sampling a model is just solving an ODE.

use crate::error::Result;
use crate::points::Points;

/// A time-dependent vector field `u : (x, t) ↦ u_t(x)`, evaluated on a batch.
pub trait VectorField {
    /// Writes `u_t(x_i)` for every row `x_i` of `x` into the same row of `out`.
    ///
    /// `out` has the same shape as `x`; implementations may assume it.
    fn eval_into(&self, x: &Points, t: f64, out: &mut Points) -> Result<()>;

    /// Returns `u_t(x)` for every row of `x`.
    fn eval(&self, x: &Points, t: f64) -> Result<Points> {
        let mut out = Points::zeros(x.len(), x.dim());
        self.eval_into(x, t, &mut out)?;
        Ok(out)
    }
}

impl<V: VectorField + ?Sized> VectorField for &V {
    fn eval_into(&self, x: &Points, t: f64, out: &mut Points) -> Result<()> {
        (**self).eval_into(x, t, out)
    }
}

impl<V: VectorField + ?Sized> VectorField for Box<V> {
    fn eval_into(&self, x: &Points, t: f64, out: &mut Points) -> Result<()> {
        (**self).eval_into(x, t, out)
    }
}

/// A field given point by point: `f(x, t)` returns the velocity at one point.
///
/// Build it with [`pointwise`], which lets Rust infer the closure's argument types:
/// `pointwise(|_x, t| vec![3.0 * t * t, 3.0 * t * t])`.
#[derive(Clone, Copy)]
pub struct Pointwise<F>(pub F);

/// Wraps a per-point closure `|x: &[f64], t: f64| -> Vec<f64>` as a [`VectorField`].
pub fn pointwise<F: Fn(&[f64], f64) -> Vec<f64>>(f: F) -> Pointwise<F> {
    Pointwise(f)
}

impl<F: Fn(&[f64], f64) -> Vec<f64>> VectorField for Pointwise<F> {
    fn eval_into(&self, x: &Points, t: f64, out: &mut Points) -> Result<()> {
        let d = x.dim();
        for (xi, oi) in x.rows().zip(out.rows_mut()) {
            let v = (self.0)(xi, t);
            if v.len() != d {
                return Err(crate::error::Error::shape(
                    "the velocity returned by a pointwise field",
                    format!("{d} numbers (the dimension of x)"),
                    format!("{} numbers", v.len()),
                ));
            }
            oi.copy_from_slice(&v);
        }
        Ok(())
    }
}

/// A field given on a whole batch: `f(x, t)` returns all velocities at once.
#[derive(Clone, Copy)]
pub struct Batched<F>(pub F);

/// Wraps a batch closure `|x: &Points, t: f64| -> Points` as a [`VectorField`].
pub fn batched<F: Fn(&Points, f64) -> Points>(f: F) -> Batched<F> {
    Batched(f)
}

impl<F: Fn(&Points, f64) -> Points> VectorField for Batched<F> {
    fn eval_into(&self, x: &Points, t: f64, out: &mut Points) -> Result<()> {
        let v = (self.0)(x, t);
        x.check_same_shape(&v, "the velocities returned by a batched field")?;
        out.as_mut_slice().copy_from_slice(v.as_slice());
        Ok(())
    }
}
