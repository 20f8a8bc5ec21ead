//! Exercise 7.3.1: the CondOT interpolant.
//!
//! The conditional optimal-transport path moves a noise point x₀ to a data
//! point x₁ along a straight line at constant speed:
//!
//! ```text
//! x_t = t x₁ + (1 − t) x₀,    t ∈ [0, 1]
//! ```
//!
//! so x_0 is the noise and x_1 the data. The student writes
//! `fn interpolant(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64>` for one point
//! of any dimension; the checker compares it with this formula in dimensions
//! 1, 2, 3 and 5 at t = 0, t = 1, t close to 1 and random times.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64) -> Vec<f64> + Sync;

/// Exercise 7.3.1: `interpolant`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The CondOT interpolant: a point on the straight path from noise to data",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "x_t is a point on the straight segment from the noise x0 to the data point x1, moving at \
                constant speed: check which end you return at t = 0 and which at t = 1, and that every coordinate \
                moves.",
            formula: "x_t = t·x1 + (1 − t)·x0, coordinate by coordinate",
        },
        ..super::registered::interpolant
    },
    compare,
);

/// The reference: x_t = t x₁ + (1 − t) x₀.
fn expected(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64> {
    x0.iter().zip(x1).map(|(a, b)| t * b + (1.0 - t) * a).collect()
}

/// Compares `f` with x_t = t x₁ + (1 − t) x₀ on the calling thread (no guard):
/// `Err` says on which input `f` was wrong, what it returned and what was expected.
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut cases: Vec<(Vec<f64>, Vec<f64>, f64)> = vec![(vec![0.0, 0.0], vec![2.0, 2.0], 0.25)];
    let mut rng = StdRng::seed_from_u64(0x7301);
    for d in [1usize, 2, 3, 5] {
        let mut times = vec![0.0, 1.0, 0.25, 1.0 - 1e-9, 1e-3];
        times.extend((0..3).map(|_| rng.gen::<f64>()));
        for t in times {
            let x0: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
            let x1: Vec<f64> = (0..d).map(|_| 3.0 * rng.sample::<f64, _>(StandardNormal) + 1.5).collect();
            cases.push((x0, x1, t));
        }
    }
    for (x0, x1, t) in &cases {
        let (x0, x1, t) = (x0.as_slice(), x1.as_slice(), *t);
        let context = format!("For x0 = {}, x1 = {} and t = {},", text::vector(x0), text::vector(x1), text::num(t));
        let got = f(x0, x1, t);
        let want = expected(x0, x1, t);
        text::check_len("x_t", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let suspects = [
                ("t and 1 − t are swapped: your path starts at the data and ends at the noise", expected(x1, x0, t)),
                ("that is the velocity along the path, not the position on it", x1.iter().zip(x0).map(|(b, a)| b - a).collect()),
            ];
            let (g, w) = text::vector_pair(&got, &want);
            return Err(format!(
                "{context} your x_t was {g}; expected {w}{}.",
                text::remark(text::diagnose(&got, &suspects, 1e-9))
            ));
        }
    }
    Ok(())
}
