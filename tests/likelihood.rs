//! The likelihood room against closed forms: an affine Gaussian-to-Gaussian flow, the exact
//! marginal field of Gaussian mixtures (the marginalization trick end to end), Hutchinson's
//! estimator (unbiased, standard deviation ∝ k^(−½)), the Jacobians of the fields, and the
//! errors for bad input.

use flowmatch::data::{Dataset, EightGaussians, GaussianMixture, StandardGaussian};
use flowmatch::likelihood::{draw_probes, hutchinson_divergence, with_jacobian, Divergence, Likelihood, Probe};
use flowmatch::marginal::Marginal;
use flowmatch::numeric::{log_log_slope, LN_2PI};
use flowmatch::path::CondOT;
use flowmatch::solver::{Method, TimeGrid};
use flowmatch::{Error, Points};

/// The map of the affine flow at t = 1: x₁ = L x₀ + μ (L has no symmetry, so J is not symmetric).
const L: [[f64; 2]; 2] = [[1.5, 0.4], [-0.3, 0.8]];
const MU: [f64; 2] = [0.7, -1.2];

/// The affine flow x_t = M_t x₀ + t μ, M_t = (1 − t) I + t L, from N(0, I) to N(μ, L Lᵀ):
/// v(x, t) = μ + (L − I) M_t⁻¹ (x − t μ),   J = (L − I) M_t⁻¹.
fn affine_flow() -> impl Divergence {
    with_jacobian(2, |x: &[f64], t: f64| {
        let m = [[1.0 - t + t * L[0][0], t * L[0][1]], [t * L[1][0], 1.0 - t + t * L[1][1]]];
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        let inv = [[m[1][1] / det, -m[0][1] / det], [-m[1][0] / det, m[0][0] / det]];
        let a = [[L[0][0] - 1.0, L[0][1]], [L[1][0], L[1][1] - 1.0]];
        let mut j = [0.0; 4];
        for r in 0..2 {
            for c in 0..2 {
                j[r * 2 + c] = a[r][0] * inv[0][c] + a[r][1] * inv[1][c];
            }
        }
        let y = [x[0] - t * MU[0], x[1] - t * MU[1]];
        let v = vec![MU[0] + j[0] * y[0] + j[1] * y[1], MU[1] + j[2] * y[0] + j[3] * y[1]];
        (v, j.to_vec())
    })
}

/// log N(x; μ, L Lᵀ) = log N(L⁻¹(x − μ); 0, I) − ln |det L|.
fn affine_closed_form(x: &[f64]) -> f64 {
    let det = L[0][0] * L[1][1] - L[0][1] * L[1][0];
    let r = [x[0] - MU[0], x[1] - MU[1]];
    let z = [(L[1][1] * r[0] - L[0][1] * r[1]) / det, (-L[1][0] * r[0] + L[0][0] * r[1]) / det];
    -0.5 * (z[0] * z[0] + z[1] * z[1]) - LN_2PI - det.abs().ln()
}

fn gauss2() -> StandardGaussian {
    StandardGaussian::new(2).unwrap()
}

#[test]
fn affine_flow_matches_the_closed_form_log_density() {
    let x = Points::randn(50, 2, 3) * 2.0;
    let want: Vec<f64> = x.rows().map(affine_closed_form).collect();
    for (method, steps) in [(Method::Rk4, 40), (Method::Midpoint, 400), (Method::dopri5(1e-9, 1e-9), 1)] {
        let got = Likelihood::new(method, steps).unwrap().log_prob(&affine_flow(), &gauss2(), &x).unwrap();
        let worst = got.log_p.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!("affine flow, {method} ({} NFE): worst |error| {worst:.2e}", got.nfe);
        assert!(worst < 1e-4, "{method}: log p off by {worst}");
        // The flow is affine, so the backward solve ends at x₀ = L⁻¹(x − μ) and ∫∇·v dt = ln det L.
        let ln_det = (L[0][0] * L[1][1] - L[0][1] * L[1][0]).ln();
        assert!(got.div_integral.iter().all(|v| (v - ln_det).abs() < 1e-4));
        if method.evals_per_step().is_some() {
            assert_eq!(got.nfe, steps * method.evals_per_step().unwrap());
        }
    }
}

