//! Exercise 7.4.3: the whole Conditional Flow Matching training loop.
//!
//! The student writes the loop that [`crate::train::Trainer`] runs, with nothing drawn for them:
//!
//! ```text
//! rng ← a generator seeded with `seed`
//! repeat `steps` times:
//!     x₀ ~ source, x₁ ~ target   (`batch` rows each, fresh every step, row i paired with row i)
//!     tᵢ ~ U(0, 1)               (one time per row)
//!     x_t,i = tᵢ x₁ᵢ + (1 − tᵢ) x₀ᵢ,   targetᵢ = x₁ᵢ − x₀ᵢ
//!     one optimiser step on (x_t, t) → target; keep the loss it reports
//! ```
//!
//! as `fn train_loop(model: &mut dyn TrainableModel, source: &dyn Dataset, target: &dyn Dataset,
//! steps: usize, batch: usize, seed: u64, opt: &OptimizerConfig) -> Result<Vec<f64>>`. The
//! datasets come in borrowed (`&dyn Dataset`), so the library's trainer, which owns `'static`
//! datasets, cannot stand in for the loop.
//!
//! # How it is graded
//!
//! **1. A model that records what it sees.** The checker passes its own [`TrainableModel`],
//! which keeps every batch handed to `train_step`, and its own datasets, which keep every row
//! they draw (in 3 dimensions, 40 steps of 64 rows). From what the model received it checks, in
//! this order, each with its own diagnosis:
//!
//! * exactly one optimiser step per step, each on a regression batch of `batch` rows, and the
//!   returned losses are the ones `train_step` reported;
//! * the times: in [0, 1], not one time for the whole batch, not the same times every step, and
//!   uniform: the Kolmogorov–Smirnov statistic of all n = 2 560 times against U(0, 1),
//!   `D = maxᵢ max(i/n − u₍ᵢ₎, u₍ᵢ₎ − (i − 1)/n)` over the sorted times u₍₁₎ ≤ … ≤ u₍ₙ₎, must
//!   have the p-value `P(K > √n D) ≥ 10⁻⁴`, with Kolmogorov's limit law
//!   `P(K > k) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² k²}`. A correct loop therefore fails this test
//!   with probability 10⁻⁴: the grader's seeds are fixed, so a given program gets the same
//!   verdict every time, and about one correct program in 10 000 (one way of consuming the
//!   generator) would be turned away;
//! * each row's x₀ is a row `source` drew and its x₁ a row `target` drew, and no noise or data
//!   row comes back in a later step (fresh batches);
//! * each row is paired: x_t,i lies at its own time on the segment from its own x₀ᵢ to x₁ᵢ, and
//!   its target is that segment's velocity, not another row's;
//! * the seed: the same seed gives the same batches, another seed other batches.
//!
//! **2. A real model on a Gaussian target.** Then the student's loop trains a fresh 1-D
//! [`Net`] (width 64, Adam with learning rate 5·10⁻³) for [`FIELD_STEPS`] steps of 1 024 pairs from N(0, 1) to N(μ, s²) (μ = 2, s = 0.5), and
//! the learned field is compared with the exact one. With independent pairs x_t is Gaussian and
//! (x₁ − x₀, x_t) jointly Gaussian, so the marginal field is a conditional mean, affine in x
//! ([`GaussianBridge`], which also covers d dimensions):
//!
//! ```text
//! x_t ~ N(tμ, σ_t²),   σ_t² = t² s² + (1 − t)²,   Cov(x₁ − x₀, x_t) = t s² − (1 − t)
//! u_t(x) = E[x₁ − x₀ | x_t = x] = μ + (t s² − (1 − t)) / σ_t² · (x − tμ)
//! ```
//!
//! [`field_error`] is the relative root-mean-square gap ‖v_θ − u‖ / ‖u‖ over a grid of 9 points
//! x = tμ + z σ_t (z from −2 to 2) at t = 0.1, 0.3, …, 0.9; it must stay below [`FIELD_TOLERANCE`].
//! A correct loop gets to 0.04–0.06 in 400 steps (five initial seeds); a loop that never draws
//! t, regresses onto the data point, flips the target or never steps stays at 0.33 or more
//! (`tests/grading.rs` checks both sides).

