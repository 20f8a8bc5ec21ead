//! Tests for the toy datasets against closed forms.

use flowmatch::data::{
    by_name, Checkerboard, Circles, EightGaussians, Gaussian, GaussianMixture, MoonNoise, Moons, SCurve, Spirals,
    StandardGaussian, NAMES,
};
use flowmatch::{Dataset, Error, Points};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::f64::consts::PI;

const N: usize = 200_000;
/// How many standard errors a sample moment may stray from its closed form.
const K_SE: f64 = 5.0;

/// Checks the sample mean and covariance of `x` against `mean` and `cov`,
/// each entry within K_SE standard errors (estimated from the sample itself)
/// plus `bias` for datasets whose closed form is a large-n limit.
fn assert_moments(what: &str, x: &Points, mean: &[f64], cov: &[f64], bias: f64) {
    let (n, d) = x.shape();
    let m = x.mean();
    let c = x.covariance();
    assert_eq!(mean.len(), d, "{what}: mean length");
    assert_eq!(cov.len(), d * d, "{what}: covariance length");
    for a in 0..d {
        let se = (c[a * d + a] / n as f64).sqrt();
        assert!(
            (m[a] - mean[a]).abs() <= K_SE * se + bias,
            "{what}: mean[{a}] = {} but closed form {} (se {se})",
            m[a],
            mean[a]
        );
    }
    for a in 0..d {
        for b in 0..d {
            // Standard error of the mean of (x_a − m_a)(x_b − m_b).
            let prods: Vec<f64> = x.rows().map(|r| (r[a] - m[a]) * (r[b] - m[b])).collect();
            let pm = prods.iter().sum::<f64>() / n as f64;
            let pv = prods.iter().map(|p| (p - pm).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            let se = (pv / n as f64).sqrt();
            assert!(
                (c[a * d + b] - cov[a * d + b]).abs() <= K_SE * se + bias,
                "{what}: cov[{a},{b}] = {} but closed form {} (se {se})",
                c[a * d + b],
                cov[a * d + b]
            );
        }
    }
}

/// Samples N points with a fixed seed and checks them against the dataset's own mean()/covariance().
fn assert_own_moments(what: &str, ds: &dyn Dataset, bias: f64) -> Points {
    let x = ds.sample(N, 7).unwrap();
    assert_eq!(x.shape(), (N, ds.dim()));
    assert_moments(what, &x, &ds.mean().unwrap(), &ds.covariance().unwrap(), bias);
    x
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: got {g}, want {w}");
    }
}

/// Density of N(μ, Σ) in 2-D from the explicit 2×2 inverse and determinant.
fn pdf2(x: &[f64], mu: &[f64], c: &[f64]) -> f64 {
    let det = c[0] * c[3] - c[1] * c[2];
    let (dx, dy) = (x[0] - mu[0], x[1] - mu[1]);
    let q = (c[3] * dx * dx - (c[1] + c[2]) * dx * dy + c[0] * dy * dy) / det;
    (-0.5 * q).exp() / (2.0 * PI * det.sqrt())
}

fn is_invalid<T>(r: flowmatch::Result<T>) -> bool {
    matches!(r, Err(Error::InvalidParameter { .. }))
}

fn is_shape<T>(r: flowmatch::Result<T>) -> bool {
    matches!(r, Err(Error::ShapeMismatch { .. }))
}

fn all_defaults() -> Vec<Box<dyn Dataset>> {
    NAMES.iter().map(|n| by_name(n).unwrap()).collect()
}

// ---------------------------------------------------------------------------
// Moments
// ---------------------------------------------------------------------------

#[test]
fn standard_gaussian_moments() {
    let ds = StandardGaussian::new(3).unwrap();
    let x = ds.sample(N, 1).unwrap();
    let mut eye = vec![0.0; 9];
    for a in 0..3 {
        eye[a * 3 + a] = 1.0;
    }
    assert_moments("N(0, I₃)", &x, &[0.0; 3], &eye, 0.0);
    assert_eq!(ds.mean().unwrap(), vec![0.0; 3]);
    assert_eq!(ds.covariance().unwrap(), eye);
}

