//! The layers with closed-form everything: permutations, ActNorm, a general affine map, and
//! any layer run backwards.
//!
//! ```text
//! Permutation:  x_i = z_{π(i)}                 log |det| = 0
//! ActNorm:      x = z ⊙ exp(s) + t              log |det| = Σ_i s_i
//! Affine:       x = A z + c                     log |det| = ln |det A| = Σ_i ln |U_ii|   (A = P⁻¹ L U, nalgebra)
//! Inverted(g):  x = g⁻¹(z)                      log |det| = −log |det ∂g/∂·| at x
//! ```

use super::{check_vector, Bijector};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// A fixed reordering of the coordinates: x_i = z_{π(i)}.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permutation {
    perm: Vec<usize>,
    inv: Vec<usize>,
}

impl Permutation {
    /// x_i = z_{perm(i)}; `perm` must hold every index 0..d once.
    pub fn new(perm: Vec<usize>) -> Result<Permutation> {
        let d = perm.len();
        let mut inv = vec![usize::MAX; d];
        for (i, &p) in perm.iter().enumerate() {
            if p >= d || inv[p] != usize::MAX {
                return Err(Error::invalid("permutation", format!("{perm:?} must hold each of 0..{d} exactly once")));
            }
            inv[p] = i;
        }
        if d == 0 {
            return Err(Error::ZeroCount { what: "the dimension of a permutation".into() });
        }
        Ok(Permutation { perm, inv })
    }

    /// normflows' "swap": the last d − ⌊d/2⌋ coordinates move to the front, x = (z_{⌊d/2⌋..}, z_{..⌊d/2⌋}).
    pub fn swap(dim: usize) -> Result<Permutation> {
        Permutation::new((0..dim).map(|i| (i + dim / 2) % dim.max(1)).collect())
    }

    /// The order reversed: x_i = z_{d−1−i}.
    pub fn reverse(dim: usize) -> Result<Permutation> {
        Permutation::new((0..dim).rev().collect())
    }

    /// π: x_i = z_{π(i)}.
    pub fn indices(&self) -> &[usize] {
        &self.perm
    }
}

impl Bijector for Permutation {
    fn dim(&self) -> usize {
        self.perm.len()
    }
    fn name(&self) -> String {
        "permutation".into()
    }
    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        for (xi, &p) in x.iter_mut().zip(&self.perm) {
            *xi = z[p];
        }
        0.0
    }
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        for (zi, &q) in z.iter_mut().zip(&self.inv) {
            *zi = x[q];
        }
        Ok(0.0)
    }
    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }
}

/// An elementwise affine layer x = z ⊙ exp(s) + t (Kingma & Dhariwal's ActNorm, 2018).
#[derive(Clone, Debug, PartialEq)]
pub struct ActNorm {
    log_scale: Vec<f64>,
    shift: Vec<f64>,
}

impl ActNorm {
    /// x = z ⊙ exp(`log_scale`) + `shift`.
    pub fn new(log_scale: Vec<f64>, shift: Vec<f64>) -> Result<ActNorm> {
        if log_scale.is_empty() {
            return Err(Error::ZeroCount { what: "the dimension of an ActNorm layer".into() });
        }
        check_vector("ActNorm's log-scale", &log_scale, log_scale.len())?;
        check_vector("ActNorm's shift", &shift, log_scale.len())?;
        Ok(ActNorm { log_scale, shift })
    }

    /// The data-dependent initialisation: t = the mean of `x`, exp(s) = its standard deviation per
    /// coordinate, so the inverse maps `x` to zero mean and unit variance.
    pub fn fitted_to(x: &crate::points::Points) -> Result<ActNorm> {
        if x.len() < 2 {
            return Err(Error::invalid("ActNorm::fitted_to", "needs at least two points to measure a spread"));
        }
        x.check_finite("the points ActNorm is fitted to")?;
        let mean = x.mean();
        let cov = x.covariance();
        let d = x.dim();
        let log_scale = (0..d).map(|i| 0.5 * cov[i * d + i].max(1e-300).ln()).collect();
        ActNorm::new(log_scale, mean)
    }

    /// s.
    pub fn log_scale(&self) -> &[f64] {
        &self.log_scale
    }

