//! [`VectorField`]: anything that maps a batch of points `x` at times `t` to velocities `u_t(x)`,
//! and [`Model`], the contract of every trained model, `(x, t, labels) ↦ v`.
//!
//! ```text
//! u : (x, t) ↦ u_t(x) ∈ ℝᵈ,      dx/dt = u_t(x)        (what the solvers integrate)
//! v_θ : (x, t, y) ↦ v_θ(x, t | y)                     (a model; y an optional class label)
//! y ∈ {0, …, K − 1} ∪ {∅}                              (∅ = NULL_LABEL: no class, the unconditional velocity)
//! ```
//!
//! **One time convention.** A batch is evaluated either at one time for every
//! row ([`Time::Same`], what an ODE solver does) or at one time per row
//! ([`Time::PerRow`], what a training batch holds). Both go through the same
//! required method, [`VectorField::eval_into`]; [`VectorField::eval`] (one `t`)
//! and [`VectorField::eval_rows`] (a slice of times) are the conveniences.
//!
//! The ODE solvers integrate any `VectorField`. Closures implement it
//! ([`pointwise`], [`batched`]), closed-form marginal velocities implement it in
//! [`crate::marginal`], and trained models implement it in [`crate::nn`], so
//! sampling a model is just solving an ODE.

use crate::error::{Error, Result};
use crate::points::Points;

/// The times of a batch: one for every row, or one per row.
///
/// Anything that takes `impl Into<Time>` accepts `0.5`, `&[0.1, 0.9]` or `&times`
/// (a `Vec<f64>`). A one-element slice is one time for all rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Time<'a> {
    /// The same time t for every row.
    Same(f64),
    /// Time `t[i]` for row i.
    PerRow(&'a [f64]),
}

impl From<f64> for Time<'_> {
    fn from(t: f64) -> Self {
        Time::Same(t)
    }
}

impl<'a> From<&'a [f64]> for Time<'a> {
    fn from(t: &'a [f64]) -> Self {
        Time::PerRow(t)
    }
}

impl<'a> From<&'a Vec<f64>> for Time<'a> {
    fn from(t: &'a Vec<f64>) -> Self {
        Time::PerRow(t)
    }
}

impl<'a, const N: usize> From<&'a [f64; N]> for Time<'a> {
    fn from(t: &'a [f64; N]) -> Self {
        Time::PerRow(t)
    }
}

impl<'a> Time<'a> {
    /// The time of row `i`.
    pub fn at(&self, i: usize) -> f64 {
        match self {
            Time::Same(t) => *t,
            Time::PerRow(t) => t[i],
        }
    }

    /// These times checked against a batch of `n` rows: one per row, or a single
    /// time (a number or a one-element slice) for all rows, which comes back as
    /// [`Time::Same`].
    ///
    /// Errors: [`Error::ShapeMismatch`] naming `what` for any other number of times.
    pub fn rows(self, n: usize, what: &str) -> Result<Time<'a>> {
        match self {
            Time::PerRow(t) if t.len() == n => Ok(self),
            Time::PerRow(t) if t.len() == 1 => Ok(Time::Same(t[0])),
            Time::PerRow(t) => Err(Error::shape(
                format!("{what} (times)"),
                format!("{n} times (one per row) or a single time for all rows"),
                format!("{} times", t.len()),
            )),
            Time::Same(_) => Ok(self),
        }
    }

    /// One time per row, as a vector of `n` numbers (after [`Time::rows`]).
    pub fn to_vec(self, n: usize, what: &str) -> Result<Vec<f64>> {
        Ok(match self.rows(n, what)? {
            Time::Same(t) => vec![t; n],
            Time::PerRow(t) => t.to_vec(),
        })
    }
}

/// A time-dependent vector field `u : (x, t) ↦ u_t(x)`, evaluated on a batch.
pub trait VectorField {
    /// Writes `u_t(x_i)` for every row `x_i` of `x` into the same row of `out`,
    /// at `t` (one time for all rows, or one per row).
    ///
    /// `out` has the same shape as `x`; implementations may assume it. They
    /// check per-row times with [`Time::rows`].
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()>;

    /// Returns `u_t(x)` for every row of `x`, all at time `t`.
    fn eval(&self, x: &Points, t: f64) -> Result<Points> {
        let mut out = Points::zeros(x.len(), x.dim());
        self.eval_into(x, Time::Same(t), &mut out)?;
        Ok(out)
    }

