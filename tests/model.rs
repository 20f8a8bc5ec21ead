//! The velocity models, the CFM batch, the trainer (with CFM and with another objective) and checkpoints.

use flowmatch::coupling::Independent;
use flowmatch::data::{Dataset, EightGaussians, Gaussian, StandardGaussian};
use flowmatch::loss::{mse, Batch, Cfm, Likelihood, TimeSampler};
use flowmatch::nn::checkpoint;
use flowmatch::nn::{Activation, Mlp, MlpConfig, Net, OptimizerConfig, OptimizerKind, TimeEmbedding, TrainableModel};
use flowmatch::path::PathSample;
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::{Progress, Trainer};
use flowmatch::{Error, Points, VectorField};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flowmatch-model-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn trainer(steps: usize, seed: u64) -> Trainer {
    Trainer::new(EightGaussians::torchcfm()).steps(steps).batch_size(128).seed(seed).progress(Progress::Off)
}

fn probe() -> Points {
    StandardGaussian::new(2).unwrap().sample(16, 99).unwrap()
}

#[test]
fn velocity_has_the_input_shape_and_rejects_bad_input() {
    let m = Mlp::<2, 32>::new(MlpConfig::default()).unwrap();
    let x = probe();
    let v = m.velocity(&x, &[0.5; 16], None).unwrap();
    assert_eq!(v.shape(), (16, 2));
    assert!(v.as_slice().iter().all(|a| a.is_finite()));
    assert!(matches!(m.velocity(&Points::zeros(4, 3), &[0.5; 4], None), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(m.velocity(&x, &[0.5; 3], None), Err(Error::ShapeMismatch { .. })));
    let e = m.velocity(&x, &[0.5; 16], Some(&[0; 16])).unwrap_err();
    assert!(e.to_string().contains("conditioning"), "{e}");
    // The VectorField view agrees with the (x, t) contract.
    let u = m.eval(&x, 0.5).unwrap();
    assert_eq!(u, v);
}

#[test]
fn time_embedding_must_match_the_feature_count() {
    let raw16 = Mlp::<2, 32, 16>::new(MlpConfig::default());
    assert!(matches!(raw16, Err(Error::InvalidParameter { .. })));
    let fourier = MlpConfig { time_embedding: TimeEmbedding::fourier(), ..Default::default() };
    assert!(matches!(Mlp::<2, 32, 3>::new(fourier.clone()), Err(Error::InvalidParameter { .. })));
    let m = Mlp::<2, 32, 16>::new(fourier).unwrap();
    let f = TimeEmbedding::fourier().features(&[0.0, 0.25], 16);
    assert_eq!(f.len(), 32);
    assert_eq!((f[0], f[1]), (0.0, 1.0)); // sin 0, cos 0
    assert!((f[16] - 1.0).abs() < 1e-6); // sin(2π · 1 · 0.25)
    assert!(m.eval(&probe(), 0.3).unwrap().as_slice().iter().all(|v| v.is_finite()));
}

#[test]
fn net_builds_prebuilt_shapes_and_explains_the_others() {
    let n = Net::mlp(2, 64).unwrap();
    assert_eq!((n.dim(), n.hidden()), (2, 64));
    assert_eq!(n.num_params(), 2 * 64 + 64 + 64 + 2 * (64 * 64 + 64) + 64 * 2 + 2);
    let e = Net::mlp(3, 64).unwrap_err().to_string();
    assert!(e.contains("Mlp::<D, H>") && e.contains("[1, 2]"), "{e}");
    let g = Net::mlp_with(1, 32, MlpConfig { activation: Activation::Tanh, ..Default::default() }).unwrap();
    assert_eq!(g.config().activation, Activation::Tanh);
}

#[test]
fn same_seed_same_weights_different_seed_different_weights() {
    let a = Net::mlp(2, 32).unwrap();
    let b = Net::mlp(2, 32).unwrap();
    let c = Net::mlp_with(2, 32, MlpConfig { seed: 1, ..Default::default() }).unwrap();
    let x = probe();
    assert_eq!(a.eval(&x, 0.3).unwrap(), b.eval(&x, 0.3).unwrap());
    assert_ne!(a.eval(&x, 0.3).unwrap(), c.eval(&x, 0.3).unwrap());
}

#[test]
fn cfm_batch_on_condot_has_the_closed_form() {
    let mut rng = StdRng::seed_from_u64(3);
    let x0 = StandardGaussian::new(2).unwrap().sample(64, 1).unwrap();
    let x1 = EightGaussians::torchcfm().sample(64, 2).unwrap();
    let b = Cfm::condot().batch(&x0, &x1, None, &mut rng).unwrap();
    for i in 0..64 {
        let t = b.t[i];
        assert!((0.0..=1.0).contains(&t));
        for j in 0..2 {
            let (a, z) = (x0.row(i)[j], x1.row(i)[j]);
            assert!((b.x_t.row(i)[j] - (t * z + (1.0 - t) * a)).abs() < 1e-12);
            assert!((b.target.row(i)[j] - (z - a)).abs() < 1e-12);
        }
    }
    // I-CFM adds noise of the requested size around x_t but keeps the target.
    let noisy = Cfm::icfm(0.1).unwrap().batch_at(&x0, &x1, &b.t, None, &mut rng).unwrap();
    assert_eq!(noisy.target, b.target);
    let d: Vec<f64> = noisy.x_t.as_slice().iter().zip(b.x_t.as_slice()).map(|(a, b)| a - b).collect();
    let sd = (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt();
    assert!(sd > 0.07 && sd < 0.13, "noise std {sd}");
    assert!(matches!(Cfm::icfm(-1.0), Err(Error::InvalidParameter { .. })));
    assert!(Cfm::condot().with_time(TimeSampler::LogitNormal { mean: 0.0, std: 0.0 }).is_err());
}

#[test]
fn logit_normal_times_concentrate_in_the_middle() {
    let mut rng = StdRng::seed_from_u64(0);
    let t = TimeSampler::logit_normal().sample(20_000, &mut rng);
    assert!(t.iter().all(|&t| t > 0.0 && t < 1.0));
    let mid = t.iter().filter(|&&t| (0.25..0.75).contains(&t)).count() as f64 / t.len() as f64;
    // P(|z| < ln 3) for z ~ N(0,1) is 0.727; uniform would give 0.5.
    assert!((mid - 0.727).abs() < 0.02, "{mid}");
}

#[test]
fn mse_averages_over_points_and_coordinates() {
    let p = Points::from_rows(&[[1.0, 2.0], [3.0, 4.0]]).unwrap();
    let q = Points::from_rows(&[[1.0, 0.0], [0.0, 4.0]]).unwrap();
    assert_eq!(mse(&p, &q).unwrap(), (4.0 + 9.0) / 4.0);
    assert!(matches!(mse(&p, &Points::zeros(3, 2)), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn training_lowers_the_loss_and_samples_move_towards_the_data() {
    let mut m = Net::mlp(2, 64).unwrap();
    let x0 = StandardGaussian::new(2).unwrap().sample(500, 5).unwrap();
    let grid = TimeGrid::uniform(0.0, 1.0, 20).unwrap();
    let before = solve(&m, &x0, &grid, Method::Euler).unwrap().final_state;
    let r = trainer(600, 0).train(&mut m).unwrap();
    assert_eq!(r.steps(), 600);
    let first: f64 = r.losses[..20].iter().sum::<f64>() / 20.0;
    assert!(r.final_loss(50) < 0.6 * first, "loss {first} -> {}", r.final_loss(50));
    let after = solve(&m, &x0, &grid, Method::Euler).unwrap().final_state;
    // Eight Gaussians have covariance (12.5 + √0.1) I; an untrained net barely moves N(0, I).
    let var = |p: &Points| p.covariance()[0] + p.covariance()[3];
    assert!(var(&before) < 5.0 && var(&after) > 15.0, "{} {}", var(&before), var(&after));
}

#[test]
fn training_is_bit_identical_under_a_seed_and_continues_where_it_stopped() {
    let run = |seed| {
        let mut m = Net::mlp(2, 32).unwrap();
        let r = trainer(50, seed).train(&mut m).unwrap();
        (r.losses, m.eval(&probe(), 0.4).unwrap())
    };
    let (la, va) = run(7);
    let (lb, vb) = run(7);
    let (lc, _) = run(8);
    assert_eq!(la, lb);
    assert_eq!(va, vb);
    assert_ne!(la, lc);
    // A second call continues: the step count grows and the batches are new.
    let mut m = Net::mlp(2, 32).unwrap();
    let t = trainer(50, 7);
    let r1 = t.train(&mut m).unwrap();
    let r2 = t.train(&mut m).unwrap();
    assert_eq!((r1.first_step, r2.first_step, m.steps_trained()), (0, 50, 100));
    assert_eq!(r1.losses, la);
    assert_ne!(r1.losses, r2.losses);
}

#[test]
fn adamw_and_adam_differ() {
    let mut a = Net::mlp(2, 32).unwrap();
    let mut w = Net::mlp(2, 32).unwrap();
    trainer(30, 1).train(&mut a).unwrap();
    trainer(30, 1).optimizer(OptimizerKind::AdamW { weight_decay: 0.5 }).train(&mut w).unwrap();
    assert_ne!(a.eval(&probe(), 0.5).unwrap(), w.eval(&probe(), 0.5).unwrap());
}

#[test]
fn a_non_finite_loss_stops_training_and_names_the_step() {
    let mut m = Net::mlp(2, 32).unwrap();
    let e = trainer(200, 0).lr(1e12).train(&mut m).unwrap_err();
    match &e {
        Error::NonFiniteLoss { step, value } => {
            assert!(*step >= 1 && *step <= 200 && !value.is_finite());
            assert_eq!(m.steps_trained(), step - 1, "the bad step must not be applied");
        }
        other => panic!("expected NonFiniteLoss, got {other:?}"),
    }
    assert!(e.to_string().contains(&format!("step {}", m.steps_trained() + 1)), "{e}");
    // A batch whose squared error overflows f32 leaves the weights untouched.
    let mut m = Net::mlp(2, 32).unwrap();
    let before = m.eval(&probe(), 0.5).unwrap();
    let x = probe();
    let batch = Batch::Regression(PathSample {
        x0: Points::zeros(16, 2),
        x1: Points::zeros(16, 2),
        t: vec![0.5; 16],
        target: Points::from_fn(16, 2, |_, _| 1e30),
        x_t: x,
        labels: None,
    });
    assert!(matches!(m.train_step(&batch, &OptimizerConfig::default()), Err(Error::NonFiniteLoss { step: 1, .. })));
    assert_eq!(m.eval(&probe(), 0.5).unwrap(), before);
}

#[test]
fn bad_training_settings_are_errors() {
    let mut m = Net::mlp(2, 32).unwrap();
    assert!(matches!(trainer(0, 0).train(&mut m), Err(Error::ZeroCount { .. })));
    assert!(matches!(trainer(5, 0).batch_size(0).train(&mut m), Err(Error::ZeroCount { .. })));
    assert!(matches!(trainer(5, 0).lr(f64::NAN).train(&mut m), Err(Error::InvalidParameter { .. })));
    let mut one_d = Net::mlp(1, 32).unwrap();
    assert!(matches!(trainer(5, 0).train(&mut one_d), Err(Error::ShapeMismatch { .. })));
    let nan_batch = Batch::Regression(PathSample {
        x0: Points::zeros(2, 2),
        x1: Points::zeros(2, 2),
        x_t: Points::from_fn(2, 2, |_, _| f64::NAN),
        t: vec![0.1; 2],
        target: Points::zeros(2, 2),
        labels: None,
    });
    assert!(matches!(m.train_step(&nan_batch, &OptimizerConfig::default()), Err(Error::NonFinite { .. })));
}

#[test]
fn checkpoints_round_trip_with_their_configuration() {
    let cfg = MlpConfig { activation: Activation::Gelu, time_embedding: TimeEmbedding::fourier(), seed: 4 };
    let mut m = Net::mlp_with(2, 32, cfg.clone()).unwrap();
    let path = tmp("roundtrip.safetensors");
    trainer(20, 0).checkpoint_every(10, &path).train(&mut m).unwrap();
    let meta = checkpoint::read_meta(&path).unwrap();
    assert_eq!(meta.steps, 20);
    assert_eq!(meta.training.as_ref().unwrap()["config"]["steps"], 20);
    let back = Net::load(&path).unwrap();
    assert_eq!(back.config(), &cfg);
    assert_eq!(back.steps_trained(), 20);
    assert_eq!(back.eval(&probe(), 0.7).unwrap(), m.eval(&probe(), 0.7).unwrap());
    // The typed model loads the same file.
    let typed = Mlp::<2, 32, 16>::load(&path).unwrap();
    assert_eq!(typed.eval(&probe(), 0.7).unwrap(), m.eval(&probe(), 0.7).unwrap());
}

#[test]
fn loading_the_wrong_file_is_a_clear_error() {
    let path = tmp("small.safetensors");
    Net::mlp(2, 32).unwrap().save(&path).unwrap();
    let e = Mlp::<2, 64>::load(&path).unwrap_err();
    assert!(matches!(e, Error::Checkpoint { .. }) && e.to_string().contains("H=32"), "{e}");
    let e = Net::load(tmp("missing.safetensors")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("no such file"), "{e}");
    let bytes = std::fs::read(&path).unwrap();
    let corrupt = tmp("corrupt.safetensors");
    std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(Net::load(&corrupt), Err(Error::Checkpoint { .. })));
    std::fs::write(&corrupt, b"not a checkpoint at all").unwrap();
    assert!(matches!(Net::load(&corrupt), Err(Error::Checkpoint { .. })));
}

#[test]
fn a_failed_write_leaves_the_previous_checkpoint_intact() {
    let path = tmp("atomic.safetensors");
    let m = Net::mlp(2, 32).unwrap();
    m.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let r = checkpoint::write_atomically(&path, |f| {
        use std::io::Write;
        f.write_all(&before[..100])?;
        Err(std::io::Error::other("disk full"))
    });
    assert!(matches!(r, Err(Error::Io { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("atomic.safetensors.tmp"))
        .count();
    assert_eq!(leftovers, 0);
}

/// Runs in a child process: starts overwriting a checkpoint and dies halfway.
#[test]
fn a_crash_mid_write_leaves_the_previous_checkpoint_intact() {
    if let Ok(p) = std::env::var("FLOWMATCH_CRASH_WRITE") {
        let _ = checkpoint::write_atomically(&p, |f| {
            use std::io::Write;
            f.write_all(&[0u8; 4096])?;
            f.flush()?;
            std::process::abort();
        });
        unreachable!();
    }
    let path = tmp("crash.safetensors");
    let m = Net::mlp(2, 32).unwrap();
    m.save(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .args(["--exact", "a_crash_mid_write_leaves_the_previous_checkpoint_intact", "--nocapture"])
        .env("FLOWMATCH_CRASH_WRITE", &path)
        .status()
        .unwrap();
    assert!(!status.success(), "the child should have died");
    let back = Net::load(&path).unwrap();
    assert_eq!(back.eval(&probe(), 0.2).unwrap(), m.eval(&probe(), 0.2).unwrap());
}

// ---------------------------------------------------------------------------
// One trainer for every objective
// ---------------------------------------------------------------------------

/// A toy density model: N(μ, I) with a learned mean μ, fitted by maximum likelihood.
///
/// loss = ½ mean_i ‖xᵢ − μ‖² (the NLL up to a constant); one step is gradient descent,
/// μ ← μ + lr · (mean x − μ). It learns from plain samples only, names no dfdx type, and
/// trains through the same trainer as the networks.
struct GaussianMean {
    mu: Vec<f64>,
    steps: usize,
}

impl GaussianMean {
    fn samples(batch: &Batch) -> flowmatch::Result<&Points> {
        match batch {
            Batch::Samples { x, .. } => Ok(x),
            other => {
                Err(Error::invalid("training batch", format!("GaussianMean learns from samples, not {}", other.kind())))
            }
        }
    }
}

impl TrainableModel for GaussianMean {
    fn dim(&self) -> usize {
        self.mu.len()
    }
    fn loss(&self, batch: &Batch) -> flowmatch::Result<f64> {
        let x = GaussianMean::samples(batch)?;
        let mu = Points::from_fn(x.len(), x.dim(), |_, j| self.mu[j]);
        Ok(0.5 * x.dim() as f64 * mse(x, &mu)?)
    }
    fn train_step(&mut self, batch: &Batch, opt: &OptimizerConfig) -> flowmatch::Result<f64> {
        let loss = self.loss(batch)?;
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss { step: self.steps + 1, value: loss });
        }
        let mean = GaussianMean::samples(batch)?.mean();
        for (m, x) in self.mu.iter_mut().zip(mean) {
            *m += opt.lr * (x - *m);
        }
        self.steps += 1;
        Ok(loss)
    }
    fn reset_optimizer(&mut self) {}
    fn num_params(&self) -> usize {
        self.mu.len()
    }
    fn steps_trained(&self) -> usize {
        self.steps
    }
    fn save_checkpoint(&self, path: &std::path::Path, training: Option<serde_json::Value>) -> flowmatch::Result<()> {
        let json = serde_json::json!({ "mu": self.mu, "steps": self.steps, "training": training });
        checkpoint::write_bytes_atomically(path, json.to_string().as_bytes())
    }
}

fn likelihood_trainer(steps: usize, seed: u64) -> Trainer {
    let data = Gaussian::isotropic(vec![2.0, -1.0], 1.0).unwrap();
    Trainer::for_objective(Likelihood::new(data)).steps(steps).batch_size(64).lr(0.1).seed(seed).progress(Progress::Off)
}

#[test]
fn a_non_cfm_objective_trains_through_the_same_trainer() {
    let run = |seed| {
        let mut m = GaussianMean { mu: vec![0.0, 0.0], steps: 0 };
        let r = likelihood_trainer(200, seed).train(&mut m).unwrap();
        (r, m)
    };
    let (r, m) = run(3);
    assert_eq!(r.steps(), 200);
    assert!((m.mu[0] - 2.0).abs() < 0.2 && (m.mu[1] + 1.0).abs() < 0.2, "μ = {:?}", m.mu);
    assert!(r.final_loss(20) < 0.5 * r.losses[0], "{} -> {}", r.losses[0], r.final_loss(20));
    // Bit-identical under a seed, different under another, and a second call continues.
    let (r2, m2) = run(3);
    assert_eq!((r2.losses, m2.mu.clone()), (r.losses.clone(), m.mu.clone()));
    assert_ne!(run(4).0.losses, r.losses);
    let mut m = GaussianMean { mu: vec![0.0, 0.0], steps: 0 };
    let t = likelihood_trainer(50, 3);
    let (a, b) = (t.train(&mut m).unwrap(), t.train(&mut m).unwrap());
    assert_eq!((a.first_step, b.first_step, m.steps_trained()), (0, 50, 100));
    assert_eq!(a.losses[..], r.losses[..50]);
    // Checkpoints record the trainer's settings and the objective.
    let path = tmp("gaussian-mean.json");
    likelihood_trainer(10, 0).checkpoint_every(4, &path).train(&mut m).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["steps"], 110);
    assert_eq!(saved["training"]["config"]["steps"], 10);
    assert_eq!(saved["training"]["objective"], "NLL(gaussian)");
    // A NaN or infinite loss stops the run with the step, before the bad step is applied.
    let mut m = GaussianMean { mu: vec![0.0, 0.0], steps: 0 };
    match likelihood_trainer(20, 0).lr(1e200).train(&mut m) {
        Err(Error::NonFiniteLoss { step: 2, value }) => assert!(!value.is_finite()),
        other => panic!("expected NonFiniteLoss at step 2, got {other:?}"),
    }
    assert_eq!(m.steps_trained(), 1);
}

#[test]
fn a_model_rejects_a_batch_kind_it_cannot_learn_from() {
    let mut net = Net::mlp(2, 32).unwrap();
    let e = Trainer::for_objective(Likelihood::new(EightGaussians::torchcfm()))
        .steps(3)
        .progress(Progress::Off)
        .train(&mut net)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { .. }) && e.to_string().contains("regression"), "{e}");
    assert_eq!(net.steps_trained(), 0);
    let mut toy = GaussianMean { mu: vec![0.0, 0.0], steps: 0 };
    let e = trainer(3, 0).train(&mut toy).unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { .. }) && e.to_string().contains("samples"), "{e}");
    // CFM settings on a trainer with another objective are an error, not silently ignored.
    let e = likelihood_trainer(3, 0).source(EightGaussians::torchcfm()).train(&mut toy).unwrap_err();
    assert!(e.to_string().contains("Trainer::source"), "{e}");
    // `objective` swaps the CFM objective of `Trainer::new` for another.
    let data = Gaussian::isotropic(vec![2.0, -1.0], 1.0).unwrap();
    let r = trainer(5, 0).objective(Likelihood::new(data)).train(&mut toy).unwrap();
    assert_eq!(r.steps(), 5);
}

#[test]
fn the_cfm_batch_keeps_the_pairs_and_the_labels_of_the_data() {
    let (source, target) = (StandardGaussian::new(2).unwrap(), EightGaussians::torchcfm());
    let b = Cfm::condot().draw(&source, &target, &Independent, 64, &mut StdRng::seed_from_u64(5)).unwrap();
    // The same stream, drawn by hand: x₀, then x₁ with its labels, then the times.
    let mut rng = StdRng::seed_from_u64(5);
    let x0 = source.sample_with(64, &mut rng).unwrap();
    let (x1, labels) = target.sample_labeled_with(64, &mut rng).unwrap();
    assert_eq!((&b.x0, &b.x1, b.labels.as_ref()), (&x0, &x1, Some(&labels)));
    assert_eq!(b.target, &x1 - &x0);
    for (i, &t) in b.t.iter().enumerate() {
        assert_eq!(b.x_t.row(i), (t * &x1.select(&[i]) + (1.0 - t) * &x0.select(&[i])).row(0));
    }
    // A dataset without classes gives no labels; an unconditional model trains on labelled batches.
    let plain = Cfm::condot().draw(&source, &source, &Independent, 8, &mut rng).unwrap();
    assert_eq!(plain.labels, None);
    let mut net = Net::mlp(2, 32).unwrap();
    assert!(net.train_step(&Batch::Regression(b), &OptimizerConfig::default()).unwrap().is_finite());
}

/// SELU(z) = λz for z > 0 and λα(eᶻ − 1) otherwise (Klambauer et al. 2017).
fn selu(z: f64) -> f64 {
    const LAMBDA: f64 = 1.050_700_987_355_480_5;
    const ALPHA: f64 = 1.673_263_242_354_377_3;
    if z > 0.0 {
        LAMBDA * z
    } else {
        LAMBDA * ALPHA * (z.exp() - 1.0)
    }
}

#[test]
fn a_selu_mlp_computes_its_formula() {
    // v = W₄ s(W₃ s(W₂ s(W_x x + W_t t + b₁) + b₂) + b₃) + b₄ with s = SELU, from the model's own weights.
    let m = Net::mlp_with(2, 32, MlpConfig { activation: Activation::Selu, seed: 9, ..Default::default() }).unwrap();
    let params = m.parameters().unwrap();
    let get = |name: &str| -> Vec<f64> {
        let p = params.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no parameter {name}"));
        p.2.iter().map(|&v| v as f64).collect()
    };
    // dfdx stores a weight as (out, in), row-major.
    let layer = |w: &[f64], b: Option<&[f64]>, input: &[f64]| -> Vec<f64> {
        let out = w.len() / input.len();
        (0..out)
            .map(|o| (0..input.len()).map(|i| w[o * input.len() + i] * input[i]).sum::<f64>() + b.map_or(0.0, |b| b[o]))
            .collect()
    };
    let x = Points::randn(50, 2, 3) * 2.0;
    let t = 0.3;
    let got = m.eval(&x, t).unwrap();
    let mut negative = 0;
    for i in 0..x.len() {
        let first: Vec<f64> = layer(&get("x_in.weight"), Some(&get("x_in.bias")), x.row(i))
            .iter()
            .zip(layer(&get("t_in.weight"), None, &[t]))
            .map(|(a, b)| a + b)
            .collect();
        negative += first.iter().filter(|&&z| z < 0.0).count();
        let h1: Vec<f64> = first.into_iter().map(selu).collect();
        let h2: Vec<f64> =
            layer(&get("hidden1.weight"), Some(&get("hidden1.bias")), &h1).into_iter().map(selu).collect();
        let h3: Vec<f64> =
            layer(&get("hidden2.weight"), Some(&get("hidden2.bias")), &h2).into_iter().map(selu).collect();
        let v = layer(&get("out.weight"), Some(&get("out.bias")), &h3);
        for (g, w) in got.row(i).iter().zip(&v) {
            assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()), "row {i}: {g} vs {w}");
        }
    }
    assert!(negative > 100, "the check must reach the exponential branch ({negative} negative pre-activations)");
}

