//! Topic 7.2: minibatch OT couplings, Sinkhorn, straightness metrics and the Gaussian
//! cases where Flow Matching's flow map is (or is not) the optimal transport map.

use flowmatch::coupling::{Coupling, ExactOt, ExactOtResampled, Independent, Sinkhorn};
use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::marginal::GaussianBridge;
use flowmatch::metrics::{crossings, kinetic_energy, normalized_path_energy, w2_squared};
use flowmatch::numeric::{log_log_slope, sq_dist};
use flowmatch::ot::{gaussian_ot_matrix, gaussian_w2_squared, sinkhorn, sqrtm_psd, SinkhornSettings};
use flowmatch::solver::{residual_stack, solve, Method, TimeGrid};
use flowmatch::{pointwise, Error, Points};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn pair_cost(x0: &Points, x1: &Points) -> f64 {
    (0..x0.len()).map(|i| sq_dist(x0.row(i), x1.row(i))).sum::<f64>() / x0.len() as f64
}

fn is_permutation(p: &[usize]) -> bool {
    let mut seen = vec![false; p.len()];
    p.iter().all(|&j| j < p.len() && !std::mem::replace(&mut seen[j], true))
}

/// Every permutation of 0..n (Heap's algorithm).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn heap(k: usize, a: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(a.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, a, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            a.swap(j, k - 1);
        }
    }
    let mut out = Vec::new();
    heap(n, &mut (0..n).collect(), &mut out);
    out
}

#[test]
fn exact_coupling_matches_brute_force_for_small_batches() {
    for n in 1..=8 {
        for seed in 0..4u64 {
            let x0 = Points::randn(n, 2, 100 + seed);
            let x1 = EightGaussians::torchcfm().sample(n, 200 + seed).unwrap();
            let sigma = ExactOt::permutation(&x0, &x1).unwrap();
            assert!(is_permutation(&sigma), "n = {n}: {sigma:?} is not a permutation");
            let ours: f64 = (0..n).map(|i| sq_dist(x0.row(i), x1.row(sigma[i]))).sum();
            let best = permutations(n)
                .iter()
                .map(|p| (0..n).map(|i| sq_dist(x0.row(i), x1.row(p[i]))).sum::<f64>())
                .fold(f64::INFINITY, f64::min);
            assert!((ours - best).abs() <= 1e-9 * best.max(1.0), "n = {n}, seed {seed}: {ours} vs brute force {best}");
        }
    }
}

#[test]
fn exact_coupling_pairs_by_the_permutation_and_costs_w2() {
    let mut rng = StdRng::seed_from_u64(3);
    for &n in &[64usize, 512, 1000] {
        let x0 = StandardGaussian::new(2).unwrap().sample(n, n as u64).unwrap();
        let (x1, labels) = EightGaussians::torchcfm().sample_labeled(n, n as u64 + 1).unwrap();
        let sigma = ExactOt::permutation(&x0, &x1).unwrap();
        assert!(is_permutation(&sigma));
        let mut paired = x1.clone();
        let mut paired_labels = labels.clone();
        ExactOt.pair(&mut x0.clone(), &mut paired, Some(&mut paired_labels), &mut rng).unwrap();
        // Row i of the paired batch is x₁[σ(i)] (not x₀, not x₁[σ⁻¹(i)]), with its label.
        for i in 0..n {
            assert_eq!(paired.row(i), x1.row(sigma[i]), "row {i}");
            assert_eq!(paired_labels[i], labels[sigma[i]], "label of row {i}");
        }
        let w2sq = w2_squared(&x0, &x1).unwrap();
        let cost = pair_cost(&x0, &paired);
        assert!((cost - w2sq).abs() <= 1e-9 * w2sq, "n = {n}: pairing cost {cost} vs W2² {w2sq}");
        assert!(cost < pair_cost(&x0, &x1), "the OT pairing must beat the independent one");
    }
}

#[test]
fn the_pairing_follows_the_permutation_not_its_inverse() {
    // Three points on a line whose optimal permutation is a 3-cycle (σ ≠ σ⁻¹):
    // x₀ = 0, 1, 2 and x₁ = 1.1, 2.1, 0.1 → σ = (2, 0, 1).
    let x0 = Points::from_rows(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]).unwrap();
    let x1 = Points::from_rows(&[[1.1, 0.0], [2.1, 0.0], [0.1, 0.0]]).unwrap();
    let sigma = ExactOt::permutation(&x0, &x1).unwrap();
    assert_eq!(sigma, vec![2, 0, 1]);
    let mut paired = x1.clone();
    ExactOt.pair(&mut x0.clone(), &mut paired, None, &mut StdRng::seed_from_u64(0)).unwrap();
    assert_eq!(paired.as_slice(), &[0.1, 0.0, 1.1, 0.0, 2.1, 0.0]);
}

