//! Flow Matching against diffusion, measured: the same network, training budget and seed,
//! trained once as a CondOT velocity model and once as a VP ε-prediction model, then
//! sampled by every sampler of each at a ladder of model evaluations (NFE).
//!
//! ```text
//! cargo run --release --example fm_vs_diffusion -- --task <8gaussians|moons> [--seed S] [--steps N]
//! ```
//!
//! Protocol: an MLP with three hidden layers of width 64 (raw time input, SiLU), batch 512,
//! 20 000 Adam steps at lr 1e-3 for both models (the protocol of `benchmark_2d`).
//!
//! * **FM**: CFM on the CondOT path (σ = 0), sampled by Euler, midpoint and Dopri5.
//! * **Diffusion**: ε-matching on the VP path (β_min = 0.1, β_max = 20), sampled by the
//!   reverse SDE (Euler–Maruyama, its own seeded noise, last step without noise), the
//!   probability-flow ODE (Euler and midpoint; it is the ε-model read as a velocity) and DDIM.
//!
//! Every fixed-step sampler runs on a uniform grid from t = 0 to t = 1 with the step count
//! whose NFE is 1, 2, 4, 8, 16, 32 or 100 (midpoint: NFE = 2 × steps, so it starts at 2).
//! Dopri5 runs at tolerances 1e-1 … 1e-5 and reports the NFE it used. W2 is exact optimal
//! transport between 1 000 samples and 1 000 fresh data points; `w2_floor` is the W2 between
//! two fresh data samples of that size, the best any sampler can do. The last lines are
//! machine-readable `key: value` pairs: per sampler the smallest NFE within 1.5× the floor
//! (`none` if no NFE of the ladder gets there) and the W2 at NFE = 8, and the training time
//! per step of each model.

use flowmatch::data::{Dataset, EightGaussians, Moons, StandardGaussian};
use flowmatch::diffusion::{Comparison, EpsMatching, Predictor, VpSde};
use flowmatch::loss::Cfm;
use flowmatch::metrics::w2;
use flowmatch::nn::{MlpConfig, Net};
use flowmatch::path::Prediction;
use flowmatch::train::Trainer;
use flowmatch::Result;

struct Args {
    task: String,
    seed: u64,
    steps: usize,
}

fn parse() -> std::result::Result<Args, String> {
    let mut a = Args { task: "8gaussians".into(), seed: 0, steps: 20_000 };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--task" => a.task = v()?,
            "--seed" => a.seed = v()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--steps" => a.steps = v()?.parse().map_err(|e| format!("--steps: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: fm_vs_diffusion --task <8gaussians|moons> [--seed S] [--steps N]".into())
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
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn target(name: &str) -> Result<Box<dyn Dataset>> {
    Ok(match name {
        "8gaussians" => Box::new(EightGaussians::torchcfm()),
        "moons" => Box::new(Moons::torchcfm()),
        other => return Err(flowmatch::Error::invalid("task", format!("'{other}': use 8gaussians or moons"))),
    })
}

fn run(a: &Args) -> Result<()> {
    println!("task {} seed {} ({} training steps per model, batch 512, lr 1e-3, MLP 3×64)", a.task, a.seed, a.steps);
    let config = MlpConfig { seed: a.seed, ..Default::default() };

    let mut fm = Net::mlp_with(2, 64, config.clone())?;
    let fm_report = Trainer::new(target(&a.task)?)
        .cfm(Cfm::condot())
        .steps(a.steps)
        .batch_size(512)
        .lr(1e-3)
        .seed(a.seed)
        .train(&mut fm)?;
    let mut eps = Net::mlp_with(2, 64, config)?;
    let eps_report = Trainer::for_objective(EpsMatching::new(target(&a.task)?))
        .steps(a.steps)
        .batch_size(512)
        .lr(1e-3)
        .seed(a.seed)
        .train(&mut eps)?;
    let ms = |r: &flowmatch::train::TrainReport| 1e3 * r.seconds / r.steps() as f64;
    println!(
        "trained: FM {:.3} ms/step (final loss {:.4}), diffusion {:.3} ms/step (final ε-loss {:.4})",
        ms(&fm_report),
        fm_report.final_loss(200),
        ms(&eps_report),
        eps_report.final_loss(200)
    );

    // Evaluation draws come from their own streams, fixed by the seed.
    let eval_seed = a.seed.wrapping_mul(1_000_003).wrapping_add(17);
    let data = target(&a.task)?;
    let x0 = StandardGaussian::new(2)?.sample(1000, eval_seed)?;
    let reference = data.sample(1000, eval_seed + 1)?;
    let floor = w2(&data.sample(1000, eval_seed + 2)?, &reference)?;

    let sde = VpSde::default();
    let diffusion = Predictor::new(&eps, sde.scheduler(), Prediction::Noise)?;
    let table = Comparison::run(&fm, &diffusion, sde, &x0, &reference, floor, eval_seed + 3)?;
    println!("{table}");
    print!("{}", table.summary());
    println!("fm_train_ms_per_step: {:.4}", ms(&fm_report));
    println!("diffusion_train_ms_per_step: {:.4}", ms(&eps_report));
    Ok(())
}
