//! Stored benchmark runs read back, and the side-by-side comparison of two implementations.
//!
//! ```text
//! a run:    (task, seed, method) ↦ W2, NPE, W2 floor          (one row of a results .tsv)
//! a cell:   (task, method) ↦ medians over the seeds run, and how many seeds
//! targets:  W2_ours ≤ 1.1 · W2_theirs,   NPE_ours ≤ 1.1 · NPE_theirs + 0.01
//! ```
//!
//! The files are tab-separated with a header line naming the columns (at least `task`,
//! `seed`, `method`, `w2`, `npe`, `w2_floor`); lines starting with `#` are comments. Rows
//! whose seed is not a number (`median` rows summarising older runs) are skipped: a cell is
//! only ever summarised from the runs it has. Task names are those of TorchCFM's yardstick
//! (`gaussians`, `moons`, `moons-8gaussians`, `scurve`); `8gaussians` reads as `gaussians`.

use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The tasks of the 2-D comparison, in the yardstick's names, with whether the source is N(0, I).
pub const TASKS: [(&str, bool); 4] =
    [("gaussians", true), ("moons", true), ("moons-8gaussians", false), ("scurve", true)];

/// The methods of the comparison, by their `CfmMethod` names.
pub const METHODS: [&str; 5] = ["icfm", "otcfm", "sbcfm", "fm", "vpcfm"];

/// W2 target: ours ≤ `W2_RATIO` × theirs.
pub const W2_RATIO: f64 = 1.1;
/// NPE target: ours ≤ `NPE_RATIO` × theirs + [`NPE_SLACK`].
pub const NPE_RATIO: f64 = 1.1;
/// The absolute slack of the NPE target (NPE near 0.02 is mostly noise over five seeds).
pub const NPE_SLACK: f64 = 0.01;

/// One stored run.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The task, in the yardstick's name.
    pub task: String,
    /// The seed.
    pub seed: u64,
    /// The method name.
    pub method: String,
    /// W2 of 1 000 generated points against 1 000 target points.
    pub w2: f64,
    /// The normalised path energy, when the run recorded it.
    pub npe: Option<f64>,
    /// W2 between two target samples of the same size: the noise floor of `w2`.
    pub w2_floor: f64,
}

/// The yardstick's name of a task (`8gaussians` → `gaussians`; other names unchanged).
pub fn canonical_task(task: &str) -> &str {
    if task == "8gaussians" {
        "gaussians"
    } else {
        task
    }
}

/// The path of `results/NAME` in the repository: looked up from the current folder upwards,
/// so a notebook finds it from `notebooks/` and from `notebooks/solutions/` alike.
///
/// Errors: [`Error::Io`] when no folder on the way up has `results/NAME`.
pub fn results_file(name: &str) -> Result<PathBuf> {
    let here = std::env::current_dir().map_err(|e| Error::Io { path: ".".into(), reason: e.to_string() })?;
    here.ancestors().map(|d| d.join("results").join(name)).find(|p| p.is_file()).ok_or_else(|| Error::Io {
        path: format!("results/{name}"),
        reason: format!(
            "not found in {} or any folder above it; run from inside the repository (the file is committed there)",
            here.display()
        ),
    })
}

/// Reads the runs of a results file (see the module notes for the format).
///
/// Errors: [`Error::Io`] when the file cannot be read, or has no header with the columns
/// `task`, `seed`, `method`, `w2`, `npe`, `w2_floor`, or a number does not parse.
pub fn read_runs(path: impl AsRef<Path>) -> Result<Vec<Run>> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
    parse_runs(&text).map_err(|reason| Error::Io { path: path.display().to_string(), reason })
}

