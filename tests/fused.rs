//! The fast CPU path of the SiLU `Mlp` (fused training op, tape-free sampling) against the
//! plain dfdx graph, built here from the model's own weights: velocities, losses, and the
//! weights and losses after several Adam steps (which depend on every gradient).

use dfdx::nn::{Module, ZeroGrads};
use dfdx::optim::{Adam, AdamConfig, Optimizer};
use dfdx::prelude::*;
use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::loss::{Batch, Cfm};
use flowmatch::nn::{Mlp, MlpConfig, MlpNet, OptimizerConfig, TimeEmbedding, TrainableModel};
use flowmatch::path::PathSample;
use flowmatch::{Points, VectorField};
use rand::SeedableRng;

type Net<const D: usize, const H: usize, const TF: usize> = MlpNet<D, H, TF, f32, Cpu>;

/// The plain dfdx graph: v = W₄ silu(W₃ silu(W₂ silu(W_x x + W_t τ + b₁) + b₂) + b₃) + b₄,
/// with SiLU as x·σ(x), exactly as the generic path of `Mlp` builds it.
fn plain<const D: usize, const H: usize, const TF: usize, T: Tape<f32, Cpu>>(
    net: &Net<D, H, TF>,
    x: Tensor<(usize, Const<D>), f32, Cpu, T>,
    tau: Tensor<(usize, Const<TF>), f32, Cpu, T>,
) -> Tensor<(usize, Const<D>), f32, Cpu, T> {
    fn silu<S: Shape, T: Tape<f32, Cpu>>(h: Tensor<S, f32, Cpu, T>) -> Tensor<S, f32, Cpu, T> {
        let s = h.with_empty_tape().sigmoid();
        h * s
    }
    let h = silu(net.x_in.forward(x) + net.t_in.forward(tau));
    let h = silu(net.hidden1.forward(h));
    let h = silu(net.hidden2.forward(h));
    net.out.forward(h)
}

/// A batch of `N`-wide rows on the CPU.
type Rows<const N: usize> = Tensor<(usize, Const<N>), f32, Cpu>;

fn inputs<const D: usize, const TF: usize>(
    dev: &Cpu,
    emb: TimeEmbedding,
    x: &Points,
    t: &[f64],
) -> (Rows<D>, Rows<TF>) {
    let n = x.len();
    (dev.tensor_from_vec(x.to_f32(), (n, Const::<D>)), dev.tensor_from_vec(emb.features(t, TF), (n, Const::<TF>)))
}

