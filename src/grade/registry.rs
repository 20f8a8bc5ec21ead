//! The list of exercises: the one table from which the `grade` module, the
//! `course grade` command and the grading tests all derive.
//!
//! ```text
//! number  name (checker module = the student's function)  topic  file under exercises/, solutions/, tests/fixtures/wrong/
//! ```
//!
//! Adding an exercise: write its stub (`exercises/<topic>/NN_name.rs`), its
//! solution (`solutions/<topic>/NN_name.rs`, the stub with its solution regions
//! filled in), typical wrong answers (`tests/fixtures/wrong/<topic>/NN_name.rs`,
//! a `pub const ALL` list) and its checker (`src/grade/<name>.rs`, defining
//! `EXERCISE`), then add one line below. The tests check that the files, the
//! numbers and the notebooks agree with the list.

/// Calls the macro `$then` with the list of exercises, in course order: one
/// `number name "topic" "topic/NN_name.rs";` line each.
///
/// ```
/// macro_rules! count {
///     ($($number:literal $name:ident $topic:literal $file:literal;)*) => { [$(stringify!($name)),*].len() };
/// }
/// assert_eq!(flowmatch::for_each_exercise!(count), flowmatch::grade::EXERCISES.len());
/// ```
#[macro_export]
macro_rules! for_each_exercise {
    ($then:ident) => {
        $then! {
            1 interpolant       "7.3" "7.3/01_interpolant.rs";
            2 condot_velocity   "7.3" "7.3/02_condot_velocity.rs";
            3 gaussian_velocity "7.3" "7.3/03_gaussian_velocity.rs";
            4 cfm_loss          "7.4" "7.4/04_cfm_loss.rs";
            5 euler_step        "7.4" "7.4/05_euler_step.rs";
            6 midpoint_step     "7.4" "7.4/06_midpoint_step.rs";
            7 train_step        "7.4" "7.4/07_train_step.rs";
            8 sample_euler      "7.4" "7.4/08_sample_euler.rs";
        }
    };
}

/// Grades a notebook's exercise function with its checker and prints the verdict:
/// `check!(interpolant)` is `flowmatch::grade::interpolant::EXERCISE.check(&interpolant)`.
///
/// The function must carry the exercise's name, as the notebook's exercise cell writes it.
#[macro_export]
macro_rules! check {
    ($name:ident) => {
        $crate::grade::$name::EXERCISE.check(&$name)
    };
}
