//! Solver tests against closed-form solutions.

use std::cell::Cell;

use flowmatch::solver::{solve, solve_trajectory, Dopri5Options, Method, Solution};
use flowmatch::{batched, pointwise, Error, Points, Time, TimeGrid, VectorField};

/// `u(x, t) = −x` (every coordinate): `x(t) = x(t₀)·e^{−(t − t₀)}`.
fn decay() -> impl VectorField {
    pointwise(|x: &[f64], _t| x.iter().map(|v| -v).collect())
}

/// `u(x, t) = 3t²` (every coordinate): `x(t) = x(0) + t³`.
fn cubic() -> impl VectorField {
    pointwise(|x: &[f64], t| vec![3.0 * t * t; x.len()])
}

fn one(v: f64) -> Points {
    Points::from_rows(&[[v]]).unwrap()
}

fn decay_error(method: &Method, steps: usize) -> f64 {
    let grid = TimeGrid::uniform(0.0, 1.0, steps).unwrap();
    let sol = solve(&decay(), &one(1.0), &grid, *method).unwrap();
    (sol.final_state.row(0)[0] - (-1.0f64).exp()).abs()
}

/// A field wrapper that counts how often it is evaluated.
struct Counting<F> {
    inner: F,
    calls: Cell<usize>,
}

impl<F: VectorField> VectorField for Counting<F> {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> flowmatch::Result<()> {
        self.calls.set(self.calls.get() + 1);
        self.inner.eval_into(x, t, out)
    }
}

// ---------------------------------------------------------------- time grid

#[test]
fn uniform_grid_has_exact_endpoints_and_accessors() {
    let g = TimeGrid::uniform(0.0, 1.0, 10).unwrap();
    assert_eq!(g.times().len(), 11);
    assert_eq!(g.steps(), 10);
    assert_eq!(g.t0(), 0.0);
    assert_eq!(g.t1(), 1.0);
    assert!(g.is_forward());
    for (k, &t) in g.times().iter().enumerate() {
        assert!((t - k as f64 / 10.0).abs() < 1e-15);
    }
    let b = TimeGrid::uniform(1.0, 0.0, 4).unwrap();
    assert!(!b.is_forward());
    assert_eq!(b.times(), &[1.0, 0.75, 0.5, 0.25, 0.0]);
    assert_eq!(b.reversed().times(), &[0.0, 0.25, 0.5, 0.75, 1.0]);
    let explicit = TimeGrid::new(vec![0.0, 0.1, 0.5, 1.0]).unwrap();
    assert_eq!(explicit.steps(), 3);
}

// ---------------------------------------------------------------- test 1: every method on u = 3t²

#[test]
fn every_method_integrates_3t_squared() {
    let x0 = Points::from_rows(&[[1.0, 0.0]]).unwrap();
    // Errors from the quadrature rule each method reduces to on u = 3t² with h = 1/n:
    // Euler (left sum) 3h/2 − h²/2, Midpoint h²/4, Heun (trapezoid) h²/2, RK4 (Simpson) exact.
    let cases: Vec<(Method, usize, f64)> = vec![
        (Method::Euler, 1000, 1.5e-3 * 1.01),
        (Method::Midpoint, 10, 0.25e-2 * 1.01),
        (Method::Heun, 10, 0.5e-2 * 1.01),
        (Method::Rk4, 4, 1e-13),
        (Method::dopri5(1e-8, 1e-8), 1, 1e-7),
    ];
    for (method, steps, tol) in cases {
        let grid = TimeGrid::uniform(0.0, 1.0, steps).unwrap();
        let sol = solve(&cubic(), &x0, &grid, method).unwrap();
        let got = sol.final_state.row(0);
        assert!((got[0] - 2.0).abs() <= tol, "{method}: x1 = {} instead of 2", got[0]);
        assert!((got[1] - 1.0).abs() <= tol, "{method}: x2 = {} instead of 1", got[1]);
        assert!(sol.trajectory.is_none());
    }
}

