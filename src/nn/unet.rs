//! A small U-Net for square grey images: the velocity model of the handwritten digits.
//!
//! ```text
//! e      = SiLU(W₂ SiLU(W₁ τ(t) + b₁) + b₂ + E[y])            time and label embedding (E[∅] for no label)
//! τ(t)   = (cos 2π f_j t, sin 2π f_j t)_j,  f_j = 64^{j/(m−1)}, j = 0 … m − 1
//! R(h)   = conv₂(SiLU(conv₁(SiLU h) + A e)) + skip(h)          a residual block (skip: 1 × 1 conv or identity)
//!
//! S × S, C       h₀ = conv_in(x),   s₁ = R(h₀)                                   ─┐ skip
//! S/2 × S/2, 2C  s₂ = R(down(s₁)),  m = R(s₂)   (down: 3 × 3 conv, stride 2)  ─┐  │
//! S/2 × S/2, 2C  u₂ = R([m, s₂])                                               ◄┘  │
//! S × S, C       u₁ = R([up(u₂), s₁])   (up: nearest neighbour)                   ◄┘
//! v_θ(x, t | y) = conv_out(SiLU u₁)     (3 × 3, one channel, initialised to zero)
//! ```
//!
//! [`UNet`] keeps the one model contract `(x, t, labels) ↦ v`: a row of `x` is an S × S image
//! flattened row by row. Convolutions are the tape op of `conv.rs` (im2col + gemm, its own
//! backward), SiLU (with the embedding added per channel) that of `silu.rs`; the rest is dfdx's
//! run-time-shaped ops, so the whole network trains on dfdx's tape.
//! The parameters are plain run-time-shaped dfdx tensors, updated by the same Adam as a label
//! table (`optim.rs`), and saved with the checkpoint code ([`super::checkpoint`]). The type is
//! not generic, so notebook cells (compiled at opt-level 0) call the library's compiled code.
//! The CPU only.

use super::checkpoint::{self, CheckpointMeta, FORMAT_VERSION};
use super::conv::{conv2d, ConvShape};
use super::fused::data;
use super::optim::{AdamState, OptimizerConfig};
use super::pool;
use super::silu::{silu, silu_shift};
use super::TrainableModel;
use crate::error::{Error, Result};
use crate::field::{check_labels, Model, Time, VectorField, NULL_LABEL};
use crate::loss::Batch;
use crate::points::Points;
use dfdx::prelude::*;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The model name a U-Net checkpoint records.
const MODEL_NAME: &str = "UNet";

/// Where the shipped digits U-Net lies in the repository.
pub const SHIPPED_UNET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/checkpoints/digits/unet.safetensors");

/// Most rows per forward pass when evaluating without a tape (keeps the im2col buffers small).
const EVAL_CHUNK: usize = 256;

/// What a [`UNet`] is built with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UNetConfig {
    /// The side S of the square images (even; 8 for the digits).
    pub side: usize,
    /// The channels C at full resolution (2C at half resolution).
    pub channels: usize,
    /// The width of the time and label embedding.
    pub embed: usize,
    /// The number of time features m·2 (cosines and sines of m frequencies); even, ≥ 2.
    pub time_features: usize,
    /// The number of classes K of a conditional model (labels 0..K and ∅), `None` for an unconditional one.
    pub classes: Option<usize>,
    /// The seed of the initial weights.
    pub seed: u64,
}

impl Default for UNetConfig {
    /// The digits' model: 8 × 8 images, C = 32, embedding 64, 16 time features, 10 classes.
    fn default() -> Self {
        UNetConfig { side: 8, channels: 32, embed: 64, time_features: 16, classes: Some(10), seed: 0 }
    }
}

impl UNetConfig {
    /// Errors unless the sizes make a U-Net.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, why: String| Err(Error::invalid(format!("U-Net {what}"), why));
        if self.side < 2 || !self.side.is_multiple_of(2) {
            return bad("side", format!("{} must be even and at least 2 (the U-Net halves it once)", self.side));
        }
        if self.channels == 0 || self.embed == 0 {
            return bad("width", "channels and embed must be at least 1 (try 32 and 64)".into());
        }
        if self.time_features < 2 || !self.time_features.is_multiple_of(2) {
            return bad(
                "time_features",
                format!("{} must be even and at least 2 (cosines and sines)", self.time_features),
            );
        }
        if self.classes == Some(0) {
            return bad(
                "classes",
                "a conditional model needs at least one class; use None for an unconditional one".into(),
            );
        }
        Ok(())
    }

    /// The data dimension S².
    pub fn dim(&self) -> usize {
        self.side * self.side
    }
}