use super::text;
use super::{Checker, Exercise, Hints};
use crate::data::{Gaussian, StandardGaussian};
use crate::error::Error;
use crate::field::VectorField;
use crate::loss::Batch;
use crate::marginal::GaussianBridge;
use crate::nn::{MlpConfig, Net, OptimizerConfig, OptimizerKind, TrainableModel};
use crate::path::PathSample;
use crate::points::Points;
use crate::Dataset;
use rand::RngCore;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&mut dyn TrainableModel, &dyn Dataset, &dyn Dataset, usize, usize, u64, &OptimizerConfig) -> crate::Result<Vec<f64>>
    + Sync;

/// Exercise 7.4.3: `train_loop`, 20 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The whole CFM training loop: draw every batch yourself, then step",
        points: 20,
        time_limit: Duration::from_secs(60),
        hints: Hints {
            concept: "every step draws a fresh batch: noise rows from `source`, data rows from `target`, paired \
                row by row, and a time of its own for every row, uniform on [0, 1]; each row's input is its point on \
                the straight path of its own pair, its target the velocity of that same path; then exactly one \
                optimiser step, whose loss you keep. All randomness comes from one generator seeded with `seed`.",
            formula: "rng = StdRng::seed_from_u64(seed); each step: x0 = source.sample_with(batch, &mut rng)?, \
                x1 = target.sample_with(batch, &mut rng)?, t[i] = rng.gen_range(0.0..1.0); \
                x_t[i] = t[i]·x1_i + (1 − t[i])·x0_i; target[i] = x1_i − x0_i; \
                losses.push(model.train_step(&Batch::Regression(PathSample { x0, x1, t, x_t, target, labels: None }), opt)?)",
        },
        ..super::registered::train_loop
    },
    compare,
);

/// Steps of the recorded runs.
const STEPS: usize = 40;
/// Rows per batch of the recorded runs.
const BATCH: usize = 64;
/// Dimension of the recorded runs' data.
const DIM: usize = 3;
/// The Kolmogorov–Smirnov test of the times fails below this p-value.
const KS_P_MIN: f64 = 1e-4;
/// Steps of the training run on the Gaussian target.
pub const FIELD_STEPS: usize = 400;
/// Pairs per batch of the training run on the Gaussian target.
const FIELD_BATCH: usize = 1024;
/// The largest relative error of the trained field ([`field_error`]) that passes.
pub const FIELD_TOLERANCE: f64 = 0.15;
/// Mean and standard deviation of the 1-D Gaussian target.
const MU: f64 = 2.0;
const S: f64 = 0.5;

/// The bits of a row, to recognise it exactly.
fn key(row: &[f64]) -> Vec<u64> {
    row.iter().map(|v| v.to_bits()).collect()
}

/// A dataset that remembers every row it draws.
struct Recording<D> {
    inner: D,
    rows: RefCell<HashSet<Vec<u64>>>,
}

impl<D: Dataset> Recording<D> {
    fn new(inner: D) -> Self {
        Recording { inner, rows: RefCell::new(HashSet::new()) }
    }

    fn drew(&self, row: &[f64]) -> bool {
        self.rows.borrow().contains(&key(row))
    }
}

impl<D: Dataset> Dataset for Recording<D> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        self.inner.name()
    }
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> crate::Result<()> {
        self.inner.fill(out, labels, rng)?;
        self.rows.borrow_mut().extend(out.rows().map(key));
        Ok(())
    }
}

/// A model that learns nothing and keeps every batch it is asked to step on.
///
/// Its loss is that of the prediction 0, `1/(n d) Σ ‖targetᵢ‖²`, so the returned losses can be checked.
struct Recorder {
    dim: usize,
    batches: Vec<Batch>,
    reported: Vec<f64>,
    loss_calls: Cell<usize>,
}

impl Recorder {
    fn new(dim: usize) -> Self {
        Recorder { dim, batches: Vec::new(), reported: Vec::new(), loss_calls: Cell::new(0) }
    }

    fn zero_loss(batch: &Batch) -> crate::Result<f64> {
        match batch {
            Batch::Regression(s) => crate::loss::mse(&Points::zeros(s.target.len(), s.target.dim()), &s.target),
            Batch::Samples { .. } => {
                Err(Error::invalid("the batch", "the recording model learns from regression batches (path samples)"))
            }
        }
    }
}

