//! Graded exercises: one registry, one generic checker, one file per exercise.
//!
//! ```text
//! verdict(f) = pass   ⇔   f(input) ≈ reference(input) for every test input (fixed seeds, edge times included)
//! ```
//!
//! An exercise asks for one plain function (a formula from the lecture, a
//! solver step, a training step). Its checker calls that function on many
//! inputs, drawn at random from fixed seeds and including the edge times
//! t = 0 and t close to 1, and compares every answer with the library's own
//! reference. The same checker serves three callers:
//!
//! * the check cell of a notebook: `check!(interpolant);` (short for
//!   `flowmatch::grade::interpolant::EXERCISE.check(&interpolant)`) prints the
//!   verdict with a hint and returns it;
//! * the `course grade [EXERCISE]` command, which grades the files in
//!   `exercises/` and prints a score table;
//! * the repository's tests, which grade `solutions/` (must pass), the
//!   untouched stubs (must be "not yet solved") and typical wrong answers
//!   (must fail).
//!
//! ## One list, one checker
//!
//! [`for_each_exercise!`](crate::for_each_exercise) (in `registry.rs`) is the
//! list of exercises: one line each, with its number, name, topic and file.
//! This module, the `course grade` command and the grading tests all expand
//! it, so adding an exercise means writing its files (the stub in
//! `exercises/<topic>/`, the solution in `solutions/<topic>/`, typical wrong
//! answers in `tests/fixtures/wrong/<topic>/`, and its checker here) plus
//! one line in the list.
//!
//! Each checker file defines `EXERCISE`, a [`Checker`] holding the
//! exercise's title, points, time limit, hint and its comparison with the
//! reference. The generic [`Checker`] does the rest:
//!
//! | method | what it does |
//! | --- | --- |
//! | `EXERCISE.check(&f)` | grades `f`, prints the verdict, returns the [`Verdict`] (notebook cells) |
//! | `EXERCISE.grade(&f)` | grades `f` silently (the `course` command, tests) |
//! | `EXERCISE.compare(&f)` | the bare comparison, on the calling thread: `Ok(())` or what was wrong |
//!
//! | # | module | notebook | points | the student writes |
//! | --- | --- | --- | --- | --- |
//! | 1 | [`interpolant`] | 7.3 | 10 | x_t = t x₁ + (1 − t) x₀ |
//! | 2 | [`condot_velocity`] | 7.3 | 10 | u_t(x_t \| x₀, x₁) = x₁ − x₀ |
//! | 3 | [`gaussian_velocity`] | 7.3 | 10 | u_t(x \| z) = (α̇_t − (β̇_t/β_t) α_t) z + (β̇_t/β_t) x |
//! | 4 | [`cfm_loss`] | 7.4 | 10 | 1/(n d) Σᵢ ‖v_i − (x₁ᵢ − x₀ᵢ)‖² |
//! | 5 | [`euler_step`] | 7.4 | 10 | x + h u_t(x) |
//! | 6 | [`midpoint_step`] | 7.4 | 10 | x + h u_{t+h/2}(x + (h/2) u_t(x)) |
//! | 7 | [`train_step`] | 7.4 | 20 | one optimiser step on the CFM regression batch |
//! | 8 | [`sample_euler`] | 7.4 | 10 | K Euler steps from t = 0 to t = 1 |
//!
//! ## Student code is guarded
//!
//! `grade` and `check` run the comparison on a worker thread and wait for it
//! with the exercise's time limit ([`run_guarded`]):
//!
//! * a `todo!()` that is still there gives [`Outcome::NotSolved`];
//! * any other panic gives [`Outcome::Panicked`] with the panic's message and
//!   place. The message is caught by a panic hook that stays quiet on grader
//!   threads only, so nothing is written to stderr (notebook runners treat
//!   Rust's usual panic report as a failed cell), and other threads still
//!   report their panics as before;
//! * code that does not return in time gives [`Outcome::TimedOut`]; its
//!   thread is abandoned (Rust cannot stop a thread) and grading goes on.
//!
//! A stack overflow (endless recursion) aborts the whole process: Rust
//! cannot catch it on any thread.
//!
//! The student and instructor copies of the notebooks are course tooling, not
//! grading: see [`crate::course`].

use std::fmt;
use std::time::Duration;

mod checker;
mod fields;
mod guard;
mod registry;
mod text;

pub use checker::Checker;
pub use guard::{run_guarded, Guarded};

