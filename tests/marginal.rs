//! Tests of `flowmatch::marginal`: closed forms of the marginal path, and the
//! five checks, both on the true field (they pass) and on wrong fields (they fail).

use flowmatch::data::{Dataset, EightGaussians, GaussianMixture, StandardGaussian};
use flowmatch::marginal::*;
use flowmatch::path::{CondOT, Cosine, Polynomial, Scheduler, VariancePreserving};
use flowmatch::prelude::*;

// ---------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------

fn eight() -> Marginal<CondOT> {
    Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), CondOT).unwrap()
}

/// Two components with different, correlated covariances and unequal weights.
fn full_cov_mixture() -> GaussianMixture {
    GaussianMixture::new(
        vec![0.3, 0.7],
        vec![vec![-2.0, 1.0], vec![1.5, -0.5]],
        vec![vec![0.5, 0.2, 0.2, 0.3], vec![0.2, -0.05, -0.05, 0.4]],
    )
    .unwrap()
}

/// Five asymmetric weighted points.
fn points_and_weights() -> (Points, Vec<f64>) {
    let z = Points::from_rows(&[[0.0, 0.0], [2.0, 1.0], [-1.0, 3.0], [4.0, -2.0], [0.5, 0.5]]).unwrap();
    (z, vec![0.1, 0.3, 0.2, 0.25, 0.15])
}

fn query_points() -> Points {
    Points::from_rows(&[[0.0, 0.0], [1.0, -0.5], [-2.0, 2.5], [3.0, 3.0], [0.3, -1.7]]).unwrap()
}

fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{what}: {a} vs {b} (tolerance {tol})");
}

fn assert_points_close(a: &Points, b: &Points, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (i, (p, q)) in a.as_slice().iter().zip(b.as_slice()).enumerate() {
        assert_close(*p, *q, tol, &format!("{what}, entry {i}"));
    }
}

/// The marginal velocity with its sign flipped.
fn flipped(m: &Marginal<CondOT>) -> impl VectorField + '_ {
    batched(move |x: &Points, t| {
        let mut v = m.velocity(x, t).unwrap();
        v.as_mut_slice().iter_mut().for_each(|a| *a = -*a);
        v
    })
}

/// The classic mistake: the conditional velocity u_t(x | z) towards one fixed z
/// (here the data mean) used as if it were the marginal velocity.
fn conditional_as_marginal<'a>(m: &'a Marginal<CondOT>, z: &'a [f64]) -> impl VectorField + 'a {
    // Clip t below 1 so that the wrong field stays defined on the whole grid.
    pointwise(move |x: &[f64], t| m.conditional_velocity(x, z, t.min(1.0 - 1e-3)).unwrap())
}

// ---------------------------------------------------------------------------
// Closed forms
// ---------------------------------------------------------------------------

#[test]
fn mixture_marginal_at_t1_is_the_data_density() {
    let x = query_points();
    for mixture in [full_cov_mixture(), EightGaussians::torchcfm().to_mixture()] {
        let m = Marginal::from_mixture(&mixture, CondOT).unwrap();
        let got = m.log_density(&x, 1.0).unwrap();
        let want = mixture.log_density(&x).unwrap().unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert_close(*g, *w, 1e-12, "log p_1 vs the data log-density");
        }
        // At t = 1 the CondOT velocity is α̇ x̂₁ = x (x̂₁ = x since σ_1 = 0).
        assert_points_close(&m.velocity(&x, 1.0).unwrap(), &x, 1e-12, "u_1(x) = x");
    }
}

#[test]
fn marginal_at_t0_is_the_standard_normal() {
    let x = query_points();
    let want = StandardGaussian::new(2).unwrap().log_density(&x).unwrap().unwrap();
    let (z, w) = points_and_weights();
    let pm = Marginal::from_weighted_points(&z, &w, CondOT).unwrap();
    let mm = Marginal::from_mixture(&full_cov_mixture(), Cosine).unwrap();
    for lp in [pm.log_density(&x, 0.0).unwrap(), mm.log_density(&x, 0.0).unwrap()] {
        for (g, w) in lp.iter().zip(&want) {
            assert_close(*g, *w, 1e-12, "log p_0 vs N(0, I)");
        }
    }
    // At t = 0 (CondOT) the posterior is the prior: u_0(x) = E[x₁] − x.
    let mean = full_cov_mixture().mean().unwrap();
    let m0 = Marginal::from_mixture(&full_cov_mixture(), CondOT).unwrap();
    let u = m0.velocity(&x, 0.0).unwrap();
    let want = Points::from_fn(x.len(), 2, |i, j| mean[j] - x.row(i)[j]);
    assert_points_close(&u, &want, 1e-12, "u_0(x) = E[x₁] − x");
}