fn parse_runs(text: &str) -> std::result::Result<Vec<Run>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<&str> = lines.next().ok_or("no header line")?.split('\t').collect();
    let col = |name: &str| {
        header.iter().position(|h| *h == name).ok_or(format!("no column '{name}' in the header {header:?}"))
    };
    let (task, seed, method, w2, npe, floor) =
        (col("task")?, col("seed")?, col("method")?, col("w2")?, col("npe")?, col("w2_floor")?);
    let mut runs = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |k: usize| f.get(k).copied().ok_or(format!("line '{line}' has too few columns"));
        let Ok(seed) = get(seed)?.parse::<u64>() else { continue };
        let num = |k: usize| -> std::result::Result<f64, String> {
            let v = get(k)?;
            v.parse::<f64>().map_err(|_| format!("'{v}' in line '{line}' is not a number"))
        };
        runs.push(Run {
            task: canonical_task(get(task)?).to_string(),
            seed,
            method: get(method)?.to_string(),
            w2: num(w2)?,
            npe: if get(npe)? == "-" { None } else { Some(num(npe)?) },
            w2_floor: num(floor)?,
        });
    }
    Ok(runs)
}

/// The runs of one cell, one per seed in seed order (the last stored run of a seed counts).
pub fn cell_runs<'a>(runs: &'a [Run], task: &str, method: &str) -> Vec<&'a Run> {
    let task = canonical_task(task);
    let mut cell: Vec<&Run> = Vec::new();
    for r in runs.iter().filter(|r| r.task == task && r.method == method) {
        match cell.iter_mut().find(|c| c.seed == r.seed) {
            Some(c) => *c = r,
            None => cell.push(r),
        }
    }
    cell.sort_by_key(|r| r.seed);
    cell
}

/// The median of a list (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) })
}

/// The medians of one cell over the seeds it has.
#[derive(Clone, Debug, PartialEq)]
pub struct CellSummary {
    /// How many seeds the medians are over.
    pub seeds: usize,
    /// Median W2.
    pub w2: f64,
    /// Median NPE over the runs that recorded it.
    pub npe: Option<f64>,
    /// Median W2 floor.
    pub w2_floor: f64,
}

/// The medians of a cell, or `None` when it has no run.
pub fn summarize(runs: &[Run], task: &str, method: &str) -> Option<CellSummary> {
    let cell = cell_runs(runs, task, method);
    let of = |f: fn(&Run) -> Option<f64>| median(&cell.iter().filter_map(|r| f(r)).collect::<Vec<_>>());
    Some(CellSummary {
        seeds: cell.len(),
        w2: of(|r| Some(r.w2))?,
        npe: of(|r| r.npe),
        w2_floor: of(|r| Some(r.w2_floor))?,
    })
}

/// What a cell of the comparison says.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Both targets hold.
    Met,
    /// A target misses: which ones.
    Missed {
        /// W2_ours > 1.1 · W2_theirs.
        w2: bool,
        /// NPE_ours > 1.1 · NPE_theirs + 0.01.
        npe: bool,
    },
    /// Not judged yet: one side has fewer seeds than asked for.
    Pending,
    /// The method does not apply to the task (FM needs an N(0, I) source).
    NotApplicable,
}

/// One cell of the side-by-side table.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The task (yardstick name).
    pub task: String,
    /// The method name.
    pub method: String,
    /// Our medians.
    pub ours: Option<CellSummary>,
    /// The yardstick's medians.
    pub theirs: Option<CellSummary>,
    /// The verdict on the targets.
    pub verdict: Verdict,
}

/// The comparison of every task × method of [`TASKS`] × [`METHODS`]; a cell is judged only when
/// both sides have at least `min_seeds` seeds with an NPE.
pub fn compare(ours: &[Run], theirs: &[Run], min_seeds: usize) -> Vec<Comparison> {
    let mut out = Vec::new();
    for (task, gaussian_source) in TASKS {
        for method in METHODS {
            let (o, t) = (summarize(ours, task, method), summarize(theirs, task, method));
            let verdict = if method == "fm" && !gaussian_source {
                Verdict::NotApplicable
            } else {
                match (&o, &t) {
                    (Some(o), Some(t)) if o.seeds >= min_seeds && t.seeds >= min_seeds => judge(o, t),
                    _ => Verdict::Pending,
                }
            };
            out.push(Comparison { task: task.into(), method: method.into(), ours: o, theirs: t, verdict });
        }
    }
    out
}

