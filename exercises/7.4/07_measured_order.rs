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
    todo!()
}
