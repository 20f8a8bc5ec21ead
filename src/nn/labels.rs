//! Class conditioning: one learned vector for each of the K classes and one for the null label ∅.
//!
//! ```text
//! E ∈ ℝ^{(K+1) × H},   row y for class y ∈ {0, …, K − 1},   row K for ∅ (NULL_LABEL)
//! first layer:   h₁ = act(W_x x + W_t τ(t) + E[y] + b₁)
//! gradient:      ∂L/∂E[k] = Σ_{i : yᵢ = k} ∂L/∂z₁,ᵢ        (z₁ = the first layer's pre-activation)
//! ```
//!
//! **Added, not concatenated — and why that is the same thing.** Concatenating the one-hot
//! code of y to the input [x, τ(t)] and widening the first layer gives W [x; τ; onehot(y)] =
//! W_x x + W_t τ + W_y onehot(y), and W_y onehot(y) is column y of W_y: a row of a table. So
//! the table *is* the one-hot concatenation, stored as rows; it is initialised as dfdx
//! initialises a linear layer with K + 1 inputs (uniform in ±1/√(K + 1)). Storing rows means
//! adding H numbers per point instead of a (K + 1) × H matrix product, and the first layer's
//! matmul on x (the fast path's kernels, the checkpoint layout of `x_in` and `t_in`) is
//! unchanged.
//!
//! **∅ is a class of its own.** Training with label dropout (`crate::loss::drop_labels`) puts
//! ∅ on a share of the rows, so the same network learns v(x, t | y) and v(x, t | ∅) = v(x, t);
//! classifier-free guidance (`crate::guidance`) combines the two.
//!
//! The number of classes is chosen at run time, so the table is not a dfdx module with a
//! const shape: it lives here as plain numbers, its gradient comes from the first layer's
//! pre-activation gradient (handed back by the fused op, or by a tap on the dfdx graph), and
//! [`LabelTable::adam_step`] applies exactly the update of dfdx's Adam kernel to it. A
//! checkpoint stores it as the tensor `label_embedding` of shape [K + 1, H] next to the layers.
//! Any model that adds a label vector to a hidden layer (the MLP here, a U-Net's embedding
//! later) can hold one.

use super::checkpoint::NamedTensor;
use super::optim::AdamState;
use crate::error::{Error, Result};
use crate::field::{check_labels, NULL_LABEL};
use dfdx::optim::AdamConfig;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex};

/// The name of the label table's tensor in a checkpoint.
pub(crate) const TENSOR_NAME: &str = "label_embedding";

/// Where a backward pass leaves the table's gradient ((K + 1) × H numbers).
pub(crate) type GradSink = Arc<Mutex<Vec<f32>>>;

/// The learned label vectors E[y] of a conditional model, with Adam's state for them.
#[derive(Clone, Debug)]
pub(crate) struct LabelTable {
    classes: usize,
    width: usize,
    /// (K + 1) × H, row-major; row K is ∅.
    table: Vec<f32>,
    adam: Option<AdamState>,
}

/// `g[rows[i]] += dz[i]` for every point i (rows `h` wide, in order): the gradient of a table
/// of label vectors from the gradient of the pre-activations they were added to.
pub(crate) fn scatter_into(g: &mut [f32], rows: &[usize], dz: &[f32], h: usize) {
    for (&k, d) in rows.iter().zip(dz.chunks_exact(h)) {
        for (a, b) in g[k * h..(k + 1) * h].iter_mut().zip(d) {
            *a += b;
        }
    }
}