#[test]
fn euler_error_matches_left_riemann_sum() {
    // Euler on u = 3t² is the left Riemann sum: x(1) = Σ 3(k/n)²/n = (n−1)(2n−1)/(2n²).
    let n = 50;
    let grid = TimeGrid::uniform(0.0, 1.0, n).unwrap();
    let sol = solve(&cubic(), &one(0.0), &grid, Method::Euler).unwrap();
    let nf = n as f64;
    let expected = (nf - 1.0) * (2.0 * nf - 1.0) / (2.0 * nf * nf);
    assert!((sol.final_state.row(0)[0] - expected).abs() < 1e-13);
}

#[test]
fn many_points_move_independently() {
    // Batch of 1000 points under dx/dt = −x: each point scales by e^{−1}.
    let x0 = Points::from_fn(1000, 2, |i, j| i as f64 * 0.01 - j as f64);
    let grid = TimeGrid::uniform(0.0, 1.0, 20).unwrap();
    let sol = solve(&decay(), &x0, &grid, Method::Rk4).unwrap();
    for (a, b) in x0.as_slice().iter().zip(sol.final_state.as_slice()) {
        assert!((b - a * (-1.0f64).exp()).abs() < 1e-6 * (1.0 + a.abs()));
    }
}

// ---------------------------------------------------------------- test 2: convergence orders

#[test]
fn convergence_orders_on_exponential_decay() {
    let cases = [(Method::Euler, 1.0, 40), (Method::Midpoint, 2.0, 20), (Method::Heun, 2.0, 20), (Method::Rk4, 4.0, 8)];
    for (method, order, n0) in cases {
        for n in [n0, 2 * n0, 4 * n0] {
            let e1 = decay_error(&method, n);
            let e2 = decay_error(&method, 2 * n);
            let estimated = (e1 / e2).log2();
            assert!(
                (estimated - order).abs() < 0.25,
                "{method}: estimated order {estimated} from n = {n} (err {e1:e}) and {} (err {e2:e}), expected {order}",
                2 * n
            );
        }
        assert_eq!(method.order() as f64, order);
    }
}

// ---------------------------------------------------------------- test 3: Dopri5 accuracy and cost

#[test]
fn dopri5_meets_tolerance_with_fewer_nfe_than_rk4() {
    let tol = 1e-8;
    let grid = TimeGrid::uniform(0.0, 1.0, 1).unwrap();
    let sol = solve(&decay(), &one(1.0), &grid, Method::dopri5(tol, tol)).unwrap();
    let err = (sol.final_state.row(0)[0] - (-1.0f64).exp()).abs();
    assert!(err < 10.0 * tol, "Dopri5 error {err:e} above 10·tol");
    assert!(sol.accepted_steps > 1, "an adaptive solve should take several substeps");

    let mut steps = 1;
    while decay_error(&Method::Rk4, steps) > err {
        steps *= 2;
        assert!(steps < 1 << 16, "RK4 never reached the Dopri5 error");
    }
    let rk4_nfe = 4 * steps;
    assert!(sol.nfe < rk4_nfe, "Dopri5 used {} NFE for error {err:e}, RK4 needs {rk4_nfe} ({steps} steps)", sol.nfe);
}

#[test]
fn dopri5_tighter_tolerance_is_more_accurate_and_costlier() {
    let grid = TimeGrid::uniform(0.0, 1.0, 1).unwrap();
    let loose = solve(&decay(), &one(1.0), &grid, Method::dopri5(1e-4, 1e-4)).unwrap();
    let tight = solve(&decay(), &one(1.0), &grid, Method::dopri5(1e-10, 1e-10)).unwrap();
    let e = |s: &Solution| (s.final_state.row(0)[0] - (-1.0f64).exp()).abs();
    assert!(e(&loose) < 1e-3 && e(&tight) < 1e-9);
    assert!(e(&tight) < e(&loose));
    assert!(tight.nfe > loose.nfe);
}

#[test]
fn dopri5_reports_every_output_time() {
    let grid = TimeGrid::new(vec![0.0, 0.1, 0.15, 0.5, 2.0]).unwrap();
    let sol = solve_trajectory(&decay(), &one(3.0), &grid, Method::dopri5(1e-9, 1e-9)).unwrap();
    let traj = sol.trajectory.as_ref().unwrap();
    assert_eq!(traj.len(), 5);
    assert_eq!(sol.times, grid.times());
    for (p, &t) in traj.iter().zip(grid.times()) {
        assert!((p.row(0)[0] - 3.0 * (-t).exp()).abs() < 1e-7, "t = {t}: {}", p.row(0)[0]);
    }
    assert_eq!(&sol.final_state, traj.last().unwrap());
}