#[test]
fn a_wrong_sign_or_direction_would_be_caught() {
    // The check above can fail: with the divergence term's sign flipped, log p₀(x₀) + ∫∇·v dt
    // is off by 2 ln det L for this volume-changing flow.
    let x = Points::randn(5, 2, 4);
    let got = Likelihood::new(Method::Rk4, 40).unwrap().log_prob(&affine_flow(), &gauss2(), &x).unwrap();
    for i in 0..5 {
        let flipped = got.log_p0[i] + got.div_integral[i];
        assert!((flipped - affine_closed_form(x.row(i))).abs() > 0.1);
    }
}

/// A mixture with correlated covariances in 2-D, so every block of the marginal Jacobian is full.
fn tilted_mixture() -> GaussianMixture {
    GaussianMixture::new(
        vec![0.5, 0.3, 0.2],
        vec![vec![2.0, 1.0], vec![-2.5, 0.5], vec![0.5, -3.0]],
        vec![vec![0.5, 0.3, 0.3, 0.4], vec![0.2, -0.1, -0.1, 0.6], vec![1.0, 0.0, 0.0, 0.05]],
    )
    .unwrap()
}

#[test]
fn marginal_field_of_a_mixture_gives_its_closed_form_log_density() {
    // The marginalization trick end to end: the exact marginal velocity u_t of CondOT paths into
    // a mixture transports N(0, I) onto that mixture, so its likelihood is the mixture's density.
    for mixture in [tilted_mixture(), EightGaussians::torchcfm().to_mixture()] {
        let field = Marginal::from_mixture(&mixture, CondOT).unwrap();
        let mut x = mixture.sample(60, 5).unwrap();
        x = x.concat(&(Points::randn(20, 2, 6) * 3.0)).unwrap(); // points between the modes too
        let want = mixture.log_density(&x).unwrap().unwrap();
        let got = Likelihood::new(Method::dopri5(1e-10, 1e-10), 1).unwrap().log_prob(&field, &gauss2(), &x).unwrap();
        let worst = got.log_p.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        println!(
            "{} components: worst |log p error| {worst:.2e} with Dopri5 ({} NFE, {} rejected steps)",
            mixture.num_components(),
            got.nfe,
            got.rejected_steps
        );
        assert!(worst < 1e-3, "log p off by {worst}");
    }
}

/// Central differences of the velocity, row-major d × d at one point.
fn finite_difference_jacobian(field: &dyn Divergence, x: &[f64], t: f64, h: f64) -> Vec<f64> {
    let d = x.len();
    let mut jac = vec![0.0; d * d];
    for b in 0..d {
        let (mut p, mut m) = (x.to_vec(), x.to_vec());
        p[b] += h;
        m[b] -= h;
        let vp = field.eval(&Points::new(1, d, p).unwrap(), t).unwrap();
        let vm = field.eval(&Points::new(1, d, m).unwrap(), t).unwrap();
        for a in 0..d {
            jac[a * d + b] = (vp.row(0)[a] - vm.row(0)[a]) / (2.0 * h);
        }
    }
    jac
}

#[test]
fn marginal_jacobian_matches_finite_differences() {
    let mixture = tilted_mixture();
    let points = Marginal::from_points(&Points::randn(6, 3, 9), CondOT).unwrap();
    let mix = Marginal::from_mixture(&mixture, CondOT).unwrap();
    let cases: [(&dyn Divergence, usize); 2] = [(&mix, 2), (&points, 3)];
    for (field, d) in cases {
        let x = Points::randn(8, d, 10) * 1.5;
        for t in [0.0, 0.3, 0.8, 0.97] {
            let probes = draw_probes(8, d, 2, Probe::Gaussian, 1);
            let (mut v, mut jv) = (Points::zeros(8, d), vec![Points::zeros(8, d), Points::zeros(8, d)]);
            field.jvp_into(&x, t, &probes, &mut v, &mut jv).unwrap();
            let mut div = vec![0.0; 8];
            field.divergence_into(&x, t, &mut v, &mut div).unwrap();
            assert_eq!(v, field.eval(&x, t).unwrap(), "the velocity that comes with the Jacobian is u_t itself");
            for (i, &di) in div.iter().enumerate() {
                let jac = finite_difference_jacobian(field, x.row(i), t, 1e-5);
                let trace: f64 = (0..d).map(|a| jac[a * d + a]).sum();
                assert!((di - trace).abs() < 1e-6 * (1.0 + trace.abs()), "t = {t}: div {di} vs {trace}");
                for (e, out) in probes.iter().zip(&jv) {
                    for a in 0..d {
                        let want: f64 = (0..d).map(|b| jac[a * d + b] * e.row(i)[b]).sum();
                        assert!((out.row(i)[a] - want).abs() < 1e-6 * (1.0 + want.abs()));
                    }
                }
            }
        }
    }
}