#[test]
fn couplings_reject_batches_of_different_sizes() {
    let x0 = Points::randn(5, 2, 1);
    let mut x1 = Points::randn(4, 2, 2);
    let mut rng = StdRng::seed_from_u64(0);
    for c in [&ExactOt as &dyn Coupling, &ExactOtResampled, &Sinkhorn::new(0.1).unwrap(), &Independent] {
        assert!(
            matches!(c.pair(&mut x0.clone(), &mut x1, None, &mut rng), Err(Error::ShapeMismatch { .. })),
            "{}",
            c.name()
        );
    }
    assert!(Sinkhorn::new(0.0).is_err() && Sinkhorn::new(f64::NAN).is_err());
}

#[test]
fn sinkhorn_plan_has_the_right_marginals_and_tends_to_the_exact_cost() {
    let x0 = Points::randn(60, 2, 7);
    let x1 = EightGaussians::torchcfm().sample(60, 8).unwrap();
    let exact = w2_squared(&x0, &x1).unwrap();
    let mut gaps = Vec::new();
    for eps in [10.0, 1.0, 0.3, 0.1, 0.03] {
        let s = SinkhornSettings { epsilon: eps, tolerance: 1e-8, max_iterations: 200_000 };
        let plan = sinkhorn(&x0, &x1, &s).unwrap();
        for r in plan.row_sums() {
            assert!((r - 1.0 / 60.0).abs() < 1e-8, "ε = {eps}: row sum {r}");
        }
        for c in plan.column_sums() {
            assert!((c - 1.0 / 60.0).abs() < 1e-8, "ε = {eps}: column sum {c}");
        }
        assert!(plan.marginal_error <= 1.01e-8);
        assert!(plan.cost >= exact - 1e-9, "ε = {eps}: a plan cannot beat the optimum ({} < {exact})", plan.cost);
        gaps.push(plan.cost - exact);
    }
    // The gap shrinks with ε and is tiny at the end.
    assert!(gaps.windows(2).all(|w| w[1] <= w[0] + 1e-12), "gaps {gaps:?}");
    assert!(gaps[4] < 1e-2 * exact, "gap at ε = 0.03: {} (W2² = {exact})", gaps[4]);
    assert!(gaps[0] > 0.1 * exact, "at ε = 10 the plan should be far from optimal: {gaps:?}");
}

#[test]
fn sinkhorn_stays_finite_at_tiny_epsilon_and_reports_non_convergence() {
    // Costs up to ~100 and ε = 0.02 (SB-CFM's 2σ² at σ = 0.1): e^{−C/ε} underflows to 0 without the log domain.
    let x0 = Points::randn(40, 2, 1);
    let x1 = EightGaussians::torchcfm().sample(40, 2).unwrap();
    let plan =
        sinkhorn(&x0, &x1, &SinkhornSettings { epsilon: 0.02, tolerance: 1e-5, max_iterations: 100_000 }).unwrap();
    assert!(plan.plan().iter().all(|p| p.is_finite()));
    let exact = w2_squared(&x0, &x1).unwrap();
    assert!((plan.cost - exact).abs() < 1e-2 * exact);
    let err = sinkhorn(&x0, &x1, &SinkhornSettings { epsilon: 0.02, tolerance: 1e-12, max_iterations: 3 }).unwrap_err();
    assert!(matches!(err, Error::NotConverged { .. }), "{err}");
    assert!(err.to_string().contains("Raise ε"), "{err}");
}

#[test]
fn sinkhorn_pairing_keeps_every_noise_point_and_draws_partners_from_the_plan() {
    let x0 = Points::randn(200, 2, 11);
    let x1 = EightGaussians::torchcfm().sample(200, 12).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    // Small ε: nearly the exact pairing, so the cost is near W2².
    let mut paired = x1.clone();
    Sinkhorn::new(0.05).unwrap().pair(&mut x0.clone(), &mut paired, None, &mut rng).unwrap();
    let exact = w2_squared(&x0, &x1).unwrap();
    assert!(pair_cost(&x0, &paired) < 1.05 * exact);
    // Large ε: close to independent pairing, far costlier.
    let mut blurred = x1.clone();
    Sinkhorn::new(1e4).unwrap().pair(&mut x0.clone(), &mut blurred, None, &mut rng).unwrap();
    assert!(pair_cost(&x0, &blurred) > 1.3 * exact);
}

