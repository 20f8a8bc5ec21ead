//! The dfdx device a model lives on: the CPU, or CUDA with the `cuda` feature.
//!
//! ```text
//! Dev::seeded(seed): a device whose random numbers (the initial weights) start from `seed`
//! ```

use crate::error::{Error, Result};
use dfdx::tensor::Cpu;
use dfdx::tensor_ops::Device;

/// A dfdx device that can be created from a seed: [`Cpu`], or `Cuda` with the `cuda` feature.
pub trait ModelDevice: Device<f32> + Clone {
    /// A device whose random numbers (used for initial weights) start from `seed`.
    fn seeded(seed: u64) -> Result<Self>;
}

impl ModelDevice for Cpu {
    fn seeded(seed: u64) -> Result<Self> {
        Ok(Cpu::seed_from_u64(seed))
    }
}

#[cfg(feature = "cuda")]
impl ModelDevice for dfdx::tensor::Cuda {
    fn seeded(seed: u64) -> Result<Self> {
        dfdx::tensor::Cuda::try_seed_from_u64(seed).map_err(|e| Error::invalid(
            "CUDA device",
            format!("could not start it ({e:?}); check that an NVIDIA GPU and driver are present, or build without `--features cuda`"),
        ))
    }
}

/// A dfdx error as a flowmatch [`Error`].
pub(crate) fn dev_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::invalid("device operation", format!("dfdx reported {e:?}"))
}
