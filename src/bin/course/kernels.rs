//! What the notebook kernels build from, prepared before any kernel starts:
//!
//! * **the crates and their versions**: the sources of exactly the packages of
//!   the repository's Cargo.lock, for every target (evcxr's `cargo metadata`
//!   reads them all), vendored in `<build>/vendor`, which replaces crates.io for
//!   the kernels; so they build offline, at the versions `cargo test` uses.
//!   [`compare_locks`] checks afterwards that a kernel resolved exactly those;
//! * **the warm dependency set**: flowmatch, dfdx, gemm, plotters ... compiled
//!   once, in `<build>/warm`, by a headless kernel that runs the notebooks'
//!   first cell. Every kernel that starts later copies it into its own build
//!   folder (see `scripts/evcxr_kernel.py`), so a notebook's first cell never
//!   compiles the dependencies while a student stares at `[*]`.

use crate::paths::{show, Repo};
use crate::proc;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The folder below the build root that holds the warm dependency set.
pub const WARM: &str = "warm";
/// The file in a build folder that records the fingerprint it was built (or copied) for.
pub const STAMP: &str = "flowmatch-deps.stamp";

/// Makes `<build>/vendor` hold the sources of exactly the packages of Cargo.lock (every
/// target), downloading what the cargo cache lacks, and points the kernels' cargo
/// configuration at it. Done by the kernel launcher (`--vendor`), which also checks it at
/// every kernel start; here it runs with its progress shown.
pub fn vendor_crates(repo: &Repo) -> Result<(), String> {
    let root = build_root(repo);
    let mut c = Command::new(repo.venv_python());
    c.arg(repo.scripts().join("evcxr_kernel.py")).arg("--vendor").env("FLOWMATCH_EVCXR_BUILD_DIR", &root);
    println!(
        "==> The crates the kernels build from: exactly the {} packages of Cargo.lock, vendored in {} \
         (downloaded once when the cargo cache lacks them; the kernels build offline)",
        count_packages(repo),
        show(&root.join("vendor"))
    );
    let seen = std::cell::Cell::new(0usize);
    let st = proc::run_streamed(c, "crates", Duration::from_secs(20), |l| {
        let t = l.trim_start();
        if t.starts_with("Downloaded ") || t.starts_with("Vendoring ") {
            seen.set(seen.get() + 1);
            // One line in ten is enough to see it move.
            (seen.get() % 10 == 1).then(|| format!("{t} (#{})", seen.get()))
        } else if t.starts_with("To use vendored sources") {
            None // cargo's advice for a project; the launcher writes the kernels' configuration itself
        } else {
            Some(l.to_string())
        }
    })
    .map_err(|e| format!("could not run the kernel launcher: {e}"))?;
    if !st.success() {
        return Err("the crates of Cargo.lock could not be vendored (see above): the kernels need every one of \
                    them. Check the network (crates.io) and run the command again"
            .into());
    }
    Ok(())
}

fn count_packages(repo: &Repo) -> usize {
    std::fs::read_to_string(repo.root.join("Cargo.lock"))
        .map(|t| parse_lock(&t).values().filter(|source| !source.is_empty()).count())
        .unwrap_or(0)
}

/// Where the kernels keep their build folders: `$FLOWMATCH_EVCXR_BUILD_DIR` or `target/evcxr`.
pub fn build_root(repo: &Repo) -> PathBuf {
    std::env::var_os("FLOWMATCH_EVCXR_BUILD_DIR").map(PathBuf::from).unwrap_or_else(|| repo.target().join("evcxr"))
}

/// The dependency fingerprint, computed by the kernel launcher (one implementation for both).
pub fn fingerprint(repo: &Repo) -> Result<String, String> {
    let mut c = Command::new(repo.venv_python());
    c.arg(repo.scripts().join("evcxr_kernel.py")).arg("--fingerprint");
    match proc::capture(c) {
        Some((true, out)) if out.trim().len() == 64 => Ok(out.trim().to_string()),
        Some((_, out)) => Err(format!("the kernel launcher could not compute the dependency fingerprint:\n{out}")),
        None => Err(format!("could not run {}", show(&repo.venv_python()))),
    }
}

