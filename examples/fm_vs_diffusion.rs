//! Flow Matching against diffusion, measured: the same network, training budget and seed,
//! trained once as a CondOT velocity model and once as a VP ε-prediction model, then
//! sampled by every sampler of each at a ladder of model evaluations (NFE).
//!
//! ```text
//! cargo run --release --example fm_vs_diffusion -- --task <8gaussians|moons> [--seed S] [--steps N]
//! ```
//!
//! Protocol: an MLP with three hidden layers of width 64 (raw time input, SiLU), batch 512,
//! 20 000 Adam steps at lr 1e-3 for both models (the protocol of `benchmark_2d`), trained in
//! 20 alternating chunks so that a change in machine load hits both timings alike.
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
//! (`none` if no NFE of the ladder gets there), the W2 at NFE = 8, its own limit (the W2 at its
//! largest NFE) and the smallest NFE within 10 % of that limit; then the training time
//! per step of each model, their ratio, and the time to draw one batch of each objective.

mod common;

use flowmatch::data::{Dataset, EightGaussians, Moons, StandardGaussian};
use flowmatch::diffusion::{Comparison, EpsMatching, Predictor, VpSde};
use flowmatch::loss::Cfm;
use flowmatch::loss::Objective;
use flowmatch::metrics::w2;
use flowmatch::nn::{MlpConfig, Net};
use flowmatch::path::Prediction;
use flowmatch::train::{Progress, TrainReport, Trainer};
use flowmatch::Result;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;

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
    common::main_with(parse, run);
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

    // Both models train in alternating chunks, so that a change of machine load hits both alike.
    let chunks = 20.min(a.steps).max(1);
    let trainer = |problem: Trainer, steps: usize| problem.steps(steps).batch_size(512).lr(1e-3).seed(a.seed);
    let fm_trainer = Trainer::new(target(&a.task)?).cfm(Cfm::condot());
    let eps_trainer = Trainer::for_objective(EpsMatching::new(target(&a.task)?));
    let (fm_trainer, eps_trainer) = (trainer(fm_trainer, a.steps / chunks), trainer(eps_trainer, a.steps / chunks));
    let (fm_trainer, eps_trainer) = (fm_trainer.progress(Progress::Off), eps_trainer.progress(Progress::Off));
    let mut fm = Net::mlp_with(2, 64, config.clone())?;
    let mut eps = Net::mlp_with(2, 64, config)?;
    let (mut fm_losses, mut eps_losses, mut fm_seconds, mut eps_seconds) = (Vec::new(), Vec::new(), 0.0, 0.0);
    for chunk in 1..=chunks {
        let r = fm_trainer.train(&mut fm)?;
        fm_seconds += r.seconds;
        fm_losses.extend(r.losses);
        let r = eps_trainer.train(&mut eps)?;
        eps_seconds += r.seconds;
        eps_losses.extend(r.losses);
        eprint!("\rtrained {} of {} steps per model", chunk * (a.steps / chunks), a.steps);
    }
    eprintln!();
    let fm_report = TrainReport { losses: fm_losses, seconds: fm_seconds, first_step: 0 };
    let eps_report = TrainReport { losses: eps_losses, seconds: eps_seconds, first_step: 0 };
    let ms = |r: &TrainReport| 1e3 * r.seconds / r.steps() as f64;
    // What one batch costs to draw, apart from the network: the objectives differ only there.
    let draw_ms = |objective: &dyn Objective| -> Result<f64> {
        let mut rng = StdRng::seed_from_u64(a.seed);
        let start = Instant::now();
        for _ in 0..200 {
            objective.draw(512, &mut rng)?;
        }
        Ok(start.elapsed().as_secs_f64() * 1e3 / 200.0)
    };
    let (fm_draw, eps_draw) = (draw_ms(fm_trainer.current_objective())?, draw_ms(eps_trainer.current_objective())?);
    println!(
        "trained: FM {:.3} ms/step (final loss {:.4}), diffusion {:.3} ms/step (final ε-loss {:.4}); \
         drawing a batch: FM {fm_draw:.3} ms, diffusion {eps_draw:.3} ms",
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
    println!("train_time_ratio_diffusion_over_fm: {:.3}", ms(&eps_report) / ms(&fm_report));
    println!("fm_draw_ms_per_batch: {fm_draw:.4}");
    println!("diffusion_draw_ms_per_batch: {eps_draw:.4}");
    Ok(())
}
