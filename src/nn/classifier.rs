//! A small digit classifier: the yardstick of generated digits (class accuracy, Fréchet distance).
//!
//! ```text
//! h₁ = SiLU(x W₁ + b₁),   φ(x) = h₂ = SiLU(h₁ W₂ + b₂),   logits = φ(x) W₃ + b₃,   ŷ(x) = argmax logits
//! trained by   min  −(1/n) Σᵢ log softmax(logits(xᵢ))_{yᵢ}   (Adam, minibatches of the training split)
//! class accuracy(samples, y) = (1/n) Σᵢ 1[ŷ(xᵢ) = yᵢ]
//! Fréchet(a, b) = d²_F(φ(a), φ(b))  (Gaussians fitted to the features; FID of Heusel et al. 2017)
//! ```
//!
//! [`DigitClassifier`] is an MLP on the 64 pixels of a digit (pixels in [−1, 1]), on dfdx's tape
//! with run-time shapes; the penultimate layer φ (the features) is where the Fréchet distance is
//! measured ([`crate::metrics::frechet_distance`]). Training is deterministic under its seed: the
//! initial weights and the order of the minibatches come from it. The shipped weights
//! (`checkpoints/digits/classifier.safetensors`, [`DigitClassifier::shipped`]) were made by
//! `cargo run --release --example digit_classifier`.

use super::checkpoint::{self, CheckpointMeta, FORMAT_VERSION};
use super::optim::{AdamState, OptimizerConfig};
use crate::data::{Digits, DIGIT_CLASSES, DIGIT_PIXELS};
use crate::error::{Error, Result};
use crate::field::Model;
use crate::guidance::{balanced_labels, sample};
use crate::metrics::{accuracy, frechet_distance};
use crate::points::Points;
use crate::solver::Method;
use dfdx::losses::cross_entropy_with_logits_loss;
use dfdx::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The model name a classifier checkpoint records.
const MODEL_NAME: &str = "DigitClassifier";

/// Where the shipped classifier lies in the repository.
pub const SHIPPED_CLASSIFIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/checkpoints/digits/classifier.safetensors");

type P2 = Tensor<(usize, usize), f32, Cpu>;
/// A run-time-shaped matrix on the CPU with the tape `T`.
type M<T> = Tensor<(usize, usize), f32, Cpu, T>;

/// What a [`DigitClassifier`] is built and trained with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// Width of the first hidden layer.
    pub hidden: usize,
    /// Width of the feature layer φ (the space of the Fréchet distance).
    pub features: usize,
    /// Passes over the training split.
    pub epochs: usize,
    /// Images per minibatch.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Standard deviation of the Gaussian noise added to the training pixels (0: none); a little
    /// makes the classifier less brittle on generated digits.
    pub noise: f64,
    /// The seed of the initial weights, the minibatch order and the noise.
    pub seed: u64,
}

impl Default for ClassifierConfig {
    /// 64 → 256 → 64 → 10, 150 epochs of minibatches of 64, lr 1e-3, pixel noise 0.3, seed 0.
    fn default() -> Self {
        ClassifierConfig { hidden: 256, features: 64, epochs: 150, batch: 64, lr: 1e-3, noise: 0.3, seed: 0 }
    }
}

impl ClassifierConfig {
    /// Errors unless the sizes and the training settings make sense.
    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 || self.features == 0 || self.batch == 0 {
            return Err(Error::invalid(
                "classifier sizes",
                "hidden, features and batch must be at least 1 (try 256, 64, 64)",
            ));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::invalid("classifier noise", format!("{} must be finite and ≥ 0", self.noise)));
        }
        OptimizerConfig { lr: self.lr, ..Default::default() }.validate()
    }
}

/// What [`DigitClassifier::score`] measures on the guided samples of one setting.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitScore {
    /// The guidance scale.
    pub w: f64,
    /// Midpoint steps (2 evaluations of the guided field each, so NFE = 2 steps; each guided
    /// evaluation is itself two passes of the model, with and without the label).
    pub steps: usize,
    /// The share of samples the classifier assigns to the digit asked for.
    pub class_accuracy: f64,
    /// The Fréchet distance between the samples and the real test digits, in the classifier's features.
    pub frechet: f64,
    /// Seconds spent sampling.
    pub seconds: f64,
}

/// An MLP digit classifier with a feature layer (see the module docs for the equations).
///
/// ```no_run
/// use flowmatch::nn::DigitClassifier;
/// use flowmatch::data::Digits;
/// let clf = DigitClassifier::shipped().unwrap();
/// let test = Digits::test().unwrap();
/// let acc = clf.class_accuracy(test.images(), test.labels()).unwrap();
/// assert!(acc > 0.9);
/// ```
#[derive(Clone)]
pub struct DigitClassifier {
    config: ClassifierConfig,
    names: Vec<String>,
    /// W₁, b₁, W₂, b₂, W₃, b₃ (W stored in × out, b as 1 × out).
    params: Vec<P2>,
}

impl std::fmt::Debug for DigitClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DigitClassifier({:?}, {} parameters)", self.config, self.num_params())
    }
}

