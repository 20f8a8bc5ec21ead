//! [`Predictor`]: a trained model read through its parametrisation, so one
//! network can be sampled as a velocity field, a score, a denoiser or a noise predictor.
//!
//! ```text
//! model output m(x, t) = ε̂ | x̂₁ | v̂ | ŝ      on the path x_t = α_t x₁ + σ_t x₀
//! ε → velocity:   v = (α̇_t/α_t) x + (σ̇_t − α̇_t σ_t/α_t) ε̂
//! ε → score:      s = −ε̂ / σ_t
//! ε → data:       x̂₁ = (x − σ_t ε̂) / α_t
//! ```

use crate::error::Result;
use crate::field::{Time, VectorField};
use crate::path::{AffinePath, Prediction, Scheduler};
use crate::points::Points;
use std::fmt;

/// A model whose output is one [`Prediction`] (ε, x̂₁, velocity or score) on an
/// affine path, with the other three computed from it.
///
/// All four are linear in each other at a fixed (x, t) (see
/// [`Prediction`] for every formula), so a network trained to predict the
/// noise ε (a diffusion model) is also a velocity field, and a Flow Matching
/// velocity model also has a score. One evaluation of the model gives all four.
///
/// A `Predictor` is itself a [`VectorField`]: its **velocity**, so the ODE
/// solvers sample it directly (for an ε-model on the VP path this is the
/// probability-flow ODE). [`Predictor::view`] gives any other prediction as a
/// field, e.g. the score that drives [`super::ReverseSde`].
///
/// ```
/// use flowmatch::diffusion::Predictor;
/// use flowmatch::path::{CondOT, Prediction};
/// use flowmatch::prelude::*;
/// # fn main() -> flowmatch::Result<()> {
/// // A stand-in "ε-network": it predicts ε̂ = x at every time.
/// let eps_net = pointwise(|x: &[f64], _t| x.to_vec());
/// let model = Predictor::new(&eps_net, CondOT, Prediction::Noise)?;
/// let x = Points::from_rows(&[[1.0, 2.0]])?;
/// // On CondOT, v = (x − ε̂)/t: here 0 everywhere.
/// assert_eq!(model.eval(&x, 0.5)?.row(0), &[0.0, 0.0]);
/// assert_eq!(model.predict(&x, 0.5, Prediction::Score)?.row(0), &[-2.0, -4.0]); // −ε̂/σ_t
/// # Ok(())
/// # }
/// ```
pub struct Predictor<'m> {
    model: Box<dyn VectorField + 'm>,
    path: AffinePath<Box<dyn Scheduler>>,
    predicts: Prediction,
}

impl<'m> Predictor<'m> {
    /// Reads `model`'s output as `predicts` on the path of `scheduler`.
    ///
    /// `model` may be borrowed (`&net`) or owned.
    ///
    /// Errors: [`crate::Error::InvalidParameter`] when the scheduler misses its endpoints.
    pub fn new(
        model: impl VectorField + 'm,
        scheduler: impl Scheduler + 'static,
        predicts: Prediction,
    ) -> Result<Self> {
        let scheduler: Box<dyn Scheduler> = Box::new(scheduler);
        Ok(Predictor { model: Box::new(model), path: AffinePath::new(scheduler)?, predicts })
    }

    /// What the model's raw output is.
    pub fn predicts(&self) -> Prediction {
        self.predicts
    }

    /// The path the model was trained on.
    pub fn path(&self) -> &AffinePath<Box<dyn Scheduler>> {
        &self.path
    }

    /// The model's raw output at (x, t): one network evaluation.
    ///
    /// Errors: the model's own errors.
    pub fn raw<'t>(&self, x: &Points, t: impl Into<Time<'t>>) -> Result<Points> {
        let mut out = Points::zeros(x.len(), x.dim());
        self.model.eval_into(x, t.into(), &mut out)?;
        Ok(out)
    }

    /// The prediction `what` at (x, t) (one time for all rows or one per row):
    /// the raw output converted with [`AffinePath::convert`].
    ///
    /// Errors: the model's errors; [`crate::Error::InvalidParameter`] where the
    /// conversion is singular (e.g. the score at t = 1, where σ_t = 0, or the data
    /// prediction from ε at a time where α_t = 0).
    pub fn predict<'t>(&self, x: &Points, t: impl Into<Time<'t>>, what: Prediction) -> Result<Points> {
        let t = t.into();
        let raw = self.raw(x, t)?;
        self.convert(x, t, &raw, what)
    }

    /// Converts a raw output `raw` of this model at (x, t) into `what`.
    ///
    /// Errors: as [`Predictor::predict`].
    pub fn convert(&self, x: &Points, t: Time<'_>, raw: &Points, what: Prediction) -> Result<Points> {
        if what == self.predicts {
            return Ok(raw.clone());
        }
        self.path.convert(x, t, raw, self.predicts, what)
    }

    /// The prediction `what` as a [`VectorField`] (e.g. the score, for a score-driven sampler).
    pub fn view(&self, what: Prediction) -> View<'_, 'm> {
        View { predictor: self, what }
    }
}

impl VectorField for Predictor<'_> {
    /// The velocity v(x, t) of the model on its path.
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        self.view(Prediction::Velocity).eval_into(x, t, out)
    }
}

impl fmt::Debug for Predictor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Predictor({} on {})", self.predicts, self.path.scheduler().name())
    }
}

/// One prediction of a [`Predictor`] as a [`VectorField`] (from [`Predictor::view`]).
#[derive(Clone, Copy)]
pub struct View<'p, 'm> {
    predictor: &'p Predictor<'m>,
    what: Prediction,
}

impl VectorField for View<'_, '_> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        self.predictor.model.eval_into(x, t, out)?;
        if self.what != self.predictor.predicts {
            let converted = self.predictor.convert(x, t, out, self.what)?;
            out.as_mut_slice().copy_from_slice(converted.as_slice());
        }
        Ok(())
    }
}
