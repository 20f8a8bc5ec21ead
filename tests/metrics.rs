//! Tests for `flowmatch::metrics` and `flowmatch::ot` against closed forms and brute force.

use flowmatch::metrics::{
    energy_distance, kinetic_energy, median_bandwidth, mmd_rbf, mmd_rbf_multi, straightness, w2, w2_squared,
    PAIRWISE_MAX_POINTS, W2_MAX_POINTS,
};
use flowmatch::ot::{optimal_assignment, solve_assignment};
use flowmatch::{Error, Points};
use nalgebra::{Matrix2, SymmetricEigen};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// `n` samples of N(mean, cov) in 2-D: x = mean + L z with L the Cholesky factor of cov.
fn gaussian(n: usize, mean: [f64; 2], cov: Matrix2<f64>, seed: u64) -> Points {
    let l = cov.cholesky().expect("test covariance is positive definite").l();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut data = Vec::with_capacity(2 * n);
    for _ in 0..n {
        let z0: f64 = rng.sample(StandardNormal);
        let z1: f64 = rng.sample(StandardNormal);
        data.push(mean[0] + l[(0, 0)] * z0);
        data.push(mean[1] + l[(1, 0)] * z0 + l[(1, 1)] * z1);
    }
    Points::new(n, 2, data).unwrap()
}

fn standard(n: usize, dim: usize, seed: u64) -> Points {
    let mut rng = StdRng::seed_from_u64(seed);
    Points::from_fn(n, dim, |_, _| rng.sample(StandardNormal))
}

fn shifted(p: &Points, shift: &[f64]) -> Points {
    Points::from_fn(p.len(), p.dim(), |i, j| p.row(i)[j] + shift[j])
}

/// Symmetric PSD square root through the eigen decomposition.
fn sqrtm(m: Matrix2<f64>) -> Matrix2<f64> {
    let e = SymmetricEigen::new(m);
    let d = Matrix2::from_diagonal(&e.eigenvalues.map(|x| x.max(0.0).sqrt()));
    e.eigenvectors * d * e.eigenvectors.transpose()
}

/// Bures term tr(Σ₁ + Σ₂ − 2 (Σ₂^½ Σ₁ Σ₂^½)^½) of the Gaussian W2².
fn bures(s1: Matrix2<f64>, s2: Matrix2<f64>) -> f64 {
    let r2 = sqrtm(s2);
    (s1 + s2 - 2.0 * sqrtm(r2 * s1 * r2)).trace()
}

fn cost_of(cost: &[f64], n: usize, perm: &[usize]) -> f64 {
    perm.iter().enumerate().map(|(i, &j)| cost[i * n + j]).sum()
}

/// Minimum over all permutations (Heap's algorithm), n ≤ 7.
fn brute_force(cost: &[f64], n: usize) -> f64 {
    let mut p: Vec<usize> = (0..n).collect();
    let mut c = vec![0usize; n];
    let mut best = cost_of(cost, n, &p);
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                p.swap(0, i);
            } else {
                p.swap(c[i], i);
            }
            best = best.min(cost_of(cost, n, &p));
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    best
}

fn assert_permutation(p: &[usize], n: usize) {
    let mut seen = vec![false; n];
    assert_eq!(p.len(), n);
    for &j in p {
        assert!(j < n && !seen[j], "not a permutation: {p:?}");
        seen[j] = true;
    }
}

// --------------------------------------------------------------------------- assignment

#[test]
fn assignment_matches_brute_force_on_random_costs() {
    let mut rng = StdRng::seed_from_u64(7);
    for n in 1..=7 {
        for trial in 0..40 {
            // Half the trials use small integer costs, which create many ties.
            let cost: Vec<f64> = (0..n * n)
                .map(|_| if trial % 2 == 0 { rng.gen::<f64>() * 10.0 - 3.0 } else { rng.gen_range(0..4) as f64 })
                .collect();
            let p = solve_assignment(&cost, n).unwrap();
            assert_permutation(&p, n);
            let best = brute_force(&cost, n);
            let got = cost_of(&cost, n, &p);
            assert!((got - best).abs() < 1e-9, "n = {n}, trial {trial}: solver {got}, brute force {best}");
        }
    }
}