/// Compiles the kernels' dependency set in `<build>/warm` unless it is current.
///
/// A headless kernel runs the notebooks' first cell there, so the set is built by
/// evcxr itself, with its exact flags: a copy of it is then fresh for every kernel.
pub fn prebuild(repo: &Repo) -> Result<(), String> {
    let root = build_root(repo);
    let warm = root.join(WARM);
    let before = fingerprint(repo)?;
    if std::fs::read_to_string(warm.join(STAMP)).map(|s| s.trim() == before).unwrap_or(false) {
        println!("==> Kernel dependencies: compiled for this source already ({})", show(&warm));
        return Ok(());
    }
    println!(
        "==> Compiling the kernels' dependencies once (flowmatch, dfdx, gemm, plotters ... at opt-level 3; \
         a few minutes the first time) in {}",
        show(&warm)
    );
    std::fs::create_dir_all(&warm).map_err(|e| format!("cannot create {}: {e}", show(&warm)))?;
    let nb = warm.join("prebuild.ipynb");
    let notebook = serde_json::json!({
        "cells": [{"cell_type": "code", "id": "setup", "execution_count": null, "metadata": {}, "outputs": [],
                   "source": crate::notebook::SETUP_CELL}],
        "metadata": {"kernelspec": {"name": crate::evcxr::KERNEL_NAME, "display_name": "Rust (flowmatch)", "language": "rust"}},
        "nbformat": 4, "nbformat_minor": 5
    });
    std::fs::write(&nb, serde_json::to_string_pretty(&notebook).unwrap_or_default())
        .map_err(|e| format!("cannot write {}: {e}", show(&nb)))?;
    let start = Instant::now();
    let mut cmd = Command::new(repo.venv_python());
    cmd.arg(repo.scripts().join("run_notebook.py"))
        .arg("--in")
        .arg(&nb)
        .arg("--out")
        .arg(warm.join("prebuild.executed.ipynb"))
        .arg("--timings")
        .arg(warm.join("prebuild.timings.json"))
        .arg("--kernel")
        .arg(crate::evcxr::KERNEL_NAME)
        .arg("--cwd")
        .arg(repo.notebooks())
        .arg("--timeout")
        .arg("3600")
        .arg("--label")
        .arg("kernel deps")
        .env("FLOWMATCH_KERNEL_DIR", WARM)
        .env("FLOWMATCH_EVCXR_BUILD_DIR", &root);
    for (k, v) in repo.jupyter_env() {
        cmd.env(k, v);
    }
    let st = cmd.status().map_err(|e| format!("could not run the notebook runner: {e}"))?;
    let executed = std::fs::read_to_string(warm.join("prebuild.executed.ipynb")).unwrap_or_default();
    if !st.success() {
        let why = serde_json::from_str::<serde_json::Value>(&executed)
            .ok()
            .and_then(|nb| crate::notebook::find_problems(&nb).into_iter().next())
            .map(|p| condense_dependency_failure(&p.excerpt))
            .unwrap_or_else(|| "see the kernel's messages above".into());
        return Err(format!("the kernels' dependencies did not build: {why}"));
    }
    let after = fingerprint(repo)?;
    if after == before {
        std::fs::write(warm.join(STAMP), format!("{after}\n")).map_err(|e| format!("cannot write the stamp: {e}"))?;
    } else {
        println!("    (the sources changed while compiling: the next start compiles again)");
    }
    println!("==> Kernel dependencies compiled in {}", proc::fmt_secs(start.elapsed().as_secs_f64()));
    Ok(())
}

/// One line that says why a kernel could not build its dependencies, and what to do,
/// from the error text of the first cell (cargo's own output, often 100+ lines).
pub fn condense_dependency_failure(text: &str) -> String {
    let text = crate::notebook::strip_ansi(text);
    let quoted = |line: &str| line.split('`').nth(1).map(str::to_owned);
    let first_error = text.lines().map(str::trim).find(|l| l.starts_with("error"));
    if text.contains("CRATES-MISSING") {
        return "the crates of Cargo.lock are not on this machine (the kernel launcher could not download them). \
                Fix: run `cargo run --release --bin course -- setup` once with network access, then restart the kernel"
            .into();
    }
    if text.contains("--offline was specified") || text.contains("offline mode") {
        let what = text
            .lines()
            .find(|l| l.contains("failed to download") || l.contains("no matching package"))
            .and_then(quoted)
            .map(|c| format!("`{c}` is"))
            .unwrap_or_else(|| "some crates are".into());
        return format!(
            "{what} not downloaded, and the kernels build offline. Fix: run `cargo run --release --bin course -- setup` \
             once with network access (it downloads and vendors every crate of Cargo.lock), then restart the kernel"
        );
    }
    if let Some(c) = text.lines().find(|l| l.contains("could not compile")).and_then(quoted) {
        return format!(
            "the crate `{c}` failed to compile (the full compiler output is in the executed notebook's first cell). \
             Fix: make `cargo build` pass in the repository, then restart the kernel"
        );
    }
    if text.contains("lock file") && text.contains("needs to be updated") {
        return "Cargo.lock does not match Cargo.toml. Fix: run `cargo build` in the repository to update it, \
                then restart the kernel"
            .into();
    }
    match first_error {
        Some(l) => format!("{l} (the full output is in the executed notebook's first cell)"),
        None => text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("unknown error").to_string(),
    }
}

/// The `(name, version)` of every package in a Cargo.lock, with the source ("" for local packages).
pub fn parse_lock(text: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let mut cur: Option<(String, String, String)> = None;
    let value = |l: &str| l.split_once('=').map(|(_, v)| v.trim().trim_matches('"').to_string());
    let mut flush = |cur: &mut Option<(String, String, String)>| {
        if let Some((n, v, s)) = cur.take() {
            if !n.is_empty() {
                out.insert((n, v), s);
            }
        }
    };
    for line in text.lines().map(str::trim) {
        if line == "[[package]]" {
            flush(&mut cur);
            cur = Some(Default::default());
        } else if line.starts_with('[') {
            flush(&mut cur);
        } else if let Some(c) = cur.as_mut() {
            if line.starts_with("name =") {
                c.0 = value(line).unwrap_or_default();
            } else if line.starts_with("version =") {
                c.1 = value(line).unwrap_or_default();
            } else if line.starts_with("source =") {
                c.2 = value(line).unwrap_or_default();
            }
        }
    }
    flush(&mut cur);
    out
}

