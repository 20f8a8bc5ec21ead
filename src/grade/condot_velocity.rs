//! Exercise 7.3.2: the conditional target velocity of the CondOT path.
//!
//! Differentiating x_t = t x₁ + (1 − t) x₀ in t gives the velocity of the
//! point moving along the straight line, which is the CFM regression target:
//!
//! ```text
//! u_t(x_t | x₀, x₁) = d/dt x_t = x₁ − x₀        (the same at every t, t = 1 included)
//! ```
//!
//! The student writes `fn condot_velocity(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64>`.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64) -> Vec<f64> + Sync;

/// Exercise 7.3.2: `condot_velocity`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The CondOT target velocity: the time derivative of the straight path",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the target is the velocity of a point travelling along the straight path, the time derivative \
                of the interpolant: it points from the noise towards the data, and a straight path at constant speed \
                has the same velocity at every time (t = 1 included, so nothing may blow up there).",
            formula: "u = x1 − x0; it does not depend on t",
        },
        ..super::registered::condot_velocity
    },
    compare,
);

/// Compares `f` with u = x₁ − x₀ on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut cases: Vec<(Vec<f64>, Vec<f64>, f64)> = vec![(vec![0.0, 0.0], vec![2.0, 2.0], 0.25)];
    let mut rng = StdRng::seed_from_u64(0x7302);
    for d in [1usize, 2, 3, 5] {
        for t in [0.0, 0.25, 0.5, 0.9, 1.0 - 1e-6, 1.0, rng.gen::<f64>()] {
            let x0: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
            let x1: Vec<f64> = (0..d).map(|_| 2.0 * rng.sample::<f64, _>(StandardNormal) - 1.0).collect();
            cases.push((x0, x1, t));
        }
    }
    for (x0, x1, t) in &cases {
        let (x0, x1, t) = (x0.as_slice(), x1.as_slice(), *t);
        let context = format!("For x0 = {}, x1 = {} and t = {},", text::vector(x0), text::vector(x1), text::num(t));
        let got = f(x0, x1, t);
        let want: Vec<f64> = x1.iter().zip(x0).map(|(b, a)| b - a).collect();
        text::check_len("velocity", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &w)| close(g, w, 1e-9)) {
            let suspects = [
                ("the sign is flipped: your velocity points from the data to the noise", want.iter().map(|v| -v).collect()),
                (
                    "your velocity grows in proportion to t, but a straight path at constant speed moves as fast at \
                     t = 0 as at t = 1",
                    want.iter().map(|v| t * v).collect(),
                ),
                (
                    "that is x_t, the position, not the velocity",
                    x0.iter().zip(x1).map(|(a, b)| t * b + (1.0 - t) * a).collect(),
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
