//! The trainable flow (`nn::FlowNet`): its hand-written gradient against central differences of
//! the f64 export, its fast log-density against the f64 one, training by maximum likelihood
//! through the one trainer (determinism, NaN → error with the step, checkpoints), a trained
//! density that integrates to one, and clear errors.

use flowmatch::data::{Dataset, EightGaussians, GaussianMixture, Moons};
use flowmatch::flows::{Nonlinearity, ScaleMap};
use flowmatch::loss::{Batch, Likelihood};
use flowmatch::nn::{FlowLayer, FlowNet, FlowNetConfig, Net, OptimizerConfig, TrainableModel};
use flowmatch::train::{Progress, Trainer};
use flowmatch::{Error, Points};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

/// Every kind of layer, in dimension `d`, with random parameters (N(0, 0.3²)).
fn mixed(d: usize, act: Nonlinearity, scale: ScaleMap, seed: u64) -> FlowNet {
    use FlowLayer::*;
    let config = FlowNetConfig {
        dim: d,
        layers: vec![Coupling, Swap, Planar, Radial, Coupling, Swap, Radial, Planar, Coupling],
        hidden: 8,
        nonlinearity: act,
        scale,
        trainable_base: true,
        seed,
    };
    let model = FlowNet::new(config).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let theta = model.parameters().iter().map(|_| 0.3 * rng.sample::<f32, _>(StandardNormal)).collect();
    model.with_parameters(theta).unwrap()
}

/// −(1/n) Σ log p(x_i) in f64, through the exported f64 layers.
fn nll64(model: &FlowNet, x: &Points) -> f64 {
    let lp = model.to_flow().unwrap().log_prob(x).unwrap();
    -lp.iter().sum::<f64>() / lp.len() as f64
}

#[test]
fn the_gradient_matches_central_differences_of_the_f64_flow() {
    for (d, act, scale) in [
        (2, Nonlinearity::Tanh, ScaleMap::Identity),
        (3, Nonlinearity::Silu, ScaleMap::SoftClamp { bound: 1.5 }),
        (5, Nonlinearity::Tanh, ScaleMap::default()),
    ] {
        let model = mixed(d, act, scale, d as u64);
        let x = Points::randn(96, d, 11 + d as u64);
        let (loss, grad) = model.gradient(&x).unwrap();
        assert!((loss - nll64(&model, &x)).abs() < 1e-4, "d = {d}: loss {loss} vs {}", nll64(&model, &x));
        let top = grad.iter().fold(0.0f64, |m, g| m.max(g.abs() as f64));
        let theta = model.parameters().to_vec();
        for (i, &g) in grad.iter().enumerate() {
            let (mut plus, mut minus) = (theta.clone(), theta.clone());
            plus[i] += 1e-3;
            minus[i] -= 1e-3;
            let step = plus[i] as f64 - minus[i] as f64;
            let fd = (nll64(&model.with_parameters(plus).unwrap(), &x)
                - nll64(&model.with_parameters(minus).unwrap(), &x))
                / step;
            let err = (fd - g as f64).abs();
            assert!(
                err <= 2e-3 * fd.abs() + 1e-4 * top + 1e-6,
                "d = {d}, {act:?}, {scale:?}: parameter {i} of {}: hand-written {g}, central differences {fd}",
                grad.len()
            );
        }
    }
}

#[test]
fn the_fast_log_density_matches_the_f64_flow() {
    for act in [Nonlinearity::Relu, Nonlinearity::Tanh, Nonlinearity::Silu] {
        let model = mixed(2, act, ScaleMap::Identity, 7);
        let x = Points::randn(700, 2, 3); // more than one chunk of 512 rows
        let fast = model.log_prob(&x).unwrap();
        let exact = model.to_flow().unwrap().log_prob(&x).unwrap();
        for (a, b) in fast.iter().zip(&exact) {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{act:?}: {a} vs {b}");
        }
    }
}

fn mixture() -> GaussianMixture {
    GaussianMixture::isotropic(vec![0.5, 0.5], vec![vec![-1.5, 0.0], vec![1.5, 0.5]], vec![0.5, 0.7]).unwrap()
}

