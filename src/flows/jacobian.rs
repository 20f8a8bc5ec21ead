//! Jacobians by central differences and log-determinants by LU (nalgebra): the checks every
//! layer's closed-form log-determinant is held to, and the cost a general flow would pay.
//!
//! ```text
//! J_ij ≈ (f_i(z + h e_j) − f_i(z − h e_j)) / 2h          (error O(h²) + O(ε/h); h = 1e-5 gives ~1e-10)
//! A = P⁻¹ L U  ⇒  ln |det A| = Σ_i ln |U_ii|              (no overflow, whatever d)
//! ```

use super::Bijector;
use nalgebra::{DMatrix, Dyn, LU};

/// The step of [`central_difference`] used by [`numerical_log_det`].
pub const FD_STEP: f64 = 1e-5;

/// The d × d Jacobian ∂f_i/∂z_j of `f` at `z` by central differences with step `h`;
/// `f(z, out)` writes f(z) into `out` (d numbers).
pub fn central_difference(f: impl Fn(&[f64], &mut [f64]), z: &[f64], h: f64) -> DMatrix<f64> {
    let d = z.len();
    let mut j = DMatrix::zeros(d, d);
    let (mut zp, mut zm) = (z.to_vec(), z.to_vec());
    let (mut fp, mut fm) = (vec![0.0; d], vec![0.0; d]);
    for c in 0..d {
        zp[c] = z[c] + h;
        zm[c] = z[c] - h;
        f(&zp, &mut fp);
        f(&zm, &mut fm);
        for r in 0..d {
            j[(r, c)] = (fp[r] - fm[r]) / (zp[c] - zm[c]);
        }
        zp[c] = z[c];
        zm[c] = z[c];
    }
    j
}

/// ln |det A| from A's LU factors: Σ_i ln |U_ii| (−∞ when A is singular).
pub fn log_abs_det_lu(lu: &LU<f64, Dyn, Dyn>) -> f64 {
    lu.u().diagonal().iter().map(|u| u.abs().ln()).sum()
}

/// ln |det A| for a square matrix, by nalgebra's LU decomposition with partial pivoting.
pub fn log_abs_det(a: &DMatrix<f64>) -> f64 {
    log_abs_det_lu(&a.clone().lu())
}

/// ln |det ∂f/∂z| of a layer at `z`, from its Jacobian by central differences (step [`FD_STEP`])
/// and LU: what the layer's own closed-form log-determinant must agree with.
pub fn numerical_log_det(layer: &dyn Bijector, z: &[f64]) -> f64 {
    log_abs_det(&central_difference(
        |z, x| {
            layer.forward_point(z, x);
        },
        z,
        FD_STEP,
    ))
}