/// Textbook O(n³) Hungarian algorithm with potentials (rows added one at a time),
/// an independent reference for larger n. Returns the column of each row.
fn reference_hungarian(cost: &[f64], n: usize) -> Vec<usize> {
    let inf = f64::INFINITY;
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let (mut p, mut way) = (vec![0usize; n + 1], vec![0usize; n + 1]);
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let (mut delta, mut j1) = (inf, 0);
            for j in 1..=n {
                if !used[j] {
                    let cur = cost[(i0 - 1) * n + j - 1] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col = vec![0; n];
    for j in 1..=n {
        col[p[j] - 1] = j - 1;
    }
    col
}

#[test]
fn assignment_matches_a_reference_hungarian_on_larger_problems() {
    let mut rng = StdRng::seed_from_u64(17);
    for n in [8, 33, 120] {
        let pts = standard(2 * n, 2, n as u64);
        // (name, costs, offset subtracted before totals are compared, tolerance)
        let kinds: Vec<(&str, Vec<f64>, f64, f64)> = vec![
            ("uniform", (0..n * n).map(|_| rng.gen::<f64>()).collect(), 0.0, 1e-9),
            ("few integer values (ties)", (0..n * n).map(|_| rng.gen_range(0..3) as f64).collect(), 0.0, 1e-9),
            // Rounding at 1e9 is about 1e-7 per entry, so only ~1e-5 is meaningful in a total.
            ("large offset", (0..n * n).map(|_| 1e9 + rng.gen::<f64>()).collect(), 1e9, 1e-4),
            ("all equal", vec![2.5; n * n], 0.0, 1e-9),
            (
                "squared distances",
                (0..n * n)
                    .map(|k| {
                        let (x, y) = (pts.row(k / n), pts.row(n + k % n));
                        (x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2)
                    })
                    .collect(),
                0.0,
                1e-9,
            ),
        ];
        for (kind, cost, offset, tol) in kinds {
            let p = solve_assignment(&cost, n).unwrap();
            assert_permutation(&p, n);
            let shifted: Vec<f64> = cost.iter().map(|c| c - offset).collect();
            let got = cost_of(&shifted, n, &p);
            let best = cost_of(&shifted, n, &reference_hungarian(&cost, n));
            assert!((got - best).abs() <= tol * best.abs().max(1.0), "n = {n}, {kind}: {got} vs {best}");
        }
    }
}

#[test]
fn assignment_recovers_a_planted_permutation() {
    // cost[i][j] = 0 on a planted permutation and ≥ 1 elsewhere: the plant is the unique optimum.
    let n = 300;
    let mut rng = StdRng::seed_from_u64(3);
    let mut plant: Vec<usize> = (0..n).collect();
    plant.shuffle(&mut rng);
    let cost: Vec<f64> = (0..n * n).map(|k| if plant[k / n] == k % n { 0.0 } else { 1.0 + rng.gen::<f64>() }).collect();
    assert_eq!(solve_assignment(&cost, n).unwrap(), plant);
}

// --------------------------------------------------------------------------- W2

#[test]
fn w2_of_a_permuted_copy_is_zero_and_the_matching_undoes_the_permutation() {
    let a = standard(400, 3, 1);
    let mut perm: Vec<usize> = (0..a.len()).collect();
    perm.shuffle(&mut StdRng::seed_from_u64(2));
    let b = a.select(&perm);
    assert!(w2(&a, &b).unwrap() < 1e-12);
    let sigma = optimal_assignment(&a, &b).unwrap();
    // a[i] = b[k] with perm[k] = i, so σ must be the inverse permutation.
    for (i, &k) in sigma.iter().enumerate() {
        assert_eq!(perm[k], i);
    }
}

#[test]
fn w2_of_a_translated_copy_is_the_norm_of_the_shift() {
    // For b = a + s, ‖x_i − y_σ(i)‖² = ‖s‖² + 2 s·(x_i − x_σ(i)) + ‖x_i − x_σ(i)‖², whose
    // mean is smallest for σ = id, so W2 = ‖s‖ exactly.
    let a = standard(500, 2, 11);
    let s = [0.3, -0.4];
    let b = shifted(&a, &s);
    let got = w2(&a, &b).unwrap();
    assert!((got - 0.5).abs() < 1e-12, "W2 = {got}, expected 0.5");
    let sigma = optimal_assignment(&a, &b).unwrap();
    assert!(sigma.iter().enumerate().all(|(i, &j)| i == j));
}

#[test]
fn w2_in_one_dimension_matches_the_sorted_coupling() {
    // In 1-D the monotone (sorted) matching is optimal for a convex cost.
    let n = 600;
    let mut rng = StdRng::seed_from_u64(5);
    let xa: Vec<f64> = (0..n).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
    let xb: Vec<f64> = (0..n).map(|_| 1.0 + 2.0 * rng.gen::<f64>()).collect();
    let a = Points::new(n, 1, xa.clone()).unwrap();
    let b = Points::new(n, 1, xb.clone()).unwrap();
    let (mut sa, mut sb) = (xa, xb);
    sa.sort_by(f64::total_cmp);
    sb.sort_by(f64::total_cmp);
    let expected = sa.iter().zip(&sb).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / n as f64;
    let got = w2_squared(&a, &b).unwrap();
    assert!((got - expected).abs() < 1e-10 * expected, "{got} vs {expected}");
}

#[test]
fn w2_squared_splits_into_mean_shift_plus_centred_part() {
    // For any two distributions W2²(μ, ν) = ‖m_μ − m_ν‖² + W2²(μ − m_μ, ν − m_ν),
    // so this holds exactly (up to rounding) for empirical measures.
    let a = gaussian(300, [0.0, 0.0], Matrix2::new(1.0, 0.3, 0.3, 0.5), 21);
    let b = gaussian(300, [2.0, -1.0], Matrix2::new(0.4, -0.1, -0.1, 2.0), 22);
    let (ma, mb) = (a.mean(), b.mean());
    let ac = shifted(&a, &[-ma[0], -ma[1]]);
    let bc = shifted(&b, &[-mb[0], -mb[1]]);
    let mean_part = (ma[0] - mb[0]).powi(2) + (ma[1] - mb[1]).powi(2);
    let total = w2_squared(&a, &b).unwrap();
    let centred = w2_squared(&ac, &bc).unwrap();
    assert!((total - (mean_part + centred)).abs() < 1e-10, "{total} vs {mean_part} + {centred}");
}

/// Covariance with the 1/n normalisation: the covariance of the empirical measure itself.
fn empirical_cov(p: &Points) -> Matrix2<f64> {
    let c = p.covariance();
    let f = (p.len() as f64 - 1.0) / p.len() as f64;
    Matrix2::new(c[0] * f, c[1] * f, c[2] * f, c[3] * f)
}

#[test]
fn w2_between_gaussian_samples_matches_the_closed_form() {
    // W2²(N(μ₁,Σ₁), N(μ₂,Σ₂)) = ‖μ₁−μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₂^½ Σ₁ Σ₂^½)^½).
    let n = 2000;
    let (m1, m2) = ([1.0, -2.0], [4.0, 2.0]); // ‖μ₁ − μ₂‖² = 25
    let s1 = Matrix2::new(1.0, 0.6, 0.6, 1.0);
    let s2 = Matrix2::new(2.0, -0.5, -0.5, 0.5);
    let a = gaussian(n, m1, s1, 101);
    let b = gaussian(n, m2, s2, 202);
    let exact = 25.0 + bures(s1, s2); // ≈ 25.87
    let got = w2_squared(&a, &b).unwrap();

    // Tolerance. The empirical W2² differs from the population value through
    // (1) the sample means: ‖μ̂₁ − μ̂₂‖² − ‖μ₁ − μ₂‖² ≈ 2 Δ·(δ₁ − δ₂) with Δ = μ₁ − μ₂, a
    //     zero-mean term with standard deviation 2 sqrt(Δᵀ(Σ₁ + Σ₂)Δ / n) ≈ 0.33 here;
    // (2) the sample covariances, O(n^-½): about 0.07 standard deviation at n = 2000
    //     (measured over 20 seeds);
    // (3) the positive bias of empirical optimal transport, about 0.015 (see below).
    // So we allow 4 standard deviations of (1) plus 0.3 for (2) and (3): about 6 % of W2².
    // A large mean shift keeps this relative error small; the sharp check follows.
    let delta = nalgebra::Vector2::new(m1[0] - m2[0], m1[1] - m2[1]);
    let sd_mean = 2.0 * ((delta.transpose() * (s1 + s2) * delta)[(0, 0)] / n as f64).sqrt();
    let tol = 4.0 * sd_mean + 0.3;
    assert!((got - exact).abs() < tol, "W2² = {got}, closed form {exact}, tolerance {tol}");

    // Sharp check without sampling noise. Gelbrich's bound says that for ANY two
    // distributions W2² ≥ ‖m₁ − m₂‖² + tr(S₁ + S₂ − 2 (S₂^½ S₁ S₂^½)^½) in terms of their
    // means and covariances, with equality for Gaussians. Applied to the two empirical
    // measures (1/n covariances) it must hold exactly, and the gap is the small positive
    // bias of empirical OT in 2-D (O(log n / n): 0.014–0.017 over 12 seeds at n = 2000,
    // about 0.045 at n = 500). A suboptimal matching would overshoot it by far.
    let (ma, mb) = (a.mean(), b.mean());
    let mean_part = (ma[0] - mb[0]).powi(2) + (ma[1] - mb[1]).powi(2);
    let gelbrich = mean_part + bures(empirical_cov(&a), empirical_cov(&b));
    let gap = got - gelbrich;
    assert!(gap > -1e-9, "Gelbrich lower bound violated: W2² = {got} < {gelbrich}");
    assert!(gap < 0.05, "W2² = {got} exceeds the Gelbrich bound {gelbrich} by {gap}");
}

#[test]
fn w2_handles_unequal_sizes_exactly() {
    // 1-D: a = {0, 1, 2, 3}, b = {0.5, 2.5}; each point of b receives two points of a,
    // each pair at distance 0.5, so W2² = 0.25.
    let a = Points::new(4, 1, vec![3.0, 0.0, 2.0, 1.0]).unwrap();
    let b = Points::new(2, 1, vec![2.5, 0.5]).unwrap();
    assert!((w2_squared(&a, &b).unwrap() - 0.25).abs() < 1e-14);
    assert!((w2_squared(&b, &a).unwrap() - 0.25).abs() < 1e-14);
    // A set and the same set with every point repeated three times are the same distribution.
    let p = standard(50, 2, 9);
    let p3 = p.concat(&p).unwrap().concat(&p).unwrap();
    assert!(w2(&p, &p3).unwrap() < 1e-12);
    // 4 and 6 points: lcm 12, compared with the 1-D sorted coupling of the replicated sets.
    let c = Points::new(6, 1, vec![0.0, 5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
    // Replicated sorted: a → 0,0,0,1,1,1,2,2,2,3,3,3; c → 0,0,1,1,2,2,3,3,4,4,5,5.
    let ra = [0., 0., 0., 1., 1., 1., 2., 2., 2., 3., 3., 3.];
    let rc = [0., 0., 1., 1., 2., 2., 3., 3., 4., 4., 5., 5.];
    let expected = ra.iter().zip(&rc).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / 12.0;
    assert!((w2_squared(&a, &c).unwrap() - expected).abs() < 1e-12);
}

#[test]
fn minibatch_couplings_admit_no_improving_swap() {
    // 20 couplings of 256-point batches, as minibatch OT does per training step.
    for seed in 0..20 {
        let x0 = standard(256, 2, seed);
        let x1 = shifted(&standard(256, 2, 1000 + seed), &[3.0, 0.0]);
        let sigma = optimal_assignment(&x0, &x1).unwrap();
        assert_permutation(&sigma, 256);
        // Optimality certificate: no pair swap lowers the cost (2-opt), a necessary condition.
        let c = |i: usize, j: usize| -> f64 { x0.row(i).iter().zip(x1.row(j)).map(|(p, q)| (p - q) * (p - q)).sum() };
        for i in 0..256 {
            for k in i + 1..256 {
                let now = c(i, sigma[i]) + c(k, sigma[k]);
                let swapped = c(i, sigma[k]) + c(k, sigma[i]);
                assert!(swapped >= now - 1e-9);
            }
        }
    }
}

// --------------------------------------------------------------------------- MMD and energy

#[test]
fn mmd_separates_shifted_distributions_and_is_symmetric() {
    let a = standard(400, 2, 31);
    let same = standard(400, 2, 32);
    let moved = shifted(&standard(400, 2, 33), &[1.0, 0.0]);
    let h = median_bandwidth(&a, &same).unwrap();
    // Median distance between two independent N(0, I₂) points: sqrt(2·2 ln 2) ≈ 1.665.
    assert!((h - (4.0 * 2f64.ln()).sqrt()).abs() < 0.1, "median bandwidth {h}");
    let m_same = mmd_rbf(&a, &same, h).unwrap();
    let m_moved = mmd_rbf(&a, &moved, h).unwrap();
    // Population MMD² for N(0,I) vs N(s,I), RBF width h in d = 2:
    // 2 (h²/(h²+2))^{d/2} (1 − exp(−‖s‖²/(2(h²+2)))).
    let r = h * h / (h * h + 2.0);
    let pop = 2.0 * r * (1.0 - (-1.0 / (2.0 * (h * h + 2.0))).exp());
    assert!((m_moved - pop).abs() < 0.3 * pop, "MMD² {m_moved} vs population {pop}");
    assert!(m_same.abs() < 0.1 * m_moved, "same {m_same}, shifted {m_moved}");
    assert!((mmd_rbf(&moved, &a, h).unwrap() - m_moved).abs() < 1e-12);
    // Multi-bandwidth MMD with one bandwidth is the plain one, and it adds up over bandwidths.
    let hs = [0.5 * h, h, 2.0 * h];
    let multi = mmd_rbf_multi(&a, &moved, &hs).unwrap();
    let sum: f64 = hs.iter().map(|&b| mmd_rbf(&a, &moved, b).unwrap()).sum();
    assert!((multi - sum).abs() < 1e-12);
}

#[test]
fn mmd_unbiased_estimator_on_two_points_each() {
    // n = m = 2 in 1-D: a = {0, 1}, b = {0, 3}, h = 1, k(d) = exp(−d²/2).
    let a = Points::new(2, 1, vec![0.0, 1.0]).unwrap();
    let b = Points::new(2, 1, vec![0.0, 3.0]).unwrap();
    let k = |d: f64| (-d * d / 2.0).exp();
    let expected = k(1.0) + k(3.0) - 2.0 * (k(0.0) + k(3.0) + k(1.0) + k(2.0)) / 4.0;
    assert!((mmd_rbf(&a, &b, 1.0).unwrap() - expected).abs() < 1e-14);
}

#[test]
fn energy_distance_of_point_masses_and_samples() {
    let p = [1.0, 2.0, -1.0];
    let q = [4.0, -2.0, -1.0]; // ‖p − q‖ = 5
    let a = Points::from_rows(&[p; 3]).unwrap();
    let b = Points::from_rows(&[q; 5]).unwrap();
    assert!((energy_distance(&a, &b).unwrap() - 10.0).abs() < 1e-12);
    let one_a = Points::from_rows(&[p]).unwrap();
    let one_b = Points::from_rows(&[q]).unwrap();
    assert!((energy_distance(&one_a, &one_b).unwrap() - 10.0).abs() < 1e-12);

    let x = standard(400, 2, 41);
    let same = standard(400, 2, 42);
    let moved = shifted(&standard(400, 2, 43), &[1.0, 0.0]);
    let e_same = energy_distance(&x, &same).unwrap();
    let e_moved = energy_distance(&x, &moved).unwrap();
    assert!(e_same >= 0.0 && e_same < 0.1 * e_moved, "same {e_same}, shifted {e_moved}");
    assert!((energy_distance(&moved, &x).unwrap() - e_moved).abs() < 1e-12);
    assert!(energy_distance(&x, &x).unwrap().abs() < 1e-12);
}

// --------------------------------------------------------------------------- trajectories

fn uniform_times(k: usize) -> Vec<f64> {
    (0..=k).map(|i| i as f64 / k as f64).collect()
}

#[test]
fn straight_constant_speed_paths_have_zero_straightness_and_kinetic_energy_norm_d_squared() {
    let x0 = standard(50, 3, 51);
    let d = standard(50, 3, 52);
    let mean_d2 = d.as_slice().iter().map(|v| v * v).sum::<f64>() / 50.0;
    // A non-uniform grid: finite differences are exact for linear paths on any grid.
    let times: Vec<f64> = uniform_times(20).iter().map(|t| t * t).collect();
    let traj: Vec<Points> = times.iter().map(|&t| x0.plus_scaled(t, &d)).collect();
    assert!(straightness(&traj, &times).unwrap() < 1e-12);
    let ke = kinetic_energy(&traj, &times).unwrap();
    assert!((ke - mean_d2).abs() < 1e-10 * mean_d2, "{ke} vs {mean_d2}");
    // Backward in time (a solver integrating from 1 to 0): same numbers.
    let rt: Vec<f64> = times.iter().rev().copied().collect();
    let rtraj: Vec<Points> = traj.iter().rev().cloned().collect();
    assert!(straightness(&rtraj, &rt).unwrap() < 1e-12);
    assert!((kinetic_energy(&rtraj, &rt).unwrap() - mean_d2).abs() < 1e-10 * mean_d2);
}

#[test]
fn straight_path_at_varying_speed_is_not_straight() {
    // x_t = t² d: ẋ = 2t d, S = ‖d‖² ∫₀¹ (1 − 2t)² dt = ‖d‖²/3, KE = 4/3 ‖d‖².
    let d = Points::new(1, 2, vec![3.0, 4.0]).unwrap();
    let times = uniform_times(2000);
    let traj: Vec<Points> = times.iter().map(|&t| Points::zeros(1, 2).plus_scaled(t * t, &d)).collect();
    let s = straightness(&traj, &times).unwrap();
    let ke = kinetic_energy(&traj, &times).unwrap();
    assert!((s - 25.0 / 3.0).abs() < 1e-5, "S = {s}");
    assert!((ke - 100.0 / 3.0).abs() < 1e-5, "KE = {ke}");
}

#[test]
fn quarter_circle_straightness_matches_closed_form() {
    // x_t = (cos(πt/2), sin(πt/2)): ‖ẋ‖² = π²/4, x₁ − x₀ = (−1, 1), S = π²/4 − 2.
    // With K chords the finite-difference value is 4K² sin²(π/(4K)) − 2.
    let k = 1000;
    let times = uniform_times(k);
    let traj: Vec<Points> = times
        .iter()
        .map(|&t| {
            let th = PI * t / 2.0;
            Points::from_rows(&[[th.cos(), th.sin()], [2.0 * th.cos(), 2.0 * th.sin()]]).unwrap()
        })
        .collect();
    // Two particles, radii 1 and 2: the mean of S and 4 S.
    let s_unit = PI * PI / 4.0 - 2.0;
    let discrete = 4.0 * (k * k) as f64 * (PI / (4.0 * k as f64)).sin().powi(2) - 2.0;
    let s = straightness(&traj, &times).unwrap();
    assert!((s - 2.5 * discrete).abs() < 1e-9, "S = {s}, discrete closed form {}", 2.5 * discrete);
    assert!((s - 2.5 * s_unit).abs() < 1e-5, "S = {s}, continuum {}", 2.5 * s_unit);
    let ke = kinetic_energy(&traj, &times).unwrap();
    assert!((ke - 2.5 * PI * PI / 4.0).abs() < 1e-5);
}

// --------------------------------------------------------------------------- bad input

#[test]
fn bad_inputs_give_typed_errors() {
    let a = standard(10, 2, 1);
    let b3 = standard(10, 3, 2);
    let empty = Points::zeros(0, 2);
    let mut nan = standard(10, 2, 3);
    nan.row_mut(4)[1] = f64::NAN;

    for r in [w2(&a, &b3), mmd_rbf(&a, &b3, 1.0), energy_distance(&a, &b3), median_bandwidth(&a, &b3)] {
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })), "{r:?}");
    }
    assert!(matches!(optimal_assignment(&a, &b3), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(optimal_assignment(&a, &a.head(9)), Err(Error::ShapeMismatch { .. })));
    for r in [w2(&a, &empty), w2(&empty, &a), energy_distance(&empty, &a), mmd_rbf(&a, &empty, 1.0)] {
        assert!(matches!(r, Err(Error::ZeroCount { .. })), "{r:?}");
    }
    for r in [w2(&a, &nan), w2(&nan, &a), mmd_rbf(&nan, &a, 1.0), energy_distance(&a, &nan)] {
        assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
    }
    let huge = Points::new(2, 1, vec![1e200, -1e200]).unwrap();
    assert!(matches!(w2(&huge, &huge), Err(Error::NonFinite { .. })));
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(mmd_rbf(&a, &a, h), Err(Error::InvalidParameter { .. })));
    }
    assert!(matches!(mmd_rbf_multi(&a, &a, &[]), Err(Error::InvalidParameter { .. })));
    assert!(matches!(mmd_rbf(&a.head(1), &a, 1.0), Err(Error::InvalidParameter { .. })));
    let constant = Points::zeros(5, 2);
    assert!(matches!(median_bandwidth(&constant, &constant), Err(Error::InvalidParameter { .. })));

    // Size limits, checked before any large allocation.
    let big = Points::zeros(W2_MAX_POINTS + 1, 2);
    let e = w2(&big, &big).unwrap_err();
    assert!(matches!(e, Error::SizeLimit { size, limit, .. } if size == W2_MAX_POINTS + 1 && limit == W2_MAX_POINTS));
    assert!(e.to_string().contains("head"), "hint should suggest subsampling: {e}");
    assert!(matches!(optimal_assignment(&big, &big), Err(Error::SizeLimit { .. })));
    // Unequal sizes whose lcm exceeds the limit (1000 and 999 → 999000).
    let r = w2(&Points::zeros(1000, 2), &Points::zeros(999, 2));
    assert!(matches!(r, Err(Error::SizeLimit { size: 999_000, .. })), "{r:?}");
    let bigger = Points::zeros(PAIRWISE_MAX_POINTS + 1, 2);
    assert!(matches!(energy_distance(&bigger, &a), Err(Error::SizeLimit { .. })));
    assert!(matches!(mmd_rbf(&a, &bigger, 1.0), Err(Error::SizeLimit { .. })));

    // solve_assignment
    assert!(matches!(solve_assignment(&[], 0), Err(Error::ZeroCount { .. })));
    assert!(matches!(solve_assignment(&[1.0, 2.0, 3.0], 2), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(solve_assignment(&[1.0, f64::INFINITY, 3.0, 4.0], 2), Err(Error::NonFinite { .. })));
}

