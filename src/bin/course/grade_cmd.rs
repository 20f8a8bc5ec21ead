//! `course grade [EXERCISE...]`: grades the exercise files in `exercises/`.
//!
//! The exercise files are compiled into this binary (the `#[path]` modules
//! that `exercise_files!` declares from the registry,
//! `flowmatch::for_each_exercise!`), so editing an exercise and running the
//! command again grades the new code. Each exercise is graded by its checker in `flowmatch::grade`, on
//! a worker thread with a time limit: a panic, a `todo!()` or an endless loop
//! in one exercise is reported for that exercise and the others are still
//! graded. Prints a score table and, for every exercise that does not pass,
//! what came back, what was expected and a hint. Exit status: 0 when every
//! graded exercise passes, 1 otherwise, 2 for an unknown exercise name.

use flowmatch::grade::{self, Exercise, Verdict};

/// Compiles every exercise file of the registry into this binary (`exercises::<name>`)
/// and lists each exercise with the call that grades it.
macro_rules! exercise_files {
    ($($number:literal $name:ident $topic:literal $file:literal;)*) => {
        #[path = "../../../exercises"]
        mod exercises {
            $(
                #[allow(unused_variables, unused_imports)]
                #[path = $file]
                pub mod $name;
            )*
        }

        /// Every exercise with its grader, in course order.
        fn graders() -> Vec<Grader> {
            vec![$((&grade::$name::EXERCISE.exercise, || grade::$name::EXERCISE.grade(&exercises::$name::$name))),*]
        }
    };
}

flowmatch::for_each_exercise!(exercise_files);

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
