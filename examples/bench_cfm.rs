//! Training and sampling speed, on the settings of `shared/bench/torch_cfm.py`.
//!
//! ```text
//! cargo run --release --example bench_cfm -- [--device cpu] [--hidden 256] [--batch 256] [--steps 1000] [--samples 10000] [--ode-steps 100]
//! ```
//!
//! `--device cuda` (or `cuda:N`) trains and samples on a GPU; it needs a build with
//! `--features cuda` (`scripts/cuda-build.sh`, run by `cuda/run-on-gpu.sh`). Every step reads its
//! loss back and every model call its output, so the GPU's work is finished when a timer stops.
//!
//! Model: MLP [x (2), t (1)] → H → H → H → 2 with SiLU. Path: CondOT, t ~ U(0, 1),
//! x₀ ~ N(0, I), x₁ ~ eight Gaussians. Adam at lr 1e-3, batch B, 20 warm-up steps,
//! then STEPS timed steps. Sampling: N points, K midpoint steps (2K model calls),
//! no autograd. The model is built on the CPU from seed 0 and copied to the device.
//! The last two lines are `train_steps_per_s: X` and
//! `sample_points_per_s: Y`; run PyTorch's script in turn on the same machine and
//! compare the ratios.

use flowmatch::data::EightGaussians;
use flowmatch::data::{Dataset, StandardGaussian};
use flowmatch::nn::{Device, Net};
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::{Progress, Trainer};
use std::time::Instant;

fn main() {
    let mut opts =
        [("--hidden", 256usize), ("--batch", 256), ("--steps", 1000), ("--samples", 10_000), ("--ode-steps", 100)];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut device = Device::Cpu;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--device" {
            match args.get(i + 1).map(|s| s.parse::<Device>()) {
                Some(Ok(d)) => device = d,
                Some(Err(e)) => {
                    eprintln!("--device: {e}");
                    std::process::exit(2);
                }
                None => {
                    eprintln!("--device needs a value: cpu, cuda or cuda:N");
                    std::process::exit(2);
                }
            }
            i += 2;
            continue;
        }
        match opts.iter_mut().find(|(k, _)| *k == args[i]) {
            Some((k, v)) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
                Some(n) => *v = n,
                None => {
                    eprintln!("{k} needs a positive whole number");
                    std::process::exit(2);
                }
            },
            None => {
                eprintln!(
                    "unknown argument '{}'; options: --device --hidden --batch --steps --samples --ode-steps",
                    args[i]
                );
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let [hidden, batch, steps, samples, ode_steps] = opts.map(|(_, v)| v);
    if let Err(e) = run(device, hidden, batch, steps, samples, ode_steps) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(
    device: Device,
    hidden: usize,
    batch: usize,
    steps: usize,
    samples: usize,
    ode_steps: usize,
) -> flowmatch::Result<()> {
    let mut model = Net::mlp(2, hidden)?.on(device)?;
    println!("model: {model:?}");
    println!("device: {}", model.device());
    println!("batch: {batch}");
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
