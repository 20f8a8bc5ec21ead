//! `course sync [--check]`: makes the student and instructor copies of the notebooks.
//!
//! Every source notebook `notebooks/source/<name>.ipynb` gives a student copy
//! `notebooks/<name>.ipynb` (solution regions replaced by `todo!()`, cells
//! tagged `solution` dropped) and an instructor copy
//! `notebooks/solutions/<name>.ipynb` (everything kept), both with their
//! outputs cleared; see `flowmatch::course::notebook`. `--check` writes
//! nothing and exits 1 when a copy is missing or differs from what its source
//! gives now (CI runs it, and so does the `grading` test).

use flowmatch::course::notebook;
use std::path::Path;

const USAGE: &str = "\
course sync - make the student and instructor notebooks from notebooks/source/

USAGE:
    cargo run --release --bin course -- sync [--check]

    (no option)  write notebooks/<name>.ipynb (student) and notebooks/solutions/<name>.ipynb
                 (instructor) for every notebooks/source/<name>.ipynb that changed
    --check      write nothing; exit 1 when a copy is missing or out of date
";

/// `path` relative to `root` for messages (the full path when it is elsewhere).
fn show(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Runs `course sync ARGS...`; `args` are the arguments after `sync`. Returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let mut check = false;
    for a in args {
        match a.as_str() {
            "--check" => check = true,
            "-h" | "--help" | "help" => {
                print!("{USAGE}");
                return 0;
            }
            other => {
                eprintln!("error: sync: unknown option `{other}`\n\n{USAGE}");
                return 2;
            }
        }
    }
    let repo = match crate::paths::Repo::locate() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let dir = repo.notebooks();
    match sync(&dir, &repo.root, check) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn sync(dir: &Path, root: &Path, check: bool) -> flowmatch::Result<i32> {
    let sources = notebook::sources(dir)?;
    if sources.is_empty() {
        println!("No source notebooks in {}; nothing to sync.", show(&dir.join("source"), root));
        return Ok(0);
    }
    for orphan in notebook::orphans(dir)? {
        println!(
            "note: {} has no source in {}/, so it is not generated (fine for a notebook without exercises)",
            show(&orphan, root),
            show(&dir.join("source"), root)
        );
    }
    if check {
        let stale = notebook::out_of_date(dir)?;
        if stale.is_empty() {
            println!("{} source notebook(s): the student and instructor copies are in sync.", sources.len());
            return Ok(0);
        }
        for path in &stale {
            println!("out of date: {}", show(path, root));
        }
        println!(
            "{} generated notebook(s) differ from their sources; run `cargo run --release --bin course -- sync` and \
             commit the result (edit notebooks/source/, never the copies).",
            stale.len()
        );
        return Ok(1);
    }
    let written = notebook::write(dir)?;
    for path in &written {
        println!("wrote {}", show(path, root));
    }
    if written.is_empty() {
        println!("{} source notebook(s): every copy was already up to date.", sources.len());
    }
    Ok(0)
}