#[test]
fn dopri5_handles_a_field_that_changes_scale() {
    // dx/dt = 50·cos(50 t): x(t) = sin(50 t); needs small steps where it oscillates.
    let field = pointwise(|_x: &[f64], t| vec![50.0 * (50.0 * t).cos()]);
    let grid = TimeGrid::uniform(0.0, 1.0, 1).unwrap();
    let sol = solve(&field, &one(0.0), &grid, Method::dopri5(1e-9, 1e-9)).unwrap();
    assert!((sol.final_state.row(0)[0] - 50.0f64.sin()).abs() < 1e-7);
}

// ---------------------------------------------------------------- test 4: backward grid

#[test]
fn backward_grid_recovers_the_start() {
    let x1 = one((-1.0f64).exp());
    let grid = TimeGrid::uniform(1.0, 0.0, 25).unwrap();
    for method in [Method::Rk4, Method::Heun, Method::dopri5(1e-9, 1e-9)] {
        let sol = solve_trajectory(&decay(), &x1, &grid, method).unwrap();
        let traj = sol.trajectory.as_ref().unwrap();
        assert_eq!(traj.len(), grid.times().len());
        assert_eq!(sol.times, grid.times());
        assert_eq!(traj[0], x1);
        let tol = if method == Method::Heun { 1e-3 } else { 1e-7 };
        for (p, &t) in traj.iter().zip(grid.times()) {
            assert!((p.row(0)[0] - (-t).exp()).abs() < tol, "{method} at t = {t}: {}", p.row(0)[0]);
        }
        assert!((sol.final_state.row(0)[0] - 1.0).abs() < tol, "{method}");
    }
}

#[test]
fn forward_then_backward_round_trip() {
    let field = pointwise(|x: &[f64], t| vec![x[1] * t, -x[0]]);
    let x0 = Points::from_rows(&[[0.3, -1.2], [2.0, 0.5]]).unwrap();
    let grid = TimeGrid::uniform(0.0, 1.0, 200).unwrap();
    let fwd = solve(&field, &x0, &grid, Method::Rk4).unwrap();
    let back = solve(&field, &fwd.final_state, &grid.reversed(), Method::Rk4).unwrap();
    for (a, b) in x0.as_slice().iter().zip(back.final_state.as_slice()) {
        assert!((a - b).abs() < 1e-9);
    }
    assert!((fwd.final_state.row(0)[0] - 0.3).abs() > 0.1, "the field should have moved the points");
}

// ---------------------------------------------------------------- test 5: bad input

fn message(e: &Error) -> String {
    e.to_string()
}

#[test]
fn bad_grids_are_typed_errors() {
    let e = TimeGrid::new(vec![]).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("empty"), "{e}");

    let e = TimeGrid::new(vec![0.5]).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("single time"), "{e}");

    let e = TimeGrid::new(vec![0.0, 0.5, 0.4, 1.0]).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("not monotone"), "{e}");
    assert!(message(&e).contains("0.4"), "{e}");

    let e = TimeGrid::new(vec![0.0, 0.5, 0.5, 1.0]).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("both 0.5"), "{e}");

    let e = TimeGrid::new(vec![0.0, f64::NAN, 1.0]).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("NaN"), "{e}");

    let e = TimeGrid::new(vec![0.0, f64::INFINITY]).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("inf"), "{e}");

    let e = TimeGrid::uniform(0.0, 1.0, 0).unwrap_err();
    assert!(matches!(e, Error::ZeroCount { .. }) && message(&e).contains("steps"), "{e}");

    let e = TimeGrid::uniform(0.3, 0.3, 10).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("zero length"), "{e}");

    let e = TimeGrid::uniform(0.0, f64::NAN, 10).unwrap_err();
    assert!(matches!(e, Error::TimeGrid { .. }) && message(&e).contains("t1"), "{e}");

    let e = TimeGrid::uniform(0.0, 1.0, usize::MAX).unwrap_err();
    assert!(matches!(e, Error::SizeLimit { .. }), "{e}");
}

