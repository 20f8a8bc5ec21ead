//! The quizzes: one per topic, graded in a notebook cell, by `course quiz` and by `cargo test`.
//!
//! ```text
//! Choice { options, correct }:  pass ⇔ the set of options chosen = the set `correct`   (options a, b, c, …)
//! Number { value, tolerance }:  pass ⇔ |answer − value| ≤ tolerance
//! ```
//!
//! A [`Quiz`] is a list of auto-graded [`Question`]s, each with a one-paragraph
//! explanation shown with the verdict, plus [`ShortAnswer`] prompts (advantages and
//! disadvantages, when to choose which) that are not graded: their model answers live
//! in the instructor copy of the notebook.
//!
//! In a notebook:
//!
//! ```text
//! quiz::show("7.3");               // prints the questions and the short-answer prompts
//! quiz::answer("7.3", 2, "b");     // prints the verdict and the explanation, and returns it
//! quiz::answer("7.3", 4, "a,c");   // several options: letters joined by commas
//! quiz::answer("7.3", 5, "0.25");  // a number, with a decimal point
//! ```
//!
//! In a terminal: `course quiz 7.3` asks the questions one by one; `course quiz 7.3
//! --answers "b;a,c;0.25;…"` grades one answer per question (`;` between questions,
//! `-` to skip one), with `--json` as a [`Gradebook`].
//!
//! Malformed answers (an unknown topic, a question or option out of range, letters
//! for a number or a number for a choice, an empty answer, too many or too few
//! answers, text that is not a number, several options for a single-answer question)
//! are an [`AnswerError`] whose message says what was wrong and what to write
//! instead; nothing here panics on a student's input.
//!
//! ## One registry
//!
//! [`for_each_quiz!`](crate::for_each_quiz) (in `src/grade/registry.rs`, beside the
//! exercises) lists the quizzes, one line per topic; this module declares each
//! content file (`src/quiz/t7_3.rs`, …) and [`QUIZZES`] from it. Adding a topic's quiz
//! means its content file plus one line there; the tests then grade its keys, its
//! wrong options and its notebook's answer cells.

use crate::grade::{Gradebook, Item};
use std::fmt;

/// Declares every quiz of the registry: its content module and the list [`QUIZZES`].
macro_rules! declare_quizzes {
    ($($topic:literal $module:ident;)*) => {
        $(pub mod $module;)*

        /// Every quiz, in course order (the order of the registry).
        pub static QUIZZES: &[&Quiz] = &[$(&$module::QUIZ),*];

        /// The topic of each quiz as the registry gives it (the tests check it against `Quiz::topic`).
        pub const REGISTERED_TOPICS: &[&str] = &[$($topic),*];
    };
}

crate::for_each_quiz!(declare_quizzes);

/// How a question is answered and graded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// Multiple choice; the options are labelled a, b, c, … in this order. One
    /// correct option makes a single-answer question, several a "choose all that
    /// apply" question, graded right only when exactly the correct set is chosen.
    Choice {
        /// The options' texts.
        options: &'static [&'static str],
        /// The 0-based indices of the correct options, in increasing order.
        correct: &'static [usize],
    },
    /// A number, right when within `tolerance` (absolute) of `value`.
    Number {
        /// The right value.
        value: f64,
        /// The largest accepted distance from `value`.
        tolerance: f64,
    },
}

/// One auto-graded question.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Question {
    /// The question, as shown.
    pub prompt: &'static str,
    /// How it is answered and graded.
    pub answer: Answer,
    /// One paragraph on why the answer is what it is, shown with the verdict.
    pub explanation: &'static str,
}

/// A question answered in words and not graded; its model answer goes to the instructor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShortAnswer {
    /// The question, as shown.
    pub prompt: &'static str,
    /// What a good answer says (shown only in the instructor copy of the notebook).
    pub model_answer: &'static str,
}

