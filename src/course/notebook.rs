//! Student and instructor copies of the notebooks, made from one source.
//!
//! Each notebook is written once, with its solutions, in `notebooks/source/`.
//! Two copies are generated from it:
//!
//! | copy | path | solution regions | cells tagged `solution` |
//! | --- | --- | --- | --- |
//! | student | `notebooks/<name>.ipynb` | replaced by a placeholder (`todo!()`) | dropped |
//! | instructor | `notebooks/solutions/<name>.ipynb` | kept (marker lines removed) | kept |
//!
//! A solution region is a run of lines in a code cell between two marker lines:
//!
//! ```text
//! fn interpolant(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64> {
//!     // BEGIN SOLUTION
//!     x0.iter().zip(x1).map(|(a, b)| t * b + (1.0 - t) * a).collect()
//!     // END SOLUTION
//! }
//! ```
//!
//! In the student copy the region becomes one line, `todo!()`, indented like
//! the `BEGIN` line. `// BEGIN SOLUTION: <text>` puts `<text>` there instead
//! (e.g. `// BEGIN SOLUTION: let model = todo!();`), and `// BEGIN SOLUTION:`
//! with nothing after the colon leaves nothing. Regions do not nest; an
//! unclosed region, an `END` without a `BEGIN` or a line that mentions
//! `BEGIN SOLUTION`/`END SOLUTION` without being a marker is an error, so a
//! typo never leaks a solution. Markdown cells whose metadata tags include
//! `solution` (explanations of the solutions) appear only in the instructor
//! copy; a code cell with that tag is dropped from the student copy too.
//!
//! Both copies have their outputs, execution counts and execution timings
//! cleared, and are written the way Jupyter writes notebooks (keys sorted,
//! one-space indent), so saving a generated copy in Jupyter changes little.
//!
//! **Crate path.** Notebook cells load the crate with
//! `:dep flowmatch = { path = ".." }`. The course kernel (`scripts/evcxr_kernel.py`)
//! starts every kernel in `notebooks/`, whichever folder below it the notebook sits
//! in, so `..` is the repository root for the student copies, the instructor copies in
//! `notebooks/solutions/` and the sources in `notebooks/source/` alike, and every
//! notebook's first cell is the same. A `:dep flowmatch` line with another relative
//! path (an older source written as `../..`) is set to `..` in both copies; absolute
//! paths and other crates are left alone.
//!
//! [`strip_solutions`] is the transform on one piece of code (it also turns
//! `solutions/*.rs` into `exercises/*.rs`); [`render`] applies it to a whole
//! notebook; [`generate`], [`out_of_date`] and [`write()`] work on the
//! `notebooks/` folder (the `course sync [--check]` command).

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The line that opens a solution region.
pub const BEGIN_MARKER: &str = "// BEGIN SOLUTION";
/// The line that closes a solution region.
pub const END_MARKER: &str = "// END SOLUTION";
/// The cell tag that keeps a cell out of the student copy.
pub const SOLUTION_TAG: &str = "solution";
/// What replaces a solution region in the student copy unless the `BEGIN` line says otherwise.
pub const PLACEHOLDER: &str = "todo!()";

/// Which copy to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Solution regions replaced by placeholders, solution cells dropped.
    Student,
    /// Everything kept, marker lines removed.
    Instructor,
}

/// What one line of code is, as far as the markers go.
enum Marker<'a> {
    Begin(Option<&'a str>),
    End,
    Plain,
}

/// Classifies a line; errors on a line that looks like a marker but is not one.
fn marker(line: &str) -> std::result::Result<Marker<'_>, String> {
    let trimmed = line.trim();
    let comment = trimmed.strip_prefix("//").map(str::trim_start);
    if let Some(rest) = comment.and_then(|c| c.strip_prefix("BEGIN SOLUTION")) {
        if rest.trim().is_empty() {
            return Ok(Marker::Begin(None));
        }
        if let Some(placeholder) = rest.strip_prefix(':') {
            return Ok(Marker::Begin(Some(placeholder.trim())));
        }
    }
    if comment.map(str::trim_end) == Some("END SOLUTION") {
        return Ok(Marker::End);
    }
    if trimmed.contains("BEGIN SOLUTION") || trimmed.contains("END SOLUTION") {
        return Err(format!(
            "`{trimmed}` mentions a solution marker but is not one; a marker is a line of its own, exactly \
             `{BEGIN_MARKER}` (optionally `{BEGIN_MARKER}: placeholder`) or `{END_MARKER}`"
        ));
    }
    Ok(Marker::Plain)
}

/// The open region: where it began, its indentation and its placeholder.
struct Region<'a> {
    line: usize,
    indent: &'a str,
    placeholder: &'a str,
}

