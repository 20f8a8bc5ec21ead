//! [`Checker`]: the one generic checker behind every exercise.
//!
//! ```text
//! check(f) = print(grade(f), hint level 1),   check_with_hint(f, k) = print(grade(f), hint level k)
//! grade(f) = guarded(compare(f)) within the time limit,   compare(f): Ok | Err(why)
//! ```
//!
//! An exercise's checker file only says what is particular to it: the
//! exercise's title, points, time limit and two tiers of hints, and `compare`, which runs the
//! student's function on the test inputs and explains the first wrong answer.
//! Guarding (panics, `todo!()`, endless loops), printing and scoring are
//! written once, here and in [`super::judge_within`].

use super::{judge_within, Exercise, Verdict};
use std::time::Duration;

/// An exercise and the comparison of a student's function `A` (a `dyn Fn` type)
/// with the reference.
///
/// Checkers are statics (`flowmatch::grade::<exercise>::EXERCISE`); a student's
/// function goes in by reference, `EXERCISE.check(&interpolant)`. A function or
/// a closure that captures nothing is `'static`, so it can run on the grader's
/// worker thread, which a function that loops forever is left behind on.
pub struct Checker<A: ?Sized + 'static> {
    /// Where the exercise sits in the course, what it is worth, and its hints.
    pub exercise: Exercise,
    compare: fn(&A) -> Result<(), String>,
}

impl<A: ?Sized + 'static> Checker<A> {
    /// The checker of `exercise`, comparing with `compare`.
    pub const fn new(exercise: Exercise, compare: fn(&A) -> Result<(), String>) -> Self {
        Checker { exercise, compare }
    }

    /// Compares `f` with the reference on the calling thread (no guard, no time
    /// limit): `Err` says on which input `f` was wrong, what it returned and what
    /// was expected.
    pub fn compare(&self, f: &A) -> Result<(), String> {
        (self.compare)(f)
    }
}

impl<A: ?Sized + Sync + 'static> Checker<A> {
    /// Grades `f` without printing, on a worker thread with the exercise's time limit.
    pub fn grade(&'static self, f: &'static A) -> Verdict {
        self.grade_within(self.exercise.time_limit, f)
    }

    /// Like [`Checker::grade`] with another time limit.
    pub fn grade_within(&'static self, limit: Duration, f: &'static A) -> Verdict {
        judge_within(&self.exercise, limit, move || (self.compare)(f))
    }

    /// Grades `f`, prints the verdict (with the concept hint after a failed attempt) and
    /// returns the verdict: what a notebook's check cell, `check!(f)`, does.
    pub fn check(&'static self, f: &'static A) -> Verdict {
        self.check_with_hint(f, 1)
    }

    /// Like [`Checker::check`] with the hint level asked for: 0 no hint, 1 the concept
    /// (after a failed attempt), 2 the concept and the formula (on any verdict but a
    /// pass): `check_with_hint!(f, 2)`.
    pub fn check_with_hint(&'static self, f: &'static A, level: u8) -> Verdict {
        let verdict = self.grade(f);
        println!("{}", verdict.render(level));
        verdict
    }
}

impl<A: ?Sized + 'static> std::ops::Deref for Checker<A> {
    type Target = Exercise;

    fn deref(&self) -> &Exercise {
        &self.exercise
    }
}