#[test]
fn full_covariance_gaussian_moments() {
    let mean = vec![1.0, -2.0, 0.5];
    let cov = vec![2.0, 0.8, -0.3, 0.8, 1.0, 0.2, -0.3, 0.2, 0.5];
    let ds = Gaussian::new(mean.clone(), cov.clone()).unwrap();
    let x = ds.sample(N, 2).unwrap();
    assert_moments("N(μ, Σ) 3-D", &x, &mean, &cov, 0.0);
    // L Lᵀ reproduces Σ and L is lower triangular.
    let l = ds.cholesky();
    for a in 0..3 {
        for b in 0..3 {
            let s: f64 = (0..3).map(|k| l[a * 3 + k] * l[b * 3 + k]).sum();
            assert!((s - cov[a * 3 + b]).abs() < 1e-12);
            if b > a {
                assert_eq!(l[a * 3 + b], 0.0);
            }
        }
    }
}

/// Weights, means, covariances and the mixture built from them.
type MixtureParts = (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>, GaussianMixture);

fn three_mixture() -> MixtureParts {
    let w = vec![1.0, 2.0, 5.0];
    let means = vec![vec![-3.0, 0.0], vec![2.0, 2.0], vec![0.5, -1.5]];
    let covs = vec![vec![0.5, 0.1, 0.1, 0.3], vec![1.0, -0.4, -0.4, 0.8], vec![0.2, 0.0, 0.0, 0.2]];
    let ds = GaussianMixture::new(w.clone(), means.clone(), covs.clone()).unwrap();
    (w, means, covs, ds)
}

#[test]
fn mixture_moments_match_definition() {
    let (w, means, covs, ds) = three_mixture();
    let total: f64 = w.iter().sum();
    let w: Vec<f64> = w.iter().map(|v| v / total).collect();
    assert_close("normalised weights", ds.weights(), &w, 1e-15);
    // E x = Σ wₖ μₖ; E xxᵀ = Σ wₖ (Σₖ + μₖ μₖᵀ).
    let mut m = [0.0; 2];
    let mut s = [0.0; 4];
    for k in 0..3 {
        for a in 0..2 {
            m[a] += w[k] * means[k][a];
            for b in 0..2 {
                s[a * 2 + b] += w[k] * (covs[k][a * 2 + b] + means[k][a] * means[k][b]);
            }
        }
    }
    let cov: Vec<f64> = (0..4).map(|i| s[i] - m[i / 2] * m[i % 2]).collect();
    assert_close("mixture mean()", &ds.mean().unwrap(), &m, 1e-12);
    assert_close("mixture covariance()", &ds.covariance().unwrap(), &cov, 1e-12);
    let x = ds.sample(N, 3).unwrap();
    assert_moments("3-component mixture", &x, &m, &cov, 0.0);
    // Accessors expose the components as given.
    for k in 0..3 {
        assert_eq!(ds.components()[k].loc(), &means[k][..]);
        assert_eq!(ds.components()[k].cov(), &covs[k][..]);
    }
}