impl LabelTable {
    /// A table for `classes` classes and ∅, rows of `width` numbers, drawn uniformly in
    /// ±1/√(K + 1) from `seed`.
    pub(crate) fn new(classes: usize, width: usize, seed: u64) -> Result<Self> {
        if classes == 0 {
            return Err(Error::invalid(
                "number of classes",
                "a conditional model needs at least one class; build an unconditional model instead (Net::mlp)",
            ));
        }
        let bound = 1.0 / ((classes + 1) as f32).sqrt();
        // Its own stream, so the layers' initial weights equal an unconditional model's with the same seed.
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x6C61_6265_6C73_0001);
        let table = (0..(classes + 1) * width).map(|_| rng.gen_range(-bound..bound)).collect();
        Ok(LabelTable { classes, width, table, adam: None })
    }

    /// The number of classes K (∅ not counted).
    pub(crate) fn classes(&self) -> usize {
        self.classes
    }

    /// The table, (K + 1) × H row-major (row K is ∅).
    pub(crate) fn table(&self) -> &[f32] {
        &self.table
    }

    /// The number of learned numbers, (K + 1) · H.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The table row of every one of `n` points: its class, or K for ∅ (`labels = None` is ∅ for all).
    ///
    /// Errors: [`Error::ShapeMismatch`] for a wrong number of labels, [`Error::InvalidParameter`]
    /// for a label that is neither a class nor [`NULL_LABEL`].
    pub(crate) fn rows_of(&self, labels: Option<&[usize]>, n: usize) -> Result<Vec<usize>> {
        match labels {
            None => Ok(vec![self.classes; n]),
            Some(l) => {
                check_labels(l, n, self.classes, "a conditional model")?;
                Ok(l.iter().map(|&y| if y == NULL_LABEL { self.classes } else { y }).collect())
            }
        }
    }

    /// E[rows[i]] for every point, n × H row-major.
    pub(crate) fn gather(&self, rows: &[usize]) -> Vec<f32> {
        let h = self.width;
        let mut out = Vec::with_capacity(rows.len() * h);
        for &k in rows {
            out.extend_from_slice(&self.table[k * h..(k + 1) * h]);
        }
        out
    }

    /// A fresh, table-sized place for a backward pass to leave the gradient in.
    pub(crate) fn sink(&self) -> GradSink {
        Arc::new(Mutex::new(Vec::new()))
    }

    /// One Adam (or AdamW) step on the table with gradient `grad`, the same update dfdx's
    /// CPU Adam kernel applies to the layers (f32, bias-corrected moments):
    ///
    /// ```text
    /// m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − (lr m̂/(√v̂ + ε) + lr λ θ)   (λ: AdamW only)
    /// ```
    pub(crate) fn adam_step(&mut self, grad: &[f32], cfg: &AdamConfig) {
        assert_eq!(grad.len(), self.table.len(), "one gradient per table entry");
        let n = self.table.len();
        self.adam.get_or_insert_with(|| AdamState::new(n)).step(&mut self.table, grad, cfg);
    }

    /// Forgets Adam's moments (with the layers' optimiser).
    pub(crate) fn reset_optimizer(&mut self) {
        self.adam = None;
    }

    /// The table as a checkpoint tensor `label_embedding` [K + 1, H].
    pub(crate) fn named_tensor(&self) -> NamedTensor {
        (TENSOR_NAME.to_string(), vec![self.classes + 1, self.width], self.table.clone())
    }

    /// Replaces the table with the tensor a checkpoint holds, which must be [K + 1, H].
    pub(crate) fn set_from(&mut self, path: &std::path::Path, shape: &[usize], values: Vec<f32>) -> Result<()> {
        let want = [self.classes + 1, self.width];
        if shape != want {
            return Err(Error::Checkpoint {
                path: path.display().to_string(),
                reason: format!(
                    "its label table '{TENSOR_NAME}' has shape {shape:?}, but the checkpoint records {} classes \
                     and width {}, so it must be {want:?} (one row per class and one for the null label); \
                     the file is inconsistent: save the model again",
                    self.classes, self.width
                ),
            });
        }
        self.table = values;
        self.adam = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::optim::WeightDecay;
    use dfdx::optim::{Adam, Optimizer};
    use dfdx::prelude::*;

    #[test]
    fn adam_step_is_dfdx_adam() {
        // The same gradients through dfdx's Adam (on a const-shaped tensor) and through the table.
        for weight_decay in [None, Some(WeightDecay::Decoupled(0.1)), Some(WeightDecay::L2(0.05))] {
            let cfg = AdamConfig { lr: 3e-3, weight_decay, ..Default::default() };
            let dev = Cpu::default();
            let mut table = LabelTable::new(2, 4, 7).unwrap();
            let mut t: Tensor<Rank2<3, 4>, f32, Cpu> = dev.tensor_from_vec(table.table.clone(), (Const, Const));
            let mut opt = Adam::new(&t, cfg);
            for step in 0..5 {
                let g: Vec<f32> = (0..12).map(|i| ((i * 7 + step * 3) % 11) as f32 * 0.1 - 0.5).collect();
                let rate = dev.tensor_from_vec(g.clone(), (Const::<3>, Const::<4>));
                // d/dt Σ t·g = g
                let grads = (t.leaky_trace() * rate).sum().backward();
                opt.update(&mut t, &grads).unwrap();
                table.adam_step(&g, &cfg);
                assert_eq!(t.as_vec(), table.table, "step {step}, weight decay {weight_decay:?}");
            }
        }
    }

    #[test]
    fn rows_gather_and_scatter() {
        let table = LabelTable::new(3, 2, 0).unwrap();
        let rows = table.rows_of(Some(&[2, NULL_LABEL, 0]), 3).unwrap();
        assert_eq!(rows, vec![2, 3, 0]);
        assert_eq!(table.rows_of(None, 2).unwrap(), vec![3, 3]);
        let g = table.gather(&rows);
        assert_eq!(&g[2..4], &table.table()[6..8]);
        let mut s = vec![0.0; table.len()];
        scatter_into(&mut s, &[1, 1, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2);
        assert_eq!(s, vec![0.0, 0.0, 4.0, 6.0, 0.0, 0.0, 5.0, 6.0]);
        let e = table.rows_of(Some(&[3]), 1).unwrap_err().to_string();
        assert!(e.contains("label 3") && e.contains("3 classes"), "{e}");
        assert!(table.rows_of(Some(&[0, 1]), 3).is_err());
        assert!(LabelTable::new(0, 4, 0).is_err());
    }
}
