//! Exercise 7.5.1: the log-likelihood of points by the backward ODE.
//!
//! Along a path of the flow, d/dt log p_t(x_t) = −∇·v(x_t, t). To evaluate log p₁ at a
//! data point x₁, carry it back to t = 0 and add up the divergence on the way:
//!
//! ```text
//! log p₁(x₁) = log p₀(x₀) − ∫₀¹ ∇·v(x_t, t) dt
//! K Euler steps backwards, h = 1/K, t_k = 1 − k h:   x ← x − h v(x, t_k),   I ← I + h ∇·v(x, t_k)
//! result: log p₀(x) − I
//! ```
//!
//! Both quantities are evaluated at the start of each step, before x moves. The student writes
//! `fn log_likelihood(field: &dyn Divergence, log_p0: &dyn Fn(&Points) -> Vec<f64>, x1: &Points, steps: usize) -> Vec<f64>`.

use super::fields::{Kind, TestField};
use super::text;
use super::{Checker, Exercise, Hints};
use crate::likelihood::Divergence;
use crate::numeric::LN_2PI;
use crate::points::Points;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&dyn Divergence, &dyn Fn(&Points) -> Vec<f64>, &Points, usize) -> Vec<f64> + Sync;

/// Exercise 7.5.1: `log_likelihood`, 20 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The log-likelihood of data points by the backward ODE",
        points: 20,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "only the source density p₀ is known, so start at the data (t = 1) and walk back to the noise \
                (t = 0), with Euler steps that read the velocity and the divergence at the start of each step, and add \
                up the divergence on the way. Where the flow spreads points apart (positive divergence) the density \
                falls along the path: that fixes the sign. log p₀ belongs where the walk ends.",
            formula: "log_p1(x1) = log_p0(x0) − I, where x walks back from x1 by x ← x − h·v(x, t) while \
                I ← I + h·div(x, t), at t = 1, 1 − h, …, h (h = 1/K), both read before x moves",
        },
        ..super::registered::log_likelihood
    },
    compare,
);

/// One case: field, points n, dimension d, Euler steps K.
type Case = (Kind, usize, usize, usize);

const CASES: [Case; 6] = [
    (Kind::Mixing, 5, 2, 10),
    (Kind::Nonlinear, 4, 3, 7),
    (Kind::Linear, 3, 1, 1),
    (Kind::Mixing, 3, 4, 20),
    (Kind::Nonlinear, 1, 2, 3),
    (Kind::Mixing, 6, 1, 5),
];

/// log N(x; 0, I) for every row.
fn standard_normal(x: &Points) -> Vec<f64> {
    x.rows().map(|r| -0.5 * r.iter().map(|a| a * a).sum::<f64>() - 0.5 * r.len() as f64 * LN_2PI).collect()
}

/// What a backward (or forward) Euler sweep ends with: the end point and the integral of the divergence.
struct Sweep {
    end: Points,
    integral: Vec<f64>,
}

/// K Euler steps over the divergence field: `dir = −1` runs t = 1 → 0 (x ← x − h v), `dir = +1`
/// runs t = 0 → 1; `time(k)` is the time of step k. `h_in_integral = false` leaves h out of the sum.
fn sweep(
    field: &TestField,
    x1: &Points,
    steps: usize,
    dir: f64,
    time: &dyn Fn(usize) -> f64,
    h_in_integral: bool,
) -> crate::Result<Sweep> {
    let h = 1.0 / steps as f64;
    let mut x = x1.clone();
    let mut integral = vec![0.0; x.len()];
    for k in 0..steps {
        let (v, div) = field.divergence(&x, time(k))?;
        x.add_scaled(dir * h, &v);
        for (a, b) in integral.iter_mut().zip(div) {
            *a += if h_in_integral { h * b } else { b };
        }
    }
    Ok(Sweep { end: x, integral })
}

/// Compares `f` with the backward Euler sweep on every case, on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    for (c, &(kind, n, d, steps)) in CASES.iter().enumerate() {
        let field = TestField::of_dim(kind, d);
        let x1 = Points::randn(n, d, 0x7510 + c as u64) * 1.2;
        let h = 1.0 / steps as f64;
        let back = sweep(&field, &x1, steps, -1.0, &|k| 1.0 - k as f64 * h, true).map_err(setup)?;
        let want: Vec<f64> = standard_normal(&back.end).iter().zip(&back.integral).map(|(a, b)| a - b).collect();
        field.reset();
        let got = f(&field, &standard_normal, &x1, steps);
        let evals = field.evals();
        let context = format!(
            "For the field {} with {steps} Euler step{} ({n} point{} in {d} dimension{}),",
            field.describe(),
            if steps == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" }
        );
        text::check_len("the log-likelihoods (one per point)", got.len(), n, &context)?;
        if !text::all_close(&got, &want, 1e-9) {
            let i = (0..n).find(|&i| !text::close(got[i], want[i], 1e-9)).unwrap_or(0);
            let suspects = suspects(&field, &x1, steps, &back).map_err(setup)?;
            let why = text::diagnose(&got, &suspects, 1e-9).map(str::to_string).or_else(|| {
                (evals != steps).then(|| {
                    format!("your function evaluated the divergence {evals} time(s); K Euler steps need K = {steps}")
                })
            });
            let (g, w) = text::num_pair(got[i], want[i]);
            return Err(format!(
                "{context} point {i} (x1 = {}) got log p₁ = {g}; expected {w}{}.",
                text::vector(x1.row(i)),
                text::remark(why.as_deref())
            ));
        }
    }
    Ok(())
}

/// Typical wrong log-likelihoods, each with what it says about a result equal to it.
fn suspects(field: &TestField, x1: &Points, steps: usize, back: &Sweep) -> crate::Result<Vec<(&'static str, Vec<f64>)>> {
    let h = 1.0 / steps as f64;
    let lp0 = standard_normal(&back.end);
    let minus = |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(p, q)| p - q).collect() };
    let forward = sweep(field, x1, steps, 1.0, &|k| k as f64 * h, true)?;
    let time_forward = sweep(field, x1, steps, -1.0, &|k| k as f64 * h, true)?;
    let end_time = sweep(field, x1, steps, -1.0, &|k| 1.0 - (k + 1) as f64 * h, true)?;
    let no_h = sweep(field, x1, steps, -1.0, &|k| 1.0 - k as f64 * h, false)?;
    Ok(vec![
        (
            "the divergence term has the wrong sign: log p₁ = log p₀(x₀) − ∫∇·v dt (where the flow spreads \
             points out, ∇·v > 0, density falls)",
            lp0.iter().zip(&back.integral).map(|(a, b)| a + b).collect(),
        ),
        (
            "that integrates forwards, from t = 0 with x ← x + h·v; the likelihood runs the flow backwards, from \
             the data at t = 1 to the noise at t = 0",
            minus(&standard_normal(&forward.end), &forward.integral),
        ),
        (
            "the points move backwards but the time runs forwards (t = k·h); on the way back t = 1 − k·h",
            minus(&standard_normal(&time_forward.end), &time_forward.integral),
        ),
        (
            "each step read the field at its end time 1 − (k + 1)·h; Euler reads it at the start, 1 − k·h",
            minus(&standard_normal(&end_time.end), &end_time.integral),
        ),
        ("log p₀ is missing: that is −∫∇·v dt alone", back.integral.iter().map(|b| -b).collect()),
        (
            "log p₀ was evaluated at the data x₁; it belongs at x₀, where the backward solve ends",
            minus(&standard_normal(x1), &back.integral),
        ),
        ("the divergence was summed without the step h", minus(&lp0, &no_h.integral)),
    ])
}
