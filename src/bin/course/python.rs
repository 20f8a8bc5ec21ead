//! The local Python environment (`.venv` at the repository root) with
//! JupyterLab and nbclient, installed from PyPI with pip.

use crate::paths::{show, Repo};
use crate::proc;
use std::process::Command;
use std::time::Duration;

/// What headless execution needs (`course execute`).
pub const HEADLESS: &[&str] = &["nbclient>=0.10,<0.12", "nbformat>=5.10,<6", "jupyter_client>=8,<9"];
/// What `course lab` needs on top.
pub const LAB: &[&str] = &["jupyterlab>=4.2,<5"];

/// The file in the venv that lists what `course` installed (so a later run can skip pip).
const STAMP: &str = "flowmatch-requirements.txt";

/// The Python that creates the venv: `$FLOWMATCH_PYTHON`, else `python3`, else `python`.
fn base_python() -> Result<String, String> {
    let candidates: Vec<String> = match std::env::var("FLOWMATCH_PYTHON") {
        Ok(p) => vec![p],
        Err(_) => vec!["python3".into(), "python".into()],
    };
    for p in &candidates {
        let mut c = Command::new(p);
        c.args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
        if let Some((true, out)) = proc::capture(c) {
            let v: Vec<u32> = out.trim().split('.').filter_map(|x| x.parse().ok()).collect();
            if v.len() == 2 && (v[0], v[1]) >= (3, 9) {
                return Ok(p.clone());
            }
            return Err(format!("{p} is Python {}, but JupyterLab 4 needs Python 3.9 or newer", out.trim()));
        }
    }
    Err("no Python found: install Python 3.9+ (python3), or set FLOWMATCH_PYTHON to one".into())
}

/// Makes sure the venv exists and has the headless packages (and JupyterLab when `lab`).
pub fn ensure(repo: &Repo, lab: bool) -> Result<(), String> {
    let venv = repo.venv();
    let py = repo.venv_python();
    if !py.exists() {
        let base = base_python()?;
        println!("==> Creating the Python environment {}", show(&venv));
        let mut c = Command::new(&base);
        c.arg("-m").arg("venv").arg(&venv);
        let st = proc::run_streamed(c, "venv", Duration::from_secs(30), |l| Some(l.to_string()))
            .map_err(|e| format!("could not run {base}: {e}"))?;
        if !st.success() || !py.exists() {
            return Err(format!(
                "`{base} -m venv {}` failed. On Debian/Ubuntu install the venv module first \
                 (apt-get install python3-venv), then run this again",
                show(&venv)
            ));
        }
    }

    let mut wanted: Vec<&str> = HEADLESS.to_vec();
    if lab {
        wanted.extend_from_slice(LAB);
    }
    let stamp_path = venv.join(STAMP);
    let stamp = std::fs::read_to_string(&stamp_path).unwrap_or_default();
    let have: Vec<&str> = stamp.lines().map(str::trim).collect();
    let modules = if lab { "['nbclient', 'nbformat', 'jupyterlab']" } else { "['nbclient', 'nbformat']" };
    let mut check = Command::new(&py);
    // find_spec finds the packages without importing them (importing JupyterLab takes seconds).
    check.args([
        "-c",
        &format!("import sys, importlib.util as u; sys.exit(any(u.find_spec(m) is None for m in {modules}))"),
    ]);
    let importable = matches!(proc::capture(check), Some((true, _)));
    if importable && wanted.iter().all(|w| have.contains(w)) {
        println!("==> Python environment {}: ready", show(&venv));
        return Ok(());
    }

    println!(
        "==> Installing {} into {} (from PyPI; a minute or two)",
        if lab { "JupyterLab and nbclient" } else { "nbclient" },
        show(&venv)
    );
    let mut c = Command::new(&py);
    c.args(["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]).args(&wanted);
    let st = proc::run_streamed(c, "pip", Duration::from_secs(20), |l| {
        // One line per package ("Collecting ..."); the download lines only add noise.
        let t = l.trim_start();
        let noisy = ["Requirement already satisfied", "Downloading", "Using cached", "Obtaining"];
        (!noisy.iter().any(|n| t.starts_with(n))).then(|| l.to_string())
    })
    .map_err(|e| format!("could not run pip: {e}"))?;
    if !st.success() {
        return Err("pip install failed (see above); check that PyPI is reachable".into());
    }
    let mut all: Vec<String> = have.iter().filter(|l| !l.is_empty()).map(|s| s.to_string()).collect();
    for w in wanted {
        if !all.iter().any(|a| a == w) {
            all.push(w.to_string());
        }
    }
    std::fs::write(&stamp_path, all.join("\n") + "\n")
        .map_err(|e| format!("cannot write {}: {e}", show(&stamp_path)))?;
    Ok(())
}