#[test]
fn single_point_marginal_velocity_is_the_conditional_velocity() {
    let z = [1.5, -2.0];
    let data = Points::from_rows(&[z]).unwrap();
    let x = query_points();
    for t in [0.0, 0.1, 0.5, 0.9, 0.999] {
        let m = Marginal::from_points(&data, CondOT).unwrap();
        let u = m.velocity(&x, t).unwrap();
        for (i, xi) in x.rows().enumerate() {
            // CondOT: u_t(x | z) = (z − x)/(1 − t).
            let want: Vec<f64> = xi.iter().zip(&z).map(|(a, b)| (b - a) / (1.0 - t)).collect();
            let cond = m.conditional_velocity(xi, &z, t).unwrap();
            for j in 0..2 {
                assert_close(u.row(i)[j], want[j], 1e-12, "marginal vs (z − x)/(1 − t)");
                assert_close(cond[j], want[j], 1e-12, "conditional_velocity vs (z − x)/(1 − t)");
            }
        }
        // Same for a curved scheduler, against the library's conditional velocity.
        let mc = Marginal::from_points(&data, Cosine).unwrap();
        let uc = mc.velocity(&x, t).unwrap();
        for (i, xi) in x.rows().enumerate() {
            let cond = mc.conditional_velocity(xi, &z, t).unwrap();
            for (u, c) in uc.row(i).iter().zip(&cond) {
                assert_close(*u, *c, 1e-12, "cosine: marginal vs conditional");
            }
        }
    }
}

#[test]
fn one_dimensional_gaussian_matches_the_hand_derived_formula() {
    // Data N(m, s²) in 1-D, CondOT: Σ_t = t² s² + (1 − t)², and
    // u_t(x) = m + (t s² − (1 − t)) (x − t m) / Σ_t,   ∇log p_t(x) = −(x − t m)/Σ_t.
    let (mu, s2) = (1.3, 0.49);
    let mix = GaussianMixture::new(vec![1.0], vec![vec![mu]], vec![vec![s2]]).unwrap();
    let m = Marginal::from_mixture(&mix, CondOT).unwrap();
    let x = Points::from_rows(&[[-3.0], [0.0], [0.7], [2.5]]).unwrap();
    for t in [0.0, 0.2, 0.5, 0.8, 1.0] {
        let var = t * t * s2 + (1.0 - t) * (1.0 - t);
        let v = m.evaluate(&x, t).unwrap();
        for (i, xi) in x.rows().enumerate() {
            let r = xi[0] - t * mu;
            assert_close(v.velocity.row(i)[0], mu + (t * s2 - (1.0 - t)) * r / var, 1e-12, "1-D velocity");
            assert_close(v.score.row(i)[0], -r / var, 1e-12, "1-D score");
            let lp = -0.5 * r * r / var - 0.5 * (2.0 * std::f64::consts::PI * var).ln();
            assert_close(v.log_density[i], lp, 1e-12, "1-D log-density");
        }
    }
}

#[test]
fn score_matches_finite_differences_of_the_log_density() {
    let (z, w) = points_and_weights();
    type LogDensityAndScore = Box<dyn Fn(&Points, f64) -> (Vec<f64>, Points)>;
    let marginals: Vec<(LogDensityAndScore, &str)> = vec![
        (
            {
                let m = Marginal::from_mixture(&full_cov_mixture(), CondOT).unwrap();
                Box::new(move |x, t| (m.log_density(x, t).unwrap(), m.score(x, t).unwrap()))
            },
            "full-covariance mixture",
        ),
        (
            {
                let m = Marginal::from_weighted_points(&z, &w, Cosine).unwrap();
                Box::new(move |x, t| (m.log_density(x, t).unwrap(), m.score(x, t).unwrap()))
            },
            "weighted points",
        ),
    ];
    let x = query_points();
    let h = 1e-5;
    for (f, name) in &marginals {
        for t in [0.1, 0.5, 0.8] {
            let (_, score) = f(&x, t);
            for j in 0..2 {
                let shift = |s: f64| Points::from_fn(x.len(), 2, |i, c| x.row(i)[c] + if c == j { s } else { 0.0 });
                let (lp, _) = f(&shift(h), t);
                let (lm, _) = f(&shift(-h), t);
                for i in 0..x.len() {
                    let fd = (lp[i] - lm[i]) / (2.0 * h);
                    assert_close(score.row(i)[j], fd, 1e-6, &format!("{name}: score at t = {t}, point {i}"));
                }
            }
        }
    }
}