#[test]
fn crossings_of_pairings() {
    // An X crosses once; swapping partners uncrosses it.
    let a = Points::from_rows(&[[0.0, 0.0], [0.0, 1.0]]).unwrap();
    let b = Points::from_rows(&[[1.0, 1.0], [1.0, 0.0]]).unwrap();
    assert_eq!(crossings(&a, &b).unwrap(), 1);
    assert_eq!(crossings(&a, &b.select(&[1, 0])).unwrap(), 0);
    // An optimal pairing crosses far less than an independent one ...
    let x0 = Points::randn(300, 2, 1);
    let x1 = EightGaussians::torchcfm().sample(300, 2).unwrap();
    let sigma = ExactOt::permutation(&x0, &x1).unwrap();
    let ot = x1.select(&sigma);
    let (c_ot, c_ind) = (crossings(&x0, &ot).unwrap(), crossings(&x0, &x1).unwrap());
    assert!(10 * c_ot < c_ind, "OT {c_ot} vs independent {c_ind}");
    // ... and its pairs are monotone: ⟨x₀ᵢ − x₀ⱼ, x₁σ(i) − x₁σ(j)⟩ ≥ 0, so particles never meet at one time.
    for i in 0..300 {
        for j in 0..i {
            let dot: f64 = (0..2).map(|k| (x0.row(i)[k] - x0.row(j)[k]) * (ot.row(i)[k] - ot.row(j)[k])).sum();
            assert!(dot >= -1e-9, "pairs {i} and {j}: {dot}");
        }
    }
    assert!(crossings(&Points::randn(3, 3, 0), &Points::randn(3, 3, 1)).is_err());
}

#[test]
fn npe_is_zero_for_optimal_straight_paths_and_positive_otherwise() {
    let x0 = Points::randn(300, 2, 21);
    let y = EightGaussians::torchcfm().sample(300, 22).unwrap();
    let times: Vec<f64> = (0..=10).map(|k| k as f64 / 10.0).collect();
    let straight = |end: &Points| -> Vec<Points> {
        times.iter().map(|&t| Points::from_fn(300, 2, |i, j| (1.0 - t) * x0.row(i)[j] + t * end.row(i)[j])).collect()
    };
    // Straight lines to the optimal partners: PE = W2² exactly.
    let ot_paths = straight(&y.select(&ExactOt::permutation(&x0, &y).unwrap()));
    assert!(normalized_path_energy(&ot_paths, &times, &y).unwrap() < 1e-12);
    // Straight lines to independent partners: PE = mean ‖x₁ − x₀‖² > W2².
    let indep = straight(&y);
    let npe = normalized_path_energy(&indep, &times, &y).unwrap();
    let expected = (pair_cost(&x0, &y) - w2_squared(&x0, &y).unwrap()) / w2_squared(&x0, &y).unwrap();
    assert!((npe - expected).abs() < 1e-9, "{npe} vs {expected}");
    // The benchmark's sum over Euler steps, Σ_k ‖v_k‖²/K, is the kinetic energy of the Euler path.
    let field = pointwise(|x: &[f64], t: f64| vec![x[1] * t, -x[0] + 1.0]);
    let grid = TimeGrid::uniform(0.0, 1.0, 20).unwrap();
    let sol = flowmatch::solver::solve_trajectory(&field, &x0, &grid, Method::Euler).unwrap();
    let states = sol.trajectory.unwrap();
    let mut pe = 0.0;
    for (k, s) in states[..20].iter().enumerate() {
        for i in 0..300 {
            let v = [s.row(i)[1] * (k as f64 / 20.0), -s.row(i)[0] + 1.0];
            pe += (v[0] * v[0] + v[1] * v[1]) / 20.0 / 300.0;
        }
    }
    assert!((kinetic_energy(&states, &sol.times).unwrap() - pe).abs() < 1e-9 * pe);
}

