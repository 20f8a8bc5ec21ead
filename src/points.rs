//! [`Points`]: a set of `n` points in `d` dimensions, stored row by row in f64.
//!
//! ```text
//! X = (x₁, …, x_n)ᵀ ∈ ℝ^{n×d},   row i is the point xᵢ ∈ ℝᵈ
//! X + Y, X − Y, a·X                 (row by row; shapes must agree)
//! ```
//!
//! The maths core (datasets, paths, solvers, metrics, plots) passes point sets
//! around as `Points`. Models convert to and from f32 tensors at their edge.
//!
//! Arithmetic reads like the maths: `&x1 - &x0` is the CondOT velocity,
//! `&x + h * &u` an Euler step (or `x.plus_scaled(h, &u)`, which allocates
//! once). Two sets of different shapes never combine silently: the operators,
//! [`Points::add_scaled`] and [`Points::plus_scaled`] panic with a message that
//! names both shapes, in every build.

use crate::error::{Error, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::ops::{Add, AddAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// `n` points of dimension `dim`, row-major: point `i` is `data[i*dim .. (i+1)*dim]`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Points {
    n: usize,
    dim: usize,
    data: Vec<f64>,
}

impl Points {
    /// Wraps a row-major buffer of `n * dim` numbers.
    pub fn new(n: usize, dim: usize, data: Vec<f64>) -> Result<Self> {
        if dim == 0 {
            return Err(Error::ZeroCount { what: "the dimension of a point set".into() });
        }
        if data.len() != n * dim {
            return Err(Error::shape(
                "Points::new",
                format!("{n} x {dim} = {} numbers", n * dim),
                format!("{} numbers", data.len()),
            ));
        }
        Ok(Points { n, dim, data })
    }

    /// `n` points of dimension `dim`, all zero.
    pub fn zeros(n: usize, dim: usize) -> Self {
        assert!(dim > 0, "Points::zeros: the dimension must be at least 1");
        Points { n, dim, data: vec![0.0; n * dim] }
    }

    /// Builds points from `f(i, j)`, the j-th coordinate of point i.
    pub fn from_fn(n: usize, dim: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut p = Points::zeros(n, dim);
        for i in 0..n {
            for j in 0..dim {
                p.data[i * dim + j] = f(i, j);
            }
        }
        p
    }

    /// `n` draws of N(0, I) in `dim` dimensions from `StdRng::seed_from_u64(seed)`:
    /// the same points as `StandardGaussian::new(dim)?.sample(n, seed)?` (for n ≥ 1).
    pub fn randn(n: usize, dim: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Points::from_fn(n, dim, |_, _| rng.sample(StandardNormal))
    }

    /// `n` draws of the uniform distribution on [0, 1)^dim from `StdRng::seed_from_u64(seed)`,
    /// e.g. one time t ~ U(0, 1) per row: `Points::rand(n, 1, seed).as_slice()`.
    pub fn rand(n: usize, dim: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Points::from_fn(n, dim, |_, _| rng.gen::<f64>())
    }

    /// Builds points from rows that must all have the same length.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Result<Self> {
        let dim = rows.first().map(|r| r.as_ref().len()).unwrap_or(0);
        if dim == 0 {
            return Err(Error::ZeroCount { what: "the number of rows (and their length) in Points::from_rows".into() });
        }
        let mut data = Vec::with_capacity(rows.len() * dim);
        for (i, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            if r.len() != dim {
                return Err(Error::shape(
                    format!("row {i} of Points::from_rows"),
                    format!("{dim} numbers"),
                    format!("{}", r.len()),
                ));
            }
            data.extend_from_slice(r);
        }
        Ok(Points { n: rows.len(), dim, data })
    }

    /// Builds points from f32 numbers (what a dfdx model returns).
    pub fn from_f32(n: usize, dim: usize, data: &[f32]) -> Result<Self> {
        Points::new(n, dim, data.iter().map(|&v| v as f64).collect())
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.n
    }
    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Dimension of each point.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// `(n, dim)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.dim)
    }
    /// Point `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
    /// Point `i`, mutable.
    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.dim..(i + 1) * self.dim]
    }
    /// Iterates over the points.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f64> {
        self.data.chunks_exact(self.dim)
    }
    /// Iterates over the points, mutably.
    pub fn rows_mut(&mut self) -> std::slice::ChunksExactMut<'_, f64> {
        self.data.chunks_exact_mut(self.dim)
    }
    /// The row-major buffer.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
    /// The row-major buffer, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }
    /// Consumes the set and returns its buffer.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }
    /// The buffer as f32 (what a dfdx model takes).
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&v| v as f32).collect()
    }
    /// Coordinate `j` of every point.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.rows().map(|r| r[j]).collect()
    }
    /// The points whose indices are given, in that order.
    pub fn select(&self, idx: &[usize]) -> Points {
        let mut data = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Points { n: idx.len(), dim: self.dim, data }
    }
    /// The first `k` points (all of them if `k >= n`).
    pub fn head(&self, k: usize) -> Points {
        let k = k.min(self.n);
        Points { n: k, dim: self.dim, data: self.data[..k * self.dim].to_vec() }
    }

    /// Sample mean, one number per coordinate.
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.dim];
        for r in self.rows() {
            for (a, b) in m.iter_mut().zip(r) {
                *a += b;
            }
        }
        let n = self.n.max(1) as f64;
        m.iter_mut().for_each(|a| *a /= n);
        m
    }

    /// Unbiased sample covariance (divides by n − 1), row-major `dim x dim`.
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.dim;
        let m = self.mean();
        let mut c = vec![0.0; d * d];
        for r in self.rows() {
            for a in 0..d {
                for b in 0..d {
                    c[a * d + b] += (r[a] - m[a]) * (r[b] - m[b]);
                }
            }
        }
        let denom = (self.n.max(2) - 1) as f64;
        c.iter_mut().for_each(|v| *v /= denom);
        c
    }

    /// Errors if any coordinate is NaN or infinite; `what` names the set in the message.
    pub fn check_finite(&self, what: &str) -> Result<()> {
        match self.data.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(k) => Err(Error::NonFinite {
                what: what.to_string(),
                detail: format!("point {}, coordinate {} is {}", k / self.dim, k % self.dim, self.data[k]),
            }),
        }
    }

    /// Errors unless `other` has the same `(n, dim)`.
    pub fn check_same_shape(&self, other: &Points, what: &str) -> Result<()> {
        if self.shape() != other.shape() {
            return Err(Error::shape(
                what,
                format!("{} points of dimension {}", self.n, self.dim),
                format!("{} points of dimension {}", other.n, other.dim),
            ));
        }
        Ok(())
    }

    /// `self += a * other`.
    ///
    /// Panics when the shapes differ, naming both (in every build: a mismatch is
    /// a bug, never something to truncate silently).
    pub fn add_scaled(&mut self, a: f64, other: &Points) {
        self.assert_same_shape(other, "Points::add_scaled");
        for (x, y) in self.data.iter_mut().zip(&other.data) {
            *x += a * y;
        }
    }

    /// Panics unless `other` has the shape of `self`; the message names `op` and both shapes.
    #[track_caller]
    fn assert_same_shape(&self, other: &Points, op: &str) {
        if self.shape() != other.shape() {
            panic!(
                "shape mismatch in {op}: the left side has {} points of dimension {}, the right side {} points \
                 of dimension {}",
                self.n, self.dim, other.n, other.dim
            );
        }
    }

    /// Row i times `w[i]`: the per-row weighting of a batch, e.g. x_t = t ⊙ x₁ + (1 − t) ⊙ x₀
    /// with one time per row is `x1.scale_rows(&t) + x0.scale_rows(&one_minus_t)`.
    ///
    /// Panics unless there is one weight per row (the message names both counts).
    pub fn scale_rows(&self, w: &[f64]) -> Points {
        assert!(
            w.len() == self.n,
            "shape mismatch in Points::scale_rows: {} points but {} weights (one per point)",
            self.n,
            w.len()
        );
        Points::from_fn(self.n, self.dim, |i, j| w[i] * self.data[i * self.dim + j])
    }

    /// Returns `self + a * other` (panics, naming both shapes, when they differ).
    pub fn plus_scaled(&self, a: f64, other: &Points) -> Points {
        let mut out = self.clone();
        out.add_scaled(a, other);
        out
    }

    /// Stacks two sets with the same dimension, `self` first.
    pub fn concat(&self, other: &Points) -> Result<Points> {
        if self.dim != other.dim {
            return Err(Error::shape(
                "Points::concat",
                format!("dimension {}", self.dim),
                format!("dimension {}", other.dim),
            ));
        }
        let mut data = self.data.clone();
        data.extend_from_slice(&other.data);
        Ok(Points { n: self.n + other.n, dim: self.dim, data })
    }
}