/// Declares every exercise of the registry: its checker module, its place in
/// the course ([`Exercise::registered`]) and the list [`EXERCISES`].
macro_rules! declare_exercises {
    ($($number:literal $name:ident $topic:literal $file:literal;)*) => {
        $(pub mod $name;)*

        /// Each exercise's place in the course, from the registry; its checker adds the rest.
        #[allow(non_upper_case_globals)]
        mod registered {
            $(pub(super) const $name: super::Exercise =
                super::Exercise::registered($number, stringify!($name), $topic, concat!("exercises/", $file));)*
        }

        /// Every exercise, in course order (the order of the registry).
        pub static EXERCISES: &[&Exercise] = &[$(&$name::EXERCISE.exercise),*];
    };
}

crate::for_each_exercise!(declare_exercises);

/// What describes one exercise: where it lives (from the registry), what it is
/// worth, and a hint (from its checker).
#[derive(Debug, PartialEq, Eq)]
pub struct Exercise {
    /// 1-based position in the course.
    pub number: usize,
    /// The name of the function the student writes, and of its checker module.
    pub name: &'static str,
    /// A short title.
    pub title: &'static str,
    /// The notebook whose exercise cell asks for the function (e.g. "7.3").
    pub notebook: &'static str,
    /// The exercise file, relative to the repository root.
    pub file: &'static str,
    /// The points a pass earns.
    pub points: u32,
    /// How long the student's code may run before it is reported as timed out.
    pub time_limit: Duration,
    /// What to look at when the exercise fails.
    pub hint: &'static str,
}

impl Exercise {
    /// An exercise as the registry places it: number, name, notebook and file; the
    /// checker fills in the title, points, time limit and hint.
    pub const fn registered(number: usize, name: &'static str, notebook: &'static str, file: &'static str) -> Self {
        Exercise { number, name, title: "", notebook, file, points: 0, time_limit: Duration::ZERO, hint: "" }
    }
}

/// Finds an exercise by name (`"interpolant"`), number (`"1"`, `"01"`) or file
/// stem (`"01_interpolant"`), ignoring case.
pub fn find(query: &str) -> Option<&'static Exercise> {
    let q = query.trim().to_ascii_lowercase();
    let q = q.strip_suffix(".rs").unwrap_or(&q);
    EXERCISES.iter().copied().find(|e| {
        e.name == q
            || q.parse::<usize>().ok() == Some(e.number)
            || e.file.rsplit('/').next().and_then(|f| f.strip_suffix(".rs")) == Some(q)
    })
}

/// The most points the exercises give together.
pub fn max_total() -> u32 {
    EXERCISES.iter().map(|e| e.points).sum()
}

/// How a graded function did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every comparison agreed with the reference.
    Passed,
    /// A comparison disagreed; `reason` says on which input, what came back and what was expected.
    Failed {
        /// What was wrong.
        reason: String,
    },
    /// The function still runs into `todo!()`.
    NotSolved,
    /// The function panicked (other than `todo!()`).
    Panicked {
        /// The panic's message.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// The function did not return within the time limit.
    TimedOut {
        /// The time limit it ran into.
        limit: Duration,
    },
}

/// The result of grading one exercise.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The exercise graded.
    pub exercise: &'static Exercise,
    /// How it went.
    pub outcome: Outcome,
}

impl Verdict {
    /// True when the exercise passed.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }

    /// The points earned: all of the exercise's points on a pass, none otherwise.
    pub fn points(&self) -> u32 {
        if self.passed() {
            self.exercise.points
        } else {
            0
        }
    }