type P2 = Tensor<(usize, usize), f32, Cpu>;

/// An affine layer `x W + b` (W stored in × out), by the indices of its tensors.
#[derive(Clone, Copy, Debug)]
struct Dense {
    w: usize,
    b: usize,
}

/// A convolution, by the indices of its kernel and bias, with its geometry.
#[derive(Clone, Copy, Debug)]
struct Conv {
    w: usize,
    b: usize,
    s: ConvShape,
}

/// A residual block: two 3 × 3 convolutions, the embedding added between them, a skip path.
#[derive(Clone, Copy, Debug)]
struct Res {
    c1: Conv,
    e: Dense,
    c2: Conv,
    skip: Option<Conv>,
}

/// Where every layer's tensors are.
#[derive(Clone, Debug)]
struct Layout {
    t1: Dense,
    t2: Dense,
    labels: Option<usize>,
    conv_in: Conv,
    d1: Res,
    down: Conv,
    d2: Res,
    mid: Res,
    u2: Res,
    u1: Res,
    conv_out: Conv,
}

/// Builds the tensors in a fixed order from one seeded generator.
struct Builder<'a> {
    names: Vec<String>,
    params: Vec<P2>,
    rng: rand::rngs::StdRng,
    dev: &'a Cpu,
}

impl Builder<'_> {
    /// A rows × cols tensor drawn uniformly in ±bound (PyTorch's default for a layer with fan-in 1/bound²).
    fn tensor(&mut self, name: String, rows: usize, cols: usize, bound: f32) -> usize {
        let v: Vec<f32> =
            (0..rows * cols).map(|_| if bound > 0.0 { self.rng.gen_range(-bound..bound) } else { 0.0 }).collect();
        self.params.push(self.dev.tensor_from_vec(v, (rows, cols)));
        self.names.push(name);
        self.params.len() - 1
    }

    fn dense(&mut self, name: &str, i: usize, o: usize) -> Dense {
        let bound = 1.0 / (i as f32).sqrt();
        Dense {
            w: self.tensor(format!("{name}.weight"), i, o, bound),
            b: self.tensor(format!("{name}.bias"), 1, o, bound),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn conv(&mut self, name: &str, cin: usize, cout: usize, side: usize, k: usize, stride: usize, zero: bool) -> Conv {
        let s = ConvShape { cin, cout, h: side, w: side, k, stride, pad: k / 2 };
        let bound = if zero { 0.0 } else { 1.0 / (s.patch() as f32).sqrt() };
        Conv {
            w: self.tensor(format!("{name}.weight"), cout, s.patch(), bound),
            b: self.tensor(format!("{name}.bias"), 1, cout, bound),
            s,
        }
    }

    fn res(&mut self, name: &str, cin: usize, cout: usize, side: usize, embed: usize) -> Res {
        Res {
            c1: self.conv(&format!("{name}.conv1"), cin, cout, side, 3, 1, false),
            e: self.dense(&format!("{name}.embed"), embed, cout),
            c2: self.conv(&format!("{name}.conv2"), cout, cout, side, 3, 1, false),
            skip: (cin != cout).then(|| self.conv(&format!("{name}.skip"), cin, cout, side, 1, 1, false)),
        }
    }
}

/// A small U-Net velocity model on S × S grey images (see the module docs for the equations).
///
/// ```
/// use flowmatch::nn::{UNet, UNetConfig};
/// use flowmatch::field::Model;
/// use flowmatch::points::Points;
/// let net = UNet::new(UNetConfig { channels: 8, embed: 16, ..Default::default() }).unwrap();
/// let x = Points::zeros(3, 64);
/// let v = net.velocity(&x, 0.5.into(), Some(&[1, 2, 3])).unwrap();
/// assert_eq!((v.len(), v.dim()), (3, 64));
/// ```
#[derive(Clone)]
pub struct UNet {
    config: UNetConfig,
    layout: Layout,
    names: Vec<String>,
    params: Vec<P2>,
    /// Nearest-neighbour upsampling S/2 × S/2 → S × S as a (S/2)² × S² matrix of zeros and ones.
    up: P2,
    /// The frequencies f_j of the time features.
    freqs: Vec<f32>,
    adam: Option<Vec<AdamState>>,
    steps: usize,
}

impl std::fmt::Debug for UNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UNet({:?}, {} parameters, {} steps)", self.config, self.num_params(), self.steps)
    }
}

