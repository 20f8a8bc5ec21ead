//! `course execute`: run notebooks headless, each in a fresh kernel, keep the
//! executed copies, report timings, and fail on any error or panic.

use crate::notebook::{self, median, Problem, TRAINING_TAG};
use crate::paths::{show, Repo};
use crate::proc::fmt_secs;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct ExecOptions {
    /// Notebooks named on the command line (all of notebooks/ when empty).
    pub notebooks: Vec<String>,
    /// Where the executed copies go.
    pub out: Option<PathBuf>,
    /// Seconds per cell before it is stopped (0: no limit).
    pub timeout: u64,
    /// Keep running cells after an error or panic.
    pub keep_going: bool,
    /// Do not echo cell output while running.
    pub quiet: bool,
}

/// The notebooks to run: the named ones (a path, or a name in notebooks/ with or
/// without `.ipynb`), or every `*.ipynb` in notebooks/, sorted.
pub fn select(repo: &Repo, names: &[String]) -> Result<Vec<PathBuf>, String> {
    if names.is_empty() {
        let dir = repo.notebooks();
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read {}: {e}", show(&dir)))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("ipynb"))
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(format!("no notebooks (*.ipynb) in {}", show(&dir)));
        }
        return Ok(v);
    }
    names
        .iter()
        .map(|n| {
            let direct = PathBuf::from(n);
            let in_dir = repo.notebooks().join(n);
            let with_ext = repo.notebooks().join(format!("{n}.ipynb"));
            [direct, in_dir, with_ext]
                .into_iter()
                .find(|p| p.is_file())
                .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
                .ok_or_else(|| format!("notebook not found: {n} (looked in the working folder and in notebooks/)"))
        })
        .collect()
}

/// One notebook's result.
#[derive(Debug)]
struct NbResult {
    name: String,
    executed: PathBuf,
    ok: bool,
    total: Option<f64>,
    kernel_start: Option<f64>,
    setup: Option<f64>,
    median: Option<f64>,
    /// (cell number, seconds) of the cells that counted for the median.
    counted: Vec<f64>,
    cells: Vec<Value>,
    problems: Vec<Problem>,
    failure: Option<String>,
    warnings: Vec<String>,
    figures: usize,
    /// The pinned-versions check of the kernel's build folder.
    versions: Option<String>,
    /// Whether the executed copy carries a valid Jupyter signature.
    signed: bool,
}

pub fn run(repo: &Repo, opts: &ExecOptions) -> Result<i32, String> {
    let notebooks = select(repo, &opts.notebooks)?;
    let out_dir = opts.out.clone().unwrap_or_else(|| repo.notebooks().join("executed"));
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("cannot create {}: {e}", show(&out_dir)))?;
    let out_dir = std::fs::canonicalize(&out_dir).unwrap_or(out_dir);
    let runner = repo.scripts().join("run_notebook.py");

    let names = output_names(&repo.notebooks(), &notebooks);
    let mut results = Vec::new();
    for (k, (nb_path, name)) in notebooks.iter().zip(&names).enumerate() {
        // `name` is the notebook's path below notebooks/ without `.ipynb`, e.g. "solutions/7.3-fm".
        let executed = out_dir.join(format!("{name}.ipynb"));
        let timings = out_dir.join(format!("{name}.timings.json"));
        let figure_log = out_dir.join(format!("{name}.figures.log"));
        let kernel_report = out_dir.join(format!("{name}.kernel.json"));
        if let Some(parent) = executed.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", show(parent)))?;
        }
        let _ = std::fs::remove_file(&timings);
        println!();
        println!("==> [{}/{}] {} (fresh kernel)", k + 1, notebooks.len(), show(nb_path));
        let mut cmd = Command::new(repo.venv_python());
        cmd.arg(&runner)
            .arg("--in")
            .arg(nb_path)
            .arg("--out")
            .arg(&executed)
            .arg("--timings")
            .arg(&timings)
            .arg("--kernel")
            .arg(crate::evcxr::KERNEL_NAME)
            .arg("--cwd")
            .arg(nb_path.parent().unwrap_or(Path::new(".")))
            .arg("--timeout")
            .arg(opts.timeout.to_string())
            .arg("--figure-log")
            .arg(&figure_log)
            .arg("--kernel-report")
            .arg(&kernel_report);
        if opts.keep_going {
            cmd.arg("--keep-going");
        }
        if opts.quiet {
            cmd.arg("--quiet");
        }
        for (k, v) in repo.jupyter_env() {
            cmd.env(k, v);
        }
        let status = cmd.status().map_err(|e| format!("could not run {}: {e}", show(&runner)))?;
        let mut r = analyse(name, nb_path, &executed, &timings, &out_dir);
        check_versions(repo, &kernel_report, &mut r);
        if !status.success() && r.ok {
            r.ok = false;
            r.failure.get_or_insert_with(|| format!("the notebook runner exited with {status}"));
        }
        print_notebook(&r);
        results.push(r);
    }

    let all_ok = results.iter().all(|r| r.ok);
    print_summary(&results, &out_dir);
    write_report(&results, &out_dir);
    Ok(if all_ok { 0 } else { 1 })
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// A unique name for each notebook's outputs: its path below `notebooks_dir`
/// without `.ipynb` ("solutions/7.3-fm"), else its file stem; "-2", "-3", ... on a clash.
fn output_names(notebooks_dir: &Path, notebooks: &[PathBuf]) -> Vec<String> {
    let base = std::fs::canonicalize(notebooks_dir).unwrap_or_else(|_| notebooks_dir.to_path_buf());
    let mut used = std::collections::HashSet::new();
    notebooks
        .iter()
        .map(|p| {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            let rel = abs
                .strip_prefix(&base)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| abs.file_name().map(PathBuf::from).unwrap_or_default());
            let name = rel.with_extension("").to_string_lossy().replace('\\', "/");
            let name = if name.is_empty() { "notebook".to_string() } else { name };
            let mut unique = name.clone();
            let mut k = 1;
            while !used.insert(unique.clone()) {
                k += 1;
                unique = format!("{name}-{k}");
            }
            unique
        })
        .collect()
}