#[test]
fn non_finite_initial_state_is_rejected() {
    let grid = TimeGrid::uniform(0.0, 1.0, 4).unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let x0 = Points::from_rows(&[[0.0, 1.0], [2.0, bad]]).unwrap();
        for method in [Method::Euler, Method::dopri5(1e-6, 1e-6)] {
            let e = solve(&decay(), &x0, &grid, method).unwrap_err();
            assert!(matches!(e, Error::NonFinite { .. }), "{e}");
            assert!(message(&e).contains("x0") && message(&e).contains("point 1, coordinate 1"), "{e}");
        }
    }
}

#[test]
fn bad_tolerances_are_rejected() {
    let grid = TimeGrid::uniform(0.0, 1.0, 4).unwrap();
    for (rtol, atol) in [(-1e-6, 1e-6), (1e-6, -1e-6), (f64::NAN, 1e-6), (1e-6, f64::INFINITY), (0.0, 0.0)] {
        let e = solve(&decay(), &one(1.0), &grid, Method::dopri5(rtol, atol)).unwrap_err();
        assert!(matches!(e, Error::Tolerance { .. }), "({rtol}, {atol}): {e}");
        assert!(message(&e).contains("tolerances"), "{e}");
    }
    // Pure relative or pure absolute tolerance is fine.
    assert!(solve(&decay(), &one(1.0), &grid, Method::dopri5(1e-6, 0.0)).is_ok());
    assert!(solve(&decay(), &one(1.0), &grid, Method::dopri5(0.0, 1e-6)).is_ok());

    let zero_steps = Method::Dopri5(Dopri5Options { max_steps: 0, ..Default::default() });
    assert!(matches!(solve(&decay(), &one(1.0), &grid, zero_steps), Err(Error::ZeroCount { .. })));
    let bad_h = Method::Dopri5(Dopri5Options { initial_step: Some(-0.1), ..Default::default() });
    assert!(matches!(solve(&decay(), &one(1.0), &grid, bad_h), Err(Error::InvalidParameter { .. })));
}

#[test]
fn field_returning_nan_is_an_error_naming_the_time() {
    let grid = TimeGrid::uniform(0.0, 1.0, 10).unwrap();
    let always_nan = pointwise(|_x: &[f64], _t| vec![f64::NAN]);
    let late_nan = pointwise(|x: &[f64], t| vec![if t > 0.55 { f64::NAN } else { -x[0] }]);
    let methods = [Method::Euler, Method::Midpoint, Method::Heun, Method::Rk4, Method::dopri5(1e-6, 1e-6)];
    for method in methods {
        let e = solve(&always_nan, &one(1.0), &grid, method).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{method}: {e}");
        assert!(message(&e).contains("t = 0"), "{method}: {e}");

        let e = solve(&late_nan, &one(1.0), &grid, method).unwrap_err();
        assert!(matches!(e, Error::NonFinite { .. }), "{method}: {e}");
        assert!(message(&e).contains("NaN"), "{method}: {e}");
        if !method.is_adaptive() {
            // The first step that evaluates at t > 0.55 is the one from 0.5 (stages at 0.55+) or 0.6.
            assert!(message(&e).contains("t = 0.6") || message(&e).contains("t = 0.7"), "{method}: {e}");
        }
    }
}

#[test]
fn diverging_field_is_an_error_not_a_nan_result() {
    // dx/dt = x² from x(0) = 1 blows up at t = 1; integrate to t = 3 with big Euler steps.
    let field = pointwise(|x: &[f64], _t| vec![x[0] * x[0]]);
    let grid = TimeGrid::uniform(0.0, 3.0, 30).unwrap();
    let e = solve(&field, &one(1.0), &grid, Method::Euler).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
    assert!(message(&e).contains("ODE state"), "{e}");
}

#[test]
fn dopri5_max_steps_and_underflow_are_solver_failures() {
    let grid = TimeGrid::uniform(0.0, 1.0, 1).unwrap();
    let few = Method::Dopri5(Dopri5Options { rtol: 1e-10, atol: 1e-10, max_steps: 3, initial_step: None });
    let e = solve(&decay(), &one(1.0), &grid, few).unwrap_err();
    assert!(matches!(e, Error::SolverFailed { .. }), "{e}");
    assert!(message(&e).contains("max_steps"), "{e}");

    let impossible = Method::dopri5(0.0, 1e-300);
    let e = solve(&decay(), &one(1.0), &grid, impossible).unwrap_err();
    assert!(matches!(e, Error::SolverFailed { .. }), "{e}");
    assert!(message(&e).contains("underflow"), "{e}");
}

