//! Exercise 7.2.1: a minibatch optimal-transport pairing.
//!
//! ```text
//! σ* = argmin_σ Σᵢ ‖x₀ᵢ − x₁σ(i)‖²      over permutations σ of the batch
//! ```
//!
//! The student writes `fn ot_pairing(x0: &Points, x1: &Points) -> Vec<usize>`,
//! returning σ with `σ[i]` the data point paired with noise point i. The checker
//! asks for a permutation (no point used twice or dropped) whose total squared
//! cost is the optimum (from [`crate::ot::optimal_assignment`]), on batches of 1
//! to 60 points in 2-D and 3-D, including batches where the plain-distance optimum
//! differs from the squared-distance one.

use super::{Checker, Exercise, Hints};
use crate::numeric::sq_dist;
use crate::ot::optimal_assignment;
use crate::points::Points;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&Points, &Points) -> Vec<usize> + Sync;

/// Exercise 7.2.1: `ot_pairing`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Pair a batch of noise with a batch of data at the least total cost",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "Every noise point gets exactly one data point and every data point is used exactly once: \
                the answer is a permutation, chosen for the whole batch at once (a choice that is best for one \
                point can force a very bad one on another). The cost of a pair is its squared distance; the \
                library solves the assignment problem for any cost matrix you give it.",
            formula: "cost[i·n + j] = ‖x0_i − x1_j‖²; σ = flowmatch::ot::solve_assignment(&cost, n), pair x0[i] with \
                x1[σ[i]]",
        },
        ..super::registered::ot_pairing
    },
    compare,
);

/// The batches the checker pairs.
fn cases() -> Vec<(Points, Points)> {
    let mut rng = StdRng::seed_from_u64(0x7201);
    let mut out = vec![
        // The plain distance prefers the swap (4.30 < 4.78), the squared one the pairing as drawn (11.41 < 15.01).
        (
            Points::from_rows(&[[-1.2, 0.3], [1.5, -0.3]]).unwrap(),
            Points::from_rows(&[[-2.0, -1.9], [-0.8, 0.5]]).unwrap(),
        ),
        // Greedy nearest neighbour pairs 0 with 1.1 and leaves the far point to the other.
        (
            Points::from_rows(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]).unwrap(),
            Points::from_rows(&[[1.1, 0.0], [2.1, 0.0], [-3.0, 0.0]]).unwrap(),
        ),
        (Points::from_rows(&[[0.5, -1.0]]).unwrap(), Points::from_rows(&[[2.0, 2.0]]).unwrap()),
    ];
    for &(n, d, spread) in &[(6usize, 2usize, 1.0), (12, 2, 3.0), (25, 3, 1.0), (60, 2, 4.0)] {
        let x0 = Points::from_fn(n, d, |_, _| rng.gen_range(-1.0..1.0));
        let x1 = Points::from_fn(n, d, |_, j| spread * rng.gen_range(-1.0..1.0) + if j == 0 { 2.0 } else { 0.0 });
        out.push((x0, x1));
    }
    out
}

fn total(x0: &Points, x1: &Points, sigma: &[usize]) -> f64 {
    sigma.iter().enumerate().map(|(i, &j)| sq_dist(x0.row(i), x1.row(j))).sum()
}

