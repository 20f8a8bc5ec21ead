//! Schedulers and the affine Gaussian path, checked against closed forms.

use flowmatch::path::{
    validate_endpoints, CondOT, Cosine, LinearVP, Polynomial, Scheduler, SchedulerOutput, VariancePreserving,
    ENDPOINT_TOLERANCE,
};
use flowmatch::path::{AffinePath, Prediction};
use flowmatch::{Error, Points};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

const ALL: [Prediction; 4] = [Prediction::Velocity, Prediction::Data, Prediction::Noise, Prediction::Score];

fn all_schedulers() -> Vec<Box<dyn Scheduler>> {
    vec![
        Box::new(CondOT),
        Box::new(Polynomial::new(0.5).unwrap()),
        Box::new(Polynomial::new(2.0).unwrap()),
        Box::new(Polynomial::new(3.7).unwrap()),
        Box::new(VariancePreserving::default()),
        Box::new(VariancePreserving::new(0.0, 20.0).unwrap()),
        Box::new(VariancePreserving::new(1.0, 30.0).unwrap()),
        Box::new(LinearVP),
        Box::new(Cosine),
    ]
}

fn normal_points(rng: &mut StdRng, n: usize, d: usize) -> Points {
    Points::from_fn(n, d, |_, _| rng.sample::<f64, _>(StandardNormal))
}