    /// t.
    pub fn shift(&self) -> &[f64] {
        &self.shift
    }
}

impl Bijector for ActNorm {
    fn dim(&self) -> usize {
        self.shift.len()
    }
    fn name(&self) -> String {
        "ActNorm".into()
    }
    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        for (i, xi) in x.iter_mut().enumerate() {
            *xi = z[i] * self.log_scale[i].exp() + self.shift[i];
        }
        self.log_scale.iter().sum()
    }
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        for (i, zi) in z.iter_mut().enumerate() {
            *zi = (x[i] - self.shift[i]) * (-self.log_scale[i]).exp();
        }
        Ok(-self.log_scale.iter().sum::<f64>())
    }
    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }
}

/// A general affine map x = A z + c with an invertible d × d matrix A, factored once by
/// nalgebra's LU decomposition (partial pivoting).
#[derive(Clone, Debug)]
pub struct Affine {
    a: DMatrix<f64>,
    c: Vec<f64>,
    lu: nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>,
    log_abs_det: f64,
}

impl PartialEq for Affine {
    fn eq(&self, other: &Self) -> bool {
        self.a == other.a && self.c == other.c
    }
}

impl Affine {
    /// x = A z + c for the row-major `d × d` matrix `a` and the shift `c` (length d).
    ///
    /// Errors with [`Error::InvalidParameter`] when A is singular (a zero pivot in its LU factors).
    pub fn new(a: &[f64], c: Vec<f64>) -> Result<Affine> {
        let d = c.len();
        if d == 0 {
            return Err(Error::ZeroCount { what: "the dimension of an affine layer".into() });
        }
        if a.len() != d * d {
            return Err(Error::shape(
                "the affine layer's matrix A",
                format!("{d} × {d} = {} numbers", d * d),
                format!("{}", a.len()),
            ));
        }
        crate::numeric::check_finite_entries("the affine layer's matrix A", a)?;
        check_vector("the affine layer's shift c", &c, d)?;
        let a = DMatrix::from_row_slice(d, d, a);
        let lu = a.clone().lu();
        let log_abs_det = super::jacobian::log_abs_det_lu(&lu);
        if !log_abs_det.is_finite() {
            return Err(Error::invalid(
                "the affine layer's matrix A",
                "it is singular (det A = 0), so x = A z + c has no inverse",
            ));
        }
        Ok(Affine { a, c, lu, log_abs_det })
    }

    /// ln |det A|.
    pub fn log_abs_det(&self) -> f64 {
        self.log_abs_det
    }

    /// A, row-major.
    pub fn matrix(&self) -> Vec<f64> {
        self.a.transpose().as_slice().to_vec()
    }

    /// c.
    pub fn shift(&self) -> &[f64] {
        &self.c
    }
}

impl Bijector for Affine {
    fn dim(&self) -> usize {
        self.c.len()
    }
    fn name(&self) -> String {
        "affine".into()
    }
    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        let v = &self.a * DVector::from_column_slice(z);
        for (i, xi) in x.iter_mut().enumerate() {
            *xi = v[i] + self.c[i];
        }
        self.log_abs_det
    }
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        let r = DVector::from_iterator(x.len(), x.iter().zip(&self.c).map(|(a, b)| a - b));
        let v = self.lu.solve(&r).ok_or_else(|| Error::invalid("the affine layer's inverse", "A is singular"))?;
        z.copy_from_slice(v.as_slice());
        Ok(-self.log_abs_det)
    }
    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }
}

/// A layer run backwards: forward is the inner layer's inverse and inverse its forward.
///
/// A trained planar or radial layer maps data towards noise (its cheap direction is the one
/// maximum likelihood needs); inside a [`Flow`](super::Flow), which maps noise to data, it sits
/// as `Inverted(layer)`. When the inner inverse fails, the forward map writes NaN.
#[derive(Clone, Debug)]
pub struct Inverted(pub Box<dyn Bijector>);

impl Bijector for Inverted {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn name(&self) -> String {
        format!("inverse of {}", self.0.name())
    }
    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        match self.0.inverse_point(z, x) {
            Ok(ld) => ld,
            Err(_) => {
                x.fill(f64::NAN);
                f64::NAN
            }
        }
    }
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        Ok(self.0.forward_point(x, z))
    }
    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }
}
