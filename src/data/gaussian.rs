//! The Gaussian family: N(0, I) and N(μ, Σ) with a full covariance.
//!
//! ```text
//! log N(x; μ, Σ) = −½‖L⁻¹(x − μ)‖² − ½ ln det Σ − (d/2) ln 2π,    Σ = L Lᵀ,   x = μ + L z, z ~ N(0, I)
//! ```

use super::{check_fill, check_query, identity, normal, Dataset};
use crate::error::{Error, Result};
use crate::numeric::{check_finite_entries, check_positive, Cholesky, LN_2PI};
use crate::points::Points;
use rand::RngCore;

// ---------------------------------------------------------------------------
// Gaussians
// ---------------------------------------------------------------------------

/// The standard normal N(0, I) in `dim` dimensions: the usual source p₀.
///
/// log p(x) = −½‖x‖² − (d/2) ln 2π.
#[derive(Clone, Debug, PartialEq)]
pub struct StandardGaussian {
    dim: usize,
}

impl StandardGaussian {
    /// N(0, I) in `dim ≥ 1` dimensions.
    pub fn new(dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::invalid("StandardGaussian dimension", "must be at least 1, got 0"));
        }
        Ok(StandardGaussian { dim })
    }
}

impl Default for StandardGaussian {
    /// N(0, I) in two dimensions.
    fn default() -> Self {
        StandardGaussian { dim: 2 }
    }
}

impl Dataset for StandardGaussian {
    fn dim(&self) -> usize {
        self.dim
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "gaussian".into()
    }
    /// Each coordinate is an independent N(0, 1) draw; labels are 0.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(self.dim, out, &labels)?;
        for v in out.as_mut_slice() {
            *v = normal(rng);
        }
        if let Some(l) = labels {
            l.fill(0);
        }
        Ok(())
    }
    /// log p(x) = −½‖x‖² − (d/2) ln 2π.
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(check_query(self.dim, x).map(|_| {
            let c = 0.5 * self.dim as f64 * LN_2PI;
            x.rows().map(|r| -0.5 * r.iter().map(|v| v * v).sum::<f64>() - c).collect()
        }))
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; self.dim])
    }
    /// Cov(x) = I.
    fn covariance(&self) -> Option<Vec<f64>> {
        Some(identity(self.dim, 1.0))
    }
}

/// A Gaussian N(μ, Σ) with full covariance, sampled as x = μ + L z with
/// Σ = L Lᵀ (Cholesky) and z ~ N(0, I).
///
/// log p(x) = −½‖L⁻¹(x − μ)‖² − ½ ln det Σ − (d/2) ln 2π, with
/// ln det Σ = 2 Σᵢ ln Lᵢᵢ.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    mean: Vec<f64>,
    cov: Vec<f64>,
    /// L, row-major (for [`Gaussian::cholesky`]).
    chol: Vec<f64>,
    factor: Cholesky,
}

impl Gaussian {
    /// N(μ, Σ) from the mean `mean` (length d) and the covariance `cov`
    /// (row-major d×d, symmetric positive definite).
    ///
    /// Errors: [`Error::ShapeMismatch`] when `cov` is not d×d,
    /// [`Error::InvalidParameter`] for an empty mean, a non-finite entry, an
    /// asymmetric matrix or one that is not positive definite.
    pub fn new(mean: Vec<f64>, cov: Vec<f64>) -> Result<Self> {
        let d = mean.len();
        if d == 0 {
            return Err(Error::invalid("Gaussian mean", "is empty; give at least one coordinate"));
        }
        if cov.len() != d * d {
            return Err(Error::shape(
                "the Gaussian covariance (row-major)",
                format!("{d} x {d} = {} numbers", d * d),
                format!("{} numbers", cov.len()),
            ));
        }
        check_finite_entries("Gaussian mean", &mean)?;
        check_finite_entries("Gaussian covariance", &cov)?;
        let scale = cov.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        for a in 0..d {
            for b in 0..a {
                let (x, y) = (cov[a * d + b], cov[b * d + a]);
                if (x - y).abs() > 1e-9 * scale {
                    return Err(Error::invalid(
                        "Gaussian covariance",
                        format!("is not symmetric: entry ({a},{b}) = {x} but ({b},{a}) = {y}"),
                    ));
                }
            }
        }
        let factor = Cholesky::new(&cov, d).ok_or_else(|| {
            Error::invalid(
                "Gaussian covariance",
                "is not positive definite (its Cholesky factorisation fails); use a symmetric matrix \
                 with positive eigenvalues, e.g. add a small multiple of the identity",
            )
        })?;
        Ok(Gaussian { chol: factor.lower_row_major(), mean, cov, factor })
    }

    /// N(μ, s² I): an isotropic Gaussian with per-coordinate standard deviation `std > 0`.
    pub fn isotropic(mean: Vec<f64>, std: f64) -> Result<Self> {
        check_positive("Gaussian standard deviation", std)?;
        let d = mean.len();
        Gaussian::new(mean, identity(d, std * std))
    }

    /// The mean μ.
    pub fn loc(&self) -> &[f64] {
        &self.mean
    }

    /// The covariance Σ, row-major d×d.
    pub fn cov(&self) -> &[f64] {
        &self.cov
    }

    /// The lower-triangular Cholesky factor L (Σ = L Lᵀ), row-major d×d.
    pub fn cholesky(&self) -> &[f64] {
        &self.chol
    }

    /// ln det Σ.
    pub fn log_det(&self) -> f64 {
        self.factor.log_det()
    }

    /// Writes μ + L z into `row`, drawing z ~ N(0, I) into the scratch `z`.
    pub(crate) fn draw(&self, row: &mut [f64], z: &mut [f64], rng: &mut dyn RngCore) {
        for v in z.iter_mut() {
            *v = normal(rng);
        }
        self.factor.mul_lower(z, row);
        for (r, m) in row.iter_mut().zip(&self.mean) {
            *r += m;
        }
    }

    /// log N(x; μ, Σ) for one point, solving L y = x − μ into the scratch `y` (`r` holds x − μ).
    pub(crate) fn log_pdf(&self, x: &[f64], r: &mut [f64], y: &mut [f64]) -> f64 {
        let d = self.mean.len();
        for ((ri, xi), m) in r.iter_mut().zip(x).zip(&self.mean) {
            *ri = xi - m;
        }
        let q = self.factor.whiten(r, y);
        -0.5 * q - 0.5 * self.factor.log_det() - 0.5 * d as f64 * LN_2PI
    }
}

impl Dataset for Gaussian {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "gaussian".into()
    }
    /// x = μ + L z, z ~ N(0, I); labels are 0.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(self.dim(), out, &labels)?;
        let mut z = vec![0.0; self.dim()];
        for row in out.rows_mut() {
            self.draw(row, &mut z, rng);
        }
        if let Some(l) = labels {
            l.fill(0);
        }
        Ok(())
    }
    /// log p(x) = −½‖L⁻¹(x − μ)‖² − ½ ln det Σ − (d/2) ln 2π.
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(check_query(self.dim(), x).map(|_| {
            let (mut r, mut y) = (vec![0.0; self.dim()], vec![0.0; self.dim()]);
            x.rows().map(|p| self.log_pdf(p, &mut r, &mut y)).collect()
        }))
    }
    /// E(x) = μ.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(self.mean.clone())
    }
    /// Cov(x) = Σ.
    fn covariance(&self) -> Option<Vec<f64>> {
        Some(self.cov.clone())
    }
}