fn analyse(name: &str, source: &Path, executed: &Path, timings: &Path, out_dir: &Path) -> NbResult {
    let mut r = NbResult {
        name: format!("{name}.ipynb"),
        executed: executed.to_path_buf(),
        ok: true,
        total: None,
        kernel_start: None,
        setup: None,
        median: None,
        counted: Vec::new(),
        cells: Vec::new(),
        problems: Vec::new(),
        failure: None,
        warnings: Vec::new(),
        figures: 0,
        versions: None,
        signed: false,
    };
    if let Some(src) = read_json(source) {
        if let Some(diff) = notebook::check_setup_cell(&src) {
            r.warnings.push(diff);
        }
    }
    let Some(nb) = read_json(executed) else {
        r.ok = false;
        r.failure = Some(format!("no executed copy was written ({})", show(executed)));
        return r;
    };
    r.problems = notebook::find_problems(&nb);
    if !r.problems.is_empty() {
        r.ok = false;
    }

    // Figures: also saved as files next to the executed notebook.
    let figs = notebook::figures(&nb);
    let fig_dir = out_dir.join(name);
    let _ = std::fs::remove_dir_all(&fig_dir);
    if !figs.is_empty() && std::fs::create_dir_all(&fig_dir).is_ok() {
        let mut per_cell = std::collections::HashMap::new();
        for (number, ext, bytes) in &figs {
            let n = per_cell.entry(*number).or_insert(0);
            *n += 1;
            let _ = std::fs::write(fig_dir.join(format!("cell{number:02}-{n}.{ext}")), bytes);
        }
    }
    r.figures = figs.len();

    let Some(t) = read_json(timings) else {
        r.ok = false;
        r.failure.get_or_insert_with(|| "the runner wrote no timings (did it crash?)".into());
        return r;
    };
    r.total = t.get("total_seconds").and_then(Value::as_f64);
    r.signed = t.get("signed") == Some(&Value::Bool(true));
    r.kernel_start = t.get("kernel_start_seconds").and_then(Value::as_f64);
    if let Some(f) = t.get("failure").filter(|f| !f.is_null()) {
        r.ok = false;
        r.failure = Some(format!(
            "{}: {}",
            f.get("kind").and_then(Value::as_str).unwrap_or("failure"),
            f.get("message").and_then(Value::as_str).unwrap_or("")
        ));
    }
    r.cells = t.get("cells").and_then(Value::as_array).cloned().unwrap_or_default();
    // A dependency build that failed in the first cell, said in one line with its fix.
    if let Some(first) = r.cells.first().and_then(|c| c.get("index")).and_then(Value::as_u64) {
        if let Some(p) = r.problems.iter().find(|p| p.index == first as usize && p.kind == "error") {
            let full = notebook::cell_error_text(&nb, p.index).unwrap_or_else(|| p.excerpt.clone());
            r.failure = Some(format!(
                "the kernel could not build its dependencies: {}",
                crate::kernels::condense_dependency_failure(&full)
            ));
        }
    }
    // Every figure a cell drew must be shown: evcxr keeps only a cell's last one.
    let hidden = hidden_figures(&r.cells, &figs);
    if !hidden.is_empty() {
        r.ok = false;
        r.problems.extend(hidden);
    }
    let not_run = r.cells.iter().filter(|c| c.get("ran") != Some(&Value::Bool(true))).count();
    if not_run > 0 {
        r.ok = false;
        r.failure.get_or_insert_with(|| format!("{not_run} cell(s) did not run"));
    }
    r.setup = r.cells.first().and_then(|c| c.get("seconds")).and_then(Value::as_f64);
    r.counted = r
        .cells
        .iter()
        .filter(|c| !cell_tags(c).iter().any(|t| t == TRAINING_TAG))
        .filter_map(|c| c.get("seconds").and_then(Value::as_f64))
        .collect();
    r.median = median(&r.counted);
    r
}