/// Compares `f` with the optimal assignment on the calling thread (no guard). Every batch is
/// checked for being a permutation before any cost is compared, so that an answer which repeats
/// partners is told so even where, on a tiny batch, its repeats happen to vanish.
fn compare(f: &StudentFn) -> Result<(), String> {
    let context = |x0: &Points| {
        format!("For a batch of {n} noise and {n} data points in {} dimensions,", x0.dim(), n = x0.len())
    };
    let answers: Vec<_> = cases().into_iter().map(|(x0, x1)| {
        let got = f(&x0, &x1);
        (x0, x1, got)
    }).collect();
    for (x0, _, got) in &answers {
        let (n, context) = (x0.len(), context(x0));
        if got.len() != n {
            return Err(format!("{context} your pairing has {} entries; expected one partner per noise point ({n}).", got.len()));
        }
        if let Some(&j) = got.iter().find(|&&j| j >= n) {
            return Err(format!("{context} your pairing names data point {j}; expected indices 0 to {}.", n - 1));
        }
        let mut uses = vec![0usize; n];
        for &j in got {
            uses[j] += 1;
        }
        if let Some(j) = uses.iter().position(|&u| u != 1) {
            let twice = uses.iter().filter(|&&u| u > 1).count();
            return Err(format!(
                "{context} data point {j} is used {} times and {twice} data point(s) more than once; expected \
                 a permutation: every data point paired exactly once (drawing partners with replacement, or \
                 letting every noise point take its own nearest, duplicates some points and drops others).",
                uses[j]
            ));
        }
    }
    for (x0, x1, got) in answers {
        let (n, context) = (x0.len(), context(&x0));
        let best = optimal_assignment(&x0, &x1).expect("valid batches");
        let (mine, opt) = (total(&x0, &x1, &got), total(&x0, &x1, &best));
        if mine > opt * (1.0 + 1e-9) + 1e-12 {
            let inverse = {
                let mut inv = vec![0; n];
                for (i, &j) in best.iter().enumerate() {
                    inv[j] = i;
                }
                inv
            };
            let plain_optimal = {
                // The optimum of the plain (not squared) distance, by brute force on the small batches.
                (n <= 3).then(|| brute_force_plain(&x0, &x1))
            };
            // Every typical mistake that produces this pairing; on a tiny batch two can coincide.
            let fits = [
                (
                    got == inverse && got != best,
                    "that is the inverse permutation: σ[i] must name the data point paired with noise point i, \
                     not the other way round",
                ),
                (
                    plain_optimal.as_ref() == Some(&got),
                    "that pairing is optimal for the plain distance ‖x0 − x1‖; optimal transport here pays the \
                     squared distance, which punishes one long trip more than two medium ones",
                ),
                (got.iter().enumerate().all(|(i, &j)| i == j), "that is the pairing as drawn: the independent coupling"),
                (
                    got == greedy_nearest(&x0, &x1),
                    "that is the greedy pairing: each noise point in turn takes the nearest data point still \
                     free; every choice is the best at the time, but the last points are left with long trips, and \
                     only a choice made for all points at once minimises the total",
                ),
            ];
            let why = super::text::remark_fits(&fits);
            return Err(format!(
                "{context} your pairing costs Σ‖x0_i − x1_σ(i)‖² = {}; expected the least possible total, {}{why}.",
                super::text::num(mine),
                super::text::num(opt)
            ));
        }
    }
    Ok(())
}

/// Noise points in order, each taking the nearest data point not yet taken.
fn greedy_nearest(x0: &Points, x1: &Points) -> Vec<usize> {
    let mut free: Vec<usize> = (0..x1.len()).collect();
    (0..x0.len())
        .map(|i| {
            let cost = |k: &usize| sq_dist(x0.row(i), x1.row(free[*k]));
            let k = (0..free.len()).min_by(|a, b| cost(a).total_cmp(&cost(b))).expect("as many data points as noise points");
            free.remove(k)
        })
        .collect()
}

/// The permutation that minimises the sum of plain distances (n ≤ 3, by trying all).
fn brute_force_plain(x0: &Points, x1: &Points) -> Vec<usize> {
    let n = x0.len();
    let perms: Vec<Vec<usize>> = match n {
        1 => vec![vec![0]],
        2 => vec![vec![0, 1], vec![1, 0]],
        _ => vec![vec![0, 1, 2], vec![0, 2, 1], vec![1, 0, 2], vec![1, 2, 0], vec![2, 0, 1], vec![2, 1, 0]],
    };
    let cost = |p: &Vec<usize>| p.iter().enumerate().map(|(i, &j)| sq_dist(x0.row(i), x1.row(j)).sqrt()).sum::<f64>();
    perms.into_iter().min_by(|a, b| cost(a).total_cmp(&cost(b))).expect("n ≥ 1")
}
