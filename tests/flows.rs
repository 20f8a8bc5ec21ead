//! The `flows` room against closed forms: every layer's log-determinant against a
//! central-difference Jacobian (nalgebra LU), inverses round-tripping, an affine flow against
//! the Gaussian's log-density, a folding planar layer, and densities that integrate to one.

use flowmatch::data::{Dataset, Gaussian};
use flowmatch::flows::jacobian::numerical_log_det;
use flowmatch::flows::{
    ActNorm, Affine, AffineCoupling, Bijector, Conditioner, Flow, Inverted, Nonlinearity, Permutation, Planar, Radial,
    ScaleMap,
};
use flowmatch::{Error, Points};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn randn(rng: &mut StdRng, d: usize, scale: f64) -> Vec<f64> {
    (0..d).map(|_| scale * rng.sample::<f64, _>(StandardNormal)).collect()
}

/// Random layers of every kind in dimension `d`, with random parameters from `seed`.
fn layers(d: usize, seed: u64) -> Vec<Box<dyn Bijector>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out: Vec<Box<dyn Bijector>> = vec![
        Box::new(Planar::new(randn(&mut rng, d, 1.5), randn(&mut rng, d, 1.0), rng.gen_range(-1.0..1.0)).unwrap()),
        // wᵀu very negative: the reparametrisation must still give an invertible layer.
        Box::new({
            let w = randn(&mut rng, d, 1.0);
            Planar::new(w.iter().map(|v| -3.0 * v).collect(), w, 0.3).unwrap()
        }),
        Box::new(Radial::new(randn(&mut rng, d, 1.0), rng.gen_range(0.2..2.0), rng.gen_range(-0.15..3.0)).unwrap()),
        Box::new(
            Radial::from_unconstrained(randn(&mut rng, d, 1.0), rng.gen_range(-2.0..2.0), rng.gen_range(-3.0..3.0))
                .unwrap(),
        ),
        Box::new(ActNorm::new(randn(&mut rng, d, 0.5), randn(&mut rng, d, 1.0)).unwrap()),
        Box::new(Affine::new(&randn(&mut rng, d * d, 1.0), randn(&mut rng, d, 1.0)).unwrap()),
        Box::new(Permutation::swap(d).unwrap()),
        Box::new(Inverted(Box::new(Planar::new(randn(&mut rng, d, 1.0), randn(&mut rng, d, 1.0), 0.2).unwrap()))),
        Box::new(Inverted(Box::new(Radial::new(randn(&mut rng, d, 1.0), 0.7, 1.3).unwrap()))),
    ];
    if d >= 2 {
        for (k, (act, scale)) in [
            (Nonlinearity::Tanh, ScaleMap::default()),
            (Nonlinearity::Silu, ScaleMap::Identity),
            (Nonlinearity::Relu, ScaleMap::SoftClamp { bound: 1.5 }),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(Box::new(AffineCoupling::halves(d, &[16, 16], act, scale, 1.0, seed + k as u64).unwrap()));
        }
        // A mask that keeps the odd coordinates.
        let mask: Vec<bool> = (0..d).map(|i| i % 2 == 1).collect();
        let kept = mask.iter().filter(|m| **m).count();
        let net = Conditioner::new(&[kept, 8, 2 * (d - kept)], Nonlinearity::Tanh, seed).unwrap();
        out.push(Box::new(AffineCoupling::with_mask(&mask, net, ScaleMap::Identity).unwrap()));
    }
    out
}

