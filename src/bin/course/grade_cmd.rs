//! `course grade [EXERCISE...]`: grades the exercise files in `exercises/`.
//!
//! The exercise files are compiled into this binary (the `#[path]` modules
//! below), so editing an exercise and running the command again grades the
//! new code. Each exercise is graded by its checker in `flowmatch::grade`, on
//! a worker thread with a time limit: a panic, a `todo!()` or an endless loop
//! in one exercise is reported for that exercise and the others are still
//! graded. Prints a score table and, for every exercise that does not pass,
//! what came back, what was expected and a hint. Exit status: 0 when every
//! graded exercise passes, 1 otherwise, 2 for an unknown exercise name.

use flowmatch::grade::{self, Exercise, Verdict};

#[allow(unused_variables)]
#[path = "../../../exercises/01_interpolant.rs"]
mod ex01_interpolant;
#[allow(unused_variables)]
#[path = "../../../exercises/02_condot_velocity.rs"]
mod ex02_condot_velocity;
#[allow(unused_variables)]
#[path = "../../../exercises/03_gaussian_velocity.rs"]
mod ex03_gaussian_velocity;
#[allow(unused_variables)]
#[path = "../../../exercises/04_cfm_loss.rs"]
mod ex04_cfm_loss;
#[allow(unused_variables)]
#[path = "../../../exercises/05_euler_step.rs"]
mod ex05_euler_step;
#[allow(unused_variables)]
#[path = "../../../exercises/06_midpoint_step.rs"]
mod ex06_midpoint_step;
#[allow(unused_variables, unused_imports)]
#[path = "../../../exercises/07_train_step.rs"]
mod ex07_train_step;
#[allow(unused_variables)]
#[path = "../../../exercises/08_sample_euler.rs"]
mod ex08_sample_euler;

const USAGE: &str = "\
course grade - grade your solutions in exercises/

USAGE:
    cargo run --release --bin course -- grade [EXERCISE...]

    EXERCISE   a name (interpolant), a number (1) or a file name (01_interpolant);
               default: every exercise
    --list     list the exercises and exit
";

/// An exercise and the call that grades the student's function for it.
type Grader = (&'static Exercise, fn() -> Verdict);

/// Every exercise with its grader, in course order.
fn graders() -> [Grader; 8] {
    [
        (&grade::interpolant::EXERCISE, || grade::interpolant::grade(ex01_interpolant::interpolant)),
        (&grade::condot_velocity::EXERCISE, || grade::condot_velocity::grade(ex02_condot_velocity::condot_velocity)),
        (&grade::gaussian_velocity::EXERCISE, || {
            grade::gaussian_velocity::grade(ex03_gaussian_velocity::gaussian_velocity)
        }),
        (&grade::cfm_loss::EXERCISE, || grade::cfm_loss::grade(ex04_cfm_loss::cfm_loss)),
        (&grade::euler_step::EXERCISE, || grade::euler_step::grade(ex05_euler_step::euler_step)),
        (&grade::midpoint_step::EXERCISE, || grade::midpoint_step::grade(ex06_midpoint_step::midpoint_step)),
        (&grade::train_step::EXERCISE, || grade::train_step::grade(ex07_train_step::train_step)),
        (&grade::sample_euler::EXERCISE, || grade::sample_euler::grade(ex08_sample_euler::sample_euler)),
    ]
}

fn list() -> String {
    let mut out = String::from(" #  exercise           notebook  points  file\n");
    for e in grade::EXERCISES {
        out += &format!("{:>2}  {:<18} {:<8}  {:>6}  {}\n", e.number, e.name, e.notebook, e.points, e.file);
    }
    out
}

/// Runs `course grade ARGS...`; `args` are the arguments after `grade`. Returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let mut wanted: Vec<&'static Exercise> = Vec::new();
    for a in args {
        match a.as_str() {
            "-h" | "--help" | "help" => {
                print!("{USAGE}");
                return 0;
            }
            "--list" => {
                print!("{}", list());
                return 0;
            }
            name => match grade::find(name) {
                Some(e) => {
                    if !wanted.contains(&e) {
                        wanted.push(e);
                    }
                }
                None => {
                    eprintln!("error: there is no exercise `{name}`. The exercises are:\n\n{}", list());
                    return 2;
                }
            },
        }
    }
    let selected: Vec<Grader> =
        graders().into_iter().filter(|(e, _)| wanted.is_empty() || wanted.contains(e)).collect();
    println!("Grading {} exercise{} from exercises/ ...\n", selected.len(), if selected.len() == 1 { "" } else { "s" });
    let verdicts: Vec<Verdict> = selected.iter().map(|(_, grade_it)| grade_it()).collect();
    print!("{}", grade::report(&verdicts));
    let failing = verdicts.iter().filter(|v| !v.passed()).count();
    if failing == 0 {
        println!("\nEverything passes.");
        0
    } else {
        println!(
            "\n{failing} of {} exercise{} not passing yet.",
            verdicts.len(),
            if verdicts.len() == 1 { " is" } else { "s are" }
        );
        1
    }
}
