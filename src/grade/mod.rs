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
//!   verdict with a concept hint and returns it; `check_with_hint!(interpolant, 2)`
//!   also shows the formula;
//! * the `course grade [EXERCISE] [--hint 2] [--json]` command, which grades the files in
//!   `exercises/` and prints a score table (or one JSON [`Gradebook`]);
//! * the repository's tests, which grade `solutions/` (must pass), the
//!   untouched stubs (must be "not yet solved") and typical wrong answers
//!   (must fail).
//!
//! ## One list, one checker
//!
//! [`for_each_exercise!`](crate::for_each_exercise) (in `registry.rs`) is the
//! list of exercises: one line each, with its topic, its number within the topic,
//! its name and its file. An exercise is known by its name (`euler_step`) or its
//! id, topic and number (`7.4.2`).
//! This module, the `course grade` command and the grading tests all expand
//! it, so adding an exercise means writing its files (the stub in
//! `exercises/<topic>/`, the solution in `solutions/<topic>/`, typical wrong
//! answers in `tests/fixtures/wrong/<topic>/`, and its checker here) plus
//! one line in the list.
//!
//! Each checker file defines `EXERCISE`, a [`Checker`] holding the
//! exercise's title, points, time limit, [`Hints`] and its comparison with the
//! reference. The generic [`Checker`] does the rest:
//!
//! | method | what it does |
//! | --- | --- |
//! | `EXERCISE.check(&f)` | grades `f`, prints the verdict (concept hint after a failure), returns the [`Verdict`] (notebook cells) |
//! | `EXERCISE.check_with_hint(&f, 2)` | the same with the hint level asked for (2: the formula too) |
//! | `EXERCISE.grade(&f)` | grades `f` silently (the `course` command, tests) |
//! | `EXERCISE.compare(&f)` | the bare comparison, on the calling thread: `Ok(())` or what was wrong |
//!
//! | id | module | points | the student writes |
//! | --- | --- | --- | --- |
//! | 7.1.1 | [`affine_log_density`] | 10 | log N(A⁻¹(x − c)) − ln \|det A\| |
//! | 7.1.2 | [`planar_log_det`] | 10 | ln \|1 + (1 − tanh²(wᵀz + b)) uᵀw\| |
//! | 7.1.3 | [`affine_coupling`] | 20 | x_B = z_B ⊙ e^s + t and its inverse, log-det ±Σ s |
//! | 7.3.1 | [`interpolant`] | 10 | x_t = t x₁ + (1 − t) x₀ |
//! | 7.3.2 | [`condot_velocity`] | 10 | u_t(x_t \| x₀, x₁) = x₁ − x₀ |
//! | 7.3.3 | [`gaussian_velocity`] | 10 | u_t(x \| z) = (α̇_t − (β̇_t/β_t) α_t) z + (β̇_t/β_t) x |
//! | 7.3.4 | [`marginal_velocity`] | 10 | Σ_i softmax_i(−‖x − t z_i‖²/(2(1 − t)²)) (z_i − x)/(1 − t) |
//! | 7.4.1 | [`cfm_loss`] | 10 | 1/(n d) Σᵢ ‖v_i − (x₁ᵢ − x₀ᵢ)‖² |
//! | 7.4.2 | [`train_step`] | 20 | one optimiser step on the CFM regression batch |
//! | 7.4.3 | [`train_loop`] | 20 | the whole CFM loop: fresh noise, data and per-row t ~ U(0, 1) each step, one optimiser step on (x_t, t) → x₁ − x₀ |
//! | 7.4.4 | [`euler_step`] | 10 | x + h u_t(x) |
//! | 7.4.5 | [`midpoint_step`] | 10 | x + h u_{t+h/2}(x + (h/2) u_t(x)) |
//! | 7.4.6 | [`sample_euler`] | 10 | K Euler steps from t = 0 to t = 1 |
//! | 7.4.7 | [`measured_order`] | 10 | the slope of ln e_K against ln(1/K), e_K the rms distance to a fine RK4 reference |
//! | 7.5.1 | [`log_likelihood`] | 20 | log p₁(x₁) = log p₀(x₀) − ∫₀¹ ∇·v dt by K Euler steps from t = 1 to t = 0 |
//! | 7.5.2 | [`hutchinson_divergence`] | 10 | (1/k) Σ_j ε_jᵀ J ε_j from given probes |
//! | 7.6.1 | [`eps_to_velocity`] | 10 | v = (α̇_t/α_t) x + (σ̇_t − α̇_t σ_t/α_t) ε̂ |
//! | 7.6.2 | [`reverse_sde_step`] | 10 | x + h (½βx + βs) + √(βh) z, β = β(1 − t) |
//! | 7.6.3 | [`ddim_step`] | 10 | α_{t'} (x − σ_t ε̂)/α_t + σ_{t'} ε̂ |
//! | images.1 | [`im2col`] | 20 | the patch matrix X, one row per output pixel, so that a convolution is W Xᵀ |
//! | images.2 | [`up_and_concat`] | 10 | nearest-neighbour upsampling, then the skip channels stacked behind |
//!
//! ## Two tiers of hints
//!
//! Every exercise has [`Hints`]: level 1 names the concept that is wrong ("the
//! velocity at the start of a step, not at its end") and never gives the formula;
//! level 2 gives the formula. `check!(f)` shows level 1 after a failed attempt;
//! `check_with_hint!(f, 2)` and `course grade EXERCISE --hint 2` show level 2. The
//! level is always asked for explicitly: a counter of attempts cannot escalate,
//! because every evcxr cell links its own copy of the library's statics.
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
pub mod gradebook;
mod guard;
mod registry;
mod text;