fn mat(rows: &[[f64; 2]; 2]) -> DMatrix<f64> {
    DMatrix::from_row_slice(2, 2, &[rows[0][0], rows[0][1], rows[1][0], rows[1][1]])
}

#[test]
fn from_standard_normal_the_independent_flow_map_is_the_ot_map() {
    let cov1 = mat(&[[2.0, 0.8], [0.8, 0.7]]);
    let mean1 = [1.0, -2.0];
    let bridge = GaussianBridge::new(&[0.0, 0.0], &[1.0, 0.0, 0.0, 1.0], &mean1, cov1.as_slice()).unwrap();
    let a = bridge.flow_matrix(1000).unwrap();
    let root = sqrtm_psd(&cov1).unwrap();
    assert!((&a - &root).amax() < 1e-9, "flow matrix {a} vs Σ^½ {root}");
    assert!((gaussian_ot_matrix(&DMatrix::identity(2, 2), &cov1).unwrap() - &root).amax() < 1e-12);
    // Why: the field u_t(x) = μ̇_t + M_t (x − μ_t) has matrices M_t that commute with Σ (both are
    // functions of Σ alone), so the flow map, the time-ordered product of exp(M_t dt), is a function
    // of Σ too, and the one that carries I to Σ symmetrically is Σ^½.
    for t in [0.1, 0.5, 0.9] {
        let m = bridge.matrix(t).unwrap();
        assert!((&m * &cov1 - &cov1 * &m).amax() < 1e-12 * m.amax().max(1.0), "M_{t} does not commute with Σ: {m}");
        assert!((&m - m.transpose()).amax() < 1e-12, "M_{t} should be symmetric: {m}");
    }
    // The field itself: integrating it moves x₀ to μ + Σ^½ x₀ ...
    let x0 = Points::randn(50, 2, 3);
    let x1 = solve(&bridge, &x0, &TimeGrid::uniform(0.0, 1.0, 400).unwrap(), Method::Rk4).unwrap().final_state;
    for i in 0..50 {
        let want = [
            mean1[0] + root[(0, 0)] * x0.row(i)[0] + root[(0, 1)] * x0.row(i)[1],
            mean1[1] + root[(1, 0)] * x0.row(i)[0] + root[(1, 1)] * x0.row(i)[1],
        ];
        assert!(sq_dist(x1.row(i), &want).sqrt() < 1e-8, "point {i}");
    }
    // ... but not along straight lines at constant speed: its path energy exceeds W2².
    let sol =
        flowmatch::solver::solve_trajectory(&bridge, &x0, &TimeGrid::uniform(0.0, 1.0, 400).unwrap(), Method::Rk4)
            .unwrap();
    let s = flowmatch::metrics::straightness(&sol.trajectory.unwrap(), &sol.times).unwrap();
    assert!(s > 1e-3, "straightness defect {s}");
}

#[test]
fn when_covariances_do_not_commute_flow_matching_misses_the_ot_map() {
    let cov0 = mat(&[[1.0, 0.0], [0.0, 0.25]]);
    let cov1 = mat(&[[4.0, 1.5], [1.5, 1.0]]);
    let bridge = GaussianBridge::new(&[0.0, 0.0], cov0.as_slice(), &[0.0, 0.0], cov1.as_slice()).unwrap();
    let flow = bridge.flow_matrix(2000).unwrap();
    let ot = gaussian_ot_matrix(&cov0, &cov1).unwrap();
    // The values of the issue, to two decimals.
    let close = |m: &DMatrix<f64>, want: [[f64; 2]; 2]| (m - mat(&want)).amax() < 0.006;
    assert!(close(&flow, [[1.82, 1.65], [0.41, 1.82]]), "flow map {flow}");
    assert!(close(&ot, [[1.97, 0.64], [0.64, 1.54]]), "OT map {ot}");
    // Here the field's matrices neither commute with Σ₁ nor are symmetric, which is what lets the
    // flow map come out non-symmetric (an OT map between centred Gaussians is symmetric).
    let m = bridge.matrix(0.5).unwrap();
    assert!((&m * &cov1 - &cov1 * &m).amax() > 0.1 && (&m - m.transpose()).amax() > 0.1, "M_½ = {m}");
    assert!((&flow - flow.transpose()).amax() > 1.0 && (&ot - ot.transpose()).amax() < 1e-9);
    // Both push Σ₀ to Σ₁ ...
    assert!((&flow * &cov0 * flow.transpose() - &cov1).amax() < 1e-9);
    assert!((&ot * &cov0 * ot.transpose() - &cov1).amax() < 1e-9);
    // ... but only the OT map has the least cost E‖A x − x‖² = tr((A − I) Σ₀ (A − I)ᵀ) = W2².
    let cost = |a: &DMatrix<f64>| {
        let d = a - DMatrix::identity(2, 2);
        (&d * &cov0 * d.transpose()).trace()
    };
    let w2 = gaussian_w2_squared(&[0.0, 0.0], &cov0, &[0.0, 0.0], &cov1).unwrap();
    assert!((cost(&ot) - w2).abs() < 1e-9);
    assert!(cost(&flow) > w2 + 0.1, "flow cost {} vs W2² {w2}", cost(&flow));
}

