//! Exercise 7.1.1 · 10 points: the density of an affine map of the plane.
//!
//! Draw z from the standard Gaussian in two dimensions and push it through the
//! invertible affine map x = A z + c. The points x follow a new density p_X.
//! Write log p_X(x) using the change of variables (no library calls for it:
//! work out the 2 × 2 inverse and determinant yourself).
//!
//! Grade it: `cargo run --release --bin course -- grade affine_log_density`
//! (add `--hint 2` to see the formula after a failed attempt).

/// log p_X(x) for x = A z + c with z ~ N(0, I₂): `a[i][j]` is row i, column j of A (det A ≠ 0,
/// possibly negative), `c` the shift. Example: A = 2·I, c = 0, x = 0 gives
/// −ln(2π) − ln 4 ≈ −3.2242.
pub fn affine_log_density(x: &[f64], a: [[f64; 2]; 2], c: [f64; 2]) -> f64 {
    // BEGIN SOLUTION
    // Go back to the z that produced x: z = A⁻¹(x − c), with the 2 × 2 inverse written out.
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    let r = [x[0] - c[0], x[1] - c[1]];
    let z = [(a[1][1] * r[0] - a[0][1] * r[1]) / det, (-a[1][0] * r[0] + a[0][0] * r[1]) / det];
    // Score z under N(0, I₂), then divide the density by the area stretch |det A|.
    let log_base = -0.5 * (z[0] * z[0] + z[1] * z[1]) - (2.0 * std::f64::consts::PI).ln();
    log_base - det.abs().ln()
    // END SOLUTION
}