/// u_t(x) = (α̇/α) x + σ (α̇ σ/α − σ̇) ∇log p_t(x), for α_t > 0.
fn check_velocity_score_identity<S: Scheduler>(m: &Marginal<S>, name: &str) {
    let x = query_points();
    for t in [0.05, 0.3, 0.6, 0.95] {
        let c = m.scheduler().eval(t);
        let v = m.evaluate(&x, t).unwrap();
        let k = c.sigma * (c.d_alpha * c.sigma / c.alpha - c.d_sigma);
        for i in 0..x.len() {
            for j in 0..2 {
                let want = c.d_alpha / c.alpha * x.row(i)[j] + k * v.score.row(i)[j];
                assert_close(v.velocity.row(i)[j], want, 1e-9, &format!("{name}: identity at t = {t}"));
            }
        }
    }
}

#[test]
fn velocity_and_score_satisfy_the_affine_path_identity() {
    let (z, w) = points_and_weights();
    let mix = full_cov_mixture();
    check_velocity_score_identity(&Marginal::from_mixture(&mix, CondOT).unwrap(), "mixture, CondOT");
    check_velocity_score_identity(&Marginal::from_mixture(&mix, Cosine).unwrap(), "mixture, Cosine");
    let vp = VariancePreserving::default();
    check_velocity_score_identity(&Marginal::from_mixture(&mix, vp).unwrap(), "mixture, VP");
    let poly = Polynomial::new(2.0).unwrap();
    check_velocity_score_identity(&Marginal::from_weighted_points(&z, &w, poly).unwrap(), "points, Polynomial(2)");
    check_velocity_score_identity(&Marginal::from_weighted_points(&z, &w, CondOT).unwrap(), "points, CondOT");
}

#[test]
fn posterior_weights_average_the_component_velocities() {
    let (z, w) = points_and_weights();
    let pm = Marginal::from_weighted_points(&z, &w, Cosine).unwrap();
    let mm = Marginal::from_mixture(&full_cov_mixture(), Cosine).unwrap();
    let x = query_points();
    let t = 0.4;
    for (m, name) in [(&pm, "points"), (&mm, "mixture")] {
        let u = m.velocity(&x, t).unwrap();
        let x1 = m.posterior_mean(&x, t).unwrap();
        for (i, xi) in x.rows().enumerate() {
            let post = m.posterior(xi, t).unwrap();
            assert_close(post.weights.iter().sum::<f64>(), 1.0, 1e-12, "posterior weights sum to 1");
            for j in 0..2 {
                let avg: f64 = post.weights.iter().zip(post.velocities.column(j)).map(|(a, b)| a * b).sum();
                assert_close(u.row(i)[j], avg, 1e-12, &format!("{name}: u = Σ π_k u^k"));
                let avg: f64 = post.weights.iter().zip(post.means.column(j)).map(|(a, b)| a * b).sum();
                assert_close(x1.row(i)[j], avg, 1e-12, &format!("{name}: x̂₁ = Σ π_k x̂₁^k"));
            }
        }
    }
    // For points the component velocities are the conditional velocities u_t(x | z_k).
    let xi = x.row(2);
    let post = pm.posterior(xi, t).unwrap();
    for k in 0..z.len() {
        let cond = pm.conditional_velocity(xi, z.row(k), t).unwrap();
        assert_points_close(
            &Points::from_rows(&[post.velocities.row(k)]).unwrap(),
            &Points::from_rows(&[cond]).unwrap(),
            1e-12,
            "u^k = u_t(x | z_k)",
        );
    }
}

#[test]
fn points_agree_with_a_mixture_of_tiny_covariance() {
    let (z, w) = points_and_weights();
    let pm = Marginal::from_weighted_points(&z, &w, CondOT).unwrap();
    let eps = 1e-10;
    let mix = GaussianMixture::new(
        w.clone(),
        z.rows().map(|r| r.to_vec()).collect(),
        vec![vec![eps, 0.0, 0.0, eps]; z.len()],
    )
    .unwrap();
    let mm = Marginal::from_mixture(&mix, CondOT).unwrap();
    let x = query_points();
    for t in [0.0, 0.3, 0.7, 0.95] {
        let (a, b) = (pm.evaluate(&x, t).unwrap(), mm.evaluate(&x, t).unwrap());
        for (p, q) in a.log_density.iter().zip(&b.log_density) {
            assert_close(*p, *q, 1e-7, "log-density, points vs tiny mixture");
        }
        assert_points_close(&a.score, &b.score, 1e-6, "score, points vs tiny mixture");
        assert_points_close(&a.velocity, &b.velocity, 1e-6, "velocity, points vs tiny mixture");
    }
}