#[test]
fn training_lowers_the_nll_and_is_bit_identical_under_a_seed() {
    let train = |seed: u64| {
        let mut model = FlowNet::new(FlowNetConfig::real_nvp(2, 4, 16).seed(seed)).unwrap();
        let report = Trainer::for_objective(Likelihood::new(mixture()))
            .steps(300)
            .batch_size(256)
            .lr(5e-3)
            .seed(seed)
            .progress(Progress::Off)
            .train(&mut model)
            .unwrap();
        (model, report)
    };
    let (a, ra) = train(1);
    let (b, rb) = train(1);
    let (c, _) = train(2);
    assert_eq!(ra.losses, rb.losses);
    assert_eq!(a.parameters(), b.parameters());
    assert_ne!(a.parameters(), c.parameters());
    assert_eq!(a.steps_trained(), 300);
    // Held-out NLL: from the untrained N(0, I) fit to near the mixture's entropy.
    let test = mixture().sample(4000, 99).unwrap();
    let entropy = -mixture().log_density(&test).unwrap().unwrap().iter().sum::<f64>() / 4000.0;
    let untrained = FlowNet::new(FlowNetConfig::real_nvp(2, 4, 16)).unwrap().nll(&test).unwrap();
    let trained = a.nll(&test).unwrap();
    assert!(trained < untrained - 0.5, "NLL {untrained} → {trained}");
    assert!(trained - entropy < 0.1, "gap {} (NLL {trained}, entropy {entropy})", trained - entropy);
}

/// ∫ p over [−L, L]² by the midpoint rule on an n × n grid.
fn integral(model: &FlowNet, l: f64, n: usize) -> f64 {
    let h = 2.0 * l / n as f64;
    let grid = Points::from_fn(n * n, 2, |i, j| -l + h * (if j == 0 { i % n } else { i / n } as f64 + 0.5));
    model.to_flow().unwrap().log_prob(&grid).unwrap().iter().map(|lp| lp.exp()).sum::<f64>() * h * h
}

#[test]
fn a_trained_flow_density_integrates_to_one() {
    // Four coupling blocks (H = 16) and two planar and radial layers fitted to eight Gaussians
    // (radius 5, σ ≈ 0.56). Box [−10, 10]², 400 × 400 midpoint cells (h = 0.05): the data lie
    // within radius 5 + 5σ ≈ 7.8, and the flow's tails beyond the box hold < 1e-4 (checked on samples).
    use FlowLayer::*;
    let config = FlowNetConfig {
        layers: vec![Radial, Coupling, Swap, Coupling, Swap, Planar, Coupling, Swap, Coupling, Swap],
        ..FlowNetConfig::real_nvp(2, 0, 16).scale(ScaleMap::default())
    };
    let mut model = FlowNet::new(config).unwrap();
    Trainer::for_objective(Likelihood::new(EightGaussians::torchcfm()))
        .steps(400)
        .batch_size(256)
        .lr(5e-3)
        .progress(Progress::Off)
        .train(&mut model)
        .unwrap();
    let samples = model.sample(20_000, 5).unwrap();
    let outside = samples.rows().filter(|p| p[0].abs() > 10.0 || p[1].abs() > 10.0).count();
    assert!(outside <= 2, "{outside} of 20 000 samples fall outside the box");
    let mass = integral(&model, 10.0, 400);
    assert!((mass - 1.0).abs() < 1e-3, "∫p = {mass}");
}

#[test]
fn a_non_finite_loss_stops_training_with_the_step_and_keeps_the_weights() {
    // An absurd learning rate with unclamped scales overflows exp(s) within a few steps. Train one
    // step per call (training continues where it stopped) to see the weights before the bad step.
    let mut model = FlowNet::new(FlowNetConfig::real_nvp(2, 2, 8)).unwrap();
    let one_step = Trainer::for_objective(Likelihood::new(Moons::torchcfm())).steps(1).lr(1e4).progress(Progress::Off);
    let mut before;
    let err = loop {
        assert!(model.steps_trained() < 200, "the loss never became non-finite");
        before = model.parameters().to_vec();
        if let Err(e) = one_step.train(&mut model) {
            break e;
        }
    };
    let Error::NonFiniteLoss { step, value } = err else { panic!("expected a non-finite loss, got {err:?}") };
    assert!(!value.is_finite());
    assert_eq!(step, model.steps_trained() + 1, "the error names the step that failed");
    assert_eq!(model.parameters(), before.as_slice(), "the bad step left the weights alone");
    assert!(err.to_string().contains(&format!("step {step}")), "{err}");
}