/// One topic's quiz.
#[derive(Debug, PartialEq)]
pub struct Quiz {
    /// The topic, e.g. "7.3" (the registry line gives the same).
    pub topic: &'static str,
    /// A short title.
    pub title: &'static str,
    /// The graded questions, numbered from 1 in this order.
    pub questions: &'static [Question],
    /// The prompts answered in words.
    pub short_answers: &'static [ShortAnswer],
}

/// An answer as parsed, before it is graded.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// The options chosen, 0-based, in increasing order.
    Options(Vec<usize>),
    /// A number.
    Number(f64),
    /// `-`: the question was skipped (graded as not passed).
    Skipped,
}

/// A malformed answer or an unknown quiz or question: what was wrong and what to write instead.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerError {
    /// No quiz for this topic.
    UnknownTopic {
        /// The topic asked for.
        topic: String,
    },
    /// The question number is not between 1 and the number of questions.
    NoSuchQuestion {
        /// The quiz's topic.
        topic: &'static str,
        /// The number asked for.
        number: usize,
        /// How many questions the quiz has.
        count: usize,
    },
    /// An empty answer.
    Empty,
    /// A letter that is not one of the question's options.
    OptionOutOfRange {
        /// The letter given.
        letter: char,
        /// How many options the question has.
        options: usize,
    },
    /// Several letters without commas ("ac" for "a,c").
    JoinedLetters {
        /// The letters given.
        given: String,
        /// The same letters joined by commas.
        suggestion: String,
    },
    /// The same option twice.
    RepeatedOption {
        /// The letter given twice.
        letter: char,
    },
    /// Several options for a question with one correct option.
    SeveralForSingle {
        /// The options given.
        given: String,
    },
    /// A number for a multiple-choice question.
    NumberForChoice {
        /// The answer given.
        given: String,
        /// How many options the question has.
        options: usize,
    },
    /// Letters for a numeric question.
    LettersForNumber {
        /// The answer given.
        given: String,
    },
    /// Text that is neither options nor a number.
    NotAnAnswer {
        /// The answer given.
        given: String,
        /// True when the question asks for a number.
        numeric: bool,
        /// How many options the question has (0 for a numeric question).
        options: usize,
    },
    /// A number written with a decimal comma.
    DecimalComma {
        /// The answer given.
        given: String,
    },
    /// A number that is NaN or infinite.
    NotFinite {
        /// The answer given.
        given: String,
    },
    /// More answers than questions (`--answers`).
    TooManyAnswers {
        /// The quiz's topic.
        topic: &'static str,
        /// Answers given.
        given: usize,
        /// Questions in the quiz.
        count: usize,
    },
    /// Fewer answers than questions (`--answers`).
    TooFewAnswers {
        /// The quiz's topic.
        topic: &'static str,
        /// Answers given.
        given: usize,
        /// Questions in the quiz.
        count: usize,
    },
    /// A malformed answer to one question of a list (`--answers`).
    InQuestion {
        /// The question's number.
        number: usize,
        /// What was wrong with its answer.
        error: Box<AnswerError>,
    },
}

/// "a–d" for four options.
fn letter_range(options: usize) -> String {
    match options {
        0 => "no options".to_string(),
        1 => "a".to_string(),
        n => format!("a–{}", letter(n - 1)),
    }
}

