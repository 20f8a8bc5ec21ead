//! Shared numerics, each written once: ln 2π, log-sum-exp, argument checks and the
//! Cholesky factor of a covariance.
//!
//! ```text
//! log Σₖ exp(lₖ) = m + ln Σₖ exp(lₖ − m),    m = maxₖ lₖ          (stable for very negative lₖ)
//! Σ = L Lᵀ,   ln det Σ = 2 Σᵢ ln Lᵢᵢ,   xᵀ Σ⁻¹ x = ‖L⁻¹ x‖²       (L lower triangular, by nalgebra)
//! ```
//!
//! The Gaussian datasets ([`crate::data`]) and the closed-form marginals
//! ([`crate::marginal`]) both evaluate Gaussian log-densities; they share these
//! pieces so that each formula has one implementation to test.

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVectorView, DVectorViewMut};

/// ln(2π).
pub const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// ln Σₖ exp(vₖ) = m + ln Σₖ exp(vₖ − m) with m = maxₖ vₖ: finite even when every
/// exp(vₖ) underflows. Returns m itself when m is not finite (an empty slice gives −∞).
pub fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|a| (a - m).exp()).sum::<f64>().ln()
}

/// Writes wₖ = exp(lₖ − m) into `weights` (m = maxₖ lₖ) and returns (m, Σₖ wₖ).
///
/// Then log Σₖ exp(lₖ) = m + ln Σₖ wₖ, and wₖ / Σₖ wₖ are the softmax weights: a
/// posterior computed in log space. `weights` has the length of `logits`.
pub fn shifted_exp(logits: &[f64], weights: &mut [f64]) -> (f64, f64) {
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for (w, l) in weights.iter_mut().zip(logits) {
        *w = (l - top).exp();
        total += *w;
    }
    (top, total)
}

/// The widest vector instructions this CPU offers, detected once: AVX-512, AVX2 + FMA, or neither.
///
/// Kernels that LLVM auto-vectorises are compiled once per level (with
/// `#[target_feature]`) and chosen at run time with this, so the crate needs no
/// `-C target-cpu` flag. `FLOWMATCH_NO_AVX512=1` stays on AVX2.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SimdLevel {
    Avx512,
    Avx2,
    Base,
}

/// See [`SimdLevel`].
pub(crate) fn simd_level() -> SimdLevel {
    use std::sync::OnceLock;
    static L: OnceLock<SimdLevel> = OnceLock::new();
    *L.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::env::var_os("FLOWMATCH_NO_AVX512").is_none() && is_x86_feature_detected!("avx512f") {
                return SimdLevel::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Base
    })
}

/// ‖x − y‖², the squared Euclidean distance.
#[inline]
pub fn sq_dist(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Errors unless `v` is finite and > 0: [`Error::InvalidParameter`] naming `what`.
pub fn check_positive(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, format!("must be a finite number > 0, got {v}")))
    }
}

/// Errors unless `v` is finite and ≥ 0: [`Error::InvalidParameter`] naming `what`.
pub fn check_non_negative(what: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(what, format!("must be a finite number ≥ 0, got {v}")))
    }
}

/// Errors unless `n > 0`: [`Error::ZeroCount`] naming `what`.
pub fn check_count(what: &str, n: usize) -> Result<()> {
    if n == 0 {
        Err(Error::ZeroCount { what: what.into() })
    } else {
        Ok(())
    }
}

/// Errors unless every entry of a parameter list is finite: [`Error::InvalidParameter`]
/// naming `what` and the first bad entry.
pub fn check_finite_entries(what: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|a| !a.is_finite()) {
        None => Ok(()),
        Some(k) => Err(Error::invalid(what, format!("entry {k} is {}; all entries must be finite", v[k]))),
    }
}

/// Errors unless every coordinate of an input vector is finite: [`Error::NonFinite`]
/// naming `what` and the first bad coordinate.
pub fn check_finite_input(what: &str, x: &[f64]) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(k) => Err(Error::NonFinite { what: what.to_string(), detail: format!("coordinate {k} is {}", x[k]) }),
    }
}

/// Weights wₖ ≥ 0 divided by their sum, so that they sum to 1.
///
/// Errors: [`Error::InvalidParameter`] naming `what` for a negative or non-finite
/// weight, or weights whose sum is 0 or not finite.
pub fn normalise_weights(w: &[f64], what: &str) -> Result<Vec<f64>> {
    if let Some(k) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::invalid(what, format!("weight {k} is {}; weights must be finite and ≥ 0", w[k])));
    }
    let total: f64 = w.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(Error::invalid(what, format!("sum to {total}; they must sum to a finite positive number")));
    }
    Ok(w.iter().map(|v| v / total).collect())
}

/// Least-squares slope of ln y against ln x over `(x, y)` pairs: the order p of y ∝ xᵖ.
pub fn log_log_slope(series: &[(f64, f64)]) -> f64 {
    let n = series.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = series.iter().map(|(x, y)| (x.ln(), y.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// A symmetric positive-definite matrix Σ = L Lᵀ, factored once by nalgebra's Cholesky.
///
/// ```text
/// ln det Σ = 2 Σᵢ ln Lᵢᵢ,     L⁻¹ r by forward substitution,     Σ⁻¹ r = L⁻ᵀ L⁻¹ r
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Cholesky {
    l: DMatrix<f64>,
    log_det: f64,
}

impl Cholesky {
    /// Factors the row-major `d × d` matrix `a` (only its lower triangle is read).
    ///
    /// `None` when `a` is not positive definite (a pivot is zero, negative or not finite).
    pub fn new(a: &[f64], d: usize) -> Option<Cholesky> {
        assert_eq!(a.len(), d * d, "Cholesky::new: a {d} x {d} matrix has {} numbers", d * d);
        let l = nalgebra::Cholesky::new(DMatrix::from_row_slice(d, d, a))?.unpack();
        let diag_ok = (0..d).all(|i| l[(i, i)].is_finite() && l[(i, i)] > 0.0);
        if !diag_ok || l.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let log_det = 2.0 * (0..d).map(|i| l[(i, i)].ln()).sum::<f64>();
        Some(Cholesky { l, log_det })
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.l.nrows()
    }

    /// ln det Σ.
    pub fn log_det(&self) -> f64 {
        self.log_det
    }

    /// The lower-triangular factor L, row-major `d × d`.
    pub fn lower_row_major(&self) -> Vec<f64> {
        self.l.transpose().as_slice().to_vec()
    }

    /// `out = L z` (used to draw x = μ + L z with z ~ N(0, I)).
    pub fn mul_lower(&self, z: &[f64], out: &mut [f64]) {
        let d = self.dim();
        DVectorViewMut::from_slice(out, d).gemv(1.0, &self.l, &DVectorView::from_slice(z, d), 0.0);
    }

    /// `y = L⁻¹ r`; returns ‖y‖² = rᵀ Σ⁻¹ r.
    pub fn whiten(&self, r: &[f64], y: &mut [f64]) -> f64 {
        let d = self.dim();
        y.copy_from_slice(r);
        self.l.solve_lower_triangular_mut(&mut DVectorViewMut::from_slice(y, d));
        y.iter().map(|v| v * v).sum()
    }

    /// `y = Σ⁻¹ r`; returns rᵀ Σ⁻¹ r.
    pub fn solve(&self, r: &[f64], y: &mut [f64]) -> f64 {
        let q = self.whiten(r, y);
        let d = self.dim();
        self.l.tr_solve_lower_triangular_mut(&mut DVectorViewMut::from_slice(y, d));
        q
    }
}
