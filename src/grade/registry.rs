//! The registry: the one list of exercises and quizzes, from which the `grade` and
//! `quiz` modules, the `course grade` and `course quiz` commands, the grading tests
//! and the notebooks' check cells all derive.
//!
//! ```text
//! exercise:  "topic" number name (checker module = the student's function)  "file under exercises/, solutions/, tests/fixtures/wrong/"
//! quiz:      "topic" module (src/quiz/<module>.rs, defining QUIZ)
//! ```
//!
//! Exercises are numbered **within their topic**: `7.4.2` is the second exercise of
//! topic 7.4, so a new topic never renumbers the exercises of another.
//!
//! Adding an exercise: write its stub (`exercises/<topic>/NN_name.rs`), its
//! solution (`solutions/<topic>/NN_name.rs`, the stub with its solution regions
//! filled in), typical wrong answers (`tests/fixtures/wrong/<topic>/NN_name.rs`,
//! a `pub const ALL` list) and its checker (`src/grade/<name>.rs`, defining
//! `EXERCISE` with two tiers of hints), then add one line to
//! [`for_each_exercise!`](crate::for_each_exercise).
//!
//! Adding a topic's quiz: write its content file (`src/quiz/<module>.rs`, defining
//! `pub static QUIZ: Quiz`), then add one line to [`for_each_quiz!`](crate::for_each_quiz).
//!
//! The tests check that the files, the numbers, the quiz keys and the notebooks agree
//! with these lists.

/// Calls the macro `$then` with the list of exercises, in course order: one
/// `"topic" number name "topic/NN_name.rs";` line each, numbered from 1 within each topic.
///
/// ```
/// macro_rules! count {
///     ($($topic:literal $number:literal $name:ident $file:literal;)*) => { [$(stringify!($name)),*].len() };
/// }
/// assert_eq!(flowmatch::for_each_exercise!(count), flowmatch::grade::EXERCISES.len());
/// ```
#[macro_export]
macro_rules! for_each_exercise {
    ($then:ident) => {
        $then! {
            "7.1" 1 affine_log_density "7.1/01_affine_log_density.rs";
            "7.1" 2 planar_log_det    "7.1/02_planar_log_det.rs";
            "7.1" 3 affine_coupling   "7.1/03_affine_coupling.rs";
            "7.2" 1 ot_pairing        "7.2/01_ot_pairing.rs";
            "7.2" 2 path_energy       "7.2/02_path_energy.rs";
            "7.2" 3 sort_pairing      "7.2/03_sort_pairing.rs";
            "7.3" 1 interpolant       "7.3/01_interpolant.rs";
            "7.3" 2 condot_velocity   "7.3/02_condot_velocity.rs";
            "7.3" 3 gaussian_velocity "7.3/03_gaussian_velocity.rs";
            "7.3" 4 marginal_velocity "7.3/04_marginal_velocity.rs";
            "7.4" 1 cfm_loss          "7.4/01_cfm_loss.rs";
            "7.4" 2 train_step        "7.4/02_train_step.rs";
            "7.4" 3 train_loop        "7.4/03_train_loop.rs";
            "7.4" 4 euler_step        "7.4/04_euler_step.rs";
            "7.4" 5 midpoint_step     "7.4/05_midpoint_step.rs";
            "7.4" 6 sample_euler      "7.4/06_sample_euler.rs";
            "7.4" 7 measured_order    "7.4/07_measured_order.rs";
            "7.5" 1 log_likelihood        "7.5/01_log_likelihood.rs";
            "7.5" 2 hutchinson_divergence "7.5/02_hutchinson_divergence.rs";
            "7.6" 1 eps_to_velocity   "7.6/01_eps_to_velocity.rs";
            "7.6" 2 reverse_sde_step  "7.6/02_reverse_sde_step.rs";
            "7.6" 3 ddim_step         "7.6/03_ddim_step.rs";
            "guidance" 1 label_dropout "guidance/01_label_dropout.rs";
            "guidance" 2 cfg_velocity  "guidance/02_cfg_velocity.rs";
            "images" 1 im2col          "images/01_im2col.rs";
            "images" 2 up_and_concat   "images/02_up_and_concat.rs";
        }
    };
}

/// Calls the macro `$then` with the list of quizzes, in course order: one
/// `"topic" module;` line each; the module `src/quiz/<module>.rs` defines `pub static QUIZ`.
///
/// ```
/// macro_rules! topics {
///     ($($topic:literal $module:ident;)*) => { [$($topic),*] };
/// }
/// let topics = flowmatch::for_each_quiz!(topics);
/// assert_eq!(topics.len(), flowmatch::quiz::QUIZZES.len());
/// assert!(topics.contains(&"7.3"));
/// ```
#[macro_export]
macro_rules! for_each_quiz {
    ($then:ident) => {
        $then! {
            "7.1" t7_1;
            "7.2" t7_2;
            "7.3" t7_3;
            "7.4" t7_4;
            "7.5" t7_5;
            "7.6" t7_6;
            "guidance" guidance;
            "images" images;
        }
    };
}

/// Grades a notebook's exercise function with its checker and prints the verdict,
/// with the concept hint (level 1) after a failed attempt:
/// `check!(interpolant)` is `flowmatch::grade::interpolant::EXERCISE.check(&interpolant)`.
///
/// The function must carry the exercise's name, as the notebook's exercise cell writes it.
#[macro_export]
macro_rules! check {
    ($name:ident) => {
        $crate::grade::$name::EXERCISE.check(&$name)
    };
}

/// Like [`check!`](crate::check), with the hint level asked for: `check_with_hint!(euler_step, 2)`
/// also shows the formula (level 2); level 0 shows no hint.
///
/// The level is always written in the cell: a counter of failed attempts cannot
/// work, because every evcxr cell links its own copy of the library's statics.
#[macro_export]
macro_rules! check_with_hint {
    ($name:ident, $level:expr) => {
        $crate::grade::$name::EXERCISE.check_with_hint(&$name, $level)
    };
}
