//! The quizzes, graded the way the exercises are: for every question of every quiz in
//! the registry (`flowmatch::for_each_quiz!`), the key passes and every wrong answer
//! fails; every kind of malformed answer gets its own clear message; the notebooks end
//! with their quiz and their instructor keys are the library's; `course quiz` grades
//! as the library does, writes the JSON gradebook, and never waits without a terminal.

use flowmatch::grade::Gradebook;
use flowmatch::quiz::{self, Answer, AnswerError, Mark, Question, Quiz, Response, QUIZZES};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// (topic, module) of every quiz, as the registry lists them.
macro_rules! registered {
    ($($topic:literal $module:ident;)*) => { &[$(($topic, stringify!($module))),*] };
}
const REGISTRY: &[(&str, &str)] = flowmatch::for_each_quiz!(registered);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every question of every quiz, with its quiz and 1-based number.
fn all_questions() -> Vec<(&'static Quiz, usize, &'static Question)> {
    QUIZZES
        .iter()
        .flat_map(|q| q.questions.iter().enumerate().map(move |(i, question)| (*q, i + 1, question)))
        .collect()
}

/// Every subset of `0..n` as sorted index lists (n ≤ 8 here).
fn subsets(n: usize) -> Vec<Vec<usize>> {
    (0..1u32 << n).map(|bits| (0..n).filter(|i| bits >> i & 1 == 1).collect()).collect()
}

fn letters(indices: &[usize]) -> String {
    indices.iter().map(|&i| quiz::letter(i).to_string()).collect::<Vec<_>>().join(",")
}

// ---------------------------------------------------------------------------
// The registry and the content
// ---------------------------------------------------------------------------

