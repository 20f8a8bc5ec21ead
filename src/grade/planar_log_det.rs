//! Exercise 7.1.2: the log-determinant of a planar layer.
//!
//! The planar layer f(z) = z + u tanh(wᵀz + b) has the Jacobian I + u ψᵀ with
//! ψ = (1 − tanh²(wᵀz + b)) w, a rank-one update of the identity, so
//!
//! ```text
//! log |det ∂f/∂z| = ln |1 + uᵀψ| = ln |1 + (1 − tanh²(wᵀz + b)) uᵀw|
//! ```
//!
//! The student writes `fn planar_log_det(z: &[f64], u: &[f64], w: &[f64], b: f64) -> f64` for any
//! dimension, with u taken as given (no reparametrisation); the checker compares it with the
//! library's [`Planar`] layer, including layers with uᵀw < −1 whose
//! determinant is negative at some points.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::flows::{Bijector, Planar};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], &[f64], f64) -> f64 + Sync;

/// Exercise 7.1.2: `planar_log_det`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The log-determinant of a planar layer",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "Differentiate f(z) = z + u·h(wᵀz + b): the identity, plus u times the gradient of the scalar \
                h(wᵀz + b), which is h'(wᵀz + b)·w. A matrix I + u·ψᵀ has one direction stretched and the others \
                untouched, so its determinant is a single number you can write down (the matrix determinant \
                lemma). It can be negative.",
            formula: "ψ = (1 − tanh²(wᵀz + b))·w;  log|det| = ln|1 + uᵀψ|",
        },
        ..super::registered::planar_log_det
    },
    compare,
);

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// One test case: (z, u, w, b).
type Case = (Vec<f64>, Vec<f64>, Vec<f64>, f64);

/// Compares `f` with the library's planar layer (unconstrained: û = u) on the calling thread.
fn compare(f: &StudentFn) -> Result<(), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let mut rng = StdRng::seed_from_u64(0x7102);
    let mut cases: Vec<Case> = vec![
        (vec![0.5, -0.2], vec![1.0, 0.5], vec![0.8, -0.3], 0.1),
        // uᵀw = −3: the determinant 1 − 3(1 − tanh²) is negative near wᵀz + b = 0.
        (vec![0.1, 0.0], vec![-3.0, 0.0], vec![1.0, 0.0], 0.0),
    ];
    for d in [1usize, 2, 3, 5] {
        for k in 0..4 {
            let g = |rng: &mut StdRng, s: f64| (0..d).map(|_| s * rng.sample::<f64, _>(StandardNormal)).collect::<Vec<f64>>();
            let z = g(&mut rng, 1.0);
            let w = g(&mut rng, 1.0);
            let mut u = g(&mut rng, 1.5);
            if k == 3 {
                // Make uᵀw = −2.5 so the sign of the determinant matters.
                let ww = dot(&w, &w);
                let shift = (-2.5 - dot(&u, &w)) / ww;
                u.iter_mut().zip(&w).for_each(|(ui, wi)| *ui += shift * wi);
            }
            cases.push((z, u, w, rng.gen_range(-0.5..0.5)));
        }
    }
    for (z, u, w, b) in &cases {
        let layer = Planar::new(u.clone(), w.clone(), *b).map_err(setup)?.unconstrained();
        let mut x = vec![0.0; z.len()];
        let want = layer.forward_point(z, &mut x);
        let got = f(z, u, w, *b);
        if close(got, want, 1e-9) {
            continue;
        }
        let a = dot(w, z) + b;
        let h = a.tanh();
        let dh = 1.0 - h * h;
        let uw = dot(u, w);
        let det = 1.0 + dh * uw;
        let suspects = [
            ("the “1 +” is missing: the Jacobian is I + uψᵀ, and the identity contributes the 1", vec![(dh * uw).abs().ln()]),
            ("that uses tanh where its derivative 1 − tanh² belongs", vec![(1.0 + h * uw).abs().ln()]),
            ("the offset b is missing from tanh(wᵀz + b)", vec![(1.0 + (1.0 - dot(w, z).tanh().powi(2)) * uw).abs().ln()]),
            ("that uses wᵀw where uᵀw belongs", vec![(1.0 + dh * dot(w, w)).abs().ln()]),
            ("that is the determinant itself; the answer is its log", vec![det, det.abs()]),
        ];
        let (g, w_) = text::num_pair(got, want);
        let why = if got.is_nan() && det < 0.0 {
            format!(" (NaN: here 1 + uᵀψ = {} is negative, so take the log of its absolute value)", text::num(det))
        } else {
            let suspects: Vec<(&str, Vec<f64>)> =
                suspects.iter().flat_map(|(s, vs)| vs.iter().map(move |v| (*s, vec![*v]))).collect();
            text::remark(text::diagnose(&[got], &suspects, 1e-9))
        };
        return Err(format!(
            "For z = {}, u = {}, w = {} and b = {}, your log-determinant was {g}; expected {w_}{why}.",
            text::vector(z),
            text::vector(u),
            text::vector(w),
            text::num(*b),
        ));
    }
    Ok(())
}
