//! The tensor-id workaround that lets a model built in one notebook cell train in the next.
//!
//! evcxr compiles each notebook cell into its own library, so each cell carries its own copy
//! of dfdx's tensor-id counter. A model built in one cell and trained in another would reuse
//! ids that its parameters already hold, and gradients would be mixed up. Every method of a
//! model that touches dfdx first moves the calling cell's counter past the highest id the
//! model holds ([`advance_ids_past`]), so "build in one cell, train in the next, sample in a
//! third" just works.
//!
//! ```text
//! watermark = id of a probe tensor made right after the model's parameters
//! before every dfdx call:  while next id ≤ watermark { allocate a scalar }
//! ```

use super::device::dev_err;
use crate::error::Result;
use dfdx::prelude::{Rank0, Shape, Tensor};
use dfdx::tensor_ops::Device;

/// dfdx's id of a tensor, read from the start of its `Debug` form (dfdx keeps the accessor private).
///
/// The `Debug` form begins `Tensor { id: UniqueId(n), ...` and goes on to print the device,
/// whose allocation cache can be large, so formatting stops as soon as the id has been read.
pub(crate) fn tensor_id<S: Shape, Dev: Device<f32>>(t: &Tensor<S, f32, Dev>) -> usize {
    struct Head(String);
    impl std::fmt::Write for Head {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.push_str(s);
            if self.0.len() > 64 {
                Err(std::fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    let mut head = Head(String::new());
    let _ = std::fmt::write(&mut head, format_args!("{t:?}"));
    head.0
        .split("UniqueId(")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("dfdx's Tensor Debug output starts with `Tensor { id: UniqueId(n)`")
}

/// Moves the calling cell's dfdx id counter past `watermark`, so new tensors never reuse a model's ids.
pub(crate) fn advance_ids_past<Dev: Device<f32>>(dev: &Dev, watermark: usize) -> Result<()> {
    let probe: Tensor<Rank0, f32, Dev> = dev.try_zeros().map_err(dev_err)?;
    let current = tensor_id(&probe);
    for _ in current..=watermark {
        let _: Tensor<Rank0, f32, Dev> = dev.try_zeros().map_err(dev_err)?;
    }
    Ok(())
}
