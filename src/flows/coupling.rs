//! The affine coupling layer (Dinh, Sohl-Dickstein & Bengio, 2017: RealNVP): half of the
//! coordinates pass through unchanged and set an affine map of the other half.
//!
//! ```text
//! forward:   x_A = z_A,   x_B = z_B ⊙ exp(s(z_A)) + t(z_A)          log |det ∂x/∂z| = Σ_j s_j(z_A)
//! inverse:   z_A = x_A,   z_B = (x_B − t(x_A)) ⊙ exp(−s(x_A))        log |det ∂z/∂x| = −Σ_j s_j(x_A)
//! (t_j, ŝ_j) = outputs (2j, 2j + 1) of the conditioner c(z_A),   s_j = S(ŝ_j)
//! S(ŝ) = ŝ (RealNVP, normflows)   or   S(ŝ) = k tanh(ŝ / k)  (a soft clamp: |s| < k, so exp(s) stays in (e⁻ᵏ, eᵏ))
//! ```
//!
//! The Jacobian is triangular once A comes before B: its diagonal is 1 on A and exp(s) on B, so
//! the log-determinant is a sum and the inverse needs no equation solving, whatever the
//! conditioner. That is why coupling layers scale to high dimensions (see `limits.rs`).

use super::conditioner::{Conditioner, Nonlinearity};
use super::{check_input, Bijector};
use crate::error::{Error, Result};
use crate::points::Points;
use serde::{Deserialize, Serialize};

/// How the conditioner's raw output ŝ becomes the log-scale s.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScaleMap {
    /// s = ŝ (RealNVP as normflows writes it): nothing stops exp(s) from overflowing.
    Identity,
    /// s = k tanh(ŝ/k): a soft clamp, |s| < k, with slope 1 at ŝ = 0.
    SoftClamp {
        /// The bound k > 0.
        bound: f64,
    },
}

impl Default for ScaleMap {
    /// The soft clamp with k = 3.
    fn default() -> Self {
        ScaleMap::SoftClamp { bound: 3.0 }
    }
}

impl ScaleMap {
    /// The bound k of a soft clamp; `None` for [`ScaleMap::Identity`].
    pub fn bound(self) -> Option<f64> {
        match self {
            ScaleMap::Identity => None,
            ScaleMap::SoftClamp { bound } => Some(bound),
        }
    }

    /// s = S(ŝ).
    pub fn apply(self, raw: f64) -> f64 {
        match self.bound() {
            None => raw,
            Some(k) => k * (raw / k).tanh(),
        }
    }

    /// dS/dŝ at ŝ.
    pub fn derivative(self, raw: f64) -> f64 {
        match self.bound() {
            None => 1.0,
            Some(k) => {
                let t = (raw / k).tanh();
                1.0 - t * t
            }
        }
    }

    /// Errors unless a soft clamp's bound is finite and positive.
    pub fn validate(self) -> Result<()> {
        match self.bound() {
            Some(k) if !(k.is_finite() && k > 0.0) => {
                Err(Error::invalid("the soft clamp of a coupling layer", format!("bound {k} must be finite and > 0")))
            }
            _ => Ok(()),
        }
    }
}

/// An affine coupling layer: the coordinates `kept` (A) pass through and condition the others (B).
#[derive(Clone, Debug, PartialEq)]
pub struct AffineCoupling {
    dim: usize,
    kept: Vec<usize>,
    moved: Vec<usize>,
    net: Conditioner,
    scale: ScaleMap,
}

impl AffineCoupling {
    /// A coupling layer on d = `mask.len()` coordinates: `mask[i] = true` keeps coordinate i
    /// (it passes through and feeds the conditioner), `false` moves it. The conditioner maps
    /// the kept coordinates (in order) to 2 outputs per moved coordinate: (shift, raw log-scale).
    pub fn with_mask(mask: &[bool], net: Conditioner, scale: ScaleMap) -> Result<AffineCoupling> {
        scale.validate()?;
        let kept: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
        let moved: Vec<usize> = (0..mask.len()).filter(|&i| !mask[i]).collect();
        if kept.is_empty() || moved.is_empty() {
            return Err(Error::invalid(
                "coupling mask",
                format!("{mask:?} must keep at least one coordinate and move at least one"),
            ));
        }
        if net.input_dim() != kept.len() || net.output_dim() != 2 * moved.len() {
            return Err(Error::shape(
                "the coupling layer's conditioner",
                format!(
                    "{} inputs (kept coordinates) and {} outputs (shift and log-scale per moved one)",
                    kept.len(),
                    2 * moved.len()
                ),
                format!("{} inputs and {} outputs", net.input_dim(), net.output_dim()),
            ));
        }
        Ok(AffineCoupling { dim: mask.len(), kept, moved, net, scale })
    }

