//! Exercise 7.4.6: sampling with K Euler steps.
//!
//! A flow model generates data by solving dx/dt = u_t(x) from noise at t = 0
//! to t = 1. With K equal Euler steps, h = 1/K and t_k = k h:
//!
//! ```text
//! x_{k+1} = x_k + h u_{t_k}(x_k),    k = 0, 1, …, K − 1,    x_0 = noise,  sample = x_K
//! ```
//!
//! The student writes `fn sample_euler(field: &dyn VectorField, x0: &Points, steps: usize) -> Points`;
//! the checker compares it with [`crate::solver::solve`] and [`crate::solver::Method::Euler`] on
//! a uniform [`crate::solver::TimeGrid`], for several fields, dimensions and step counts.

use super::fields::{Kind, TestField};
use super::text;
use super::{Checker, Exercise, Hints};
use crate::field::VectorField;
use crate::points::Points;
use crate::solver::{solve, Method, TimeGrid};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&dyn VectorField, &Points, usize) -> Points + Sync;

/// Exercise 7.4.6: `sample_euler`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Generating samples: Euler steps from noise at t = 0 to data at t = 1",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "sampling integrates the ODE from the noise at t = 0 to the data at t = 1 in `steps` equal \
                steps: each step starts where the previous one ended and uses the velocity at its own start time, \
                and the last step ends exactly at t = 1.",
            formula: "h = 1/steps; x_(k+1) = x_k + h·u_{k·h}(x_k) for k from 0 to steps − 1, x_0 the noise",
        },
        ..super::registered::sample_euler
    },
    compare,
);

/// `count` Euler steps of size `h`, step k evaluated at `time(k)`.
fn euler(field: &TestField, x0: &Points, count: usize, h: f64, time: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut x = x0.clone();
    for k in 0..count {
        let u = field.batch(&x, time(k));
        x.add_scaled(h, &u);
    }
    x.into_vec()
}

/// Compares `f` with the library's Euler solver from t = 0 to t = 1, on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7408);
    let cases = [
        (Kind::Linear, 3usize, 2usize, 1usize),
        (Kind::Linear, 4, 1, 2),
        (Kind::Nonlinear, 5, 2, 3),
        (Kind::TimeOnly, 2, 3, 10),
        (Kind::Nonlinear, 6, 2, 50),
        (Kind::Linear, 3, 3, 100),
    ];
    for (kind, n, d, steps) in cases {
        let field = TestField::new(kind);
        let x0 = Points::from_fn(n, d, |_, _| StandardNormal.sample(&mut rng));
        let grid =
            TimeGrid::uniform(0.0, 1.0, steps).map_err(|e| format!("the grader could not set up its test ({e})"))?;
        let want = solve(&field, &x0, &grid, Method::Euler)
            .map_err(|e| format!("the grader could not set up its test ({e})"))?
            .final_state;
        field.reset();
        let got = f(&field, &x0, steps);
        let context = format!(
            "For the field {} with {steps} step{} from {n} starting point{} in {d} dimension{},",
            field.describe(),
            if steps == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" }
        );
        text::check_shape("samples", &got, &want, &context)?;
        if let Some(i) = text::first_bad_row(&got, &want, 1e-9) {
            let k = steps as f64;
            let h = 1.0 / k;
            let mut suspects = vec![
                (
                    "each step used the time at its end, t + h, instead of its start",
                    euler(&field, &x0, steps, h, |j| (j + 1) as f64 * h),
                ),
                ("the time never moved on from t = 0", euler(&field, &x0, steps, h, |_| 0.0)),
                (
                    "that takes one step too many: it ends at t = 1 + h",
                    euler(&field, &x0, steps + 1, h, |j| j as f64 * h),
                ),
                (
                    "your step size is 1/(steps + 1): the steps stop short of t = 1",
                    euler(&field, &x0, steps, 1.0 / (k + 1.0), |j| j as f64 / (k + 1.0)),
                ),
                ("the steps have no factor h: that is x + u_t(x)", euler(&field, &x0, steps, 1.0, |j| j as f64 * h)),
            ];
            if steps > 1 {
                suspects.push((
                    "that takes one step too few: it stops at t = 1 − h",
                    euler(&field, &x0, steps - 1, h, |j| j as f64 * h),
                ));
                suspects.push((
                    "your step size is 1/(steps − 1): the steps overshoot t = 1",
                    euler(&field, &x0, steps, 1.0 / (k - 1.0), |j| j as f64 / (k - 1.0)),
                ));
            }
            let mut why = text::diagnose(got.as_slice(), &suspects, 1e-9).map(str::to_string);
            if why.is_none() && field.evals() != steps {
                why = Some(format!(
                    "your sampler evaluated the field {} time(s); {steps} Euler step(s) evaluate it {steps} time(s)",
                    field.evals()
                ));
            }
            let (g, w) = text::vector_pair(got.row(i), want.row(i));
            return Err(format!(
                "{context} your sample {i} (from x0 = {}) was {g}; expected {w}{}.",
                text::vector(x0.row(i)),
                text::remark(why.as_deref())
            ));
        }
    }
    Ok(())
}
