//! Exercise 7.1.1: the change of variables for an affine map of the plane.
//!
//! Push z ~ N(0, I₂) through x = A z + c. The density of x follows from the change of variables:
//!
//! ```text
//! log p_X(x) = log N(z; 0, I₂) − ln |det A|,    z = A⁻¹ (x − c),    log N(z; 0, I₂) = −‖z‖²/2 − ln 2π
//! ```
//!
//! The student writes `fn affine_log_density(x: &[f64], a: [[f64; 2]; 2], c: [f64; 2]) -> f64`;
//! the checker compares it with the library's flow of one [`Affine`]
//! layer, on matrices with positive and negative determinants.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::flows::{Affine, Flow};
use crate::numeric::LN_2PI;
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], [[f64; 2]; 2], [f64; 2]) -> f64 + Sync;

/// Exercise 7.1.1: `affine_log_density`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The change of variables: the log-density of x = A z + c",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "Go back from x to the z that produced it, score that z under the standard Gaussian, then \
                correct for how much the map stretches area: a map that doubles areas halves the density. The \
                stretch factor is |det A| (a reflection has det A < 0 and still stretches by |det A|).",
            formula: "z = A⁻¹(x − c) with A⁻¹ = [[a11, −a01], [−a10, a00]] / det A and det A = a00·a11 − a01·a10; \
                log p(x) = −(z0² + z1²)/2 − ln(2π) − ln|det A|",
        },
        ..super::registered::affine_log_density
    },
    compare,
);

/// The reference: a flow of one affine layer over N(0, I₂).
fn expected(x: &[f64], a: [[f64; 2]; 2], c: [f64; 2]) -> Result<f64, String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let flow = Flow::new(2)
        .and_then(|f| f.then(Affine::new(&[a[0][0], a[0][1], a[1][0], a[1][1]], c.to_vec())?))
        .map_err(setup)?;
    let lp = flow.log_prob(&Points::new(1, 2, x.to_vec()).map_err(setup)?).map_err(setup)?;
    Ok(lp[0])
}

/// log N(z; 0, I₂) for z = m (x − c), with m given.
fn base(m: [[f64; 2]; 2], x: &[f64], c: [f64; 2]) -> f64 {
    let r = [x[0] - c[0], x[1] - c[1]];
    let z = [m[0][0] * r[0] + m[0][1] * r[1], m[1][0] * r[0] + m[1][1] * r[1]];
    -0.5 * (z[0] * z[0] + z[1] * z[1]) - LN_2PI
}

/// One test case: (x, A, c).
type Case = ([f64; 2], [[f64; 2]; 2], [f64; 2]);

/// Compares `f` with the library's affine flow on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x7101);
    let mut cases: Vec<Case> = vec![
        ([1.0, 2.0], [[2.0, 0.0], [0.0, 0.5]], [0.0, 0.0]),
        ([0.5, -1.0], [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0]), // a reflection: det A = −1
        ([3.0, 1.0], [[1.5, 0.7], [-0.4, 2.0]], [2.0, 0.5]),
    ];
    for _ in 0..12 {
        let mut a = [[0.0f64; 2]; 2];
        a.iter_mut().flatten().for_each(|v| *v = rng.gen_range(-2.5..2.5));
        if (a[0][0] * a[1][1] - a[0][1] * a[1][0]).abs() < 0.2 {
            a[0][0] += 1.0;
            a[1][1] -= 1.0;
        }
        let c = [rng.gen_range(-2.0..2.0), rng.gen_range(-2.0..2.0)];
        let x = [rng.gen_range(-4.0..4.0), rng.gen_range(-4.0..4.0)];
        cases.push((x, a, c));
    }
    for (x, a, c) in cases {
        let want = expected(&x, a, c)?;
        let got = f(&x, a, c);
        if close(got, want, 1e-9) {
            continue;
        }
        let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
        let inv = [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]];
        let lz = base(inv, &x, c);
        let suspects = [
            ("the Jacobian factor is missing: that is log N(z) alone, without − ln|det A|", vec![lz]),
            ("the Jacobian factor has the wrong sign: + ln|det A| instead of − ln|det A|", vec![lz + det.abs().ln()]),
            ("that uses ½·ln|det A|; the factor is the whole ln|det A|", vec![lz - 0.5 * det.abs().ln()]),
            ("z was computed as A·(x − c); going back from x needs A⁻¹", vec![base(a, &x, c) - det.abs().ln()]),
            ("the shift c is missing: z = A⁻¹(x − c), not A⁻¹x", vec![base(inv, &x, [0.0, 0.0]) - det.abs().ln()]),
            ("the normalising constant is off: in two dimensions log N(z) has − ln(2π), not − ½ ln(2π)", vec![want + 0.5 * LN_2PI]),
        ];
        let (g, w) = text::num_pair(got, want);
        let why = if got.is_nan() && det < 0.0 {
            " (NaN: det A is negative here, so take ln|det A|, the logarithm of its absolute value)".to_string()
        } else {
            text::remark(text::diagnose(&[got], &suspects, 1e-9))
        };
        return Err(format!(
            "For x = {}, A = [{}, {}] (det A = {}) and c = {}, your log-density was {g}; expected {w}{why}.",
            text::vector(&x),
            text::vector(&a[0]),
            text::vector(&a[1]),
            text::num(det),
            text::vector(&c),
        ));
    }
    Ok(())
}