/// max |a − b| / max |b|.
fn rel(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// The regression batch of a path sample.
fn reg(b: &PathSample) -> Batch {
    Batch::Regression(b.clone())
}

fn batch(n: usize, seed: u64) -> PathSample {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Cfm::condot()
        .draw_independent(&StandardGaussian::new(2).unwrap(), &EightGaussians::torchcfm(), n, &mut rng)
        .unwrap()
}

fn plain_velocity<const H: usize, const TF: usize>(
    net: &Net<2, H, TF>,
    emb: TimeEmbedding,
    x: &Points,
    t: &[f64],
) -> Vec<f64> {
    let (xs, tau) = inputs::<2, TF>(&Cpu::default(), emb, x, t);
    plain(net, xs, tau).as_vec().into_iter().map(f64::from).collect()
}

fn velocities_match<const H: usize, const TF: usize>(config: MlpConfig, n: usize) {
    let emb = config.time_embedding;
    let m = Mlp::<2, H, TF>::new(config).unwrap();
    let x = StandardGaussian::new(2).unwrap().sample(n, 11).unwrap();
    let t: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
    let fast = m.velocity(&x, &t, None).unwrap();
    let reference = plain_velocity(m.net(), emb, &x, &t);
    let e = rel(fast.as_slice(), &reference);
    assert!(e < 1e-5, "H={H} TF={TF} n={n}: velocity off by {e}");
    // The VectorField view (one t for all points) agrees with the per-point contract.
    let fast = m.eval(&x, 0.3).unwrap();
    let reference = plain_velocity(m.net(), emb, &x, &vec![0.3; n]);
    assert!(rel(fast.as_slice(), &reference) < 1e-5);
    assert_eq!(fast, m.velocity(&x, &vec![0.3; n], None).unwrap());
}

#[test]
fn velocities_match_the_dfdx_graph() {
    velocities_match::<64, 1>(MlpConfig { seed: 3, ..Default::default() }, 1000);
    velocities_match::<256, 1>(MlpConfig::default(), 1500); // several blocks of rows
    velocities_match::<32, 16>(
        MlpConfig { time_embedding: TimeEmbedding::fourier(), seed: 5, ..Default::default() },
        37,
    );
    velocities_match::<128, 1>(MlpConfig { seed: 7, ..Default::default() }, 1);
}

/// Trains `m` and a plain dfdx copy of its network side by side with Adam on the same batches;
/// returns the largest relative difference of the step losses and of the final weights.
fn train_side_by_side<const H: usize, const TF: usize>(
    m: &mut Mlp<2, H, TF>,
    batches: &[PathSample],
    opt: &OptimizerConfig,
) -> (f64, f64) {
    let emb = m.config().time_embedding;
    let dev = Cpu::default();
    let mut net = m.net().clone();
    let mut adam = Adam::new(&net, AdamConfig { lr: opt.lr, ..Default::default() });
    let mut grads = net.alloc_grads();
    let mut worst_loss = 0.0f64;
    for b in batches {
        let fast = m.train_step(&reg(b), opt).unwrap();
        let (xs, tau) = inputs::<2, TF>(&dev, emb, &b.x_t, &b.t);
        let target = dev.tensor_from_vec(b.target.to_f32(), (b.x_t.len(), Const::<2>));
        let pred = plain(&net, xs.traced(grads), tau.retaped::<OwnedTape<f32, Cpu>>());
        let loss = (pred - target).square().mean();
        let reference = loss.array() as f64;
        grads = loss.backward();
        adam.update(&mut net, &grads).unwrap();
        net.zero_grads(&mut grads);
        worst_loss = worst_loss.max(((fast - reference) / reference).abs());
    }
    let mut worst_weight = 0.0f64;
    let pairs = [
        (m.net().x_in.weight.as_vec(), net.x_in.weight.as_vec()),
        (m.net().x_in.bias.as_vec(), net.x_in.bias.as_vec()),
        (m.net().t_in.weight.as_vec(), net.t_in.weight.as_vec()),
        (m.net().hidden1.weight.as_vec(), net.hidden1.weight.as_vec()),
        (m.net().hidden1.bias.as_vec(), net.hidden1.bias.as_vec()),
        (m.net().hidden2.weight.as_vec(), net.hidden2.weight.as_vec()),
        (m.net().hidden2.bias.as_vec(), net.hidden2.bias.as_vec()),
        (m.net().out.weight.as_vec(), net.out.weight.as_vec()),
        (m.net().out.bias.as_vec(), net.out.bias.as_vec()),
    ];
    for (a, b) in pairs {
        let a: Vec<f64> = a.into_iter().map(f64::from).collect();
        let b: Vec<f64> = b.into_iter().map(f64::from).collect();
        worst_weight = worst_weight.max(rel(&a, &b));
    }
    (worst_loss, worst_weight)
}

#[test]
fn training_matches_the_dfdx_graph_with_adam() {
    let opt = OptimizerConfig::default();
    let batches: Vec<PathSample> = (0..6).map(|s| batch(256, s)).collect();
    let mut m = Mlp::<2, 256>::new(MlpConfig { seed: 1, ..Default::default() }).unwrap();
    let (loss, weight) = train_side_by_side(&mut m, &batches, &opt);
    assert!(loss < 1e-5 && weight < 1e-5, "losses off by {loss}, weights by {weight}");
    assert_eq!(m.steps_trained(), 6);

    let batches: Vec<PathSample> = (0..6).map(|s| batch(100, 10 + s)).collect();
    let mut m =
        Mlp::<2, 32, 16>::new(MlpConfig { time_embedding: TimeEmbedding::fourier(), seed: 2, ..Default::default() })
            .unwrap();
    let (loss, weight) = train_side_by_side(&mut m, &batches, &opt);
    assert!(loss < 1e-5 && weight < 1e-5, "Fourier: losses off by {loss}, weights by {weight}");
}

#[test]
fn loss_and_a_step_match_the_dfdx_graph() {
    // `loss` (no update) and the loss that `train_step` reports are the plain graph's loss.
    let mut m = Mlp::<2, 64>::new(MlpConfig { seed: 4, ..Default::default() }).unwrap();
    let b = batch(77, 21);
    let reference = {
        let v = plain_velocity(m.net(), TimeEmbedding::Raw, &b.x_t, &b.t);
        v.iter().zip(b.target.as_slice()).map(|(a, t)| (a - t) * (a - t)).sum::<f64>() / v.len() as f64
    };
    let l = m.loss(&reg(&b)).unwrap();
    assert!(((l - reference) / reference).abs() < 1e-5, "{l} vs {reference}");
    let stepped = m.train_step(&reg(&b), &OptimizerConfig::default()).unwrap();
    assert!(((stepped - reference) / reference).abs() < 1e-5, "{stepped} vs {reference}");
    // The update is visible to sampling: the cached tape-free weights were refreshed.
    assert!(m.loss(&reg(&b)).unwrap() < l);
}

#[test]
fn the_fast_path_is_deterministic() {
    let run = || {
        let mut m = Mlp::<2, 128>::new(MlpConfig::default()).unwrap();
        let losses: Vec<f64> =
            (0..5).map(|s| m.train_step(&reg(&batch(300, s)), &OptimizerConfig::default()).unwrap()).collect();
        (losses, m.eval(&StandardGaussian::new(2).unwrap().sample(2000, 1).unwrap(), 0.5).unwrap())
    };
    let (la, va) = run();
    let (lb, vb) = run();
    assert_eq!(la, lb);
    assert_eq!(va, vb);
}
