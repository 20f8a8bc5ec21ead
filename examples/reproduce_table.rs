//! TorchCFM's two-dimensional comparison reproduced: every method side by side with the yardstick.
//!
//! ```text
//! cargo run --release --example reproduce_table                       # the table from the stored runs
//! cargo run --release --example reproduce_table -- --run [--tasks a,b] [--methods a,b] [--seeds 0,1]
//! ```
//!
//! Reads our runs (`results/benchmark_2d.tsv`, written by `benchmark_2d`) and the yardstick's
//! (`results/torchcfm_2d.tsv`, refreshed by `scripts/refresh_torchcfm_2d.py`), and prints, for
//! every task × method, the median W2 of each side, the W2 floor, the median NPE of each side,
//! how many seeds each median is over, and whether the targets hold (W2 ≤ 1.1 × theirs, NPE ≤
//! 1.1 × theirs + 0.01). A cell is judged once both sides have `--min-seeds` seeds (3 by
//! default); before that it is "pending". Ours: SiLU MLP and Adam; TorchCFM's: SELU and AdamW.
//!
//! `--run` first retrains our models (`benchmark_2d` for each task × method × seed, one
//! thread each, one after the other), replacing their rows in `results/benchmark_2d.tsv` as
//! each finishes, with progress. All 95 runs take about an hour of one core when the machine is
//! otherwise quiet (OT-CFM and SB-CFM about 65 s each, measured 2026-11-30 at 300 steps/s with the
//! other core busy: the exact minibatch assignment of 512 × 512 every step; VP-CFM about 5 s; I-CFM
//! and FM seconds to tens of seconds); the stored rows took 3.8 h in all because they were made beside
//! the TorchCFM yardstick queue at loads up to 29. Restrict with the flags.
//!
//! The last lines are machine-readable: `cells_met: K/N` (N the cells judged), `cells_missed`,
//! `cells_pending`, `cells_na`, and `otcfm_npe_below_half_icfm: K/T` (the paper's ordering,
//! on our runs, over the tasks where both have runs).

mod common;

