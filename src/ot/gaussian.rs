//! Optimal transport between two Gaussians, in closed form.
//!
//! ```text
//! T(x) = μ₁ + A (x − μ₀),     A = Σ₀^{-½} (Σ₀^{½} Σ₁ Σ₀^{½})^{½} Σ₀^{-½}       (symmetric positive definite)
//! W2²(N(μ₀, Σ₀), N(μ₁, Σ₁)) = ‖μ₀ − μ₁‖² + tr Σ₀ + tr Σ₁ − 2 tr (Σ₀^{½} Σ₁ Σ₀^{½})^{½}
//! ```
//!
//! Among all linear maps that push N(0, Σ₀) to N(0, Σ₁) (every A with
//! A Σ₀ Aᵀ = Σ₁), the optimal one is the only symmetric positive definite one.
//! For Σ₀ = I it is simply Σ₁^{½}.

use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// The symmetric square root S^{½} of a symmetric positive semi-definite matrix (by eigendecomposition).
pub fn sqrtm_psd(s: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    check_covariance(s, "sqrtm_psd")?;
    let eig = s.clone().symmetric_eigen();
    let d = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    Ok(&eig.eigenvectors * DMatrix::from_diagonal(&d) * eig.eigenvectors.transpose())
}

/// The matrix A of the optimal transport map between N(μ₀, Σ₀) and N(μ₁, Σ₁) (see the module formula).
///
/// Errors: matrices that are not square and of the same size, not symmetric, or (Σ₀) not positive definite.
pub fn gaussian_ot_matrix(cov0: &DMatrix<f64>, cov1: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    check_covariance(cov0, "gaussian_ot_matrix (Σ₀)")?;
    check_covariance(cov1, "gaussian_ot_matrix (Σ₁)")?;
    if cov0.nrows() != cov1.nrows() {
        return Err(Error::shape(
            "gaussian_ot_matrix (both covariances live in the same space)",
            format!("a {0} × {0} Σ₁", cov0.nrows()),
            format!("{} × {}", cov1.nrows(), cov1.ncols()),
        ));
    }
    let r = sqrtm_psd(cov0)?;
    let r_inv = r.clone().try_inverse().filter(|m| m.iter().all(|v| v.is_finite())).ok_or_else(|| {
        Error::invalid(
            "Σ₀ of gaussian_ot_matrix",
            "it is singular; the source must have a positive definite covariance",
        )
    })?;
    let middle = sqrtm_psd(&(&r * cov1 * &r))?;
    let a = &r_inv * middle * &r_inv;
    // Symmetrise away rounding.
    Ok((&a + a.transpose()) * 0.5)
}

/// W2² between N(μ₀, Σ₀) and N(μ₁, Σ₁) (the Bures–Wasserstein formula above).
pub fn gaussian_w2_squared(mean0: &[f64], cov0: &DMatrix<f64>, mean1: &[f64], cov1: &DMatrix<f64>) -> Result<f64> {
    check_covariance(cov0, "gaussian_w2_squared (Σ₀)")?;
    check_covariance(cov1, "gaussian_w2_squared (Σ₁)")?;
    let d = cov0.nrows();
    if mean0.len() != d || mean1.len() != d || cov1.nrows() != d {
        return Err(Error::shape(
            "gaussian_w2_squared",
            format!("means of length {d} and a {d} × {d} Σ₁"),
            format!("means of length {} and {}, Σ₁ {} × {}", mean0.len(), mean1.len(), cov1.nrows(), cov1.ncols()),
        ));
    }
    let r = sqrtm_psd(cov0)?;
    let cross = sqrtm_psd(&(&r * cov1 * &r))?;
    let dm: f64 = mean0.iter().zip(mean1).map(|(a, b)| (a - b) * (a - b)).sum();
    Ok((dm + cov0.trace() + cov1.trace() - 2.0 * cross.trace()).max(0.0))
}

fn check_covariance(s: &DMatrix<f64>, what: &str) -> Result<()> {
    if s.nrows() != s.ncols() || s.nrows() == 0 {
        return Err(Error::shape(what, "a non-empty square matrix", format!("{} × {}", s.nrows(), s.ncols())));
    }
    if s.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what: what.into(), detail: "a matrix entry".into() });
    }
    let asym = (s - s.transpose()).amax();
    if asym > 1e-9 * s.amax().max(1.0) {
        return Err(Error::invalid(what, format!("the matrix is not symmetric (largest |S − Sᵀ| entry {asym:.2e})")));
    }
    Ok(())
}