/// Mean and standard error of a sample.
fn mean_and_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn hutchinson_is_unbiased_for_the_divergence_and_the_log_likelihood() {
    let mixture = tilted_mixture();
    let field = Marginal::from_mixture(&mixture, CondOT).unwrap();
    let x = Points::from_rows(&[[0.3, -0.4]]).unwrap();
    let (mut v, mut exact) = (Points::zeros(1, 2), vec![0.0]);
    field.divergence_into(&x, 0.6, &mut v, &mut exact).unwrap();
    for probe in [Probe::Rademacher, Probe::Gaussian] {
        // Many single-probe estimates at one point: one row repeated, one probe per row.
        let n = 4000;
        let rows = Points::from_fn(n, 2, |_, j| x.row(0)[j]);
        let probes = draw_probes(n, 2, 1, probe, 7);
        let single = hutchinson_divergence(&field, &rows, 0.6, &probes).unwrap();
        let (m, se) = mean_and_se(&single);
        println!("{}: mean of {n} single-probe estimates {m:.4} ± {se:.4}, exact {:.4}", probe.name(), exact[0]);
        assert!(se > 0.0 && (m - exact[0]).abs() < 3.0 * se, "{}: {m} ± {se} vs {}", probe.name(), exact[0]);
    }
    // Along a whole solve: single-probe log-likelihoods from many seeds against the exact one.
    let pts = mixture.sample(4, 11).unwrap();
    let method = Likelihood::new(Method::Rk4, 20).unwrap();
    let exact = method.log_prob(&field, &gauss2(), &pts).unwrap();
    for i in 0..4 {
        let draws: Vec<f64> = (0..300)
            .map(|s| {
                let h = method.clone().hutchinson(1, Probe::Rademacher, s).unwrap();
                h.log_prob(&field, &gauss2(), &pts.select(&[i])).unwrap().log_p[0]
            })
            .collect();
        let (m, se) = mean_and_se(&draws);
        assert!((m - exact.log_p[i]).abs() < 3.0 * se, "point {i}: {m} ± {se} vs exact {}", exact.log_p[i]);
    }
}

#[test]
fn hutchinson_spread_falls_like_one_over_root_k() {
    let field = Marginal::from_mixture(&tilted_mixture(), CondOT).unwrap();
    let x = Points::randn(30, 2, 12) * 1.5;
    let method = Likelihood::new(Method::Midpoint, 10).unwrap();
    let series = method.hutchinson_spread(&field, &gauss2(), &x, Probe::Gaussian, &[1, 2, 4, 8, 16, 32], 40).unwrap();
    let slope = log_log_slope(&series);
    println!("std of the Hutchinson log-likelihood against k: {series:?}; fitted log-log slope {slope:.3}");
    assert!((-0.6..=-0.4).contains(&slope), "slope {slope}");
}

#[test]
fn standard_error_reported_per_point_matches_the_spread() {
    let field = Marginal::from_mixture(&tilted_mixture(), CondOT).unwrap();
    let x = Points::randn(10, 2, 13);
    let method = Likelihood::new(Method::Midpoint, 10).unwrap();
    let exact = method.log_prob(&field, &gauss2(), &x).unwrap();
    assert!(exact.std_error.is_none());
    // Gaussian probes: in 2-D a Rademacher estimate takes only two values per point (tr J ± (J₁₂ + J₂₁)),
    // so with 16 probes there is a small chance that they all agree and the sample spread is 0.
    let runs: Vec<_> = (0..40)
        .map(|s| method.clone().hutchinson(16, Probe::Gaussian, s).unwrap().log_prob(&field, &gauss2(), &x).unwrap())
        .collect();
    for i in 0..10 {
        // The standard error each run reports (its root mean square over runs), against the
        // actual spread of the estimates between runs.
        let reported = (runs.iter().map(|r| r.std_error.as_ref().unwrap()[i].powi(2)).sum::<f64>() / 40.0).sqrt();
        let col: Vec<f64> = runs.iter().map(|r| r.log_p[i]).collect();
        let (m, se_of_mean) = mean_and_se(&col);
        let spread = se_of_mean * 40f64.sqrt();
        println!("point {i}: reported standard error {reported:.3}, spread between runs {spread:.3}");
        assert!((0.6..1.6).contains(&(reported / spread)), "point {i}: reported {reported} vs spread {spread}");
        assert!((m - exact.log_p[i]).abs() < 3.0 * se_of_mean, "point {i}: {m} ± {se_of_mean} vs {}", exact.log_p[i]);
    }
    let one = method.hutchinson(1, Probe::Rademacher, 1).unwrap().log_prob(&field, &gauss2(), &x).unwrap();
    assert!(one.std_error.is_none(), "one probe has no spread to report");
}