#[test]
fn pytorch_first_layer_init_rescales_to_one_fan_in() {
    // dfdx: W_x, b₁ ~ U(±1/√2), W_t ~ U(±1); PyTorch's Linear(3, H): all ~ U(±1/√3).
    let fresh = Net::mlp_with(2, 64, MlpConfig { seed: 6, ..Default::default() }).unwrap();
    let mut torch = fresh.clone();
    torch.pytorch_first_layer_init().unwrap();
    let (before, after) = (fresh.parameters().unwrap(), torch.parameters().unwrap());
    for ((name, _, b), (_, _, a)) in before.iter().zip(&after) {
        let scale: f32 = match name.as_str() {
            "x_in.weight" | "x_in.bias" => (2.0f32 / 3.0).sqrt(),
            "t_in.weight" => (1.0f32 / 3.0).sqrt(),
            _ => 1.0,
        };
        for (x, y) in b.iter().zip(a) {
            assert!((x * scale - y).abs() <= 1e-6, "{name}: {x} × {scale} vs {y}");
        }
        if scale != 1.0 {
            let max = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            // 64 (or 128) draws fill the interval: the largest sits near the bound 1/√3.
            assert!(max <= 1.0 / 3f32.sqrt() && max > 0.5, "{name}: max |w| = {max}");
        }
    }
    // Still a working model, its optimiser fresh.
    assert!(torch.eval(&probe(), 0.5).unwrap().as_slice().iter().all(|v| v.is_finite()));
    assert_ne!(torch.eval(&probe(), 0.5).unwrap(), fresh.eval(&probe(), 0.5).unwrap());
}
