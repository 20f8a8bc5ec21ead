//! Gaussian mixtures: Σₖ wₖ N(μₖ, Σₖ), and TorchCFM's eight Gaussians on a circle.
//!
//! ```text
//! log p(x) = logsumexp_k (ln wₖ + log N(x; μₖ, Σₖ)),   E x = Σₖ wₖ μₖ,   Cov x = Σₖ wₖ (Σₖ + μₖ μₖᵀ) − E x E xᵀ
//! ```

use super::set_label;
use super::{check_fill, check_query, identity, Dataset, Gaussian};
use crate::error::{Error, Result};
use crate::numeric::{check_non_negative, check_positive, log_sum_exp, normalise_weights};
use crate::points::Points;
use rand::distributions::WeightedIndex;
use rand::RngCore;
use rand_distr::Distribution;
use std::f64::consts::FRAC_1_SQRT_2;

/// A Gaussian mixture p(x) = Σₖ wₖ N(x; μₖ, Σₖ), with wₖ ≥ 0 normalised to sum to 1.
///
/// Sampling picks component k with probability wₖ, then draws from it; the
/// label of a point is its component k. The log-density uses log-sum-exp,
/// log p(x) = logsumexp_k (ln wₖ + log N(x; μₖ, Σₖ)), so it stays finite far
/// from every component.
#[derive(Clone, Debug)]
pub struct GaussianMixture {
    weights: Vec<f64>,
    components: Vec<Gaussian>,
    index: WeightedIndex<f64>,
}

impl GaussianMixture {
    /// Mixture of the given Gaussians with weights `weights` (any non-negative
    /// numbers with a positive sum; they are normalised).
    ///
    /// Errors: [`Error::InvalidParameter`] for no components, a negative or
    /// non-finite weight, or weights summing to 0; [`Error::ShapeMismatch`]
    /// when the counts or the components' dimensions disagree.
    pub fn from_components(weights: Vec<f64>, components: Vec<Gaussian>) -> Result<Self> {
        if components.is_empty() {
            return Err(Error::invalid("Gaussian mixture", "has no components; give at least one"));
        }
        if weights.len() != components.len() {
            return Err(Error::shape(
                "the Gaussian mixture weights",
                format!("{} weights (one per component)", components.len()),
                format!("{} weights", weights.len()),
            ));
        }
        let d = components[0].dim();
        for (k, c) in components.iter().enumerate() {
            if c.dim() != d {
                return Err(Error::shape(
                    format!("component {k} of the Gaussian mixture"),
                    format!("dimension {d} (as component 0)"),
                    format!("dimension {}", c.dim()),
                ));
            }
        }
        let weights = normalise_weights(&weights, "Gaussian mixture weights")?;
        let index = WeightedIndex::new(&weights)
            .map_err(|e| Error::invalid("Gaussian mixture weights", format!("cannot be sampled from: {e}")))?;
        Ok(GaussianMixture { weights, components, index })
    }

    /// Mixture from weights, means (each of length d) and full covariances
    /// (each row-major d×d); see [`Gaussian::new`] and
    /// [`GaussianMixture::from_components`] for the checks.
    pub fn new(weights: Vec<f64>, means: Vec<Vec<f64>>, covs: Vec<Vec<f64>>) -> Result<Self> {
        if means.len() != covs.len() {
            return Err(Error::shape(
                "the Gaussian mixture covariances",
                format!("{} covariances (one per mean)", means.len()),
                format!("{} covariances", covs.len()),
            ));
        }
        let components = means.into_iter().zip(covs).map(|(m, c)| Gaussian::new(m, c)).collect::<Result<Vec<_>>>()?;
        GaussianMixture::from_components(weights, components)
    }

    /// Mixture of isotropic components N(μₖ, sₖ² I) from weights, means and
    /// per-component standard deviations `stds` (each > 0).
    pub fn isotropic(weights: Vec<f64>, means: Vec<Vec<f64>>, stds: Vec<f64>) -> Result<Self> {
        if means.len() != stds.len() {
            return Err(Error::shape(
                "the Gaussian mixture standard deviations",
                format!("{} standard deviations (one per mean)", means.len()),
                format!("{} standard deviations", stds.len()),
            ));
        }
        let components =
            means.into_iter().zip(stds).map(|(m, s)| Gaussian::isotropic(m, s)).collect::<Result<Vec<_>>>()?;
        GaussianMixture::from_components(weights, components)
    }

    /// Normalised weights w₁..w_K (they sum to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The components N(μₖ, Σₖ); read μₖ with [`Gaussian::loc`] and Σₖ with [`Gaussian::cov`].
    pub fn components(&self) -> &[Gaussian] {
        &self.components
    }

    /// Number of components K.
    pub fn num_components(&self) -> usize {
        self.components.len()
    }
}