impl UNet {
    /// A U-Net with fresh weights drawn from `config.seed`.
    ///
    /// Errors: [`Error::InvalidParameter`] for sizes that make no U-Net ([`UNetConfig::validate`]).
    pub fn new(config: UNetConfig) -> Result<UNet> {
        config.validate()?;
        let dev = Cpu::default();
        let (c, s, e) = (config.channels, config.side, config.embed);
        let mut b = Builder {
            names: Vec::new(),
            params: Vec::new(),
            rng: rand::rngs::StdRng::seed_from_u64(config.seed),
            dev: &dev,
        };
        let t1 = b.dense("time1", config.time_features, e);
        let t2 = b.dense("time2", e, e);
        let labels =
            config.classes.map(|k| b.tensor("label_embedding".into(), k + 1, e, 1.0 / ((k + 1) as f32).sqrt()));
        let layout = Layout {
            t1,
            t2,
            labels,
            conv_in: b.conv("conv_in", 1, c, s, 3, 1, false),
            d1: b.res("down1", c, c, s, e),
            down: b.conv("down", c, 2 * c, s, 3, 2, false),
            d2: b.res("down2", 2 * c, 2 * c, s / 2, e),
            mid: b.res("mid", 2 * c, 2 * c, s / 2, e),
            u2: b.res("up2", 4 * c, 2 * c, s / 2, e),
            u1: b.res("up1", 3 * c, c, s, e),
            conv_out: b.conv("conv_out", c, 1, s, 3, 1, true),
        };
        let (names, params) = (b.names, b.params);
        let half = s / 2;
        let mut up = vec![0.0f32; half * half * s * s];
        for y in 0..s {
            for x in 0..s {
                up[((y / 2) * half + x / 2) * s * s + y * s + x] = 1.0;
            }
        }
        let up = dev.tensor_from_vec(up, (half * half, s * s));
        let m = config.time_features / 2;
        let freqs = (0..m).map(|j| if m == 1 { 1.0 } else { 64f32.powf(j as f32 / (m - 1) as f32) }).collect();
        Ok(UNet { config, layout, names, params, up, freqs, adam: None, steps: 0 })
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// The number of trainable parameters.
    pub fn num_params(&self) -> usize {
        self.params.iter().map(|p| p.shape().0 * p.shape().1).sum()
    }

    /// The time features τ(t) of every row, n × m·2.
    fn time_features(&self, t: &[f64]) -> Vec<f32> {
        let mut out = Vec::with_capacity(t.len() * self.config.time_features);
        for &ti in t {
            let a = std::f32::consts::TAU * ti as f32;
            out.extend(self.freqs.iter().map(|f| (f * a).cos()));
            out.extend(self.freqs.iter().map(|f| (f * a).sin()));
        }
        out
    }

    /// One-hot codes of the label-table rows (class y, or K for ∅), n × (K + 1).
    fn one_hot(&self, labels: Option<&[usize]>, n: usize) -> Result<Option<Vec<f32>>> {
        let Some(k) = self.config.classes else {
            return match labels {
                Some(_) => Err(Error::invalid(
                    "labels",
                    "this U-Net was built without classes (classes: None), so it takes no labels; pass None",
                )),
                None => Ok(None),
            };
        };
        if let Some(l) = labels {
            check_labels(l, n, k, "the U-Net")?;
        }
        let mut code = vec![0.0f32; n * (k + 1)];
        for i in 0..n {
            let y = labels.map_or(NULL_LABEL, |l| l[i]);
            code[i * (k + 1) + if y == NULL_LABEL { k } else { y }] = 1.0;
        }
        Ok(Some(code))
    }

    /// Errors unless `x` holds images of this model's size and `t` fits it.
    fn check_input(&self, x: &Points, t: &Time<'_>) -> Result<Vec<f64>> {
        if x.dim() != self.config.dim() {
            return Err(Error::shape(
                "the input of the U-Net",
                format!(
                    "{} pixels per row ({} × {} images, flattened row by row)",
                    self.config.dim(),
                    self.config.side,
                    self.config.side
                ),
                format!("{} numbers per row", x.dim()),
            ));
        }
        if x.is_empty() {
            return Err(Error::ZeroCount { what: "the rows passed to the U-Net".into() });
        }
        let t = t.to_vec(x.len(), "the U-Net")?;
        if let Some(bad) = t.iter().chain(x.as_slice()).find(|v| !v.is_finite()) {
            return Err(Error::invalid("the U-Net's input", format!("it holds {bad}; pass finite pixels and times")));
        }
        Ok(t)
    }

    /// `x W + b` for an affine layer (the bias enters as 1 b, a product, so it gets its gradient on the tape).
    fn dense<T: Tape<f32, Cpu> + Merge<T> + Merge<NoneTape>>(
        &self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
        l: Dense,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let n = x.shape().0;
        let ones = x.device().ones_like(&(n, 1)).retaped::<T>();
        x.matmul(self.params[l.w].clone()) + ones.matmul(self.params[l.b].clone())
    }

    fn conv<T: Tape<f32, Cpu>>(
        &self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
        l: Conv,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        conv2d(x, &self.params[l.w], &self.params[l.b], l.s)
    }

    /// R(h) = conv₂(SiLU(conv₁(SiLU h) + A e)) + skip(h).
    fn res<T: Tape<f32, Cpu> + Merge<T> + Merge<NoneTape>>(
        &self,
        h: Tensor<(usize, usize), f32, Cpu, T>,
        e: Tensor<(usize, usize), f32, Cpu, T>,
        l: Res,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let skip = match l.skip {
            Some(s) => self.conv(h.with_empty_tape(), s),
            None => h.with_empty_tape(),
        };
        let z = silu_shift(self.conv(silu(h), l.c1), self.dense(e, l.e));
        self.conv(z, l.c2) + skip
    }

    /// The network on a batch: `x` (n × S²) with its tape, time features and one-hot labels.
    fn forward<T: Tape<f32, Cpu> + Merge<T> + Merge<NoneTape>>(
        &self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
        tau: Vec<f32>,
        code: Option<Vec<f32>>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let dev = x.device().clone();
        let n = x.shape().0;
        let (l, c, s) = (&self.layout, self.config.channels, self.config.side);
        let tau = dev.tensor_from_vec(tau, (n, self.config.time_features)).retaped::<T>();
        let mut e = self.dense(silu(self.dense(tau, l.t1)), l.t2);
        if let (Some(code), Some(table)) = (code, l.labels) {
            let k1 = code.len() / n;
            e = e + dev.tensor_from_vec(code, (n, k1)).retaped::<T>().matmul(self.params[table].clone());
        }
        let e = silu(e);
        let s1 = self.res(self.conv(x, l.conv_in), e.with_empty_tape(), l.d1);
        let s2 = self.res(self.conv(s1.with_empty_tape(), l.down), e.with_empty_tape(), l.d2);
        let m = self.res(s2.with_empty_tape(), e.with_empty_tape(), l.mid);
        let u2 = self.res((m, s2).concat_along(Axis::<1>), e.with_empty_tape(), l.u2);
        let (hs, full) = ((s / 2) * (s / 2), s * s);
        let up = u2.reshape_like(&(n * 2 * c, hs)).matmul(self.up.clone()).reshape_like(&(n, 2 * c * full));
        let u1 = self.res((up, s1).concat_along(Axis::<1>), e, l.u1);
        self.conv(silu(u1), l.conv_out)
    }

    /// The velocity of every row without a tape: the rows are cut into at most [`EVAL_CHUNK`]
    /// per chunk, at least one chunk per thread, and the chunks' forward passes run on the threads
    /// of the pool (each whole pass on one thread, its convolutions included).
    fn eval(&self, x: &Points, t: &[f64], labels: Option<&[usize]>) -> Result<Points> {
        let code = self.one_hot(labels, x.len())?;
        let (n, d) = (x.len(), self.config.dim());
        let k1 = self.config.classes.map_or(0, |k| k + 1);
        let chunk = n.div_ceil(pool::threads()).clamp(1, EVAL_CHUNK);
        let mut parts: Vec<(usize, Vec<f32>)> = (0..n).step_by(chunk).map(|s| (s, Vec::new())).collect();
        pool::for_each_mut(&mut parts, |_, (start, out)| {
            let (start, end) = (*start, (*start + chunk).min(n));
            let xs: Vec<f32> = x.as_slice()[start * d..end * d].iter().map(|&v| v as f32).collect();
            let xs = Cpu::default().tensor_from_vec(xs, (end - start, d));
            let c = code.as_ref().map(|c| c[start * k1..end * k1].to_vec());
            *out = self.forward(xs, self.time_features(&t[start..end]), c).as_vec();
        });
        Points::new(n, d, parts.into_iter().flat_map(|(_, v)| v).map(|v| v as f64).collect())
    }

    /// The loss 1/(n S²) Σ ‖v_θ(x_t, t | y) − target‖² on a regression batch, with its gradients when `backward`.
    fn regression(&self, batch: &Batch, backward: bool) -> Result<(f64, Option<Gradients<f32, Cpu>>)> {
        let s = super::mlp::regression(batch)?;
        let t = self.check_input(&s.x_t, &Time::PerRow(&s.t))?;
        s.x_t.check_same_shape(&s.target, "the U-Net's regression batch (x_t vs target)")?;
        let code = self.one_hot(s.labels.as_deref(), s.len())?;
        let dev = Cpu::default();
        let n = s.len();
        let f = |p: &Points| p.as_slice().iter().map(|&v| v as f32).collect::<Vec<f32>>();
        let x = dev.tensor_from_vec(f(&s.x_t), (n, self.config.dim())).traced(Gradients::leaky());
        let target = dev.tensor_from_vec(f(&s.target), (n, self.config.dim()));
        let loss = (self.forward(x, self.time_features(&t), code) - target).square().mean();
        let value = loss.array() as f64;
        Ok((value, (backward && value.is_finite()).then(|| loss.backward())))
    }

    /// Saves weights and configuration to `path` (safetensors, atomically), recording `training` (JSON).
    pub fn save(&self, path: impl AsRef<std::path::Path>, training: Option<serde_json::Value>) -> Result<()> {
        let c = &self.config;
        let meta = CheckpointMeta {
            format: FORMAT_VERSION,
            model: MODEL_NAME.into(),
            shape: HashMap::from([
                ("side".to_string(), c.side),
                ("channels".to_string(), c.channels),
                ("embed".to_string(), c.embed),
                ("time_features".to_string(), c.time_features),
                ("classes".to_string(), c.classes.unwrap_or(0)),
            ]),
            model_config: serde_json::to_value(c).map_err(|e| Error::invalid("U-Net configuration", e.to_string()))?,
            training,
            steps: self.steps,
        };
        checkpoint::save_named(&self.names, &self.params, &meta, path)
    }

    /// A U-Net with the configuration and weights saved in `path` by [`UNet::save`].
    ///
    /// Errors: [`Error::Io`] for a missing file; [`Error::Checkpoint`] for a file of another
    /// format version or model, or one whose tensors do not match its configuration.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<UNet> {
        let (mut net, meta) = checkpoint::load_named(path.as_ref(), MODEL_NAME, "U-Net", UNet::new)?;
        net.steps = meta.steps;
        Ok(net)
    }