#[test]
fn hutchinson_runs_with_adaptive_steps() {
    // The probe is kept along the solve, so Dopri5's rejected steps re-evaluate the same integrand.
    let field = Marginal::from_mixture(&tilted_mixture(), CondOT).unwrap();
    let x = Points::randn(10, 2, 14);
    let adaptive = Likelihood::new(Method::dopri5(1e-8, 1e-8), 1).unwrap().hutchinson(4, Probe::Gaussian, 2).unwrap();
    let fixed = Likelihood::new(Method::Rk4, 200).unwrap().hutchinson(4, Probe::Gaussian, 2).unwrap();
    let a = adaptive.log_prob(&field, &gauss2(), &x).unwrap();
    let b = fixed.log_prob(&field, &gauss2(), &x).unwrap();
    for i in 0..10 {
        assert!((a.log_p[i] - b.log_p[i]).abs() < 1e-5, "point {i}: {} vs {}", a.log_p[i], b.log_p[i]);
    }
    assert_eq!(a, adaptive.log_prob(&field, &gauss2(), &x).unwrap(), "the same seed gives the same result");
}

#[test]
fn bad_input_gives_clear_errors() {
    let field = affine_flow();
    let method = Likelihood::new(Method::Midpoint, 10).unwrap();
    let mut x = Points::randn(4, 2, 1);
    x.row_mut(2)[1] = f64::NAN;
    let err = method.log_prob(&field, &gauss2(), &x).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }) && err.to_string().contains("point 2"), "{err}");

    let forward = Likelihood::on_grid(TimeGrid::uniform(0.0, 1.0, 10).unwrap(), Method::Midpoint).unwrap_err();
    assert!(forward.to_string().contains("forwards"), "{forward}");
    let partial = Likelihood::on_grid(TimeGrid::uniform(1.0, 0.5, 10).unwrap(), Method::Midpoint).unwrap_err();
    assert!(partial.to_string().contains("t = 0.5"), "{partial}");
    assert!(Likelihood::on_grid(TimeGrid::new(vec![1.0, 0.7, 0.2, 0.0]).unwrap(), Method::Heun).is_ok());

    let three = Points::randn(4, 3, 1);
    let err = method.log_prob(&field, &StandardGaussian::new(3).unwrap(), &three).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }) && err.to_string().contains("velocity field"), "{err}");
    let err = method.log_prob(&field, &StandardGaussian::new(3).unwrap(), &Points::randn(4, 2, 1)).unwrap_err();
    assert!(err.to_string().contains("source"), "{err}");
    let err = method.log_prob(&field, &flowmatch::data::Moons::default(), &Points::randn(4, 2, 1)).unwrap_err();
    assert!(err.to_string().contains("closed-form"), "{err}");
    assert!(matches!(method.clone().hutchinson(0, Probe::Gaussian, 0), Err(Error::ZeroCount { .. })));

    let empty = method.log_prob(&field, &gauss2(), &Points::zeros(0, 2)).unwrap();
    assert!(empty.log_p.is_empty() && empty.nfe == 0);
}