/// Checks that every registry package a kernel resolved is the one the repository pins.
/// Returns a summary line, or the list of packages whose versions differ.
pub fn compare_locks(repo_lock: &str, kernel_lock: &str) -> Result<String, Vec<String>> {
    let pinned = parse_lock(repo_lock);
    let used = parse_lock(kernel_lock);
    let mut pinned_versions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (n, v) in pinned.keys() {
        pinned_versions.entry(n).or_default().push(v);
    }
    let mut drift = Vec::new();
    let mut same = 0;
    for ((n, v), source) in &used {
        if source.is_empty() {
            continue; // the kernel's own crate and flowmatch (a path dependency)
        }
        if pinned.contains_key(&(n.clone(), v.clone())) {
            same += 1;
        } else {
            let want = pinned_versions.get(n.as_str()).map(|vs| vs.join(" or ")).unwrap_or_else(|| "none".into());
            drift.push(format!("{n} {v} (Cargo.lock pins {want})"));
        }
    }
    if !drift.is_empty() {
        return Err(drift);
    }
    let show = |name: &str| {
        let versions: Vec<&str> = used.keys().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect();
        format!("{name} {}", if versions.is_empty() { "-".to_string() } else { versions.join(" + ") })
    };
    Ok(format!(
        "{same} crates at the versions of Cargo.lock ({}, {}, {}, {}, ...)",
        show("dfdx"),
        show("gemm"),
        show("plotters"),
        show("nalgebra")
    ))
}

/// The Cargo.lock of the build folder a kernel used, if it can be read.
pub fn kernel_lock(folder: &Path) -> Option<String> {
    std::fs::read_to_string(folder.join("Cargo.lock")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO_LOCK: &str = r#"
version = 4

[[package]]
name = "dfdx"
version = "0.13.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "abc"
dependencies = [
 "gemm 0.15.5",
]

[[package]]
name = "flowmatch"
version = "0.1.0"
dependencies = ["dfdx"]

[[package]]
name = "gemm"
version = "0.15.5"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "gemm"
version = "0.19.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn parses_every_package() {
        let p = parse_lock(REPO_LOCK);
        assert_eq!(p.len(), 4);
        assert_eq!(p[&("flowmatch".to_string(), "0.1.0".to_string())], "");
        assert!(p.contains_key(&("gemm".to_string(), "0.15.5".to_string())));
        assert!(p.contains_key(&("gemm".to_string(), "0.19.0".to_string())));
    }

    #[test]
    fn same_versions_pass_and_drift_is_named() {
        let kernel = REPO_LOCK.replace("name = \"flowmatch\"", "name = \"ctx\"");
        let ok = compare_locks(REPO_LOCK, &kernel).expect("same versions");
        assert!(ok.starts_with("3 crates"), "{ok}");
        assert!(ok.contains("dfdx 0.13.0"), "{ok}");
        let drifted = REPO_LOCK.replace("0.19.0", "0.19.1");
        let err = compare_locks(REPO_LOCK, &drifted).unwrap_err();
        assert_eq!(err, vec!["gemm 0.19.1 (Cargo.lock pins 0.15.5 or 0.19.0)".to_string()]);
    }

    #[test]
    fn dependency_failures_become_one_line_with_a_fix() {
        let offline = "      Adding zmij v1.0.23\nerror: failed to download `bumpalo v3.20.4`\n\nCaused by:\n  \
                       attempting to make an HTTP request, but --offline was specified";
        let line = condense_dependency_failure(offline);
        assert!(line.starts_with("`bumpalo v3.20.4` is not downloaded"), "{line}");
        assert!(line.contains("course -- setup"), "{line}");
        assert!(!line.contains('\n'));
        let compile = "   Compiling dfdx v0.13.0\nerror[E0425]: cannot find value `x`\nerror: could not compile `flowmatch` (lib) due to 1 previous error";
        let line = condense_dependency_failure(compile);
        assert!(line.starts_with("the crate `flowmatch` failed to compile"), "{line}");
        let missing = "error: failed to get `dfdx`\nCaused by:\n  failed to read root of directory source: \
                       /x/target/evcxr/CRATES-MISSING (run: cargo run --release --bin course -- setup, with network access)";
        let line = condense_dependency_failure(missing);
        assert!(line.starts_with("the crates of Cargo.lock are not on this machine"), "{line}");
        assert!(line.contains("course -- setup"), "{line}");
        let other = "warning: something\nerror: something else went wrong\n  more";
        assert!(condense_dependency_failure(other).starts_with("error: something else went wrong"));
    }
}