fn max_abs_diff(a: &Points, b: &Points) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.as_slice().iter().zip(b.as_slice()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn max_abs(a: &Points) -> f64 {
    a.as_slice().iter().map(|x| x.abs()).fold(0.0, f64::max)
}

/// A user-defined scheduler with time running the wrong way (t = 0 is data).
#[derive(Debug, Clone)]
struct Backwards;

impl Scheduler for Backwards {
    fn eval(&self, t: f64) -> SchedulerOutput {
        SchedulerOutput { alpha: 1.0 - t, sigma: t, d_alpha: -1.0, d_sigma: 1.0 }
    }
    fn name(&self) -> String {
        "Backwards".into()
    }
}

/// A user-defined scheduler that is fine: α = t², σ = 1 − t.
#[derive(Debug, Clone)]
struct Mixed;

impl Scheduler for Mixed {
    fn eval(&self, t: f64) -> SchedulerOutput {
        SchedulerOutput { alpha: t * t, sigma: 1.0 - t, d_alpha: 2.0 * t, d_sigma: -1.0 }
    }
    fn name(&self) -> String {
        "Mixed".into()
    }
}

/// A broken user-defined scheduler that returns NaN everywhere.
#[derive(Debug, Clone)]
struct NotANumber;

impl Scheduler for NotANumber {
    fn eval(&self, _t: f64) -> SchedulerOutput {
        SchedulerOutput { alpha: f64::NAN, sigma: f64::NAN, d_alpha: f64::NAN, d_sigma: f64::NAN }
    }
    fn name(&self) -> String {
        "NotANumber".into()
    }
}

#[test]
fn derivatives_match_central_differences() {
    let h = 1e-6;
    for s in all_schedulers() {
        for k in 1..50 {
            let t = k as f64 / 50.0;
            let (lo, hi, mid) = (s.eval(t - h), s.eval(t + h), s.eval(t));
            let fd_alpha = (hi.alpha - lo.alpha) / (2.0 * h);
            let fd_sigma = (hi.sigma - lo.sigma) / (2.0 * h);
            let tol = |exact: f64| 1e-6 * (1.0 + exact.abs());
            assert!(
                (fd_alpha - mid.d_alpha).abs() < tol(mid.d_alpha),
                "{} at t = {t}: α̇ = {} but finite difference = {fd_alpha}",
                s.name(),
                mid.d_alpha
            );
            assert!(
                (fd_sigma - mid.d_sigma).abs() < tol(mid.d_sigma),
                "{} at t = {t}: σ̇ = {} but finite difference = {fd_sigma}",
                s.name(),
                mid.d_sigma
            );
        }
    }
}

#[test]
fn closed_forms_at_interior_times() {
    let t = 0.3_f64;
    let p = Polynomial::new(2.0).unwrap().eval(t);
    assert!((p.alpha - 0.09).abs() < 1e-15 && (p.sigma - 0.91).abs() < 1e-15 && (p.d_alpha - 0.6).abs() < 1e-15);
    let c = Cosine.eval(t);
    let ang = std::f64::consts::FRAC_PI_2 * t;
    assert!((c.alpha - ang.sin()).abs() < 1e-15 && (c.sigma - ang.cos()).abs() < 1e-15);
    let l = LinearVP.eval(t);
    assert!((l.sigma - (1.0 - t * t).sqrt()).abs() < 1e-15);
    let vp = VariancePreserving::new(0.1, 20.0).unwrap().eval(t);
    let s = 1.0 - t;
    let big_t = 0.1 * s + 0.5 * (20.0 - 0.1) * s * s;
    assert!((vp.alpha - (-0.5 * big_t).exp()).abs() < 1e-15);
    // Polynomial(1) is CondOT.
    let p1 = Polynomial::new(1.0).unwrap().eval(t);
    assert_eq!(p1, CondOT.eval(t));
}

#[test]
fn variance_preserving_schedulers_keep_unit_variance() {
    let vps: Vec<Box<dyn Scheduler>> =
        vec![Box::new(VariancePreserving::default()), Box::new(LinearVP), Box::new(Cosine)];
    for s in vps {
        for k in 0..=20 {
            let o = s.eval(k as f64 / 20.0);
            assert!((o.alpha * o.alpha + o.sigma * o.sigma - 1.0).abs() < 1e-14, "{}", s.name());
        }
    }
}

#[test]
fn exact_schedulers_hit_their_endpoints() {
    let exact: Vec<Box<dyn Scheduler>> = vec![
        Box::new(CondOT),
        Box::new(Polynomial::new(0.5).unwrap()),
        Box::new(Polynomial::new(3.0).unwrap()),
        Box::new(LinearVP),
        Box::new(Cosine),
    ];
    for s in exact {
        let (a, b) = (s.eval(0.0), s.eval(1.0));
        assert_eq!((a.alpha, a.sigma), (0.0, 1.0), "{} at t = 0", s.name());
        assert_eq!((b.alpha, b.sigma), (1.0, 0.0), "{} at t = 1", s.name());
        validate_endpoints(&s).unwrap();
    }
}

#[test]
fn vp_endpoints_within_documented_tolerance() {
    for (b0, b1) in [(0.1, 20.0), (0.0, 20.0), (1.0, 30.0)] {
        let s = VariancePreserving::new(b0, b1).unwrap();
        let start = s.eval(0.0);
        let expected = (-(b0 + b1) / 4.0).exp();
        assert!((start.alpha - expected).abs() < 1e-15);
        assert!(start.alpha > 0.0 && start.alpha <= ENDPOINT_TOLERANCE);
        assert!((start.sigma - 1.0).abs() <= ENDPOINT_TOLERANCE);
        let end = s.eval(1.0);
        assert_eq!((end.alpha, end.sigma), (1.0, 0.0));
    }
    // σ̇ at t = 1: −∞ when β_min > 0, the finite limit −√(β_max/2) when β_min = 0.
    assert_eq!(VariancePreserving::default().eval(1.0).d_sigma, f64::NEG_INFINITY);
    let s = VariancePreserving::new(0.0, 20.0).unwrap();
    let limit = -(10.0_f64).sqrt();
    assert!((s.eval(1.0).d_sigma - limit).abs() < 1e-12);
    assert!((s.eval(1.0 - 1e-7).d_sigma - limit).abs() < 1e-5);
    assert!(s.eval_checked(1.0).is_ok());
}

#[test]
fn invalid_parameters_are_rejected() {
    for n in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(Polynomial::new(n), Err(Error::InvalidParameter { .. })), "n = {n}");
    }
    for (b0, b1) in [(1.0, 1.0), (20.0, 0.1), (-0.1, 20.0), (f64::NAN, 20.0), (0.1, f64::INFINITY), (0.1, 10.0)] {
        assert!(
            matches!(VariancePreserving::new(b0, b1), Err(Error::InvalidParameter { .. })),
            "beta_min = {b0}, beta_max = {b1}"
        );
    }
    // The boundary of the endpoint tolerance: β_min + β_max = 4 ln(1/tol).
    let edge = 4.0 * (1.0 / ENDPOINT_TOLERANCE).ln();
    assert!(VariancePreserving::new(0.0, edge + 1e-6).is_ok());
    let err = VariancePreserving::new(0.0, edge - 1e-3).unwrap_err();
    assert!(err.to_string().contains("beta_max"), "{err}");
}

