//! Exercise 7.3.3: the conditional velocity of a Gaussian path.
//!
//! A Gaussian conditional path p_t(x | z) = N(α_t z, β_t² I) moves the point
//! x = α_t z + β_t x₀ (x₀ the noise, z the data point it is conditioned on).
//! Eliminating x₀ = (x − α_t z)/β_t from dx/dt = α̇_t z + β̇_t x₀ gives the
//! velocity at any x as a function of x and z alone:
//!
//! ```text
//! u_t(x | z) = (α̇_t − (β̇_t/β_t) α_t) z + (β̇_t/β_t) x          (β_t > 0)
//! ```
//!
//! (β is what the library's schedulers call σ.) For CondOT, α_t = t and
//! β_t = 1 − t, it reduces to
//!
//! ```text
//! u_t(x | z) = (z − x) / (1 − t)
//! ```
//!
//! The student writes
//! `fn gaussian_velocity(x: &[f64], z: &[f64], alpha: f64, beta: f64, d_alpha: f64, d_beta: f64) -> Vec<f64>`;
//! the checker feeds it the schedules of [`crate::path::scheduler`] (CondOT,
//! polynomial, variance preserving, linear VP, cosine) and random
//! coefficients, then checks the CondOT limit against (z − x)/(1 − t) at
//! t = 0, 0.5, 0.9 and 0.999.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::path::{CondOT, Cosine, LinearVP, Polynomial, Scheduler, VariancePreserving};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64, f64, f64, f64) -> Vec<f64> + Sync;

/// Exercise 7.3.3: `gaussian_velocity`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The conditional velocity of a Gaussian path, as a function of the position x",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the velocity must be a function of the position x and the data point z, not of the noise: \
                differentiate the sample path α·z + β·x0 in time, then eliminate the noise x0 using the position x. \
                The noise term shrinks or grows like β, and that must show up in the coefficient of x.",
            formula: "x0 = (x − α·z)/β; u = (α̇ − (β̇/β)·α)·z + (β̇/β)·x",
        },
        ..super::registered::gaussian_velocity
    },
    compare,
);

/// (α, β, α̇, β̇) and where they came from, for the messages.
struct Coefficients {
    alpha: f64,
    beta: f64,
    d_alpha: f64,
    d_beta: f64,
    origin: String,
}

/// u = (α̇ − (β̇/β) α) z + (β̇/β) x.
fn reference(x: &[f64], z: &[f64], c: &Coefficients) -> Vec<f64> {
    let r = c.d_beta / c.beta;
    x.iter().zip(z).map(|(xi, zi)| (c.d_alpha - r * c.alpha) * zi + r * xi).collect()
}

/// Compares `f` with u_t(x | z) = (α̇ − (β̇/β) α) z + (β̇/β) x, then with the CondOT
/// limit (z − x)/(1 − t), on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7303);
    let mut coefficients = Vec::new();
    let vp = VariancePreserving::default();
    let poly = Polynomial::new(2.0).map_err(|e| format!("the grader could not set up its test ({e})"))?;
    let schedules: [(&dyn Scheduler, &[f64]); 5] = [
        (&CondOT, &[0.0, 0.3, 0.75, 0.999]),
        (&poly, &[0.2, 0.6, 0.95]),
        (&vp, &[0.1, 0.5, 0.9]),
        (&LinearVP, &[0.3, 0.7]),
        (&Cosine, &[0.0, 0.25, 0.8]),
    ];
    for (s, times) in schedules {
        for &t in times {
            let o = s.eval(t);
            coefficients.push(Coefficients {
                alpha: o.alpha,
                beta: o.sigma,
                d_alpha: o.d_alpha,
                d_beta: o.d_sigma,
                origin: format!(" ({} at t = {})", s.name(), text::num(t)),
            });
        }
    }
    for _ in 0..6 {
        coefficients.push(Coefficients {
            alpha: rng.gen::<f64>(),
            beta: 0.05 + 0.95 * rng.gen::<f64>(),
            d_alpha: 2.0 * rng.sample::<f64, _>(StandardNormal),
            d_beta: 2.0 * rng.sample::<f64, _>(StandardNormal),
            origin: String::new(),
        });
    }
    for (k, c) in coefficients.iter().enumerate() {
        let d = [2usize, 1, 3, 4][k % 4];
        let x: Vec<f64> = (0..d).map(|_| 1.5 * rng.sample::<f64, _>(StandardNormal)).collect();
        let z: Vec<f64> = (0..d).map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal) + 1.0).collect();
        let context = format!(
            "For α = {}, β = {}, α̇ = {}, β̇ = {}{}, x = {} and z = {},",
            text::num(c.alpha),
            text::num(c.beta),
            text::num(c.d_alpha),
            text::num(c.d_beta),
            c.origin,
            text::vector(&x),
            text::vector(&z)
        );
        let got = f(&x, &z, c.alpha, c.beta, c.d_alpha, c.d_beta);
        let want = reference(&x, &z, c);
        text::check_len("velocity", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let r = c.d_beta / c.beta;
            let suspects = [
                (
                    "the coefficient of z is just α̇, the velocity of the path's mean: eliminating the noise brings z into \
                     the noise term too",
                    x.iter().zip(&z).map(|(xi, zi)| c.d_alpha * zi + r * xi).collect(),
                ),
                ("your velocity does not depend on x: the term that carries the noise is missing", z.iter().map(|zi| (c.d_alpha - r * c.alpha) * zi).collect()),
                (
                    "the sign of β̇/β is flipped",
                    x.iter().zip(&z).map(|(xi, zi)| (c.d_alpha + r * c.alpha) * zi - r * xi).collect(),
                ),
                (
                    "the ratio of β and its derivative is upside down",
                    x.iter().zip(&z).map(|(xi, zi)| (c.d_alpha - c.alpha / r) * zi + xi / r).collect(),
                ),
            ];
            let (g, w) = text::vector_pair(&got, &want);
            return Err(format!(
                "{context} your velocity was {g}; expected {w}{}.",
                text::remark(text::diagnose(&got, &suspects, 1e-9))
            ));
        }
    }
    // The CondOT limit, checked against its own closed form.
    for (k, t) in [0.0, 0.5, 0.9, 0.999].into_iter().enumerate() {
        let d = 1 + k % 3;
        let x: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
        let z: Vec<f64> = (0..d).map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal)).collect();
        let got = f(&x, &z, t, 1.0 - t, 1.0, -1.0);
        let want: Vec<f64> = x.iter().zip(&z).map(|(xi, zi)| (zi - xi) / (1.0 - t)).collect();
        let context = format!(
            "With α = t, β = 1 − t, α̇ = 1, β̇ = −1 (CondOT) at t = {}, x = {} and z = {}:",
            text::num(t),
            text::vector(&x),
            text::vector(&z)
        );
        text::check_len("velocity", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let (g, w) = text::vector_pair(&got, &want);
            return Err(format!("{context} the velocity must reduce to (z − x)/(1 − t) = {w}; yours was {g}."));
        }
    }
    Ok(())
}
