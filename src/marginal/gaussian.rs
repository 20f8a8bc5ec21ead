//! The exact marginal field between two Gaussians under the independent coupling, and its flow map.
//!
//! ```text
//! x_t = (1 − t) x₀ + t x₁,   x₀ ~ N(μ₀, Σ₀) ⊥ x₁ ~ N(μ₁, Σ₁)   ⇒   x_t ~ N(μ_t, Σ_t)
//! μ_t = (1 − t) μ₀ + t μ₁,    Σ_t = (1 − t)² Σ₀ + t² Σ₁
//! u_t(x) = E[x₁ − x₀ | x_t = x] = μ₁ − μ₀ + M_t (x − μ_t),    M_t = (t Σ₁ − (1 − t) Σ₀) Σ_t⁻¹
//! flow map:  Φ(x₀) = μ₁ + A (x₀ − μ₀),    dA/dt = M_t A,  A(0) = I
//! ```
//!
//! The field is affine, so its flow map is affine too, with the matrix A of a
//! linear matrix ODE. When Σ₀ = I every M_t is a function of Σ₁, they all
//! commute, and A = Σ₁^½: the flow is the optimal transport map
//! ([`crate::ot::gaussian_ot_matrix`]), even though its paths are not straight
//! lines travelled at constant speed. When Σ₀ and Σ₁ do not commute, A is not
//! symmetric, so it is not the OT map: Flow Matching with independent pairs
//! transports, but not optimally.

use crate::error::{Error, Result};
use crate::field::{Time, VectorField};
use crate::points::Points;
use nalgebra::{DMatrix, DVector};

/// The marginal velocity of the CondOT path between N(μ₀, Σ₀) and N(μ₁, Σ₁) with
/// independent pairs (the module formulas). A [`VectorField`].
#[derive(Clone, Debug)]
pub struct GaussianBridge {
    mean0: DVector<f64>,
    cov0: DMatrix<f64>,
    mean1: DVector<f64>,
    cov1: DMatrix<f64>,
}

impl GaussianBridge {
    /// The bridge from N(`mean0`, `cov0`) to N(`mean1`, `cov1`); covariances row-major d × d.
    ///
    /// Errors: lengths that disagree, non-finite entries, or a Σ₀ that is not
    /// positive definite (Σ_t must be invertible on [0, 1)).
    pub fn new(mean0: &[f64], cov0: &[f64], mean1: &[f64], cov1: &[f64]) -> Result<Self> {
        let d = mean0.len();
        if d == 0 || mean1.len() != d || cov0.len() != d * d || cov1.len() != d * d {
            return Err(Error::shape(
                "GaussianBridge::new",
                format!("two means of one length d ≥ 1 and two d × d covariances (d = {d})"),
                format!(
                    "means of length {} and {}, covariances of {} and {} entries",
                    d,
                    mean1.len(),
                    cov0.len(),
                    cov1.len()
                ),
            ));
        }
        crate::numeric::check_finite_entries(
            "the means and covariances of GaussianBridge",
            &[mean0, cov0, mean1, cov1].concat(),
        )?;
        let cov0 = DMatrix::from_row_slice(d, d, cov0);
        if cov0.clone().cholesky().is_none() {
            return Err(Error::invalid("Σ₀ of GaussianBridge", "it must be symmetric positive definite"));
        }
        Ok(GaussianBridge {
            mean0: DVector::from_column_slice(mean0),
            cov0,
            mean1: DVector::from_column_slice(mean1),
            cov1: DMatrix::from_row_slice(d, d, cov1),
        })
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.mean0.len()
    }

    /// M_t = (t Σ₁ − (1 − t) Σ₀) Σ_t⁻¹, the matrix of the field at time t.
    pub fn matrix(&self, t: f64) -> Result<DMatrix<f64>> {
        let cov_t = &self.cov0 * ((1.0 - t) * (1.0 - t)) + &self.cov1 * (t * t);
        let inv = cov_t.try_inverse().ok_or_else(|| {
            Error::invalid("time of GaussianBridge", format!("Σ_t is singular at t = {t} (Σ₁ singular and t = 1?)"))
        })?;
        Ok((&self.cov1 * t - &self.cov0 * (1.0 - t)) * inv)
    }

    /// The matrix A of the flow map Φ(x₀) = μ₁ + A (x₀ − μ₀), by `steps` RK4 steps of dA/dt = M_t A.
    ///
    /// RK4 is fourth-order: 1 000 steps give A to about 10⁻¹² here.
    pub fn flow_matrix(&self, steps: usize) -> Result<DMatrix<f64>> {
        crate::numeric::check_count("steps of GaussianBridge::flow_matrix", steps)?;
        let h = 1.0 / steps as f64;
        let mut a = DMatrix::identity(self.dim(), self.dim());
        for k in 0..steps {
            let t = k as f64 * h;
            let (m0, mh, m1) = (self.matrix(t)?, self.matrix(t + 0.5 * h)?, self.matrix(t + h)?);
            let k1 = &m0 * &a;
            let k2 = &mh * (&a + &k1 * (0.5 * h));
            let k3 = &mh * (&a + &k2 * (0.5 * h));
            let k4 = &m1 * (&a + &k3 * h);
            a += (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0);
        }
        Ok(a)
    }
}

impl VectorField for GaussianBridge {
    fn eval_into(&self, x: &Points, t: Time<'_>, out: &mut Points) -> Result<()> {
        let d = self.dim();
        if x.dim() != d {
            return Err(Error::shape(
                "GaussianBridge::eval",
                format!("points of dimension {d}"),
                format!("dimension {}", x.dim()),
            ));
        }
        let t = t.rows(x.len(), "GaussianBridge::eval")?;
        let mut cached: Option<(f64, DMatrix<f64>)> = None;
        for i in 0..x.len() {
            let ti = t.at(i);
            if cached.as_ref().is_none_or(|(tc, _)| *tc != ti) {
                cached = Some((ti, self.matrix(ti)?));
            }
            let m = &cached.as_ref().expect("just set").1;
            let mean_t = &self.mean0 * (1.0 - ti) + &self.mean1 * ti;
            let r = DVector::from_column_slice(x.row(i)) - mean_t;
            let u = &self.mean1 - &self.mean0 + m * r;
            out.row_mut(i).copy_from_slice(u.as_slice());
        }
        Ok(())
    }
}
