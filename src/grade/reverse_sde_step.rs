//! Exercise 7.6.2: one Euler–Maruyama step of the VP reverse SDE, in our time.
//!
//! In Flow Matching time (noise at t = 0, data at t = 1) the reverse SDE of the
//! variance-preserving process is dx = [½β x + β ∇log p_t(x)] dt + √β dW with
//! β = β(1 − t). Euler–Maruyama freezes drift and noise level at the start of
//! a step of length h, and draws the Brownian increment as √h z, z ~ N(0, I):
//!
//! ```text
//! x' = x + h (½ β x + β s) + √(β h) z,        β = β(1 − t),  s = ∇log p_t(x)
//! ```
//!
//! The student writes
//! `fn reverse_sde_step(x: &[f64], score: &[f64], t: f64, h: f64, z: &[f64], sde: &VpSde) -> Vec<f64>`
//! (the checker supplies the score and the standard normal z, so the step is a
//! deterministic function); the checker compares it with the formula on several
//! VP-SDEs, times and step sizes.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::diffusion::VpSde;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64, f64, &[f64], &VpSde) -> Vec<f64> + Sync;

/// Exercise 7.6.2: `reverse_sde_step`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "One Euler–Maruyama step of the VP reverse SDE, in Flow Matching time",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the drift is a velocity, so it moves the point in proportion to the step; the Brownian \
                increment over a step grows like the square root of its length; the reverse drift carries the full \
                squared noise level on the score; and β is a diffusion-time quantity, read through the time \
                dictionary.",
            formula: "β = β(1 − t) (sde.beta_at(t)); x' = x + h·(½·β·x + β·s) + √(β·h)·z",
        },
        ..super::registered::reverse_sde_step
    },
    compare,
);

fn step(x: &[f64], s: &[f64], z: &[f64], beta: f64, h: f64, drift_score: f64, noise: f64) -> Vec<f64> {
    x.iter()
        .zip(s)
        .zip(z)
        .map(|((xi, si), zi)| xi + h * (0.5 * beta * xi + drift_score * si) + noise * zi)
        .collect()
}

/// Compares `f` with x + h(½βx + βs) + √(βh) z (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7610);
    let sdes = [
        VpSde::default(),
        VpSde::new(0.5, 25.0).map_err(|e| format!("the grader could not set up its test ({e})"))?,
    ];
    let cases: [(usize, f64, f64); 8] = [
        (0, 0.0, 0.01),
        (0, 0.3, 0.05),
        (1, 0.5, 0.1),
        (0, 0.8, 0.02),
        (1, 0.1, 0.2),
        (0, 0.95, 0.05),
        (1, 0.7, 0.3),
        (0, 0.25, 0.25),
    ];
    for (k, &(which, t, h)) in cases.iter().enumerate() {
        let sde = &sdes[which];
        let d = [2usize, 1, 3][k % 3];
        let x: Vec<f64> = (0..d).map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal)).collect();
        let s: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let z: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let context = format!(
            "For the VP-SDE with β_min = {}, β_max = {}, t = {}, h = {}, x = {}, score s = {} and z = {},",
            text::num(sde.beta_min()),
            text::num(sde.beta_max()),
            text::num(t),
            text::num(h),
            text::vector(&x),
            text::vector(&s),
            text::vector(&z)
        );
        let got = f(&x, &s, t, h, &z, sde);
        let beta = sde.beta_at(t);
        let want = step(&x, &s, &z, beta, h, beta, (beta * h).sqrt());
        text::check_len("next state", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let b_t = sde.beta(t);
            let flipped: Vec<f64> = x
                .iter()
                .zip(&s)
                .zip(&z)
                .map(|((xi, si), zi)| xi - h * (0.5 * beta * xi + beta * si) + (beta * h).sqrt() * zi)
                .collect();
            let suspects = [
                ("the √h is missing from the noise: a Brownian increment grows with the square root of the step", step(&x, &s, &z, beta, h, beta, beta.sqrt())),
                (
                    "the noise was scaled by h instead of √h: over a short step the noise dominates the drift",
                    step(&x, &s, &z, beta, h, beta, beta.sqrt() * h),
                ),
                (
                    "the score term has g = √β instead of g² = β: the reverse drift carries the squared noise level",
                    step(&x, &s, &z, beta, h, beta.sqrt(), (beta * h).sqrt()),
                ),
                (
                    "the score term has ½β, the probability-flow ODE's coefficient: with noise, the SDE needs twice that",
                    step(&x, &s, &z, beta, h, 0.5 * beta, (beta * h).sqrt()),
                ),
                (
                    "the drift's sign is flipped: that is the diffusion-time form, run forwards in our time",
                    flipped,
                ),
                (
                    "β was read at t, not at diffusion time 1 − t: β_max sits at our noise end t = 0",
                    step(&x, &s, &z, b_t, h, b_t, (b_t * h).sqrt()),
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
