//! [`Flow`]: layers stacked over a standard Gaussian, with the density by the change of variables.
//!
//! ```text
//! z ~ N(0, I),   x = f_K(… f_2(f_1(z)))
//! log p(x) = log N(z; 0, I) + Σ_k log |det ∂f_k⁻¹/∂x_k|,   z = f_1⁻¹(… f_K⁻¹(x)),   log N(z; 0, I) = −‖z‖²/2 − (d/2) ln 2π
//! ```

use super::Bijector;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::numeric::LN_2PI;
use crate::points::Points;
use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

/// A normalizing flow: a stack of [`Bijector`]s applied in order to z ~ N(0, I).
///
/// It is a [`Dataset`]: `flow.sample(n, seed)` draws x = f(z), and `log_density` is
/// [`Flow::log_prob`].
#[derive(Clone, Debug)]
pub struct Flow {
    dim: usize,
    layers: Vec<Box<dyn Bijector>>,
}

impl Flow {
    /// The identity flow in `dim` dimensions: p(x) = N(x; 0, I) until layers are added.
    pub fn new(dim: usize) -> Result<Flow> {
        crate::numeric::check_count("the dimension of a flow", dim)?;
        Ok(Flow { dim, layers: Vec::new() })
    }

    /// Adds `layer` after the others (it acts last on z, first on x when inverting).
    pub fn then(mut self, layer: impl Bijector + 'static) -> Result<Flow> {
        self.push(Box::new(layer))?;
        Ok(self)
    }

    /// Adds a boxed layer after the others.
    pub fn push(&mut self, layer: Box<dyn Bijector>) -> Result<()> {
        if layer.dim() != self.dim {
            return Err(Error::shape(
                format!("layer {} ({}) of a flow", self.layers.len(), layer.name()),
                format!("dimension {} (the flow's)", self.dim),
                format!("dimension {}", layer.dim()),
            ));
        }
        self.layers.push(layer);
        Ok(())
    }

    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The layers, in the order they act on z.
    pub fn layers(&self) -> &[Box<dyn Bijector>] {
        &self.layers
    }

    /// The flow made of the first `k` layers (all of them when k is larger).
    pub fn prefix(&self, k: usize) -> Flow {
        Flow { dim: self.dim, layers: self.layers.iter().take(k).cloned().collect() }
    }

    /// x = f(z) for every row of `z`, and log |det ∂f/∂z| summed over the layers.
    pub fn forward(&self, z: &Points) -> Result<(Points, Vec<f64>)> {
        super::check_input(self.dim, z, "the base points z of a flow")?;
        let mut x = z.clone();
        let mut total = vec![0.0; z.len()];
        for layer in &self.layers {
            let (next, ld) = layer.forward(&x)?;
            total.iter_mut().zip(ld).for_each(|(t, l)| *t += l);
            x = next;
        }
        Ok((x, total))
    }

    /// z = f⁻¹(x) for every row of `x`, and log |det ∂f⁻¹/∂x| summed over the layers.
    pub fn inverse(&self, x: &Points) -> Result<(Points, Vec<f64>)> {
        super::check_input(self.dim, x, "the points x of a flow's inverse")?;
        let mut z = x.clone();
        let mut total = vec![0.0; x.len()];
        for layer in self.layers.iter().rev() {
            let (prev, ld) = layer.inverse(&z)?;
            total.iter_mut().zip(ld).for_each(|(t, l)| *t += l);
            z = prev;
        }
        Ok((z, total))
    }

    /// log p(x) = log N(f⁻¹(x); 0, I) + log |det ∂f⁻¹/∂x| for every row of `x`.
    pub fn log_prob(&self, x: &Points) -> Result<Vec<f64>> {
        let (z, ld) = self.inverse(x)?;
        Ok(z.rows().zip(ld).map(|(zi, l)| log_standard_normal(zi) + l).collect())
    }

    /// The states of `z` after each layer: `[z, f_1(z), f_2(f_1(z)), …, x]` (K + 1 point sets).
    pub fn trace(&self, z: &Points) -> Result<Vec<Points>> {
        super::check_input(self.dim, z, "the base points z of a flow")?;
        let mut states = vec![z.clone()];
        for layer in &self.layers {
            let next = layer.forward(states.last().expect("one state at least"))?.0;
            states.push(next);
        }
        Ok(states)
    }
}

/// log N(z; 0, I) = −‖z‖²/2 − (d/2) ln 2π.
pub(crate) fn log_standard_normal(z: &[f64]) -> f64 {
    -0.5 * z.iter().map(|v| v * v).sum::<f64>() - 0.5 * z.len() as f64 * LN_2PI
}

impl Dataset for Flow {
    fn dim(&self) -> usize {
        self.dim
    }

    fn num_classes(&self) -> usize {
        1
    }

    fn name(&self) -> String {
        format!("flow of {} layers", self.layers.len())
    }

    /// z ~ N(0, I) from `rng`, then x = f(z).
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        if out.dim() != self.dim {
            return Err(Error::shape(
                "the output of a flow's sampler",
                format!("dimension {}", self.dim),
                format!("{}", out.dim()),
            ));
        }
        crate::numeric::check_count("the number of points to draw", out.len())?;
        if let Some(l) = labels {
            if l.len() != out.len() {
                return Err(Error::shape(
                    "the labels of a flow's sample",
                    format!("{} labels", out.len()),
                    format!("{}", l.len()),
                ));
            }
            l.fill(0);
        }
        out.as_mut_slice().iter_mut().for_each(|v| *v = StandardNormal.sample(rng));
        let (x, _) = self.forward(out)?;
        *out = x;
        Ok(())
    }

    fn log_density(&self, x: &Points) -> Option<Result<Vec<f64>>> {
        Some(self.log_prob(x))
    }
}
