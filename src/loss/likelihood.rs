//! Maximum likelihood: batches of plain data samples, for models that give a density.
//!
//! ```text
//! L_NLL(θ) = −E_{x ~ p_data} log p_θ(x)          (a normalizing flow, topic 7.1)
//! ```

use super::{Batch, Objective};
use crate::data::Dataset;
use crate::error::Result;
use rand::RngCore;

/// Draws [`Batch::Samples`] from a dataset (with labels when it has classes):
/// the objective of a model trained by maximum likelihood.
pub struct Likelihood {
    data: Box<dyn Dataset>,
}

impl Likelihood {
    /// Maximum likelihood on samples of `data`.
    pub fn new(data: impl Dataset + 'static) -> Self {
        Likelihood { data: Box::new(data) }
    }

    /// The data distribution.
    pub fn data(&self) -> &dyn Dataset {
        self.data.as_ref()
    }
}

impl Objective for Likelihood {
    fn name(&self) -> String {
        format!("NLL({})", self.data.name())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "objective": self.name(), "data": self.data.name() })
    }

    fn dim(&self) -> usize {
        self.data.dim()
    }

    fn draw(&self, n: usize, rng: &mut dyn RngCore) -> Result<Batch> {
        let (x, labels) = self.data.sample_labeled_with(n, rng)?;
        Ok(Batch::Samples { x, labels: (self.data.num_classes() > 1).then_some(labels) })
    }
}
