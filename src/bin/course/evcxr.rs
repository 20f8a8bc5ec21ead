//! evcxr_jupyter, the Rust Jupyter kernel: finding or installing the pinned
//! version, and registering it as the `rust` kernel inside the venv.

use crate::paths::{show, Repo};
use crate::proc;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The evcxr_jupyter version the notebooks are tested with (`cargo install --version`).
pub const VERSION: &str = "0.22.0";
/// Any installed version starting with this is accepted.
pub const ACCEPT_PREFIX: &str = "0.22.";
/// The kernel spec name. Notebooks name it in `metadata.kernelspec.name`.
pub const KERNEL_NAME: &str = "rust";

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from)
}

fn exe(name: &str) -> String {
    if cfg!(windows) {
        format!("{name}.exe")
    } else {
        name.to_string()
    }
}

/// The `bin` folders `cargo install` may have written to, most specific first.
fn cargo_bins() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for var in ["CARGO_INSTALL_ROOT", "CARGO_HOME"] {
        if let Some(d) = std::env::var_os(var) {
            v.push(PathBuf::from(d).join("bin"));
        }
    }
    if let Some(h) = home() {
        v.push(h.join(".cargo").join("bin"));
    }
    v
}

/// The version of the evcxr_jupyter that `cargo install --list` knows, if any.
fn cargo_list_version() -> Option<String> {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(["install", "--list"]);
    let (ok, out) = proc::capture(c)?;
    if !ok {
        return None;
    }
    out.lines()
        .find_map(|l| l.strip_prefix("evcxr_jupyter v"))
        .map(|rest| rest.trim_end_matches(':').split_whitespace().next().unwrap_or("").to_string())
}

/// The version compiled into a binary, found in its embedded source paths
/// (`.../evcxr_jupyter-0.22.0/src/...`): evcxr_jupyter 0.22 has no `--version`.
fn embedded_version(bin: &Path) -> Option<String> {
    let bytes = std::fs::read(bin).ok()?;
    let needle = b"evcxr_jupyter-";
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + needle.len();
        let v: String = bytes[start..]
            .iter()
            .take(20)
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|&b| b as char)
            .collect();
        if v.split('.').count() == 3 && v.split('.').all(|p| !p.is_empty()) {
            return Some(v);
        }
        i = start;
    }
    None
}

/// Asks the binary itself (`--version`), for versions that support it.
fn reported_version(bin: &Path) -> Option<String> {
    let mut c = Command::new(bin);
    c.arg("--version");
    let (ok, out) = proc::capture(c)?;
    if !ok {
        return None;
    }
    out.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))
        .map(str::to_owned)
}

/// An installed evcxr_jupyter and its version (when it could be told).
#[derive(Debug)]
pub struct Installed {
    pub path: PathBuf,
    pub version: Option<String>,
}

/// Finds evcxr_jupyter: `$FLOWMATCH_EVCXR_JUPYTER`, cargo's bin folders, then PATH.
pub fn find() -> Option<Installed> {
    if let Some(p) = std::env::var_os("FLOWMATCH_EVCXR_JUPYTER") {
        let path = PathBuf::from(p);
        let version = reported_version(&path).or_else(|| embedded_version(&path));
        return Some(Installed { path, version });
    }
    let name = exe("evcxr_jupyter");
    let in_cargo_bin = cargo_bins().into_iter().map(|d| d.join(&name)).find(|p| p.is_file());
    let path = in_cargo_bin.clone().or_else(|| proc::which(&name))?;
    let version = reported_version(&path)
        .or_else(|| if in_cargo_bin.is_some() { cargo_list_version() } else { None })
        .or_else(|| embedded_version(&path));
    Some(Installed { path, version })
}

fn acceptable(i: &Installed) -> bool {
    std::env::var_os("FLOWMATCH_EVCXR_JUPYTER").is_some()
        || i.version.as_deref().is_some_and(|v| v.starts_with(ACCEPT_PREFIX))
}

