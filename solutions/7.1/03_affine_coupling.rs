//! Exercise 7.1.3 · 20 points: an affine coupling layer, both ways.
//!
//! A coupling layer splits a point v of dimension d in two. The first
//! k = ⌈d/2⌉ coordinates pass through unchanged and are handed to the
//! conditioner, which returns one log-scale s_j and one shift t_j for each of
//! the other d − k coordinates. The forward map multiplies the second half by
//! exp(s) and then adds t.
//!
//! Write the forward map and its inverse, each with its log |det J|.
//!
//! Grade it: `cargo run --release --bin course -- grade affine_coupling`.

/// The coupling layer applied to `v`: the forward map when `inverse` is false, its inverse when
/// true. Returns the d output coordinates and log |det J| of the map applied (forward: of
/// ∂x/∂z; inverse: of ∂z/∂x). `conditioner(&v[..k])` returns `(s, t)`, each of length d − k.
pub fn affine_coupling(
    v: &[f64],
    conditioner: &dyn Fn(&[f64]) -> (Vec<f64>, Vec<f64>),
    inverse: bool,
) -> (Vec<f64>, f64) {
    // BEGIN SOLUTION
    let k = v.len().div_ceil(2);
    // The first half is the same on both sides, so the conditioner sees the same input either way.
    let (s, t) = conditioner(&v[..k]);
    let mut out = v.to_vec();
    for j in 0..v.len() - k {
        out[k + j] = if inverse {
            // Undo the last operation first: remove the shift, then the scale.
            (v[k + j] - t[j]) * (-s[j]).exp()
        } else {
            v[k + j] * s[j].exp() + t[j]
        };
    }
    // The Jacobian is triangular with exp(±s_j) on the diagonal of the moved half.
    let log_det: f64 = s.iter().sum();
    (out, if inverse { -log_det } else { log_det })
    // END SOLUTION
}
