//! Speed of the exact minibatch OT pairing at training batch sizes.
//!
//! ```text
//! cargo run --release --example bench_assignment -- [--n 512] [--reps 200]
//! ```
//!
//! Times `ot::optimal_assignment` between N(0, I) and each benchmark target (a
//! fresh pair of batches per call, as in training), and checks every result
//! against `metrics::w2_squared`. The last line is `assignment_ms_512: X`, the
//! median over the three tasks of the median time per call.

use flowmatch::data::{Dataset, EightGaussians, Moons, StandardGaussian};
use flowmatch::metrics::w2_squared;
use flowmatch::numeric::sq_dist;
use flowmatch::ot::{optimal_assignment, sinkhorn, SinkhornSettings};
use std::time::Instant;

fn main() {
    let mut n = 512usize;
    let mut reps = 200usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v: usize = args[i + 1].parse().unwrap_or_else(|_| {
            eprintln!("{} needs a whole number", args[i]);
            std::process::exit(2)
        });
        match args[i].as_str() {
            "--n" => n = v,
            "--reps" => reps = v,
            other => {
                eprintln!("unknown argument '{other}'; options: --n --reps");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    if let Err(e) = run(n, reps) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// A benchmark task: its name, the source and the target.
type Task = (&'static str, Box<dyn Dataset>, Box<dyn Dataset>);

fn run(n: usize, reps: usize) -> flowmatch::Result<()> {
    let gauss = StandardGaussian::new(2)?;
    let tasks: Vec<Task> = vec![
        ("8gaussians", Box::new(gauss.clone()), Box::new(EightGaussians::torchcfm())),
        ("moons", Box::new(gauss.clone()), Box::new(Moons::torchcfm())),
        ("moons-8gaussians", Box::new(Moons::torchcfm()), Box::new(EightGaussians::torchcfm())),
    ];
    let mut medians = Vec::new();
    for (name, source, target) in &tasks {
        let mut times = Vec::with_capacity(reps);
        for r in 0..reps as u64 {
            let a = source.sample(n, 2 * r)?;
            let b = target.sample(n, 2 * r + 1)?;
            let t0 = Instant::now();
            let sigma = optimal_assignment(&a, &b)?;
            times.push(t0.elapsed().as_secs_f64() * 1e3);
            if r < 5 {
                let cost: f64 = (0..n).map(|i| sq_dist(a.row(i), b.row(sigma[i]))).sum::<f64>() / n as f64;
                let exact = w2_squared(&a, &b)?;
                assert!((cost - exact).abs() <= 1e-9 * exact.max(1.0), "{name}: cost {cost} vs w2² {exact}");
            }
        }
        times.sort_by(f64::total_cmp);
        let med = times[times.len() / 2];
        println!("{name}: n = {n}, median {med:.3} ms, p90 {:.3} ms", times[times.len() * 9 / 10]);
        medians.push(med);
    }
    // The Sinkhorn pairing's plan on the first task, for comparison.
    for eps in [0.5, 0.1, 0.02] {
        let mut times = Vec::new();
        let mut iters = Vec::new();
        for r in 0..(reps / 10).max(3) as u64 {
            let a = tasks[0].1.sample(n, 2 * r)?;
            let b = tasks[0].2.sample(n, 2 * r + 1)?;
            let t0 = Instant::now();
            let s = SinkhornSettings { epsilon: eps, tolerance: 1e-4, max_iterations: 10_000 };
            let plan = sinkhorn(&a, &b, &s)?;
            times.push(t0.elapsed().as_secs_f64() * 1e3);
            iters.push(plan.iterations as f64);
        }
        times.sort_by(f64::total_cmp);
        iters.sort_by(f64::total_cmp);
        println!(
            "sinkhorn 8gaussians ε = {eps}: median {:.2} ms, {} iterations",
            times[times.len() / 2],
            iters[iters.len() / 2]
        );
    }
    medians.sort_by(f64::total_cmp);
    println!("assignment_ms_{n}: {:.3}", medians[1]);
    Ok(())
}
