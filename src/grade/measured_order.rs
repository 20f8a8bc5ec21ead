//! Exercise 7.4.7: measure a solver's order of accuracy.
//!
//! An order-p solver with K steps of size h = 1/K has a global error e(h) ≈ C h^p,
//! so ln e = ln C + p ln h: the order is the slope of the error against the step
//! size on log-log axes. The error must be measured against a reference solution
//! of the same ODE (here RK4 with many more steps), never against the data: the
//! distance to the data stops falling at the noise floor of the measurement.
//!
//! ```text
//! e_K = sqrt((1/n) Σ_i ‖x_K,i − x_ref,i‖²),   p = slope of the least-squares line through (ln h_K, ln e_K)
//! ```
//!
//! The student writes
//! `fn measured_order(field: &dyn VectorField, x0: &Points, data: &Points, method: Method) -> f64`;
//! the checker passes the exact marginal field of the eight Gaussians and
//! expects about 1 for Euler and about 2 for midpoint and Heun.

use super::text;
use super::{Checker, Exercise, Hints};
use crate::data::{Dataset, EightGaussians};
use crate::field::VectorField;
use crate::marginal::Marginal;
use crate::path::CondOT;
use crate::points::Points;
use crate::solver::Method;
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&dyn VectorField, &Points, &Points, Method) -> f64 + Sync;

/// Exercise 7.4.7: `measured_order`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "Measure a solver's order of accuracy",
        points: 10,
        time_limit: Duration::from_secs(60),
        hints: Hints {
            concept: "the order p says how the error falls as the step shrinks: halve the step, and the error falls \
                by a factor 2^p. Measure the error of the solver's samples against a much more accurate solution of \
                the same ODE from the same noise (not against the data, which no solver can reach exactly), at \
                several step counts, and fit a line on log-log axes.",
            formula: "e_K = rms_i ‖x_K,i − x_ref,i‖ with x_ref from RK4 and many steps; \
                p = slope of ln e_K against ln(1/K), e.g. K = 8, 16, 32, 64",
        },
        ..super::registered::measured_order
    },
    compare,
);

/// Compares `f` with the nominal orders of Euler (1), midpoint (2) and Heun (2) on the
/// exact eight-Gaussians field, and names the typical mistakes from the value returned.
fn compare(f: &StudentFn) -> Result<(), String> {
    let setup = |e: crate::Error| format!("the grader could not set up its test ({e})");
    let data = EightGaussians::torchcfm();
    let field = Marginal::from_mixture(data.as_mixture(), CondOT).map_err(setup)?;
    let x0 = Points::randn(200, 2, 0x7406);
    let samples = data.sample(200, 0x7407).map_err(setup)?;
    for (method, p) in [(Method::Euler, 1.0), (Method::Midpoint, 2.0), (Method::Heun, 2.0)] {
        let got = f(&field, &x0, &samples, method);
        if (got - p).abs() <= 0.3 {
            continue;
        }
        let context = format!("For {} (order {p}) on the exact eight-Gaussians field,", method.name());
        let diagnosis = if !got.is_finite() {
            Some(
                "a logarithm of zero: one of your errors is exactly 0, so the reference must be a different, finer \
                 solve than every step count you measure",
            )
        } else if (got + p).abs() <= 0.3 {
            Some("the sign is flipped: the order is the slope against the step size h = 1/K, not against K")
        } else if (got - 2f64.powf(p)).abs() <= 0.3 {
            Some("you returned the factor by which the error falls when the step halves, 2^p; the order is its logarithm to base 2")
        } else if (got - p / std::f64::consts::LN_10).abs() <= 0.12 || (got - p * std::f64::consts::LN_10).abs() <= 0.3 {
            Some("the two logarithms have different bases: take both axes in the same base")
        } else if got.abs() < 0.5 * p {
            Some(
                "your error hardly falls as the steps shrink: it looks measured against the data, where it flattens \
                 on the noise floor of two finite samples, instead of against a reference solution from the same noise",
            )
        } else {
            None
        };
        return Err(format!(
            "{context} you measured an order of {}; expected about {p}{}.",
            text::num(got),
            text::remark(diagnosis)
        ));
    }
    Ok(())
}
