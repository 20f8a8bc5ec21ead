//! TorchCFM's two-dimensional quality protocol, on flowmatch.
//!
//! ```text
//! cargo run --release --example benchmark_2d -- --task <8gaussians|moons|moons-8gaussians|scurve> \
//!     --method <icfm|otcfm|otcfm-resampled|sbcfm|fm|vpcfm|sbcfm-sinkhorn|sinkhorn> [--seed N] [--steps N] \
//!     [--activation silu|relu|tanh|gelu|selu] [--optimizer adam|adamw] [--init dfdx|pytorch] [--dump FILE]
//! ```
//!
//! Protocol (mirrors `shared/bench/torchcfm_2d.py`): an MLP with three hidden layers of
//! width 64, batch 512, 20 000 Adam steps at lr 1e-3, σ = 0.1, then 1 000 samples by
//! 20 Euler steps, and W2 by exact optimal transport against 1 000 fresh target
//! points. `w2_floor` is the W2 between two fresh target samples of the same size:
//! read every W2 against it. `npe` is the normalised path energy of the 20-step
//! Euler paths, |PE − W2²(x₀, y)| / W2²(x₀, y) against a third fresh target sample
//! (`metrics::normalized_path_energy`, as the yardstick computes it). Tasks, as the
//! yardstick names them (`gaussians` is accepted for `8gaussians`): N(0, I) → eight
//! Gaussians, N(0, I) → moons, moons → eight Gaussians, N(0, I) → S-curve
//! (`SCurve::default()`). Methods ([`CfmMethod`], all at σ = 0.1): `icfm` (independent
//! pairs), `otcfm` (exact minibatch OT, a permutation of each batch), `otcfm-resampled`
//! (the exact plan's pairs drawn with replacement, as TorchCFM's `OTPlanSampler` does),
//! `sbcfm` (Schrödinger-bridge CFM: bridge noise on exact-OT pairs, as TorchCFM's default;
//! `sbcfm-sinkhorn` uses the entropic plan ε = 2σ², slow at that ε), `fm` (Lipman et al.;
//! N(0, I) source only, so `moons-8gaussians` is refused), `vpcfm` (cos/sin path),
//! `sinkhorn` (CFM on the entropic plan, ε = 0.5). `--optimizer adamw` trains with AdamW
//! and decoupled weight decay 10⁻⁵, the yardstick's optimiser; `--activation selu` is its
//! activation; `--init pytorch` rescales the first layer to PyTorch's `nn.Linear`
//! initialisation on [x, t] (`Net::pytorch_first_layer_init`). `--dump FILE` writes the
//! evaluation's points as TSV rows `kind, i, x, y`: the 21 states `state0` … `state20` of the
//! Euler paths and the three target samples `ref`, `ref2`, `ref3`, so that
//! `scripts/crosscheck_2d.py` can recompute the metrics with the yardstick's own code. The last
//! three lines are `w2_floor: X`, `w2: Y` and `npe: Z`.

mod common;

use flowmatch::data::{Dataset, EightGaussians, Moons, SCurve, StandardGaussian};
use flowmatch::loss::CfmMethod;
use flowmatch::metrics::{normalized_path_energy, w2};
use flowmatch::nn::{Activation, MlpConfig, Net, OptimizerKind};
use flowmatch::solver::{solve_trajectory, Method, TimeGrid};
use flowmatch::train::Trainer;

