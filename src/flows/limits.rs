//! The limits of normalizing flows, measured (topic 7.1): what a general Jacobian costs against a
//! coupling layer's, and how much mass a flow leaves between separated modes.
//!
//! ```text
//! general layer:   form J (2d forward passes, central differences) + LU for ln |det J|   ~ d² H + d³/3 flops
//! coupling layer:  one forward pass; ln |det J| = Σ_j s_j                               ~ d H + H² flops
//! mass outside:    m(r) = (1/n) #{ i : ‖x_i − c_k‖ > r for every centre c_k }
//! ```

use super::conditioner::Nonlinearity;
use super::coupling::{AffineCoupling, ScaleMap};
use super::jacobian::log_abs_det;
use super::Bijector;
use crate::error::{Error, Result};
use crate::points::Points;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// The two costs of one dimension d, in seconds per point (the fastest of several repeats).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct JacobianCost {
    /// The dimension d.
    pub dim: usize,
    /// Forming the d × d Jacobian of the layer (2d forward passes, batched) and its LU log-determinant.
    pub general_s: f64,
    /// The coupling layer's forward pass with its log-determinant Σ s.
    pub coupling_s: f64,
    /// The two log-determinants agreed (to 1e-5 of their size): the general one measured the same quantity.
    pub agree: bool,
}

/// The fastest time of `f`, repeated until `budget` is spent (at least twice, at most `max_reps` times).
fn fastest(budget: Duration, max_reps: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut best = f64::INFINITY;
    for rep in 0..max_reps.max(2) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        if rep >= 1 && start.elapsed() > budget {
            break;
        }
    }
    best
}

/// Times, for every d in `dims`, the log-determinant of one affine coupling layer two ways, with
/// the same conditioner `[⌈d/2⌉, hidden, hidden, 2⌊d/2⌋]` (tanh, seeded by `seed`):
///
/// * **general**: form the full d × d Jacobian by central differences (one batched forward pass
///   over the 2d shifted copies of the point) and take ln |det J| by nalgebra's LU, as a flow
///   without structure would have to;
/// * **coupling**: the layer's own forward pass, whose log-determinant is the sum of its log-scales
///   (timed on a batch of 64 points, reported per point).
///
/// Each cost is the fastest of repeats within about `budget_per_dim` (so a busy machine inflates it
/// less). The two log-determinants are compared, so the race is between equal answers.
pub fn jacobian_costs(dims: &[usize], hidden: usize, seed: u64, budget_per_dim: Duration) -> Result<Vec<JacobianCost>> {
    crate::numeric::check_count("the conditioner width", hidden)?;
    let mut out = Vec::with_capacity(dims.len());
    for (k, &d) in dims.iter().enumerate() {
        if d < 2 {
            return Err(Error::invalid("jacobian_costs dimensions", format!("{d}: a coupling layer needs d ≥ 2")));
        }
        let layer = AffineCoupling::halves(
            d,
            &[hidden, hidden],
            Nonlinearity::Tanh,
            ScaleMap::default(),
            1.0,
            seed + k as u64,
        )?;
        let z = Points::randn(64, d, seed ^ 0x5eed ^ d as u64);
        let z0 = z.row(0).to_vec();
        let h = super::jacobian::FD_STEP;
        let shifted = Points::from_fn(2 * d, d, |r, c| {
            z0[c]
                + if c == r / 2 {
                    if r % 2 == 0 {
                        h
                    } else {
                        -h
                    }
                } else {
                    0.0
                }
        });
        let general = || -> Result<f64> {
            let (fx, _) = layer.forward(&shifted)?;
            let j = DMatrix::from_fn(d, d, |r, c| (fx.row(2 * c)[r] - fx.row(2 * c + 1)[r]) / (2.0 * h));
            Ok(log_abs_det(&j))
        };
        let ld_general = general()?;
        let ld_coupling = layer.forward(&z)?.1[0];
        let agree = (ld_general - ld_coupling).abs() <= 1e-5 * (1.0 + ld_coupling.abs());
        let mut err = None;
        let general_s = fastest(budget_per_dim, 50, || {
            if let Err(e) = general() {
                err = Some(e);
            }
        });
        let coupling_s = fastest(budget_per_dim, 200, || {
            if let Err(e) = layer.forward(&z) {
                err = Some(e);
            }
        }) / z.len() as f64;
        if let Some(e) = err {
            return Err(e);
        }
        out.push(JacobianCost { dim: d, general_s, coupling_s, agree });
    }
    Ok(out)
}

/// The share of `points` farther than `radius` from every centre (rows of `centres`).
///
/// For a mixture of well-separated Gaussians N(c_k, σ² I) in 2-D and radius 3σ it is
/// e^{−9/2} ≈ 1.1 %; a flow, which bends one Gaussian into all the modes, leaves more between them.
pub fn mass_outside_discs(points: &Points, centres: &Points, radius: f64) -> Result<f64> {
    if points.dim() != centres.dim() {
        return Err(Error::shape(
            "mass_outside_discs",
            format!("centres of dimension {}", points.dim()),
            format!("{}", centres.dim()),
        ));
    }
    crate::numeric::check_count("the number of points", points.len())?;
    crate::numeric::check_positive("the disc radius", radius)?;
    let r2 = radius * radius;
    let outside = points.rows().filter(|p| centres.rows().all(|c| crate::numeric::sq_dist(p, c) > r2)).count();
    Ok(outside as f64 / points.len() as f64)
}