pub use checker::Checker;
pub use gradebook::{Gradebook, Item};
pub use guard::{run_guarded, Guarded};

/// Declares every exercise of the registry: its checker module, its place in
/// the course ([`Exercise::registered`]) and the list [`EXERCISES`].
macro_rules! declare_exercises {
    ($($topic:literal $number:literal $name:ident $file:literal;)*) => {
        $(pub mod $name;)*

        /// Each exercise's place in the course, from the registry; its checker adds the rest.
        #[allow(non_upper_case_globals)]
        mod registered {
            $(pub(super) const $name: super::Exercise = super::Exercise::registered(
                $topic,
                $number,
                concat!($topic, ".", $number),
                stringify!($name),
                concat!("exercises/", $file),
            );)*
        }

        /// Every exercise, in course order (the order of the registry).
        pub static EXERCISES: &[&Exercise] = &[$(&$name::EXERCISE.exercise),*];
    };
}

crate::for_each_exercise!(declare_exercises);

/// The two tiers of help an exercise gives after a failed attempt.
///
/// ```text
/// level 1 (check!(f), course grade):                  concept: what idea is wrong, never the formula
/// level 2 (check_with_hint!(f, 2), --hint 2):        concept + formula
/// ```
///
/// Write the formula as `lhs = rhs` equations, separated by `;` (a test checks that
/// no right-hand side appears in the concept hint, the title or a failure message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hints {
    /// Level 1: names the concept that is wrong (e.g. "the velocity at the start of a
    /// step, not at its end"), without the formula.
    pub concept: &'static str,
    /// Level 2: the formula, shown only when asked for.
    pub formula: &'static str,
}

/// The highest hint level: 2, the formula.
pub const MAX_HINT_LEVEL: u8 = 2;

/// What describes one exercise: where it lives (from the registry), what it is
/// worth, and its hints (from its checker).
#[derive(Debug, PartialEq, Eq)]
pub struct Exercise {
    /// The topic (and notebook) whose exercise cell asks for the function, e.g. "7.4".
    pub topic: &'static str,
    /// 1-based position within the topic.
    pub number: usize,
    /// Topic and number, e.g. "7.4.2".
    pub id: &'static str,
    /// The name of the function the student writes, and of its checker module.
    pub name: &'static str,
    /// A short title (no formula: that is the level-2 hint).
    pub title: &'static str,
    /// The exercise file, relative to the repository root.
    pub file: &'static str,
    /// The points a pass earns.
    pub points: u32,
    /// How long the student's code may run before it is reported as timed out.
    pub time_limit: Duration,
    /// Help after a failed attempt, in two tiers.
    pub hints: Hints,
}

impl Exercise {
    /// An exercise as the registry places it: topic, number, id, name and file; the
    /// checker fills in the title, points, time limit and hints.
    pub const fn registered(
        topic: &'static str,
        number: usize,
        id: &'static str,
        name: &'static str,
        file: &'static str,
    ) -> Self {
        Exercise {
            topic,
            number,
            id,
            name,
            title: "",
            file,
            points: 0,
            time_limit: Duration::ZERO,
            hints: Hints { concept: "", formula: "" },
        }
    }

    /// The hint text of `level`: nothing at 0, the concept at 1, concept and formula at 2 (or more).
    pub fn hint(&self, level: u8) -> Option<String> {
        match level {
            0 => None,
            1 => Some(format!(
                "{}\n  Stuck? check_with_hint!({}, 2) in the notebook, or `course grade {} --hint 2`, shows the formula.",
                self.hints.concept, self.name, self.id
            )),
            _ => Some(format!("{}\n  Formula: {}", self.hints.concept, self.hints.formula)),
        }
    }
}

