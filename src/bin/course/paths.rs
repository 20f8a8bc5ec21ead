//! Where things live: the repository, its notebooks, the local Python
//! environment and the Jupyter data folder inside it.

use std::path::{Path, PathBuf};

/// The repository the course runs in.
#[derive(Clone, Debug)]
pub struct Repo {
    pub root: PathBuf,
}

impl Repo {
    /// The repository to serve, found the way cargo finds a package: `$FLOWMATCH_REPO`
    /// when set, else the nearest folder at or above the working folder whose
    /// Cargo.toml is the flowmatch package, else the folder this binary was built
    /// from. (A `course` built from another clone, with a shared `CARGO_TARGET_DIR`,
    /// must not serve that other clone: the working folder comes first.)
    pub fn locate() -> Result<Repo, String> {
        if let Some(dir) = std::env::var_os("FLOWMATCH_REPO") {
            let root = PathBuf::from(&dir);
            if !is_repo(&root) {
                return Err(format!(
                    "FLOWMATCH_REPO={} is not a flowmatch checkout (no Cargo.toml of the flowmatch package there)",
                    root.display()
                ));
            }
            return Ok(Repo::found(root, "from FLOWMATCH_REPO"));
        }
        let cwd = std::env::current_dir().map_err(|e| format!("cannot read the working folder: {e}"))?;
        if let Some(d) = cwd.ancestors().find(|d| is_repo(d)) {
            return Ok(Repo::found(d.to_path_buf(), "found from the working folder"));
        }
        let built = Path::new(env!("CARGO_MANIFEST_DIR"));
        if is_repo(built) {
            return Ok(Repo::found(built.to_path_buf(), "the folder this binary was built from"));
        }
        Err("run this from inside the flowmatch repository, or set FLOWMATCH_REPO to it \
             (no Cargo.toml of the flowmatch package found above the working folder)"
            .into())
    }

    fn found(root: PathBuf, how: &str) -> Repo {
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        println!("==> Course repository: {} ({how})", root.display());
        Repo { root }
    }

    pub fn notebooks(&self) -> PathBuf {
        self.root.join("notebooks")
    }

    pub fn scripts(&self) -> PathBuf {
        self.root.join("scripts")
    }

    /// The Python virtual environment (`.venv`, or `$FLOWMATCH_VENV`).
    pub fn venv(&self) -> PathBuf {
        match std::env::var_os("FLOWMATCH_VENV") {
            Some(v) => PathBuf::from(v),
            None => self.root.join(".venv"),
        }
    }

    pub fn venv_bin(&self, name: &str) -> PathBuf {
        if cfg!(windows) {
            self.venv().join("Scripts").join(format!("{name}.exe"))
        } else {
            self.venv().join("bin").join(name)
        }
    }

    pub fn venv_python(&self) -> PathBuf {
        self.venv_bin("python")
    }

    /// The Jupyter data folder inside the venv: kernel specs, runtime files.
    /// `course` points JUPYTER_PATH and JUPYTER_DATA_DIR here, so nothing is
    /// written to (or read from) the user's ~/.local/share/jupyter.
    pub fn jupyter_data(&self) -> PathBuf {
        self.venv().join("share").join("jupyter")
    }

    /// Where the Rust kernel spec is registered.
    pub fn kernel_dir(&self) -> PathBuf {
        self.jupyter_data().join("kernels").join(crate::evcxr::KERNEL_NAME)
    }

    pub fn target(&self) -> PathBuf {
        self.root.join("target")
    }

    /// Environment for every Jupyter process `course` starts.
    pub fn jupyter_env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![("JUPYTER_PATH", self.jupyter_data()), ("JUPYTER_DATA_DIR", self.jupyter_data())]
    }
}

fn is_repo(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .map(|s| s.lines().any(|l| l.trim().replace(' ', "") == "name=\"flowmatch\""))
        .unwrap_or(false)
}

/// `path` relative to the working folder when it is inside it (for shorter messages).
pub fn show(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    match cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}
