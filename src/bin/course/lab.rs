//! `course lab`: start JupyterLab on notebooks/ with the Rust kernel.

use crate::paths::{show, Repo};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct LabOptions {
    pub port: Option<u16>,
    pub no_browser: bool,
    /// Extra arguments passed on to `jupyter lab`.
    pub extra: Vec<String>,
}

/// The first free port from 8888 upwards (or the one asked for).
fn pick_port(wanted: Option<u16>) -> Result<u16, String> {
    let free = |p: u16| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, p)).is_ok();
    match wanted {
        Some(p) if free(p) => Ok(p),
        Some(p) => Err(format!("port {p} is in use; pick another with --port")),
        None => (8888..8988).find(|&p| free(p)).ok_or_else(|| "no free port in 8888-8987; use --port".into()),
    }
}

/// A random token for the server URL (from the OS's random source when there is one).
fn token() -> String {
    let mut bytes = [0u8; 24];
    let got =
        std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes)).is_ok();
    if !got {
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stopping JupyterLab cleanly. JupyterLab runs in a process group of its own, so a
/// Ctrl-C in the terminal reaches only `course`; `course` then asks JupyterLab to stop with
/// SIGTERM, the signal on which Jupyter shuts its kernels down before it exits. (A SIGINT
/// sent straight to a JupyterLab whose stdin is not a terminal stops its event loop at once
/// and leaves the evcxr kernels running.) A second Ctrl-C kills JupyterLab's whole group.
#[cfg(unix)]
mod sys {
    use std::sync::atomic::{AtomicUsize, Ordering};

    extern "C" {
        fn geteuid() -> u32;
        fn signal(signum: i32, handler: usize) -> usize;
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGHUP: i32 = 1;
    const SIGINT: i32 = 2;
    const SIGKILL: i32 = 9;
    const SIGTERM: i32 = 15;

    /// How many stop requests (Ctrl-C, SIGTERM, SIGHUP) `course` has received.
    static STOPS: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn on_stop(_signum: i32) {
        // Only an atomic add: async-signal-safe.
        STOPS.fetch_add(1, Ordering::SeqCst);
    }

    pub fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { geteuid() == 0 }
    }

    /// Runs the child in a new process group (its id is the child's pid).
    pub fn own_group(cmd: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }

    /// From now on Ctrl-C, SIGTERM and SIGHUP only count stop requests (see [`stops`]).
    pub fn catch_stops() {
        // SAFETY: `on_stop` is an `extern "C" fn(i32)` that only touches an atomic.
        unsafe {
            for sig in [SIGINT, SIGTERM, SIGHUP] {
                signal(sig, on_stop as extern "C" fn(i32) as usize);
            }
        }
    }

    pub fn stops() -> usize {
        STOPS.load(Ordering::SeqCst)
    }

    /// The first request asks the child to stop (SIGTERM); a later one kills its group.
    pub fn forward(child: u32, request: usize) {
        let Ok(pid) = i32::try_from(child) else { return };
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            if request <= 1 {
                kill(pid, SIGTERM);
            } else {
                kill(-pid, SIGKILL);
            }
        }
    }
}

#[cfg(not(unix))]
mod sys {
    pub fn is_root() -> bool {
        false
    }
    pub fn own_group(_cmd: &mut std::process::Command) {}
    pub fn catch_stops() {}
    pub fn stops() -> usize {
        0
    }
    pub fn forward(_child: u32, _request: usize) {}
}

pub fn run(repo: &Repo, opts: &LabOptions) -> Result<i32, String> {
    let port = pick_port(opts.port)?;
    let token = token();
    let notebooks = repo.notebooks();
    let mut cmd = Command::new(repo.venv_python());
    cmd.args(["-m", "jupyterlab"])
        .arg(format!("--ServerApp.root_dir={}", notebooks.display()))
        .arg("--ServerApp.ip=127.0.0.1")
        .arg(format!("--ServerApp.port={port}"))
        .arg("--ServerApp.port_retries=0")
        .arg(format!("--IdentityProvider.token={token}"));
    if opts.no_browser {
        cmd.arg("--no-browser");
    }
    if sys::is_root() {
        cmd.arg("--allow-root");
    }
    cmd.args(&opts.extra).current_dir(&notebooks).stdin(Stdio::null());
    for (k, v) in repo.jupyter_env() {
        cmd.env(k, v);
    }
    let url = format!("http://127.0.0.1:{port}/lab?token={token}");
    println!("==> Starting JupyterLab on {} ...", show(&notebooks));
    sys::own_group(&mut cmd);
    sys::catch_stops();
    let mut child = cmd.spawn().map_err(|e| format!("could not start JupyterLab: {e}"))?;

    let start = Instant::now();
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port).into();
    loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("JupyterLab exited before it was ready ({st}); see its log above"));
        }
        if sys::stops() > 0 {
            break;
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            break;
        }
        if start.elapsed() > Duration::from_secs(180) {
            println!("(JupyterLab is slow to start; it should come up at the address below)");
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    println!();
    println!("    JupyterLab is running at:");
    println!("        {url}");
    println!("    Notebooks: {}    Kernel: \"Rust (flowmatch)\"", show(&notebooks));
    println!("    Press Ctrl-C to stop it (and its kernels).");
    println!();
    let mut forwarded = 0;
    let st = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        let stops = sys::stops();
        if stops > forwarded {
            forwarded = stops;
            if stops == 1 {
                println!("\n==> Stopping JupyterLab and its kernels (Ctrl-C again to kill them at once) ...");
            }
            sys::forward(child.id(), stops);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("==> JupyterLab stopped ({st})");
    Ok(if st.success() { 0 } else { st.code().unwrap_or(1) })
}
