//! `course`: the notebook platform of the flowmatch course.
//!
//! ```text
//! cargo run --release --bin course                 # = lab: set up, then open JupyterLab on notebooks/
//! cargo run --release --bin course -- execute      # run every notebook headless, report timings
//! cargo run --release --bin course -- setup        # only install (venv + JupyterLab, evcxr_jupyter, kernel)
//! cargo run --release --bin course -- grade ...    # grade the exercises
//! cargo run --release --bin course -- quiz ...     # the topic quizzes
//! ```
//!
//! See `course help` and notebooks/README.md.

mod evcxr;
mod execute;
mod grade_cmd;
mod kernels;
mod lab;
mod notebook;
mod paths;
mod proc;
mod python;
mod quiz_cmd;
mod sync_cmd;

use std::path::PathBuf;
use std::time::Instant;

const HELP: &str = "\
course - the notebook platform of the flowmatch course

USAGE:
    cargo run --release --bin course [-- COMMAND [OPTIONS]]

COMMANDS:
    lab        (default) Set up if needed, then start JupyterLab on notebooks/ and print its address
                 --port N          port to listen on (default: first free from 8888)
                 --no-browser      do not open a web browser
                 --skip-setup      do not check/install anything first
                 -- ARGS...        passed on to `jupyter lab`
    execute    Run notebooks headless, each in a fresh kernel; save the executed copies;
               report the time of every notebook and cell; exit non-zero on any error or panic
                 [NOTEBOOK...]     names or paths (default: every notebooks/*.ipynb)
                 --out DIR         where the executed copies go (default: notebooks/executed, which
                                   JupyterLab shows; the copies are signed, so their figures show)
                 --timeout SECS    limit per cell, 0 for none (default: 1800)
                 --keep-going      run the remaining cells after an error or panic
                 --quiet           do not echo cell output while running
                 --skip-setup      do not check/install anything first
    setup      Only install: .venv with JupyterLab + nbclient (pip), evcxr_jupyter (cargo install),
               the Rust kernel registered inside .venv, exactly the crates of Cargo.lock vendored
               for the kernels (target/evcxr/vendor), and their dependencies compiled once
               (target/evcxr/warm)
                 --headless        nbclient only, no JupyterLab (what `execute` needs)
    grade      Grade the exercises in exercises/ (all, or the ones named); exit non-zero on any failure
                 [EXERCISE...]     a name or id (topic.number), e.g. `euler_step` or `7.4.4`
                 --hint N          hint level for a failure: 1 the concept (default), 2 the formula too
                 --json            one JSON gradebook on stdout instead of the table
                 --list            the exercises: topic, number, name, points
    quiz       The topic quizzes: ask the questions in a terminal and print the score
                 [TOPIC]           e.g. 7.3
                 --answers A       grade one answer per question instead: \"b;a,c;0.25\" (`-` skips one)
                 --json            with --answers: one JSON gradebook on stdout
                 --list            the topics and their number of questions
    sync       Write the student (notebooks/) and instructor (notebooks/solutions/) copies of
               every notebook from notebooks/source/
                 --check           only check that the copies are up to date (CI)
    help       Show this

ENVIRONMENT:
    FLOWMATCH_REPO            the repository to serve (default: the one around the working folder)
    FLOWMATCH_PYTHON          Python used to create .venv (default: python3)
    FLOWMATCH_VENV            the virtual environment folder (default: <repo>/.venv)
    FLOWMATCH_EVCXR_JUPYTER   use this evcxr_jupyter binary as it is (no version check, no install)
    FLOWMATCH_EVCXR_BUILD_DIR where kernels compile and keep the dependencies (default: target/evcxr);
                              <dir>/warm holds the dependency set compiled once, copied into every new kernel
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(match dispatch(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            2
        }
    });
}

fn dispatch(args: &[String]) -> Result<i32, String> {
    let (cmd, rest) = match args.first().map(String::as_str) {
        None => ("lab", &args[..0]),
        Some(a) if a.starts_with('-') && a != "-h" && a != "--help" => ("lab", args),
        Some(a) => (a, &args[1..]),
    };
    match cmd {
        "lab" => cmd_lab(rest),
        "execute" | "exec" | "run" => cmd_execute(rest),
        "setup" | "install" => cmd_setup(rest),
        "grade" => Ok(grade_cmd::run(rest)),
        "quiz" => Ok(quiz_cmd::run(rest)),
        "sync" => Ok(sync_cmd::run(rest)),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(0)
        }
        other => Err(format!("unknown command `{other}`; try `cargo run --release --bin course -- help`")),
    }
}

/// Installs what is missing: the venv (with JupyterLab when `lab`), evcxr_jupyter, the kernel spec.
fn setup(repo: &paths::Repo, lab: bool) -> Result<(), String> {
    let start = Instant::now();
    python::ensure(repo, lab)?;
    let evcxr = evcxr::ensure()?;
    evcxr::register(repo, &evcxr)?;
    kernels::vendor_crates(repo)?;
    kernels::prebuild(repo)?;
    println!("==> Set-up done in {}", proc::fmt_secs(start.elapsed().as_secs_f64()));
    Ok(())
}

fn value<'a>(rest: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str, String> {
    *i += 1;
    rest.get(*i).map(String::as_str).ok_or_else(|| format!("{flag} needs a value"))
}

fn cmd_setup(rest: &[String]) -> Result<i32, String> {
    let mut lab = true;
    for a in rest {
        match a.as_str() {
            "--headless" => lab = false,
            other => return Err(format!("setup: unknown option `{other}`")),
        }
    }
    setup(&paths::Repo::locate()?, lab)?;
    Ok(0)
}

fn cmd_lab(rest: &[String]) -> Result<i32, String> {
    let mut opts = lab::LabOptions { port: None, no_browser: false, extra: Vec::new() };
    let mut skip = false;
    let mut i = 0;
    while i < rest.len() {
        match rest[i].as_str() {
            "--port" => {
                let v = value(rest, &mut i, "--port")?;
                opts.port = Some(v.parse().map_err(|_| format!("--port: `{v}` is not a port number"))?);
            }
            "--no-browser" => opts.no_browser = true,
            "--skip-setup" => skip = true,
            "--" => {
                opts.extra = rest[i + 1..].to_vec();
                break;
            }
            other => return Err(format!("lab: unknown option `{other}` (pass Jupyter options after `--`)")),
        }
        i += 1;
    }
    let repo = paths::Repo::locate()?;
    if !skip {
        setup(&repo, true)?;
    }
    lab::run(&repo, &opts)
}

fn cmd_execute(rest: &[String]) -> Result<i32, String> {
    let mut opts =
        execute::ExecOptions { notebooks: Vec::new(), out: None, timeout: 1800, keep_going: false, quiet: false };
    let mut skip = false;
    let mut i = 0;
    while i < rest.len() {
        match rest[i].as_str() {
            "--out" => opts.out = Some(PathBuf::from(value(rest, &mut i, "--out")?)),
            "--timeout" => {
                let v = value(rest, &mut i, "--timeout")?;
                opts.timeout = v.parse().map_err(|_| format!("--timeout: `{v}` is not a number of seconds"))?;
            }
            "--keep-going" => opts.keep_going = true,
            "--quiet" => opts.quiet = true,
            "--skip-setup" => skip = true,
            s if s.starts_with('-') => return Err(format!("execute: unknown option `{s}`")),
            name => opts.notebooks.push(name.to_string()),
        }
        i += 1;
    }
    let repo = paths::Repo::locate()?;
    // Fail on a misspelt notebook name before spending minutes on set-up.
    execute::select(&repo, &opts.notebooks)?;
    if !skip {
        setup(&repo, false)?;
    }
    execute::run(&repo, &opts)
}
