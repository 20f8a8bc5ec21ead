//! The test NLL of a Flow Matching model on eight Gaussians, against the target's exact
//! entropy: the same score as `shared/bench/normflows_2d.py` gives a normalizing flow
//! (topic 7.1), so the two kinds of model are compared on the same data.
//!
//! ```text
//! cargo run --release --example fm_nll_2d -- [--steps 20000] [--seed S] [--sigma 0] [--tol 1e-5] [--threads N]
//! ```
//!
//! Training (as `benchmark_2d`): MLP [x, t] → 64 → 64 → 64 → 2 with SiLU, batch 512, Adam at
//! lr 1e-3, CondOT paths from N(0, I) (`--sigma 0.1` for I-CFM, whose model learns the data
//! blurred by N(0, σ²) and so pays about 0.03 nats for it here). Scoring: 10 000 fresh target
//! points; `nll` = −mean log q(x) by the backward ODE with the exact divergence and Dopri5 at
//! rtol = atol = `--tol`; `entropy` = −mean log p(x) on the same points with the closed-form
//! mixture density; `gap` = nll − entropy, an estimate of KL(p ‖ q) ≥ 0. The last lines are
//! `entropy`, `gap`, `nll` and `train_steps_per_s`, as in the normflows yardstick.

mod common;

use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::likelihood::Likelihood;
use flowmatch::loss::Cfm;
use flowmatch::nn::{MlpConfig, Net};
use flowmatch::solver::Method;
use flowmatch::train::Trainer;
use std::time::Instant;

struct Args {
    steps: usize,
    seed: u64,
    sigma: f64,
    tol: f64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { steps: 20_000, seed: 0, sigma: 0.0, tol: 1e-5 };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--steps" => a.steps = v()?.parse().map_err(|e| format!("--steps: {e}"))?,
            "--seed" => a.seed = v()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--sigma" => a.sigma = v()?.parse().map_err(|e| format!("--sigma: {e}"))?,
            "--tol" => a.tol = v()?.parse().map_err(|e| format!("--tol: {e}"))?,
            "--threads" => std::env::set_var("FLOWMATCH_THREADS", v()?),
            "-h" | "--help" => {
                return Err("usage: fm_nll_2d [--steps N] [--seed S] [--sigma σ] [--tol T] [--threads N]".into())
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    Ok(a)
}

fn main() {
    common::main_with(parse, run);
}

fn run(a: &Args) -> flowmatch::Result<()> {
    let target = EightGaussians::torchcfm();
    let source = StandardGaussian::new(2)?;
    let cfm = if a.sigma > 0.0 { Cfm::icfm(a.sigma)? } else { Cfm::condot() };
    println!("task 8gaussians, FM (σ = {}), seed {}, {} steps", a.sigma, a.seed, a.steps);
    let mut model = Net::mlp_with(2, 64, MlpConfig { seed: a.seed, ..Default::default() })?;
    let trainer = Trainer::new(target.clone()).cfm(cfm).steps(a.steps).batch_size(512).lr(1e-3).seed(a.seed);
    let report = trainer.train(&mut model)?;
    println!("trained {} steps in {:.1}s, final loss {:.4}", report.steps(), report.seconds, report.final_loss(200));

    let eval_seed = a.seed.wrapping_mul(1_000_003).wrapping_add(23);
    let x = target.sample(10_000, eval_seed)?;
    let entropy = -target.log_density(&x).expect("closed form")?.iter().sum::<f64>() / x.len() as f64;
    let t0 = Instant::now();
    let result = Likelihood::new(Method::dopri5(a.tol, a.tol), 1)?.log_prob(&model, &source, &x)?;
    println!(
        "log-likelihood of {} points: exact divergence, Dopri5 (tol {:e}), {} NFE, {:.1}s",
        x.len(),
        a.tol,
        result.nfe,
        t0.elapsed().as_secs_f64()
    );
    println!("entropy: {entropy:.4}");
    println!("gap: {:.4}", result.nll() - entropy);
    println!("nll: {:.4}", result.nll());
    println!("train_steps_per_s: {:.1}", report.steps_per_second());
    Ok(())
}