#[test]
fn the_registry_lists_every_quiz_once_with_its_topic() {
    assert_eq!(QUIZZES.len(), REGISTRY.len());
    assert_eq!(quiz::REGISTERED_TOPICS.len(), REGISTRY.len());
    for (q, &(topic, module)) in QUIZZES.iter().zip(REGISTRY) {
        assert_eq!(q.topic, topic, "src/quiz/{module}.rs defines the quiz of {} but is registered as {topic}", q.topic);
        assert!(repo().join(format!("src/quiz/{module}.rs")).is_file());
        assert_eq!(quiz::find(topic).map(|f| f.topic), Ok(topic));
    }
    let mut topics: Vec<&str> = REGISTRY.iter().map(|r| r.0).collect();
    topics.dedup();
    assert_eq!(topics.len(), REGISTRY.len(), "one quiz per topic");
    // Every quiz file under src/quiz/ is registered.
    let mut files: Vec<String> = std::fs::read_dir(repo().join("src/quiz"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f != "mod.rs")
        .collect();
    files.sort();
    let mut want: Vec<String> = REGISTRY.iter().map(|r| format!("{}.rs", r.1)).collect();
    want.sort();
    assert_eq!(files, want, "src/quiz/ holds exactly the content files of the registry (for_each_quiz!)");
}

#[test]
fn every_quiz_is_well_formed() {
    for q in QUIZZES {
        assert!(q.questions.len() >= 6, "quiz {} has {} questions; at least 6", q.topic, q.questions.len());
        assert!(!q.short_answers.is_empty(), "quiz {} has no short-answer prompt", q.topic);
        assert!(!q.title.is_empty());
        for (i, question) in q.questions.iter().enumerate() {
            let id = format!("quiz {} question {}", q.topic, i + 1);
            assert!(question.prompt.len() > 20 && question.explanation.len() > 150, "{id}: prompt and a paragraph");
            match question.answer {
                Answer::Choice { options, correct } => {
                    assert!((2..=8).contains(&options.len()), "{id}: 2 to 8 options");
                    assert!(!correct.is_empty() && correct.windows(2).all(|w| w[0] < w[1]), "{id}: sorted keys");
                    assert!(correct.iter().all(|&c| c < options.len()), "{id}: a key out of range");
                    assert!(correct.len() < options.len(), "{id}: not every option can be right");
                    let mut texts: Vec<&str> = options.to_vec();
                    texts.sort();
                    texts.dedup();
                    assert_eq!(texts.len(), options.len(), "{id}: two options read the same");
                }
                Answer::Number { value, tolerance } => {
                    assert!(value.is_finite() && tolerance > 0.0 && tolerance.is_finite(), "{id}");
                    assert!(tolerance <= 0.05 * value.abs().max(1.0), "{id}: a tolerance this wide accepts guesses");
                }
            }
        }
        for s in q.short_answers {
            assert!(
                s.prompt.len() > 20 && s.model_answer.len() > 150,
                "quiz {}: a short answer needs a model",
                q.topic
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Keys pass, wrong answers fail
// ---------------------------------------------------------------------------

#[test]
fn every_key_passes_and_every_wrong_answer_fails() {
    let mut graded = 0;
    for (q, number, question) in all_questions() {
        let key = question.key();
        let v = quiz::grade(q.topic, number, &key);
        assert!(v.correct(), "quiz {} question {number}: the key `{key}` does not pass: {v}", q.topic);
        assert_eq!(v.points(), 1);
        assert!(v.to_string().contains(question.explanation), "the verdict shows the explanation");
        match question.answer {
            Answer::Choice { options, correct } => {
                // Single answer: every other option fails. Several: every other set of options fails.
                let candidates: Vec<Vec<usize>> = if correct.len() == 1 {
                    (0..options.len()).map(|i| vec![i]).collect()
                } else {
                    subsets(options.len()).into_iter().filter(|s| !s.is_empty()).collect()
                };
                for chosen in candidates {
                    let text = letters(&chosen);
                    let v = quiz::grade(q.topic, number, &text);
                    assert_eq!(v.correct(), chosen == correct, "quiz {} question {number}: `{text}`: {v}", q.topic);
                    assert!(matches!(v.mark, Mark::Correct | Mark::Wrong), "{v}");
                    graded += 1;
                }
                // Upper case and spaces are fine.
                assert!(quiz::grade(q.topic, number, &format!(" {} ", key.to_uppercase().replace(',', ", "))).correct());
            }
            Answer::Number { value, tolerance } => {
                for (x, right) in [
                    (value, true),
                    (value + 0.9 * tolerance, true),
                    (value - 0.9 * tolerance, true),
                    (value + 1.5 * tolerance, false),
                    (value - 1.5 * tolerance, false),
                    (-value - 1.0, false),
                    (value * 2.0 + 1.0, false),
                ] {
                    let v = quiz::grade(q.topic, number, &format!("{x}"));
                    assert_eq!(
                        v.correct(),
                        right,
                        "quiz {} question {number}: {x} (key {value} ± {tolerance})",
                        q.topic
                    );
                    graded += 1;
                }
            }
        }
    }
    assert!(graded > 50, "only {graded} wrong or right answers were graded");
}

#[test]
fn keys_in_one_line_grade_the_whole_quiz() {
    for q in QUIZZES {
        let result = q.grade_all(&q.keys()).unwrap();
        assert_eq!((result.earned(), result.possible()), (q.questions.len() as u32, q.questions.len() as u32));
        // One wrong answer costs one point, and `-` skips a question.
        let mut answers: Vec<String> = q.questions.iter().map(Question::key).collect();
        answers[0] = wrong_answer(&q.questions[0]);
        answers[1] = "-".to_string();
        let result = q.grade_all(&answers.join(";")).unwrap();
        assert_eq!(result.earned(), q.questions.len() as u32 - 2);
        assert_eq!(result.marks[0], Mark::Wrong);
        assert_eq!(result.marks[1], Mark::Skipped);
        // A trailing `;` is allowed.
        assert!(q.grade_all(&format!("{};", q.keys())).is_ok());
    }
}

/// A well-formed answer to `question` that is wrong.
fn wrong_answer(question: &Question) -> String {
    match question.answer {
        Answer::Choice { correct, .. } => letters(&[if correct[0] == 0 { 1 } else { 0 }]),
        Answer::Number { value, tolerance } => format!("{}", value + 10.0 * tolerance + 1.0),
    }
}

// ---------------------------------------------------------------------------
// Malformed answers: a clear message each, never a panic
// ---------------------------------------------------------------------------

/// The first question of any quiz whose answer matches `pick`: (topic, number, question).
fn first_where(pick: impl Fn(&Question) -> bool) -> (&'static str, usize, &'static Question) {
    all_questions()
        .into_iter()
        .find(|(_, _, q)| pick(q))
        .map(|(quiz, n, q)| (quiz.topic, n, q))
        .expect("such a question")
}

fn invalid(topic: &str, number: usize, given: &str) -> (AnswerError, String) {
    let v = quiz::grade(topic, number, given);
    let text = v.to_string();
    match v.mark {
        Mark::Invalid(e) => (e, text),
        other => panic!("`{given}` for quiz {topic} question {number} should be malformed, got {other:?}: {text}"),
    }
}

/// Asserts that `given` for question `at` = (topic, number) is malformed in the way `is_kind` says,
/// with a message that holds every one of `words`.
fn expect_malformed(what: &str, at: (&str, usize), given: &str, is_kind: fn(&AnswerError) -> bool, words: &[&str]) {
    let (e, text) = invalid(at.0, at.1, given);
    assert!(is_kind(&e), "{what}: `{given}` gave {e:?}");
    for w in words {
        assert!(text.contains(w), "{what}: the message should say `{w}`: {text}");
    }
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn every_kind_of_malformed_answer_gets_its_message() {
    use AnswerError as E;
    let at = |(topic, n, _): (&'static str, usize, &Question)| (topic, n);
    let single = first_where(|q| matches!(q.answer, Answer::Choice { correct, .. } if correct.len() == 1));
    let several = at(first_where(Question::several_correct));
    let number = at(first_where(|q| matches!(q.answer, Answer::Number { .. })));
    let options = match single.2.answer {
        Answer::Choice { options, .. } => options.len(),
        Answer::Number { .. } => unreachable!(),
    };
    let (last, beyond) = (quiz::letter(options - 1), quiz::letter(options).to_string());
    let single = at(single);
    expect_malformed(
        "unknown topic",
        ("9.9", 1),
        "a",
        |e| matches!(e, E::UnknownTopic { .. }),
        &["no quiz for topic `9.9`", "7.3"],
    );
    expect_malformed(
        "question 0",
        (single.0, 0),
        "a",
        |e| matches!(e, E::NoSuchQuestion { .. }),
        &["there is no question 0"],
    );
    expect_malformed(
        "question out of range",
        (single.0, 99),
        "a",
        |e| matches!(e, E::NoSuchQuestion { .. }),
        &["there is no question 99", "questions 1 to"],
    );
    expect_malformed(
        "option out of range",
        single,
        &beyond,
        |e| matches!(e, E::OptionOutOfRange { .. }),
        &[&format!("`{beyond}` is not one of the options"), &format!("a–{last}")],
    );
    expect_malformed(
        "a number for a choice",
        single,
        "2",
        |e| matches!(e, E::NumberForChoice { .. }),
        &["is a number, but this is a multiple-choice question"],
    );
    expect_malformed(
        "letters for a number",
        number,
        "b",
        |e| matches!(e, E::LettersForNumber { .. }),
        &["`b` is not a number", "decimal point"],
    );
    expect_malformed("empty", single, "   ", |e| *e == E::Empty, &["not answered yet"]);
    expect_malformed(
        "not a number",
        number,
        "1.2.3",
        |e| matches!(e, E::NotAnAnswer { numeric: true, .. }),
        &["`1.2.3` is not a number"],
    );
    expect_malformed(
        "a decimal comma",
        number,
        "0,25",
        |e| matches!(e, E::DecimalComma { .. }),
        &["decimal comma", "0.25"],
    );
    expect_malformed("not finite", number, "1e999", |e| matches!(e, E::NotFinite { .. }), &["not a finite number"]);
    expect_malformed(
        "several for one",
        single,
        "a,b",
        |e| matches!(e, E::SeveralForSingle { .. }),
        &["exactly one correct option"],
    );
    expect_malformed("no commas", several, "ab", |e| matches!(e, E::JoinedLetters { .. }), &["`a,b`"]);
    expect_malformed("an option twice", several, "a,a", |e| matches!(e, E::RepeatedOption { .. }), &["given twice"]);
    expect_malformed(
        "a word",
        single,
        "maybe",
        |e| matches!(e, E::NotAnAnswer { numeric: false, .. }),
        &["not an answer to a multiple-choice question"],
    );
    expect_malformed("punctuation", single, "a;", |e| matches!(e, E::NotAnAnswer { .. }), &["`a;`"]);
}

#[test]
fn malformed_answer_lists_name_the_question_or_the_count() {
    let q = QUIZZES[0];
    let n = q.questions.len();
    let keys: Vec<String> = q.questions.iter().map(Question::key).collect();
    let too_many = format!("{};a", keys.join(";"));
    let msg = q.grade_all(&too_many).unwrap_err().to_string();
    assert!(msg.contains(&format!("{} answers for the {n} questions", n + 1)), "{msg}");
    let too_few = keys[..n - 1].join(";");
    let msg = q.grade_all(&too_few).unwrap_err().to_string();
    assert!(msg.contains(&format!("{} answers for the {n} questions", n - 1)) && msg.contains("`-`"), "{msg}");
    assert_eq!(q.grade_all("").unwrap_err(), AnswerError::Empty);
    // A malformed answer inside the list names its question.
    let mut bad = keys.clone();
    bad[2] = "zz".to_string();
    let msg = q.grade_all(&bad.join(";")).unwrap_err().to_string();
    assert!(msg.starts_with("question 3: "), "{msg}");
    let mut empty = keys;
    empty[1] = " ".to_string();
    assert!(q.grade_all(&empty.join(";")).unwrap_err().to_string().starts_with("question 2: no answer given"));
}

#[test]
fn no_input_panics() {
    // A small fuzz over odd inputs: every answer is graded or explained, nothing panics.
    let inputs = [
        "",
        " ",
        "-",
        "a",
        "A",
        "z",
        "é",
        "ä,b",
        "0",
        "-0",
        "+1",
        "1e3",
        "1e",
        "e",
        ".",
        ",",
        ",,",
        "a,",
        ",a",
        "a,,b",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1/2",
        "½",
        "0x10",
        "a b",
        "aa",
        "abcdefghijklmnopqrstuvwxyzab",
        "💥",
        "\u{0}",
    ];
    for (q, number, _) in all_questions() {
        for text in inputs {
            let v = std::panic::catch_unwind(|| quiz::grade(q.topic, number, text)).expect(text);
            assert!(!v.to_string().is_empty());
        }
    }
}

// ---------------------------------------------------------------------------
// Showing a quiz
// ---------------------------------------------------------------------------

#[test]
fn a_quiz_shows_its_questions_options_and_prompts_but_not_its_keys() {
    for q in QUIZZES {
        let text = q.render();
        assert!(text.contains(&format!("Quiz {} · {}", q.topic, q.title)), "{text}");
        assert!(text.contains(&format!("quiz::answer(\"{}\"", q.topic)));
        for (i, question) in q.questions.iter().enumerate() {
            assert!(text.contains(&format!("{}. {}", i + 1, question.prompt)));
            assert!(!text.contains(question.explanation), "the explanations come with the verdicts");
            if let Answer::Choice { options, correct } = question.answer {
                for (k, o) in options.iter().enumerate() {
                    assert!(text.contains(&format!("   {}) {o}", quiz::letter(k))));
                }
                let how = if correct.len() > 1 { "choose all that apply" } else { "one letter" };
                assert!(question.render(i + 1).contains(how));
            } else {
                assert!(question.render(i + 1).contains("a number"));
            }
        }
        for s in q.short_answers {
            assert!(text.contains(s.prompt) && !text.contains(s.model_answer));
        }
    }
}

#[test]
fn parse_reads_options_in_order_and_numbers() {
    let several = first_where(Question::several_correct).2;
    assert_eq!(several.parse("c, A"), Ok(Response::Options(vec![0, 2])));
    assert_eq!(several.parse("-"), Ok(Response::Skipped));
    let number = first_where(|q| matches!(q.answer, Answer::Number { .. })).2;
    assert_eq!(number.parse(" -1.5e-1 "), Ok(Response::Number(-0.15)));
    assert_eq!(number.parse("2"), Ok(Response::Number(2.0)));
    assert!(!number.is_right(&Response::Options(vec![0])));
    assert!(!several.is_right(&Response::Number(0.0)));
}

// ---------------------------------------------------------------------------
// The notebooks end with their quiz; their instructor keys are the library's
// ---------------------------------------------------------------------------

/// The source notebook of a topic: `notebooks/source/<topic>-*.ipynb`, or `<topic>.ipynb` for a
/// topic named by a word (`guidance`).
fn topic_notebook(topic: &str) -> PathBuf {
    let dir = repo().join("notebooks/source");
    let found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{topic}-")) || name == format!("{topic}.ipynb")
        })
        .collect();
    assert_eq!(found.len(), 1, "one source notebook for topic {topic}: {found:?}");
    found[0].clone()
}

fn cell_source(cell: &serde_json::Value) -> String {
    match &cell["source"] {
        serde_json::Value::Array(lines) => lines.iter().map(|l| l.as_str().unwrap()).collect(),
        other => other.as_str().unwrap_or_default().to_string(),
    }
}

/// The string literal that follows `prefix` in `text` (`let answer = "b";` → `b`).
fn literal_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let start = text.find(prefix)? + prefix.len();
    let rest = &text[start..];
    let rest = &rest[rest.find('"')? + 1..];
    Some(&rest[..rest.find('"')?])
}

#[test]
fn each_notebook_ends_with_its_quiz_and_its_keys_are_the_librarys() {
    use flowmatch::course::notebook::{self, Audience};
    for q in QUIZZES {
        let path = topic_notebook(q.topic);
        let source = std::fs::read_to_string(&path).unwrap();
        let cells: Vec<serde_json::Value> =
            serde_json::from_str::<serde_json::Value>(&source).unwrap()["cells"].as_array().unwrap().clone();
        let show = format!("quiz::show(\"{}\")", q.topic);
        let first = cells.iter().position(|c| cell_source(c).contains(&show));
        let first = first.unwrap_or_else(|| panic!("{} has no `{show}` cell", path.display()));
        // After `quiz::show`: one answer cell per question, in order, then only markdown.
        let mut answered = Vec::new();
        for cell in &cells[first + 1..] {
            let text = cell_source(cell);
            if cell["cell_type"] != "code" {
                continue;
            }
            let call = format!("quiz::answer(\"{}\", {}, ", q.topic, answered.len() + 1);
            assert!(text.contains(&call), "{}: expected the answer cell `{call}…`, found:\n{text}", path.display());
            let student = notebook::strip_solutions(&text, Audience::Student).unwrap();
            let instructor = notebook::strip_solutions(&text, Audience::Instructor).unwrap();
            assert_ne!(
                student,
                instructor,
                "{}: the answer must sit between solution markers:\n{text}",
                path.display()
            );
            let key = literal_after(&instructor, "let answer =").expect("`let answer = \"…\";` in the cell");
            let placeholder = literal_after(&student, "let answer =").expect("a placeholder answer");
            let number = answered.len() + 1;
            assert!(quiz::grade(q.topic, number, key).correct(), "{}: the key of question {number}", path.display());
            assert!(!quiz::grade(q.topic, number, placeholder).correct(), "the placeholder must not be the key");
            answered.push(number);
        }
        assert_eq!(answered.len(), q.questions.len(), "{}: one answer cell per question", path.display());
        // The short answers' model answers are in a solution-tagged markdown cell, after the show cell.
        let squeezed = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        for s in q.short_answers {
            let holder = cells[first..].iter().find(|c| squeezed(&cell_source(c)).contains(&squeezed(s.model_answer)));
            let holder = holder.unwrap_or_else(|| panic!("{}: no model answer for `{}`", path.display(), s.prompt));
            assert_eq!(holder["cell_type"], "markdown");
            assert!(holder["metadata"]["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == "solution")));
        }
    }
}

// ---------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------

fn course(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_course")).args(args).stdin(Stdio::null()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn course_quiz_without_a_terminal_exits_2_at_once() {
    for args in [&["quiz"][..], &["quiz", "7.3"]] {
        let start = Instant::now();
        // stdin is a pipe that stays open: a command that reads it would wait for ever.
        let mut child = Command::new(env!("CARGO_BIN_EXE_course"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("`course {}` waited for input without a terminal", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        assert_eq!(status.code(), Some(2));
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains("--answers"), "{err}");
    }
}

#[test]
fn course_quiz_list_counts_the_questions() {
    let out = course(&["quiz", "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for q in QUIZZES {
        let line = format!("{}  {} questions", q.topic, q.questions.len());
        assert!(text.lines().any(|l| l.starts_with(&line)), "{line} in:\n{text}");
    }
}

#[test]
fn course_quiz_answers_grade_as_the_library_does() {
    for q in QUIZZES {
        // The keys, one wrong answer and a skip.
        let mut answers: Vec<String> = q.questions.iter().map(Question::key).collect();
        answers[2] = wrong_answer(&q.questions[2]);
        answers[3] = "-".into();
        let line = answers.join(";");
        let library = q.grade_all(&line).unwrap();
        let out = course(&["quiz", q.topic, "--answers", &line]);
        assert_eq!(out.status.code(), Some(1), "not all right: exit 1\n{}{}", stdout(&out), stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(&format!("{}/{}", library.earned(), library.possible())), "{text}");
        // JSON: one document, one item per question, as the library marks them.
        let out = course(&["quiz", q.topic, "--answers", &line, "--json"]);
        let book = Gradebook::from_json(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
        assert_eq!(book, library.gradebook());
        assert_eq!(book.items[2].verdict, "fail");
        assert_eq!(book.items[3].verdict, "skipped");
        assert_eq!((book.items[0].name.as_str(), book.items[0].topic.as_str()), ("q1", q.topic));
        assert_eq!((book.earned, book.possible), (library.earned(), q.questions.len() as u32));
        // All right: exit 0.
        let out = course(&["quiz", q.topic, "--answers", &q.keys()]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    }
}

#[test]
fn course_quiz_rejects_malformed_answers_with_the_librarys_message() {
    let q = QUIZZES[0];
    let keys: Vec<String> = q.questions.iter().map(Question::key).collect();
    let too_many = format!("{};a", keys.join(";"));
    for (args, words) in [
        (vec!["quiz", "9.9", "--answers", "a"], "no quiz for topic `9.9`".to_string()),
        (vec!["quiz", q.topic, "--answers", too_many.as_str()], "answers for the".to_string()),
        (vec!["quiz", q.topic, "--answers"], "--answers needs".to_string()),
        (vec!["quiz", "--answers", "a"], "needs a topic".to_string()),
        (vec!["quiz", q.topic, "--json"], "--json goes with --answers".to_string()),
        (vec!["quiz", q.topic, "--frobnicate"], "unknown option".to_string()),
    ] {
        let out = course(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).contains(&words), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
}

// ---------------------------------------------------------------------------
// The README's gradebook collector runs on what the commands write
// ---------------------------------------------------------------------------

/// The Python block after the `gradebook-collector` marker in the README.
fn readme_collector() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let at = readme.find("<!-- gradebook-collector").expect("the README marks its collector script");
    let rest = &readme[at..];
    let start = rest.find("```python\n").expect("a python block after the marker") + "```python\n".len();
    let end = rest[start..].find("\n```").unwrap();
    rest[start..start + end + 1].to_string()
}

#[test]
fn the_readme_collector_builds_a_class_table_from_the_json_documents() {
    let dir = std::env::temp_dir().join(format!("flowmatch-quiz-collect-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("grades")).unwrap();
    std::fs::write(dir.join("collect.py"), readme_collector()).unwrap();
    let q = quiz::find("7.3").unwrap();
    let mut bob: Vec<String> = q.questions.iter().map(Question::key).collect();
    bob[0] = wrong_answer(&q.questions[0]);
    // alice: the exercises (the stubs) and a perfect quiz; bob: a quiz with one wrong answer;
    // carol: a malformed answer line, whose command wrote nothing.
    let write = |name: &str, out: Output| std::fs::write(dir.join("grades").join(name), &out.stdout).unwrap();
    write("alice.json", course(&["grade", "--json"]));
    write("alice--quiz-7.3.json", course(&["quiz", "7.3", "--answers", &q.keys(), "--json"]));
    write("bob--quiz-7.3.json", course(&["quiz", "7.3", "--answers", &bob.join(";"), "--json"]));
    let carol = course(&["quiz", "7.3", "--answers", "z", "--json"]);
    assert_eq!(carol.status.code(), Some(2));
    assert!(carol.stdout.is_empty());
    write("carol--quiz-7.3.json", carol);
    let out = Command::new("python3").arg("collect.py").current_dir(&dir).output().expect("python3 runs the collector");
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name}: {csv}"));
    let n_ex = flowmatch::grade::EXERCISES.len();
    assert_eq!(header.len(), 1 + n_ex + q.questions.len() + 2, "{csv}");
    assert_eq!((header[0], header[header.len() - 2], header[header.len() - 1]), ("student", "earned", "possible"));
    let (interpolant, q1, q2) = (column("7.3 interpolant"), column("7.3 q1"), column("7.3 q2"));
    let total = flowmatch::grade::max_total() + q.questions.len() as u32;
    let alice = rows.iter().find(|r| r[0] == "alice").expect("alice");
    assert_eq!((alice[interpolant], alice[q1]), ("0", "1"), "{csv}");
    assert_eq!(alice[alice.len() - 2..], [q.questions.len().to_string(), total.to_string()], "{csv}");
    let bob = rows.iter().find(|r| r[0] == "bob").expect("bob");
    assert_eq!(bob[interpolant], "", "bob handed in no exercises");
    assert_eq!((bob[q1], bob[q2]), ("0", "1"));
    assert_eq!(bob[bob.len() - 2..], [(q.questions.len() - 1).to_string(), q.questions.len().to_string()]);
    assert!(rows.iter().all(|r| r[0] != "carol") && stderr(&out).contains("carol--quiz-7.3.json"), "{csv}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// The numbers the keys and explanations quote, checked with the library
// ---------------------------------------------------------------------------

#[test]
fn the_numbers_in_the_keys_and_explanations_hold() {
    use flowmatch::prelude::*;
    let key = |topic: &str, n: usize| match quiz::find(topic).unwrap().questions[n - 1].answer {
        Answer::Number { value, .. } => value,
        Answer::Choice { .. } => panic!("quiz {topic} question {n} is not numeric"),
    };
    // 7.2 q1: a residual stack is Euler's method, so its error at t = 1 falls like 1/K: from K = 16 to
    // K = 64 it shrinks by the factor the key assumes (0.08 → 0.02), within the key's tolerance.
    let f = flowmatch::pointwise(|x: &[f64], t: f64| vec![-0.5 * x[0] - 2.0 * x[1] + t, 2.0 * x[0] - 0.5 * x[1]]);
    let x0 = Points::randn(50, 2, 7);
    let flow = solve(&f, &x0, &TimeGrid::uniform(0.0, 1.0, 2000).unwrap(), Method::Rk4).unwrap().final_state;
    let err = |k: usize| {
        let d = &solver::residual_stack(&f, &x0, k).unwrap() - &flow;
        d.rows().map(|r| (r[0] * r[0] + r[1] * r[1]).sqrt()).sum::<f64>()
    };
    let predicted = 0.08 * err(64) / err(16);
    assert!((predicted - key("7.2", 1)).abs() < 0.003, "0.08 at K = 16 becomes {predicted} at K = 64");
    // 7.2 q2: the path energy of (0, 0) → (3, 4) in the first half, then at rest.
    let states = [[[0.0, 0.0]], [[3.0, 4.0]], [[3.0, 4.0]]].map(|s| Points::from_rows(&s).unwrap());
    let pe = metrics::kinetic_energy(&states, &[0.0, 0.5, 1.0]).unwrap();
    assert!((pe - key("7.2", 2)).abs() < 1e-9, "{pe}");
    // 7.2 q3: the optimal pairing of {0, 1} with {2, 5} on a line and its mean squared cost.
    let (a, b) = (Points::from_rows(&[[0.0], [1.0]]).unwrap(), Points::from_rows(&[[2.0], [5.0]]).unwrap());
    assert!((metrics::w2_squared(&a, &b).unwrap() - key("7.2", 3)).abs() < 1e-9);
    // 7.2 q6: the two maps it quotes, as the notebook computes them.
    let (cov0, cov1) = ([1.0, 0.0, 0.0, 0.25], [4.0, 1.5, 1.5, 1.0]);
    let bridge = marginal::GaussianBridge::new(&[0.0, 0.0], &cov0, &[0.0, 0.0], &cov1).unwrap();
    let flow_map = bridge.flow_matrix(2000).unwrap();
    let m = |c: &[f64; 4]| flowmatch::nalgebra::DMatrix::from_row_slice(2, 2, c);
    let ot_map = flowmatch::ot::gaussian_ot_matrix(&m(&cov0), &m(&cov1)).unwrap();
    for (got, quoted) in [(&flow_map, [1.82, 1.65, 0.41, 1.82]), (&ot_map, [1.97, 0.64, 0.64, 1.54])] {
        let row_major = [got[(0, 0)], got[(0, 1)], got[(1, 0)], got[(1, 1)]];
        assert!(row_major.iter().zip(quoted).all(|(g, q)| (g - q).abs() < 0.006), "{row_major:?} vs {quoted:?}");
    }
    // 7.2 q7's explanation: the notebook's OT-CFM maps at batch 4 and 256, and the independent-coupling flow,
    // measured as distances to the OT map on the notebook's 1 000 test points.
    let (source, goal) =
        (Gaussian::new(vec![0.0, 0.0], cov0.to_vec()).unwrap(), Gaussian::new(vec![0.0, 0.0], cov1.to_vec()).unwrap());
    let test = source.sample(1000, 41).unwrap();
    let image = |a: &flowmatch::nalgebra::DMatrix<f64>| {
        Points::from_fn(1000, 2, |i, j| a[(j, 0)] * test.row(i)[0] + a[(j, 1)] * test.row(i)[1])
    };
    let mean_dist =
        |p: &Points, q: &Points| (p - q).rows().map(|r| (r[0] * r[0] + r[1] * r[1]).sqrt()).sum::<f64>() / 1000.0;
    let ot_image = image(&ot_map);
    assert!((mean_dist(&image(&flow_map), &ot_image) - 0.49).abs() < 0.01);
    for (batch, quoted) in [(4usize, 0.29), (256, 0.05)] {
        let mut model = Net::mlp(2, 64).unwrap();
        Trainer::new(goal.clone())
            .source(source.clone())
            .method(loss::CfmMethod::OtCfm, 0.0)
            .steps(2000)
            .batch_size(batch)
            .lr(1e-3)
            .seed(1)
            .progress(Progress::Off)
            .train(&mut model)
            .unwrap();
        let mapped =
            solve(&model, &test, &TimeGrid::uniform(0.0, 1.0, 20).unwrap(), Method::Midpoint).unwrap().final_state;
        let d = mean_dist(&mapped, &ot_image);
        assert!((d - quoted).abs() < 0.01, "batch {batch}: {d} against the quoted {quoted}");
    }
    // 7.3 q1: the conditional velocity of one data point z = 3 at x = 1.5, t = 0.75 (the marginal of a
    // single point is its conditional path).
    let one = Marginal::from_points(&Points::from_rows(&[[3.0]]).unwrap(), CondOT).unwrap();
    let u = one.velocity(&Points::from_rows(&[[1.5]]).unwrap(), 0.75).unwrap();
    assert!((u.as_slice()[0] - key("7.3", 1)).abs() < 1e-9, "{u:?}");
    // 7.3 q6 and q7: what checks 1 and 2 print in the notebook (their default settings).
    let data = EightGaussians::torchcfm();
    let truth = Marginal::from_mixture(data.as_mixture(), CondOT).unwrap();
    let r1 = marginal::check_marginalization(&truth, &truth, &Default::default()).unwrap();
    assert!((r1.figure + 0.5).abs() < 0.05, "slope {}", r1.figure);
    let (e64, e8192) = (r1.detail("error at n = 64").unwrap(), r1.detail("error at n = 8192").unwrap());
    assert!((e64 - 0.74).abs() < 0.01 && (e8192 - 0.060).abs() < 0.001, "{e64} {e8192}");
    let r2 = marginal::check_continuity(&truth, &truth, &Default::default()).unwrap();
    let residuals: Vec<f64> =
        ["0.4", "0.2", "0.1"].iter().map(|h| r2.detail(&format!("residual at h = {h}")).unwrap()).collect();
    for (got, quoted) in residuals.iter().zip([0.112, 0.030, 0.0076]) {
        assert!((got / quoted - 1.0).abs() < 0.02, "{residuals:?}");
    }
    // 7.3, short answer 2: the VP path's α_0 with the library's defaults.
    let alpha0 = flowmatch::path::VariancePreserving::default().eval(0.0).alpha;
    assert!((alpha0 - 0.0066).abs() < 5e-5, "{alpha0}");
    // 7.4 q1: one midpoint step of u_t(x) = t − x from x = 2 at t = 0 with h = 0.5.
    let field = flowmatch::pointwise(|x: &[f64], t: f64| vec![t - x[0]]);
    let x0 = Points::from_rows(&[[2.0]]).unwrap();
    let grid = TimeGrid::uniform(0.0, 0.5, 1).unwrap();
    let step = |m: Method| solve(&field, &x0, &grid, m).unwrap().final_state.as_slice()[0];
    assert!((step(Method::Midpoint) - key("7.4", 1)).abs() < 1e-12);
    assert!((step(Method::Euler) - 1.0).abs() < 1e-12, "the explanation's Euler value");
    // 7.4 q2 and q3: the exact eight-Gaussians field at t = 0 is −x; it turns near t ≈ 0.08 at (3, 0);
    // one Euler step with it collapses everything onto the mean.
    let at = Points::from_rows(&[[3.0, 0.0]]).unwrap();
    let u0 = truth.velocity(&at, 0.0).unwrap();
    assert!((u0.as_slice()[0] - key("7.4", 2)).abs() < 1e-9 && u0.as_slice()[1].abs() < 1e-9);
    let ux = |t: f64| truth.velocity(&at, t).unwrap().as_slice()[0];
    assert!(ux(0.075) < 0.0 && ux(0.09) > 0.0, "the sign change near t ≈ 0.08");
    let noise = Points::randn(200, 2, 3);
    let collapsed = solve(&truth, &noise, &TimeGrid::uniform(0.0, 1.0, 1).unwrap(), Method::Euler).unwrap();
    assert!(collapsed.final_state.as_slice().iter().all(|v| v.abs() < 1e-9));
    // 7.4 q4: the per-coordinate variance of the data, r²/2 + v, and the W2 of a point at the mean.
    let var = data.covariance().unwrap();
    assert!((var[0] - key("7.4", 4)).abs() < 1e-3 && (var[3] - key("7.4", 4)).abs() < 1e-3, "{var:?}");
    assert!(((var[0] + var[3]).sqrt() - 5.06).abs() < 0.01);
    // guidance q1 and q2: the combination at w = 2, and Meta's scale 2 as our w = 3.
    let (vu, vc) = (Points::from_rows(&[[2.0, 1.0]]).unwrap(), Points::from_rows(&[[1.0, 3.0]]).unwrap());
    assert_eq!(guidance::combine(&vu, &vc, 2.0).unwrap().as_slice(), &[0.0, 5.0]);
    let meta = [3.0 * 1.0 - 2.0 * 2.0, 3.0 * 3.0 - 2.0 * 1.0];
    assert_eq!(guidance::combine(&vu, &vc, key("guidance", 2)).unwrap().as_slice(), &meta);
    // guidance q8: the mean number of null labels in a batch of 256 at p_uncond = 0.2.
    assert!((256.0 * 0.2 - key("guidance", 8)).abs() < 1e-9);
    // 7.4 q2's explanation: the notebook's trained model at t = 0 and (3, 0) is about (−0.9, 0.3).
    let mut model = Net::mlp(2, 64).unwrap();
    Trainer::new(EightGaussians::torchcfm()).steps(3000).batch_size(256).lr(1e-3).seed(0).train(&mut model).unwrap();
    let v = model.eval(&at, 0.0).unwrap();
    let (vx, vy) = (v.as_slice()[0], v.as_slice()[1]);
    assert!((-1.1..-0.7).contains(&vx) && (0.1..0.5).contains(&vy), "({vx}, {vy})");
}