    /// The RealNVP split of normflows: the first ⌈d/2⌉ coordinates are kept, the rest moved,
    /// with a fresh conditioner `[⌈d/2⌉, hidden…, 2⌊d/2⌋]` (seeded), its last layer scaled by
    /// `output_scale` (0 starts the layer as the identity).
    pub fn halves(
        dim: usize,
        hidden: &[usize],
        act: Nonlinearity,
        scale: ScaleMap,
        output_scale: f64,
        seed: u64,
    ) -> Result<AffineCoupling> {
        if dim < 2 {
            return Err(Error::invalid("coupling layer dimension", format!("{dim}: a coupling layer needs d ≥ 2")));
        }
        let k = dim.div_ceil(2);
        let mut sizes = vec![k];
        sizes.extend_from_slice(hidden);
        sizes.push(2 * (dim - k));
        let net = Conditioner::new(&sizes, act, seed)?.scale_output(output_scale);
        let mask: Vec<bool> = (0..dim).map(|i| i < k).collect();
        AffineCoupling::with_mask(&mask, net, scale)
    }

    /// The kept coordinates (A).
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// The moved coordinates (B).
    pub fn moved(&self) -> &[usize] {
        &self.moved
    }

    /// The conditioner.
    pub fn conditioner(&self) -> &Conditioner {
        &self.net
    }

    /// The scale map.
    pub fn scale_map(&self) -> ScaleMap {
        self.scale
    }

    /// (t_j, s_j) for every moved coordinate, from the conditioner's raw output.
    fn shift_scale(&self, raw: &[f64], j: usize) -> (f64, f64) {
        (raw[2 * j], self.scale.apply(raw[2 * j + 1]))
    }

    /// The kept coordinates of every row, as points for the batch conditioner.
    fn kept_rows(&self, p: &Points) -> Points {
        Points::from_fn(p.len(), self.kept.len(), |i, j| p.row(i)[self.kept[j]])
    }

    /// Applies the layer to every row; `inverse` picks the direction.
    fn batch(&self, input: &Points, inverse: bool) -> Result<(Points, Vec<f64>)> {
        check_input(
            self.dim,
            input,
            if inverse { "the input x of a coupling inverse" } else { "the input z of a coupling layer" },
        )?;
        let raw = self.net.eval_batch(&self.kept_rows(input))?;
        let mut out = input.clone();
        let mut lds = Vec::with_capacity(input.len());
        for (i, row) in out.rows_mut().enumerate() {
            let mut ld = 0.0;
            for (j, &b) in self.moved.iter().enumerate() {
                let (t, s) = self.shift_scale(raw.row(i), j);
                if inverse {
                    row[b] = (row[b] - t) * (-s).exp();
                } else {
                    row[b] = row[b] * s.exp() + t;
                }
                ld += s;
            }
            lds.push(if inverse { -ld } else { ld });
        }
        Ok((out, lds))
    }
}

impl Bijector for AffineCoupling {
    fn dim(&self) -> usize {
        self.dim
    }

    fn name(&self) -> String {
        "affine coupling".into()
    }

    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        let a: Vec<f64> = self.kept.iter().map(|&i| z[i]).collect();
        let mut raw = vec![0.0; self.net.output_dim()];
        self.net.eval(&a, &mut raw);
        x.copy_from_slice(z);
        let mut ld = 0.0;
        for (j, &b) in self.moved.iter().enumerate() {
            let (t, s) = self.shift_scale(&raw, j);
            x[b] = z[b] * s.exp() + t;
            ld += s;
        }
        ld
    }

    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        let a: Vec<f64> = self.kept.iter().map(|&i| x[i]).collect();
        let mut raw = vec![0.0; self.net.output_dim()];
        self.net.eval(&a, &mut raw);
        z.copy_from_slice(x);
        let mut ld = 0.0;
        for (j, &b) in self.moved.iter().enumerate() {
            let (t, s) = self.shift_scale(&raw, j);
            z[b] = (x[b] - t) * (-s).exp();
            ld += s;
        }
        Ok(-ld)
    }

    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }

    fn forward(&self, z: &Points) -> Result<(Points, Vec<f64>)> {
        self.batch(z, false)
    }

    fn inverse(&self, x: &Points) -> Result<(Points, Vec<f64>)> {
        self.batch(x, true)
    }
}