impl Dataset for GaussianMixture {
    fn dim(&self) -> usize {
        self.components[0].dim()
    }
    fn num_classes(&self) -> usize {
        self.components.len()
    }
    fn name(&self) -> String {
        "gaussian mixture".into()
    }
    /// k ~ Categorical(w), x = μₖ + Lₖ z; the label is k.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(self.dim(), out, &labels)?;
        let mut z = vec![0.0; self.dim()];
        for (i, row) in out.rows_mut().enumerate() {
            let k = self.index.sample(rng);
            self.components[k].draw(row, &mut z, rng);
            set_label(&mut labels, i, k);
        }
        Ok(())
    }
    /// log p(x) = logsumexp_k (ln wₖ + log N(x; μₖ, Σₖ)).
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(check_query(self.dim(), x).map(|_| {
            let (mut rs, mut y) = (vec![0.0; self.dim()], vec![0.0; self.dim()]);
            let mut terms = vec![0.0; self.components.len()];
            x.rows()
                .map(|r| {
                    for ((t, c), w) in terms.iter_mut().zip(&self.components).zip(&self.weights) {
                        *t = w.ln() + c.log_pdf(r, &mut rs, &mut y);
                    }
                    log_sum_exp(&terms)
                })
                .collect()
        }))
    }
    /// E(x) = Σₖ wₖ μₖ.
    fn mean(&self) -> Option<Vec<f64>> {
        let d = self.dim();
        let mut m = vec![0.0; d];
        for (c, w) in self.components.iter().zip(&self.weights) {
            for (a, mu) in m.iter_mut().zip(c.loc()) {
                *a += w * mu;
            }
        }
        Some(m)
    }
    /// Cov(x) = Σₖ wₖ (Σₖ + μₖ μₖᵀ) − E(x) E(x)ᵀ.
    fn covariance(&self) -> Option<Vec<f64>> {
        let d = self.dim();
        let m = self.mean()?;
        let mut c = vec![0.0; d * d];
        for (g, w) in self.components.iter().zip(&self.weights) {
            let mu = g.loc();
            for a in 0..d {
                for b in 0..d {
                    c[a * d + b] += w * (g.cov()[a * d + b] + mu[a] * mu[b]);
                }
            }
        }
        for a in 0..d {
            for b in 0..d {
                c[a * d + b] -= m[a] * m[b];
            }
        }
        Some(c)
    }
}

/// Eight equally weighted Gaussians on a circle, as in TorchCFM.
///
/// Centres are r·eₖ with the unit vectors in TorchCFM's order
/// (1,0), (−1,0), (0,1), (0,−1), (1/√2,1/√2), (1/√2,−1/√2), (−1/√2,1/√2),
/// (−1/√2,−1/√2); each component is N(r·eₖ, v I). The label of a point is
/// its centre's index in that order.
///
/// TorchCFM's `sample_8gaussians` uses r = 5 and passes `var = 0.1` to a
/// helper that builds the covariance √var · I, so its per-coordinate variance
/// is v = √0.1 ≈ 0.316 (standard deviation 0.1^¼ ≈ 0.562). That is
/// [`EightGaussians::torchcfm`] (and the default).
///
/// E(x) = 0 and Cov(x) = (r²/2 + v) I.
#[derive(Clone, Debug)]
pub struct EightGaussians {
    radius: f64,
    variance: f64,
    mixture: GaussianMixture,
}

/// Unit directions of the eight centres, in TorchCFM's order.
const EIGHT_DIRECTIONS: [[f64; 2]; 8] = [
    [1.0, 0.0],
    [-1.0, 0.0],
    [0.0, 1.0],
    [0.0, -1.0],
    [FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, FRAC_1_SQRT_2],
    [-FRAC_1_SQRT_2, -FRAC_1_SQRT_2],
];

impl EightGaussians {
    /// Centres at radius `radius ≥ 0`, each component N(centre, `variance` · I)
    /// with `variance > 0` the per-coordinate variance (not the standard deviation).
    pub fn new(radius: f64, variance: f64) -> Result<Self> {
        check_non_negative("EightGaussians radius", radius)?;
        check_positive("EightGaussians variance", variance)?;
        let std = variance.sqrt();
        let components = EIGHT_DIRECTIONS
            .iter()
            .map(|e| Gaussian::isotropic(vec![radius * e[0], radius * e[1]], std))
            .collect::<Result<Vec<_>>>()?;
        let mixture = GaussianMixture::from_components(vec![1.0; 8], components)?;
        Ok(EightGaussians { radius, variance, mixture })
    }

    /// TorchCFM's form: radius 5, per-coordinate variance √0.1.
    pub fn torchcfm() -> Self {
        EightGaussians::new(5.0, 0.1_f64.sqrt()).expect("the TorchCFM parameters are valid")
    }

    /// Radius r of the circle of centres.
    pub fn radius(&self) -> f64 {
        self.radius
    }

    /// Per-coordinate variance v of each component.
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// The same distribution as a [`GaussianMixture`] (borrowed).
    pub fn as_mixture(&self) -> &GaussianMixture {
        &self.mixture
    }

    /// The same distribution as an owned [`GaussianMixture`].
    pub fn to_mixture(&self) -> GaussianMixture {
        self.mixture.clone()
    }
}

impl Default for EightGaussians {
    /// [`EightGaussians::torchcfm`].
    fn default() -> Self {
        EightGaussians::torchcfm()
    }
}

impl Dataset for EightGaussians {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        8
    }
    fn name(&self) -> String {
        "8gaussians".into()
    }
    /// k uniform in 0..8, x = r·eₖ + √v z; the label is k.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        self.mixture.fill(out, labels, rng)
    }
    /// log p(x) = logsumexp_k (ln ⅛ + log N(x; r·eₖ, v I)).
    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        self.mixture.log_density(x)
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; 2])
    }
    /// Cov(x) = (r²/2 + v) I.
    fn covariance(&self) -> Option<Vec<f64>> {
        Some(identity(2, 0.5 * self.radius * self.radius + self.variance))
    }
}