#[test]
fn model_jacobian_matches_finite_differences() {
    use flowmatch::nn::{Activation, MlpConfig, Net};
    // The SiLU model takes the fast forward-mode path; tanh the plain dfdx graph in reverse mode.
    for activation in [Activation::Silu, Activation::Tanh] {
        let model = Net::mlp_with(2, 64, MlpConfig { activation, seed: 3, ..MlpConfig::default() }).unwrap();
        let x = Points::randn(20, 2, 5) * 2.0;
        let (mut v, mut div) = (Points::zeros(20, 2), vec![0.0; 20]);
        model.divergence_into(&x, 0.4, &mut v, &mut div).unwrap();
        let probes = draw_probes(20, 2, 1, Probe::Gaussian, 0);
        let mut jv = vec![Points::zeros(20, 2)];
        model.jvp_into(&x, 0.4, &probes, &mut v, &mut jv).unwrap();
        for (i, &di) in div.iter().enumerate() {
            // The model computes in f32: a step of 1e-2 keeps rounding (1e-7/1e-2) and the
            // curvature term (1e-4) both small.
            let jac = finite_difference_jacobian(&model, x.row(i), 0.4, 1e-2);
            let scale = 1.0 + jac.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!((di - (jac[0] + jac[3])).abs() < 2e-3 * scale, "{activation:?}: div {di} vs {jac:?}");
            let e = probes[0].row(i);
            for a in 0..2 {
                let want = jac[2 * a] * e[0] + jac[2 * a + 1] * e[1];
                assert!((jv[0].row(i)[a] - want).abs() < 2e-3 * scale * (1.0 + e[0].abs() + e[1].abs()));
            }
        }
    }
}