/// Returns the path of a suitable evcxr_jupyter, installing it with
/// `cargo install --locked` when it is missing or of another version.
pub fn ensure() -> Result<PathBuf, String> {
    if let Some(found) = find() {
        if acceptable(&found) {
            println!(
                "==> evcxr_jupyter {} at {}: ready",
                found.version.as_deref().unwrap_or("(version not checked)"),
                show(&found.path)
            );
            return Ok(found.path);
        }
        println!(
            "==> Found evcxr_jupyter {} at {}, but the notebooks need {ACCEPT_PREFIX}x",
            found.version.as_deref().unwrap_or("of unknown version"),
            show(&found.path)
        );
    }
    println!(
        "==> Installing evcxr_jupyter {VERSION} with cargo (compiles ~400 crates: about 15 minutes on 2 cores, \
         once per machine)"
    );
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(["install", "--locked", "evcxr_jupyter", "--version", VERSION]);
    // Build with the default profile even if the caller's environment overrides it.
    c.env_remove("CARGO_TARGET_DIR").env_remove("CARGO_BUILD_TARGET_DIR");
    let counter = std::cell::Cell::new(0usize);
    let st = proc::run_streamed(c, "cargo install", Duration::from_secs(30), |l| {
        let t = l.trim_start();
        if t.starts_with("Compiling") {
            counter.set(counter.get() + 1);
            Some(format!("{t} (#{})", counter.get()))
        } else {
            Some(l.to_string())
        }
    })
    .map_err(|e| format!("could not run cargo: {e}"))?;
    if !st.success() {
        return Err(format!("`cargo install --locked evcxr_jupyter --version {VERSION}` failed (see above)"));
    }
    let found = find().ok_or("cargo install finished, but evcxr_jupyter was not found in cargo's bin folder")?;
    println!("==> evcxr_jupyter installed at {} ({} crates compiled)", show(&found.path), counter.get());
    Ok(found.path)
}

/// Registers the kernel as `rust` in the venv's Jupyter data folder.
///
/// `evcxr_jupyter --install` (with JUPYTER_PATH pointing into the venv) writes
/// the logos and version file; kernel.json is then replaced with one that
/// starts `scripts/evcxr_kernel.py`, which sets up the committed evcxr
/// configuration and dependency cache before handing over to evcxr_jupyter.
pub fn register(repo: &Repo, evcxr: &Path) -> Result<(), String> {
    let kdir = repo.kernel_dir();
    let data = repo.jupyter_data();
    // Always: it also refreshes version.txt, which evcxr_jupyter compares on start-up
    // (a mismatch would make it rewrite kernel.json with its own, plain one).
    let mut c = Command::new(evcxr);
    c.arg("--install").env("JUPYTER_PATH", &data);
    match proc::capture(c) {
        Some((true, _)) => {}
        Some((false, out)) => return Err(format!("`evcxr_jupyter --install` failed:\n{out}")),
        None => return Err(format!("could not run {}", evcxr.display())),
    }
    std::fs::create_dir_all(&kdir).map_err(|e| format!("cannot create {}: {e}", kdir.display()))?;
    // Absolute, but symlinks kept: the venv's python is a symlink to the base Python.
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).to_string_lossy().into_owned();
    let spec = json!({
        "argv": [
            abs(&repo.venv_python()),
            abs(&repo.scripts().join("evcxr_kernel.py")),
            "--evcxr", abs(evcxr),
            "--control_file", "{connection_file}"
        ],
        "display_name": "Rust (flowmatch)",
        "language": "rust",
        "interrupt_mode": "message",
        "env": { "JUPYTER_PATH": abs(&data) },
        "metadata": { "flowmatch": { "evcxr_jupyter": VERSION, "written_by": "cargo run --bin course" } }
    });
    let text = serde_json::to_string_pretty(&spec).expect("a JSON value serialises") + "\n";
    let path = kdir.join("kernel.json");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("==> Rust kernel `{KERNEL_NAME}` registered in {}", show(&kdir));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_embedded_version() {
        let dir = std::env::temp_dir().join(format!("course-evcxr-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bin");
        std::fs::write(&f, b"\0\0/reg/evcxr_jupyter-x/\0/src/evcxr_jupyter-0.22.3/src/core.rs\0").unwrap();
        assert_eq!(embedded_version(&f).as_deref(), Some("0.22.3"));
        std::fs::write(&f, b"nothing").unwrap();
        assert_eq!(embedded_version(&f), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