// ---------------------------------------------------------------------------
// Arithmetic: X + Y, X − Y, a·X, −X (row by row; shapes must agree)
// ---------------------------------------------------------------------------

/// `X ∘ Y` element by element into a new set; panics (naming both shapes) when they differ.
#[track_caller]
fn zip_with(a: &Points, b: &Points, op: &str, f: impl Fn(f64, f64) -> f64) -> Points {
    a.assert_same_shape(b, op);
    Points { n: a.n, dim: a.dim, data: a.data.iter().zip(&b.data).map(|(x, y)| f(*x, *y)).collect() }
}

macro_rules! elementwise {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign:ident, $sym:literal, $op:tt) => {
        impl $trait<&Points> for &Points {
            type Output = Points;
            #[track_caller]
            fn $method(self, rhs: &Points) -> Points {
                zip_with(self, rhs, concat!("Points ", $sym, " Points"), |x, y| x $op y)
            }
        }
        impl $trait<Points> for &Points {
            type Output = Points;
            #[track_caller]
            fn $method(self, rhs: Points) -> Points {
                self $op &rhs
            }
        }
        impl $trait<&Points> for Points {
            type Output = Points;
            #[track_caller]
            fn $method(mut self, rhs: &Points) -> Points {
                self.$assign(rhs);
                self
            }
        }
        impl $trait<Points> for Points {
            type Output = Points;
            #[track_caller]
            fn $method(self, rhs: Points) -> Points {
                self $op &rhs
            }
        }
        impl $assign_trait<&Points> for Points {
            #[track_caller]
            fn $assign(&mut self, rhs: &Points) {
                self.assert_same_shape(rhs, concat!("Points ", $sym, "= Points"));
                for (x, y) in self.data.iter_mut().zip(&rhs.data) {
                    *x = *x $op *y;
                }
            }
        }
        impl $assign_trait<Points> for Points {
            #[track_caller]
            fn $assign(&mut self, rhs: Points) {
                self.$assign(&rhs);
            }
        }
    };
}