/// A problem for every cell that drew more figures (the library's count, `figures_drawn`
/// in the runner's timings) than its outputs show.
fn hidden_figures(cells: &[Value], shown: &[notebook::Figure]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for c in cells {
        let Some(drawn) = c.get("figures_drawn").and_then(Value::as_u64) else { continue };
        let idx = c.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
        let n = c.get("number").and_then(Value::as_u64).unwrap_or(0) as usize;
        let in_cell = shown.iter().filter(|(number, _, _)| *number == n).count() as u64;
        if drawn > in_cell {
            problems.push(Problem {
                index: idx,
                kind: "figures",
                excerpt: format!(
                    "the cell drew {drawn} figures but the notebook shows {in_cell}: Jupyter keeps only the last \
                     figure of a cell. Compose them into one (flowmatch::plot::row, plot::grid) or split the cell"
                ),
            });
        }
    }
    problems
}

/// Compares the Cargo.lock of the build folder the kernel used with the repository's.
fn check_versions(repo: &Repo, kernel_report: &Path, r: &mut NbResult) {
    let report = std::fs::read_to_string(kernel_report).unwrap_or_default();
    let Some(folder) = report
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v.get("folder").and_then(Value::as_str).map(PathBuf::from))
    else {
        r.warnings
            .push("the kernel launcher wrote no report: the kernel's dependency versions were not checked".into());
        return;
    };
    let (Ok(pinned), Some(used)) =
        (std::fs::read_to_string(repo.root.join("Cargo.lock")), crate::kernels::kernel_lock(&folder))
    else {
        r.warnings.push(format!("no Cargo.lock in {}: versions not checked", show(&folder)));
        return;
    };
    match crate::kernels::compare_locks(&pinned, &used) {
        Ok(summary) => r.versions = Some(summary),
        Err(drift) => {
            r.ok = false;
            r.failure.get_or_insert_with(|| {
                format!(
                    "the kernel built against other versions than Cargo.lock: {}. Check that the kernel launcher \
                     copies Cargo.lock into {}",
                    drift.join(", "),
                    show(&folder)
                )
            });
        }
    }
}