    /// The U-Net shipped in the repository (`checkpoints/digits/unet.safetensors`): trained on the
    /// digits' training split, conditional on the 10 digits with ∅ (label dropout), ready to sample.
    ///
    /// Errors: [`Error::Io`] when the file is missing (remake it with the command in
    /// `checkpoints/digits/README.md`), [`Error::Checkpoint`] when it cannot be used.
    pub fn shipped() -> Result<UNet> {
        UNet::load(SHIPPED_UNET)
    }

    /// Guided samples of digits: x₀ ~ N(0, I) (seeded), then the guided velocity
    /// ṽ = (1 − w) v(x, t | ∅) + w v(x, t | y) integrated from t = 0 to 1 in `steps` midpoint
    /// steps (2 `steps` evaluations of ṽ), towards `labels[i]` for row i. Rows are S² pixels.
    ///
    /// Errors: those of [`crate::guidance::sample`] (labels out of range, a model without classes, steps = 0).
    pub fn sample(&self, labels: &[usize], w: f64, steps: usize, seed: u64) -> Result<Points> {
        crate::guidance::sample(self, labels.to_vec(), w, steps, crate::solver::Method::Midpoint, seed)
    }
}

impl checkpoint::NamedParams for UNet {
    fn named_params(&mut self) -> (&[String], &mut [P2]) {
        (&self.names, &mut self.params)
    }
}