impl TrainableModel for Recorder {
    fn dim(&self) -> usize {
        self.dim
    }
    fn loss(&self, batch: &Batch) -> crate::Result<f64> {
        self.loss_calls.set(self.loss_calls.get() + 1);
        Recorder::zero_loss(batch)
    }
    fn train_step(&mut self, batch: &Batch, _opt: &OptimizerConfig) -> crate::Result<f64> {
        self.batches.push(batch.clone());
        // A batch of the wrong kind or shape still counts as a step; the checks below name it.
        let loss = Recorder::zero_loss(batch).unwrap_or(f64::NAN);
        self.reported.push(loss);
        Ok(loss)
    }
    fn reset_optimizer(&mut self) {}
    fn num_params(&self) -> usize {
        0
    }
    fn steps_trained(&self) -> usize {
        self.batches.len()
    }
    fn save_checkpoint(&self, _path: &std::path::Path, _training: Option<serde_json::Value>) -> crate::Result<()> {
        Err(Error::invalid("save_checkpoint", "the grader's recording model has no weights to save"))
    }
}

/// What one run of the student's loop left behind.
struct Run {
    model: Recorder,
    source: Recording<Gaussian>,
    target: Recording<Gaussian>,
    returned: crate::Result<Vec<f64>>,
}

/// Runs `f` with the recording model and datasets.
fn record(f: &StudentFn, seed: u64) -> Result<Run, String> {
    let setup = |e: Error| format!("the grader could not set up its test ({e})");
    // Noise N(0, I) shifted a little, data a Gaussian elsewhere: rows of either are recognisable.
    let source = Recording::new(Gaussian::new(vec![0.0; DIM], diagonal(&[1.0; DIM])).map_err(setup)?);
    let target = Recording::new(Gaussian::new(vec![3.0, -2.0, 1.0], diagonal(&[0.25, 0.5, 0.1])).map_err(setup)?);
    let mut model = Recorder::new(DIM);
    let opt = OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 };
    let returned = f(&mut model, &source, &target, STEPS, BATCH, seed, &opt);
    Ok(Run { model, source, target, returned })
}

/// A row-major diagonal matrix.
fn diagonal(d: &[f64]) -> Vec<f64> {
    let n = d.len();
    (0..n * n).map(|k| if k / n == k % n { d[k / n] } else { 0.0 }).collect()
}

/// The path samples of a run, after checking the number of steps, the batch kinds and shapes and the losses.
fn samples(run: &Run) -> Result<Vec<&PathSample>, String> {
    let losses = match &run.returned {
        Ok(l) => l,
        Err(e) => {
            return Err(format!(
                "Your train_loop returned an error: {e}. With the grader's datasets and model it must run; \
                 pass `batch` to the datasets and the model's dimension through unchanged."
            ))
        }
    };
    let taken = run.model.batches.len();
    if taken == 0 {
        let measured = run.model.loss_calls.get();
        let how = if measured > 0 {
            format!(" (it measured the loss {measured} times with model.loss, which changes nothing)")
        } else {
            String::new()
        };
        return Err(format!(
            "For steps = {STEPS}, your loop never took an optimiser step{how}: the gradient step must be taken, \
             expected {STEPS} calls of model.train_step, one per step."
        ));
    }
    if taken != STEPS {
        return Err(format!(
            "For steps = {STEPS}, your loop took {taken} optimiser steps (calls of model.train_step); it must take \
             exactly one per step."
        ));
    }
    let mut out = Vec::with_capacity(taken);
    for (k, b) in run.model.batches.iter().enumerate() {
        let step = k + 1;
        let s = match b {
            Batch::Regression(s) => s,
            other => {
                return Err(format!(
                    "On step {step} your loop handed the model {}; expected a regression batch \
                     (Batch::Regression of a PathSample).",
                    other.kind()
                ))
            }
        };
        let n = s.x_t.len();
        if n != BATCH {
            return Err(format!("On step {step} the batch had {n} rows; expected batch = {BATCH} rows."));
        }
        for (what, p) in [("x0", &s.x0), ("x1", &s.x1), ("x_t", &s.x_t), ("target", &s.target)] {
            if p.shape() != (BATCH, DIM) {
                let (r, d) = p.shape();
                return Err(format!(
                    "On step {step} the sample's {what} had {r} rows of dimension {d}; expected {BATCH} rows of \
                     dimension {DIM}, one per row of the batch."
                ));
            }
        }
        if s.t.len() != BATCH {
            return Err(format!(
                "On step {step} the sample had {} times; expected {BATCH}, one per row.",
                s.t.len()
            ));
        }
        out.push(s);
    }
    if losses.len() != STEPS {
        return Err(format!(
            "For steps = {STEPS} your train_loop returned {} losses; expected {STEPS}, one per step.",
            losses.len()
        ));
    }
    for (k, (&got, &want)) in losses.iter().zip(&run.model.reported).enumerate() {
        if !(got == want || text::close(got, want, 1e-12)) {
            let (g, w) = text::num_pair(got, want);
            return Err(format!(
                "Loss {} of the list you returned is {g}; expected {w}, the loss model.train_step reported at that \
                 step.",
                k + 1
            ));
        }
    }
    Ok(out)
}

