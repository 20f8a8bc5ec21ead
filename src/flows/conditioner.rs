//! [`Conditioner`]: the small f64 MLP inside a coupling layer, which reads the half of the
//! point that passes through and returns the shift and log-scale of the other half.
//!
//! ```text
//! c(v) = W_L σ(… σ(W_2 σ(W_1 v + b_1) + b_2) …) + b_L,    σ ∈ {ReLU, tanh, SiLU}
//! ```
//!
//! Weights are row-major `out × in`, as PyTorch and dfdx store them. A batch is evaluated with
//! nalgebra's matrix product (matrixmultiply's dgemm), one layer for all rows at once.

use crate::error::{Error, Result};
use crate::points::Points;
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The nonlinearity between the layers of a [`Conditioner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Nonlinearity {
    /// max(0, a), as normflows' MLP (the default).
    #[default]
    Relu,
    /// tanh(a).
    Tanh,
    /// a·σ(a).
    Silu,
}

impl Nonlinearity {
    /// σ(a).
    pub fn apply(self, a: f64) -> f64 {
        match self {
            Nonlinearity::Relu => a.max(0.0),
            Nonlinearity::Tanh => a.tanh(),
            Nonlinearity::Silu => a / (1.0 + (-a).exp()),
        }
    }
}

/// A multilayer perceptron in f64: `sizes = [in, h₁, …, out]`, the nonlinearity between layers
/// and none after the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Conditioner {
    sizes: Vec<usize>,
    act: Nonlinearity,
    /// Row-major `out × in` weights, one per layer.
    weights: Vec<Vec<f64>>,
    biases: Vec<Vec<f64>>,
    /// The same weights transposed (`in × out`) for the batch product.
    wt: Vec<DMatrix<f64>>,
}

impl Conditioner {
    /// Builds an MLP from its weights (row-major `out × in`) and biases, layer by layer.
    pub fn from_parameters(
        sizes: &[usize],
        act: Nonlinearity,
        weights: Vec<Vec<f64>>,
        biases: Vec<Vec<f64>>,
    ) -> Result<Conditioner> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(Error::invalid(
                "conditioner sizes",
                format!("{sizes:?}: give at least [inputs, outputs], every size ≥ 1"),
            ));
        }
        let layers = sizes.len() - 1;
        if weights.len() != layers || biases.len() != layers {
            return Err(Error::shape(
                "the conditioner's parameters",
                format!("{layers} weight matrices and {layers} bias vectors"),
                format!("{} and {}", weights.len(), biases.len()),
            ));
        }
        for l in 0..layers {
            let (i, o) = (sizes[l], sizes[l + 1]);
            if weights[l].len() != o * i || biases[l].len() != o {
                return Err(Error::shape(
                    format!("layer {l} of the conditioner"),
                    format!("a {o} × {i} weight and {o} biases"),
                    format!("{} weights and {} biases", weights[l].len(), biases[l].len()),
                ));
            }
            crate::numeric::check_finite_entries(&format!("the weights of conditioner layer {l}"), &weights[l])?;
            crate::numeric::check_finite_entries(&format!("the biases of conditioner layer {l}"), &biases[l])?;
        }
        let wt =
            (0..layers).map(|l| DMatrix::from_row_slice(sizes[l + 1], sizes[l], &weights[l]).transpose()).collect();
        Ok(Conditioner { sizes: sizes.to_vec(), act, weights, biases, wt })
    }

    /// A freshly initialised MLP: every weight and bias uniform on ±1/√(inputs of its layer)
    /// (PyTorch's and dfdx's default), from `StdRng::seed_from_u64(seed)`.
    pub fn new(sizes: &[usize], act: Nonlinearity, seed: u64) -> Result<Conditioner> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(Error::invalid(
                "conditioner sizes",
                format!("{sizes:?}: give at least [inputs, outputs], every size ≥ 1"),
            ));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for l in 0..sizes.len() - 1 {
            let bound = 1.0 / (sizes[l] as f64).sqrt();
            weights.push((0..sizes[l] * sizes[l + 1]).map(|_| rng.gen_range(-bound..bound)).collect());
            biases.push((0..sizes[l + 1]).map(|_| rng.gen_range(-bound..bound)).collect());
        }
        Conditioner::from_parameters(sizes, act, weights, biases)
    }

    /// The same network with the last layer's weights and biases scaled by `factor` (0 makes a
    /// coupling layer start as the identity, as normflows' `init_zeros`).
    pub fn scale_output(mut self, factor: f64) -> Conditioner {
        let last = self.weights.len() - 1;
        self.weights[last].iter_mut().for_each(|w| *w *= factor);
        self.biases[last].iter_mut().for_each(|b| *b *= factor);
        self.wt[last] *= factor;
        self
    }

    /// `[in, h₁, …, out]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The number of inputs.
    pub fn input_dim(&self) -> usize {
        self.sizes[0]
    }

    /// The number of outputs.
    pub fn output_dim(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// The nonlinearity.
    pub fn nonlinearity(&self) -> Nonlinearity {
        self.act
    }

    /// The number of weights and biases.
    pub fn num_params(&self) -> usize {
        self.weights.iter().map(Vec::len).sum::<usize>() + self.biases.iter().map(Vec::len).sum::<usize>()
    }

    /// c(v) for one input `v` (length `in`), written to `out` (length `out`).
    pub fn eval(&self, v: &[f64], out: &mut [f64]) {
        let mut cur = v.to_vec();
        let last = self.weights.len() - 1;
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let (i, o) = (self.sizes[l], self.sizes[l + 1]);
            let mut next: Vec<f64> = (0..o).map(|r| b[r] + super::dot(&w[r * i..(r + 1) * i], &cur)).collect();
            if l < last {
                next.iter_mut().for_each(|a| *a = self.act.apply(*a));
            }
            cur = next;
        }
        out.copy_from_slice(&cur);
    }

    /// c(v) for every row of `v` (n × in), one matrix product per layer; returns n × out.
    pub fn eval_batch(&self, v: &Points) -> Result<Points> {
        if v.dim() != self.input_dim() {
            return Err(Error::shape(
                "the conditioner's input",
                format!("points of dimension {}", self.input_dim()),
                format!("dimension {}", v.dim()),
            ));
        }
        let n = v.len();
        let mut cur = DMatrix::from_row_slice(n, v.dim(), v.as_slice());
        let last = self.wt.len() - 1;
        for (l, (wt, b)) in self.wt.iter().zip(&self.biases).enumerate() {
            let mut next = &cur * wt;
            for (j, mut col) in next.column_iter_mut().enumerate() {
                let bj = b[j];
                if l < last {
                    col.iter_mut().for_each(|a| *a = self.act.apply(*a + bj));
                } else {
                    col.iter_mut().for_each(|a| *a += bj);
                }
            }
            cur = next;
        }
        Points::new(n, self.output_dim(), cur.transpose().as_slice().to_vec())
    }
}