impl VectorField for UNet {
    /// The unconditional velocity v_θ(x, t | ∅) (a model without classes: v_θ(x, t)).
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        *out = self.velocity(x, t, None)?;
        Ok(())
    }
}

impl Model for UNet {
    fn dim(&self) -> usize {
        self.config.dim()
    }

    fn classes(&self) -> Option<usize> {
        self.config.classes
    }

    fn velocity(&self, x: &Points, t: Time<'_>, labels: Option<&[usize]>) -> Result<Points> {
        let t = self.check_input(x, &t)?;
        self.eval(x, &t, labels)
    }
}

impl TrainableModel for UNet {
    fn dim(&self) -> usize {
        self.config.dim()
    }

    fn loss(&self, batch: &Batch) -> Result<f64> {
        Ok(self.regression(batch, false)?.0)
    }

    fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> Result<f64> {
        opt.validate()?;
        let (value, grads) = self.regression(batch, true)?;
        if !value.is_finite() {
            return Err(Error::NonFiniteLoss { step: self.steps + 1, value });
        }
        let grads = grads.expect("a training pass keeps its gradients");
        let cfg = opt.adam();
        let states = self
            .adam
            .get_or_insert_with(|| self.params.iter().map(|p| AdamState::new(p.shape().0 * p.shape().1)).collect());
        for (p, st) in self.params.iter_mut().zip(states.iter_mut()) {
            let g = data(&grads.get(&*p));
            let mut v = data(p);
            st.step(&mut v, &g, &cfg);
            p.copy_from(&v);
        }
        self.steps += 1;
        Ok(value)
    }

