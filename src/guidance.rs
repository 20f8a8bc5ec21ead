//! Classifier-free guidance (Ho & Salimans, 2022): steer a conditional model towards a class
//! without training a classifier.
//!
//! ```text
//! Bayes:        p(x | y) ∝ p(y | x) p(x)   ⇒   ∇ log p(x | y) = ∇ log p(x) + ∇ log p(y | x)
//! guided:       p_w(x | y) ∝ p(x) p(y | x)^w
//!               ∇ log p_w(x | y) = ∇ log p(x) + w ∇ log p(y | x)
//!                                = ∇ log p(x) + w (∇ log p(x | y) − ∇ log p(x))      (no classifier needed)
//!                                = (1 − w) ∇ log p(x) + w ∇ log p(x | y)
//! velocity:     ṽ(x, t | y) = (1 − w) v(x, t | ∅) + w v(x, t | y)
//! ```
//!
//! **Why the velocity obeys the same rule.** On an affine path x_t = α_t x₁ + σ_t x₀ every
//! marginal velocity is affine in its score with coefficients that depend on t only,
//! u_t(x) = (α̇_t/α_t) x + σ_t (α̇_t σ_t/α_t − σ̇_t) ∇ log p_t(x), for the whole data and for one
//! class alike (`crate::marginal`). A combination with weights (1 − w) and w that sum to 1
//! keeps the (α̇_t/α_t) x part and mixes the scores, so mixing velocities is mixing scores.
//!
//! **One convention everywhere.** `w` is the weight of the conditional velocity:
//!
//! | w | field |
//! | --- | --- |
//! | 0 | v(x, t \| ∅): unconditional samples, the class is ignored |
//! | 1 | v(x, t \| y): plain conditional samples |
//! | > 1 | guided: the classifier term is amplified; samples crowd into the most typical part of their class |
//!
//! Meta's `flow_matching` examples write (1 + w′) v_cond − w′ v_uncond; that is this formula
//! with w = 1 + w′ (their w′ = 0 is our w = 1, plain conditional sampling).
//!
//! The conditional model learns both velocities at once when it is trained with label
//! dropout (`crate::loss::drop_labels`): ∅ is one more label. Applying the tilt p(y | x)^w
//! at every time t is a heuristic for w ≠ 1: the guided ODE does not transport noise exactly
//! to p_w(x | y), but it trades diversity (the spread of a class) for fidelity (how clearly a
//! sample belongs to its class), which [`sweep`] measures.
//!
//! [`Guided`] is itself a [`VectorField`], so every solver samples it.
//!
//! ```
//! use flowmatch::prelude::*;
//! use flowmatch::guidance::Guided;
//! # fn main() -> flowmatch::Result<()> {
//! // The exact conditional model of eight Gaussians (each component a class).
//! let exact = Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), CondOT)?;
//! let guided = Guided::new(&exact, 2, 3.0)?; // class 2, w = 3
//! let x0 = StandardGaussian::new(2)?.sample(100, 0)?;
//! let x1 = solve(&guided, &x0, &TimeGrid::uniform(0.0, 1.0, 20)?, Method::Midpoint)?.final_state;
//! assert_eq!(x1.len(), 100);
//! assert!(Guided::new(&exact, 8, 3.0).is_err()); // there is no class 8
//! assert!(Guided::new(&exact, 2, f64::NAN).is_err());
//! # Ok(())
//! # }
//! ```

use crate::data::{Dataset, StandardGaussian};
use crate::error::{Error, Result};
use crate::field::{check_labels, Model, Time, VectorField, NULL_LABEL};
use crate::metrics::{accuracy, knn_classify, spread, w2};
use crate::points::Points;
use crate::solver::{solve, Method, TimeGrid};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The guided field ṽ(x, t | y) = (1 − w) v(x, t | ∅) + w v(x, t | y) of a conditional model:
/// a [`VectorField`], so any solver samples it.
///
/// One model call per evaluation: the batch is sent twice, once labelled ∅ and once with its
/// classes (w = 0 and w = 1 need only one of the two halves).
pub struct Guided<'a> {
    model: &'a dyn Model,
    labels: Labels,
    w: f64,
}

/// The classes a guided field asks for.
enum Labels {
    /// One class for every row.
    One(usize),
    /// Class `labels[i]` for row i.
    PerRow(Vec<usize>),
}

impl<'a> Guided<'a> {
    /// Guidance towards class `label` for every row, with scale `w` (0: unconditional,
    /// 1: conditional, > 1: guided).
    ///
    /// Errors: [`Error::InvalidParameter`] for a model without classes, a label outside
    /// its classes (∅ included: guide towards a class), or a `w` that is not finite.
    pub fn new(model: &'a dyn Model, label: usize, w: f64) -> Result<Self> {
        Guided::build(model, Labels::One(label), w)
    }