/// The label of option `index`: a, b, c, …
pub fn letter(index: usize) -> char {
    (b'a' + (index % 26) as u8) as char
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::UnknownTopic { topic } => write!(
                f,
                "there is no quiz for topic `{topic}`; the quizzes are {} (course quiz --list)",
                QUIZZES.iter().map(|q| q.topic).collect::<Vec<_>>().join(", ")
            ),
            AnswerError::NoSuchQuestion { topic, number, count } => {
                write!(f, "quiz {topic} has questions 1 to {count}; there is no question {number}")
            }
            AnswerError::Empty => write!(
                f,
                "no answer given: write a letter (\"b\"), letters joined by commas (\"a,c\") or a number (\"0.25\"), \
                 as the question asks (`-` skips it on the command line)"
            ),
            AnswerError::OptionOutOfRange { letter, options } => {
                write!(f, "`{letter}` is not one of the options: this question has options {}", letter_range(*options))
            }
            AnswerError::JoinedLetters { given, suggestion } => {
                write!(f, "`{given}`: join several options with commas, `{suggestion}`")
            }
            AnswerError::RepeatedOption { letter } => {
                write!(f, "option `{letter}` is given twice; name each option once")
            }
            AnswerError::SeveralForSingle { given } => write!(
                f,
                "`{given}` chooses several options, but this question has exactly one correct option: give one letter"
            ),
            AnswerError::NumberForChoice { given, options } => write!(
                f,
                "`{given}` is a number, but this is a multiple-choice question: answer with a letter ({})",
                letter_range(*options)
            ),
            AnswerError::LettersForNumber { given } => write!(
                f,
                "`{given}` is not a number: this question asks for a number, written with a decimal point (e.g. 0.25)"
            ),
            AnswerError::NotAnAnswer { given, numeric: true, .. } => write!(
                f,
                "`{given}` is not a number: write it with digits and a decimal point, e.g. 0.25, -1.5 or 2e-3"
            ),
            AnswerError::NotAnAnswer { given, numeric: false, options } => write!(
                f,
                "`{given}` is not an answer to a multiple-choice question: write a letter ({}), or several joined \
                 by commas (\"a,c\") where the question says to choose all that apply",
                letter_range(*options)
            ),
            AnswerError::DecimalComma { given } => write!(
                f,
                "`{given}` uses a decimal comma: write numbers with a decimal point ({})",
                given.replace(',', ".")
            ),
            AnswerError::NotFinite { given } => {
                write!(f, "`{given}` is not a finite number: write a value such as 0.25")
            }
            AnswerError::TooManyAnswers { topic, given, count } => write!(
                f,
                "{given} answers for the {count} questions of quiz {topic}: give one answer per question, separated \
                 by `;` (several options of one question are joined by `,`)"
            ),
            AnswerError::TooFewAnswers { topic, given, count } => write!(
                f,
                "{given} answer{} for the {count} questions of quiz {topic}: give one answer per question, separated \
                 by `;`, and `-` for a question you skip",
                if *given == 1 { "" } else { "s" }
            ),
            AnswerError::InQuestion { number, error } => write!(f, "question {number}: {error}"),
        }
    }
}

impl std::error::Error for AnswerError {}

/// The quiz of `topic` ("7.3"; surrounding spaces ignored).
pub fn find(topic: &str) -> Result<&'static Quiz, AnswerError> {
    let t = topic.trim();
    QUIZZES.iter().copied().find(|q| q.topic == t).ok_or_else(|| AnswerError::UnknownTopic { topic: t.to_string() })
}

/// True when `text` reads as a number (digits, sign, point, exponent), even a malformed one.
fn looks_numeric(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+' | 'e' | 'E'))
}

impl Question {
    /// True for a multiple-choice question with several correct options.
    pub fn several_correct(&self) -> bool {
        matches!(self.answer, Answer::Choice { correct, .. } if correct.len() > 1)
    }

    /// How to answer this question, in a few words: "one letter, a–d", "all that apply, …", "a number".
    pub fn how_to_answer(&self) -> String {
        match self.answer {
            Answer::Choice { options, correct } if correct.len() > 1 => format!(
                "choose all that apply, options {}: letters joined by commas, e.g. \"a,c\"",
                letter_range(options.len())
            ),
            Answer::Choice { options, .. } => format!("one letter, {}", letter_range(options.len())),
            Answer::Number { tolerance, .. } => {
                format!("a number with a decimal point; within ±{} counts", tolerance)
            }
        }
    }

