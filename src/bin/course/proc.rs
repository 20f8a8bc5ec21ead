//! Running the long set-up commands (pip, cargo install) with visible progress:
//! every line they print is shown with the elapsed time, and a heartbeat line
//! appears when they stay silent for a while.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// "3m07s", "42.0s".
pub fn fmt_secs(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        let t = s.round() as u64;
        format!("{}m{:02}s", t / 60, t % 60)
    }
}

/// A printable form of a command line.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `cmd`, printing each line of its stdout and stderr as
/// `[label 1m05s] line`, and `[label 1m35s] still working... (last: ...)` after
/// `heartbeat` of silence. `filter` may shorten or drop lines (return `None`).
pub fn run_streamed(
    mut cmd: Command,
    label: &str,
    heartbeat: Duration,
    filter: impl Fn(&str) -> Option<String>,
) -> std::io::Result<ExitStatus> {
    println!("[{label}] $ {}", describe(&cmd));
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (tx, rx) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            while reader.read_until(b'\n', &mut buf).map(|n| n > 0).unwrap_or(false) {
                // pip redraws progress bars with \r: keep the last state of the line.
                let text = String::from_utf8_lossy(&buf);
                let line = text.trim_end().rsplit('\r').next().unwrap_or("").to_string();
                if tx.send(line).is_err() {
                    break;
                }
                buf.clear();
            }
        })
    })
    .collect();
    drop(tx);
    let start = Instant::now();
    let mut last = String::new();
    let mut last_print = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                if let Some(shown) = filter(&line) {
                    println!("[{label} {}] {shown}", fmt_secs(start.elapsed().as_secs_f64()));
                    last_print = Instant::now();
                }
                last = line.trim().to_string();
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if last_print.elapsed() >= heartbeat {
            let hint = if last.is_empty() { String::new() } else { format!(" (last: {})", truncate(&last, 70)) };
            println!("[{label} {}] still working...{hint}", fmt_secs(start.elapsed().as_secs_f64()));
            last_print = Instant::now();
        }
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait()?;
    println!("[{label}] finished in {} ({status})", fmt_secs(start.elapsed().as_secs_f64()));
    Ok(status)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

/// Runs `cmd` quietly and returns its stdout (and whether it succeeded).
pub fn capture(mut cmd: Command) -> Option<(bool, String)> {
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).output().ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Some((out.status.success(), text))
}

/// Looks `name` up on PATH.
pub fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds() {
        assert_eq!(fmt_secs(4.26), "4.3s");
        assert_eq!(fmt_secs(187.0), "3m07s");
    }
}