/// The targets judged on two cells' medians, whatever their seed counts:
/// `W2_ours ≤ 1.1 · W2_theirs` and `NPE_ours ≤ 1.1 · NPE_theirs + 0.01`
/// ([`Verdict::Pending`] when either side has no NPE).
pub fn judge(ours: &CellSummary, theirs: &CellSummary) -> Verdict {
    match (ours.npe, theirs.npe) {
        (Some(on), Some(tn)) => {
            let w2 = ours.w2 > W2_RATIO * theirs.w2;
            let npe = on > NPE_RATIO * tn + NPE_SLACK;
            if w2 || npe {
                Verdict::Missed { w2, npe }
            } else {
                Verdict::Met
            }
        }
        _ => Verdict::Pending,
    }
}

/// Two blocks of seeds of one library judged against each other by the targets.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockVerdict {
    /// The seeds playing "ours".
    pub a: std::ops::Range<u64>,
    /// The seeds playing "theirs".
    pub b: std::ops::Range<u64>,
    /// What [`judge`] says of their medians.
    pub verdict: Verdict,
}

/// One implementation against itself: the seeds of a cell cut into the blocks
/// `0..block, block..2·block, …` (complete blocks only), and every ordered pair of different
/// blocks judged by the targets as if the two blocks came from two libraries.
///
/// ```text
/// Bₖ = { runs with seed in [k·b, (k+1)·b) },   verdict(j, k) = judge(median(Bⱼ), median(Bₖ)),  j ≠ k
/// ```
///
/// A target that one library misses against itself measures the seeds, not the library: this is
/// how often a median over `block` seeds decides the comparison by the draw alone.
pub fn self_comparison(runs: &[Run], task: &str, method: &str, block: usize) -> Vec<BlockVerdict> {
    let cell = cell_runs(runs, task, method);
    let block = block.max(1) as u64;
    let last = cell.last().map_or(0, |r| r.seed / block + 1);
    // The medians of each complete block, computed once.
    let blocks: Vec<(std::ops::Range<u64>, CellSummary)> = (0..last)
        .filter_map(|k| {
            let seeds = k * block..(k + 1) * block;
            let runs: Vec<Run> = cell.iter().filter(|r| seeds.contains(&r.seed)).map(|r| (*r).clone()).collect();
            (runs.len() as u64 == block).then(|| summarize(&runs, task, method).map(|s| (seeds, s))).flatten()
        })
        .collect();
    let mut out = Vec::new();
    for (a, sa) in &blocks {
        for (b, sb) in blocks.iter().filter(|(b, _)| b != a) {
            out.push(BlockVerdict { a: a.clone(), b: b.clone(), verdict: judge(sa, sb) });
        }
    }
    out
}