fn cell_tags(c: &Value) -> Vec<String> {
    c.get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn opt_secs(s: Option<f64>) -> String {
    s.map(fmt_secs).unwrap_or_else(|| "-".into())
}

fn print_notebook(r: &NbResult) {
    println!();
    println!(
        "--- {}: {}  (whole notebook {}, kernel start {})",
        r.name,
        if r.ok { "OK" } else { "FAILED" },
        opt_secs(r.total),
        opt_secs(r.kernel_start)
    );
    for c in &r.cells {
        let n = c.get("number").and_then(Value::as_u64).unwrap_or(0);
        let idx = c.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
        let tags = cell_tags(c);
        let secs = c.get("seconds").and_then(Value::as_f64);
        let ran = c.get("ran") == Some(&Value::Bool(true));
        let verdict = match r.problems.iter().find(|p| p.index == idx) {
            Some(p) => p.kind.to_uppercase(),
            None if ran => "ok".into(),
            None => "not run".into(),
        };
        let tag = if tags.is_empty() { String::new() } else { format!("[{}]", tags.join(",")) };
        let first = c.get("first_line").and_then(Value::as_str).unwrap_or("");
        println!("    cell {n:>2}  {:>8}  {verdict:<7} {tag:<11} {}", opt_secs(secs), truncate(first, 60));
    }
    let excluded = r.cells.iter().filter(|c| cell_tags(c).iter().any(|t| t == TRAINING_TAG)).count();
    println!(
        "    median cell time {} over {} cell(s) ({} `{TRAINING_TAG}` cell(s) excluded); set-up cell {}",
        opt_secs(r.median),
        r.counted.len(),
        excluded,
        opt_secs(r.setup)
    );
    println!(
        "    executed copy: {}{}{}",
        show(&r.executed),
        if r.figures > 0 { format!(" ({} figure(s) saved)", r.figures) } else { String::new() },
        if r.signed { ", signed (JupyterLab trusts it)" } else { ", NOT signed" }
    );
    if let Some(v) = &r.versions {
        println!("    kernel versions: {v}");
    }
    for w in &r.warnings {
        println!("    warning: {}", w.replace('\n', "\n      "));
    }
    for p in &r.problems {
        println!("    {} in cell {}:", p.kind.to_uppercase(), number_of(r, p.index));
        for line in p.excerpt.lines() {
            println!("      {line}");
        }
    }
    if let Some(f) = &r.failure {
        println!("    failure: {f}");
    }
}

fn number_of(r: &NbResult, index: usize) -> String {
    r.cells
        .iter()
        .find(|c| c.get("index").and_then(Value::as_u64) == Some(index as u64))
        .and_then(|c| c.get("number").and_then(Value::as_u64))
        .map(|n| n.to_string())
        .unwrap_or_else(|| format!("#{index}"))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

fn print_summary(results: &[NbResult], out_dir: &Path) {
    println!();
    println!("=== Summary ({} notebook(s), executed copies in {})", results.len(), show(out_dir));
    let w = results.iter().map(|r| r.name.len()).max().unwrap_or(8).max(8);
    println!(
        "    {:<w$}  {:<6}  {:>9}  {:>9}  {:>6}  {:>12}",
        "notebook", "status", "total", "set-up", "cells", "median cell"
    );
    for r in results {
        println!(
            "    {:<w$}  {:<6}  {:>9}  {:>9}  {:>6}  {:>12}",
            r.name,
            if r.ok { "ok" } else { "FAILED" },
            opt_secs(r.total),
            opt_secs(r.setup),
            r.cells.len(),
            opt_secs(r.median)
        );
    }
    let total: f64 = results.iter().filter_map(|r| r.total).sum();
    let all: Vec<f64> = results.iter().flat_map(|r| r.counted.iter().copied()).collect();
    println!(
        "    all notebooks: {}; median cell time {} (training cells excluded)",
        fmt_secs(total),
        opt_secs(median(&all))
    );
    let failed: Vec<&str> = results.iter().filter(|r| !r.ok).map(|r| r.name.as_str()).collect();
    if !failed.is_empty() {
        println!("    failed: {}", failed.join(", "));
    }
    // The closing line, in the plain "N passed, N failed" form CI logs understand.
    println!("notebooks: {} passed, {} failed", results.len() - failed.len(), failed.len());
}

fn write_report(results: &[NbResult], out_dir: &Path) {
    let nbs: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({
                "notebook": r.name,
                "executed": r.executed,
                "ok": r.ok,
                "total_seconds": r.total,
                "kernel_start_seconds": r.kernel_start,
                "setup_cell_seconds": r.setup,
                "median_cell_seconds": r.median,
                "cells": r.cells,
                "problems": r.problems.iter().map(|p| json!({"index": p.index, "kind": p.kind, "excerpt": p.excerpt})).collect::<Vec<_>>(),
                "failure": r.failure,
                "figures": r.figures,
                "signed": r.signed,
                "versions": r.versions,
            })
        })
        .collect();
    let all: Vec<f64> = results.iter().flat_map(|r| r.counted.iter().copied()).collect();
    let report = json!({
        "notebooks": nbs,
        "total_seconds": results.iter().filter_map(|r| r.total).sum::<f64>(),
        "median_cell_seconds": median(&all),
        "ok": results.iter().all(|r| r.ok),
    });
    let _ = std::fs::write(out_dir.join("report.json"), serde_json::to_string_pretty(&report).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_drew_more_figures_than_it_shows_is_a_problem() {
        let cells = vec![
            json!({"index": 3, "number": 2, "figures_drawn": 1}),
            json!({"index": 5, "number": 3, "figures_drawn": 3}),
            json!({"index": 7, "number": 4, "figures_drawn": 0}),
            json!({"index": 9, "number": 5}),
        ];
        let fig = |n: usize| (n, "svg", b"<svg/>".to_vec());
        // Cell 2 drew one and shows one; cell 3 drew three (a loop of displays) and shows one.
        let problems = hidden_figures(&cells, &[fig(2), fig(3)]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].index, 5);
        assert!(problems[0].excerpt.starts_with("the cell drew 3 figures but the notebook shows 1"));
        assert!(hidden_figures(&cells, &[fig(2), fig(3), fig(3), fig(3)]).is_empty());
    }

    #[test]
    fn output_names_keep_subfolders_and_stay_unique() {
        let dir = std::env::temp_dir().join(format!("course-names-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("solutions")).unwrap();
        let a = dir.join("7.3-fm.ipynb");
        let b = dir.join("solutions").join("7.3-fm.ipynb");
        for p in [&a, &b] {
            std::fs::write(p, "{}").unwrap();
        }
        let outside = std::env::temp_dir().join("elsewhere").join("7.3-fm.ipynb");
        let names = output_names(&dir, &[a.clone(), b, outside, a]);
        assert_eq!(names, vec!["7.3-fm", "solutions/7.3-fm", "7.3-fm-2", "7.3-fm-3"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