#[test]
fn a_residual_network_is_euler_with_error_slope_minus_one() {
    // dx/dt = A x + b(t) with a rotation-and-decay A: the flow is known in closed form via RK4 at fine steps.
    let field = pointwise(|x: &[f64], t: f64| vec![-0.5 * x[0] - 2.0 * x[1] + t, 2.0 * x[0] - 0.5 * x[1]]);
    let x0 = Points::randn(20, 2, 9);
    let exact = solve(&field, &x0, &TimeGrid::uniform(0.0, 1.0, 2000).unwrap(), Method::Rk4).unwrap().final_state;
    let series: Vec<(f64, f64)> = [8usize, 16, 32, 64, 128, 256]
        .iter()
        .map(|&k| {
            let out = residual_stack(&field, &x0, k).unwrap();
            let err = (0..20).map(|i| sq_dist(out.row(i), exact.row(i)).sqrt()).sum::<f64>() / 20.0;
            (k as f64, err)
        })
        .collect();
    let slope = log_log_slope(&series);
    assert!((slope + 1.0).abs() < 0.1, "slope {slope}, series {series:?}");
}

#[test]
fn resampled_exact_coupling_draws_optimal_pairs_with_replacement() {
    let n = 512;
    let x0 = StandardGaussian::new(2).unwrap().sample(n, 21).unwrap();
    let (x1, labels) = EightGaussians::torchcfm().sample_labeled(n, 22).unwrap();
    let sigma = ExactOt::permutation(&x0, &x1).unwrap();
    let draw = |seed: u64| {
        let (mut a, mut b, mut l) = (x0.clone(), x1.clone(), labels.clone());
        ExactOtResampled.pair(&mut a, &mut b, Some(&mut l), &mut StdRng::seed_from_u64(seed)).unwrap();
        (a, b, l)
    };
    let (a, b, l) = draw(4);
    let mut used = vec![0usize; n];
    for (i, &label) in l.iter().enumerate() {
        // Row i is an optimal pair (x₀[k], x₁[σ(k)]) with x₁'s label, for some k.
        let k = (0..n).find(|&k| x0.row(k) == a.row(i)).expect("x₀ rows come from the batch");
        assert_eq!(b.row(i), x1.row(sigma[k]), "row {i} pairs x₀[{k}] with x₁[σ({k})]");
        assert_eq!(label, labels[sigma[k]], "label of row {i}");
        used[k] += 1;
    }
    // With replacement: about 1 − (1 − 1/n)ⁿ ≈ 63 % of the pairs appear, some more than once.
    let distinct = used.iter().filter(|&&c| c > 0).count() as f64 / n as f64;
    assert!((distinct - (1.0 - (-1.0f64).exp())).abs() < 0.05, "distinct share {distinct}");
    assert!(used.iter().any(|&c| c > 1));
    // Deterministic under the seed; another seed draws other pairs.
    assert_eq!(draw(4).0, a);
    assert_ne!(draw(5).0, a);
    let pairs = ExactOtResampled::draw_pairs(&x0, &x1, 7).unwrap();
    assert!(pairs.iter().all(|&(k, j)| j == sigma[k]), "every drawn pair is an optimal one");
    assert_eq!(pairs, ExactOtResampled::draw_pairs(&x0, &x1, 7).unwrap());
    // Each drawn pair is optimal, so the batch's mean cost estimates W2² (the exact coupling's cost).
    let (cost, w2sq) = (pair_cost(&a, &b), w2_squared(&x0, &x1).unwrap());
    assert!((cost - w2sq).abs() < 0.15 * w2sq, "resampled cost {cost} vs W2² {w2sq}");
}
