//! `course grade`: grades the exercise files in `exercises/`.
//!
//! The exercise files are compiled into this binary (the `#[path]` modules
//! that `exercise_files!` declares from the registry,
//! `flowmatch::for_each_exercise!`), so editing an exercise and running the
//! command again grades the new code. Each exercise is graded by its checker in `flowmatch::grade`, on
//! a worker thread with a time limit: a panic, a `todo!()` or an endless loop
//! in one exercise is reported for that exercise and the others are still
//! graded. Prints a score table and, for every exercise that does not pass,
//! what came back, what was expected and a hint (the concept; `--hint 2` adds the
//! formula), or with `--json` one JSON gradebook on stdout. Exit status: 0 when every
//! graded exercise passes, 1 otherwise, 2 for an unknown exercise or option.

use flowmatch::grade::{self, Exercise, Verdict};

/// Compiles every exercise file of the registry into this binary (`exercises::<name>`)
/// and lists each exercise with the call that grades it.
macro_rules! exercise_files {
    ($($topic:literal $number:literal $name:ident $file:literal;)*) => {
        #[path = "../../../exercises"]
        mod exercises {
            $(
                #[allow(unused_variables, unused_imports, clippy::type_complexity)]
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
    cargo run --release --bin course -- grade [EXERCISE...] [--hint 2] [--json]

    EXERCISE   a name (euler_step), an id: topic and number (7.4.4), or a file name
               (04_euler_step); default: every exercise
    --hint N   the hint shown for an exercise that does not pass: 1 (default) names the
               concept that is wrong, 2 also gives the formula, 0 none
    --json     print one JSON document (the gradebook) instead of the table:
               {\"version\": 1, \"items\": [{\"name\", \"topic\", \"earned\", \"possible\", \"verdict\"}],
                \"earned\", \"possible\"}
    --list     list the exercises (topic, number, name, points) and exit
";

/// An exercise and the call that grades the student's function for it.
type Grader = (&'static Exercise, fn() -> Verdict);

/// The exercises, one line each: id, topic, number, name, points, file.
fn list() -> String {
    let name_w = grade::EXERCISES.iter().map(|e| e.name.len()).max().unwrap_or(8).max(8);
    let mut out = format!("{:<7}  {:<5}  {:>2}  {:<name_w$}  {:>6}  file\n", "id", "topic", "#", "exercise", "points");
    for e in grade::EXERCISES {
        out += &format!(
            "{:<7}  {:<5}  {:>2}  {:<name_w$}  {:>6}  {}\n",
            e.id, e.topic, e.number, e.name, e.points, e.file
        );
    }
    out
}

/// Runs `course grade ARGS...`; `args` are the arguments after `grade`. Returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let mut wanted: Vec<&'static Exercise> = Vec::new();
    let (mut level, mut json) = (1u8, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-h" | "--help" | "help" => {
                print!("{USAGE}");
                return 0;
            }
            "--list" => {
                print!("{}", list());
                return 0;
            }
            "--json" => json = true,
            a if a == "--hint" || a.starts_with("--hint=") => {
                let value = match a.strip_prefix("--hint=") {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        args.get(i).map(String::as_str)
                    }
                };
                match value.map(|v| (v, v.parse::<u8>())) {
                    Some((_, Ok(n))) if n <= grade::MAX_HINT_LEVEL => level = n,
                    Some((v, _)) => {
                        eprintln!("error: --hint takes 0, 1 or 2 (2 shows the formula), not `{v}`");
                        return 2;
                    }
                    None => {
                        eprintln!("error: --hint needs a level: 1 (the concept) or 2 (the formula too)");
                        return 2;
                    }
                }
            }
            s if s.starts_with('-') => {
                eprintln!("error: unknown option `{s}`\n\n{USAGE}");
                return 2;
            }
            name => match grade::find(name) {
                Some(e) => {
                    if !wanted.contains(&e) {
                        wanted.push(e);
                    }
                }
                None => {
                    let numbered = if name.chars().all(|c| c.is_ascii_digit()) {
                        " Exercises are numbered within their topic: write the topic too (e.g. 7.4.4), or the name."
                    } else {
                        ""
                    };
                    eprintln!("error: there is no exercise `{name}`.{numbered} The exercises are:\n\n{}", list());
                    return 2;
                }
            },
        }
        i += 1;
    }
    let selected: Vec<Grader> =
        graders().into_iter().filter(|(e, _)| wanted.is_empty() || wanted.contains(e)).collect();
    if !json {
        println!(
            "Grading {} exercise{} from exercises/ ...\n",
            selected.len(),
            if selected.len() == 1 { "" } else { "s" }
        );
    }
    let verdicts: Vec<Verdict> = selected.iter().map(|(_, grade_it)| grade_it()).collect();
    let failing = verdicts.iter().filter(|v| !v.passed()).count();
    if json {
        println!("{}", grade::gradebook(&verdicts).to_json());
    } else {
        print!("{}", grade::report(&verdicts, level));
        if failing == 0 {
            println!("\nEverything passes.");
        } else {
            println!(
                "\n{failing} of {} exercise{} not passing yet.",
                verdicts.len(),
                if verdicts.len() == 1 { " is" } else { "s are" }
            );
        }
    }
    i32::from(failing > 0)
}