/// Removes or replaces the solution regions of one piece of code.
///
/// Student: each region, marker lines included, becomes its placeholder line
/// (`todo!()` unless the `BEGIN` line names another; nothing for an empty one).
/// Instructor: the marker lines are removed and the solution kept.
///
/// ```
/// use flowmatch::course::notebook::{strip_solutions, Audience};
/// let code = "fn f() -> u32 {\n    // BEGIN SOLUTION\n    42\n    // END SOLUTION\n}\n";
/// assert_eq!(strip_solutions(code, Audience::Student).unwrap(), "fn f() -> u32 {\n    todo!()\n}\n");
/// assert_eq!(strip_solutions(code, Audience::Instructor).unwrap(), "fn f() -> u32 {\n    42\n}\n");
/// ```
///
/// Errors: [`Error::InvalidParameter`] naming the line, for a `BEGIN` inside a
/// region, an `END` outside one, a region still open at the end, or a line that
/// mentions a marker without being one.
pub fn strip_solutions(code: &str, audience: Audience) -> Result<String> {
    let bad = |line: usize, reason: String| Error::invalid("solution markers", format!("line {line}: {reason}"));
    let mut out = String::with_capacity(code.len());
    let mut open: Option<Region> = None;
    for (k, line) in code.split_inclusive('\n').enumerate() {
        let number = k + 1;
        match marker(line).map_err(|r| bad(number, r))? {
            Marker::Begin(placeholder) => {
                if let Some(r) = &open {
                    return Err(bad(
                        number,
                        format!("`{BEGIN_MARKER}` inside the region opened on line {}; regions do not nest", r.line),
                    ));
                }
                let indent = &line[..line.len() - line.trim_start().len()];
                open = Some(Region { line: number, indent, placeholder: placeholder.unwrap_or(PLACEHOLDER) });
            }
            Marker::End => {
                let Some(region) = open.take() else {
                    return Err(bad(number, format!("`{END_MARKER}` without a `{BEGIN_MARKER}` before it")));
                };
                if audience == Audience::Student && !region.placeholder.is_empty() {
                    out.push_str(region.indent);
                    out.push_str(region.placeholder);
                    if line.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
            Marker::Plain => {
                if open.is_none() || audience == Audience::Instructor {
                    out.push_str(line);
                }
            }
        }
    }
    if let Some(r) = open {
        return Err(bad(r.line, format!("the region opened here has no `{END_MARKER}`")));
    }
    Ok(out)
}

/// Where the crate root is, seen from `notebooks/` (where the course kernel runs every notebook).
const CRATE_PATH: &str = "..";

/// In a `:dep flowmatch = { path = "…" }` line with a relative path, puts `path` in its place.
fn set_crate_path(line: &str, path: &str) -> String {
    let keep = || line.to_string();
    let Some(rest) = line.trim_start().strip_prefix(":dep") else { return keep() };
    if !rest.trim_start().starts_with("flowmatch") {
        return keep();
    }
    let Some(p) = line.find("path") else { return keep() };
    let Some(rest) = line[p + 4..].trim_start().strip_prefix('=') else { return keep() };
    let Some(value) = rest.trim_start().strip_prefix('"') else { return keep() };
    let Some(end) = value.find('"') else { return keep() };
    if value[..end].starts_with('/') || value[..end].contains(':') {
        return keep(); // an absolute path stays as it is
    }
    let start = line.len() - value.len();
    format!("{}{}{}", &line[..start], path, &line[start + end..])
}

/// The text of a cell's `source`, which nbformat stores as a string or a list of lines.
fn source_text(cell: &Value) -> String {
    match cell.get("source") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// A source string as nbformat's list of lines (each but the last ending in a newline).
fn source_lines(text: &str) -> Value {
    Value::Array(text.split_inclusive('\n').map(|l| Value::String(l.to_string())).collect())
}

fn has_tag(cell: &Value, tag: &str) -> bool {
    cell.pointer("/metadata/tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(tag)))
}

/// The same JSON with every object's keys in sorted order (as Jupyter writes them).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// JSON text the way Jupyter writes a notebook: sorted keys, one-space indent, final newline.
fn to_notebook_text(value: &Value) -> Result<String> {
    use serde::Serialize;
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b" "));
    sorted(value.clone())
        .serialize(&mut ser)
        .map_err(|e| Error::invalid("notebook", format!("could not write it as JSON ({e})")))?;
    let mut text = String::from_utf8(buf).map_err(|e| Error::invalid("notebook", e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// Makes the student or instructor copy of a source notebook (the text of an `.ipynb` file).
///
/// Code cells go through [`strip_solutions`] and lose their outputs, execution
/// count and timing, and the relative path of a `:dep flowmatch` line is set
/// for the copy's folder (see the module docs); in the student copy, cells
/// tagged [`SOLUTION_TAG`] are dropped.
///
/// Errors: [`Error::InvalidParameter`] when the text is not a notebook (JSON
/// with a `cells` list) or a code cell has bad markers; the message names the
/// cell (counting from 1) and the line.
pub fn render(source: &str, audience: Audience) -> Result<String> {
    let mut nb: Value = serde_json::from_str(source)
        .map_err(|e| Error::invalid("notebook", format!("it is not valid JSON ({e}); is it an .ipynb file?")))?;
    let Some(cells) = nb.get_mut("cells").and_then(Value::as_array_mut) else {
        return Err(Error::invalid("notebook", "it has no `cells` list; is it an .ipynb file (nbformat 4)?"));
    };
    let mut kept = Vec::with_capacity(cells.len());
    for (k, mut cell) in std::mem::take(cells).into_iter().enumerate() {
        if audience == Audience::Student && has_tag(&cell, SOLUTION_TAG) {
            continue;
        }
        let kind = cell.get("cell_type").and_then(Value::as_str).unwrap_or("").to_string();
        let mut text = source_text(&cell);
        if kind == "code" {
            text = strip_solutions(&text, audience).map_err(|e| match e {
                Error::InvalidParameter { reason, .. } => {
                    Error::invalid("solution markers", format!("cell {} (code), {reason}", k + 1))
                }
                other => other,
            })?;
            text = text.split_inclusive('\n').map(|l| set_crate_path(l, CRATE_PATH)).collect();
        }
        if let Some(obj) = cell.as_object_mut() {
            obj.insert("source".into(), source_lines(&text));
            if kind == "code" {
                obj.insert("outputs".into(), Value::Array(Vec::new()));
                obj.insert("execution_count".into(), Value::Null);
                if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("execution");
                }
            }
        }
        kept.push(cell);
    }
    *cells = kept;
    to_notebook_text(&nb)
}

/// A file that [`generate`] made: where it goes and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// The path it belongs at.
    pub path: PathBuf,
    /// Its contents.
    pub contents: String,
}

/// The source notebooks in `notebooks_dir/source/`, sorted by name.
pub fn sources(notebooks_dir: &Path) -> Result<Vec<PathBuf>> {
    let dir = notebooks_dir.join("source");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
        let path = entry.map_err(|e| Error::io(&dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && name.ends_with(".ipynb") && !name.starts_with('.') {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The student copy `notebooks_dir/<name>` and the instructor copy
/// `notebooks_dir/solutions/<name>` of every source `notebooks_dir/source/<name>`.
///
/// Nothing is written. No `source/` folder means no notebooks (an empty list).
pub fn generate(notebooks_dir: &Path) -> Result<Vec<Generated>> {
    let mut out = Vec::new();
    for src in sources(notebooks_dir)? {
        let text = std::fs::read_to_string(&src).map_err(|e| Error::io(&src, e))?;
        let name = src.file_name().map(PathBuf::from).unwrap_or_default();
        let named = |e: Error| match e {
            Error::InvalidParameter { what, reason } => Error::invalid(format!("{what} in {}", src.display()), reason),
            other => other,
        };
        out.push(Generated {
            path: notebooks_dir.join(&name),
            contents: render(&text, Audience::Student).map_err(named)?,
        });
        out.push(Generated {
            path: notebooks_dir.join("solutions").join(&name),
            contents: render(&text, Audience::Instructor).map_err(named)?,
        });
    }
    Ok(out)
}

/// The generated copies that are missing or differ from what [`generate`] makes now.
pub fn out_of_date(notebooks_dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(generate(notebooks_dir)?
        .into_iter()
        .filter(|g| std::fs::read_to_string(&g.path).ok().as_deref() != Some(g.contents.as_str()))
        .map(|g| g.path)
        .collect())
}

/// Writes the copies that are missing or out of date and returns their paths.
pub fn write(notebooks_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for g in generate(notebooks_dir)? {
        if std::fs::read_to_string(&g.path).ok().as_deref() == Some(g.contents.as_str()) {
            continue;
        }
        if let Some(parent) = g.path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let tmp = g.path.with_extension("ipynb.tmp");
        std::fs::write(&tmp, &g.contents).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &g.path).map_err(|e| Error::io(&g.path, e))?;
        written.push(g.path);
    }
    Ok(written)
}

/// Notebooks in `notebooks_dir/` or `notebooks_dir/solutions/` that have no source
/// (they would not be kept in sync).
pub fn orphans(notebooks_dir: &Path) -> Result<Vec<PathBuf>> {
    let names: Vec<_> = sources(notebooks_dir)?.iter().filter_map(|p| p.file_name().map(|n| n.to_owned())).collect();
    let mut found = Vec::new();
    for dir in [notebooks_dir.to_path_buf(), notebooks_dir.join("solutions")] {
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            let is_nb = path.extension().is_some_and(|x| x == "ipynb") && path.is_file();
            if is_nb && !path.file_name().is_some_and(|n| names.iter().any(|m| m == n)) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
