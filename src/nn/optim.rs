//! Optimiser settings for one training step: Adam, AdamW or Adam with L2 decay, and the learning rate.
//!
//! ```text
//! Adam:   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − lr · m̂ / (√v̂ + ε)
//! AdamW:  the same, and θ ← θ − lr · λ θ (decoupled weight decay)
//! AdamL2: Adam on g + λθ (L2 weight decay inside the gradient, as PyTorch's `Adam(weight_decay=λ)`)
//! ```

use crate::error::{Error, Result};
use dfdx::optim::{AdamConfig, WeightDecay};
use serde::{Deserialize, Serialize};

/// Which optimiser a training step uses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba).
    Adam,
    /// AdamW: Adam with decoupled weight decay λ (Loshchilov & Hutter).
    AdamW {
        /// The decoupled weight decay λ.
        weight_decay: f64,
    },
    /// Adam with L2 weight decay λ added to the gradient, g ← g + λθ (PyTorch's
    /// `torch.optim.Adam(weight_decay=λ)`, which normflows' examples use).
    AdamL2 {
        /// The L2 coefficient λ.
        weight_decay: f64,
    },
}

/// Optimiser settings for one training step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// Adam, AdamW or Adam with L2 weight decay.
    pub kind: OptimizerKind,
    /// Learning rate.
    pub lr: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 }
    }
}

impl OptimizerConfig {
    /// Errors unless the learning rate and weight decay are finite and non-negative.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid("learning rate", format!("{} must be finite and positive (try 1e-3)", self.lr)));
        }
        if let OptimizerKind::AdamW { weight_decay } | OptimizerKind::AdamL2 { weight_decay } = self.kind {
            if !(weight_decay.is_finite() && weight_decay >= 0.0) {
                return Err(Error::invalid("weight decay", format!("{weight_decay} must be finite and ≥ 0")));
            }
        }
        Ok(())
    }

    /// dfdx's Adam settings for this configuration.
    pub(crate) fn adam(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr,
            weight_decay: match self.kind {
                OptimizerKind::Adam => None,
                OptimizerKind::AdamW { weight_decay } => Some(WeightDecay::Decoupled(weight_decay)),
                OptimizerKind::AdamL2 { weight_decay } => Some(WeightDecay::L2(weight_decay)),
            },
            ..Default::default()
        }
    }
}

/// Adam's moments and step count for parameters kept as plain numbers (a label table, the
/// U-Net's tensors), updated exactly as dfdx's CPU Adam kernel updates a module's tensors.
#[derive(Clone, Debug)]
pub(crate) struct AdamState {
    t: i32,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl AdamState {
    /// Zero moments for `n` numbers.
    pub(crate) fn new(n: usize) -> Self {
        AdamState { t: 0, m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// One Adam (or AdamW, or L2) step on `params` with gradient `grad` (f32, bias-corrected moments):
    ///
    /// ```text
    /// m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − (lr m̂/(√v̂ + ε) + lr λ θ)   (λ: AdamW only)
    /// ```
    pub(crate) fn step(&mut self, params: &mut [f32], grad: &[f32], cfg: &AdamConfig) {
        assert!(params.len() == self.m.len() && grad.len() == self.m.len(), "one gradient and moment per parameter");
        self.t += 1;
        let [b1, b2] = cfg.betas.map(|b| b as f32);
        let (eps, lr) = (cfg.eps as f32, cfg.lr as f32);
        let (c1, c2) = ((1.0 - b1.powi(self.t)).recip(), (1.0 - b2.powi(self.t)).recip());
        for ((p, &g0), (m, v)) in params.iter_mut().zip(grad).zip(self.m.iter_mut().zip(self.v.iter_mut())) {
            let mut g = g0;
            if let Some(WeightDecay::L2(wd)) = cfg.weight_decay {
                g += wd as f32 * *p;
            }
            *m = *m * b1 + g * (1.0 - b1);
            *v = *v * b2 + g.powi(2) * (1.0 - b2);
            g = lr * (*m * c1) / ((*v * c2).sqrt() + eps);
            if let Some(WeightDecay::Decoupled(wd)) = cfg.weight_decay {
                g += (wd * cfg.lr) as f32 * *p;
            }
            *p -= g;
        }
    }
}
