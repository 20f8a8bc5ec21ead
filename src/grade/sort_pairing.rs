//! Exercise 7.2.3: optimal transport on a line is sorting.
//!
//! ```text
//! in one dimension, for the cost (x − y)²:   the k-th smallest x₀ is paired with the k-th smallest x₁
//! ```
//!
//! The student writes `fn sort_pairing(x0: &[f64], x1: &[f64]) -> Vec<usize>`,
//! returning σ with `σ[i]` the index in `x1` paired with `x0[i]`. The checker
//! compares it with the monotone (sorted) pairing on batches in any order.

use super::{Checker, Exercise, Hints};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64]) -> Vec<usize> + Sync;

/// Exercise 7.2.3: `sort_pairing`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Optimal transport of points on a line",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "On a line, two pairs that cross (the smaller noise point going to the larger data point) can \
                always be uncrossed at lower squared cost. So the optimal pairing keeps the order: rank both sets \
                and pair equal ranks. Careful with what you return: the partner of x0[i], indexed in the original \
                order of x1.",
            formula: "r0 = argsort(x0), r1 = argsort(x1); σ[r0[k]] = r1[k] for every rank k",
        },
        ..super::registered::sort_pairing
    },
    compare,
);

fn argsort(v: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    idx
}

/// The monotone pairing.
fn expected(x0: &[f64], x1: &[f64]) -> Vec<usize> {
    let (r0, r1) = (argsort(x0), argsort(x1));
    let mut sigma = vec![0; x0.len()];
    for (a, b) in r0.iter().zip(&r1) {
        sigma[*a] = *b;
    }
    sigma
}

fn cases() -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = StdRng::seed_from_u64(0x7203);
    let mut out = vec![(vec![0.5], vec![-2.0]), (vec![2.0, 0.0, 1.0], vec![10.0, 30.0, 20.0]), (vec![3.0, -1.0], vec![0.5, 0.4])];
    for n in [5usize, 9, 40] {
        let x0: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let x1: Vec<f64> = (0..n).map(|_| rng.gen_range(1.0..6.0)).collect();
        out.push((x0, x1));
    }
    out
}

/// Compares `f` with the sorted pairing on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    for (x0, x1) in cases() {
        let want = expected(&x0, &x1);
        let got = f(&x0, &x1);
        if got == want {
            continue;
        }
        let context = format!(
            "For x0 = {} and x1 = {},",
            super::text::vector(&x0[..x0.len().min(6)]),
            super::text::vector(&x1[..x1.len().min(6)])
        );
        let cost = |s: &[usize]| -> f64 { s.iter().enumerate().map(|(i, &j)| (x0[i] - x1.get(j).copied().unwrap_or(f64::NAN)).powi(2)).sum() };
        let mut inverse = vec![0; want.len()];
        for (i, &j) in want.iter().enumerate() {
            inverse[j] = i;
        }
        let why = if got.len() != want.len() {
            format!(" (your answer has {} entries, one per noise point is {})", got.len(), want.len())
        } else {
            // Every typical mistake that gives this pairing; on a small batch two can coincide.
            let fits = [
                (
                    got.iter().enumerate().all(|(i, &j)| i == j),
                    "that is the pairing as drawn: the independent coupling, with no sorting at all",
                ),
                (
                    (0..got.len()).any(|j| got.iter().filter(|&&k| k == j).count() > 1),
                    "a data point is used more than once: each noise point took its nearest data point, so some \
                     are shared and others left out; a transport plan between equal batches is a permutation",
                ),
                (
                    got == argsort(&x1),
                    "that is the ranking of x1 alone: it pairs x0[i] with the i-th smallest data point whatever \
                     x0[i] is",
                ),
                (got == inverse, "that is the inverse permutation: σ[i] must name the partner of x0[i]"),
                (
                    got == expected(&x0, &x1.iter().map(|v| -v).collect::<Vec<_>>()),
                    "that reverses the order: the smallest noise point goes to the largest data point",
                ),
            ];
            super::text::remark_fits(&fits)
        };
        let (sg, sw) = (got.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "), want.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "));
        let shown = |s: &str| if s.len() > 80 { format!("{}…", &s[..80]) } else { s.to_string() };
        return Err(format!(
            "{context} your pairing was [{}] with cost {}; expected [{}] with cost {}{why}.",
            shown(&sg),
            super::text::num(cost(&got)),
            shown(&sw),
            super::text::num(cost(&want))
        ));
    }
    Ok(())
}