#[test]
fn far_points_and_extreme_times_stay_finite() {
    let (z, w) = points_and_weights();
    let pm = Marginal::from_weighted_points(&z, &w, CondOT).unwrap();
    let mm = Marginal::from_mixture(&full_cov_mixture(), CondOT).unwrap();
    let x = Points::from_rows(&[[1e3, 1e3], [-1e3, 5.0], [0.0, -1e3], [2.0, 1.0]]).unwrap();
    for t in [0.0, 1e-6, 0.5, 1.0 - 1e-6] {
        for (m, name) in [(&pm, "points"), (&mm, "mixture")] {
            let v = m.evaluate(&x, t).unwrap();
            assert!(v.log_density.iter().all(|a| a.is_finite()), "{name}: log p at t = {t}");
            v.score.check_finite(&format!("{name}: score at t = {t}")).unwrap();
            v.velocity.check_finite(&format!("{name}: velocity at t = {t}")).unwrap();
        }
    }
    // The far point (1e3, 1e3) at t = 1 − 1e-6 is pulled back towards the data
    // point that is closest after scaling, here (2, 1): u ≈ (z − x)/(1 − t).
    let u = pm.velocity(&x, 1.0 - 1e-6).unwrap();
    assert_close(u.row(0)[0], (2.0 - 1e3) / 1e-6, 1e-6, "far-away velocity near t = 1");
    // A mixture with positive definite covariances is fine at t = 1 exactly.
    mm.velocity(&x, 1.0).unwrap().check_finite("mixture velocity at t = 1").unwrap();
}