    /// A short status for a table: `pass`, `FAIL`, `not yet solved`, `FAIL (panic)`, `FAIL (timed out)`.
    pub fn status(&self) -> &'static str {
        match self.outcome {
            Outcome::Passed => "pass",
            Outcome::Failed { .. } => "FAIL",
            Outcome::NotSolved => "not yet solved",
            Outcome::Panicked { .. } => "FAIL (panic)",
            Outcome::TimedOut { .. } => "FAIL (timed out)",
        }
    }

    /// True when the exercise's hint goes with this verdict: after a real attempt
    /// failed (not on a pass, and not before the student has tried).
    pub fn shows_hint(&self) -> bool {
        !matches!(self.outcome, Outcome::Passed | Outcome::NotSolved)
    }

    /// What went wrong, in a sentence or two (`None` on a pass).
    pub fn problem(&self) -> Option<String> {
        let e = self.exercise;
        match &self.outcome {
            Outcome::Passed => None,
            Outcome::Failed { reason } => Some(reason.clone()),
            Outcome::NotSolved => Some(format!(
                "`{}` still runs into todo!(). Task: {}. Replace the todo!() with your code ({}, or the exercise \
                 cell of notebook {}) and grade again.",
                e.name, e.title, e.file, e.notebook
            )),
            Outcome::Panicked { message, location } => Some(format!(
                "your code stopped with a panic: \"{}\"{}.",
                message,
                location.as_ref().map(|l| format!(" (at {l})")).unwrap_or_default()
            )),
            Outcome::TimedOut { limit } => Some(format!(
                "your code did not return within {} s (an endless loop, or far too much work?); it was left \
                 running in the background and the other exercises were graded.",
                limit.as_secs_f64()
            )),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.exercise;
        write!(
            f,
            "Exercise {} · {} (notebook {}): {}, {}/{} points.",
            e.number,
            e.name,
            e.notebook,
            self.status(),
            self.points(),
            e.points
        )?;
        if let Some(problem) = self.problem() {
            write!(f, "\n  What happened: {problem}")?;
        }
        if self.shows_hint() {
            write!(f, "\n  Hint: {}", e.hint)?;
        }
        Ok(())
    }
}

/// Runs `job` (a comparison for `exercise`) guarded, with the exercise's time limit.
pub fn judge<F>(exercise: &'static Exercise, job: F) -> Verdict
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    judge_within(exercise, exercise.time_limit, job)
}

/// Like [`judge`] with another time limit.
pub fn judge_within<F>(exercise: &'static Exercise, limit: Duration, job: F) -> Verdict
where
    F: FnOnce() -> Result<(), String> + Send + 'static,
{
    let outcome = match run_guarded(limit, job) {
        Guarded::Returned(Ok(())) => Outcome::Passed,
        Guarded::Returned(Err(reason)) => Outcome::Failed { reason: text::sanitize(&reason) },
        Guarded::Panicked { message, .. } if is_todo(&message) => Outcome::NotSolved,
        Guarded::Panicked { message, location } => Outcome::Panicked { message: text::sanitize(&message), location },
        Guarded::TimedOut => Outcome::TimedOut { limit },
        Guarded::Unavailable(reason) => Outcome::Failed { reason },
    };
    Verdict { exercise, outcome }
}

/// True for the message of `todo!()` ("not yet implemented", with or without a text).
fn is_todo(message: &str) -> bool {
    message.starts_with("not yet implemented")
}

/// Prints a verdict (what `check` does in a notebook cell) and returns it.
pub(crate) fn print(verdict: Verdict) -> Verdict {
    println!("{verdict}");
    verdict
}

/// The score table and, for each exercise that did not pass, what happened and a hint.
///
/// ```text
///  #  exercise           notebook  points  result
///  1  interpolant        7.3        10/10  pass
///  2  condot_velocity    7.3         0/10  not yet solved
///     total                         10/20
/// ```
pub fn report(verdicts: &[Verdict]) -> String {
    let name_w = verdicts.iter().map(|v| v.exercise.name.len()).max().unwrap_or(8).max(8);
    let mut out = format!("{:>2}  {:<name_w$}  notebook  points  result\n", "#", "exercise");
    for v in verdicts {
        let pts = format!("{}/{}", v.points(), v.exercise.points);
        out += &format!(
            "{:>2}  {:<name_w$}  {:<8}  {:>6}  {}\n",
            v.exercise.number,
            v.exercise.name,
            v.exercise.notebook,
            pts,
            v.status()
        );
    }
    let earned: u32 = verdicts.iter().map(Verdict::points).sum();
    let max: u32 = verdicts.iter().map(|v| v.exercise.points).sum();
    out += &format!("{:>2}  {:<name_w$}  {:<8}  {:>6}\n", "", "total", "", format!("{earned}/{max}"));
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.passed()).collect();
    for v in failed {
        let e = v.exercise;
        out += &format!("\n{} · {} ({}): {}\n", e.number, e.name, e.file, v.status());
        if let Some(p) = v.problem() {
            out += &format!("  What happened: {p}\n");
        }
        if v.shows_hint() {
            out += &format!("  Hint: {}\n", e.hint);
        }
    }
    out
}
