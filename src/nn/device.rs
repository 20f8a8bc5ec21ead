//! Where a model's numbers live: [`Device`], the plain choice (CPU, or a CUDA GPU with the
//! `cuda` feature), and [`ModelDevice`], the dfdx device behind it.
//!
//! ```text
//! "cpu" ↦ Device::Cpu,   "cuda" ↦ Device::Cuda(0),   "cuda:k" ↦ Device::Cuda(k)   (k = the GPU's ordinal)
//! Dev::create(device, seed): the dfdx device for `device`, whose random numbers start from `seed`
//! ```
//!
//! Without the `cuda` feature, asking for a GPU is an [`Error`] that names the feature and the
//! build script. With it, cudarc 0.9 panics (inside `CudaDevice::new`) when no driver or GPU
//! answers; that panic is caught here and becomes an [`Error`] saying no CUDA driver was found.

use crate::error::{Error, Result};
use dfdx::tensor::Cpu;
use dfdx::tensor_ops::Device as DfdxDevice;
use serde::{Deserialize, Serialize};

/// Where a model lives and computes: the CPU (the default) or one CUDA GPU.
///
/// Parsed from the strings a command line uses: `"cpu"`, `"cuda"` (GPU 0) or `"cuda:1"`.
/// `Cuda` can always be named, so a program can parse and report it; building or moving a
/// model there needs the crate built with `--features cuda` (see `cuda/README.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Device {
    /// The CPU, with the fast fused path for SiLU networks.
    #[default]
    Cpu,
    /// The CUDA GPU with this ordinal (0 for the first).
    Cuda(usize),
}

impl Device {
    /// Whether this crate was built with the `cuda` feature, so that [`Device::Cuda`] can be used.
    pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

    /// Errors unless models can be built on this device in this build.
    pub fn check_available(self) -> Result<()> {
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda(_) if Device::CUDA_BUILT => Ok(()),
            Device::Cuda(_) => Err(cuda_not_built(self)),
        }
    }
}

/// The error for a GPU asked of a build without the `cuda` feature.
pub(crate) fn cuda_not_built(device: Device) -> Error {
    Error::invalid(
        "device",
        format!(
            "{device} was asked for, but flowmatch was built without CUDA; build with `--features cuda` \
             (on a machine without a CUDA toolkit, scripts/cuda-build.sh sets that build up: see \
             cuda/README.md), or use the CPU"
        ),
    )
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(k) => write!(f, "cuda:{k}"),
        }
    }
}

impl std::str::FromStr for Device {
    type Err = Error;

    /// `"cpu"`, `"cuda"` (= `"cuda:0"`) or `"cuda:k"`, in any case.
    fn from_str(s: &str) -> Result<Device> {
        let lower = s.trim().to_ascii_lowercase();
        let bad = || {
            Error::invalid(
                "device",
                format!("'{s}' is not a device; write cpu, cuda (the first GPU) or cuda:N (GPU number N)"),
            )
        };
        match lower.as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            other => other.strip_prefix("cuda:").and_then(|k| k.parse().ok()).map(Device::Cuda).ok_or_else(bad),
        }
    }
}

/// A dfdx device that a model can be built on: [`Cpu`], or `Cuda` with the `cuda` feature.
pub trait ModelDevice: DfdxDevice<f32> + Clone + 'static {
    /// The device a model of this type is built on when none is named.
    const DEFAULT: Device;

    /// The dfdx device for `device`, whose random numbers (the initial weights) start from `seed`.
    /// Errors when `device` is not of this type's kind, or cannot be started.
    fn create(device: Device, seed: u64) -> Result<Self>;

    /// The default device of this type, seeded.
    fn seeded(seed: u64) -> Result<Self> {
        Self::create(Self::DEFAULT, seed)
    }
}

fn wrong_kind(device: Device, kind: &str) -> Error {
    Error::invalid(
        "device",
        format!(
            "{device} was asked for a model whose type lives on the {kind}; build a Net and move it (Net::to_device)"
        ),
    )
}

impl ModelDevice for Cpu {
    const DEFAULT: Device = Device::Cpu;

    fn create(device: Device, seed: u64) -> Result<Self> {
        match device {
            Device::Cpu => Ok(Cpu::seed_from_u64(seed)),
            other => Err(wrong_kind(other, "CPU")),
        }
    }
}

#[cfg(feature = "cuda")]
impl ModelDevice for dfdx::tensor::Cuda {
    const DEFAULT: Device = Device::Cuda(0);

    fn create(device: Device, seed: u64) -> Result<Self> {
        let Device::Cuda(ordinal) = device else { return Err(wrong_kind(device, "GPU")) };
        start_cuda(ordinal, seed)
    }
}

/// Starts CUDA device `ordinal`. cudarc 0.9.15 unwraps the driver's `cuInit` result, so with no
/// driver (or none that answers) it panics instead of returning an error: the panic is caught
/// (its message kept, the default report silenced) and returned as an [`Error`].
#[cfg(feature = "cuda")]
fn start_cuda(ordinal: usize, seed: u64) -> Result<dfdx::tensor::Cuda> {
    use std::sync::Mutex;
    static HOOK: Mutex<()> = Mutex::new(());
    let started = {
        let _guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let started = std::panic::catch_unwind(|| dfdx::tensor::Cuda::try_build(ordinal, seed));
        std::panic::set_hook(previous);
        started
    };
    match started {
        Ok(Ok(dev)) => Ok(dev),
        Ok(Err(e)) => Err(Error::invalid(
            "CUDA device",
            format!("GPU {ordinal} could not be started ({e:?}); check its number with nvidia-smi, or use the CPU"),
        )),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(Error::invalid(
                "CUDA device",
                format!(
                    "no CUDA driver was found (or it found no GPU): the driver library answered with an error \
                     ({msg}); run on a machine with an NVIDIA GPU and its driver, or use the CPU (Device::Cpu)"
                ),
            ))
        }
    }
}

/// A dfdx error as a flowmatch [`Error`].
pub(crate) fn dev_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::invalid("device operation", format!("dfdx reported {e:?}"))
}