#[test]
fn eight_gaussians_torchcfm_form() {
    let ds = EightGaussians::torchcfm();
    let v = 0.1_f64.sqrt();
    let c = 25.0 / 2.0 + v;
    let x = ds.sample(N, 4).unwrap();
    assert_moments("8gaussians", &x, &[0.0, 0.0], &[c, 0.0, 0.0, c], 0.0);
    assert_close("8gaussians covariance()", &ds.covariance().unwrap(), &[c, 0.0, 0.0, c], 1e-14);
    // The mixture view: TorchCFM's centre order times 5, covariance √0.1 I, equal weights.
    let h = 5.0 / 2.0_f64.sqrt();
    let centres = [[5.0, 0.0], [-5.0, 0.0], [0.0, 5.0], [0.0, -5.0], [h, h], [h, -h], [-h, h], [-h, -h]];
    let mix = ds.to_mixture();
    assert_eq!(mix.num_components(), 8);
    for (k, g) in mix.components().iter().enumerate() {
        assert_close("centre", g.loc(), &centres[k], 1e-14);
        assert_close("component cov", g.cov(), &[v, 0.0, 0.0, v], 1e-14);
        assert!((mix.weights()[k] - 0.125).abs() < 1e-15);
    }
    assert_close("as mixture cov", &mix.covariance().unwrap(), &[c, 0.0, 0.0, c], 1e-12);
    // The label of a point is its centre: per-label means sit on the centres.
    let (x, labels) = ds.sample_labeled(80_000, 5).unwrap();
    for (k, centre) in centres.iter().enumerate() {
        let idx: Vec<usize> = (0..x.len()).filter(|&i| labels[i] == k).collect();
        let m = x.select(&idx).mean();
        let se = (v / idx.len() as f64).sqrt();
        for a in 0..2 {
            assert!((m[a] - centre[a]).abs() < K_SE * se, "label {k}: mean {m:?} vs centre {centre:?}");
        }
    }
    // The general constructor with the same numbers is the same distribution.
    let same = EightGaussians::new(5.0, v).unwrap();
    assert_eq!(same.sample(100, 9).unwrap(), ds.sample(100, 9).unwrap());
    assert_eq!(ds.radius(), 5.0);
    assert_eq!(ds.variance(), v);
}

/// Moments of the unit moons (before noise) by a fine midpoint rule over θ ∈ [0, π].
fn unit_moon_moments() -> ([f64; 2], [f64; 4]) {
    let m = 200_000;
    let mut e = [0.0; 2];
    let mut s = [0.0; 4];
    for i in 0..m {
        let t = PI * (i as f64 + 0.5) / m as f64;
        for p in [[t.cos(), t.sin()], [1.0 - t.cos(), 0.5 - t.sin()]] {
            for a in 0..2 {
                e[a] += p[a] / (2 * m) as f64;
                for b in 0..2 {
                    s[a * 2 + b] += p[a] * p[b] / (2 * m) as f64;
                }
            }
        }
    }
    let c = [s[0] - e[0] * e[0], s[1] - e[0] * e[1], s[2] - e[1] * e[0], s[3] - e[1] * e[1]];
    (e, c)
}

#[test]
fn moons_torchcfm_moments() {
    let (e, c) = unit_moon_moments();
    // TorchCFM: moon + w·u·(1,1), u ~ U[0,1), w = 0.2, then 3x − 1.
    let w = 0.2;
    let mean = [3.0 * (e[0] + w / 2.0) - 1.0, 3.0 * (e[1] + w / 2.0) - 1.0];
    let u = w * w / 12.0;
    let cov: Vec<f64> = c.iter().map(|v| 9.0 * (v + u)).collect();
    let ds = Moons::torchcfm();
    assert_close("moons mean()", &ds.mean().unwrap(), &mean, 1e-6);
    assert_close("moons covariance()", &ds.covariance().unwrap(), &cov, 1e-6);
    let x = ds.sample(N, 6).unwrap();
    assert_moments("moons (TorchCFM)", &x, &mean, &cov, 1e-3);
}

#[test]
fn moons_gaussian_noise_moments() {
    let (e, c) = unit_moon_moments();
    let (s, scale, shift) = (0.2, 2.0, [0.5, -0.25]);
    let ds = Moons::new(MoonNoise::Gaussian(s), scale, shift).unwrap();
    let mean = [scale * e[0] + shift[0], scale * e[1] + shift[1]];
    let cov =
        [scale * scale * (c[0] + s * s), scale * scale * c[1], scale * scale * c[2], scale * scale * (c[3] + s * s)];
    assert_close("moons mean()", &ds.mean().unwrap(), &mean, 1e-6);
    assert_close("moons covariance()", &ds.covariance().unwrap(), &cov, 1e-6);
    assert_moments("moons (Gaussian noise)", &ds.sample(N, 8).unwrap(), &mean, &cov, 1e-3);
}

