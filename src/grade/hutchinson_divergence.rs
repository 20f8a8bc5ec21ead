//! Exercise 7.5.2: Hutchinson's estimate of the divergence, from given probes.
//!
//! For probes ε with E\[ε\] = 0 and E[ε εᵀ] = I, E[εᵀ J ε] = tr J = ∇·v. With k probes
//! ε₁ … ε_k (one direction per point each) the estimate at point i is
//!
//! ```text
//! δ̂(x_i) = (1/k) Σ_j ε_j,iᵀ (J(x_i, t) ε_j,i)
//! ```
//!
//! where J ε comes from one Jacobian-vector product per probe (`field.jvp`). The probes are
//! arguments, not drawn inside, because a likelihood solve keeps the same probes for the
//! whole path: re-evaluating the field at the same (x, t), as an adaptive solver does after
//! a rejected step, must give the same value, and a fixed seed must reproduce a result.
//! The student writes
//! `fn hutchinson_divergence(field: &dyn Divergence, x: &Points, t: f64, probes: &[Points]) -> Vec<f64>`.

use super::fields::{Kind, TestField};
use super::text;
use super::{Checker, Exercise, Hints};
use crate::likelihood::{self, draw_probes, quadratic_forms, Divergence, Probe};
use crate::points::Points;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&dyn Divergence, &Points, f64, &[Points]) -> Vec<f64> + Sync;

/// Exercise 7.5.2: `hutchinson_divergence`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Hutchinson's divergence estimate from given probes",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "a probe with E[ε εᵀ] = I turns the trace into an expectation: write the candidate number in \
                coordinates, take its expectation term by term, and keep the one whose expectation is the sum of the \
                diagonal of J. One Jacobian-vector product per probe, the probes used exactly as given, then a mean \
                over the probes.",
            formula: "estimate_i = (1/k)·Σ_j ε_j,iᵀ (J ε_j)_i, with (J ε_j) from field.jvp(x, t, probes)",
        },
        ..super::registered::hutchinson_divergence
    },
    compare,
);

/// One case: field, points n, dimension d, time t, probes k and their kind.
type Case = (Kind, usize, usize, f64, usize, Probe);

const CASES: [Case; 7] = [
    (Kind::Mixing, 5, 2, 0.3, 1, Probe::Gaussian),
    (Kind::Nonlinear, 4, 3, 0.7, 3, Probe::Gaussian),
    (Kind::Mixing, 6, 4, 0.0, 2, Probe::Rademacher),
    (Kind::Nonlinear, 3, 1, 0.5, 1, Probe::Gaussian),
    (Kind::Mixing, 8, 5, 0.9, 4, Probe::Gaussian),
    (Kind::Linear, 3, 2, 0.2, 1, Probe::Rademacher),
    (Kind::Mixing, 2, 3, 1.0, 2, Probe::Rademacher),
];

/// Compares `f` with (1/k) Σ_j ε_jᵀ J ε_j on every case, on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    for (c, &(kind, n, d, t, k, probe)) in CASES.iter().enumerate() {
        let field = TestField::of_dim(kind, d);
        let x = Points::randn(n, d, 0x7509 + c as u64) * 1.5;
        let probes = draw_probes(n, d, k, probe, 0x7590 + c as u64);
        let want = likelihood::hutchinson_divergence(&field, &x, t, &probes).map_err(setup)?;
        let got = f(&field, &x, t, &probes);
        let context = format!(
            "For the field {} at t = {} with {k} {} probe{} ({n} point{} in {d} dimension{}),",
            field.describe(),
            text::num(t),
            probe.name(),
            if k == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            if d == 1 { "" } else { "s" }
        );
        text::check_len("the estimates (one per point)", got.len(), n, &context)?;
        if !text::all_close(&got, &want, 1e-9) {
            let i = (0..n).find(|&i| !text::close(got[i], want[i], 1e-9)).unwrap_or(0);
            let suspects = suspects(&field, &x, t, &probes).map_err(setup)?;
            let (g, w) = text::num_pair(got[i], want[i]);
            let probe_rows: Vec<String> = probes.iter().map(|p| text::vector(p.row(i))).collect();
            return Err(format!(
                "{context} point {i} (x = {}, probes {}) got {g}; expected {w}{}.",
                text::vector(x.row(i)),
                probe_rows.join(", "),
                text::remark(text::diagnose(&got, &suspects, 1e-9))
            ));
        }
    }
    Ok(())
}

/// Typical wrong estimates, each with what it says about a result equal to it.
fn suspects(field: &TestField, x: &Points, t: f64, probes: &[Points]) -> crate::Result<Vec<(&'static str, Vec<f64>)>> {
    let (n, d) = x.shape();
    let k = probes.len() as f64;
    let (v, jv) = field.jvp(x, t, probes)?;
    let (_, exact) = field.divergence(x, t)?;
    let mean_over_probes = |per: &dyn Fn(&Points, &Points, usize) -> f64| -> Vec<f64> {
        (0..n).map(|i| probes.iter().zip(&jv).map(|(e, j)| per(e, j, i)).sum::<f64>() / k).collect()
    };
    let right: Vec<f64> = {
        let mut s = vec![0.0; n];
        for (e, j) in probes.iter().zip(&jv) {
            s.iter_mut().zip(quadratic_forms(e, j)).for_each(|(a, q)| *a += q);
        }
        s.into_iter().map(|a| a / k).collect()
    };
    Ok(vec![
        (
            "that is ‖J ε‖², the squared length of the product; Hutchinson's estimate is the dot product εᵀ(J ε) \
             of the probe with its product",
            mean_over_probes(&|_, j, i| j.row(i).iter().map(|a| a * a).sum()),
        ),
        (
            "that adds up the coordinates of J ε, which leaves the probe out of the dot product: take εᵀ(J ε)",
            mean_over_probes(&|_, j, i| j.row(i).iter().sum()),
        ),
        ("that is the sum over the probes; the estimate is their mean (divide by k)", right.iter().map(|a| a * k).collect()),
        (
            "that divides by the dimension d; the trace is a sum over the coordinates, not a mean",
            right.iter().map(|a| a / d as f64).collect(),
        ),
        (
            "the probes were rescaled to unit length; Hutchinson needs E[ε εᵀ] = I, so use them as given",
            mean_over_probes(&|e, j, i| {
                let norm2: f64 = e.row(i).iter().map(|a| a * a).sum();
                e.row(i).iter().zip(j.row(i)).map(|(a, b)| a * b).sum::<f64>() / norm2
            }),
        ),
        (
            "that is εᵀv with the velocity v, not the Jacobian-vector product J ε",
            mean_over_probes(&|e, _, i| e.row(i).iter().zip(v.row(i)).map(|(a, b)| a * b).sum()),
        ),
        (
            "that is the exact divergence tr J; the exercise asks for the estimate these probes give",
            exact,
        ),
    ])
}
