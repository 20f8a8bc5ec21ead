//! A safeguarded root finder for monotone scalar equations: Newton steps kept inside a
//! shrinking bracket, with bisection whenever Newton would leave it or stalls.
//!
//! ```text
//! g(a) = 0 on [lo, hi] with g(lo) ≤ 0 ≤ g(hi) and g non-decreasing:
//!     a ← a − g(a)/g'(a)  if that stays inside (lo, hi) and shrinks |g|,  else  a ← (lo + hi)/2
//!     after each step: g(a) < 0 ⇒ lo ← a,  g(a) > 0 ⇒ hi ← a
//! stop when |g(a)| ≤ tol · (1 + |a|) or hi − lo ≤ tol · (1 + |a|)
//! ```
//!
//! Newton converges quadratically near the root; the bracket makes every step safe, so the
//! iteration converges even where g' is near 0 (the edge of invertibility of a planar layer).

use crate::error::{Error, Result};

/// The tolerance of [`solve_monotone`] used by the planar inverse: |g(a)| ≤ 1e-13 (1 + |a|).
pub const ROOT_TOL: f64 = 1e-13;

/// Solves g(a) = 0 for a non-decreasing `g` on the bracket `[lo, hi]`, where `g(lo) ≤ 0 ≤ g(hi)`.
///
/// `g` returns (g(a), g'(a)). Newton steps are taken when they stay inside the current bracket;
/// otherwise the bracket is halved. Errors with [`Error::SolverFailed`] when the bracket does not
/// hold a sign change or the iteration does not converge in 200 steps.
pub fn solve_monotone(g: impl Fn(f64) -> (f64, f64), mut lo: f64, mut hi: f64, tol: f64) -> Result<f64> {
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(Error::SolverFailed { reason: format!("the root bracket [{lo}, {hi}] is not a finite interval") });
    }
    let (glo, _) = g(lo);
    let (ghi, _) = g(hi);
    if glo == 0.0 {
        return Ok(lo);
    }
    if ghi == 0.0 {
        return Ok(hi);
    }
    if !(glo < 0.0 && ghi > 0.0) {
        return Err(Error::SolverFailed {
            reason: format!(
                "g changes no sign on [{lo}, {hi}] (g = {glo} and {ghi}): the equation is not monotone increasing \
                 there, so the layer is not invertible at this point"
            ),
        });
    }
    let mut a = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (ga, dga) = g(a);
        if !ga.is_finite() {
            return Err(Error::SolverFailed { reason: format!("g({a}) = {ga} is not finite") });
        }
        let scale = 1.0 + a.abs();
        if ga.abs() <= tol * scale {
            return Ok(a);
        }
        if ga < 0.0 {
            lo = a;
        } else {
            hi = a;
        }
        if hi - lo <= tol * scale {
            return Ok(0.5 * (lo + hi));
        }
        let newton = a - ga / dga;
        a = if dga > 0.0 && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
    }
    Err(Error::SolverFailed { reason: format!("no convergence in 200 steps (bracket [{lo}, {hi}])") })
}

/// Every root of g(a) = 0 on `[lo, hi]`, for a continuous `g` that need not be monotone: the
/// interval is scanned on `cells` equal cells and each sign change is refined by bisection.
///
/// Roots where g touches 0 without changing sign can be missed; a scan is for pictures and
/// demonstrations (a folding planar layer), not for proofs.
pub fn all_roots(g: impl Fn(f64) -> f64, lo: f64, hi: f64, cells: usize) -> Vec<f64> {
    let cells = cells.max(1);
    let h = (hi - lo) / cells as f64;
    let mut roots = Vec::new();
    let mut a = lo;
    let mut ga = g(a);
    for k in 1..=cells {
        let b = if k == cells { hi } else { lo + k as f64 * h };
        let gb = g(b);
        if ga == 0.0 {
            roots.push(a);
        } else if ga * gb < 0.0 {
            let (mut l, mut r, mut gl) = (a, b, ga);
            for _ in 0..200 {
                let m = 0.5 * (l + r);
                let gm = g(m);
                if gm == 0.0 || r - l <= 1e-15 * (1.0 + m.abs()) {
                    l = m;
                    r = m;
                    break;
                }
                if (gm < 0.0) == (gl < 0.0) {
                    l = m;
                    gl = gm;
                } else {
                    r = m;
                }
            }
            roots.push(0.5 * (l + r));
        }
        a = b;
        ga = gb;
    }
    if ga == 0.0 && roots.last() != Some(&hi) {
        roots.push(hi);
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_of_monotone_equations_including_flat_ones() {
        // a + 0.5 tanh(a) = 1, and a cubic that is flat at its root (g' = 0 there).
        let a = solve_monotone(|a| (a + 0.5 * a.tanh() - 1.0, 1.0 + 0.5 * (1.0 - a.tanh().powi(2))), -2.0, 3.0, 1e-14)
            .unwrap();
        assert!((a + 0.5 * a.tanh() - 1.0).abs() < 1e-13);
        let c = solve_monotone(|a| ((a - 0.3).powi(3), 3.0 * (a - 0.3).powi(2)), -1.0, 2.0, 1e-15).unwrap();
        assert!((c - 0.3).abs() < 1e-4, "{c}");
        assert!(solve_monotone(|a| (a * a + 1.0, 2.0 * a), -1.0, 1.0, 1e-12).is_err());
    }

    #[test]
    fn scans_every_sign_change() {
        let r = all_roots(|a| (a - 1.0) * (a + 0.5) * (a - 2.5), -3.0, 3.0, 100);
        assert_eq!(r.len(), 3, "{r:?}");
        for (got, want) in r.iter().zip([-0.5, 1.0, 2.5]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }
}