#[test]
fn field_shape_errors_propagate() {
    let wrong = pointwise(|_x: &[f64], _t| vec![1.0, 2.0, 3.0]);
    let grid = TimeGrid::uniform(0.0, 1.0, 3).unwrap();
    let e = solve(&wrong, &one(1.0), &grid, Method::Heun).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
}

#[test]
fn empty_state_is_returned_unchanged() {
    let x0 = Points::zeros(0, 3);
    let grid = TimeGrid::uniform(0.0, 1.0, 5).unwrap();
    let sol = solve_trajectory(&decay(), &x0, &grid, Method::Rk4).unwrap();
    assert_eq!(sol.final_state.shape(), (0, 3));
    assert_eq!(sol.trajectory.unwrap().len(), 6);
    assert_eq!(sol.nfe, 0);
}

// ---------------------------------------------------------------- test 6: exact NFE

#[test]
fn nfe_counts_are_exact() {
    let x0 = Points::from_fn(7, 2, |i, j| (i + j) as f64);
    for (method, per_step) in [(Method::Euler, 1), (Method::Midpoint, 2), (Method::Heun, 2), (Method::Rk4, 4)] {
        for steps in [1, 3, 17] {
            let f = Counting { inner: decay(), calls: Cell::new(0) };
            let grid = TimeGrid::uniform(0.0, 1.0, steps).unwrap();
            let sol = solve(&f, &x0, &grid, method).unwrap();
            assert_eq!(sol.nfe, per_step * steps, "{method}, {steps} steps");
            assert_eq!(f.calls.get(), sol.nfe, "{method}: reported NFE differs from real calls");
            assert_eq!(method.evals_per_step(), Some(per_step));
            assert_eq!((sol.accepted_steps, sol.rejected_steps), (steps, 0));
        }
    }
}

#[test]
fn dopri5_nfe_counts_real_evaluations_with_fsal() {
    let field = pointwise(|_x: &[f64], t| vec![50.0 * (50.0 * t).cos()]);
    for opts in [
        Dopri5Options { rtol: 1e-6, atol: 1e-6, ..Default::default() },
        // A far too large first step forces rejections.
        Dopri5Options { rtol: 1e-6, atol: 1e-6, initial_step: Some(1.0), ..Default::default() },
    ] {
        let f = Counting { inner: &field, calls: Cell::new(0) };
        let grid = TimeGrid::uniform(0.0, 1.0, 4).unwrap();
        let sol = solve(&f, &one(0.0), &grid, Method::Dopri5(opts)).unwrap();
        assert_eq!(sol.nfe, f.calls.get());
        // FSAL: 1 initial evaluation (+1 to pick the first step) + 6 per attempted step.
        let start = if opts.initial_step.is_some() { 1 } else { 2 };
        assert_eq!(sol.nfe, start + 6 * (sol.accepted_steps + sol.rejected_steps));
        if opts.initial_step.is_some() {
            assert!(sol.rejected_steps > 0);
        }
    }
}

// ---------------------------------------------------------------- API helpers

#[test]
fn method_names_and_fixed_list() {
    let names: Vec<&str> = Method::all_fixed().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["Euler", "Midpoint", "Heun", "RK4"]);
    assert_eq!(Method::dopri5(1e-5, 1e-5).to_string(), "Dopri5");
    assert!(Method::dopri5(1e-5, 1e-5).is_adaptive() && !Method::Rk4.is_adaptive());
    assert_eq!(Method::dopri5(1e-5, 1e-5).evals_per_step(), None);
}

#[test]
fn batched_and_dyn_fields_work() {
    let f = batched(|x: &Points, t: f64| Points::from_fn(x.len(), x.dim(), |_, _| 2.0 * t));
    let boxed: Box<dyn VectorField> = Box::new(f);
    let grid = TimeGrid::uniform(0.0, 1.0, 3).unwrap();
    let sol = solve(boxed.as_ref(), &one(0.0), &grid, Method::Heun).unwrap();
    // Heun is exact on u = 2t: x(1) = 1.
    assert!((sol.final_state.row(0)[0] - 1.0).abs() < 1e-14);
}