/// Kolmogorov's limit law: P(K > k) = 2 Σ_{j≥1} (−1)^{j−1} exp(−2 j² k²).
pub fn kolmogorov_p(k: f64) -> f64 {
    if k < 0.2 {
        return 1.0;
    }
    let s: f64 = (1..=100)
        .map(|j| {
            let j = j as f64;
            let term = (-2.0 * j * j * k * k).exp();
            if j as u64 % 2 == 1 {
                term
            } else {
                -term
            }
        })
        .sum();
    (2.0 * s).clamp(0.0, 1.0)
}

/// The Kolmogorov–Smirnov statistic of `u` against U(0, 1):
/// D = maxᵢ max(i/n − u₍ᵢ₎, u₍ᵢ₎ − (i − 1)/n) over the sorted sample (empty: 0).
pub fn ks_uniform(u: &[f64]) -> f64 {
    let mut v = u.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    v.iter().enumerate().fold(0.0, |d, (i, &x)| {
        let x = x.clamp(0.0, 1.0);
        d.max((i as f64 + 1.0) / n - x).max(x - i as f64 / n)
    })
}

/// The times: in [0, 1], one per row, new every step, uniform.
fn check_times(samples: &[&PathSample]) -> Result<(), String> {
    for (k, s) in samples.iter().enumerate() {
        if let Some((i, t)) = s.t.iter().enumerate().find(|(_, t)| !(0.0..=1.0).contains(*t)) {
            return Err(format!("On step {} row {i} has t = {}; expected a time in [0, 1].", k + 1, text::num(*t)));
        }
    }
    let shared = |s: &PathSample| s.t.iter().all(|&t| t == s.t[0]);
    if samples.iter().all(|s| shared(s)) {
        let first = samples[0].t[0];
        if samples.iter().all(|s| s.t[0] == first) {
            return Err(format!(
                "Every row of every step has t = {}: the times were never drawn. The model must see every time in \
                 [0, 1], a random one for each row, or it learns the field at one time only.",
                text::num(first)
            ));
        }
        return Err(format!(
            "Every row of a batch shares one time (step 1: all {BATCH} rows at t = {}): each row must get its \
             own time, drawn independently.",
            text::num(samples[0].t[0])
        ));
    }
    for k in 1..samples.len() {
        if samples[k].t == samples[k - 1].t {
            return Err(format!(
                "The times of step {} are exactly those of step {k}: the times must be drawn afresh every step, \
                 not once before the loop.",
                k + 1
            ));
        }
    }
    let all: Vec<f64> = samples.iter().flat_map(|s| s.t.iter().copied()).collect();
    let d = ks_uniform(&all);
    let p = kolmogorov_p((all.len() as f64).sqrt() * d);
    if p < KS_P_MIN {
        return Err(format!(
            "Your {} times are not uniform on [0, 1]: their Kolmogorov–Smirnov distance to U(0, 1) is {} (p = {}), \
             and a uniform sample this large is that far off less than once in 10 000 tries. The mean of your times \
             is {}; expected one drawn uniformly, with mean 0.5 and every part of [0, 1] equally likely.",
            all.len(),
            text::num(d),
            text::num(p),
            text::num(all.iter().sum::<f64>() / all.len() as f64),
        ));
    }
    Ok(())
}

