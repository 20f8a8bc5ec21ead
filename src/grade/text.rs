//! Number formatting and tolerant comparisons for the checkers' messages.

use crate::points::Points;

/// `x` in a short readable form: `2`, `0.5`, `-1.25`, `1.0000e-7`, `NaN`.
pub(crate) fn num(x: f64) -> String {
    num_with(x, 6)
}

/// `x` with at most `decimals` decimals (trailing zeros dropped), or in scientific form when tiny or huge.
fn num_with(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-4..1e7).contains(&a) {
        return format!("{:.*e}", decimals.min(12), x);
    }
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

/// A vector as `(a, b, c)`.
pub(crate) fn vector(v: &[f64]) -> String {
    vector_with(v, 6)
}

fn vector_with(v: &[f64], decimals: usize) -> String {
    let parts: Vec<String> = v.iter().map(|&x| num_with(x, decimals)).collect();
    format!("({})", parts.join(", "))
}

/// `got` and `expected` as vectors, with enough decimals that they look different when they are.
pub(crate) fn vector_pair(got: &[f64], expected: &[f64]) -> (String, String) {
    let mut last = (String::new(), String::new());
    for decimals in [6, 9, 12, 16] {
        last = (vector_with(got, decimals), vector_with(expected, decimals));
        if last.0 != last.1 {
            break;
        }
    }
    last
}

/// Two numbers, with enough decimals that they look different when they are.
pub(crate) fn num_pair(got: f64, expected: f64) -> (String, String) {
    let (a, b) = vector_pair(&[got], &[expected]);
    (a.trim_matches(|c| c == '(' || c == ')').to_string(), b.trim_matches(|c| c == '(' || c == ')').to_string())
}

/// |got − expected| ≤ rel · (1 + |expected|); false for NaN or infinite `got`.
pub(crate) fn close(got: f64, expected: f64, rel: f64) -> bool {
    got.is_finite() && (got - expected).abs() <= rel * (1.0 + expected.abs())
}

/// True when both have the same length and agree coordinate by coordinate (see [`close`]).
pub(crate) fn all_close(got: &[f64], expected: &[f64], rel: f64) -> bool {
    got.len() == expected.len() && got.iter().zip(expected).all(|(&g, &e)| close(g, e, rel))
}

/// The first row where two point sets of the same shape disagree.
pub(crate) fn first_bad_row(got: &Points, expected: &Points, rel: f64) -> Option<usize> {
    (0..expected.len()).find(|&i| !all_close(got.row(i), expected.row(i), rel))
}

/// The first of `suspects` (description, value) that `got` matches, for a "this looks like …" remark.
pub(crate) fn diagnose<'a>(got: &[f64], suspects: &'a [(&'a str, Vec<f64>)], rel: f64) -> Option<&'a str> {
    suspects.iter().find(|(_, v)| all_close(got, v, rel)).map(|(d, _)| *d)
}

/// Every suspect that fits, as one remark: " (first; or second)", or "" when none does. For
/// checkers whose small cases let two mistakes give the same number.
pub(crate) fn remark_all(got: &[f64], suspects: &[(&str, Vec<f64>)], rel: f64) -> String {
    let fits: Vec<(bool, &str)> = suspects.iter().map(|(d, v)| (all_close(got, v, rel), *d)).collect();
    remark_fits(&fits)
}

/// The remarks whose test holds, as one: " (first; or second)", or "" when none holds.
pub(crate) fn remark_fits(fits: &[(bool, &str)]) -> String {
    let named: Vec<&str> = fits.iter().filter(|f| f.0).map(|f| f.1).collect();
    if named.is_empty() {
        String::new()
    } else {
        format!(" ({})", named.join("; or "))
    }
}

/// " (…remark…)" or "".
pub(crate) fn remark(diagnosis: Option<&str>) -> String {
    diagnosis.map(|d| format!(" ({d})")).unwrap_or_default()
}

/// Rust's own panic report contains the words "panicked at"; notebook runners look
/// for them to spot a crashed cell, so verdicts never contain them.
pub(crate) fn sanitize(s: &str) -> String {
    s.replace("panicked at", "panicked (at")
}

/// "the x_t you returned has 3 numbers; expected 2 (one per coordinate)"-style check.
pub(crate) fn check_len(what: &str, got: usize, expected: usize, context: &str) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!("{context} your {what} had {got} numbers; expected {expected} (one per coordinate)."))
    }
}

/// Errors unless `got` has the shape of `expected`.
pub(crate) fn check_shape(what: &str, got: &Points, expected: &Points, context: &str) -> Result<(), String> {
    if got.shape() == expected.shape() {
        Ok(())
    } else {
        Err(format!(
            "{context} your {what} had {} points of dimension {}; expected {} points of dimension {} (the shape of x).",
            got.len(),
            got.dim(),
            expected.len(),
            expected.dim()
        ))
    }
}
