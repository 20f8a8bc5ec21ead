//! Conditional likelihoods log q(x | y): a conditional model's field at a fixed label is one
//! flow like any other, so the backward ODE gives its density.
//!
//! ```text
//! v(·, t | y):  x₀ ~ p₀  ↦  x₁ ~ q(· | y),
//! log q(x | y) = log p₀(x₀) − ∫₀¹ ∇·v(x_t, t | y) dt,     ∇·v(x, t | y) = tr ∂v(x, t | y)/∂x
//! ```
//!
//! The label is held fixed along the path: it is no coordinate of the state, and J is the
//! Jacobian in x alone. With y = ∅ ([`NULL_LABEL`](crate::field::NULL_LABEL)) the same model gives log q(x), the
//! density of its unconditional flow.

use super::Divergence;
use crate::error::{Error, Result};
use crate::field::{check_labels, Model, Time, VectorField};
use crate::points::Points;

/// A conditional model whose input Jacobian is available at given labels: what the
/// conditional likelihood log q(x | y) needs. [`Divergence`] on such a model is the
/// Jacobian at ∅ for every row (as `velocity(x, t, None)` is the velocity at ∅).
///
/// `labels` holds one label per row of `x` (`0..K`, or [`NULL_LABEL`](crate::field::NULL_LABEL) for ∅); `None` is ∅
/// for every row of a conditional model and the only choice for a model without classes.
/// Wrap the model in [`Given`] to hand it to [`Likelihood::log_prob`](super::Likelihood::log_prob).
pub trait ConditionalDivergence: Model + Divergence {
    /// As [`Divergence::jvp_into`], for v(x_i, t | labels\[i\]).
    ///
    /// Errors: those of [`Divergence::jvp_into`], [`Error::ShapeMismatch`] for a wrong number
    /// of labels and [`Error::InvalidParameter`] for a label outside the model's classes.
    fn jvp_given_into(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        probes: &[Points],
        v: &mut Points,
        jv: &mut [Points],
    ) -> Result<()>;

    /// As [`Divergence::divergence_into`], for v(x_i, t | labels\[i\]).
    ///
    /// Errors: as [`ConditionalDivergence::jvp_given_into`].
    fn divergence_given_into(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        v: &mut Points,
        div: &mut [f64],
    ) -> Result<()>;
}

/// The labels of a [`Given`] field.
#[derive(Clone, Debug)]
enum Labels {
    /// One label for every row.
    One(usize),
    /// Label `labels[i]` for row i.
    PerRow(Vec<usize>),
}

/// The field v(x, t | y) of a conditional model at fixed labels, itself a [`VectorField`] and
/// a [`Divergence`]: [`Likelihood::log_prob`](super::Likelihood::log_prob) on it gives
/// log q(x | y), and every solver samples q(· | y) from it.
///
/// ```
/// use flowmatch::data::StandardGaussian;
/// use flowmatch::likelihood::{Given, Likelihood};
/// use flowmatch::nn::Net;
/// use flowmatch::solver::Method;
/// use flowmatch::field::NULL_LABEL;
/// use flowmatch::Points;
/// # fn main() -> flowmatch::Result<()> {
/// let net = Net::conditional(2, 32, 3)?; // three classes (untrained here)
/// let x = Points::from_rows(&[[0.5, -1.0], [2.0, 0.0]])?;
/// let likelihood = Likelihood::new(Method::Midpoint, 10)?;
/// let source = StandardGaussian::new(2)?;
/// let given_1 = likelihood.log_prob(&Given::new(&net, 1)?, &source, &x)?;          // log q(x | y = 1)
/// let unconditional = likelihood.log_prob(&Given::new(&net, NULL_LABEL)?, &source, &x)?; // log q(x)
/// assert!(given_1.log_p.iter().chain(&unconditional.log_p).all(|l| l.is_finite()));
/// assert!(Given::new(&net, 3).is_err()); // classes are 0, 1, 2
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Given<'a> {
    model: &'a dyn ConditionalDivergence,
    labels: Labels,
}

impl<'a> Given<'a> {
    /// The model at label `label` (a class `0..K`, or [`NULL_LABEL`](crate::field::NULL_LABEL) for ∅) for every row.
    ///
    /// Errors: [`Error::InvalidParameter`] for a model without classes or a label outside them.
    pub fn new(model: &'a dyn ConditionalDivergence, label: usize) -> Result<Self> {
        Given::build(model, Labels::One(label))
    }

    /// The model at label `labels[i]` for row i (the points must then have as many rows).
    ///
    /// Errors: as [`Given::new`]; a wrong number of rows shows when the field is evaluated.
    pub fn per_row(model: &'a dyn ConditionalDivergence, labels: Vec<usize>) -> Result<Self> {
        Given::build(model, Labels::PerRow(labels))
    }

    fn build(model: &'a dyn ConditionalDivergence, labels: Labels) -> Result<Self> {
        let Some(classes) = model.classes() else {
            return Err(Error::invalid(
                "the label of a conditional likelihood",
                "the model has no class conditioning, so it has no q(x | y); use the model itself for log q(x), \
                 or build and train a conditional model (Net::conditional)",
            ));
        };
        let given = match &labels {
            Labels::One(y) => std::slice::from_ref(y),
            Labels::PerRow(l) => l.as_slice(),
        };
        check_labels(given, given.len(), classes, "a conditional likelihood")?;
        Ok(Given { model, labels })
    }

    /// The label of each of `n` rows.
    fn labels(&self, n: usize) -> Result<Vec<usize>> {
        match &self.labels {
            Labels::One(y) => Ok(vec![*y; n]),
            Labels::PerRow(l) if l.len() == n => Ok(l.clone()),
            Labels::PerRow(l) => Err(Error::shape(
                "the points a Given field is evaluated on",
                format!("{} points (one per label given to Given::per_row)", l.len()),
                format!("{n} points"),
            )),
        }
    }
}

impl VectorField for Given<'_> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let labels = self.labels(x.len())?;
        let v = self.model.velocity(x, t, Some(&labels))?;
        x.check_same_shape(out, "the output of a Given field")?;
        out.as_mut_slice().copy_from_slice(v.as_slice());
        Ok(())
    }
}

impl Divergence for Given<'_> {
    fn dim(&self) -> usize {
        Divergence::dim(self.model)
    }

    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        let labels = self.labels(x.len())?;
        self.model.jvp_given_into(x, t, Some(&labels), probes, v, jv)
    }

    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        let labels = self.labels(x.len())?;
        self.model.divergence_given_into(x, t, Some(&labels), v, div)
    }
}
