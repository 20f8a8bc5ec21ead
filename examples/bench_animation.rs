//! How long an animation takes to render: 60 frames of 1 000 points, with the density p_t
//! behind them, and with the vector field behind them.
//!
//! ```text
//! cargo run --release --example bench_animation [-- --out flow.gif]
//! ```
//!
//! Particles follow the exact marginal field from N(0, I) to eight Gaussians (CondOT
//! path), 59 midpoint steps; the density behind them is the closed-form p_t. Only
//! the rendering and GIF encoding are timed. The last lines are `gif_density_s: X`
//! and `gif_field_s: Y` (seconds, median of three).

use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::marginal::Marginal;
use flowmatch::path::CondOT;
use flowmatch::plot::Animation;
use flowmatch::solver::{solve_trajectory, Method, TimeGrid};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.iter().position(|a| a == "--out").and_then(|i| args.get(i + 1)).cloned();
    if let Err(e) = run(out) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(out: Option<String>) -> flowmatch::Result<()> {
    let target = EightGaussians::torchcfm();
    let m = Marginal::from_mixture(target.as_mixture(), CondOT)?;
    let x0 = StandardGaussian::new(2)?.sample(1000, 1)?;
    let sol = solve_trajectory(&m, &x0, &TimeGrid::uniform(0.0, 1.0, 59)?, Method::Midpoint)?;
    let states = sol.trajectory.expect("kept");
    let times = sol.times;
    let med =
        |f: &dyn Fn() -> flowmatch::Result<flowmatch::plot::Gif>| -> flowmatch::Result<(f64, flowmatch::plot::Gif)> {
            let mut ts = Vec::new();
            let mut last = None;
            for _ in 0..3 {
                let t0 = Instant::now();
                last = Some(f()?);
                ts.push(t0.elapsed().as_secs_f64());
            }
            ts.sort_by(f64::total_cmp);
            Ok((ts[1], last.expect("three runs")))
        };
    let (density_s, gif) = med(&|| Animation::new(&states, &times).density(&m).title("N(0, I) → 8 Gaussians").build())?;
    println!("{gif:?}");
    if let Some(path) = &out {
        gif.save(path)?;
        println!("saved {path}");
    }
    let (field_s, gif2) = med(&|| Animation::new(&states, &times).field(&m).title("the field u_t").build())?;
    println!("{gif2:?}");
    println!("gif_density_s: {density_s:.3}");
    println!("gif_field_s: {field_s:.3}");
    Ok(())
}
