//! Training and sampling speed, on the settings of `shared/bench/torch_cfm.py`.
//!
//! ```text
//! cargo run --release --example bench_cfm -- [--hidden 256] [--batch 256] [--steps 1000] [--samples 10000] [--ode-steps 100]
//! ```
//!
//! Model: MLP [x (2), t (1)] → H → H → H → 2 with SiLU. Path: CondOT, t ~ U(0, 1),
//! x₀ ~ N(0, I), x₁ ~ eight Gaussians. Adam at lr 1e-3, batch B, 20 warm-up steps,
//! then STEPS timed steps. Sampling: N points, K midpoint steps (2K model calls),
//! no autograd. The last two lines are `train_steps_per_s: X` and
//! `sample_points_per_s: Y`; run PyTorch's script in turn on the same machine and
//! compare the ratios.

use flowmatch::data::EightGaussians;
use flowmatch::data::{Dataset, StandardGaussian};
use flowmatch::nn::Net;
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::{Progress, Trainer};
use std::time::Instant;

fn main() {
    let mut opts =
        [("--hidden", 256usize), ("--batch", 256), ("--steps", 1000), ("--samples", 10_000), ("--ode-steps", 100)];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match opts.iter_mut().find(|(k, _)| *k == args[i]) {
            Some((k, v)) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
                Some(n) => *v = n,
                None => {
                    eprintln!("{k} needs a positive whole number");
                    std::process::exit(2);
                }
            },
            None => {
                eprintln!("unknown argument '{}'; options: --hidden --batch --steps --samples --ode-steps", args[i]);
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let [hidden, batch, steps, samples, ode_steps] = opts.map(|(_, v)| v);
    if let Err(e) = run(hidden, batch, steps, samples, ode_steps) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(hidden: usize, batch: usize, steps: usize, samples: usize, ode_steps: usize) -> flowmatch::Result<()> {
    let mut model = Net::mlp(2, hidden)?;
    println!("model: {model:?}");
    let trainer =
        |n| Trainer::new(EightGaussians::torchcfm()).steps(n).batch_size(batch).lr(1e-3).progress(Progress::Off);
    trainer(20).train(&mut model)?; // warm-up, as the PyTorch script does
    let t0 = Instant::now();
    let report = trainer(steps).seed(1).train(&mut model)?;
    let train_s = t0.elapsed().as_secs_f64();

    let x0 = StandardGaussian::new(2)?.sample(samples, 2)?;
    let grid = TimeGrid::uniform(0.0, 1.0, ode_steps)?;
    let t0 = Instant::now();
    let sol = solve(&model, &x0, &grid, Method::Midpoint)?;
    let sample_s = t0.elapsed().as_secs_f64();
    assert_eq!(sol.nfe, 2 * ode_steps);

    println!("final_loss: {:.4}", report.final_loss(1));
    println!("params: {}", model.num_params());
    println!("train_steps_per_s: {:.1}", steps as f64 / train_s);
    println!("sample_points_per_s: {:.1}", samples as f64 / sample_s);
    Ok(())
}
