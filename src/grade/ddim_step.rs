//! Exercise 7.6.3: one deterministic DDIM step.
//!
//! DDIM (Song, Meng & Ermon 2021) trusts the model's noise prediction ε̂ at
//! (x, t): the clean point it implies is x̂₁ = (x − σ_t ε̂)/α_t, and the step
//! moves to the point of the path through x̂₁ and ε̂ at the next time t':
//!
//! ```text
//! x' = α_{t'} x̂₁ + σ_{t'} ε̂ = α_{t'} (x − σ_t ε̂)/α_t + σ_{t'} ε̂
//! ```
//!
//! The student writes
//! `fn ddim_step(x: &[f64], eps: &[f64], alpha: f64, sigma: f64, alpha_next: f64, sigma_next: f64) -> Vec<f64>`;
//! the checker compares it with the formula on the VP and CondOT paths (the last
//! step to the data end included) and on random coefficients.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::path::{CondOT, Scheduler, VariancePreserving};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64, f64, f64, f64) -> Vec<f64> + Sync;

/// Exercise 7.6.3: `ddim_step`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "One DDIM step: denoise, then re-noise at the next time",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "split the current point into the data and the noise it is made of (the prediction gives the \
                noise, the path's mixture gives the data), then mix the same two again with the weights of the next \
                time.",
            formula: "x̂₁ = (x − σ·ε̂)/α, x' = α'·x̂₁ + σ'·ε̂",
        },
        ..super::registered::ddim_step
    },
    compare,
);

fn ddim(x: &[f64], eps: &[f64], a: f64, s: f64, a2: f64, s2: f64) -> Vec<f64> {
    x.iter().zip(eps).map(|(xi, ei)| a2 * (xi - s * ei) / a + s2 * ei).collect()
}

/// Compares `f` with α'(x − σε̂)/α + σ'ε̂ (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7611);
    let vp = VariancePreserving::default();
    let mut cases: Vec<(f64, f64, f64, f64, String)> = Vec::new();
    for (s, steps) in [
        (&vp as &dyn Scheduler, &[(0.0, 0.25), (0.4, 0.5), (0.75, 1.0), (0.9, 0.95)][..]),
        (&CondOT, &[(0.1, 0.3), (0.5, 0.75), (0.8, 1.0)][..]),
    ] {
        for &(t, t2) in steps {
            let (c, c2) = (s.eval(t), s.eval(t2));
            let origin = format!(" ({} from t = {} to {})", s.name(), text::num(t), text::num(t2));
            cases.push((c.alpha, c.sigma, c2.alpha, c2.sigma, origin));
        }
    }
    for _ in 0..4 {
        let (a, a2) = (0.1 + 0.8 * rng.gen::<f64>(), 0.1 + 0.8 * rng.gen::<f64>());
        cases.push((a, 0.2 + 0.8 * rng.gen::<f64>(), a2, 0.1 + 0.8 * rng.gen::<f64>(), String::new()));
    }
    for (k, (a, s, a2, s2, origin)) in cases.iter().enumerate() {
        let (a, s, a2, s2) = (*a, *s, *a2, *s2);
        let d = [2usize, 3, 1][k % 3];
        let x: Vec<f64> = (0..d).map(|_| 1.5 * rng.sample::<f64, _>(StandardNormal)).collect();
        let eps: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let context = format!(
            "For α = {}, σ = {}, α' = {}, σ' = {}{origin}, x = {} and ε̂ = {},",
            text::num(a),
            text::num(s),
            text::num(a2),
            text::num(s2),
            text::vector(&x),
            text::vector(&eps)
        );
        let got = f(&x, &eps, a, s, a2, s2);
        let want = ddim(&x, &eps, a, s, a2, s2);
        text::check_len("next state", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let x1: Vec<f64> = x.iter().zip(&eps).map(|(xi, ei)| (xi - s * ei) / a).collect();
            let suspects = [
                ("the re-noising uses the current noise weight: the next point needs the next time's", ddim(&x, &eps, a, s, a2, s)),
                (
                    "the clean point was not divided by α: x holds only the fraction α of it",
                    x.iter().zip(&eps).map(|(xi, ei)| a2 * (xi - s * ei) + s2 * ei).collect(),
                ),
                ("that is the clean point itself: a DDIM step stops at the next time, not at the data", x1.clone()),
                (
                    "the weights of data and noise are swapped: the signal weight belongs to the data",
                    x1.iter().zip(&eps).map(|(di, ei)| s2 * di + a2 * ei).collect(),
                ),
                (
                    "the sign of the noise is flipped when denoising: the noise must be taken out of x, not added",
                    ddim(&x, &eps, a, -s, a2, s2),
                ),
            ];
            let (g, w) = text::vector_pair(&got, &want);
            return Err(format!(
                "{context} your next state was {g}; expected {w}{}.",
                text::remark(text::diagnose(&got, &suspects, 1e-9))
            ));
        }
    }
    Ok(())
}
