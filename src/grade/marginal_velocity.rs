//! Exercise 7.3.4: the marginal velocity of a finite data set, in log space.
//!
//! For data points z_1, …, z_N (equal weights) and the CondOT path, the
//! conditional path is p_t(x | z_i) = N(t z_i, (1 − t)² I), and the marginal
//! velocity is the posterior-weighted average of the conditional velocities:
//!
//! ```text
//! ℓ_i = −‖x − t z_i‖² / (2 (1 − t)²),   w_i = exp(ℓ_i − max_j ℓ_j) / Σ_k exp(ℓ_k − max_j ℓ_j),
//! u_t(x) = Σ_i w_i (z_i − x) / (1 − t)                                        (0 ≤ t < 1)
//! ```
//!
//! The student writes `fn marginal_velocity(x: &[f64], data: &Points, t: f64) -> Vec<f64>`;
//! the checker compares it with [`crate::marginal::Marginal::from_points`] at
//! t = 0, at t = 0.5, at t = 0.999 (where every unshifted exponential underflows)
//! and far from the data.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::marginal::Marginal;
use crate::path::CondOT;
use crate::points::Points;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &Points, f64) -> Vec<f64> + Sync;

/// Exercise 7.3.4: `marginal_velocity`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The marginal velocity of a finite data set, stable at every t and far from the data",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the marginal velocity at x is an average of the conditional velocities towards every data \
                point, each weighted by how likely that data point is to have produced x at time t (its posterior). \
                Those likelihoods are Gaussians whose width shrinks to zero as t → 1: compute their logarithms, and \
                shift by the largest one before exponentiating, so that nothing underflows to 0/0.",
            formula: "ℓ_i = −‖x − t·z_i‖²/(2(1 − t)²); w_i = exp(ℓ_i − max ℓ)/Σ_k exp(ℓ_k − max ℓ); \
                u = Σ_i w_i·(z_i − x)/(1 − t)",
        },
        ..super::registered::marginal_velocity
    },
    compare,
);

/// The suspects: what each typical mistake returns at (x, t).
fn suspects(x: &[f64], data: &Points, t: f64) -> Vec<(&'static str, Vec<f64>)> {
    let s = 1.0 - t;
    let log_w = |var: f64| -> Vec<f64> {
        data.rows().map(|z| -x.iter().zip(z).map(|(a, b)| (a - t * b).powi(2)).sum::<f64>() / (2.0 * var)).collect()
    };
    let average = |w: &[f64], normalise: bool| -> Vec<f64> {
        let total: f64 = if normalise { w.iter().sum() } else { 1.0 };
        (0..x.len())
            .map(|j| data.rows().zip(w).map(|(z, wi)| wi * (z[j] - x[j]) / s).sum::<f64>() / total)
            .collect()
    };
    let shifted = |l: Vec<f64>| {
        let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        l.into_iter().map(|v| (v - m).exp()).collect::<Vec<f64>>()
    };
    vec![
        (
            "your weights do not add up to one: the posterior is the likelihoods divided by their sum",
            average(&shifted(log_w(s * s)), false),
        ),
        ("your weights are all equal: the posterior depends on how close x is to each t·z_i", average(&vec![1.0; data.shape().0], true)),
        (
            "the spread of the conditional path is 1 − t, so its variance is (1 − t)², not 1 − t",
            average(&shifted(log_w(s)), true),
        ),
        (
            "only the nearest data point counts: away from t = 1 every data point keeps some posterior weight",
            {
                let l = log_w(s * s);
                let best = (0..l.len()).max_by(|&a, &b| l[a].total_cmp(&l[b])).unwrap_or(0);
                average(&(0..l.len()).map(|i| if i == best { 1.0 } else { 0.0 }).collect::<Vec<f64>>(), true)
            },
        ),
    ]
}

/// Compares `f` with the closed form of [`Marginal::from_points`] on the calling thread.
fn compare(f: &StudentFn) -> Result<(), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let data = Points::from_rows(&[[5.0, 0.0], [-5.0, 0.0], [0.0, 4.0], [1.0, -3.0], [2.0, 2.0]]).map_err(setup)?;
    let truth = Marginal::from_points(&data, CondOT).map_err(setup)?;
    let cases: [(&[f64], f64, &str); 7] = [
        (&[1.0, 2.0], 0.0, " (at t = 0 the posterior is the whole data set)"),
        (&[3.0, -1.0], 0.0, " (at t = 0 the posterior is the whole data set)"),
        (&[0.5, 0.5], 0.5, ""),
        (&[-2.0, 1.0], 0.8, ""),
        (&[4.0, 0.3], 0.999, " (near t = 1 every likelihood is exp of a large negative number)"),
        (&[1.5, 1.4], 0.999, " (near t = 1 every likelihood is exp of a large negative number)"),
        (&[60.0, -45.0], 0.5, " (far from the data every likelihood underflows)"),
    ];
    for (x, t, note) in cases {
        let context = format!("At x = {} and t = {}{note},", text::vector(x), text::num(t));
        let want = truth.velocity(&Points::from_rows(&[x]).map_err(setup)?, t).map_err(setup)?.row(0).to_vec();
        let got = f(x, &data, t);
        text::check_len("velocity", got.len(), want.len(), &context)?;
        if got.iter().any(|v| !v.is_finite()) {
            return Err(format!(
                "{context} your velocity was {}; expected {}: the weights were computed outside log space, and \
                 every exponential underflowed to 0, giving 0/0. Work with the logarithms and shift them by their \
                 largest value before exponentiating.",
                text::vector(&got),
                text::vector(&want)
            ));
        }
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-6)) {
            let s = suspects(x, &data, t);
            let (g, w) = text::vector_pair(&got, &want);
            return Err(format!("{context} your velocity was {g}; expected {w}{}.", text::remark(text::diagnose(&got, &s, 1e-6))));
        }
    }
    Ok(())
}
