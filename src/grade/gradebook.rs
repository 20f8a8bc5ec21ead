//! [`Gradebook`]: machine-readable grades, one JSON document per run, for an
//! instructor's scripts.
//!
//! ```text
//! {"version": 1,
//!  "items": [{"name": "euler_step", "topic": "7.4", "earned": 10, "possible": 10, "verdict": "pass"}, …],
//!  "earned": Σ items.earned, "possible": Σ items.possible}
//! ```
//!
//! `course grade --json` writes one item per exercise (`name` = the function's name,
//! `verdict` ∈ {`pass`, `fail`, `not yet solved`, `panic`, `timed out`}); `course quiz
//! TOPIC --answers … --json` writes one item per question (`name` = `q1`, `q2`, …,
//! one point each, `verdict` ∈ {`pass`, `fail`, `skipped`}). A collecting script keys
//! items by (`topic`, `name`). The `version` changes only when a field changes meaning.

use serde::{Deserialize, Serialize};

/// The version of the JSON format that this library writes.
pub const VERSION: u32 = 1;

/// One graded item: an exercise, or one question of a quiz.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The exercise's name (`euler_step`) or the question's (`q2`).
    pub name: String,
    /// The topic, e.g. `7.4`.
    pub topic: String,
    /// Points earned.
    pub earned: u32,
    /// Points possible.
    pub possible: u32,
    /// `pass`, `fail`, `not yet solved`, `panic`, `timed out` (exercises); `pass`, `fail`, `skipped` (questions).
    pub verdict: String,
}

/// Every item of one run with the totals: what `--json` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gradebook {
    /// The format's version, [`VERSION`].
    pub version: u32,
    /// One entry per exercise or question, in course order.
    pub items: Vec<Item>,
    /// Σ items.earned.
    pub earned: u32,
    /// Σ items.possible.
    pub possible: u32,
}

impl Gradebook {
    /// The gradebook of `items`, with their totals.
    pub fn new(items: Vec<Item>) -> Self {
        let earned = items.iter().map(|i| i.earned).sum();
        let possible = items.iter().map(|i| i.possible).sum();
        Gradebook { version: VERSION, items, earned, possible }
    }

    /// The document as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a gradebook holds only strings and integers")
    }

    /// Reads a document that [`Gradebook::to_json`] (or `--json`) wrote. Errors say what
    /// is wrong: not JSON, a missing field, or another version of the format.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not a JSON document ({e})"))?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => return Err(format!("gradebook version {v}; this library reads version {VERSION}")),
            None => return Err("no `version` field: not a flowmatch gradebook".to_string()),
        }
        let book: Gradebook = serde_json::from_value(value).map_err(|e| format!("not a gradebook ({e})"))?;
        let again = Gradebook::new(book.items.clone());
        if (again.earned, again.possible) != (book.earned, book.possible) {
            return Err(format!(
                "the totals ({}/{}) are not the sums of the items ({}/{})",
                book.earned, book.possible, again.earned, again.possible
            ));
        }
        Ok(book)
    }
}