#[test]
fn checkpoints_round_trip_and_wrong_files_get_clear_errors() {
    let dir = std::env::temp_dir().join(format!("flowmatch-flownet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("flow.safetensors");
    let mut model = FlowNet::new(FlowNetConfig::real_nvp(2, 3, 8)).unwrap();
    Trainer::for_objective(Likelihood::new(mixture()))
        .steps(30)
        .batch_size(64)
        .progress(Progress::Off)
        .checkpoint_every(10, &path)
        .train(&mut model)
        .unwrap();
    let back = FlowNet::load(&path).unwrap();
    assert_eq!(back.parameters(), model.parameters());
    assert_eq!(back.steps_trained(), 30);
    assert_eq!(back.config(), model.config());
    let x = mixture().sample(50, 1).unwrap();
    assert_eq!(back.log_prob(&x).unwrap(), model.log_prob(&x).unwrap());
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // A velocity model's checkpoint is not a flow.
    let mlp = dir.join("mlp.safetensors");
    Net::mlp(2, 32).unwrap().save(&mlp).unwrap();
    let err = FlowNet::load(&mlp).unwrap_err();
    assert!(matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("Mlp")), "{err}");
    // A tensor of the wrong shape: the file says so.
    let other = dir.join("other.safetensors");
    let mut bigger = FlowNet::new(FlowNetConfig::real_nvp(2, 3, 16)).unwrap();
    bigger.reset_optimizer();
    bigger.save(&other).unwrap();
    // Its tensors under a configuration that says H = 8.
    let (mut meta, tensors) = flowmatch::nn::checkpoint::load_tensors(&other).unwrap();
    meta.model_config["hidden"] = serde_json::json!(8);
    let tensors = tensors.into_iter().map(|(name, (shape, values))| (name, shape, values)).collect();
    flowmatch::nn::checkpoint::save_tensors(tensors, &meta, &other).unwrap();
    let err = FlowNet::load(&other).unwrap_err();
    assert!(matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("shape")), "{err}");
    // A missing file.
    assert!(matches!(FlowNet::load(dir.join("nope.safetensors")), Err(Error::Io { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_gets_a_clear_error() {
    let mut model = FlowNet::new(FlowNetConfig::real_nvp(2, 2, 8)).unwrap();
    assert!(matches!(model.log_prob(&Points::zeros(3, 3)), Err(Error::ShapeMismatch { .. })));
    let regression = Batch::Regression(flowmatch::path::PathSample {
        x0: Points::zeros(2, 2),
        x1: Points::zeros(2, 2),
        t: vec![0.5; 2],
        x_t: Points::zeros(2, 2),
        target: Points::zeros(2, 2),
        labels: None,
    });
    let err = model.train_step(&regression, &OptimizerConfig::default()).unwrap_err();
    assert!(err.to_string().contains("maximum likelihood"), "{err}");
    let err = Trainer::for_objective(Likelihood::new(flowmatch::data::StandardGaussian::new(3).unwrap()))
        .steps(1)
        .train(&mut model)
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    assert!(FlowNet::new(FlowNetConfig::real_nvp(1, 2, 8)).is_err(), "a coupling layer needs d ≥ 2");
    assert!(FlowNet::new(FlowNetConfig::real_nvp(2, 2, 0)).is_err());
    assert!(FlowNet::new(FlowNetConfig::real_nvp(2, 2, 8).scale(ScaleMap::SoftClamp { bound: -1.0 })).is_err());
    assert!(matches!(model.with_parameters(vec![0.0; 3]), Err(Error::ShapeMismatch { .. })));
}
