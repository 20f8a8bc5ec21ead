//! The planar layer (Rezende & Mohamed, 2015): a ridge pushed along one direction.
//!
//! ```text
//! f(z) = z + û h(wᵀz + b),   h = tanh
//! ∂f/∂z = I + û ψᵀ,  ψ = h'(wᵀz + b) w    ⇒   det = 1 + ûᵀψ = 1 + h'(wᵀz + b) ûᵀw      (matrix determinant lemma)
//! invertible ⇔ ûᵀw ≥ −1;   û = u + (m(wᵀu) − wᵀu) w/‖w‖²,  m(a) = −1 + softplus(a)   ⇒   wᵀû = m(wᵀu) > −1
//! inverse: with α = wᵀz and y = wᵀx:   α + (wᵀû) h(α + b) = y   (monotone in α),   z = x − û h(α + b)
//! ```
//!
//! [`Planar::new`] applies the reparametrisation, so every (u, w, b) gives an invertible layer;
//! [`Planar::unconstrained`] switches it off (û = u) to show what goes wrong: with wᵀu < −1 the
//! layer folds the space, some points have several preimages and the determinant crosses 0.

use super::root::{self, solve_monotone, ROOT_TOL};
use super::{check_vector, dot, softplus, Bijector};
use crate::error::{Error, Result};

/// A planar layer f(z) = z + û tanh(wᵀz + b) in d dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Planar {
    u: Vec<f64>,
    w: Vec<f64>,
    b: f64,
    constrained: bool,
    /// The effective û (= u when unconstrained).
    u_hat: Vec<f64>,
}

impl Planar {
    /// A planar layer with the invertibility reparametrisation on: û is u moved along w until
    /// wᵀû = −1 + softplus(wᵀu) > −1. `u` and `w` have the same length d ≥ 1.
    pub fn new(u: Vec<f64>, w: Vec<f64>, b: f64) -> Result<Planar> {
        if u.is_empty() {
            return Err(Error::ZeroCount { what: "the dimension of a planar layer".into() });
        }
        check_vector("the planar layer's u", &u, u.len())?;
        check_vector("the planar layer's w", &w, u.len())?;
        if !b.is_finite() {
            return Err(Error::invalid("the planar layer's b", format!("{b} must be finite")));
        }
        let mut p = Planar { u_hat: u.clone(), u, w, b, constrained: true };
        p.u_hat = p.effective_u();
        Ok(p)
    }

    /// The same layer with the reparametrisation switched off (û = u): invertible only when wᵀu ≥ −1.
    pub fn unconstrained(mut self) -> Planar {
        self.constrained = false;
        self.u_hat = self.u.clone();
        self
    }

    /// û = u + (m(wᵀu) − wᵀu) w/‖w‖² with m(a) = −1 + softplus(a) (u itself when unconstrained or w = 0).
    fn effective_u(&self) -> Vec<f64> {
        let ww = dot(&self.w, &self.w);
        if !self.constrained || ww == 0.0 {
            return self.u.clone();
        }
        let a = dot(&self.w, &self.u);
        let c = (-1.0 + softplus(a) - a) / ww;
        self.u.iter().zip(&self.w).map(|(u, w)| u + c * w).collect()
    }

    /// The vector û the layer moves along.
    pub fn u_hat(&self) -> &[f64] {
        &self.u_hat
    }

    /// The raw parameter u.
    pub fn u(&self) -> &[f64] {
        &self.u
    }

    /// The normal w of the layer's hyperplanes.
    pub fn w(&self) -> &[f64] {
        &self.w
    }

    /// The offset b.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// Whether the invertibility reparametrisation is on.
    pub fn is_constrained(&self) -> bool {
        self.constrained
    }

    /// wᵀû: the layer is invertible when it is ≥ −1.
    pub fn w_dot_u_hat(&self) -> f64 {
        dot(&self.w, &self.u_hat)
    }

    /// g(α) = α + (wᵀû) tanh(α + b) − y and g'(α), the scalar equation of the inverse.
    fn scalar_eq(&self, y: f64) -> impl Fn(f64) -> (f64, f64) + '_ {
        let k = self.w_dot_u_hat();
        move |a| {
            let h = (a + self.b).tanh();
            (a + k * h - y, 1.0 + k * (1.0 - h * h))
        }
    }

    /// Every z with f(z) = x, found by scanning the scalar equation of the inverse for sign
    /// changes. One point for an invertible layer; up to three where a folding layer
    /// (wᵀû < −1) maps several points onto x.
    pub fn preimages(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let y = dot(&self.w, x);
        let k = self.w_dot_u_hat().abs();
        let g = self.scalar_eq(y);
        root::all_roots(|a| g(a).0, y - k - 1e-9, y + k + 1e-9, 20_000)
            .into_iter()
            .map(|a| {
                let h = (a + self.b).tanh();
                x.iter().zip(&self.u_hat).map(|(xi, ui)| xi - ui * h).collect()
            })
            .collect()
    }
}

impl Bijector for Planar {
    fn dim(&self) -> usize {
        self.u.len()
    }

    fn name(&self) -> String {
        if self.constrained {
            "planar".into()
        } else {
            "planar (unconstrained)".into()
        }
    }

    /// x = z + û tanh(wᵀz + b); ln |1 + (1 − tanh²(wᵀz + b)) ûᵀw|.
    fn forward_point(&self, z: &[f64], x: &mut [f64]) -> f64 {
        let h = (dot(&self.w, z) + self.b).tanh();
        for ((xi, zi), ui) in x.iter_mut().zip(z).zip(&self.u_hat) {
            *xi = zi + ui * h;
        }
        (1.0 + (1.0 - h * h) * self.w_dot_u_hat()).abs().ln()
    }

    /// Solves α + (wᵀû) tanh(α + b) = wᵀx for α = wᵀz (safeguarded Newton on the bracket
    /// wᵀx ± |wᵀû|), then z = x − û tanh(α + b).
    fn inverse_point(&self, x: &[f64], z: &mut [f64]) -> Result<f64> {
        let y = dot(&self.w, x);
        let k = self.w_dot_u_hat();
        let a = solve_monotone(self.scalar_eq(y), y - k.abs(), y + k.abs(), ROOT_TOL).map_err(|e| match e {
            Error::SolverFailed { reason } => Error::SolverFailed {
                reason: format!(
                    "the planar inverse at x = {x:?} failed ({reason}); with wᵀû = {k:.4} < −1 the layer is not \
                     invertible: build it with Planar::new (constrained) instead of .unconstrained()"
                ),
            },
            other => other,
        })?;
        let h = (a + self.b).tanh();
        for ((zi, xi), ui) in z.iter_mut().zip(x).zip(&self.u_hat) {
            *zi = xi - ui * h;
        }
        Ok(-(1.0 + (1.0 - h * h) * k).abs().ln())
    }

    fn box_clone(&self) -> Box<dyn Bijector> {
        Box::new(self.clone())
    }
}
