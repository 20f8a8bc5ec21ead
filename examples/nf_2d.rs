//! A RealNVP normalizing flow trained by maximum likelihood, on normflows' protocol
//! (`shared/bench/normflows_2d.py`).
//!
//! ```text
//! cargo run --release --example nf_2d -- --task 8gaussians --blocks 16 --hidden 64 --steps 4000 --seed S [--threads N]
//! ```
//!
//! Protocol: `blocks` × (affine coupling, swap) with conditioners 1 → H → H → 2 (ReLU, last layer
//! zero), a trained diagonal Gaussian base, Adam at lr 5e-4 with L2 weight decay 1e-5 (PyTorch's
//! `Adam(weight_decay=1e-5)`, as the yardstick) and batches of 512 fresh points for `steps` steps. Then 10 000 fresh test points: `nll` is their mean −log p in nats per point and,
//! for eight Gaussians, `entropy` is the mean of −log p_data on the same points (the closed-form
//! mixture density: no model beats it on average) and `gap = nll − entropy`. The last lines are
//! `entropy`, `gap`, `nll` and `train_steps_per_s` (training steps over the training time).
//! `--threads N` sets the worker threads (`FLOWMATCH_THREADS`); the default is one per CPU.
//! `--clamp K` soft-clamps the log-scales to (−K, K) and `--act` picks the conditioners'
//! nonlinearity (defaults: no clamp and ReLU, as normflows).

use flowmatch::data::{Dataset, EightGaussians, Moons};
use flowmatch::flows::{Nonlinearity, ScaleMap};
use flowmatch::loss::Likelihood;
use flowmatch::nn::{FlowNet, FlowNetConfig, OptimizerKind};
use flowmatch::train::Trainer;

struct Args {
    task: String,
    blocks: usize,
    hidden: usize,
    steps: usize,
    batch: usize,
    lr: f64,
    seed: u64,
    threads: Option<usize>,
    weight_decay: f64,
    scale: ScaleMap,
    act: Nonlinearity,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        task: "8gaussians".into(),
        blocks: 16,
        hidden: 64,
        steps: 4000,
        batch: 512,
        lr: 5e-4,
        seed: 0,
        threads: None,
        weight_decay: 1e-5,
        scale: ScaleMap::Identity,
        act: Nonlinearity::Relu,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        let num = |s: String, k: &str| s.parse::<usize>().map_err(|e| format!("{k}: {e}"));
        match k.as_str() {
            "--task" => a.task = v()?,
            "--blocks" => a.blocks = num(v()?, "--blocks")?,
            "--hidden" => a.hidden = num(v()?, "--hidden")?,
            "--steps" => a.steps = num(v()?, "--steps")?,
            "--batch" => a.batch = num(v()?, "--batch")?,
            "--lr" => a.lr = v()?.parse().map_err(|e| format!("--lr: {e}"))?,
            "--seed" => a.seed = v()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--threads" => a.threads = Some(num(v()?, "--threads")?),
            "--weight-decay" => a.weight_decay = v()?.parse().map_err(|e| format!("--weight-decay: {e}"))?,
            "--clamp" => {
                let k: f64 = v()?.parse().map_err(|e| format!("--clamp: {e}"))?;
                a.scale = ScaleMap::SoftClamp { bound: k }
            }
            "--act" => {
                a.act = match v()?.as_str() {
                    "relu" => Nonlinearity::Relu,
                    "tanh" => Nonlinearity::Tanh,
                    "silu" => Nonlinearity::Silu,
                    other => return Err(format!("--act {other}: use relu, tanh or silu")),
                }
            }
            "-h" | "--help" => {
                return Err("usage: nf_2d [--task 8gaussians|moons] [--blocks 16] [--hidden 64] [--steps 4000] \
                            [--batch 512] [--lr 5e-4] [--seed 0] [--threads N] [--weight-decay 1e-5] [--clamp K] [--act relu|tanh|silu]"
                    .into())
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Some(t) = args.threads {
        // Read once, when the worker pool starts (before any training).
        std::env::set_var("FLOWMATCH_THREADS", t.to_string());
    }
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn task(name: &str) -> flowmatch::Result<Box<dyn Dataset>> {
    match name {
        "8gaussians" => Ok(Box::new(EightGaussians::torchcfm())),
        "moons" => Ok(Box::new(Moons::torchcfm())),
        other => Err(flowmatch::Error::invalid("task", format!("'{other}': use 8gaussians or moons"))),
    }
}

fn run(a: &Args) -> flowmatch::Result<()> {
    let data = task(&a.task)?;
    let mut model =
        FlowNet::new(FlowNetConfig::real_nvp(2, a.blocks, a.hidden).seed(a.seed).scale(a.scale).nonlinearity(a.act))?;
    println!(
        "RealNVP: {} blocks, conditioner 1 → {h} → {h} → 2, {} parameters; {} steps, batch {}, lr {}",
        a.blocks,
        model.num_params(),
        a.steps,
        a.batch,
        a.lr,
        h = a.hidden
    );
    let trainer = Trainer::for_objective(Likelihood::new(task(&a.task)?))
        .steps(a.steps)
        .batch_size(a.batch)
        .lr(a.lr)
        .optimizer(OptimizerKind::AdamL2 { weight_decay: a.weight_decay })
        .seed(a.seed);
    let report = trainer.train(&mut model)?;
    let rate = report.steps_per_second();
    // Test points from their own stream, fixed by the seed.
    let test = data.sample(10_000, a.seed.wrapping_mul(1_000_003).wrapping_add(29))?;
    let nll = model.nll(&test)?;
    println!("task: {} blocks: {} hidden: {} steps: {} seed: {}", a.task, a.blocks, a.hidden, a.steps, a.seed);
    if let Some(lp) = data.log_density(&test) {
        let lp = lp?;
        let entropy = -lp.iter().sum::<f64>() / lp.len() as f64;
        println!("entropy: {entropy:.4}");
        println!("gap: {:.4}", nll - entropy);
    }
    println!("nll: {nll:.4}");
    println!("train_steps_per_s: {rate:.1}");
    Ok(())
}