#[test]
fn user_schedulers_are_validated() {
    let err = validate_endpoints(&Backwards).unwrap_err();
    match &err {
        Error::InvalidParameter { what, reason } => {
            assert!(what.contains("Backwards"));
            assert!(reason.contains("α_0 = 1"), "{reason}");
        }
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
    assert!(matches!(AffinePath::new(Backwards), Err(Error::InvalidParameter { .. })));
    assert!(matches!(validate_endpoints(&NotANumber), Err(Error::InvalidParameter { .. })));
    validate_endpoints(&Mixed).unwrap();
    assert!(AffinePath::new(Mixed).is_ok());
}

#[test]
fn checked_evaluation_rejects_bad_times_and_singular_points() {
    for t in [f64::NAN, f64::INFINITY] {
        assert!(matches!(CondOT.eval_checked(t), Err(Error::NonFinite { .. })));
    }
    for t in [-0.1, 1.5] {
        assert!(matches!(CondOT.eval_checked(t), Err(Error::InvalidParameter { .. })));
    }
    assert!(matches!(LinearVP.eval_checked(1.0), Err(Error::NonFinite { .. })));
    assert!(matches!(Polynomial::new(0.5).unwrap().eval_checked(0.0), Err(Error::NonFinite { .. })));
    assert_eq!(Cosine.eval_checked(0.4).unwrap(), Cosine.eval(0.4));
}

#[test]
fn conversions_round_trip() {
    let mut rng = StdRng::seed_from_u64(7);
    let schedulers: Vec<Box<dyn Scheduler>> = vec![
        Box::new(CondOT),
        Box::new(Polynomial::new(2.0).unwrap()),
        Box::new(VariancePreserving::default()),
        Box::new(LinearVP),
        Box::new(Cosine),
    ];
    let (n, d) = (64, 3);
    for s in schedulers {
        let name = s.name();
        let path = AffinePath::new(s).unwrap();
        let t: Vec<f64> = (0..n).map(|_| rng.gen_range(0.02..0.98)).collect();
        let x_t = normal_points(&mut rng, n, d);
        for from in ALL {
            let value = normal_points(&mut rng, n, d);
            for to in ALL {
                let there = path.convert(&x_t, &t, &value, from, to).unwrap();
                let back = path.convert(&x_t, &t, &there, to, from).unwrap();
                let err = max_abs_diff(&back, &value) / max_abs(&value);
                assert!(err < 1e-10, "{name}: {from} → {to} → {from} has relative error {err}");
            }
        }
    }
}

#[test]
fn conversions_recover_the_pair_that_made_the_point() {
    // v = dx_t from a sampled pair: the conversions must return x_1, x_0 and −x_0/σ.
    let mut rng = StdRng::seed_from_u64(11);
    let (n, d) = (40, 2);
    for s in all_schedulers() {
        let name = s.name();
        let path = AffinePath::new(s).unwrap();
        let x0 = normal_points(&mut rng, n, d);
        let x1 = normal_points(&mut rng, n, d);
        let t: Vec<f64> = (0..n).map(|_| rng.gen_range(0.05..0.95)).collect();
        let ps = path.sample(&x0, &x1, &t).unwrap();
        let data = path.convert(&ps.x_t, &t, &ps.target, Prediction::Velocity, Prediction::Data).unwrap();
        let noise = path.convert(&ps.x_t, &t, &ps.target, Prediction::Velocity, Prediction::Noise).unwrap();
        let score = path.convert(&ps.x_t, &t, &ps.target, Prediction::Velocity, Prediction::Score).unwrap();
        let expected_score = Points::from_fn(n, d, |i, j| -x0.row(i)[j] / path.scheduler().eval(t[i]).sigma);
        assert!(max_abs_diff(&data, &x1) < 1e-9, "{name}: velocity → data");
        assert!(max_abs_diff(&noise, &x0) < 1e-9, "{name}: velocity → noise");
        assert!(max_abs_diff(&score, &expected_score) < 1e-9 * (1.0 + max_abs(&expected_score)), "{name}: score");
        // Composition: data → noise → score equals data → score.
        let via = path.convert(&ps.x_t, &t, &x1, Prediction::Data, Prediction::Noise).unwrap();
        let via = path.convert(&ps.x_t, &t, &via, Prediction::Noise, Prediction::Score).unwrap();
        let direct = path.convert(&ps.x_t, &t, &x1, Prediction::Data, Prediction::Score).unwrap();
        assert!(max_abs_diff(&via, &direct) < 1e-9 * (1.0 + max_abs(&direct)), "{name}: composition");
        // The single-point version agrees with the batch version.
        let one = path.convert_point(ps.x_t.row(3), t[3], ps.target.row(3), Prediction::Velocity, Prediction::Data);
        assert_eq!(one.unwrap(), data.row(3));
    }
}

#[test]
fn cond_ot_sample_closed_forms() {
    let mut rng = StdRng::seed_from_u64(3);
    let (n, d) = (20, 2);
    let path = AffinePath::new(CondOT).unwrap();
    let x0 = normal_points(&mut rng, n, d);
    let x1 = normal_points(&mut rng, n, d);
    let start = path.sample(&x0, &x1, &[0.0]).unwrap();
    assert_eq!(start.x_t, x0);
    assert_eq!(start.t, vec![0.0; n]);
    let end = path.sample(&x0, &x1, &[1.0]).unwrap();
    assert_eq!(end.x_t, x1);
    let t: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
    let mid = path.sample(&x0, &x1, &t).unwrap();
    let diff = x1.plus_scaled(-1.0, &x0);
    assert!(max_abs_diff(&mid.target, &diff) < 1e-15);
    let expected = Points::from_fn(n, d, |i, j| t[i] * x1.row(i)[j] + (1.0 - t[i]) * x0.row(i)[j]);
    assert!(max_abs_diff(&mid.x_t, &expected) < 1e-15);
    assert_eq!(mid.t, t);
    // CondOT coefficients of data → velocity: a = −1/(1 − t), b = 1/(1 − t).
    let (a, b) = path.conversion_coefficients(0.75, Prediction::Data, Prediction::Velocity).unwrap();
    assert!((a + 4.0).abs() < 1e-12 && (b - 4.0).abs() < 1e-12);
}

#[test]
fn conditional_velocity_agrees_with_sampled_target() {
    let mut rng = StdRng::seed_from_u64(5);
    let (n, d) = (30, 2);
    for s in all_schedulers() {
        let name = s.name();
        let path = AffinePath::new(s).unwrap();
        let x0 = normal_points(&mut rng, n, d);
        let x1 = normal_points(&mut rng, n, d);
        let t: Vec<f64> = (0..n).map(|_| rng.gen_range(0.05..0.95)).collect();
        let ps = path.sample(&x0, &x1, &t).unwrap();
        let u = path.conditional_velocity(&ps.x_t, &x1, &t).unwrap();
        let err = max_abs_diff(&u, &ps.target) / (1.0 + max_abs(&ps.target));
        assert!(err < 1e-10, "{name}: relative error {err}");
    }
    // Singular at t = 1, where σ = 0.
    let path = AffinePath::new(CondOT).unwrap();
    let x = Points::zeros(2, 2);
    assert!(matches!(path.conditional_velocity(&x, &x, &[1.0]), Err(Error::InvalidParameter { .. })));
}

#[test]
fn singular_conversions_are_errors_not_infinities() {
    let cot = AffinePath::new(CondOT).unwrap();
    let x = Points::from_rows(&[[1.0, 2.0]]).unwrap();
    let v = Points::from_rows(&[[0.5, -1.0]]).unwrap();
    let singular = [
        (1.0, Prediction::Velocity, Prediction::Score),
        (1.0, Prediction::Data, Prediction::Velocity),
        (1.0, Prediction::Data, Prediction::Noise),
        (1.0, Prediction::Score, Prediction::Data),
        (0.0, Prediction::Noise, Prediction::Data),
        (0.0, Prediction::Score, Prediction::Velocity),
    ];
    for (t, from, to) in singular {
        let r = cot.convert(&x, &[t], &v, from, to);
        assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{from} → {to} at t = {t}: {r:?}");
    }
    // D = α σ̇ − σ α̇ = 0 for Polynomial(2) at t = 0: the velocity (always 0 there) says nothing.
    let poly = AffinePath::new(Polynomial::new(2.0).unwrap()).unwrap();
    assert!(matches!(
        poly.convert(&x, &[0.0], &v, Prediction::Velocity, Prediction::Data),
        Err(Error::InvalidParameter { .. })
    ));
    // Regular at the endpoints: CondOT velocity → data at t = 0 is x_t + v; data → noise at t = 0 is x_t.
    let d0 = cot.convert(&x, &[0.0], &v, Prediction::Velocity, Prediction::Data).unwrap();
    assert_eq!(d0.row(0), &[1.5, 1.0]);
    let n0 = cot.convert(&x, &[0.0], &v, Prediction::Data, Prediction::Noise).unwrap();
    assert_eq!(n0.row(0), &[1.0, 2.0]);
}

#[test]
fn shapes_and_times_are_validated() {
    let path = AffinePath::new(CondOT).unwrap();
    let a = Points::zeros(3, 2);
    let b = Points::zeros(4, 2);
    let c = Points::zeros(3, 3);
    assert!(matches!(path.sample(&a, &b, &[0.5]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(path.sample(&a, &c, &[0.5]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(path.sample(&a, &a, &[0.5, 0.5]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(path.sample(&a, &a, &[]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(path.sample(&a, &a, &[0.1, f64::NAN, 0.3]), Err(Error::NonFinite { .. })));
    assert!(matches!(path.sample(&a, &a, &[1.2]), Err(Error::InvalidParameter { .. })));
    let mut bad = Points::zeros(3, 2);
    bad.row_mut(1)[0] = f64::NAN;
    assert!(matches!(path.sample(&bad, &a, &[0.5]), Err(Error::NonFinite { .. })));
    assert!(matches!(path.conditional_velocity(&a, &b, &[0.5]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(
        path.convert(&a, &[0.5], &c, Prediction::Data, Prediction::Noise),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        path.convert(&a, &[-0.5], &a, Prediction::Data, Prediction::Noise),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        path.convert_point(&[1.0, 2.0], 0.5, &[1.0], Prediction::Data, Prediction::Noise),
        Err(Error::ShapeMismatch { .. })
    ));
    // LinearVP is singular at t = 1 (σ̇ = −∞): sampling there is an error, just below is fine.
    let lvp = AffinePath::new(LinearVP).unwrap();
    assert!(matches!(lvp.sample(&a, &a, &[1.0]), Err(Error::NonFinite { .. })));
    assert!(lvp.sample(&a, &a, &[0.999]).is_ok());
}

#[test]
fn boxed_schedulers_work_in_paths() {
    let boxed: Box<dyn Scheduler> = Box::new(Polynomial::new(2.0).unwrap());
    let path = AffinePath::new(boxed).unwrap();
    assert!(format!("{path:?}").contains("Polynomial(n=2)"));
    let x0 = Points::from_rows(&[[1.0]]).unwrap();
    let x1 = Points::from_rows(&[[3.0]]).unwrap();
    let s = path.sample(&x0, &x1, &[0.5]).unwrap();
    // α = 0.25, σ = 0.75, α̇ = 1, σ̇ = −1.
    assert!((s.x_t.row(0)[0] - 1.5).abs() < 1e-15);
    assert!((s.target.row(0)[0] - 2.0).abs() < 1e-15);
}