impl DigitClassifier {
    /// A classifier with fresh weights drawn from `config.seed` (PyTorch's default uniform ±1/√fan-in).
    pub fn new(config: ClassifierConfig) -> Result<DigitClassifier> {
        config.validate()?;
        let dev = Cpu::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
        let mut names = Vec::new();
        let mut params = Vec::new();
        for (k, (i, o)) in
            [(DIGIT_PIXELS, config.hidden), (config.hidden, config.features), (config.features, DIGIT_CLASSES)]
                .into_iter()
                .enumerate()
        {
            let bound = 1.0 / (i as f32).sqrt();
            for (suffix, rows) in [("weight", i), ("bias", 1)] {
                let v: Vec<f32> = (0..rows * o).map(|_| rng.gen_range(-bound..bound)).collect();
                params.push(dev.tensor_from_vec(v, (rows, o)));
                names.push(format!("layer{}.{suffix}", k + 1));
            }
        }
        Ok(DigitClassifier { config, names, params })
    }

    /// Trains a classifier on the training split of the digits ([`Digits::train`]) with Adam on the
    /// cross-entropy, `config.epochs` passes in seeded minibatches; deterministic under `config.seed`.
    pub fn train(config: ClassifierConfig) -> Result<DigitClassifier> {
        let mut clf = DigitClassifier::new(config)?;
        let data = Digits::train()?;
        let c = clf.config.clone();
        let opt = OptimizerConfig { lr: c.lr, ..Default::default() }.adam();
        let mut states: Vec<AdamState> = clf.params.iter().map(|p| AdamState::new(p.shape().0 * p.shape().1)).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(c.seed.wrapping_add(1));
        let noise = rand_distr::Normal::new(0.0, c.noise.max(f64::MIN_POSITIVE))
            .map_err(|e| Error::invalid("noise", e.to_string()))?;
        let mut order: Vec<usize> = (0..data.len()).collect();
        let dev = Cpu::default();
        for _ in 0..c.epochs {
            order.shuffle(&mut rng);
            for idx in order.chunks(c.batch) {
                let mut x: Vec<f32> = data.images().select(idx).to_f32();
                if c.noise > 0.0 {
                    x.iter_mut().for_each(|v| *v += rng.sample(noise) as f32);
                }
                let mut y = vec![0.0f32; idx.len() * DIGIT_CLASSES];
                for (r, &i) in idx.iter().enumerate() {
                    y[r * DIGIT_CLASSES + data.labels()[i]] = 1.0;
                }
                let x = dev.tensor_from_vec(x, (idx.len(), DIGIT_PIXELS)).traced(Gradients::leaky());
                let y = dev.tensor_from_vec(y, (idx.len(), DIGIT_CLASSES));
                let (_, logits) = clf.forward(x);
                let grads = cross_entropy_with_logits_loss(logits, y).backward();
                for (p, st) in clf.params.iter_mut().zip(states.iter_mut()) {
                    let g = grads.get(&*p).as_vec();
                    let mut v = p.as_vec();
                    st.step(&mut v, &g, &opt);
                    p.copy_from(&v);
                }
            }
        }
        Ok(clf)
    }

    /// The classifier shipped in the repository (`checkpoints/digits/classifier.safetensors`).
    ///
    /// Errors: [`Error::Io`] when the file is missing (remake it with the command in
    /// `checkpoints/digits/README.md`), [`Error::Checkpoint`] when it cannot be used.
    pub fn shipped() -> Result<DigitClassifier> {
        DigitClassifier::load(SHIPPED_CLASSIFIER)
    }

    /// Its configuration.
    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    /// The number of parameters.
    pub fn num_params(&self) -> usize {
        self.params.iter().map(|p| p.shape().0 * p.shape().1).sum()
    }

    /// `x W + b` (the bias enters as 1 b, so it gets its gradient on the tape).
    fn dense<T: Tape<f32, Cpu> + Merge<T> + Merge<NoneTape>>(
        &self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
        k: usize,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let ones = x.device().ones_like(&(x.shape().0, 1)).retaped::<T>();
        x.matmul(self.params[2 * k].clone()) + ones.matmul(self.params[2 * k + 1].clone())
    }

    /// The features φ(x) (no tape) and the logits, with the tape of `x`.
    fn forward<T: Tape<f32, Cpu> + Merge<T> + Merge<NoneTape>>(
        &self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
    ) -> (Vec<f32>, M<T>) {
        let silu = |z: Tensor<(usize, usize), f32, Cpu, T>| z.with_empty_tape().sigmoid() * z;
        let h = silu(self.dense(x, 0));
        let phi = silu(self.dense(h, 1));
        (phi.as_vec(), self.dense(phi, 2))
    }

    /// Errors unless `x` holds digits (64 finite pixels per row, at least one row).
    fn check(&self, x: &Points) -> Result<()> {
        if x.dim() != DIGIT_PIXELS {
            return Err(Error::shape(
                "the images given to the digit classifier",
                format!("{DIGIT_PIXELS} pixels per row (8 × 8 digits, flattened row by row)"),
                format!("{} numbers per row", x.dim()),
            ));
        }
        if x.is_empty() {
            return Err(Error::ZeroCount { what: "the images given to the digit classifier".into() });
        }
        x.check_finite("the images given to the digit classifier")
    }

