//! Log-likelihood speed, on the settings of `shared/bench/meta_likelihood.py` (Meta's
//! `flow_matching`, `ODESolver.compute_likelihood`).
//!
//! ```text
//! cargo run --release --example likelihood_bench -- [--points 10000] [--hidden 64] [--steps 20] [--hutchinson] [--threads N]
//! ```
//!
//! Model: MLP [x (2), t (1)] → H → H → H → 2 with SiLU and random weights (the weights do not
//! change the cost). Points: 2·N(0, I). Grid: t = 1 → 0 in `--steps` equal midpoint steps
//! (2 evaluations each). Divergence: exact (forward-mode Jacobian-vector products with the d
//! unit vectors), or Hutchinson with one Rademacher probe (`--hutchinson`). Source: N(0, I).
//! One warm-up run, then the median of 3 timed runs. `--threads N` sets `FLOWMATCH_THREADS`
//! (default: one thread per CPU). The last line is `loglik_points_per_s: X`.

use flowmatch::data::StandardGaussian;
use flowmatch::likelihood::{Likelihood, Probe};
use flowmatch::nn::Net;
use flowmatch::solver::Method;
use flowmatch::Points;
use std::time::Instant;

fn usage(msg: &str) -> ! {
    eprintln!("{msg}; options: --points N --hidden H --steps K --hutchinson --threads N");
    std::process::exit(2);
}

fn main() {
    let mut opts = [("--points", 10_000usize), ("--hidden", 64), ("--steps", 20), ("--threads", 0)];
    let mut hutchinson = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--hutchinson" {
            hutchinson = true;
            i += 1;
            continue;
        }
        match opts.iter_mut().find(|(k, _)| *k == args[i]) {
            Some((k, v)) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
                Some(n) => *v = n,
                None => usage(&format!("{k} needs a whole number")),
            },
            None => usage(&format!("unknown argument '{}'", args[i])),
        }
        i += 2;
    }
    let [points, hidden, steps, threads] = opts.map(|(_, v)| v);
    if threads > 0 {
        // Read once, when the first parallel loop starts.
        std::env::set_var("FLOWMATCH_THREADS", threads.to_string());
    }
    if let Err(e) = run(points, hidden, steps, hutchinson) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(points: usize, hidden: usize, steps: usize, hutchinson: bool) -> flowmatch::Result<()> {
    let model = Net::mlp(2, hidden)?;
    let x1 = Points::randn(points, 2, 0) * 2.0;
    let source = StandardGaussian::new(2)?;
    let mut settings = Likelihood::new(Method::Midpoint, steps)?;
    if hutchinson {
        settings = settings.hutchinson(1, Probe::Rademacher, 0)?;
    }
    let _ = settings.log_prob(&model, &source, &x1)?; // warm-up
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        result = Some(settings.log_prob(&model, &source, &x1)?);
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let result = result.expect("three runs");
    println!(
        "divergence: {}; method midpoint, {steps} steps ({} NFE), {points} points, hidden {hidden}, threads {}, mean log p {:.4}",
        if hutchinson { "hutchinson (1 Rademacher probe)" } else { "exact" },
        result.nfe,
        std::env::var("FLOWMATCH_THREADS").unwrap_or_else(|_| "default".into()),
        result.mean()
    );
    println!("loglik_points_per_s: {:.1}", points as f64 / times[1]);
    Ok(())
}