    /// Returns `u_{t_i}(x_i)` for every row i of `x`: one time per row (or one for all).
    fn eval_rows(&self, x: &Points, t: &[f64]) -> Result<Points> {
        let t = Time::PerRow(t).rows(x.len(), "VectorField::eval_rows")?;
        let mut out = Points::zeros(x.len(), x.dim());
        self.eval_into(x, t, &mut out)?;
        Ok(out)
    }
}

impl<V: VectorField + ?Sized> VectorField for &V {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        (**self).eval_into(x, t, out)
    }
}

impl<V: VectorField + ?Sized> VectorField for Box<V> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        (**self).eval_into(x, t, out)
    }
}

/// The null label ∅: "no class". A row labelled `NULL_LABEL` gets the unconditional
/// velocity v(x, t | ∅) of a conditional model.
///
/// Label dropout writes it into training batches ([`crate::loss::drop_labels`]), and
/// classifier-free guidance asks for it next to the class it guides towards
/// (`crate::guidance`). A conditional model keeps one learned embedding for it, next to
/// those of its K classes.
pub const NULL_LABEL: usize = usize::MAX;

/// The contract of every trained model: `(x, t, labels) ↦ v_θ(x, t | labels)`.
///
/// A model is a [`VectorField`] too (its unconditional velocity, `labels = None`),
/// so the solvers sample it. Labels are class indices, one per row, for
/// conditional models: `0..K`, or [`NULL_LABEL`] for "no class" (the same as
/// `labels = None` for that row). A model without conditioning rejects them.
pub trait Model: VectorField {
    /// The data dimension d.
    fn dim(&self) -> usize;

    /// The number of classes K of a conditional model, `None` for a model without
    /// class conditioning.
    fn classes(&self) -> Option<usize> {
        None
    }

    /// The predicted velocity for every row of `x` at `t` (one time for all rows or
    /// one per row), conditioned on `labels[i]` when given.
    fn velocity(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points>;
}

/// Errors unless every label is a class of a model with `classes` classes (`0..K`) or
/// [`NULL_LABEL`], and there is one label per row; `what` names the model in the message.
pub fn check_labels(labels: &[usize], rows: usize, classes: usize, what: &str) -> Result<()> {
    if labels.len() != rows {
        return Err(Error::shape(
            format!("the labels passed to {what}"),
            format!("{rows} labels (one per row)"),
            format!("{} labels", labels.len()),
        ));
    }
    if let Some((i, &y)) = labels.iter().enumerate().find(|(_, &y)| y >= classes && y != NULL_LABEL) {
        return Err(Error::invalid(
            format!("label {y} (row {i}) for {what}"),
            format!(
                "the model knows {classes} classes, 0..{classes}; pass a class below {classes}, or NULL_LABEL \
                 (or None) for the unconditional velocity"
            ),
        ));
    }
    Ok(())
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
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let t = t.rows(x.len(), "a pointwise field")?;
        let d = x.dim();
        for (i, (xi, oi)) in x.rows().zip(out.rows_mut()).enumerate() {
            let v = (self.0)(xi, t.at(i));
            if v.len() != d {
                return Err(Error::shape(
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
///
/// With one time per row, rows are evaluated one at a time (all at once when
/// the times are equal).
#[derive(Clone, Copy)]
pub struct Batched<F>(pub F);

/// Wraps a batch closure `|x: &Points, t: f64| -> Points` as a [`VectorField`].
pub fn batched<F: Fn(&Points, f64) -> Points>(f: F) -> Batched<F> {
    Batched(f)
}

impl<F: Fn(&Points, f64) -> Points> VectorField for Batched<F> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let what = "the velocities returned by a batched field";
        match t.rows(x.len(), "a batched field")? {
            Time::Same(t) => {
                let v = (self.0)(x, t);
                x.check_same_shape(&v, what)?;
                out.as_mut_slice().copy_from_slice(v.as_slice());
            }
            Time::PerRow(ts) if ts.first().is_some_and(|t0| ts.iter().all(|s| s == t0)) => {
                return self.eval_into(x, Time::Same(ts[0]), out);
            }
            Time::PerRow(ts) => {
                for (i, &ti) in ts.iter().enumerate() {
                    let row = x.select(&[i]);
                    let v = (self.0)(&row, ti);
                    row.check_same_shape(&v, what)?;
                    out.row_mut(i).copy_from_slice(v.as_slice());
                }
            }
        }
        Ok(())
    }
}