    /// Reads an answer to this question: letters for a choice (`b`, `a,c`, case and spaces
    /// ignored), a number for a numeric question (`0.25`), or `-` to skip.
    pub fn parse(&self, text: &str) -> Result<Response, AnswerError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AnswerError::Empty);
        }
        if text == "-" {
            return Ok(Response::Skipped);
        }
        match self.answer {
            Answer::Choice { options, correct } => {
                let n = options.len();
                if looks_numeric(text) {
                    return Err(AnswerError::NumberForChoice { given: text.to_string(), options: n });
                }
                let mut chosen = Vec::new();
                for part in text.split(',').map(str::trim) {
                    let letters: Vec<char> = part.chars().map(|c| c.to_ascii_lowercase()).collect();
                    let not_an_answer =
                        || AnswerError::NotAnAnswer { given: text.to_string(), numeric: false, options: n };
                    if letters.is_empty() || !letters.iter().all(char::is_ascii_lowercase) {
                        return Err(not_an_answer());
                    }
                    if letters.len() > 1 {
                        // "ac" for "a,c" when every letter is a distinct option; otherwise a word.
                        let distinct = letters.iter().enumerate().all(|(i, c)| !letters[..i].contains(c));
                        let in_range = letters.iter().all(|&c| ((c as u8 - b'a') as usize) < n);
                        if !(distinct && in_range) {
                            return Err(not_an_answer());
                        }
                        if correct.len() == 1 {
                            return Err(AnswerError::SeveralForSingle { given: text.to_string() });
                        }
                        let joined: Vec<String> = letters.iter().map(char::to_string).collect();
                        return Err(AnswerError::JoinedLetters {
                            given: part.to_string(),
                            suggestion: joined.join(","),
                        });
                    }
                    let c = letters[0];
                    let index = (c as u8 - b'a') as usize;
                    if index >= n {
                        return Err(AnswerError::OptionOutOfRange { letter: c, options: n });
                    }
                    if chosen.contains(&index) {
                        return Err(AnswerError::RepeatedOption { letter: c });
                    }
                    chosen.push(index);
                }
                if chosen.len() > 1 && correct.len() == 1 {
                    return Err(AnswerError::SeveralForSingle { given: text.to_string() });
                }
                chosen.sort_unstable();
                Ok(Response::Options(chosen))
            }
            Answer::Number { .. } => {
                if text.chars().all(|c| c.is_ascii_alphabetic() || c == ',' || c == ' ') {
                    return Err(AnswerError::LettersForNumber { given: text.to_string() });
                }
                if text.contains(',') && looks_numeric(text) {
                    return Err(AnswerError::DecimalComma { given: text.to_string() });
                }
                if !looks_numeric(text) {
                    return Err(AnswerError::NotAnAnswer { given: text.to_string(), numeric: true, options: 0 });
                }
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() => Ok(Response::Number(x)),
                    Ok(_) => Err(AnswerError::NotFinite { given: text.to_string() }),
                    Err(_) => Err(AnswerError::NotAnAnswer { given: text.to_string(), numeric: true, options: 0 }),
                }
            }
        }
    }

    /// True when `response` is right: exactly the correct options, or a number within the tolerance.
    pub fn is_right(&self, response: &Response) -> bool {
        match (&self.answer, response) {
            (Answer::Choice { correct, .. }, Response::Options(chosen)) => chosen.as_slice() == *correct,
            (Answer::Number { value, tolerance }, Response::Number(x)) => {
                // A hair of slack so that a key written with the tolerance's digits passes.
                (x - value).abs() <= tolerance * (1.0 + 1e-9)
            }
            _ => false,
        }
    }

    /// The key as a student would type it: `b`, `a,c` or the value.
    pub fn key(&self) -> String {
        match self.answer {
            Answer::Choice { correct, .. } => {
                correct.iter().map(|&i| letter(i).to_string()).collect::<Vec<_>>().join(",")
            }
            Answer::Number { value, .. } => value.to_string(),
        }
    }

    /// The question as shown: prompt, labelled options and how to answer.
    pub fn render(&self, number: usize) -> String {
        let mut out = format!("{number}. {}\n", self.prompt);
        if let Answer::Choice { options, .. } = self.answer {
            for (i, o) in options.iter().enumerate() {
                out += &format!("   {}) {o}\n", letter(i));
            }
        }
        out += &format!("   ({})\n", self.how_to_answer());
        out
    }
}