/// Each row's x₀ comes from `source` and its x₁ from `target`, and no row returns in a later step.
fn check_draws(run: &Run, samples: &[&PathSample]) -> Result<(), String> {
    let mut seen: [HashMap<Vec<u64>, usize>; 2] = [HashMap::new(), HashMap::new()];
    for (k, s) in samples.iter().enumerate() {
        let step = k + 1;
        for (which, (name, points, own, other, own_name, role)) in [
            ("x0", &s.x0, &run.source, &run.target, "source", "noise"),
            ("x1", &s.x1, &run.target, &run.source, "target", "data"),
        ]
        .into_iter()
        .enumerate()
        {
            for (i, row) in points.rows().enumerate() {
                if !own.drew(row) {
                    let why = if other.drew(row) {
                        " (it was drawn from the other dataset: noise and data are swapped)".to_string()
                    } else {
                        String::new()
                    };
                    return Err(format!(
                        "On step {step} row {i} of the sample's {name} is not a point that `{own_name}` drew{why}; \
                         expected {name} to hold the {role} rows drawn from `{own_name}` (with the generator seeded \
                         from `seed`)."
                    ));
                }
                if let Some(&earlier) = seen[which].get(&key(row)) {
                    if earlier != step {
                        return Err(format!(
                            "The {role} of step {step} repeats rows of step {earlier}: the same {role} batch was used \
                             again. Each step must draw a fresh batch of {role} from `{own_name}`."
                        ));
                    }
                }
                seen[which].insert(key(row), step);
            }
        }
    }
    Ok(())
}

/// The rows j (of the whole batch) that `f(j)` matches `got` for, the first one.
fn matching(got: &[f64], n: usize, f: impl Fn(usize) -> Vec<f64>) -> Option<usize> {
    (0..n).find(|&j| text::all_close(got, &f(j), 1e-9))
}

/// Each row's input lies on its own pair's path at its own time, and its target is that path's velocity.
fn check_pairs(samples: &[&PathSample]) -> Result<(), String> {
    let row = |p: &Points, i: usize| p.row(i).to_vec();
    for (k, s) in samples.iter().enumerate() {
        let step = k + 1;
        let n = s.x_t.len();
        let on_path = |a: usize, b: usize, t: f64| -> Vec<f64> {
            s.x0.row(a).iter().zip(s.x1.row(b)).map(|(x0, x1)| t * x1 + (1.0 - t) * x0).collect()
        };
        let velocity = |a: usize, b: usize| -> Vec<f64> {
            s.x0.row(a).iter().zip(s.x1.row(b)).map(|(x0, x1)| x1 - x0).collect()
        };
        for i in 0..n {
            let t = s.t[i];
            let context = format!("On step {step}, row {i} (t = {}):", text::num(t));
            let got = row(&s.x_t, i);
            if !text::all_close(&got, &on_path(i, i, t), 1e-9) {
                let why = if text::all_close(&got, &on_path(i, i, 1.0 - t), 1e-9) {
                    "t and 1 − t are swapped: the path runs from the data to the noise".to_string()
                } else if let Some(j) = matching(&got, n, |j| on_path(i, j, t)) {
                    format!("it lies on the path from this row's x0 to the x1 of row {j}: x0 and x1 are paired out of step")
                } else if let Some(j) = matching(&got, n, |j| on_path(j, i, t)) {
                    format!("it lies on the path from the x0 of row {j} to this row's x1: x0 and x1 are paired out of step")
                } else {
                    "it is not on the straight path between the row's x0 and x1 at the row's own time".to_string()
                };
                return Err(format!(
                    "{context} your x_t is {}; expected the point of that row's own path at its time t ({why}).",
                    text::vector(&got)
                ));
            }
            let got = row(&s.target, i);
            let own = velocity(i, i);
            if !text::all_close(&got, &own, 1e-9) {
                let flipped: Vec<f64> = own.iter().map(|v| -v).collect();
                let why = if text::all_close(&got, &flipped, 1e-9) {
                    "the sign of the target is flipped: it points from the data to the noise".to_string()
                } else if text::all_close(&got, &row(&s.x1, i), 1e-9) {
                    "the target is the data point itself, not the velocity along the path".to_string()
                } else if let Some(j) = (0..n).find(|&j| j != i && text::all_close(&got, &velocity(j, j), 1e-9)) {
                    format!("it is the target of row {j}: x_t and the target of a row must come from the same pair")
                } else if let Some(j) = matching(&got, n, |j| velocity(i, j)).or_else(|| matching(&got, n, |j| velocity(j, i))) {
                    format!("it mixes this row's pair with row {j}: x_t and the target of a row must come from the same pair")
                } else {
                    "it is not the velocity of the path the row's x_t lies on".to_string()
                };
                return Err(format!(
                    "{context} your target is {}; expected {} ({why}).",
                    text::vector(&got),
                    text::vector(&own)
                ));
            }
        }
    }
    Ok(())
}

