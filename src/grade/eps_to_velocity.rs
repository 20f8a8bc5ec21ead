//! Exercise 7.6.1: read a noise prediction ε̂ as a velocity on a Gaussian path.
//!
//! On the path x = α_t x₁ + σ_t ε a network that predicts the noise ε̂ also
//! predicts the data, x̂₁ = (x − σ_t ε̂)/α_t, and so the velocity of the path
//! through both:
//!
//! ```text
//! v = α̇_t x̂₁ + σ̇_t ε̂ = (α̇_t/α_t) x + (σ̇_t − α̇_t σ_t/α_t) ε̂          (α_t > 0)
//! ```
//!
//! The student writes
//! `fn eps_to_velocity(x: &[f64], eps: &[f64], alpha: f64, sigma: f64, d_alpha: f64, d_sigma: f64) -> Vec<f64>`;
//! the checker feeds it the schedulers of [`crate::path::scheduler`] (VP, CondOT,
//! cosine, linear VP, polynomial) at times in (0, 1) and random coefficients, and
//! compares with [`crate::path::AffinePath::conversion_coefficients`].

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::path::{CondOT, Cosine, LinearVP, Polynomial, Scheduler, SchedulerOutput, VariancePreserving};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64, f64, f64, f64) -> Vec<f64> + Sync;

/// Exercise 7.6.1: `eps_to_velocity`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "A noise prediction read as a velocity on a Gaussian path",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "a noise prediction also fixes the data point it came from, because the path mixes data and noise \
                with known weights; the velocity is the path's rate of change with both of them held fixed, and both \
                weights change with time.",
            formula: "x̂₁ = (x − σ·ε̂)/α, then v = α̇·x̂₁ + σ̇·ε̂ = (α̇/α)·x + (σ̇ − α̇·σ/α)·ε̂",
        },
        ..super::registered::eps_to_velocity
    },
    compare,
);

/// v = (α̇/α) x + (σ̇ − α̇σ/α) ε̂.
fn reference(x: &[f64], eps: &[f64], c: &SchedulerOutput) -> Vec<f64> {
    combine(x, eps, c.d_alpha / c.alpha, c.d_sigma - c.d_alpha * c.sigma / c.alpha)
}

fn combine(x: &[f64], eps: &[f64], cx: f64, ce: f64) -> Vec<f64> {
    x.iter().zip(eps).map(|(xi, ei)| cx * xi + ce * ei).collect()
}

/// Compares `f` with the reference on scheduler values and random coefficients (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7609);
    let vp = VariancePreserving::default();
    let poly = Polynomial::new(2.0).map_err(|e| format!("the grader could not set up its test ({e})"))?;
    let schedules: [(&dyn Scheduler, &[f64]); 5] = [
        (&vp, &[0.05, 0.4, 0.8, 0.97]),
        (&CondOT, &[0.1, 0.5, 0.9]),
        (&Cosine, &[0.3, 0.7]),
        (&LinearVP, &[0.25, 0.6]),
        (&poly, &[0.5, 0.85]),
    ];
    let mut cases: Vec<(SchedulerOutput, String)> = Vec::new();
    for (s, times) in schedules {
        for &t in times {
            cases.push((s.eval(t), format!(" ({} at t = {})", s.name(), text::num(t))));
        }
    }
    for _ in 0..5 {
        let c = SchedulerOutput {
            alpha: 0.1 + 0.9 * rng.gen::<f64>(),
            sigma: 0.1 + 0.9 * rng.gen::<f64>(),
            d_alpha: 0.2 + 2.0 * rng.gen::<f64>(),
            d_sigma: -0.2 - 2.0 * rng.gen::<f64>(),
        };
        cases.push((c, String::new()));
    }
    for (k, (c, origin)) in cases.iter().enumerate() {
        let d = [2usize, 1, 3][k % 3];
        let x: Vec<f64> = (0..d).map(|_| 1.5 * rng.sample::<f64, _>(StandardNormal)).collect();
        let eps: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let context = format!(
            "For α = {}, σ = {}, α̇ = {}, σ̇ = {}{origin}, x = {} and ε̂ = {},",
            text::num(c.alpha),
            text::num(c.sigma),
            text::num(c.d_alpha),
            text::num(c.d_sigma),
            text::vector(&x),
            text::vector(&eps)
        );
        let got = f(&x, &eps, c.alpha, c.sigma, c.d_alpha, c.d_sigma);
        let want = reference(&x, &eps, c);
        text::check_len("velocity", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let (a, s, da, ds) = (c.alpha, c.sigma, c.d_alpha, c.d_sigma);
            let suspects = [
                (
                    "σ̇ is missing: the noise part of the path changes with time too, not only the data part",
                    combine(&x, &eps, da / a, -da * s / a),
                ),
                (
                    "the sign of the ε̂ term is flipped: recovering the data point means taking the noise out of x, \
                     not adding it",
                    combine(&x, &eps, da / a, -(ds - da * s / a)),
                ),
                (
                    "data and noise are swapped: that treats ε̂ as a prediction of the data point, not of the noise",
                    combine(&x, &eps, ds / s, da - ds * a / s),
                ),
                ("that is the data point the prediction implies, not yet its velocity", combine(&x, &eps, 1.0 / a, -s / a)),
                (
                    "the data point was not divided by α: x holds only the fraction α of it",
                    combine(&x, &eps, da, ds - da * s),
                ),
            ];
            let (g, w) = text::vector_pair(&got, &want);
            return Err(format!(
                "{context} your velocity was {g}; expected {w}{}.",
                text::remark(text::diagnose(&got, &suspects, 1e-9))
            ));
        }
    }
    Ok(())
}
