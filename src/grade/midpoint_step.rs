//! Exercise 7.4.5: one midpoint step of the sampling ODE.
//!
//! The explicit midpoint method takes a half Euler step to estimate the point
//! in the middle of the step, and then moves the whole step with the velocity
//! found there, at the middle time:
//!
//! ```text
//! x_mid    = x + (h/2) u_t(x)
//! x_{t+h} ≈ x + h u_{t+h/2}(x_mid)
//! ```
//!
//! It costs two field evaluations and is second order (halving h divides the
//! error by about 4). The student writes
//! `fn midpoint_step(field: &dyn VectorField, x: &Points, t: f64, h: f64) -> Points`.

use super::fields::{compare_one_step, Kind, OneStep, StepCase, Suspects, TestField};
use super::{Checker, Exercise, Hints};
use crate::field::VectorField;
use crate::points::Points;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&dyn VectorField, &Points, f64, f64) -> Points + Sync;

/// Exercise 7.4.5: `midpoint_step`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "One midpoint step on a batch",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the midpoint method moves with the velocity found in the middle of the step, in space and in \
                time: first estimate where the path is half a step ahead (a half Euler step), ask the field there at \
                the middle time, then move the whole step, starting from where you were.",
            formula: "x_mid = x + (h/2)·u_t(x); x_next = x + h·u_{t+h/2}(x_mid)",
        },
        ..super::registered::midpoint_step
    },
    compare,
);

/// Compares `f` with x + h u_{t+h/2}(x + (h/2) u_t(x)) on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    compare_one_step(f, &MIDPOINT)
}

const CASES: [StepCase; 7] = [
    (Kind::Linear, 1, 1, 0.0, 0.1),
    (Kind::Nonlinear, 5, 2, 0.25, 0.05),
    (Kind::TimeOnly, 4, 2, 0.5, 0.2),
    (Kind::Nonlinear, 8, 3, 0.9, 0.1),
    (Kind::Linear, 3, 2, 0.0, 1.0),
    (Kind::Nonlinear, 6, 3, 0.99, 0.01),
    (Kind::Linear, 2, 5, 0.6, 0.3),
];

static MIDPOINT: OneStep = OneStep {
    seed: 0x7406,
    cases: &CASES,
    reference: |field, x, t, h| {
        let mid = x.plus_scaled(0.5 * h, &field.batch(x, t));
        x.plus_scaled(h, &field.batch(&mid, t + 0.5 * h))
    },
    suspects,
    evals_remark: |evals| {
        (evals < 2).then(|| format!("your step evaluated the field {evals} time(s); the midpoint method needs 2"))
    },
};

/// Typical wrong midpoint steps.
fn suspects(field: &TestField, x: &Points, t: f64, h: f64) -> Suspects {
    let k1 = field.batch(x, t);
    let mid = x.plus_scaled(0.5 * h, &k1);
    let full = x.plus_scaled(h, &k1);
    let heun_k2 = field.batch(&full, t + h);
    let mut heun = x.plus_scaled(0.5 * h, &k1);
    heun.add_scaled(0.5 * h, &heun_k2);
    vec![
        (
            "the second evaluation used the start time t: the midpoint method asks the field in the middle of the \
             step in time as well as in space",
            x.plus_scaled(h, &field.batch(&mid, t)).into_vec(),
        ),
        (
            "the second evaluation used the end time t + h, not the middle of the step",
            x.plus_scaled(h, &field.batch(&mid, t + h)).into_vec(),
        ),
        ("the first, half step moved a whole step h", x.plus_scaled(h, &field.batch(&full, t + 0.5 * h)).into_vec()),
        (
            "the final move starts from x_mid instead of x",
            mid.plus_scaled(h, &field.batch(&mid, t + 0.5 * h)).into_vec(),
        ),
        ("the final move is missing the factor h", x.plus_scaled(1.0, &field.batch(&mid, t + 0.5 * h)).into_vec()),
        ("that is an Euler step, x + h·u_t(x)", full.into_vec()),
        ("that is Heun's method, not the midpoint method", heun.into_vec()),
    ]
}