/// How one answer was marked.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// Right.
    Correct,
    /// Wrong.
    Wrong,
    /// Skipped with `-`.
    Skipped,
    /// Not gradable: the message says why and what to write.
    Invalid(AnswerError),
}

/// The verdict on one answer: what [`answer`] prints and returns.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionVerdict {
    /// The quiz's topic, as asked for.
    pub topic: String,
    /// The question's number, as asked for.
    pub number: usize,
    /// The question, when the topic and number exist.
    pub question: Option<&'static Question>,
    /// The answer as given.
    pub given: String,
    /// How it was marked.
    pub mark: Mark,
}

impl QuestionVerdict {
    /// True when the answer is right.
    pub fn correct(&self) -> bool {
        self.mark == Mark::Correct
    }

    /// The points earned: 1 when right, 0 otherwise.
    pub fn points(&self) -> u32 {
        u32::from(self.correct())
    }
}

impl fmt::Display for QuestionVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = format!("Quiz {} · question {}", self.topic, self.number);
        match &self.mark {
            Mark::Invalid(AnswerError::Empty) => write!(
                f,
                "{head}: not answered yet. Write your answer between the quotes ({}) and run the cell again.",
                self.question.map(Question::how_to_answer).unwrap_or_default()
            ),
            Mark::Invalid(e) => write!(f, "{head}: could not grade `{}`: {e}.", self.given.trim()),
            mark => {
                let (word, points) = match mark {
                    Mark::Correct => ("correct", 1),
                    Mark::Skipped => ("skipped", 0),
                    _ => ("not correct", 0),
                };
                write!(f, "{head}: your answer `{}` is {word}, {points}/1 point.", self.given.trim())?;
                if let (Some(q), false) = (self.question, matches!(mark, Mark::Skipped)) {
                    write!(f, "\n  Why: {}", q.explanation)?;
                }
                Ok(())
            }
        }
    }
}

/// The result of grading a whole list of answers (`course quiz TOPIC --answers …`).
#[derive(Clone, Debug, PartialEq)]
pub struct QuizResult {
    /// The quiz.
    pub quiz: &'static Quiz,
    /// One mark per question, in order (never `Mark::Invalid`: a malformed list is an error).
    pub marks: Vec<Mark>,
}

impl QuizResult {
    /// Questions answered right.
    pub fn earned(&self) -> u32 {
        self.marks.iter().filter(|m| **m == Mark::Correct).count() as u32
    }

    /// Questions in the quiz.
    pub fn possible(&self) -> u32 {
        self.marks.len() as u32
    }

    /// One gradebook item per question: `q1`, `q2`, … with one point each.
    pub fn gradebook(&self) -> Gradebook {
        Gradebook::new(
            self.marks
                .iter()
                .enumerate()
                .map(|(i, m)| Item {
                    name: format!("q{}", i + 1),
                    topic: self.quiz.topic.to_string(),
                    earned: u32::from(*m == Mark::Correct),
                    possible: 1,
                    verdict: match m {
                        Mark::Correct => "pass",
                        Mark::Skipped => "skipped",
                        _ => "fail",
                    }
                    .to_string(),
                })
                .collect(),
        )
    }
}

