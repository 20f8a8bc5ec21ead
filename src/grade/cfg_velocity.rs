//! Exercise guidance.2: the classifier-free guidance combination of two velocities.
//!
//! A conditional model trained with label dropout gives two velocities at every (x, t): the
//! unconditional v(x, t | ∅) and the conditional v(x, t | y). Guidance with scale w mixes them,
//! with weight w on the conditional one:
//!
//! ```text
//! ṽ = (1 − w) v_uncond + w v_cond          (w = 0: unconditional, w = 1: conditional, w > 1: guided)
//! ```
//!
//! The student writes `fn cfg_velocity(v_uncond: &[f64], v_cond: &[f64], w: f64) -> Vec<f64>`.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use crate::guidance::combine;
use crate::points::Points;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], f64) -> Vec<f64> + Sync;

/// Exercise guidance.2: `cfg_velocity`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Classifier-free guidance: combine the unconditional and the conditional velocity",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "guidance adds w times the classifier direction (conditional minus unconditional) to the \
                unconditional velocity, so the weights of the two velocities sum to 1; check your formula at w = 0 \
                (it must return the unconditional velocity) and at w = 1 (the conditional one).",
            formula: "ṽ = (1 − w)·v_uncond + w·v_cond, coordinate by coordinate; the same as ṽ = v_uncond + w·(v_cond − v_uncond)",
        },
        ..super::registered::cfg_velocity
    },
    compare,
);

/// Compares `f` with (1 − w) v_uncond + w v_cond on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut cases: Vec<(Vec<f64>, Vec<f64>, f64)> = vec![(vec![1.0, 0.0], vec![0.0, 2.0], 3.0)];
    let mut rng = StdRng::seed_from_u64(0x6C9_0002);
    for d in [1usize, 2, 3] {
        for w in [0.0, 1.0, 2.0, 3.0, 7.5, -0.5, 0.3] {
            let mut draw = || -> Vec<f64> { (0..d).map(|_| StandardNormal.sample(&mut rng)).collect() };
            cases.push((draw(), draw(), w));
        }
    }
    for (u, c, w) in &cases {
        let (u, c, w) = (u.as_slice(), c.as_slice(), *w);
        let context =
            format!("For v_uncond = {}, v_cond = {} and w = {},", text::vector(u), text::vector(c), text::num(w));
        let got = f(u, c, w);
        let row = |v: &[f64]| Points::new(1, v.len(), v.to_vec()).expect("one row");
        let want = combine(&row(u), &row(c), w).expect("same shapes").as_slice().to_vec();
        text::check_len("guided velocity", got.len(), want.len(), &context)?;
        if !got.iter().zip(&want).all(|(&g, &e)| close(g, e, 1e-9)) {
            let mix = |a: f64, b: f64| u.iter().zip(c).map(|(x, y)| a * x + b * y).collect::<Vec<f64>>();
            let suspects = [
                ("the weights are swapped: that is (1 − w)·v_cond + w·v_uncond, which at w = 0 gives the conditional velocity", mix(w, 1.0 - w)),
                (
                    "that is (1 + w)·v_cond − w·v_uncond, the form of Meta's examples, whose w is ours minus 1: with our \
                     convention w = 1 must give v_cond itself",
                    mix(-w, 1.0 + w),
                ),
                ("that is w·v_cond: the unconditional velocity is missing, so w = 0 gives zero", mix(0.0, w)),
                ("that is v_uncond + w·v_cond: the two weights must sum to 1", mix(1.0, w)),
                ("that is w·(v_cond − v_uncond): the unconditional velocity itself is missing", mix(-w, w)),
            ];
            let (g, e) = text::vector_pair(&got, &want);
            return Err(format!(
                "{context} your guided velocity was {g}; expected {e}{}.",
                text::remark(text::diagnose(&got, &suspects, 1e-9))
            ));
        }
    }
    Ok(())
}