    /// Guidance towards class `labels[i]` for row i (the batch the solver integrates must
    /// then have as many rows), with scale `w`.
    ///
    /// Errors: as [`Guided::new`]; a wrong number of rows shows when the field is evaluated.
    pub fn per_row(model: &'a dyn Model, labels: Vec<usize>, w: f64) -> Result<Self> {
        Guided::build(model, Labels::PerRow(labels), w)
    }

    fn build(model: &'a dyn Model, labels: Labels, w: f64) -> Result<Self> {
        if !w.is_finite() {
            return Err(Error::invalid(
                "guidance scale w",
                format!("{w} is not a finite number; use w = 0 (unconditional), 1 (conditional) or more (guided)"),
            ));
        }
        let Some(classes) = model.classes() else {
            return Err(Error::invalid(
                "guidance",
                "the model has no class conditioning; build and train a conditional model (Net::conditional) \
                 with label dropout",
            ));
        };
        let given = match &labels {
            Labels::One(y) => std::slice::from_ref(y),
            Labels::PerRow(l) => l.as_slice(),
        };
        if let Some(&y) = given.iter().find(|&&y| y == NULL_LABEL) {
            return Err(Error::invalid(
                format!("guidance label {y} (NULL_LABEL)"),
                "guidance steers towards a class; for unconditional samples use w = 0 with any class, or the model itself",
            ));
        }
        check_labels(given, given.len(), classes, "guidance")?;
        Ok(Guided { model, labels, w })
    }

    /// The guidance scale w.
    pub fn scale(&self) -> f64 {
        self.w
    }

    /// The class of each of `n` rows.
    fn labels(&self, n: usize) -> Result<Vec<usize>> {
        match &self.labels {
            Labels::One(y) => Ok(vec![*y; n]),
            Labels::PerRow(l) if l.len() == n => Ok(l.clone()),
            Labels::PerRow(l) => Err(Error::shape(
                "the points a guided field is evaluated on",
                format!("{} points (one per label given to Guided::per_row)", l.len()),
                format!("{n} points"),
            )),
        }
    }
}

/// ṽ = (1 − w) v_uncond + w v_cond, row by row: the guidance combination of two velocities.
///
/// Errors: [`Error::ShapeMismatch`] when the two differ in shape.
pub fn combine(v_uncond: &Points, v_cond: &Points, w: f64) -> Result<Points> {
    v_uncond.check_same_shape(v_cond, "the two velocities combined by guidance")?;
    let mut out = v_cond.clone();
    for (o, u) in out.as_mut_slice().iter_mut().zip(v_uncond.as_slice()) {
        *o = (1.0 - w) * u + w * *o;
    }
    Ok(out)
}

impl VectorField for Guided<'_> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let n = x.len();
        let t = t.rows(n, "a guided field")?;
        let labels = self.labels(n)?;
        let v = if self.w == 0.0 {
            self.model.velocity(x, t, None)?
        } else if self.w == 1.0 {
            self.model.velocity(x, t, Some(&labels))?
        } else {
            // One call on [x; x] labelled [∅ …; y …].
            let both = x.concat(x)?;
            let times;
            let t2 = match t {
                Time::Same(_) => t,
                Time::PerRow(ts) => {
                    times = [ts, ts].concat();
                    Time::PerRow(&times)
                }
            };
            let mut l2 = vec![NULL_LABEL; n];
            l2.extend_from_slice(&labels);
            let v = self.model.velocity(&both, t2, Some(&l2))?;
            let (uncond, cond) = v.as_slice().split_at(n * x.dim());
            let uncond = Points::new(n, x.dim(), uncond.to_vec())?;
            let cond = Points::new(n, x.dim(), cond.to_vec())?;
            combine(&uncond, &cond, self.w)?
        };
        x.check_same_shape(&v, "the velocities returned by the guided model")?;
        out.as_mut_slice().copy_from_slice(v.as_slice());
        Ok(())
    }
}

/// Labels `0, …, 0, 1, …, 1, …, K − 1`: `per_class` rows for each of `classes` classes.
pub fn balanced_labels(classes: usize, per_class: usize) -> Vec<usize> {
    (0..classes).flat_map(|k| std::iter::repeat_n(k, per_class)).collect()
}

/// Guided samples: x₀ ~ N(0, I) (seeded), then the guided ODE from t = 0 to 1 towards
/// `labels[i]` for row i, with scale `w`, in `steps` steps of `method`.
///
/// Errors: as [`Guided::per_row`] and the solver.
pub fn sample(
    model: &dyn Model,
    labels: Vec<usize>,
    w: f64,
    steps: usize,
    method: Method,
    seed: u64,
) -> Result<Points> {
    let x0 = StandardGaussian::new(model.dim())?.sample(labels.len(), seed)?;
    let field = Guided::per_row(model, labels, w)?;
    Ok(solve(&field, &x0, &TimeGrid::uniform(0.0, 1.0, steps)?, method)?.final_state)
}

