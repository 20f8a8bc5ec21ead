//! `course quiz`: the topic quizzes in a terminal, or graded from a line of answers.
//!
//! ```text
//! course quiz [TOPIC]                          asks the questions one by one, then prints the score
//! course quiz TOPIC --answers "b;a,c;0.25"     grades one answer per question (for scripts)
//! course quiz TOPIC --answers "…" --json       the same as one JSON gradebook on stdout
//! course quiz --list                           each topic with its number of questions
//! ```
//!
//! The quizzes, their grading and their messages are the library's (`flowmatch::quiz`);
//! this command only reads and prints. Without a terminal on stdin and without
//! `--answers` it exits with status 2 and a one-line message instead of waiting.
//! Exit status: 0 when every answer is right, 1 otherwise, 2 for a malformed answer,
//! an unknown topic or option.

use flowmatch::quiz::{self, AnswerError, Mark, Quiz, QUIZZES};
use std::io::{BufRead, IsTerminal, Write};

const USAGE: &str = "\
course quiz - the topic quizzes

USAGE:
    cargo run --release --bin course -- quiz [TOPIC]
    cargo run --release --bin course -- quiz TOPIC --answers \"b;a,c;0.25\" [--json]
    cargo run --release --bin course -- quiz --list

    TOPIC          e.g. 7.3; without it, the quiz is chosen interactively
    --answers A    grade these answers instead of asking: one per question, separated by `;`;
                   several options of one question joined by `,` (a,c); numbers with a decimal
                   point (0.25); `-` skips a question
    --json         with --answers: print one JSON document (the gradebook) instead of the verdicts:
                   {\"version\": 1, \"items\": [{\"name\", \"topic\", \"earned\", \"possible\", \"verdict\"}],
                    \"earned\", \"possible\"}, one item per question (q1, q2, …; 1 point each)
    --list         list the topics with their number of questions

Without a terminal on stdin, pass --answers (the command never waits for input it cannot get).
";

/// `7.3  7 questions  The mathematics of Flow Matching`, one line per quiz.
fn list() -> String {
    QUIZZES.iter().map(|q| format!("{}  {} questions  {}\n", q.topic, q.questions.len(), q.title)).collect()
}

/// Runs `course quiz ARGS...`; `args` are the arguments after `quiz`. Returns the exit code.
pub fn run(args: &[String]) -> i32 {
    match parse_and_run(args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            2
        }
    }
}

fn parse_and_run(args: &[String]) -> Result<i32, String> {
    let (mut topic, mut answers, mut json) = (None::<&str>, None::<&str>, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-h" | "--help" | "help" => {
                print!("{USAGE}");
                return Ok(0);
            }
            "--list" => {
                print!("{}", list());
                return Ok(0);
            }
            "--json" => json = true,
            "--answers" => {
                i += 1;
                let value = args.get(i).ok_or("--answers needs the answers, e.g. --answers \"b;a,c;0.25\"")?;
                answers = Some(value.as_str());
            }
            s if s.starts_with("--answers=") => answers = Some(&s["--answers=".len()..]),
            s if s.starts_with('-') => return Err(format!("quiz: unknown option `{s}` (see course quiz --help)")),
            t if topic.is_none() => topic = Some(t),
            extra => return Err(format!("quiz: one topic at a time; `{extra}` is a second one")),
        }
        i += 1;
    }
    if json && answers.is_none() {
        return Err("--json goes with --answers: the gradebook is for graded answer lists".to_string());
    }
    let quiz = topic.map(quiz::find).transpose().map_err(|e| e.to_string())?;
    match answers {
        Some(line) => {
            let quiz = quiz.ok_or("--answers needs a topic: course quiz TOPIC --answers \"…\"")?;
            grade_line(quiz, line, json)
        }
        None => {
            if !std::io::stdin().is_terminal() {
                return Err("course quiz asks on a terminal and stdin is not one; grade a line of answers with \
                            --answers \"b;a,c;0.25\" (one per question)"
                    .to_string());
            }
            interactive(quiz)
        }
    }
}

/// `--answers`: grades the line, prints the verdicts and the score (or the gradebook).
fn grade_line(quiz: &'static Quiz, line: &str, json: bool) -> Result<i32, String> {
    let result = quiz.grade_all(line).map_err(|e| format!("quiz {}: {e}", quiz.topic))?;
    if json {
        println!("{}", result.gradebook().to_json());
    } else {
        let parts: Vec<&str> = line.split(';').collect();
        for (k, mark) in result.marks.iter().enumerate() {
            let verdict = quiz::QuestionVerdict {
                topic: quiz.topic.to_string(),
                number: k + 1,
                question: quiz.questions.get(k),
                given: parts.get(k).copied().unwrap_or("").to_string(),
                mark: mark.clone(),
            };
            println!("{verdict}\n");
        }
        println!("Score: {}/{} (quiz {})", result.earned(), result.possible(), quiz.topic);
    }
    Ok(if result.earned() == result.possible() { 0 } else { 1 })
}

/// Reads one line from the terminal after a prompt; `None` at the end of input.
fn ask(prompt: &str) -> Option<String> {
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
    }
}

/// Asks the questions one by one and prints the verdict after each, then the score.
fn interactive(quiz: Option<&'static Quiz>) -> Result<i32, String> {
    let quiz = match quiz {
        Some(q) => q,
        None if QUIZZES.len() == 1 => QUIZZES[0],
        None => {
            print!("The quizzes:\n{}", list());
            loop {
                let Some(t) = ask("Which topic? ") else { return Ok(1) };
                match quiz::find(&t) {
                    Ok(q) => break q,
                    Err(e) => println!("{e}"),
                }
            }
        }
    };
    println!(
        "\nQuiz {} · {} ({} questions). Answer each, or `-` to skip it.",
        quiz.topic,
        quiz.title,
        quiz.questions.len()
    );
    let mut earned = 0;
    for (k, question) in quiz.questions.iter().enumerate() {
        println!("\n{}", question.render(k + 1));
        let verdict = loop {
            let Some(given) = ask("your answer> ") else {
                println!("\n(end of input) Score: {earned}/{} (quiz {})", quiz.questions.len(), quiz.topic);
                return Ok(1);
            };
            let verdict = quiz::grade(quiz.topic, k + 1, &given);
            match &verdict.mark {
                Mark::Invalid(AnswerError::Empty) => {
                    println!("Type an answer ({}), or `-` to skip.", question.how_to_answer())
                }
                Mark::Invalid(e) => println!("{e}; try again."),
                _ => break verdict,
            }
        };
        earned += verdict.points();
        println!("{verdict}");
    }
    println!("\nScore: {earned}/{} (quiz {})", quiz.questions.len(), quiz.topic);
    if !quiz.short_answers.is_empty() {
        println!("\nShort answers, not graded: answer them in a few sentences; the model answers are in the");
        println!("instructor copy of notebook {}.", quiz.topic);
        for (i, s) in quiz.short_answers.iter().enumerate() {
            println!("\n S{}. {}", i + 1, s.prompt);
        }
    }
    Ok(if earned as usize == quiz.questions.len() { 0 } else { 1 })
}