#[test]
fn moons_without_noise_lie_on_the_moons() {
    let ds = Moons::new(MoonNoise::SharedUniform(0.0), 3.0, [-1.0, -1.0]).unwrap();
    let (x, labels) = ds.sample_labeled(1001, 1).unwrap();
    assert_eq!(labels.iter().filter(|&&k| k == 0).count(), 500);
    assert_eq!(labels.iter().filter(|&&k| k == 1).count(), 501);
    for (r, &k) in x.rows().zip(&labels) {
        let (p, q) = ((r[0] + 1.0) / 3.0, (r[1] + 1.0) / 3.0);
        let (c, s) = if k == 0 { (p, q) } else { (1.0 - p, 0.5 - q) };
        assert!((c * c + s * s - 1.0).abs() < 1e-12, "label {k}: ({p}, {q}) is off its moon");
        assert!(s >= -1e-12, "label {k}: ({p}, {q}) is on the wrong half");
    }
    // Shared uniform noise moves each point along (1, 1) by e ∈ [0, w): for the
    // outer moon, (p − e, q − e) is on the unit circle for some e in range.
    let ds = Moons::new(MoonNoise::SharedUniform(0.2), 1.0, [0.0, 0.0]).unwrap();
    let (x, labels) = ds.sample_labeled(500, 2).unwrap();
    for (r, &k) in x.rows().zip(&labels) {
        if k == 0 {
            // Solve (p − e)² + (q − e)² = 1 for the root e in [0, 0.2).
            let (p, q) = (r[0], r[1]);
            let (b, cc) = (-(p + q), (p * p + q * q - 1.0) / 2.0);
            let disc = (b * b / 4.0 - cc).max(0.0).sqrt();
            let ok = [-b / 2.0 - disc, -b / 2.0 + disc].iter().any(|e| (-1e-9..0.2 + 1e-9).contains(e));
            assert!(ok, "({p}, {q}) is not a diagonal shift of the outer moon");
        }
    }
}

#[test]
fn circles_moments_and_radii() {
    let ds = Circles::default();
    let c = 9.0 * ((1.0 + 0.25) / 4.0 + 0.08 * 0.08);
    assert_close("circles covariance()", &ds.covariance().unwrap(), &[c, 0.0, 0.0, c], 1e-14);
    assert_own_moments("circles", &ds, 1e-3);
    let ds = Circles::new(0.3, 0.0, 2.0).unwrap();
    let (x, labels) = ds.sample_labeled(999, 3).unwrap();
    for (r, &k) in x.rows().zip(&labels) {
        let radius = (r[0] * r[0] + r[1] * r[1]).sqrt();
        let want = if k == 0 { 2.0 } else { 0.6 };
        assert!((radius - want).abs() < 1e-12, "label {k} at radius {radius}");
    }
}

#[test]
fn checkerboard_moments_and_cells() {
    let ds = Checkerboard::default();
    // Dark-cell centres of the FFJORD board: Var = 5 per axis, Cov₁₂ = 1, plus 2²/12 within a cell.
    let v = 5.0 + 4.0 / 12.0;
    assert_close("checkerboard mean()", &ds.mean().unwrap(), &[0.0, 0.0], 1e-12);
    assert_close("checkerboard covariance()", &ds.covariance().unwrap(), &[v, 1.0, 1.0, v], 1e-12);
    let x = assert_own_moments("checkerboard", &ds, 0.0);
    for r in x.rows() {
        assert!(r[0] >= -4.0 && r[0] < 4.0 && r[1] >= -4.0 && r[1] < 4.0, "{r:?} is off the board");
        let (i, j) = ((r[0] / 2.0 + 2.0).floor() as i64, (r[1] / 2.0 + 2.0).floor() as i64);
        assert_eq!((i + j) % 2, 0, "{r:?} is on a light square");
    }
    // Label = column parity.
    let (x, labels) = ds.sample_labeled(2000, 4).unwrap();
    for (r, &k) in x.rows().zip(&labels) {
        assert_eq!((r[0] / 2.0 + 2.0).floor() as usize % 2, k);
    }
}