    /// The features φ(x) and logits of every row, without a tape.
    fn eval(&self, x: &Points) -> Result<(Points, Points)> {
        self.check(x)?;
        let dev = Cpu::default();
        let (phi, logits) = self.forward(dev.tensor_from_vec(x.to_f32(), (x.len(), DIGIT_PIXELS)));
        Ok((
            Points::from_f32(x.len(), self.config.features, &phi)?,
            Points::from_f32(x.len(), DIGIT_CLASSES, &logits.as_vec())?,
        ))
    }

    /// The features φ(x) of every row (n × `features`), where the Fréchet distance is measured.
    pub fn features(&self, x: &Points) -> Result<Points> {
        Ok(self.eval(x)?.0)
    }

    /// The logits of every row (n × 10).
    pub fn logits(&self, x: &Points) -> Result<Points> {
        Ok(self.eval(x)?.1)
    }

    /// The predicted digit ŷ(x) = argmax logits of every row (the first on a tie).
    pub fn predict(&self, x: &Points) -> Result<Vec<usize>> {
        Ok(self
            .logits(x)?
            .rows()
            .map(|r| r.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (k, &v)| if v > b.1 { (k, v) } else { b }).0)
            .collect())
    }

    /// The share of rows the classifier assigns to the digit in `labels`: (1/n) Σᵢ 1[ŷ(xᵢ) = yᵢ].
    /// For guided samples, `labels` are the digits asked for (class accuracy); for real images,
    /// their true digits (test accuracy).
    ///
    /// Errors: those of [`DigitClassifier::predict`] and [`accuracy`] (one label per row).
    pub fn class_accuracy(&self, samples: &Points, labels: &[usize]) -> Result<f64> {
        accuracy(&self.predict(samples)?, labels)
    }

    /// The accuracy on the held-out test split ([`Digits::test`]).
    pub fn test_accuracy(&self) -> Result<f64> {
        let test = Digits::test()?;
        self.class_accuracy(test.images(), test.labels())
    }

    /// The Fréchet distance between two sets of digits in the classifier's feature space:
    /// d²_F(φ(a), φ(b)) ([`frechet_distance`]); 0 for a set against itself.
    pub fn frechet(&self, samples_a: &Points, samples_b: &Points) -> Result<f64> {
        frechet_distance(&self.features(samples_a)?, &self.features(samples_b)?)
    }

    /// Guided samples of `model` judged by this classifier: `per_class` digits of each class,
    /// sampled with scale `w` in `steps` midpoint steps from seeded noise
    /// ([`crate::guidance::sample`]), then their class accuracy (the share classified as the
    /// digit asked for) and their Fréchet distance to the real test digits ([`Digits::test`]).
    ///
    /// Errors: those of the sampler (a model without 10 classes, steps = 0) and of the measures.
    pub fn score(&self, model: &dyn Model, w: f64, steps: usize, per_class: usize, seed: u64) -> Result<DigitScore> {
        if model.classes() != Some(DIGIT_CLASSES) {
            return Err(Error::invalid(
                "the model to score",
                format!("it has {:?} classes; the digits need a model conditional on 10", model.classes()),
            ));
        }
        let labels = balanced_labels(DIGIT_CLASSES, per_class);
        let t0 = std::time::Instant::now();
        let x = sample(model, labels.clone(), w, steps, Method::Midpoint, seed)?;
        let seconds = t0.elapsed().as_secs_f64();
        Ok(DigitScore {
            w,
            steps,
            class_accuracy: self.class_accuracy(&x, &labels)?,
            frechet: self.frechet(&x, Digits::test()?.images())?,
            seconds,
        })
    }

    /// Saves weights and configuration to `path` (safetensors, atomically), recording `training` (JSON).
    pub fn save(&self, path: impl AsRef<std::path::Path>, training: Option<serde_json::Value>) -> Result<()> {
        let c = &self.config;
        let meta = CheckpointMeta {
            format: FORMAT_VERSION,
            model: MODEL_NAME.into(),
            shape: HashMap::from([("hidden".to_string(), c.hidden), ("features".to_string(), c.features)]),
            model_config: serde_json::to_value(c)
                .map_err(|e| Error::invalid("classifier configuration", e.to_string()))?,
            training,
            steps: 0,
        };
        checkpoint::save_named(&self.names, &self.params, &meta, path)
    }

    /// A classifier with the configuration and weights saved in `path` by [`DigitClassifier::save`].
    ///
    /// Errors: [`Error::Io`] for a missing file; [`Error::Checkpoint`] for a file of another
    /// format version or model, or one whose tensors do not match its configuration.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<DigitClassifier> {
        Ok(checkpoint::load_named(path.as_ref(), MODEL_NAME, "digit classifier", DigitClassifier::new)?.0)
    }
}

impl checkpoint::NamedParams for DigitClassifier {
    fn named_params(&mut self) -> (&[String], &mut [checkpoint::Param]) {
        (&self.names, &mut self.params)
    }
}
