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
use flowmatch::diffusion::{ddim, EpsMatching, Predictor, ReverseSde, VpSde};
use flowmatch::loss::Cfm;
use flowmatch::metrics::w2;
use flowmatch::nn::{MlpConfig, Net};
use flowmatch::path::Prediction;
use flowmatch::solver::{solve, Method, Solution, TimeGrid};
use flowmatch::train::Trainer;
use flowmatch::Result;

const NFES: [usize; 7] = [1, 2, 4, 8, 16, 32, 100];
const TOLERANCES: [f64; 5] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];

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

/// One row of the table: a sampler's (NFE, W2) points.
struct Row {
    key: &'static str,
    label: &'static str,
    points: Vec<(usize, f64)>,
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
    let reverse = ReverseSde::new(diffusion.view(Prediction::Score), sde);
    let grid = |steps: usize| TimeGrid::uniform(0.0, 1.0, steps);
    let fixed = |f: &dyn Fn(usize) -> Result<Solution>, per_step: usize| -> Result<Vec<(usize, f64)>> {
        let mut pts = Vec::new();
        for nfe in NFES.iter().filter(|&&n| n % per_step == 0) {
            let sol = f(nfe / per_step)?;
            assert_eq!(sol.nfe, *nfe, "the NFE a sampler reports is the one the table claims");
            pts.push((sol.nfe, w2(&sol.final_state, &reference)?));
        }
        Ok(pts)
    };
    let noise_seed = eval_seed + 3;
    let mut rows = vec![
        Row {
            key: "fm_euler",
            label: "FM  CondOT · Euler",
            points: fixed(&|k| solve(&fm, &x0, &grid(k)?, Method::Euler), 1)?,
        },
        Row {
            key: "fm_midpoint",
            label: "FM  CondOT · midpoint",
            points: fixed(&|k| solve(&fm, &x0, &grid(k)?, Method::Midpoint), 2)?,
        },
        Row {
            key: "diffusion_sde",
            label: "Diff VP-ε · reverse SDE (EM)",
            points: fixed(&|k| reverse.sample(&x0, &grid(k)?, noise_seed), 1)?,
        },
        Row {
            key: "diffusion_pf_euler",
            label: "Diff VP-ε · PF-ODE Euler",
            points: fixed(&|k| solve(&diffusion, &x0, &grid(k)?, Method::Euler), 1)?,
        },
        Row {
            key: "diffusion_pf_midpoint",
            label: "Diff VP-ε · PF-ODE midpoint",
            points: fixed(&|k| solve(&diffusion, &x0, &grid(k)?, Method::Midpoint), 2)?,
        },
        Row {
            key: "diffusion_ddim",
            label: "Diff VP-ε · DDIM",
            points: fixed(&|k| ddim(&diffusion, &x0, &grid(k)?), 1)?,
        },
    ];
    let mut dopri = Vec::new();
    for tol in TOLERANCES {
        let sol = solve(&fm, &x0, &grid(1)?, Method::dopri5(tol, tol))?;
        dopri.push((tol, sol.nfe, w2(&sol.final_state, &reference)?));
    }
    rows.insert(
        2,
        Row { key: "fm_dopri5", label: "FM  CondOT · Dopri5", points: dopri.iter().map(|d| (d.1, d.2)).collect() },
    );

    print_table(&rows, floor);
    println!(
        "Dopri5 (FM): {}",
        dopri.iter().map(|(tol, n, w)| format!("tol {tol:.0e} → NFE {n}, W2 {w:.3}")).collect::<Vec<_>>().join("; ")
    );
    println!("w2_floor: {floor:.4}");
    for row in &rows {
        let within = row.points.iter().filter(|(_, w)| *w <= 1.5 * floor).map(|(n, _)| *n).min();
        println!("{}_nfe_within_1.5x_floor: {}", row.key, within.map_or("none".to_string(), |n| n.to_string()));
        let at8 = row.points.iter().find(|(n, _)| *n == 8).map(|(_, w)| format!("{w:.4}"));
        println!("{}_w2_nfe8: {}", row.key, at8.unwrap_or_else(|| "-".into()));
    }
    println!("fm_train_ms_per_step: {:.4}", ms(&fm_report));
    println!("diffusion_train_ms_per_step: {:.4}", ms(&eps_report));
    Ok(())
}

fn print_table(rows: &[Row], floor: f64) {
    let mut head = format!("{:<32}", "W2 at NFE →");
    for n in NFES {
        head += &format!("{n:>8}");
    }
    println!("{head}");
    for row in rows {
        let mut line = format!("{:<32}", row.label);
        if row.key == "fm_dopri5" {
            line += &row.points.iter().map(|(n, w)| format!("  {w:.3}@{n}")).collect::<String>();
        } else {
            for n in NFES {
                match row.points.iter().find(|(m, _)| *m == n) {
                    Some((_, w)) => line += &format!("{w:>8.3}"),
                    None => line += &format!("{:>8}", "-"),
                }
            }
        }
        println!("{line}");
    }
    println!("{:<32}{:>8.3}  (two fresh data samples; 1.5× floor = {:.3})", "floor", floor, 1.5 * floor);
}