#[test]
fn bad_trajectories_give_typed_errors() {
    let p = standard(4, 2, 1);
    let traj = vec![p.clone(), p.clone(), p.clone()];
    let cases: Vec<(Vec<Points>, Vec<f64>)> = vec![
        (traj.clone(), vec![0.0, 0.5]),                               // length mismatch
        (vec![p.clone()], vec![0.0]),                                 // one state
        (traj.clone(), vec![0.0, 0.5, 0.5]),                          // not strict
        (traj.clone(), vec![0.0, 0.7, 0.5]),                          // not monotone
        (traj.clone(), vec![0.0, f64::NAN, 1.0]),                     // NaN time
        (vec![p.clone(), p.head(3), p.clone()], vec![0.0, 0.5, 1.0]), // shape
        (vec![Points::zeros(0, 2); 3], vec![0.0, 0.5, 1.0]),          // no particles
    ];
    for (t, times) in &cases {
        for r in [straightness(t, times), kinetic_energy(t, times)] {
            assert!(
                matches!(r, Err(Error::ShapeMismatch { .. } | Error::TimeGrid { .. } | Error::ZeroCount { .. })),
                "{r:?}"
            );
        }
    }
    assert!(matches!(straightness(&traj, &[0.0, 0.5]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(kinetic_energy(&traj, &[0.0, 0.7, 0.5]), Err(Error::TimeGrid { .. })));
    let mut bad = p.clone();
    bad.row_mut(2)[0] = f64::INFINITY;
    let r = straightness(&[p.clone(), bad, p.clone()], &[0.0, 0.5, 1.0]);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
}