#[test]
fn every_log_det_matches_a_central_difference_jacobian() {
    let mut checked = 0;
    for d in [1usize, 2, 3, 5] {
        for seed in 0..4u64 {
            let mut rng = StdRng::seed_from_u64(100 + seed);
            for layer in layers(d, seed) {
                for _ in 0..3 {
                    let z = randn(&mut rng, d, 1.3);
                    let mut x = vec![0.0; d];
                    let closed = layer.forward_point(&z, &mut x);
                    let numeric = numerical_log_det(layer.as_ref(), &z);
                    assert!(
                        (closed - numeric).abs() < 1e-6,
                        "{} (d = {d}, seed {seed}) at z = {z:?}: closed form {closed}, central differences {numeric}",
                        layer.name()
                    );
                    // The inverse's log-determinant is minus the forward one at the matching point.
                    let mut back = vec![0.0; d];
                    let inv = layer.inverse_point(&x, &mut back).unwrap();
                    assert!((inv + closed).abs() < 1e-8, "{}: inverse log-det {inv} vs −{closed}", layer.name());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 400, "{checked}");
}

#[test]
fn inverses_undo_the_forward_maps() {
    for d in [1usize, 2, 4, 7] {
        for seed in 0..3u64 {
            let z = Points::randn(200, d, seed);
            for layer in layers(d, seed) {
                let (x, _) = layer.forward(&z).unwrap();
                let (back, _) = layer.inverse(&x).unwrap();
                let err = back.as_slice().iter().zip(z.as_slice()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                // Closed-form inverses to round-off; the planar root finder to its tolerance (1e-13 relative).
                let tol = if layer.name().contains("planar") { 1e-9 } else { 1e-10 };
                assert!(err < tol, "{} (d = {d}): max |f⁻¹(f(z)) − z| = {err:e}", layer.name());
            }
        }
    }
}

#[test]
fn a_flow_of_one_affine_layer_is_the_gaussian_it_should_be() {
    // x = A z + c with z ~ N(0, I) is N(c, A Aᵀ): the flow's log-density must equal the closed form.
    let a = [1.5, 0.4, -0.7, 0.3, 2.0, 0.1, 0.2, -0.5, 0.8];
    let c = vec![1.0, -2.0, 0.5];
    let flow = Flow::new(3).unwrap().then(Affine::new(&a, c.clone()).unwrap()).unwrap();
    let mut cov = vec![0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            cov[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * a[j * 3 + k]).sum();
        }
    }
    let gauss = Gaussian::new(c, cov).unwrap();
    let x = gauss.sample(500, 3).unwrap();
    let lp = flow.log_prob(&x).unwrap();
    let want = gauss.log_density(&x).unwrap().unwrap();
    for (a, b) in lp.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // The same with ActNorm: a diagonal Gaussian.
    let flow = Flow::new(2).unwrap().then(ActNorm::new(vec![0.3, -0.8], vec![2.0, -1.0]).unwrap()).unwrap();
    let diag = Gaussian::new(vec![2.0, -1.0], vec![(0.6f64).exp(), 0.0, 0.0, (-1.6f64).exp()]).unwrap();
    let x = diag.sample(300, 4).unwrap();
    for (a, b) in flow.log_prob(&x).unwrap().iter().zip(diag.log_density(&x).unwrap().unwrap()) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn a_planar_layer_with_w_dot_u_below_minus_one_folds_the_plane() {
    // wᵀu = −3 < −1 with the reparametrisation switched off.
    let folding = Planar::new(vec![-3.0, 0.0], vec![1.0, 0.0], 0.0).unwrap().unconstrained();
    assert_eq!(folding.w_dot_u_hat(), -3.0);
    // Along w the map is α ↦ α − 3 tanh(α): x = (0, 0.7) has three preimages.
    let x = [0.0, 0.7];
    let pre = folding.preimages(&x);
    assert_eq!(pre.len(), 3, "{pre:?}");
    for z in &pre {
        let mut fx = [0.0; 2];
        folding.forward_point(z, &mut fx);
        assert!((fx[0] - x[0]).abs() < 1e-12 && (fx[1] - x[1]).abs() < 1e-12, "f({z:?}) = {fx:?}");
    }
    // The determinant 1 − 3(1 − tanh²α) changes sign between α = 0 (−2) and α = 2 (> 0): it vanishes in between.
    let det = |a: f64| 1.0 + (1.0 - a.tanh().powi(2)) * folding.w_dot_u_hat();
    assert!(det(0.0) < 0.0 && det(2.0) > 0.0);
    // The same parameters, reparametrised, give one preimage everywhere.
    let safe = Planar::new(vec![-3.0, 0.0], vec![1.0, 0.0], 0.0).unwrap();
    assert!(safe.w_dot_u_hat() > -1.0);
    for y in [-2.0, -0.3, 0.0, 0.7, 2.5] {
        assert_eq!(safe.preimages(&[y, 0.1]).len(), 1);
    }
}

/// ∫ p over [−L, L]² by the midpoint rule on an n × n grid.
fn integral_2d(flow: &Flow, l: f64, n: usize) -> f64 {
    let h = 2.0 * l / n as f64;
    let grid = Points::from_fn(n * n, 2, |i, j| -l + h * (if j == 0 { i % n } else { i / n } as f64 + 0.5));
    flow.log_prob(&grid).unwrap().iter().map(|lp| lp.exp()).sum::<f64>() * h * h
}

#[test]
fn a_random_flow_density_integrates_to_one() {
    // Box [−9, 9]², 360 × 360 midpoint cells (h = 0.05): the base mass outside a 9σ box is
    // ~1e-18, and these layers move points by a few units at most.
    let flow = Flow::new(2)
        .unwrap()
        .then(AffineCoupling::halves(2, &[16, 16], Nonlinearity::Tanh, ScaleMap::default(), 0.8, 1).unwrap())
        .unwrap()
        .then(Permutation::swap(2).unwrap())
        .unwrap()
        .then(Planar::new(vec![1.2, -0.4], vec![0.8, 1.1], 0.3).unwrap())
        .unwrap()
        .then(Radial::new(vec![0.5, -0.5], 0.5, 1.5).unwrap())
        .unwrap()
        .then(AffineCoupling::halves(2, &[16, 16], Nonlinearity::Relu, ScaleMap::default(), 0.8, 2).unwrap())
        .unwrap();
    let mass = integral_2d(&flow, 9.0, 360);
    assert!((mass - 1.0).abs() < 1e-3, "∫p = {mass}");
    // A flow that drops a layer's log-determinant would not: the radial layer alone moves the mass by far more.
    let (x, _) = flow.forward(&Points::randn(2000, 2, 5)).unwrap();
    assert!(x.as_slice().iter().all(|v| v.abs() < 9.0 * 0.8), "the samples stay well inside the box");
}

#[test]
fn flows_sample_reproducibly_and_stack_their_states() {
    let flow = Flow::new(2)
        .unwrap()
        .then(Planar::new(vec![1.0, 0.5], vec![0.3, -0.9], 0.1).unwrap())
        .unwrap()
        .then(Radial::new(vec![0.0, 1.0], 1.0, 0.5).unwrap())
        .unwrap();
    let a = flow.sample(100, 7).unwrap();
    assert_eq!(a, flow.sample(100, 7).unwrap());
    assert_ne!(a, flow.sample(100, 8).unwrap());
    let z = Points::randn(50, 2, 1);
    let states = flow.trace(&z).unwrap();
    assert_eq!(states.len(), 3);
    assert_eq!(states[2], flow.forward(&z).unwrap().0);
    assert_eq!(flow.prefix(1).forward(&z).unwrap().0, states[1]);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let p = Planar::new(vec![1.0, 0.0], vec![0.0, 1.0], 0.0).unwrap();
    assert!(matches!(p.forward(&Points::zeros(3, 3)), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(Planar::new(vec![1.0], vec![1.0, 2.0], 0.0), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(Radial::new(vec![0.0], 1.0, -2.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Radial::new(vec![0.0], 0.0, 1.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Affine::new(&[1.0, 2.0, 2.0, 4.0], vec![0.0, 0.0]), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Permutation::new(vec![0, 0]), Err(Error::InvalidParameter { .. })));
    let wrong_net = Conditioner::new(&[2, 4, 2], Nonlinearity::Relu, 0).unwrap();
    assert!(matches!(
        AffineCoupling::with_mask(&[true, false], wrong_net, ScaleMap::Identity),
        Err(Error::ShapeMismatch { .. })
    ));
    let flow = Flow::new(2).unwrap();
    assert!(matches!(flow.then(Radial::new(vec![0.0; 3], 1.0, 1.0).unwrap()), Err(Error::ShapeMismatch { .. })));
    let nan = Points::new(1, 2, vec![f64::NAN, 0.0]).unwrap();
    assert!(matches!(Flow::new(2).unwrap().log_prob(&nan), Err(Error::NonFinite { .. })));
}

#[test]
fn the_general_jacobian_measures_the_same_log_det_as_the_coupling_layer() {
    let costs = flowmatch::flows::jacobian_costs(&[2, 8, 32], 16, 0, std::time::Duration::from_millis(5)).unwrap();
    assert_eq!(costs.len(), 3);
    for c in &costs {
        assert!(c.agree, "d = {}: the two log-determinants disagree", c.dim);
        assert!(c.general_s > 0.0 && c.coupling_s > 0.0);
    }
    // Forming a 32 × 32 Jacobian takes 64 forward passes: it cannot be cheaper than one.
    assert!(costs[2].general_s > 10.0 * costs[2].coupling_s, "{costs:?}");
    assert!(flowmatch::flows::jacobian_costs(&[1], 16, 0, std::time::Duration::ZERO).is_err());
}

#[test]
fn eight_separated_gaussians_leave_e_to_the_minus_nine_halves_outside_their_3_sigma_discs() {
    use flowmatch::data::EightGaussians;
    let data = EightGaussians::torchcfm();
    let sigma = data.variance().sqrt();
    let centres =
        Points::from_rows(&data.as_mixture().components().iter().map(|c| c.loc().to_vec()).collect::<Vec<_>>())
            .unwrap();
    let x = data.sample(200_000, 1).unwrap();
    let m = flowmatch::flows::mass_outside_discs(&x, &centres, 3.0 * sigma).unwrap();
    // P(‖z‖ > 3) for z ~ N(0, I₂) is e^{−9/2} = 1.11 %; 200 000 draws give a standard error of 0.02 %.
    assert!((m - (-4.5f64).exp()).abs() < 1e-3, "{m}");
    assert!(flowmatch::flows::mass_outside_discs(&x, &Points::zeros(1, 3), 1.0).is_err());
}
