//! What an MLP is built with: the activation, the time embedding and the seed (saved in checkpoints).
//!
//! ```text
//! act ∈ {SiLU x·σ(x), ReLU, tanh, GELU, SELU λ(x⁺ + α(e^{x⁻} − 1))},    τ(t) = t   or   (sin 2πf_j t, cos 2πf_j t)_j,  f_j = f_max^{j/(k−1)}
//! ```

use serde::{Deserialize, Serialize};

/// The nonlinearity between layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// SiLU (swish): x·σ(x). The default.
    #[default]
    Silu,
    /// max(0, x).
    Relu,
    /// tanh(x).
    Tanh,
    /// GELU, tanh approximation.
    Gelu,
    /// SELU (Klambauer et al. 2017): λx for x > 0, λα(eˣ − 1) otherwise, with
    /// λ ≈ 1.0507 and α ≈ 1.6733 (the activation of TorchCFM's 2-D examples).
    Selu,
}

/// How the time t ∈ [0, 1] enters the network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub enum TimeEmbedding {
    /// τ(t) = (t): one feature. Needs `TF = 1`.
    #[default]
    Raw,
    /// Sinusoidal features τ(t) = (sin 2πf₁t, cos 2πf₁t, …, sin 2πf_k t, cos 2πf_k t) with
    /// k = TF/2 frequencies spaced geometrically from 1 to `max_frequency`. Needs an even `TF ≥ 2`.
    Fourier {
        /// The highest frequency f_k (cycles per unit time), at least 1.
        max_frequency: f64,
    },
}

impl TimeEmbedding {
    /// Fourier features with frequencies up to 16 (a good default for t ∈ [0, 1]).
    pub fn fourier() -> Self {
        TimeEmbedding::Fourier { max_frequency: 16.0 }
    }

    /// The frequencies f_j = max^(j/(k−1)), j = 0..k (k = 1 gives f = 1).
    fn frequencies(&self, k: usize) -> Vec<f64> {
        match *self {
            TimeEmbedding::Raw => Vec::new(),
            TimeEmbedding::Fourier { max_frequency } => {
                (0..k).map(|j| if k == 1 { 1.0 } else { max_frequency.powf(j as f64 / (k - 1) as f64) }).collect()
            }
        }
    }

    /// Writes τ(t) for every t into a row-major `t.len() × tf` buffer.
    pub fn features(&self, t: &[f64], tf: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(t.len() * tf);
        match self {
            TimeEmbedding::Raw => out.extend(t.iter().map(|&t| t as f32)),
            TimeEmbedding::Fourier { .. } => {
                let freqs = self.frequencies(tf / 2);
                for &ti in t {
                    for f in &freqs {
                        let a = 2.0 * std::f64::consts::PI * f * ti;
                        out.push(a.sin() as f32);
                        out.push(a.cos() as f32);
                    }
                }
            }
        }
        out
    }
}

/// What an [`Mlp`](super::Mlp) was built with. Saved in every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// The nonlinearity.
    pub activation: Activation,
    /// The time embedding.
    pub time_embedding: TimeEmbedding,
    /// The seed of the initial weights.
    pub seed: u64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig { activation: Activation::Silu, time_embedding: TimeEmbedding::Raw, seed: 0 }
    }
}
