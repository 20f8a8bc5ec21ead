//! Runs untrusted code (a student's function) on a worker thread with a time
//! limit, and turns a panic into a value instead of a report on stderr.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Once;
use std::time::Duration;

/// Stack size of a grader thread (student code may recurse more than the 2 MiB default allows).
const WORKER_STACK: usize = 16 << 20;

/// What became of a job run by [`run_guarded`].
#[derive(Debug, PartialEq)]
pub enum Guarded<T> {
    /// The job returned this value.
    Returned(T),
    /// The job panicked.
    Panicked {
        /// The panic's message (its payload as text).
        message: String,
        /// `file:line:column` where it panicked, when known.
        location: Option<String>,
    },
    /// The job did not finish within the limit; its thread was abandoned.
    TimedOut,
    /// No worker thread could be started (the message says why).
    Unavailable(String),
}

thread_local! {
    /// True on grader threads: their panics are recorded, not reported.
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic on this thread happened.
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs, once per copy of this library, a panic hook that says nothing on
/// grader threads and hands every other panic to the hook that was there before.
///
/// Installing once and deciding per thread (instead of swapping hooks around
/// each job) means concurrent graders (parallel tests) never race on the
/// global hook, and a timed-out job that panics long after its grader gave up
/// stays quiet too.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.try_with(Cell::get).unwrap_or(false) {
                let place = info.location().map(|l| format!("{}:{}:{}", tidy_path(l.file()), l.line(), l.column()));
                let _ = LAST_LOCATION.try_with(|slot| *slot.borrow_mut() = place);
            } else {
                previous(info);
            }
        }));
    });
}

/// `a/b/../c` as `a/c` (files included with `#[path = "../…"]` carry such paths).
fn tidy_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            ".." if parts.last().is_some_and(|p| *p != ".." && !p.is_empty()) => {
                parts.pop();
            }
            "." => {}
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic whose payload is not text".to_string()
    }
}

/// Runs `job` on a new thread and waits at most `limit` for it.
///
/// A panic inside `job` is caught and returned as [`Guarded::Panicked`]
/// without printing anything; a job still running after `limit` is left
/// behind and reported as [`Guarded::TimedOut`].
///
/// ```
/// use flowmatch::grade::{run_guarded, Guarded};
/// use std::time::Duration;
/// let r = run_guarded(Duration::from_secs(5), || -> i32 { panic!("boom") });
/// assert!(matches!(r, Guarded::Panicked { ref message, .. } if message == "boom"));
/// ```
pub fn run_guarded<T, F>(limit: Duration, job: F) -> Guarded<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    install_quiet_hook();
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned =
        std::thread::Builder::new().name("flowmatch-grader".into()).stack_size(WORKER_STACK).spawn(move || {
            QUIET.with(|q| q.set(true));
            let result = match panic::catch_unwind(AssertUnwindSafe(job)) {
                Ok(value) => Guarded::Returned(value),
                Err(payload) => Guarded::Panicked {
                    message: payload_text(payload.as_ref()),
                    location: LAST_LOCATION.with(|slot| slot.borrow_mut().take()),
                },
            };
            // The grader may have given up waiting; then nobody listens, which is fine.
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Guarded::Unavailable(format!("the grader could not start a worker thread ({e}); try again"));
    }
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => Guarded::TimedOut,
        Err(RecvTimeoutError::Disconnected) => {
            Guarded::Panicked { message: "the worker thread ended without an answer".to_string(), location: None }
        }
    }
}