use flowmatch::metrics::runs::{self, compare, markdown_table, read_runs, summarize, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Args {
    run: bool,
    tasks: Vec<String>,
    methods: Vec<String>,
    seeds: Vec<u64>,
    min_seeds: usize,
}

fn list(v: &str) -> Vec<String> {
    v.split(',').filter(|s| !s.is_empty()).map(String::from).collect()
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        run: false,
        tasks: runs::TASKS.iter().map(|t| t.0.to_string()).collect(),
        methods: runs::METHODS.iter().map(|m| m.to_string()).collect(),
        seeds: (0..5).collect(),
        min_seeds: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--run" => a.run = true,
            "--tasks" => a.tasks = list(&v()?),
            "--methods" => a.methods = list(&v()?),
            "--seeds" => {
                a.seeds = list(&v()?)
                    .iter()
                    .map(|s| s.parse().map_err(|e| format!("--seeds: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--min-seeds" => a.min_seeds = v()?.parse().map_err(|e| format!("--min-seeds: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: reproduce_table [--run [--tasks a,b] [--methods a,b] [--seeds 0,1]] \
                            [--min-seeds N]"
                    .into())
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    Ok(a)
}

fn main() {
    common::main_with(parse, run);
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(a: &Args) -> flowmatch::Result<()> {
    let ours_path = root().join("results/benchmark_2d.tsv");
    if a.run {
        retrain(a, &ours_path)?;
    }
    let ours = read_runs(&ours_path)?;
    let theirs = read_runs(root().join("results/torchcfm_2d.tsv"))?;
    let cells = compare(&ours, &theirs, a.min_seeds);
    println!("TorchCFM's 2-D comparison on this machine: medians over the seeds run (ours: SiLU MLP + Adam;");
    println!(
        "TorchCFM 1.0.7: SELU MLP + AdamW; both 3×64, lr 1e-3, batch 512, 20 000 steps, σ = 0.1, 20 Euler steps)."
    );
    println!(
        "Targets: W2 ≤ 1.1 × TorchCFM's; NPE ≤ 1.1 × TorchCFM's + 0.01; judged with ≥ {} seeds a side.\n",
        a.min_seeds
    );
    print!("{}", markdown_table(&cells));
    let count = |f: fn(&Verdict) -> bool| cells.iter().filter(|c| f(&c.verdict)).count();
    let met = count(|v| *v == Verdict::Met);
    let missed = count(|v| matches!(v, Verdict::Missed { .. }));
    let pending = count(|v| *v == Verdict::Pending);
    let na = count(|v| *v == Verdict::NotApplicable);
    let (mut below, mut tasks) = (0, 0);
    for (task, _) in runs::TASKS {
        let npe = |m: &str| summarize(&ours, task, m).and_then(|s| s.npe);
        if let (Some(ot), Some(i)) = (npe("otcfm"), npe("icfm")) {
            tasks += 1;
            below += usize::from(ot < 0.5 * i);
        }
    }
    println!();
    println!("cells_met: {met}/{}", met + missed);
    println!("cells_missed: {missed}");
    println!("cells_pending: {pending}");
    println!("cells_na: {na}");
    println!("otcfm_npe_below_half_icfm: {below}/{tasks}");
    Ok(())
}

/// Runs `benchmark_2d` for every selected cell and seed, replacing each run's row as it finishes.
fn retrain(a: &Args, ours_path: &Path) -> flowmatch::Result<()> {
    let io = |e: std::io::Error| flowmatch::Error::Io { path: ours_path.display().to_string(), reason: e.to_string() };
    println!("building benchmark_2d …");
    let built = Command::new("cargo")
        .args(["build", "--release", "--example", "benchmark_2d"])
        .current_dir(root())
        .status()
        .map_err(io)?;
    if !built.success() {
        return Err(flowmatch::Error::invalid("--run", "cargo build --release --example benchmark_2d failed"));
    }
    let bin = root().join("target/release/examples/benchmark_2d");
    let jobs: Vec<(String, String, u64)> = a
        .tasks
        .iter()
        .flat_map(|t| a.methods.iter().map(move |m| (t.clone(), m.clone())))
        .filter(|(t, m)| !(m == "fm" && t == "moons-8gaussians"))
        .flat_map(|(t, m)| a.seeds.iter().map(move |&s| (t.clone(), m.clone(), s)))
        .collect();
    let start = Instant::now();
    for (k, (task, method, seed)) in jobs.iter().enumerate() {
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(String::from))
            .unwrap_or_else(|| "-".into());
        let seed_s = seed.to_string();
        let out = Command::new(&bin)
            .args(["--task", task, "--method", method, "--seed", &seed_s])
            .env("FLOWMATCH_THREADS", "1")
            .output()
            .map_err(io)?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(flowmatch::Error::invalid(
                "--run",
                format!("benchmark_2d {task} {method} {seed} failed: {}", String::from_utf8_lossy(&out.stderr)),
            ));
        }
        let value =
            |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).map(str::trim).unwrap_or("-").to_string();
        let (w2, npe, floor) = (value("w2:"), value("npe:"), value("w2_floor:"));
        // "trained N steps in Xs (Y steps/s), …"
        let trained = text.lines().find(|l| l.starts_with("trained")).unwrap_or("");
        let words: Vec<&str> = trained.split_whitespace().collect();
        let secs = words.get(4).map_or("-", |w| w.trim_end_matches('s'));
        let rate = words.get(5).map_or("-", |w| w.trim_start_matches('('));
        let date = Command::new("date")
            .args(["-u", "+%F"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "-".into());
        let command = format!(
            "FLOWMATCH_THREADS=1 cargo run --release --example benchmark_2d -- --task {task} --method {method} --seed {seed}"
        );
        let row = [task, &seed_s, method, &w2, &npe, &floor, secs, rate, &load, &date, &command].map(|s| s.to_string());
        replace_row(ours_path, &row).map_err(io)?;
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "[{}/{}] {task} {method} seed {seed}: w2 {w2}, npe {npe} (floor {floor}); {elapsed:.0}s elapsed, load {load}",
            k + 1,
            jobs.len()
        );
    }
    Ok(())
}

/// Rewrites the results file with `row` in place of any row of the same (task, seed, method),
/// through a temporary file renamed over the old one.
fn replace_row(path: &Path, row: &[String; 11]) -> std::io::Result<()> {
    let header = "task\tseed\tmethod\tw2\tnpe\tw2_floor\ttrain_s\tsteps_per_s\tload\tdate\tcommand";
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| format!("{header}\n"));
    let same = |l: &str| {
        let f: Vec<&str> = l.split('\t').collect();
        f.len() > 2 && runs::canonical_task(f[0]) == runs::canonical_task(&row[0]) && f[1] == row[1] && f[2] == row[2]
    };
    let mut text: String = old.lines().filter(|l| !same(l)).map(|l| format!("{l}\n")).collect();
    text.push_str(&row.join("\t"));
    text.push('\n');
    let tmp = path.with_extension("tsv.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}
