//! Reading notebooks (.ipynb JSON): the set-up cell, cell tags, and the checks
//! `course execute` makes on an executed copy (errors, panics, figures).

use serde_json::Value;

/// The first cell of every course notebook, exactly.
///
/// `path = ".."` is resolved by evcxr against the kernel's working folder,
/// which Jupyter (and `course execute`) set to the notebook's folder.
pub const SETUP_CELL: &str = ":dep flowmatch = { path = \"..\" }\nuse flowmatch::prelude::*;";

/// The cell tag that marks a training cell (left out of the median cell time).
pub const TRAINING_TAG: &str = "training";

/// What evcxr prints when a cell panics. evcxr still replies "ok" to such a
/// cell, so outputs must be searched for it.
pub const PANIC_MARKER: &str = "panicked at";

/// A notebook's source as one string (nbformat allows a string or a list of lines).
pub fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// The code cells of a notebook, as (index in the cell list, cell).
pub fn code_cells(nb: &Value) -> Vec<(usize, &Value)> {
    nb.get("cells")
        .and_then(Value::as_array)
        .map(|cells| {
            cells
                .iter()
                .enumerate()
                .filter(|(_, c)| c.get("cell_type").and_then(Value::as_str) == Some("code"))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks that the first code cell is [`SETUP_CELL`] (ignoring surrounding
/// whitespace). Returns a description of the difference, if any.
pub fn check_setup_cell(nb: &Value) -> Option<String> {
    let cells = code_cells(nb);
    let Some((_, first)) = cells.first() else {
        return Some("the notebook has no code cell".into());
    };
    let src = text_of(first.get("source"));
    if src.trim() == SETUP_CELL {
        None
    } else {
        Some(format!("the first code cell should be exactly:\n{SETUP_CELL}\nbut it is:\n{}", src.trim()))
    }
}

/// Something wrong found in a cell's outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Index of the cell in the notebook's cell list.
    pub index: usize,
    /// "error" (an error output) or "panic" (`panicked at` in any output).
    pub kind: &'static str,
    /// A few lines around the problem.
    pub excerpt: String,
}

/// All text of one output: stream text, error name, value and traceback, and
/// the text/plain of display data and execute results.
pub fn output_texts(output: &Value) -> Vec<String> {
    let kind = output.get("output_type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "stream" => vec![text_of(output.get("text"))],
        "error" => {
            let mut v = vec![
                output.get("ename").and_then(Value::as_str).unwrap_or("").to_owned(),
                output.get("evalue").and_then(Value::as_str).unwrap_or("").to_owned(),
            ];
            if let Some(tb) = output.get("traceback").and_then(Value::as_array) {
                v.extend(tb.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            v
        }
        "display_data" | "execute_result" => vec![text_of(output.pointer("/data/text~1plain"))],
        _ => Vec::new(),
    }
}

/// Removes ANSI colour codes (evcxr colours its compile errors).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` lines of `text` starting at the line that contains `needle`
/// (or the first lines when it is absent), stopping at a backtrace.
fn excerpt(text: &str, needle: Option<&str>, max: usize) -> String {
    let text = strip_ansi(text);
    let lines: Vec<&str> = text.lines().collect();
    let start = needle.and_then(|n| lines.iter().position(|l| l.contains(n))).unwrap_or(0);
    lines[start..]
        .iter()
        .enumerate()
        .take_while(|(i, l)| *i == 0 || !(l.starts_with("stack backtrace:") || l.starts_with("note: run with")))
        .take(max)
        .map(|(_, l)| *l)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The start of a `Figure`'s `Debug` text: what evcxr prints when it could not display a
/// cell's final figure (see `flowmatch::plot`'s notes on evcxr and moved values).
pub const FIGURE_AS_TEXT: &str = "Figure(";

/// True when a text/plain result is a figure printed as text rather than shown.
pub fn is_figure_as_text(text: &str) -> bool {
    let t = text.trim().trim_matches('\'');
    t.starts_with(FIGURE_AS_TEXT) && t.contains(" px, ") && t.ends_with("bytes of SVG)")
}

/// Every error output and every output mentioning [`PANIC_MARKER`]: at most one
/// problem of each kind per cell. A cell's stream outputs are searched as one
/// text (evcxr sends a panic message line by line).
pub fn find_problems(nb: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, cell) in code_cells(nb) {
        let Some(outputs) = cell.get("outputs").and_then(Value::as_array) else { continue };
        let kind_of = |o: &Value| o.get("output_type").and_then(Value::as_str).unwrap_or("").to_owned();
        let streams: String = outputs.iter().filter(|o| kind_of(o) == "stream").flat_map(output_texts).collect();
        let mut panic_text = streams.contains(PANIC_MARKER).then_some(streams);
        let mut error_text = None;
        for o in outputs.iter().filter(|o| kind_of(o) != "stream") {
            let texts = output_texts(o);
            if panic_text.is_none() {
                panic_text = texts.iter().find(|t| t.contains(PANIC_MARKER)).cloned();
            }
            if kind_of(o) == "error" && error_text.is_none() {
                error_text = Some(texts.join("\n"));
            }
        }
        if let Some(t) = panic_text {
            problems.push(Problem { index, kind: "panic", excerpt: excerpt(&t, Some(PANIC_MARKER), 6) });
        }
        if let Some(t) = error_text {
            problems.push(Problem { index, kind: "error", excerpt: excerpt(&t, None, 12) });
        }
        let as_text = outputs
            .iter()
            .filter(|o| matches!(kind_of(o).as_str(), "execute_result" | "display_data"))
            .find_map(|o| o.get("data").filter(|d| d.get("text/html").is_none() && d.get("image/svg+xml").is_none()))
            .map(|d| text_of(d.get("text/plain")))
            .filter(|t| is_figure_as_text(t));
        if let Some(t) = as_text {
            problems.push(Problem {
                index,
                kind: "figure as text",
                excerpt: format!(
                    "the cell's figure was printed as text ({}) instead of shown: evcxr falls back to Debug when \
                     the cell's last expression moves a variable the cell defined. Pass figures by reference \
                     (plot::grid(&figs, 2)) or bind the figure first (let fig = ...; fig)",
                    t.trim()
                ),
            });
        }
    }
    problems
}

/// The whole text of the error outputs of the cell at `index` (ANSI codes removed).
pub fn cell_error_text(nb: &Value, index: usize) -> Option<String> {
    let cell = nb.get("cells")?.as_array()?.get(index)?;
    let texts: Vec<String> = cell
        .get("outputs")?
        .as_array()?
        .iter()
        .filter(|o| o.get("output_type").and_then(Value::as_str) == Some("error"))
        .flat_map(output_texts)
        .collect();
    (!texts.is_empty()).then(|| strip_ansi(&texts.join("\n")))
}

/// A figure found in the outputs: (code cell number counting from 1, file extension, bytes).
pub type Figure = (usize, &'static str, Vec<u8>);

/// Every SVG, PNG and GIF (animation) in the display data and execute results.
pub fn figures(nb: &Value) -> Vec<Figure> {
    let mut out = Vec::new();
    for (k, (_, cell)) in code_cells(nb).into_iter().enumerate() {
        let number = k + 1;
        let Some(outputs) = cell.get("outputs").and_then(Value::as_array) else { continue };
        for output in outputs {
            let Some(data) = output.get("data") else { continue };
            if let Some(svg) = data.get("image/svg+xml") {
                out.push((number, "svg", text_of(Some(svg)).into_bytes()));
            }
            for (mime, ext) in [("image/png", "png"), ("image/gif", "gif")] {
                if let Some(bytes) = data.get(mime).and_then(|b| base64_decode(&text_of(Some(b)))) {
                    out.push((number, ext, bytes));
                }
            }
        }
    }
    out
}

/// Standard base64 (whitespace ignored); `None` on a bad character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The median of `v` (mean of the middle two for an even count); `None` when empty.
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nb(cells: Vec<Value>) -> Value {
        json!({ "cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5 })
    }

    fn code(src: &str, outputs: Vec<Value>) -> Value {
        json!({ "cell_type": "code", "source": src, "metadata": {}, "outputs": outputs, "execution_count": 1 })
    }

    #[test]
    fn finds_a_panic_in_stderr_even_though_the_cell_is_ok() {
        let n = nb(vec![
            code(SETUP_CELL, vec![]),
            code(
                "panic!()",
                vec![json!({"output_type": "stream", "name": "stderr",
                "text": ["thread '<unnamed>' panicked at src/lib.rs:3:1:\n", "boom\n"]})],
            ),
        ]);
        let p = find_problems(&n);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].kind, "panic");
        assert_eq!(p[0].index, 1);
        assert!(p[0].excerpt.contains("boom"), "{}", p[0].excerpt);
        assert!(!p[0].excerpt.contains("backtrace"), "{}", p[0].excerpt);
    }

    #[test]
    fn finds_panics_in_stdout_and_text_plain_and_errors() {
        let n = nb(vec![
            code("a", vec![json!({"output_type": "stream", "name": "stdout", "text": "x panicked at y"})]),
            code(
                "b",
                vec![json!({"output_type": "display_data", "metadata": {},
                "data": {"text/plain": ["it panicked at here"]}})],
            ),
            code(
                "c",
                vec![json!({"output_type": "error", "ename": "Error", "evalue": "\u{1b}[31mmismatched types\u{1b}[0m",
                "traceback": []})],
            ),
            code("d", vec![json!({"output_type": "stream", "name": "stdout", "text": "all fine"})]),
        ]);
        let p = find_problems(&n);
        let kinds: Vec<_> = p.iter().map(|p| (p.index, p.kind)).collect();
        assert_eq!(kinds, vec![(0, "panic"), (1, "panic"), (2, "error")]);
        assert!(p[2].excerpt.contains("mismatched types") && !p[2].excerpt.contains('\u{1b}'));
    }

    #[test]
    fn a_figure_printed_as_text_is_a_problem() {
        let shown = json!({"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {"text/html": "<svg/>", "image/svg+xml": "<svg/>", "text/plain": "Figure(960×480 px, 10 bytes of SVG)"}});
        let as_text = json!({"output_type": "execute_result", "execution_count": 2, "metadata": {},
            "data": {"text/plain": ["Figure(960×960 px, 180298 bytes of SVG)"]}});
        let other = json!({"output_type": "execute_result", "execution_count": 3, "metadata": {},
            "data": {"text/plain": ["Figure(1) is mentioned here"]}});
        let p = find_problems(&nb(vec![code("a", vec![shown]), code("b", vec![as_text]), code("c", vec![other])]));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].index, p[0].kind), (1, "figure as text"));
        assert!(p[0].excerpt.contains("plot::grid(&figs, 2)"), "{}", p[0].excerpt);
    }

    #[test]
    fn setup_cell_check() {
        assert_eq!(check_setup_cell(&nb(vec![code(&format!("{SETUP_CELL}\n"), vec![])])), None);
        assert!(check_setup_cell(&nb(vec![code(":dep flowmatch = \"*\"", vec![])])).is_some());
        assert!(check_setup_cell(&nb(vec![])).is_some());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode("a$"), None);
    }

    #[test]
    fn figures_are_extracted() {
        let n = nb(vec![code(
            "f",
            vec![json!({"output_type": "display_data", "metadata": {},
            "data": {"image/svg+xml": "<svg/>", "image/png": "aGk=", "image/gif": "R0lG", "text/plain": "fig"}})],
        )]);
        let f = figures(&n);
        assert_eq!(f, vec![(1, "svg", b"<svg/>".to_vec()), (1, "png", b"hi".to_vec()), (1, "gif", b"GIF".to_vec())]);
    }

    /// Every committed notebook starts with the same set-up cell and is valid JSON.
    #[test]
    fn committed_notebooks_start_with_the_setup_cell() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|e| e.to_str()) != Some("ipynb") {
                continue;
            }
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", p.display()));
            if let Some(diff) = check_setup_cell(&v) {
                panic!("{}: {diff}", p.display());
            }
        }
    }
}