/// The comparison as a Markdown table: medians with the seed counts, the floor (ours / theirs)
/// and the verdict.
pub fn markdown_table(cells: &[Comparison]) -> String {
    let fmt = |v: Option<f64>| v.map_or("pending".to_string(), |x| format!("{x:.3}"));
    let mut s = String::from(
        "| task | method | W2 ours | W2 TorchCFM | W2 floor (ours / TorchCFM) | NPE ours | NPE TorchCFM | seeds \
         (ours / TorchCFM) | targets |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for c in cells {
        let (o, t) = (c.ours.as_ref(), c.theirs.as_ref());
        let verdict = match c.verdict {
            Verdict::Met => "met".to_string(),
            Verdict::Missed { w2, npe } => {
                let which: Vec<&str> = [(w2, "W2"), (npe, "NPE")].iter().filter(|p| p.0).map(|p| p.1).collect();
                format!("miss: {}", which.join(", "))
            }
            Verdict::Pending => "pending".into(),
            Verdict::NotApplicable => "n/a".into(),
        };
        if c.verdict == Verdict::NotApplicable {
            let _ = writeln!(s, "| {} | {} | n/a | n/a | n/a | n/a | n/a | n/a | n/a |", c.task, c.method);
            continue;
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} / {} | {} | {} | {} / {} | {} |",
            c.task,
            c.method,
            fmt(o.map(|o| o.w2)),
            fmt(t.map(|t| t.w2)),
            fmt(o.map(|o| o.w2_floor)),
            fmt(t.map(|t| t.w2_floor)),
            fmt(o.and_then(|o| o.npe)),
            fmt(t.and_then(|t| t.npe)),
            o.map_or(0, |o| o.seeds),
            t.map_or(0, |t| t.seeds),
            verdict
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# comment\ntask\tseed\tmethod\tw2\tnpe\tw2_floor\textra\n\
        8gaussians\t0\ticfm\t0.8\t0.2\t0.6\tx\n8gaussians\t1\ticfm\t0.6\t0.3\t0.5\tx\n\
        8gaussians\t2\ticfm\t0.7\t-\t0.4\tx\ngaussians\tmedian\ticfm\t9\t-\t9\tx\n";

    #[test]
    fn reads_runs_skips_median_rows_and_takes_medians() {
        let runs = parse_runs(FILE).unwrap();
        assert_eq!(runs.len(), 3);
        let s = summarize(&runs, "gaussians", "icfm").unwrap();
        assert_eq!(s.seeds, 3);
        assert!((s.w2 - 0.7).abs() < 1e-12 && (s.w2_floor - 0.5).abs() < 1e-12);
        assert!((s.npe.unwrap() - 0.25).abs() < 1e-12, "NPE median over the two runs that have one");
        assert!(summarize(&runs, "moons", "icfm").is_none());
        assert!(parse_runs("task\tseed\n").is_err(), "missing columns must be reported");
    }

    #[test]
    fn verdicts_follow_the_targets() {
        let run = |w2: f64, npe: f64, seed: u64| Run {
            task: "moons".into(),
            seed,
            method: "icfm".into(),
            w2,
            npe: Some(npe),
            w2_floor: 0.1,
        };
        let theirs: Vec<Run> = (0..3).map(|s| run(1.0, 0.10, s)).collect();
        let verdict = |ours: &[Run]| {
            compare(ours, &theirs, 3).into_iter().find(|c| c.task == "moons" && c.method == "icfm").unwrap().verdict
        };
        assert_eq!(verdict(&(0..3).map(|s| run(1.09, 0.12, s)).collect::<Vec<_>>()), Verdict::Met);
        assert_eq!(
            verdict(&(0..3).map(|s| run(1.11, 0.13, s)).collect::<Vec<_>>()),
            Verdict::Missed { w2: true, npe: true }
        );
        assert_eq!(verdict(&(0..2).map(|s| run(1.0, 0.1, s)).collect::<Vec<_>>()), Verdict::Pending);
        let cells = compare(&[], &[], 3);
        assert_eq!(cells.len(), 20);
        let na: Vec<_> = cells.iter().filter(|c| c.verdict == Verdict::NotApplicable).collect();
        assert_eq!(na.len(), 1);
        assert_eq!((na[0].task.as_str(), na[0].method.as_str()), ("moons-8gaussians", "fm"));
    }

    #[test]
    fn self_comparison_judges_every_ordered_pair_of_complete_blocks() {
        let run = |task: &str, seed: u64, w2: f64| Run {
            task: task.into(),
            seed,
            method: "otcfm".into(),
            w2,
            npe: Some(0.1),
            w2_floor: 0.1,
        };
        // Seeds 0-4 fit at W2 1.0, seeds 5-9 at 1.2, seeds 10-11 are an incomplete block; another task's
        // runs must not count.
        let mut runs: Vec<Run> = (0..12).map(|s| run("moons", s, if s < 5 { 1.0 } else { 1.2 })).collect();
        runs.extend((0..10).map(|s| run("scurve", s, 9.0)));
        let judged = self_comparison(&runs, "moons", "otcfm", 5);
        assert_eq!(judged.len(), 2, "two complete blocks, two ordered pairs: {judged:?}");
        assert_eq!((judged[0].a.clone(), judged[0].b.clone()), (0..5, 5..10));
        assert_eq!(judged[0].verdict, Verdict::Met, "1.0 <= 1.1 x 1.2");
        assert_eq!(judged[1].verdict, Verdict::Missed { w2: true, npe: false }, "1.2 > 1.1 x 1.0");
        assert!(self_comparison(&runs[..9], "moons", "otcfm", 5).is_empty(), "one complete block judges nothing");
    }
}
