//! Hutchinson's trace estimator: tr J = E[εᵀ J ε] for any probe with E[ε εᵀ] = I.
//!
//! ```text
//! E[εᵀ J ε] = Σ_ab J_ab E[ε_a ε_b] = Σ_a J_aa = tr J
//! Var[εᵀ J ε] = 2 Σ_{a≠b} S_ab²   (Rademacher: ε_a² = 1, so the diagonal adds no noise)
//! Var[εᵀ J ε] = 2 Σ_{a,b} S_ab²   (Gaussian),        S = (J + Jᵀ)/2
//! k probes:  (1/k) Σ_j ε_jᵀ J ε_j,   standard deviation ∝ k^{−1/2}
//! ```

use super::Divergence;
use crate::error::{Error, Result};
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// The distribution of a Hutchinson probe: both have mean 0 and covariance I.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// Each coordinate ±1 with probability ½ (the smaller variance: the diagonal of J
    /// contributes none).
    Rademacher,
    /// Each coordinate standard normal.
    Gaussian,
}

impl Probe {
    /// "Rademacher" or "Gaussian".
    pub fn name(&self) -> &'static str {
        match self {
            Probe::Rademacher => "Rademacher",
            Probe::Gaussian => "Gaussian",
        }
    }
}

/// `k` probes for `n` points in dimension `d`, each n × d, from `StdRng::seed_from_u64(seed)`
/// (probe by probe, row by row): the same seed gives the same probes.
pub fn draw_probes(n: usize, d: usize, k: usize, probe: Probe, seed: u64) -> Vec<Points> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..k)
        .map(|_| {
            Points::from_fn(n, d, |_, _| match probe {
                Probe::Rademacher => {
                    if rng.gen::<bool>() {
                        1.0
                    } else {
                        -1.0
                    }
                }
                Probe::Gaussian => rng.sample(StandardNormal),
            })
        })
        .collect()
}

/// εᵢᵀ (J ε)ᵢ for every row i: the one-probe Hutchinson estimates from a probe `e` and
/// the products `jv` = J ε (both n × d).
pub fn quadratic_forms(e: &Points, jv: &Points) -> Vec<f64> {
    e.rows().zip(jv.rows()).map(|(a, b)| a.iter().zip(b).map(|(p, q)| p * q).sum()).collect()
}

/// Hutchinson's estimate of ∇·v(x_i, t) for every row, from the given probes:
/// (1/k) Σ_j ε_j,iᵀ J(x_i, t) ε_j,i.
///
/// Errors: [`Error::ZeroCount`] for no probes, [`Error::ShapeMismatch`] for a probe whose
/// shape is not that of `x`, and the field's own errors.
pub fn hutchinson_divergence(field: &dyn Divergence, x: &Points, t: f64, probes: &[Points]) -> Result<Vec<f64>> {
    if probes.is_empty() {
        return Err(Error::ZeroCount { what: "the number of Hutchinson probes".into() });
    }
    let (_, jv) = field.jvp(x, t, probes)?;
    let mut out = vec![0.0; x.len()];
    for (e, j) in probes.iter().zip(&jv) {
        for (o, q) in out.iter_mut().zip(quadratic_forms(e, j)) {
            *o += q;
        }
    }
    let k = probes.len() as f64;
    out.iter_mut().for_each(|o| *o /= k);
    Ok(out)
}