elementwise!(Add, add, AddAssign, add_assign, "+", +);
elementwise!(Sub, sub, SubAssign, sub_assign, "-", -);

impl Mul<&Points> for f64 {
    type Output = Points;
    /// `a·X`.
    fn mul(self, rhs: &Points) -> Points {
        rhs * self
    }
}

impl Mul<Points> for f64 {
    type Output = Points;
    /// `a·X`.
    fn mul(self, rhs: Points) -> Points {
        rhs * self
    }
}

impl Mul<f64> for &Points {
    type Output = Points;
    /// `X·a`.
    fn mul(self, a: f64) -> Points {
        Points { n: self.n, dim: self.dim, data: self.data.iter().map(|x| x * a).collect() }
    }
}

impl Mul<f64> for Points {
    type Output = Points;
    /// `X·a`, reusing the buffer.
    fn mul(mut self, a: f64) -> Points {
        self *= a;
        self
    }
}

impl MulAssign<f64> for Points {
    fn mul_assign(&mut self, a: f64) {
        self.data.iter_mut().for_each(|x| *x *= a);
    }
}

impl Neg for &Points {
    type Output = Points;
    /// `−X`.
    fn neg(self) -> Points {
        self * -1.0
    }
}

impl Neg for Points {
    type Output = Points;
    /// `−X`.
    fn neg(self) -> Points {
        self * -1.0
    }
}