/// The batches of a run, for comparing runs: every time and every input.
fn fingerprint(samples: &[&PathSample]) -> Vec<u64> {
    samples.iter().flat_map(|s| s.t.iter().chain(s.x_t.as_slice()).map(|v| v.to_bits())).collect()
}

/// Trains a fresh 1-D model with `f` from N(0, 1) to N(μ, s²) and returns the relative
/// root-mean-square gap between the learned and the exact field on the grid of the module docs.
pub fn field_error(f: &StudentFn) -> Result<f64, String> {
    let setup = |e: Error| format!("the grader could not set up its test ({e})");
    let mut model = Net::mlp_with(1, 64, MlpConfig { seed: 0x7403, ..MlpConfig::default() }).map_err(setup)?;
    let source = StandardGaussian::new(1).map_err(setup)?;
    let target = Gaussian::new(vec![MU], vec![S * S]).map_err(setup)?;
    let opt = OptimizerConfig { kind: OptimizerKind::Adam, lr: 5e-3 };
    f(&mut model, &source, &target, FIELD_STEPS, FIELD_BATCH, 0x7413, &opt)
        .map_err(|e| format!("Training a 1-D model from N(0, 1) to N(2, 0.25), your train_loop returned an error: {e}."))?;
    let exact = GaussianBridge::new(&[0.0], &[1.0], &[MU], &[S * S]).map_err(setup)?;
    let (mut gap, mut size) = (0.0, 0.0);
    for t in [0.1, 0.3, 0.5, 0.7, 0.9] {
        let sd = (t * t * S * S + (1.0 - t) * (1.0 - t)).sqrt();
        let x = Points::from_fn(9, 1, |i, _| t * MU + (i as f64 / 2.0 - 2.0) * sd);
        let v = model.eval(&x, t).map_err(setup)?;
        let u = exact.eval(&x, t).map_err(setup)?;
        for (a, b) in v.as_slice().iter().zip(u.as_slice()) {
            gap += (a - b) * (a - b);
            size += b * b;
        }
    }
    let err = (gap / size).sqrt();
    Ok(if err.is_finite() { err } else { f64::INFINITY })
}

/// Runs `f` with the recording model (twice with one seed, once with another), then trains a
/// real model with it and compares the field with the exact one, on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let run = record(f, 0x7403)?;
    let first = samples(&run)?;
    check_times(&first)?;
    check_draws(&run, &first)?;
    check_pairs(&first)?;
    let again = record(f, 0x7403)?;
    if fingerprint(&samples(&again)?) != fingerprint(&first) {
        return Err("Two runs with the same seed drew different batches: expected the same run from the same \
                    seed. Take every random number from one generator seeded with `seed`."
            .into());
    }
    let other = record(f, 0x7404)?;
    if fingerprint(&samples(&other)?) == fingerprint(&first) {
        return Err("Runs with different seeds drew exactly the same batches: the generator must be seeded with \
                    `seed`, not with a number of your own."
            .into());
    }
    let err = field_error(f)?;
    if err > FIELD_TOLERANCE {
        return Err(format!(
            "Your batches look right, but after {FIELD_STEPS} steps from N(0, 1) to N(2, 0.25) the learned field is \
             off the exact one by {} % (root mean square over a grid of x and t); a correct loop gets below {} %. \
             Pass `opt` to model.train_step unchanged.",
            text::num((100.0 * err * 10.0).round() / 10.0),
            text::num(100.0 * FIELD_TOLERANCE)
        ));
    }
    Ok(())
}