    fn reset_optimizer(&mut self) {
        self.adam = None;
    }

    fn num_params(&self) -> usize {
        UNet::num_params(self)
    }

    fn steps_trained(&self) -> usize {
        self.steps
    }

    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> Result<()> {
        self.save(path, training)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::PathSample;

    /// A small conditional U-Net with every tensor random (the zero output layer too, so
    /// every gradient is non-trivial), and a regression batch for it.
    fn setup() -> (UNet, Batch) {
        let cfg = UNetConfig { side: 4, channels: 2, embed: 4, time_features: 4, classes: Some(3), seed: 5 };
        let mut net = UNet::new(cfg).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        for p in &mut net.params {
            let v: Vec<f32> = (0..p.shape().0 * p.shape().1).map(|_| rng.gen_range(-0.6f32..0.6)).collect();
            p.copy_from(&v);
        }
        let n = 3;
        let r = |rng: &mut rand::rngs::StdRng| {
            Points::new(n, 16, (0..n * 16).map(|_| rng.gen_range(-1.0..1.0)).collect()).unwrap()
        };
        let (x0, x1, x_t, target) = (r(&mut rng), r(&mut rng), r(&mut rng), r(&mut rng));
        let sample = PathSample { x0, x1, t: vec![0.1, 0.5, 0.9], x_t, target, labels: Some(vec![2, NULL_LABEL, 0]) };
        (net, Batch::Regression(sample))
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (net, batch) = setup();
        let grads = net.regression(&batch, true).unwrap().1.unwrap();
        let h = 1e-2f32;
        let mut worst = 0.0f64;
        for (k, name) in net.names.iter().enumerate() {
            let g = grads.get(&net.params[k]).as_vec();
            let len = g.len();
            // A few entries of every tensor: the first, the last and one in between.
            for i in [0, len / 2, len - 1] {
                let mut probe = net.clone();
                let mut v = probe.params[k].as_vec();
                let keep = v[i];
                v[i] = keep + h;
                probe.params[k].copy_from(&v);
                let up = probe.regression(&batch, false).unwrap().0;
                v[i] = keep - h;
                probe.params[k].copy_from(&v);
                let down = probe.regression(&batch, false).unwrap().0;
                let fd = (up - down) / (2.0 * h as f64);
                let err = (fd - g[i] as f64).abs() / (1e-2 + fd.abs().max(g[i].abs() as f64));
                worst = worst.max(err);
                assert!(err < 3e-2, "{name}[{i}]: tape {}, finite difference {fd}", g[i]);
            }
        }
        assert!(worst > 0.0, "the check compared something");
    }

    #[test]
    fn every_tensor_gets_a_gradient() {
        let (net, batch) = setup();
        let grads = net.regression(&batch, true).unwrap().1.unwrap();
        for (name, p) in net.names.iter().zip(&net.params) {
            assert!(grads.get(p).as_vec().iter().any(|g| *g != 0.0), "{name} has no gradient");
        }
    }
}