#[test]
fn bad_input_gives_typed_errors() {
    let (z, w) = points_and_weights();
    let pm = Marginal::from_weighted_points(&z, &w, CondOT).unwrap();
    let x = query_points();
    // A point set at t = 1 is a sum of point masses.
    assert!(matches!(pm.velocity(&x, 1.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(pm.conditional_velocity(&[0.0, 0.0], &[1.0, 1.0], 1.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(pm.velocity(&x, 1.5), Err(Error::InvalidParameter { .. })));
    assert!(matches!(pm.velocity(&x, f64::NAN), Err(Error::NonFinite { .. })));
    let x3 = Points::zeros(2, 3);
    assert!(matches!(pm.score(&x3, 0.5), Err(Error::ShapeMismatch { .. })));
    let bad = Points::from_rows(&[[f64::NAN, 0.0]]).unwrap();
    assert!(matches!(pm.log_density(&bad, 0.5), Err(Error::NonFinite { .. })));
    assert!(matches!(pm.posterior(&[0.0], 0.5), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(pm.conditional_velocity(&[0.0, 0.0], &[1.0], 0.5), Err(Error::ShapeMismatch { .. })));
    // Constructors.
    assert!(matches!(Marginal::from_points(&Points::zeros(0, 2), CondOT), Err(Error::ZeroCount { .. })));
    assert!(matches!(Marginal::from_weighted_points(&z, &[1.0; 2], CondOT), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(
        Marginal::from_weighted_points(&z, &[1.0, -1.0, 1.0, 1.0, 1.0], CondOT),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(Marginal::from_weighted_points(&z, &[0.0; 5], CondOT), Err(Error::InvalidParameter { .. })));
    // Helpers.
    assert!(matches!(weighted_median(&[1.0, 2.0], &[1.0]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(weighted_mean(&[], &[]), Err(Error::ZeroCount { .. })));
    // Check settings.
    let m = eight();
    let s = ContinuitySettings { spacings: vec![0.2], ..Default::default() };
    assert!(matches!(check_continuity(&m, &m, &s), Err(Error::InvalidParameter { .. })));
    let s = MarginalizationSettings { t: 1.0, ..Default::default() };
    assert!(matches!(check_marginalization(&m, &m, &s), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        check_bregman(&m, &weighted_median, &BregmanSettings::default()),
        Err(Error::InvalidParameter { .. })
    ));
    let s = SamplingSettings { n: 0, ..Default::default() };
    assert!(matches!(check_sampling(&m, &m, &s), Err(Error::ZeroCount { .. })));
}

#[test]
fn weighted_median_and_mean_are_the_l1_and_l2_minimisers() {
    let v = [3.0, -1.0, 10.0, 0.5];
    let w = [0.2, 0.3, 0.1, 0.4];
    // Sorted: −1 (0.3), 0.5 (0.4) → cumulative 0.7 ≥ 0.5 at 0.5.
    assert_eq!(weighted_median(&v, &w).unwrap(), 0.5);
    assert_close(weighted_mean(&v, &w).unwrap(), 0.6 - 0.3 + 1.0 + 0.2, 1e-15, "weighted mean");
    // The median minimises Σ w |m − v| over a fine scan.
    let l1 = |m: f64| v.iter().zip(&w).map(|(a, b)| b * (m - a).abs()).sum::<f64>();
    let med = weighted_median(&v, &w).unwrap();
    for k in 0..=2000 {
        let m = -2.0 + 0.0065 * k as f64;
        assert!(l1(m) >= l1(med) - 1e-12, "L1 objective lower at {m} than at the median");
    }
}

// ---------------------------------------------------------------------------
// The checks pass on the true quantities
// ---------------------------------------------------------------------------

#[test]
fn marginalization_check_passes_and_is_deterministic() {
    let m = eight();
    let r = check_marginalization(&m, &m, &MarginalizationSettings::default()).unwrap();
    assert!(r.passed, "{r}");
    assert!((r.figure + 0.5).abs() <= 0.15, "slope {}", r.figure);
    assert_eq!(r.series.len(), 8);
    assert!(r.series.last().unwrap().1 < r.series[0].1 / 4.0, "error should fall by about 11 over 128×: {r}");
    println!("{r}");
    // Same seed, same numbers.
    let s = MarginalizationSettings { max_log2_n: 8, ..Default::default() };
    assert_eq!(check_marginalization(&m, &m, &s).unwrap(), check_marginalization(&m, &m, &s).unwrap());
}

#[test]
fn continuity_check_passes_with_second_order_convergence() {
    let m = eight();
    let r = check_continuity(&m, &m, &ContinuitySettings::default()).unwrap();
    assert!(r.passed, "{r}");
    let order = r.detail("observed order").unwrap();
    assert!((1.7..2.3).contains(&order), "central differences should converge at order 2: {r}");
    println!("{r}");
    // Another affine path and another data set, on a short schedule.
    let mc = Marginal::from_mixture(&full_cov_mixture(), Cosine).unwrap();
    let s = ContinuitySettings { half_width: 5.0, ..Default::default() };
    let r = check_continuity(&mc, &mc, &s).unwrap();
    assert!(r.passed, "cosine scheduler: {r}");
    println!("{r}");
}

#[test]
fn fm_and_cfm_gradients_agree() {
    let m = eight();
    let r = check_fm_cfm_gradients(&m, &m, &GradientSettings::default()).unwrap();
    assert!(r.passed, "{r}");
    // The spread of L_FM − L_CFM over θ shrinks with the batch, like 1/√B.
    let spread = |b: usize| r.detail(&format!("B = {b}: spread/size")).unwrap();
    assert!(spread(16384) < spread(64) / 4.0, "{r}");
    // The constant is −E‖c − u‖² < 0 (the conditional variance).
    assert!(r.detail("B = 16384: L_FM − L_CFM").unwrap() < 0.0, "{r}");
    println!("{r}");
}

#[test]
fn bregman_check_passes_with_the_median() {
    let m = skewed_example().unwrap();
    let r = check_bregman(&m, &weighted_median, &BregmanSettings::default()).unwrap();
    assert!(r.passed, "{r}");
    // Posterior (0.6, 0.4); conditional velocities −0.5 and 4.5 per coordinate:
    // median −0.5, mean 1.5.
    assert_close(r.figure, 2.0, 1e-12, "gap median − mean");
    println!("{r}");
    // On a symmetric posterior median and mean coincide, and the check says the
    // example shows nothing: three evenly spaced points, x at the middle one's
    // scaled position α z₂, so π₁ = π₃ and the velocities are symmetric.
    let s = BregmanSettings { x: vec![0.4, 0.4], t: 0.2, min_gap: 0.5 };
    let z = Points::from_rows(&[[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]]).unwrap();
    let sym = Marginal::from_points(&z, CondOT).unwrap();
    let r = check_bregman(&sym, &weighted_median, &s).unwrap();
    assert!(!r.passed && r.figure < 1e-12, "symmetric posterior: median = mean, {r}");
}

#[test]
fn sampling_the_true_field_reaches_the_noise_floor() {
    let m = eight();
    let r = check_sampling(&m, &m, &SamplingSettings::default()).unwrap();
    assert!(r.passed, "{r}");
    assert!(r.figure > 0.5, "W2 to the data cannot beat the sampling floor by much: {r}");
    println!("{r}");
}

// ---------------------------------------------------------------------------
// The checks fail on wrong quantities
// ---------------------------------------------------------------------------

#[test]
fn continuity_check_detects_wrong_fields() {
    let m = eight();
    let mean = [0.0, 0.0]; // the data mean of the eight Gaussians
    let first = EightGaussians::torchcfm().as_mixture().components()[0].loc().to_vec();
    let flip = flipped(&m);
    let cond_mean = conditional_as_marginal(&m, &mean);
    let cond_first = conditional_as_marginal(&m, &first);
    let s = ContinuitySettings::default();
    for (f, name) in [
        (&flip as &dyn VectorField, "sign flip"),
        (&cond_mean as &dyn VectorField, "u_t(x | data mean)"),
        (&cond_first as &dyn VectorField, "u_t(x | one data point)"),
    ] {
        let r = check_continuity(&m, f, &s).unwrap();
        assert!(!r.passed, "{name}: {r}");
        assert!(r.figure > 0.3, "{name}: an O(1) residual was expected, {r}");
        println!("{name}: {r}");
    }
}

#[test]
fn sampling_check_detects_wrong_fields() {
    let m = eight();
    let mean = [0.0, 0.0];
    let flip = flipped(&m);
    let cond_mean = conditional_as_marginal(&m, &mean);
    for (f, name) in [(&flip as &dyn VectorField, "sign flip"), (&cond_mean as &dyn VectorField, "u_t(x | data mean)")]
    {
        let r = check_sampling(&m, f, &SamplingSettings::default()).unwrap();
        assert!(!r.passed, "{name}: {r}");
        assert!(r.figure > 3.0, "{name}: {r}");
        println!("{name}: {r}");
    }
}

#[test]
fn marginalization_check_fails_against_a_wrong_reference() {
    let m = eight();
    let flip = flipped(&m);
    let cond_mean = conditional_as_marginal(&m, &[0.0, 0.0]);
    // A subtler error: the right field, shifted by 0.5 in one coordinate.
    let shifted = batched(|x: &Points, t| {
        let mut v = m.velocity(x, t).unwrap();
        v.rows_mut().for_each(|r| r[0] += 0.5);
        v
    });
    for (f, name) in [
        (&flip as &dyn VectorField, "sign flip"),
        (&cond_mean as &dyn VectorField, "u_t(x | data mean)"),
        (&shifted as &dyn VectorField, "shifted by 0.5"),
    ] {
        let r = check_marginalization(&m, f, &MarginalizationSettings::default()).unwrap();
        assert!(!r.passed, "{name}: {r}");
        assert!(r.figure > -0.35, "{name}: the error should level off, {r}");
        println!("{name}: {r}");
    }
}

#[test]
fn bregman_check_fails_with_the_mean() {
    let m = skewed_example().unwrap();
    let r = check_bregman(&m, &weighted_mean, &BregmanSettings::default()).unwrap();
    assert!(!r.passed, "{r}");
    assert!(r.detail("L1 excess of the candidate").unwrap() > 0.01, "{r}");
    assert!(r.figure < 1e-9, "the mean is the marginal velocity itself: {r}");
    println!("{r}");
}

#[test]
fn gradient_check_fails_with_a_wrong_target() {
    let m = eight();
    let flip = flipped(&m);
    let s = GradientSettings { batch_sizes: vec![256, 4096], ..Default::default() };
    let r = check_fm_cfm_gradients(&m, &flip, &s).unwrap();
    assert!(!r.passed, "{r}");
    assert!(r.figure < 0.9, "{r}");
    println!("{r}");
}

#[test]
fn reports_display_their_verdict() {
    let m = skewed_example().unwrap();
    let pass = check_bregman(&m, &weighted_median, &BregmanSettings::default()).unwrap();
    let fail = check_bregman(&m, &weighted_mean, &BregmanSettings::default()).unwrap();
    let (p, f) = (pass.to_string(), fail.to_string());
    assert!(p.starts_with("[PASS] Bregman divergence"), "{p}");
    assert!(f.starts_with("[FAIL] Bregman divergence"), "{f}");
    assert_eq!(p.lines().count(), 2, "{p}");
}
