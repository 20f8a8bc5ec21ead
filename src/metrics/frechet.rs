//! The Fréchet distance between two sample sets, each summarised by a Gaussian.
//!
//! ```text
//! d²_F(a, b) = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})
//! ```
//!
//! This is W2² between the Gaussians N(μ_a, Σ_a) and N(μ_b, Σ_b) fitted to the two sets (sample
//! mean, unbiased sample covariance). Computed in the feature space of a trained classifier it
//! is the FID of Heusel et al. (2017); [`crate::nn::DigitClassifier::frechet`] does that for the
//! digits. The square roots of the symmetric positive semi-definite matrices come from nalgebra's
//! symmetric eigen-decomposition, S^{1/2} = V diag(√max(λ, 0)) Vᵀ (eigenvalues that rounding makes
//! slightly negative count as 0), so the trace term is Σ √max(λᵢ(Σ_a^{1/2} Σ_b Σ_a^{1/2}), 0).

use crate::error::{Error, Result};
use crate::points::Points;
use nalgebra::{DMatrix, DVector};

/// The Fréchet distance (squared, as FID reports it) between N(μ_a, Σ_a) and N(μ_b, Σ_b):
/// ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}).
///
/// Errors: [`Error::ShapeMismatch`] unless the means have one length d and both covariances
/// are d × d; [`Error::NonFinite`] for NaN/∞.
pub fn frechet_gaussians(
    mu_a: &DVector<f64>,
    cov_a: &DMatrix<f64>,
    mu_b: &DVector<f64>,
    cov_b: &DMatrix<f64>,
) -> Result<f64> {
    let d = mu_a.len();
    for (what, shape) in [("mu_b", (mu_b.len(), 1)), ("cov_a", cov_a.shape()), ("cov_b", cov_b.shape())] {
        let want = if what == "mu_b" { (d, 1) } else { (d, d) };
        if shape != want {
            return Err(Error::shape(
                format!("{what} of the Fréchet distance"),
                format!("{} × {} (the dimension of mu_a)", want.0, want.1),
                format!("{} × {}", shape.0, shape.1),
            ));
        }
    }
    if mu_a.iter().chain(mu_b.iter()).chain(cov_a.iter()).chain(cov_b.iter()).any(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "the means and covariances of the Fréchet distance".into(),
            detail: "a NaN or infinite entry".into(),
        });
    }
    let root_a = psd_sqrt(cov_a);
    let middle = &root_a * cov_b * &root_a;
    let cross: f64 = eigenvalues(&middle).iter().map(|l| l.max(0.0).sqrt()).sum();
    Ok((mu_a - mu_b).norm_squared() + cov_a.trace() + cov_b.trace() - 2.0 * cross)
}

/// The Fréchet distance between the Gaussians fitted to the rows of `a` and of `b` (sample mean,
/// unbiased sample covariance): see [`frechet_gaussians`]. A set against itself gives 0 (up to rounding).
///
/// Errors: [`Error::ShapeMismatch`] for dimensions that differ, [`Error::InvalidParameter`] for a
/// set of fewer than two points (no covariance), [`Error::NonFinite`] for NaN/∞.
pub fn frechet_distance(a: &Points, b: &Points) -> Result<f64> {
    if a.dim() != b.dim() {
        return Err(Error::shape(
            "the two sets of the Fréchet distance",
            format!("points of dimension {} in both", a.dim()),
            format!("dimension {} in the second", b.dim()),
        ));
    }
    let (mu_a, cov_a) = gaussian_fit(a, "the first set of the Fréchet distance")?;
    let (mu_b, cov_b) = gaussian_fit(b, "the second set of the Fréchet distance")?;
    frechet_gaussians(&mu_a, &cov_a, &mu_b, &cov_b)
}

