//! The radial layer (Rezende & Mohamed, 2015): space contracted towards, or pushed away from,
//! one point z₀.
//!
//! ```text
//! f(z) = z + β h(r) (z − z₀),   r = ‖z − z₀‖,   h(r) = 1/(α + r),   α > 0
//! log |det ∂f/∂z| = (d − 1) ln(1 + β h) + ln(1 + β h + β h'(r) r) = (d − 1) ln(1 + β/(α + r)) + ln(1 + αβ/(α + r)²)
//! invertible ⇔ β ≥ −α
//! inverse: ‖x − z₀‖ = r' = r (1 + β/(α + r))   ⇔   r² + (α + β − r') r − α r' = 0   (one root r ≥ 0),
//!          z = z₀ + (x − z₀) r / r'
//! ```

use super::{check_vector, softplus, Bijector};
use crate::error::{Error, Result};

/// A radial layer f(z) = z + β (z − z₀)/(α + ‖z − z₀‖) in d dimensions, with α > 0 and β ≥ −α.
#[derive(Clone, Debug, PartialEq)]
pub struct Radial {
    z0: Vec<f64>,
    alpha: f64,
    beta: f64,
}

impl Radial {
    /// A radial layer centred at `z0` with α > 0 and β ≥ −α (the condition for invertibility).
    pub fn new(z0: Vec<f64>, alpha: f64, beta: f64) -> Result<Radial> {
        if z0.is_empty() {
            return Err(Error::ZeroCount { what: "the dimension of a radial layer".into() });
        }
        check_vector("the radial layer's centre z0", &z0, z0.len())?;
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::invalid("the radial layer's α", format!("{alpha} must be finite and > 0")));
        }
        if !(beta.is_finite() && beta >= -alpha) {
            return Err(Error::invalid(
                "the radial layer's β",
                format!("{beta} must be finite and ≥ −α = {} for the layer to be invertible", -alpha),
            ));
        }
        Ok(Radial { z0, alpha, beta })
    }

    /// The layer with α = softplus(a) and β = −α + softplus(b): every (a, b) gives an invertible
    /// layer (the parametrisation a trained radial layer uses).
    pub fn from_unconstrained(z0: Vec<f64>, a: f64, b: f64) -> Result<Radial> {
        let alpha = softplus(a);
        Radial::new(z0, alpha, -alpha + softplus(b))
    }

    /// The centre z₀.
    pub fn z0(&self) -> &[f64] {
        &self.z0
    }

    /// α > 0.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// β ≥ −α.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// ln |det ∂f/∂z| at distance r from the centre.
    fn log_det_at(&self, r: f64) -> f64 {
        let d = self.z0.len() as f64;
        let q = self.alpha + r;
        (d - 1.0) * (1.0 + self.beta / q).ln() + (1.0 + self.alpha * self.beta / (q * q)).ln()
    }
}

impl Bijector for Radial {
    fn dim(&self) -> usize {
        self.z0.len()
    }

    fn name(&self) -> String {
        "radial".into()
    }

    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        let r = z.iter().zip(&self.z0).map(|(a, c)| (a - c) * (a - c)).sum::<f64>().sqrt();
        let f = self.beta / (self.alpha + r);
        for ((xi, zi), ci) in x.iter_mut().zip(z).zip(&self.z0) {
            *xi = zi + f * (zi - ci);
        }
        self.log_det_at(r)
    }

    /// The radius r of z solves r² + (α + β − r') r − α r' = 0 with r' = ‖x − z₀‖; the root
    /// r = 2αr' / (B + √(B² + 4αr')) when B = α + β − r' > 0 (no cancellation), else (−B + √…)/2.
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        let rp = x.iter().zip(&self.z0).map(|(a, c)| (a - c) * (a - c)).sum::<f64>().sqrt();
        let b = self.alpha + self.beta - rp;
        let disc = (b * b + 4.0 * self.alpha * rp).sqrt();
        let r = if b > 0.0 { 2.0 * self.alpha * rp / (b + disc) } else { 0.5 * (disc - b) };
        let ratio = if rp > 0.0 { r / rp } else { 0.0 };
        for ((zi, xi), ci) in z.iter_mut().zip(x).zip(&self.z0) {
            *zi = ci + (xi - ci) * ratio;
        }
        Ok(-self.log_det_at(r))
    }

    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }
}
