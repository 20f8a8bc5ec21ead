//! Exercise 7.1.3: an affine coupling layer, both ways, with its log-determinant.
//!
//! The first k = ⌈d/2⌉ coordinates (A) pass through and feed the conditioner, which returns a
//! log-scale s and a shift t for each of the other d − k coordinates (B):
//!
//! ```text
//! forward:  x_A = z_A,  x_B = z_B ⊙ exp(s(z_A)) + t(z_A),      log |det| = Σ_j s_j
//! inverse:  z_A = x_A,  z_B = (x_B − t(x_A)) ⊙ exp(−s(x_A)),   log |det| = −Σ_j s_j
//! ```
//!
//! The student writes
//! `fn affine_coupling(v: &[f64], conditioner: &dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>), inverse: bool) -> (Vec<f64>, f64)`
//! where the conditioner returns `(s, t)`; the checker compares both directions with the
//! library's [`AffineCoupling`] on random conditioner networks in
//! dimensions 2 to 5, and checks that the inverse undoes the forward map.

use super::text::{self, all_close, close};
use super::{Checker, Exercise, Hints};
use crate::flows::{AffineCoupling, Bijector, Conditioner, Nonlinearity, ScaleMap};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Duration;

/// The function the student writes, as the checker takes it; the conditioner maps the kept
/// coordinates to (s, t).
pub type StudentFn = dyn Fn(&[f64], &dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>), bool) -> (Vec<f64>, f64) + Sync;

/// The conditioner closure handed to the student's function.
type CondFn = dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>);

/// Exercise 7.1.3: `affine_coupling`, 20 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "An affine coupling layer: forward, inverse and log-determinant",
        points: 20,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "Only the second half moves, by a scale and a shift that depend on the first half alone, so \
                the first half is available unchanged in both directions: call the conditioner on it either way. \
                The Jacobian is triangular with exp(s_j) on the diagonal of the moved part. To undo y = a·x + t, \
                undo the last operation first.",
            formula: "with (s, t) from the conditioner on the first half: forward out[k + j] = v[k + j]·exp(s_j) + t_j \
                and log|det| = Σ_j s_j; inverse out[k + j] = (v[k + j] − t_j)·exp(−s_j) and log|det| = −Σ_j s_j",
        },
        ..super::registered::affine_coupling
    },
    compare,
);

/// A random coupling layer in dimension `d` and the conditioner closure the student receives.
fn layer(d: usize, seed: u64) -> Result<(AffineCoupling, Box<CondFn>), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let k = d.div_ceil(2);
    let net = Conditioner::new(&[k, 8, 2 * (d - k)], Nonlinearity::Tanh, seed).map_err(setup)?;
    let mask: Vec<bool> = (0..d).map(|i| i < k).collect();
    let layer = AffineCoupling::with_mask(&mask, net.clone(), ScaleMap::Identity).map_err(setup)?;
    let cond = move |a: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let mut raw = vec![0.0; net.output_dim()];
        if a.len() == net.input_dim() {
            net.eval(a, &mut raw);
        } else {
            // Fed the wrong number of coordinates: answer with something, the comparison will say why.
            let mut fixed = a.to_vec();
            fixed.resize(net.input_dim(), 0.0);
            net.eval(&fixed, &mut raw);
        }
        (raw.iter().skip(1).step_by(2).copied().collect(), raw.iter().step_by(2).copied().collect())
    };
    Ok((layer, Box::new(cond)))
}

/// Compares `f` with the library's coupling layer on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7103);
    for (case, d) in [2usize, 3, 4, 5, 2, 4].into_iter().enumerate() {
        let (layer, cond) = layer(d, 0x7103 + case as u64)?;
        let z: Vec<f64> = (0..d).map(|_| 1.3 * Distribution::<f64>::sample(&StandardNormal, &mut rng)).collect();
        let mut x = vec![0.0; d];
        let ld = layer.forward_point(&z, &mut x);
        let k = d.div_ceil(2);
        let (s, t) = cond(&z[..k]);
        for inverse in [false, true] {
            let (input, want, want_ld) = if inverse { (&x, &z, -ld) } else { (&z, &x, ld) };
            let (got, got_ld) = f(input, cond.as_ref(), inverse);
            let dir = if inverse { "inverse" } else { "forward" };
            let context = format!("In the {dir} direction, for v = {} (d = {d}),", text::vector(input));
            text::check_len("output", got.len(), d, &context)?;
            let sum_s: f64 = s.iter().sum();
            if !all_close(&got, want, 1e-9) {
                let suspects = [
                    (
                        "that scales and shifts in the wrong order: undo the shift before the scale, (x − t)·exp(−s)",
                        (0..d).map(|i| if i < k { input[i] } else { input[i] * (-s[i - k]).exp() - t[i - k] }).collect::<Vec<_>>(),
                    ),
                    (
                        "the scale is inverted: the forward map multiplies by exp(s), the inverse by exp(−s)",
                        (0..d)
                            .map(|i| {
                                if i < k {
                                    input[i]
                                } else if inverse {
                                    (input[i] - t[i - k]) * s[i - k].exp()
                                } else {
                                    input[i] * (-s[i - k]).exp() + t[i - k]
                                }
                            })
                            .collect(),
                    ),
                ];
                let (g, w) = text::vector_pair(&got, want);
                let diag = text::diagnose(&got, &suspects, 1e-9).or_else(|| {
                    (got[..k] != input[..k]).then_some(
                        "the first ⌈d/2⌉ coordinates must pass through unchanged (they feed the conditioner), and the others move",
                    )
                });
                let diag = diag.or_else(|| {
                    (got[k..] == input[k..]).then_some("the second half did not move: it is the half that gets scaled and shifted")
                });
                return Err(format!("{context} your output was {g}; expected {w}{}.", text::remark(diag)));
            }
            if !close(got_ld, want_ld, 1e-9) {
                let sum_exp: f64 = s.iter().map(|v| v.exp()).sum();
                let suspects = [
                    ("that is Σ exp(s); the log-determinant is the sum of the log-scales s themselves", vec![sum_exp]),
                    ("that is the sum of exp(−s); the log-determinant is −Σ s", vec![s.iter().map(|v| (-v).exp()).sum()]),
                    ("the sign is wrong for this direction: forward gives +Σ s, inverse −Σ s", vec![-want_ld]),
                    ("that sums the shifts t; the log-determinant comes from the scales alone", vec![t.iter().sum(), -t.iter().sum::<f64>()]),
                ];
                let suspects: Vec<(&str, Vec<f64>)> =
                    suspects.iter().flat_map(|(n, vs)| vs.iter().map(move |v| (*n, vec![*v]))).collect();
                let (g, w) = text::num_pair(got_ld, want_ld);
                return Err(format!(
                    "{context} your log-determinant was {g}; expected {w} (Σ s = {}){}.",
                    text::num(sum_s),
                    text::remark(text::diagnose(&[got_ld], &suspects, 1e-9))
                ));
            }
        }
    }
    Ok(())
}