/// The sample mean and the unbiased sample covariance of the rows of `x`.
fn gaussian_fit(x: &Points, what: &str) -> Result<(DVector<f64>, DMatrix<f64>)> {
    if x.len() < 2 {
        return Err(Error::invalid(what, format!("it has {} point(s); a covariance needs at least two", x.len())));
    }
    x.check_finite(what)?;
    let d = x.dim();
    Ok((DVector::from_vec(x.mean()), DMatrix::from_row_slice(d, d, &x.covariance())))
}

/// The eigenvalues of a symmetric matrix (its symmetric part, against rounding).
fn eigenvalues(m: &DMatrix<f64>) -> DVector<f64> {
    let sym = (m + m.transpose()) * 0.5;
    sym.symmetric_eigenvalues()
}

/// S^{1/2} = V diag(√max(λ, 0)) Vᵀ for a symmetric positive semi-definite S.
fn psd_sqrt(s: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = ((s + s.transpose()) * 0.5).symmetric_eigen();
    let roots = eig.eigenvalues.map(|l| l.max(0.0).sqrt());
    &eig.eigenvectors * DMatrix::from_diagonal(&roots) * eig.eigenvectors.transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_covariances_give_the_closed_form() {
        // Commuting covariances: d² = ‖μ_a − μ_b‖² + Σᵢ (√aᵢ − √bᵢ)².
        let (a, b) = ([1.0, 4.0, 0.25], [9.0, 1.0, 0.25]);
        let mu_a = DVector::from_vec(vec![0.0, 1.0, 2.0]);
        let mu_b = DVector::from_vec(vec![1.0, 1.0, 0.0]);
        let got = frechet_gaussians(
            &mu_a,
            &DMatrix::from_diagonal(&DVector::from_vec(a.to_vec())),
            &mu_b,
            &DMatrix::from_diagonal(&DVector::from_vec(b.to_vec())),
        )
        .unwrap();
        let want = 5.0 + a.iter().zip(&b).map(|(x, y): (&f64, &f64)| (x.sqrt() - y.sqrt()).powi(2)).sum::<f64>();
        assert!((got - want).abs() < 1e-10, "{got} vs {want}");
    }

    #[test]
    fn a_rotation_of_both_changes_nothing() {
        // d² is invariant under x ↦ Qx applied to both Gaussians; with non-commuting covariances
        // this checks the general formula against the diagonal one.
        let th = 0.7f64;
        let q = DMatrix::from_row_slice(2, 2, &[th.cos(), -th.sin(), th.sin(), th.cos()]);
        let da = DMatrix::from_diagonal(&DVector::from_vec(vec![2.0, 0.5]));
        let db = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0, 3.0]));
        let ma = DVector::from_vec(vec![1.0, 0.0]);
        let mb = DVector::from_vec(vec![0.0, 2.0]);
        let plain = frechet_gaussians(&ma, &da, &mb, &db).unwrap();
        // Rotate only b's covariance: the two no longer commute, and the answer changes.
        let turned = &q * &db * q.transpose();
        let mixed = frechet_gaussians(&ma, &da, &mb, &turned).unwrap();
        assert!((mixed - plain).abs() > 1e-3, "rotating one covariance changes d² ({mixed} vs {plain})");
        // Rotate both (covariances and means): the same d² as the axis-aligned pair.
        let both =
            frechet_gaussians(&(&q * &ma), &(&q * &da * q.transpose()), &(&q * &mb), &(&q * &db * q.transpose()))
                .unwrap();
        assert!((both - plain).abs() < 1e-10, "{both} vs {plain}");
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let m2 = DVector::zeros(2);
        let c2 = DMatrix::identity(2, 2);
        assert!(frechet_gaussians(&m2, &c2, &DVector::zeros(3), &c2).is_err());
        assert!(frechet_gaussians(&m2, &DMatrix::identity(3, 3), &m2, &c2).is_err());
        let a = Points::randn(10, 2, 0);
        assert!(frechet_distance(&a, &Points::randn(10, 3, 1)).is_err());
        assert!(frechet_distance(&a, &a.head(1)).is_err());
    }
}
