//! Exercise 7.2.2: the path energy of a set of trajectories.
//!
//! ```text
//! PE = (1/n) Σᵢ Σₖ ‖x_{k+1,i} − x_{k,i}‖² / (t_{k+1} − t_k)       (≈ E[∫ ‖ẋ_t‖² dt] for paths stored at times t_k)
//! ```
//!
//! The student writes `fn path_energy(states: &[Points], times: &[f64]) -> f64`;
//! the checker compares it with [`crate::metrics::kinetic_energy`] on uniform and
//! non-uniform grids, one particle and many, straight and curved paths.

use super::{Checker, Exercise, Hints};
use crate::metrics::kinetic_energy;
use crate::points::Points;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[Points], &[f64]) -> f64 + Sync;

/// Exercise 7.2.2: `path_energy`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The path energy of particles stored at a few times",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "Between two stored times a particle moves in a straight line at constant speed: its speed is \
                the distance moved divided by the time it took. The energy of that piece is the squared speed times \
                the time it lasted; add the pieces along each path, then average over the particles. Check your \
                units on a particle that moves one unit in half a unit of time.",
            formula: "PE = (1/n) Σ_i Σ_k ‖x_{k+1,i} − x_{k,i}‖² / (t_{k+1} − t_k)",
        },
        ..super::registered::path_energy
    },
    compare,
);

/// Trajectories the checker measures: (states, times, what they are).
fn cases() -> Vec<(Vec<Points>, Vec<f64>, &'static str)> {
    let line = |n: usize, times: &[f64]| -> Vec<Points> {
        times
            .iter()
            .map(|&t| Points::from_fn(n, 2, |i, j| (i as f64 + 1.0) * if j == 0 { 3.0 * t } else { -t + 0.5 }))
            .collect()
    };
    let circle = |times: &[f64]| -> Vec<Points> {
        times
            .iter()
            .map(|&t| {
                let a = std::f64::consts::FRAC_PI_2 * t * t;
                Points::from_fn(3, 2, |i, j| (1.0 + i as f64) * if j == 0 { a.cos() } else { a.sin() })
            })
            .collect()
    };
    let uniform: Vec<f64> = (0..=4).map(|k| k as f64 / 4.0).collect();
    let uneven = vec![0.0, 0.1, 0.15, 0.5, 0.9, 1.0];
    let half = vec![0.0, 0.5];
    vec![
        (line(1, &half), half.clone(), "one particle, one step of half a unit of time"),
        (line(1, &uniform), uniform.clone(), "one particle on a straight line, four equal steps"),
        (line(4, &uniform), uniform.clone(), "four particles on straight lines, four equal steps"),
        (line(4, &uneven), uneven.clone(), "four particles on straight lines, steps of different lengths"),
        (circle(&uneven), uneven.clone(), "three particles on accelerating arcs, steps of different lengths"),
    ]
}

/// Compares `f` with the reference on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    for (states, times, what) in cases() {
        let want = kinetic_energy(&states, &times).expect("valid trajectories");
        let got = f(&states, &times);
        if !super::text::close(got, want, 1e-9) {
            let n = states[0].len() as f64;
            let sum_sq: f64 = states.windows(2).map(|w| crate::numeric::sq_dist(w[1].as_slice(), w[0].as_slice())).sum();
            let by_dt: f64 = states
                .windows(2)
                .zip(times.windows(2))
                .map(|(w, t)| crate::numeric::sq_dist(w[1].as_slice(), w[0].as_slice()) * (t[1] - t[0]))
                .sum();
            let steps = (times.len() - 1) as f64;
            let equal_steps = sum_sq * steps;
            let unsquared: f64 = states
                .windows(2)
                .zip(times.windows(2))
                .map(|(w, t)| crate::numeric::sq_dist(w[1].as_slice(), w[0].as_slice()).sqrt() / (t[1] - t[0]))
                .sum();
            let span = times[times.len() - 1] - times[0];
            let ends = crate::numeric::sq_dist(states[states.len() - 1].as_slice(), states[0].as_slice()) / span;
            let suspects = [
                ("the time steps are missing: that is the sum of squared displacements, not of squared speeds times durations", vec![sum_sq / n]),
                ("you multiplied by the time step instead of dividing: a squared displacement is speed² · dt²", vec![by_dt / n]),
                ("that is the sum over the particles, not their mean", vec![want * n]),
                ("that only uses the first and last states: the straight path between the ends, not the path taken", vec![ends / n]),
                ("you assumed equal steps of 1/K: use each step's own duration t[k+1] − t[k]", vec![equal_steps / n]),
                ("the displacements are not squared: the path energy integrates the squared speed, so a step contributes ‖Δx‖² / Δt", vec![unsquared / n]),
            ];
            let (g, w) = super::text::num_pair(got, want);
            return Err(format!(
                "For {what}, your path energy was {g}; expected {w}{}.",
                super::text::remark_all(&[got], &suspects, 1e-9)
            ));
        }
    }
    Ok(())
}