impl Quiz {
    /// Question `number` (1-based).
    pub fn question(&self, number: usize) -> Result<&'static Question, AnswerError> {
        let count = self.questions.len();
        number.checked_sub(1).and_then(|i| self.questions.get(i)).ok_or(AnswerError::NoSuchQuestion {
            topic: self.topic,
            number,
            count,
        })
    }

    /// Grades one answer per question, `;`-separated (`"b;a,c;0.25;-"`): the marks, or the
    /// first malformed answer (with its question number) or a wrong count.
    pub fn grade_all(&'static self, answers: &str) -> Result<QuizResult, AnswerError> {
        let count = self.questions.len();
        let mut parts: Vec<&str> = answers.split(';').collect();
        // A trailing `;` ("b;a;") ends the list rather than adding an empty answer.
        if parts.len() > 1 && parts.last().is_some_and(|p| p.trim().is_empty()) {
            parts.pop();
        }
        if answers.trim().is_empty() {
            return Err(AnswerError::Empty);
        }
        if parts.len() > count {
            return Err(AnswerError::TooManyAnswers { topic: self.topic, given: parts.len(), count });
        }
        if parts.len() < count {
            return Err(AnswerError::TooFewAnswers { topic: self.topic, given: parts.len(), count });
        }
        let mut marks = Vec::with_capacity(count);
        for (i, (q, text)) in self.questions.iter().zip(parts).enumerate() {
            let response = q.parse(text).map_err(|e| AnswerError::InQuestion { number: i + 1, error: Box::new(e) })?;
            marks.push(mark(q, &response));
        }
        Ok(QuizResult { quiz: self, marks })
    }

    /// The keys, `;`-separated, as `--answers` takes them.
    pub fn keys(&self) -> String {
        self.questions.iter().map(Question::key).collect::<Vec<_>>().join(";")
    }

    /// The quiz as shown: title, the numbered questions with their options, and the short-answer prompts.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Quiz {} · {} ({} questions)\nAnswer each in a cell: quiz::answer(\"{}\", number, \"your answer\").\n",
            self.topic,
            self.title,
            self.questions.len(),
            self.topic
        );
        for (i, q) in self.questions.iter().enumerate() {
            out += "\n";
            out += &q.render(i + 1);
        }
        if !self.short_answers.is_empty() {
            out += "\nShort answers (not graded; answer in a few sentences):\n";
            for (i, s) in self.short_answers.iter().enumerate() {
                out += &format!("\n S{}. {}\n", i + 1, s.prompt);
            }
        }
        out
    }
}

/// The mark of a parsed response.
fn mark(q: &Question, response: &Response) -> Mark {
    match response {
        Response::Skipped => Mark::Skipped,
        r if q.is_right(r) => Mark::Correct,
        _ => Mark::Wrong,
    }
}

/// Grades one answer without printing: the verdict, with [`Mark::Invalid`] and its message
/// for an unknown topic or question and for a malformed answer.
pub fn grade(topic: &str, number: usize, given: &str) -> QuestionVerdict {
    let question = find(topic).and_then(|quiz| quiz.question(number));
    let mark = match &question {
        Err(e) => Mark::Invalid(e.clone()),
        Ok(q) => match q.parse(given) {
            Ok(r) => mark(q, &r),
            Err(e) => Mark::Invalid(e),
        },
    };
    QuestionVerdict { topic: topic.trim().to_string(), number, question: question.ok(), given: given.to_string(), mark }
}

/// Grades one answer in a notebook cell: prints the verdict and the explanation, and returns the verdict.
///
/// `answer("7.3", 2, "b")`; several options `"a,c"`; a number `"0.25"`. A malformed
/// answer prints what was wrong (nothing panics).
pub fn answer(topic: &str, number: usize, given: &str) -> QuestionVerdict {
    let verdict = grade(topic, number, given);
    println!("{verdict}");
    verdict
}

/// Prints the quiz of `topic`: its questions with their options, and the short-answer prompts.
/// An unknown topic prints the topics there are.
pub fn show(topic: &str) {
    match find(topic) {
        Ok(quiz) => print!("{}", quiz.render()),
        Err(e) => println!("{e}"),
    }
}