#[test]
fn spirals_lie_on_their_arms() {
    let ds = Spirals::new(3, 0.0).unwrap();
    let (x, labels) = ds.sample_labeled(3000, 5).unwrap();
    for (r, &k) in x.rows().zip(&labels) {
        // Rotate back by −2πk/3: arm 0 is (−t cos t, t sin t)/3 with radius t/3.
        let phi = -2.0 * PI * k as f64 / 3.0;
        let (a, b) = (phi.cos() * r[0] - phi.sin() * r[1], phi.sin() * r[0] + phi.cos() * r[1]);
        let rad = (a * a + b * b).sqrt();
        assert!(rad <= PI + 1e-12);
        let t = 3.0 * rad;
        assert!((a + rad * t.cos()).abs() < 1e-9 && (b - rad * t.sin()).abs() < 1e-9, "arm {k}: ({a}, {b})");
    }
}

#[test]
fn scurve_moments_match_quadrature() {
    // Moments of (sin t, sign(t)(cos t − 1)) for t uniform on [−3π/2, 3π/2], by a midpoint rule.
    let m = 400_000;
    let (mut e, mut s) = ([0.0; 2], [0.0; 4]);
    for i in 0..m {
        let t = 3.0 * PI * ((i as f64 + 0.5) / m as f64 - 0.5);
        let p = [t.sin(), t.signum() * (t.cos() - 1.0)];
        for a in 0..2 {
            e[a] += p[a] / m as f64;
            for b in 0..2 {
                s[a * 2 + b] += p[a] * p[b] / m as f64;
            }
        }
    }
    let (noise, scale) = (0.2, 1.5);
    let cov: Vec<f64> = (0..4)
        .map(|i| scale * scale * (s[i] - e[i / 2] * e[i % 2] + if i % 3 == 0 { noise * noise } else { 0.0 }))
        .collect();
    let ds = SCurve::new(noise, scale).unwrap();
    assert_close("scurve covariance()", &ds.covariance().unwrap(), &cov, 1e-8);
    assert_close("scurve mean()", &ds.mean().unwrap(), &[scale * e[0], scale * e[1]], 1e-8);
    assert_own_moments("scurve", &ds, 0.0);
}

// ---------------------------------------------------------------------------
// Log-densities
// ---------------------------------------------------------------------------