/// How [`sweep`] measures a guided sampler.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSettings {
    /// Samples per class at every w.
    pub per_class: usize,
    /// Solver steps from t = 0 to 1.
    pub steps: usize,
    /// The solver.
    pub method: Method,
    /// Labelled data points the k-NN classifier compares with.
    pub reference: usize,
    /// Neighbours k of the k-NN classifier.
    pub neighbours: usize,
    /// Seed of the noise x₀ (the same at every w) and of the fresh data draws.
    pub seed: u64,
    /// Print one line per w.
    pub progress: bool,
}

impl Default for SweepSettings {
    /// 250 samples per class, 25 midpoint steps, a 15-NN classifier on 4 000 data points.
    fn default() -> Self {
        SweepSettings {
            per_class: 250,
            steps: 25,
            method: Method::Midpoint,
            reference: 4000,
            neighbours: 15,
            seed: 0,
            progress: true,
        }
    }
}

/// What guided sampling at one scale w gives, averaged over the classes.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The guidance scale.
    pub w: f64,
    /// The share of samples whose k-NN class (against labelled data) is the class asked for:
    /// the samples that land in the requested mode.
    pub accuracy: f64,
    /// The same share for each class.
    pub class_accuracy: Vec<f64>,
    /// W2 between the samples of a class and as many fresh draws of that class, mean over classes.
    pub w2: f64,
    /// W2 between two fresh draws of a class of that size, mean over classes: the sampling-noise floor.
    pub w2_floor: f64,
    /// Spread (tr Cov) of the samples of a class over that of fresh draws, mean over classes:
    /// 1 keeps the class's diversity, below 1 loses some.
    pub spread_ratio: f64,
}

/// Samples a conditional model with guidance at every scale in `ws` (the same noise for all)
/// and measures, per w: the share of samples that land in the class asked for (k-NN against
/// labelled draws of `data`), W2 against fresh draws of that class, and the spread ratio.
///
/// `data` must be the dataset the model was trained on, with as many classes.
///
/// Errors: [`Error::InvalidParameter`] when the model's classes and the data's differ, and
/// those of [`Guided`], the solver and the metrics.
pub fn sweep(model: &dyn Model, data: &dyn Dataset, ws: &[f64], settings: &SweepSettings) -> Result<Vec<SweepRow>> {
    let classes = data.num_classes();
    if model.classes() != Some(classes) {
        return Err(Error::invalid(
            "guidance sweep",
            format!(
                "the data '{}' has {classes} classes but the model has {}; sweep the dataset the model was trained on",
                data.name(),
                model.classes().map_or("no class conditioning".into(), |c| format!("{c} classes")),
            ),
        ));
    }
    let mut rng = StdRng::seed_from_u64(settings.seed ^ 0x05EE_D0FC_1A55);
    let (reference, ref_labels) = data.sample_labeled_with(settings.reference, &mut rng)?;
    let m = settings.per_class;
    let fresh = (0..classes)
        .map(|k| Ok((data.sample_class_with(k, m, &mut rng)?, data.sample_class_with(k, m, &mut rng)?)))
        .collect::<Result<Vec<_>>>()?;
    let floor = mean(fresh.iter().map(|(a, b)| w2(a, b)))?;
    let data_spread: Vec<f64> = fresh.iter().map(|(a, _)| spread(a)).collect::<Result<_>>()?;
    let labels = balanced_labels(classes, m);
    let mut rows = Vec::with_capacity(ws.len());
    for &w in ws {
        let x = sample(model, labels.clone(), w, settings.steps, settings.method, settings.seed)?;
        let predicted = knn_classify(&reference, &ref_labels, &x, settings.neighbours)?;
        let class_accuracy = (0..classes)
            .map(|k| accuracy(&predicted[k * m..(k + 1) * m], &labels[k * m..(k + 1) * m]))
            .collect::<Result<Vec<_>>>()?;
        let of_class = |k: usize| x.select(&(k * m..(k + 1) * m).collect::<Vec<_>>());
        let row = SweepRow {
            w,
            accuracy: accuracy(&predicted, &labels)?,
            class_accuracy,
            w2: mean((0..classes).map(|k| w2(&of_class(k), &fresh[k].0)))?,
            w2_floor: floor,
            spread_ratio: mean((0..classes).map(|k| Ok(spread(&of_class(k))? / data_spread[k])))?,
        };
        if settings.progress {
            println!(
                "w = {:<4} mode accuracy {:.3}   W2 {:.3} (floor {:.3})   spread ratio {:.2}",
                w, row.accuracy, row.w2, row.w2_floor, row.spread_ratio
            );
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The points (w, f(row)) of the rows of a sweep with w ≥ `from`: one curve of a figure against w,
/// e.g. `curve(&rows, |r| r.accuracy, 0.0)`.
pub fn curve(rows: &[SweepRow], f: fn(&SweepRow) -> f64, from: f64) -> Vec<(f64, f64)> {
    rows.iter().filter(|r| r.w >= from).map(|r| (r.w, f(r))).collect()
}

fn mean(values: impl Iterator<Item = Result<f64>>) -> Result<f64> {
    let v = values.collect::<Result<Vec<f64>>>()?;
    Ok(v.iter().sum::<f64>() / v.len().max(1) as f64)
}
