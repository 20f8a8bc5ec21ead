//! The shape of the crate, checked: dfdx stays inside its room, and the rooms of `src/`
//! import each other one way only (no cycles).
//!
//! These read the source files as text (comments left out), so they fail in CI as soon
//! as a change breaks the architecture the README's map of the crate describes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file below `dir` (none when `dir` does not exist).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The code of a Rust file without its comments (line and block comments) and without the
/// contents of its string literals (a message that mentions a crate does not use it).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut chars, mut in_str, mut depth) = (text.chars().peekable(), false, 0usize);
    while let Some(c) = chars.next() {
        if depth > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                depth -= 1;
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                depth += 1;
            } else if c == '\n' {
                out.push('\n');
            }
            continue;
        }
        if in_str {
            if c == '\\' {
                chars.next();
            } else if c == '"' {
                in_str = false;
                out.push(c);
            }
            continue;
        }
        match (c, chars.peek()) {
            ('\'', Some('"')) => {
                // The character literal '"' is not the start of a string.
                out.push(c);
                out.push(chars.next().unwrap());
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                depth = 1;
            }
            ('r', Some('#' | '"')) if !out.chars().next_back().is_some_and(|p| p.is_alphanumeric() || p == '_') => {
                // A raw string r"…" or r#"…"#: its contents may hold quotes, so skip to the
                // closing quote followed by as many '#' as opened it.
                let mut hashes = 0;
                while chars.peek() == Some(&'#') {
                    chars.next();
                    hashes += 1;
                }
                if chars.peek() != Some(&'"') {
                    out.push(c);
                    out.extend(std::iter::repeat_n('#', hashes));
                    continue;
                }
                chars.next();
                out.push_str("\"\"");
                'raw: while let Some(n) = chars.next() {
                    if n == '\n' {
                        out.push('\n');
                    } else if n == '"' {
                        let mut seen = 0;
                        while seen < hashes && chars.peek() == Some(&'#') {
                            chars.next();
                            seen += 1;
                        }
                        if seen == hashes {
                            break 'raw;
                        }
                    }
                }
            }
            ('"', _) => {
                in_str = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// True when `code` names `word` as a whole identifier.
fn names(code: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Files allowed to name dfdx, with the reason.
const DFDX_ROOMS: &[(&str, &str)] = &[
    ("src/nn/", "the neural-network room: the only one built on dfdx"),
    ("tests/fused.rs", "checks the nn room's fast path against the plain dfdx graph, so it builds that graph"),
    (
        "tests/cuda_smoke.rs",
        "GPU smoke tests of dfdx's CUDA device itself (cuBLAS, run-time kernels), built only with --features cuda",
    ),
];

#[test]
fn dfdx_is_named_only_inside_the_nn_room() {
    let mut offenders = Vec::new();
    let mut checked = 0;
    for folder in ["src", "examples", "benches", "tests"] {
        for file in rust_files(&repo().join(folder)) {
            let rel = file.strip_prefix(repo()).unwrap().to_string_lossy().replace('\\', "/");
            if DFDX_ROOMS.iter().any(|(room, _)| rel.starts_with(room)) {
                continue;
            }
            checked += 1;
            let text = std::fs::read_to_string(&file).unwrap();
            if names(&code_of(&text), "dfdx") {
                offenders.push(rel);
            }
        }
    }
    assert!(checked > 40, "only {checked} files were read; is the repository layout still the same?");
    assert!(
        offenders.is_empty(),
        "these files name dfdx outside the rooms allowed to ({:?}): {offenders:?}. Keep dfdx types inside \
         src/nn/ and give the other rooms plain f64 Points (see the README's map of the crate)",
        DFDX_ROOMS.iter().map(|(r, _)| *r).collect::<Vec<_>>()
    );
    // The check itself sees through comments and messages but not through code.
    assert!(names(&code_of("use dfdx::prelude::*;"), "dfdx"));
    assert!(!names(&code_of("// dfdx in a comment\n/* and dfdx here */ let a = 1;"), "dfdx"));
    assert!(!names(&code_of("let m = \"dfdx reported an error\";"), "dfdx"));
    assert!(!names(&code_of("let dfdx_like = 1;"), "dfdx"));
}

/// The room of a file under `src/`: its first path component (`src/nn/mlp.rs` → `nn`,
/// `src/points.rs` → `points`). `None` for the crate root and the binaries.
fn room_of(rel: &str) -> Option<String> {
    let rest = rel.strip_prefix("src/")?;
    if rest == "lib.rs" || rest.starts_with("bin/") {
        return None;
    }
    Some(rest.split('/').next().unwrap().trim_end_matches(".rs").to_string())
}

/// Items the crate root re-exports, by the room they come from.
const ROOT_REEXPORTS: &[(&str, &str)] = &[
    ("Dataset", "data"),
    ("Error", "error"),
    ("Result", "error"),
    ("Points", "points"),
    ("TimeGrid", "solver"),
    ("VectorField", "field"),
    ("Model", "field"),
    ("Time", "field"),
    ("pointwise", "field"),
    ("batched", "field"),
];

/// The rooms `code` imports through `crate::<room>` paths.
fn imported_rooms(code: &str, rooms: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with('$') {
            continue; // `$crate::` in a macro: the user's path, not an import of this file
        }
        let ident: String = code[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if rooms.contains(&ident) {
            out.insert(ident);
        } else if let Some((_, room)) = ROOT_REEXPORTS.iter().find(|(name, _)| *name == ident) {
            out.insert(room.to_string());
        }
    }
    out
}

#[test]
fn rooms_import_each_other_one_way() {
    let files = rust_files(&repo().join("src"));
    let rel = |f: &PathBuf| f.strip_prefix(repo()).unwrap().to_string_lossy().replace('\\', "/");
    let rooms: BTreeSet<String> = files.iter().filter_map(|f| room_of(&rel(f))).collect();
    for expected in ["points", "field", "data", "path", "solver", "nn", "loss", "train", "grade", "marginal", "ot"] {
        assert!(rooms.contains(expected), "room {expected} is missing: {rooms:?}");
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some(room) = room_of(&rel(f)) else { continue };
        let code = code_of(&std::fs::read_to_string(f).unwrap());
        let deps = edges.entry(room.clone()).or_default();
        deps.extend(imported_rooms(&code, &rooms).into_iter().filter(|r| *r != room));
    }
    // Depth-first search for a cycle; report it as a path.
    fn visit(
        room: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(room) {
            Some(2) => return None,
            Some(1) => {
                let start = stack.iter().position(|r| r == room).unwrap();
                let mut cycle = stack[start..].to_vec();
                cycle.push(room.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(room.to_string(), 1);
        stack.push(room.to_string());
        for dep in edges.get(room).into_iter().flatten() {
            if let Some(c) = visit(dep, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(room.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for room in edges.keys() {
        if let Some(cycle) = visit(room, &edges, &mut state, &mut Vec::new()) {
            panic!("the rooms of src/ import each other in a cycle: {}", cycle.join(" → "));
        }
    }
    // The ground imports nothing above it, and only nn (and files inside it) may build models.
    for ground in ["error", "numeric", "points"] {
        let deps = edges.get(ground).cloned().unwrap_or_default();
        assert!(deps.iter().all(|d| ["error", "numeric"].contains(&d.as_str())), "{ground} imports {deps:?}");
    }
    for room in
        ["data", "path", "solver", "ot", "coupling", "metrics", "marginal", "plot", "loss", "field", "diffusion"]
    {
        let deps = edges.get(room).cloned().unwrap_or_default();
        assert!(
            !deps.contains("nn") && !deps.contains("train") && !deps.contains("grade"),
            "the maths room {room} imports {deps:?}; it must not depend on models, training or grading"
        );
    }
    let course = edges.get("course").cloned().unwrap_or_default();
    assert!(!course.contains("grade"), "notebook tooling is not grading: course imports {course:?}");
}
