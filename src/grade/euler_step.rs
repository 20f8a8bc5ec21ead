//! Exercise 7.4.4: one Euler step of the sampling ODE.
//!
//! Sampling solves dx/dt = u_t(x). Euler's method follows the velocity at the
//! start of the step for the whole step of length h:
//!
//! ```text
//! x_{t+h} ≈ x + h u_t(x)
//! ```
//!
//! The student writes
//! `fn euler_step(field: &dyn VectorField, x: &Points, t: f64, h: f64) -> Points`
//! for a whole batch (one row per point); the checker compares it with the
//! formula on time-dependent linear and nonlinear fields.

use super::fields::{compare_one_step, Kind, OneStep, StepCase, Suspects, TestField};
use super::{Checker, Exercise, Hints};
use crate::field::VectorField;
use crate::points::Points;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&dyn VectorField, &Points, f64, f64) -> Points + Sync;

/// Exercise 7.4.4: `euler_step`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "One Euler step on a batch",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "Euler's method keeps the velocity at the start of the step for the whole step: one evaluation \
                of the field, at the points you start from and at the time the step starts, then move every point a \
                step of length h.",
            formula: "x_next = x + h·u_t(x); in code, x.plus_scaled(h, &u) with u from field.eval(x, t)",
        },
        ..super::registered::euler_step
    },
    compare,
);

/// Compares `f` with x + h u_t(x) on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    compare_one_step(f, &EULER)
}

const CASES: [StepCase; 7] = [
    (Kind::Linear, 1, 1, 0.0, 0.1),
    (Kind::Linear, 5, 2, 0.25, 0.05),
    (Kind::Nonlinear, 8, 3, 0.9, 0.1),
    (Kind::TimeOnly, 4, 2, 0.5, 0.2),
    (Kind::Nonlinear, 3, 2, 0.0, 1.0),
    (Kind::Linear, 6, 3, 0.99, 0.01),
    (Kind::Nonlinear, 2, 5, 0.6, 0.3),
];

static EULER: OneStep = OneStep {
    seed: 0x7405,
    cases: &CASES,
    reference: |field, x, t, h| x.plus_scaled(h, &field.batch(x, t)),
    suspects,
    evals_remark: |evals| (evals == 0).then(|| "your step never evaluated the field".to_string()),
};

/// Typical wrong Euler steps.
fn suspects(field: &TestField, x: &Points, t: f64, h: f64) -> Suspects {
    let mid = x.plus_scaled(0.5 * h, &field.batch(x, t));
    vec![
        ("the step size h is missing: that is x + u_t(x)", x.plus_scaled(1.0, &field.batch(x, t)).into_vec()),
        (
            "the field was evaluated at t + h, not at the start of the step",
            x.plus_scaled(h, &field.batch(x, t + h)).into_vec(),
        ),
        ("the sign is flipped: that is x − h·u_t(x)", x.plus_scaled(-h, &field.batch(x, t)).into_vec()),
        ("that moves only half a step", mid.clone().into_vec()),
        ("that is a midpoint step, not an Euler step", x.plus_scaled(h, &field.batch(&mid, t + 0.5 * h)).into_vec()),
    ]
}