struct Args {
    task: String,
    method: String,
    seed: u64,
    steps: usize,
    activation: Activation,
    optimizer: OptimizerKind,
    torch_init: bool,
    dump: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        task: "8gaussians".into(),
        method: "icfm".into(),
        seed: 0,
        steps: 20_000,
        activation: Activation::Silu,
        optimizer: OptimizerKind::Adam,
        torch_init: false,
        dump: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--task" => a.task = v()?,
            "--method" => a.method = v()?,
            "--seed" => a.seed = v()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--steps" => a.steps = v()?.parse().map_err(|e| format!("--steps: {e}"))?,
            "--activation" => {
                a.activation = match v()?.as_str() {
                    "silu" => Activation::Silu,
                    "relu" => Activation::Relu,
                    "tanh" => Activation::Tanh,
                    "gelu" => Activation::Gelu,
                    "selu" => Activation::Selu,
                    other => return Err(format!("--activation: '{other}': use silu, relu, tanh, gelu or selu")),
                }
            }
            "--optimizer" => {
                a.optimizer = match v()?.as_str() {
                    "adam" => OptimizerKind::Adam,
                    "adamw" => OptimizerKind::AdamW { weight_decay: 1e-5 },
                    other => return Err(format!("--optimizer: '{other}': use adam or adamw")),
                }
            }
            "--init" => {
                a.torch_init = match v()?.as_str() {
                    "dfdx" => false,
                    "pytorch" => true,
                    other => return Err(format!("--init: '{other}': use dfdx or pytorch")),
                }
            }
            "--dump" => a.dump = Some(v()?),
            "-h" | "--help" => {
                return Err("usage: benchmark_2d --task <8gaussians|moons|moons-8gaussians|scurve> \
                     --method <icfm|otcfm|otcfm-resampled|sbcfm|fm|vpcfm|sbcfm-sinkhorn|sinkhorn> \
                 [--seed N] [--steps N] [--activation silu|relu|tanh|gelu|selu] [--optimizer adam|adamw] \
                 [--init dfdx|pytorch] [--dump FILE]"
                    .into())
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    Ok(a)
}

fn main() {
    common::main_with(parse, run);
}

/// The (source, target) pair of a task.
fn task(name: &str) -> flowmatch::Result<(Box<dyn Dataset>, Box<dyn Dataset>)> {
    Ok(match name {
        "8gaussians" | "gaussians" => (Box::new(StandardGaussian::new(2)?), Box::new(EightGaussians::torchcfm())),
        "moons" => (Box::new(StandardGaussian::new(2)?), Box::new(Moons::torchcfm())),
        "moons-8gaussians" => (Box::new(Moons::torchcfm()), Box::new(EightGaussians::torchcfm())),
        "scurve" => (Box::new(StandardGaussian::new(2)?), Box::new(SCurve::default())),
        other => {
            return Err(flowmatch::Error::invalid(
                "task",
                format!("'{other}': use 8gaussians (or gaussians), moons, moons-8gaussians or scurve"),
            ))
        }
    })
}

fn run(a: &Args) -> flowmatch::Result<()> {
    let (source, target) = task(&a.task)?;
    let method = CfmMethod::from_name(&a.method)?;
    println!("task {} method {} seed {} ({} steps)", a.task, a.method, a.seed, a.steps);
    let mut model = Net::mlp_with(2, 64, MlpConfig { seed: a.seed, activation: a.activation, ..Default::default() })?;
    if a.torch_init {
        model.pytorch_first_layer_init()?;
    }
    let (train_source, train_target) = task(&a.task)?;
    let trainer = Trainer::new(train_target)
        .source(train_source)
        .method(method, 0.1)
        .steps(a.steps)
        .batch_size(512)
        .lr(1e-3)
        .optimizer(a.optimizer)
        .seed(a.seed);
    let report = trainer.train(&mut model)?;
    println!(
        "trained {} steps in {:.1}s ({:.0} steps/s), final loss {:.4}",
        report.steps(),
        report.seconds,
        report.steps_per_second(),
        report.final_loss(200)
    );
    // Evaluation draws come from their own streams, fixed by the seed.
    let eval_seed = a.seed.wrapping_mul(1_000_003).wrapping_add(17);
    let x0 = source.sample(1000, eval_seed)?;
    let grid = TimeGrid::uniform(0.0, 1.0, 20)?;
    let paths = solve_trajectory(&model, &x0, &grid, Method::Euler)?;
    let states = paths.trajectory.as_deref().expect("solve_trajectory keeps every state");
    let generated = &paths.final_state;
    let reference = target.sample(1000, eval_seed + 1)?;
    let reference2 = target.sample(1000, eval_seed + 2)?;
    let reference3 = target.sample(1000, eval_seed + 3)?;
    let floor = w2(&reference2, &reference)?;
    let dist = w2(generated, &reference)?;
    let npe = normalized_path_energy(states, &paths.times, &reference3)?;
    if let Some(path) = &a.dump {
        let states = states.iter().enumerate().map(|(k, p)| (format!("state{k}"), p));
        let refs = [("ref", &reference), ("ref2", &reference2), ("ref3", &reference3)];
        dump(path, states.chain(refs.into_iter().map(|(k, p)| (k.to_string(), p))))?;
    }
    println!("w2_floor: {floor:.4}");
    println!("w2: {dist:.4}");
    println!("npe: {npe:.4}");
    Ok(())
}

/// Writes labelled point sets as TSV rows `kind, i, x, y` (a temporary file, then a rename).
fn dump<'p>(path: &str, sets: impl Iterator<Item = (String, &'p flowmatch::points::Points)>) -> flowmatch::Result<()> {
    use std::fmt::Write as _;
    let mut text = String::from("kind\ti\tx\ty\n");
    for (kind, points) in sets {
        for (i, row) in points.rows().enumerate() {
            let _ = writeln!(text, "{kind}\t{i}\t{}\t{}", row[0], row[1]);
        }
    }
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, text).map_err(|e| flowmatch::Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| flowmatch::Error::io(path, e))
}