#[test]
fn standard_gaussian_log_density_is_the_formula() {
    let ds = StandardGaussian::new(3).unwrap();
    let x = Points::from_rows(&[[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [3.0, 0.1, -7.0]]).unwrap();
    let got = ds.log_density(&x).unwrap().unwrap();
    for (r, g) in x.rows().zip(&got) {
        let sq: f64 = r.iter().map(|v| v * v).sum();
        let want = -0.5 * sq - 1.5 * (2.0 * PI).ln();
        assert!((g - want).abs() < 1e-12, "{g} vs {want}");
    }
}

#[test]
fn full_gaussian_log_density_matches_2x2_formula() {
    let (mu, c) = (vec![1.0, -1.0], vec![2.0, 0.6, 0.6, 0.5]);
    let ds = Gaussian::new(mu.clone(), c.clone()).unwrap();
    let x = Points::from_rows(&[[1.0, -1.0], [0.0, 0.0], [3.0, -2.5], [-4.0, 2.0]]).unwrap();
    let got = ds.log_density(&x).unwrap().unwrap();
    for (r, g) in x.rows().zip(&got) {
        let want = pdf2(r, &mu, &c).ln();
        assert!((g - want).abs() < 1e-12, "{g} vs {want}");
    }
    assert!((ds.log_det() - (2.0 * 0.5 - 0.36_f64).ln()).abs() < 1e-14);
}

#[test]
fn mixture_log_density_matches_direct_sum() {
    let (w, means, covs, ds) = three_mixture();
    let total: f64 = w.iter().sum();
    let x = Points::from_rows(&[[0.0, 0.0], [-3.0, 0.1], [2.0, 1.0], [1.0, -5.0], [6.0, 6.0]]).unwrap();
    let got = ds.log_density(&x).unwrap().unwrap();
    for (r, g) in x.rows().zip(&got) {
        let p: f64 = (0..3).map(|k| w[k] / total * pdf2(r, &means[k], &covs[k])).sum();
        assert!((g - p.ln()).abs() < 1e-10, "{g} vs {}", p.ln());
    }
}

#[test]
fn eight_gaussians_log_density_matches_direct_sum_and_integrates_to_one() {
    let ds = EightGaussians::torchcfm();
    let mix = ds.to_mixture();
    let x = Points::from_rows(&[[5.0, 0.0], [0.0, 0.0], [3.0, 3.0], [-1.0, 4.5]]).unwrap();
    let got = ds.log_density(&x).unwrap().unwrap();
    for (r, g) in x.rows().zip(&got) {
        let p: f64 = mix.components().iter().map(|c| pdf2(r, c.loc(), c.cov()) / 8.0).sum();
        assert!((g - p.ln()).abs() < 1e-10);
    }
    // ∫ p ≈ 1 on a fine grid over [−10, 10]².
    let (m, lo, h) = (400, -10.0, 20.0 / 400.0);
    let grid = Points::from_fn(m * m, 2, |i, j| lo + h * (if j == 0 { i % m } else { i / m } as f64 + 0.5));
    let mass: f64 = ds.log_density(&grid).unwrap().unwrap().iter().map(|l| l.exp() * h * h).sum();
    assert!((mass - 1.0).abs() < 1e-6, "total mass {mass}");
}

#[test]
fn log_density_is_finite_far_from_the_data() {
    let far = Points::from_rows(&[[1e3, 1e3], [-1e3, 5e2]]).unwrap();
    let (_, _, _, mix) = three_mixture();
    let datasets: Vec<Box<dyn Dataset>> = vec![
        Box::new(StandardGaussian::default()),
        Box::new(Gaussian::new(vec![0.0, 1.0], vec![0.1, 0.05, 0.05, 0.1]).unwrap()),
        Box::new(mix),
        Box::new(EightGaussians::torchcfm()),
    ];
    for ds in &datasets {
        let l = ds.log_density(&far).unwrap().unwrap();
        assert!(l.iter().all(|v| v.is_finite() && *v < -1e4), "{}: {l:?}", ds.name());
    }
    // Far away the mixture is dominated by its nearest component: max term ≤ log p ≤ max term + ln 8.
    let eight = EightGaussians::torchcfm();
    let l = eight.log_density(&far).unwrap().unwrap()[0];
    let v = 0.1_f64.sqrt();
    let best = eight
        .as_mixture()
        .components()
        .iter()
        .map(|c| {
            let d2 = (1e3 - c.loc()[0]).powi(2) + (1e3 - c.loc()[1]).powi(2);
            (1.0_f64 / 8.0).ln() - d2 / (2.0 * v) - (2.0 * PI * v).ln()
        })
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(l >= best - 1e-6 * best.abs() && l <= best + 8.0_f64.ln() + 1e-6 * best.abs(), "{l} vs {best}");
}

#[test]
fn log_density_checks_its_input() {
    let ds = EightGaussians::torchcfm();
    let wrong = Points::zeros(3, 3);
    assert!(matches!(ds.log_density(&wrong), Some(Err(Error::ShapeMismatch { .. }))));
    let nan = Points::from_rows(&[[0.0, f64::NAN]]).unwrap();
    assert!(matches!(ds.log_density(&nan), Some(Err(Error::NonFinite { .. }))));
    // Datasets without a closed form say so.
    for name in ["moons", "circles", "checkerboard", "spirals", "scurve"] {
        assert!(by_name(name).unwrap().log_density(&Points::zeros(1, 2)).is_none(), "{name}");
    }
}

// ---------------------------------------------------------------------------
// Determinism, streams, labels
// ---------------------------------------------------------------------------

#[test]
fn same_seed_same_points_different_seed_different_points() {
    for ds in all_defaults() {
        let a = ds.sample(257, 11).unwrap();
        let b = ds.sample(257, 11).unwrap();
        let c = ds.sample(257, 12).unwrap();
        assert_eq!(a, b, "{}: same seed must repeat", ds.name());
        assert_ne!(a, c, "{}: different seeds must differ", ds.name());
        assert!(a.as_slice().iter().all(|v| v.is_finite()));
        // Labels consume no randomness: the labeled draw has the same points.
        assert_eq!(ds.sample_labeled(257, 11).unwrap().0, a, "{}", ds.name());
    }
}

#[test]
fn stream_sampling_is_reproducible_and_moves_on() {
    for ds in all_defaults() {
        let mut r1 = StdRng::seed_from_u64(3);
        let mut r2 = StdRng::seed_from_u64(3);
        let b1 = ds.sample_with(256, &mut r1).unwrap();
        let b2 = ds.sample_with(256, &mut r1).unwrap();
        assert_ne!(b1, b2, "{}: consecutive batches must differ", ds.name());
        // sample_into refills a buffer with exactly the same stream.
        let mut buf = Points::zeros(256, 2);
        ds.sample_into(&mut buf, &mut r2).unwrap();
        assert_eq!(buf, b1, "{}", ds.name());
        ds.sample_into(&mut buf, &mut r2).unwrap();
        assert_eq!(buf, b2, "{}", ds.name());
        // sample(n, seed) is sample_with on a fresh StdRng.
        assert_eq!(ds.sample(256, 3).unwrap(), b1);
    }
}

#[test]
fn labels_in_range_and_balanced() {
    let n = 40_000;
    let (_, _, _, mix) = three_mixture();
    let mut datasets = all_defaults();
    datasets.push(Box::new(mix));
    datasets.push(Box::new(Spirals::new(5, 0.1).unwrap()));
    for ds in &datasets {
        let k = ds.num_classes();
        let (x, labels) = ds.sample_labeled(n, 21).unwrap();
        assert_eq!(labels.len(), x.len());
        let mut counts = vec![0usize; k];
        for &l in &labels {
            assert!(l < k, "{}: label {l} out of 0..{k}", ds.name());
            counts[l] += 1;
        }
        let expected: Vec<f64> = if ds.name() == "gaussian mixture" {
            vec![1.0 / 8.0, 2.0 / 8.0, 5.0 / 8.0]
        } else {
            vec![1.0 / k as f64; k]
        };
        for (c, p) in counts.iter().zip(&expected) {
            let se = (p * (1.0 - p) / n as f64).sqrt();
            let frac = *c as f64 / n as f64;
            assert!((frac - p).abs() <= K_SE * se + 1e-12, "{}: class share {frac} vs {p}", ds.name());
        }
    }
    // Shuffled grid datasets: the first points are not all from one class.
    let (_, labels) = Moons::torchcfm().sample_labeled(1000, 1).unwrap();
    let head = labels[..100].iter().filter(|&&l| l == 0).count();
    assert!((20..=80).contains(&head), "moons look unshuffled: {head} of the first 100 are outer");
}

// ---------------------------------------------------------------------------
// Errors and names
// ---------------------------------------------------------------------------

#[test]
fn invalid_parameters_are_typed_errors() {
    assert!(is_invalid(StandardGaussian::new(0)));
    assert!(is_invalid(Gaussian::isotropic(vec![0.0, 0.0], -1.0)));
    assert!(is_invalid(Gaussian::isotropic(vec![0.0, 0.0], f64::NAN)));
    assert!(is_invalid(Gaussian::isotropic(vec![0.0, f64::NAN], 1.0)));
    assert!(is_invalid(Gaussian::isotropic(vec![], 1.0)));
    assert!(is_invalid(Gaussian::new(vec![0.0, 0.0], vec![1.0, 2.0, 2.0, 1.0])), "indefinite");
    assert!(is_invalid(Gaussian::new(vec![0.0, 0.0], vec![1.0, 0.5, 0.0, 1.0])), "asymmetric");
    assert!(is_invalid(Gaussian::new(vec![0.0, 0.0], vec![1.0, 0.0, 0.0, f64::INFINITY])));
    assert!(is_shape(Gaussian::new(vec![0.0, 0.0], vec![1.0, 0.0, 1.0])));
    assert!(is_invalid(GaussianMixture::isotropic(vec![], vec![], vec![])), "empty mixture");
    assert!(is_invalid(GaussianMixture::isotropic(vec![0.0, 0.0], vec![vec![0.0], vec![1.0]], vec![1.0, 1.0])));
    assert!(is_invalid(GaussianMixture::isotropic(vec![1.0, -0.5], vec![vec![0.0], vec![1.0]], vec![1.0, 1.0])));
    assert!(is_invalid(GaussianMixture::isotropic(vec![1.0, f64::NAN], vec![vec![0.0], vec![1.0]], vec![1.0, 1.0])));
    assert!(is_invalid(GaussianMixture::isotropic(vec![1.0, 1.0], vec![vec![0.0], vec![1.0]], vec![1.0, -1.0])));
    assert!(is_shape(GaussianMixture::isotropic(vec![1.0], vec![vec![0.0], vec![1.0]], vec![1.0, 1.0])));
    assert!(is_shape(GaussianMixture::isotropic(vec![1.0, 1.0], vec![vec![0.0], vec![1.0, 2.0]], vec![1.0, 1.0])));
    assert!(is_invalid(EightGaussians::new(5.0, -0.1)));
    assert!(is_invalid(EightGaussians::new(f64::NAN, 0.1)));
    assert!(is_invalid(Moons::sklearn(-0.1)));
    assert!(is_invalid(Moons::new(MoonNoise::SharedUniform(0.2), 0.0, [0.0, 0.0])));
    assert!(is_invalid(Moons::new(MoonNoise::Gaussian(0.2), 1.0, [f64::NAN, 0.0])));
    assert!(is_invalid(Circles::new(1.0, 0.1, 1.0)));
    assert!(is_invalid(Circles::new(0.5, -0.1, 1.0)));
    assert!(is_invalid(Checkerboard::new(1, 1.0)));
    assert!(is_invalid(Checkerboard::new(4, 0.0)));
    assert!(is_invalid(Spirals::new(0, 0.1)));
    assert!(is_invalid(Spirals::new(2, f64::NAN)));
    assert!(is_invalid(SCurve::new(0.1, -1.0)));
}

#[test]
fn zero_count_and_bad_buffers() {
    for ds in all_defaults() {
        assert!(matches!(ds.sample(0, 1), Err(Error::ZeroCount { .. })), "{}", ds.name());
        assert!(matches!(ds.sample_labeled(0, 1), Err(Error::ZeroCount { .. })), "{}", ds.name());
        let mut rng = StdRng::seed_from_u64(0);
        let mut wrong_dim = Points::zeros(4, 3);
        assert!(is_shape(ds.sample_into(&mut wrong_dim, &mut rng)), "{}", ds.name());
        let mut out = Points::zeros(4, 2);
        let mut labels = vec![0; 3];
        assert!(is_shape(ds.fill(&mut out, Some(&mut labels), &mut rng)), "{}", ds.name());
        let mut empty = Points::zeros(0, 2);
        assert!(matches!(ds.sample_into(&mut empty, &mut rng), Err(Error::ZeroCount { .. })));
    }
}

#[test]
fn by_name_round_trips_and_lists_names_on_error() {
    for name in NAMES {
        let ds = by_name(name).unwrap();
        assert_eq!(ds.name(), name);
        assert_eq!(ds.dim(), 2);
    }
    assert_eq!(by_name("8-Gaussians").unwrap().name(), "8gaussians");
    assert_eq!(by_name("S_curve").unwrap().name(), "scurve");
    // by_name gives the documented defaults.
    let m = by_name("moons").unwrap();
    assert_eq!(m.sample(50, 1).unwrap(), Moons::torchcfm().sample(50, 1).unwrap());
    let e = by_name("8gaussians").unwrap();
    assert_eq!(e.covariance(), EightGaussians::torchcfm().covariance());
    match by_name("swissroll") {
        Err(Error::InvalidParameter { what, reason }) => {
            assert!(what.contains("swissroll"));
            for name in NAMES {
                assert!(reason.contains(name), "error should list '{name}': {reason}");
            }
        }
        Err(e) => panic!("wrong error kind: {e:?}"),
        Ok(_) => panic!("unknown name accepted"),
    }
}