/// Finds an exercise by name (`"euler_step"`), id (`"7.4.4"`) or file (`"04_euler_step"`,
/// `"7.4/04_euler_step.rs"`, `"exercises/7.4/04_euler_step.rs"`), ignoring case.
///
/// A bare number (`"2"`) names no exercise: numbers count within a topic.
pub fn find(query: &str) -> Option<&'static Exercise> {
    let q = query.trim().replace('\\', "/").to_ascii_lowercase();
    let q = q.strip_suffix(".rs").unwrap_or(&q);
    let q = q.strip_prefix("exercises/").unwrap_or(q);
    EXERCISES.iter().copied().find(|e| {
        let file = e.file.strip_prefix("exercises/").and_then(|f| f.strip_suffix(".rs"));
        e.name == q || e.id == q || file == Some(q) || file.and_then(|f| f.rsplit('/').next()) == Some(q)
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

impl Outcome {
    /// The outcome in one machine-readable word or two, as the JSON [`Gradebook`] writes it:
    /// `pass`, `fail`, `not yet solved`, `panic`, `timed out`.
    pub fn key(&self) -> &'static str {
        match self {
            Outcome::Passed => "pass",
            Outcome::Failed { .. } => "fail",
            Outcome::NotSolved => "not yet solved",
            Outcome::Panicked { .. } => "panic",
            Outcome::TimedOut { .. } => "timed out",
        }
    }
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

    /// True when the concept hint (level 1) goes with this verdict: after a real
    /// attempt failed (not on a pass, and not before the student has tried).
    pub fn shows_hint(&self) -> bool {
        !matches!(self.outcome, Outcome::Passed | Outcome::NotSolved)
    }

    /// The hint shown with this verdict at `level`: level 1 after a failed attempt only;
    /// level 2, asked for explicitly, on any verdict but a pass (also before a first try).
    pub fn hint(&self, level: u8) -> Option<String> {
        let wanted = match level {
            0 => false,
            1 => self.shows_hint(),
            _ => !self.passed(),
        };
        if wanted {
            self.exercise.hint(level)
        } else {
            None
        }
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
                e.name, e.title, e.file, e.topic
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

    /// The verdict as text, with the hint of `level` (see [`Verdict::hint`]); `Display` uses level 1.
    pub fn render(&self, level: u8) -> String {
        let e = self.exercise;
        let mut out =
            format!("Exercise {} · {}: {}, {}/{} points.", e.id, e.name, self.status(), self.points(), e.points);
        if let Some(problem) = self.problem() {
            out += &format!("\n  What happened: {problem}");
        }
        if let Some(hint) = self.hint(level) {
            out += &format!("\n  Hint: {hint}");
        }
        out
    }

    /// This verdict as one line of the JSON [`Gradebook`].
    pub fn item(&self) -> Item {
        Item {
            name: self.exercise.name.to_string(),
            topic: self.exercise.topic.to_string(),
            earned: self.points(),
            possible: self.exercise.points,
            verdict: self.outcome.key().to_string(),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(1))
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

/// The score table and, for each exercise that did not pass, what happened and the
/// hint of `level` (see [`Verdict::hint`]).
///
/// ```text
///  id     exercise           points  result
///  7.3.1  interpolant         10/10  pass
///  7.3.2  condot_velocity      0/10  not yet solved
///         total               10/20
/// ```
pub fn report(verdicts: &[Verdict], level: u8) -> String {
    let name_w = verdicts.iter().map(|v| v.exercise.name.len()).max().unwrap_or(8).max(8);
    let id_w = verdicts.iter().map(|v| v.exercise.id.len()).max().unwrap_or(2).max(2);
    let mut out = format!("{:<id_w$}  {:<name_w$}  points  result\n", "id", "exercise");
    for v in verdicts {
        let pts = format!("{}/{}", v.points(), v.exercise.points);
        out += &format!("{:<id_w$}  {:<name_w$}  {:>6}  {}\n", v.exercise.id, v.exercise.name, pts, v.status());
    }
    let earned: u32 = verdicts.iter().map(Verdict::points).sum();
    let max: u32 = verdicts.iter().map(|v| v.exercise.points).sum();
    out += &format!("{:<id_w$}  {:<name_w$}  {:>6}\n", "", "total", format!("{earned}/{max}"));
    for v in verdicts.iter().filter(|v| !v.passed()) {
        let e = v.exercise;
        out += &format!("\n{} · {} ({}): {}\n", e.id, e.name, e.file, v.status());
        if let Some(p) = v.problem() {
            out += &format!("  What happened: {p}\n");
        }
        if let Some(hint) = v.hint(level) {
            out += &format!("  Hint: {hint}\n");
        }
    }
    out
}

/// The verdicts as one JSON [`Gradebook`] (what `course grade --json` prints).
pub fn gradebook(verdicts: &[Verdict]) -> Gradebook {
    Gradebook::new(verdicts.iter().map(Verdict::item).collect())
}