#[test]
fn conditional_model_jacobian_and_likelihood_at_a_given_label() {
    use flowmatch::field::NULL_LABEL;
    use flowmatch::likelihood::Given;
    use flowmatch::nn::{Activation, MlpConfig, Net};
    use flowmatch::VectorField;
    let n = 12;
    let x = Points::randn(n, 2, 6) * 2.0;
    for activation in [Activation::Silu, Activation::Tanh] {
        let net = Net::conditional_with(2, 64, 3, MlpConfig { activation, seed: 4, ..MlpConfig::default() }).unwrap();
        let mut log_q = Vec::new();
        for y in [0, 2, NULL_LABEL] {
            // J(x, t | y) against central differences of v(·, t | y).
            let field = Given::new(&net, y).unwrap();
            let (_, div) = field.divergence(&x, 0.6).unwrap();
            for (i, &di) in div.iter().enumerate() {
                let jac = finite_difference_jacobian(&field, x.row(i), 0.6, 1e-2);
                let scale = 1.0 + jac.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!((di - (jac[0] + jac[3])).abs() < 2e-3 * scale, "{activation:?}, y = {y}: div {di} vs {jac:?}");
            }
            // log q(x | y) through the model's Jacobian, and through a closure whose Jacobian is
            // the finite differences: the labels reach every evaluation of the backward solve.
            let likelihood = Likelihood::new(Method::Midpoint, 8).unwrap();
            let fd = with_jacobian(2, |p: &[f64], t: f64| {
                let v = field.eval(&Points::new(1, 2, p.to_vec()).unwrap(), t).unwrap();
                (v.row(0).to_vec(), finite_difference_jacobian(&field, p, t, 1e-2))
            });
            let ours = likelihood.log_prob(&field, &gauss2(), &x).unwrap().log_p;
            let want = likelihood.log_prob(&fd, &gauss2(), &x).unwrap().log_p;
            for (a, b) in ours.iter().zip(&want) {
                assert!((a - b).abs() < 2e-3 * (1.0 + b.abs()), "{activation:?}, y = {y}: log q {a} vs {b}");
            }
            log_q.push(ours);
        }
        let gap = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(gap(&log_q[0], &log_q[1]) > 1e-2, "{activation:?}: log q(x | y) should depend on y");
        // Without labels, a conditional model's Jacobian is the one at ∅.
        assert_eq!(
            net.divergence(&x, 0.6).unwrap(),
            Given::new(&net, NULL_LABEL).unwrap().divergence(&x, 0.6).unwrap()
        );
        // One label per row: row i is the field of class labels[i].
        let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let (_, per_row) = Given::per_row(&net, labels.clone()).unwrap().divergence(&x, 0.6).unwrap();
        for y in 0..3 {
            let (_, one) = Given::new(&net, y).unwrap().divergence(&x, 0.6).unwrap();
            for i in (0..n).filter(|&i| labels[i] == y) {
                assert!((per_row[i] - one[i]).abs() < 1e-9, "{activation:?}: row {i} of class {y}");
            }
        }
    }
    // Bad labels: a class outside 0..K, a model without classes, a per-row list of another length.
    let net = Net::conditional(2, 32, 3).unwrap();
    assert!(matches!(Given::new(&net, 3), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Given::new(&Net::mlp(2, 32).unwrap(), 0), Err(Error::InvalidParameter { .. })));
    let short = Given::per_row(&net, vec![0, 1]).unwrap();
    assert!(matches!(short.divergence(&x, 0.5), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn trained_model_nll_is_above_the_entropy() {
    use flowmatch::nn::Net;
    use flowmatch::train::Trainer;
    // No model beats the target's own density on average: E[−log q] − E[−log p] = KL(p ‖ q) ≥ 0.
    let target = EightGaussians::torchcfm();
    let mut model = Net::mlp(2, 64).unwrap();
    Trainer::new(target.clone())
        .steps(1500)
        .batch_size(256)
        .lr(2e-3)
        .seed(0)
        .progress(flowmatch::train::Progress::Off)
        .train(&mut model)
        .unwrap();
    let x = target.sample(2000, 99).unwrap();
    let entropy = -target.log_density(&x).unwrap().unwrap().iter().sum::<f64>() / 2000.0;
    let exact = Likelihood::new(Method::Midpoint, 20).unwrap().log_prob(&model, &gauss2(), &x).unwrap();
    let hutch = Likelihood::new(Method::Midpoint, 20)
        .unwrap()
        .hutchinson(4, Probe::Rademacher, 0)
        .unwrap()
        .log_prob(&model, &gauss2(), &x)
        .unwrap();
    println!(
        "NLL {:.3} (Hutchinson, 4 probes: {:.3}), entropy {entropy:.3}, gap {:.3} nats, {} NFE",
        exact.nll(),
        hutch.nll(),
        exact.nll() - entropy,
        exact.nfe
    );
    assert!(exact.nll() > entropy, "NLL {} below the entropy {entropy}", exact.nll());
    assert!(exact.nll().is_finite() && exact.nll() < entropy + 3.0, "a trained model is not that far off");
    // Hutchinson is unbiased: the mean over 2000 points agrees with the exact NLL well within its error.
    let se = hutch.rms_std_error().unwrap() / (2000f64).sqrt();
    assert!((hutch.nll() - exact.nll()).abs() < 4.0 * se + 1e-3, "{} vs {} (± {se})", hutch.nll(), exact.nll());
}

/// The typical wrong answers to the two 7.5 exercises, each with the diagnosis it must get.
#[allow(dead_code)]
#[path = "fixtures/wrong/7.5/02_hutchinson_divergence.rs"]
mod wrong_hutchinson;
#[allow(dead_code)]
#[path = "fixtures/wrong/7.5/01_log_likelihood.rs"]
mod wrong_log_likelihood;

#[test]
fn every_typical_wrong_answer_gets_its_own_diagnosis() {
    use flowmatch::grade::{hutchinson_divergence, log_likelihood, Outcome};
    let reason = |o: Outcome| match o {
        Outcome::Failed { reason } => reason,
        other => panic!("a wrong answer must fail, got {other:?}"),
    };
    let hutchinson = [
        ("squared_norm", "‖J ε‖²"),
        ("no_left_probe", "leaves the probe out"),
        ("unit_probes", "unit length"),
        ("summed_probes", "sum over the probes"),
        ("over_dimension", "divides by the dimension"),
        ("exact_trace", "exact divergence"),
    ];
    for ((name, f), (want_name, phrase)) in wrong_hutchinson::ALL.iter().zip(hutchinson) {
        assert_eq!(*name, want_name);
        let r = reason(hutchinson_divergence::EXERCISE.grade(f).outcome);
        assert!(r.contains(phrase), "{name}: {r}");
    }
    let log_lik = [
        ("plus_divergence", "wrong sign"),
        ("forwards", "integrates forwards"),
        ("time_forwards", "the time runs forwards"),
        ("no_source", "log p₀ is missing"),
        ("source_at_data", "evaluated at the data"),
        ("end_of_step", "end time"),
    ];
    for ((name, f), (want_name, phrase)) in wrong_log_likelihood::ALL.iter().zip(log_lik) {
        assert_eq!(*name, want_name);
        let r = reason(log_likelihood::EXERCISE.grade(f).outcome);
        assert!(r.contains(phrase), "{name}: {r}");
    }
}

/// A hand-made augmented field (x, ℓ) that draws a fresh Rademacher probe at every evaluation:
/// what the library avoids by keeping one probe per solve.
struct FreshProbes<F> {
    field: F,
    rng: std::cell::RefCell<rand::rngs::StdRng>,
}

impl<F: Divergence> flowmatch::VectorField for FreshProbes<F> {
    fn eval_into(&self, z: &Points, t: flowmatch::Time<'_>, out: &mut Points) -> flowmatch::Result<()> {
        use rand::Rng;
        let t = t.at(0);
        let (n, d) = (z.len(), z.dim() - 1);
        let x = Points::from_fn(n, d, |i, j| z.row(i)[j]);
        let probe = Points::from_fn(n, d, |_, _| if self.rng.borrow_mut().gen::<bool>() { 1.0 } else { -1.0 });
        let (v, jv) = self.field.jvp(&x, t, std::slice::from_ref(&probe))?;
        for i in 0..n {
            out.row_mut(i)[..d].copy_from_slice(v.row(i));
            out.row_mut(i)[d] = probe.row(i).iter().zip(jv[0].row(i)).map(|(a, b)| a * b).sum();
        }
        Ok(())
    }
}

#[test]
fn fresh_probes_at_every_evaluation_defeat_adaptive_steps() {
    use rand::SeedableRng;
    let field = Marginal::from_mixture(&tilted_mixture(), CondOT).unwrap();
    let x = Points::randn(20, 2, 15);
    let (tol, grid) = (1e-5, TimeGrid::uniform(1.0, 0.0, 1).unwrap());
    let kept = Likelihood::on_grid(grid.clone(), Method::dopri5(tol, tol))
        .unwrap()
        .hutchinson(1, Probe::Rademacher, 3)
        .unwrap()
        .log_prob(&field, &gauss2(), &x)
        .unwrap();
    let fresh = FreshProbes { field: &field, rng: std::cell::RefCell::new(rand::rngs::StdRng::seed_from_u64(3)) };
    let z1 = Points::from_fn(20, 3, |i, j| if j < 2 { x.row(i)[j] } else { 0.0 });
    let opts = flowmatch::solver::Dopri5Options { rtol: tol, atol: tol, max_steps: 200_000, ..Default::default() };
    let sol = flowmatch::solver::solve(&fresh, &z1, &grid, Method::Dopri5(opts)).unwrap();
    let ratio = sol.nfe as f64 / kept.nfe as f64;
    println!(
        "Dopri5 at tolerance {tol:e}: {} NFE with one probe kept along the solve, {} NFE with a fresh probe at every \
         evaluation ({ratio:.0}×)",
        kept.nfe, sol.nfe
    );
    assert!(ratio > 20.0, "fresh probes should cost far more evaluations: {ratio}");
}

#[test]
fn the_numbers_of_the_quiz_hold() {
    use flowmatch::quiz;
    // Question 1: v = (ln 2)·x from N(0, 1): log q₁(0) by the backward ODE.
    let ln2 = std::f64::consts::LN_2;
    let field = with_jacobian(1, move |x: &[f64], _t| (vec![ln2 * x[0]], vec![ln2]));
    let got = Likelihood::new(Method::Rk4, 20)
        .unwrap()
        .log_prob(&field, &StandardGaussian::new(1).unwrap(), &Points::from_rows(&[[0.0]]).unwrap())
        .unwrap();
    assert!(quiz::grade("7.5", 1, &format!("{:.4}", got.log_p[0])).correct(), "{}", got.log_p[0]);
    // Question 3: J = [[1, 2], [0, 3]] and the probe (1, −1); the two sign patterns average to tr J.
    let jac = with_jacobian(2, |x: &[f64], _t| (vec![x[0] + 2.0 * x[1], 3.0 * x[1]], vec![1.0, 2.0, 0.0, 3.0]));
    let at = Points::from_rows(&[[0.3, 0.7]]).unwrap();
    let one = |e: [f64; 2]| hutchinson_divergence(&jac, &at, 0.0, &[Points::from_rows(&[e]).unwrap()]).unwrap()[0];
    assert!(quiz::grade("7.5", 3, &format!("{}", one([1.0, -1.0]))).correct());
    assert_eq!((one([1.0, -1.0]) + one([1.0, 1.0])) / 2.0, 4.0);
    // Question 6: (3.90 − 3.77) / (2 ln 2) bits per dimension.
    assert!(quiz::grade("7.5", 6, &format!("{:.4}", (3.90 - 3.77) / (2.0 * ln2))).correct());
}
