//! Exercise 7.4.7 · 10 points: measure a solver's order of accuracy.
//!
//! A solver of order p with K steps of size h = 1/K makes a global error of
//! about C·h^p. Measure it: integrate the same noise with the method at
//! several step counts, compare each result with a much more accurate solve
//! of the same ODE, and read the order off a log-log plot of error against h.
//! The checker passes the exact marginal field of the eight Gaussians; expect
//! about 1 for Euler and about 2 for midpoint and Heun.
//!
//! `data` holds samples of the data. Do you need it?
//!
//! Grade it: `cargo run --release --bin course -- grade measured_order`.

use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::{Points, VectorField};

/// The order of accuracy of `method`, measured on `field` from the noise `x0`.
pub fn measured_order(field: &dyn VectorField, x0: &Points, data: &Points, method: Method) -> f64 {
    // BEGIN SOLUTION
    let _ = data; // the error is measured against a reference solution, not against the data
    let run = |k: usize, m: Method| solve(field, x0, &TimeGrid::uniform(0.0, 1.0, k).unwrap(), m).unwrap().final_state;
    let reference = run(1024, Method::Rk4);
    let (n, _) = x0.shape();
    let points: Vec<(f64, f64)> = [8usize, 16, 32, 64]
        .iter()
        .map(|&k| {
            let x = run(k, method);
            let sq: f64 = x.as_slice().iter().zip(reference.as_slice()).map(|(a, b)| (a - b).powi(2)).sum();
            ((1.0 / k as f64).ln(), (sq / n as f64).sqrt().ln())
        })
        .collect();
    // Least-squares slope of ln e against ln h.
    let m = points.len() as f64;
    let (sx, sy) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / m, sy / m);
    let cov: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    cov / var
    // END SOLUTION
}
