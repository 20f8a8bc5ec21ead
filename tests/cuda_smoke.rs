//! GPU smoke tests for the `cuda` feature, written against dfdx alone (not the crate's models),
//! so that they prove the CUDA build itself: the driver (libcuda), cuBLAS, cuRAND, NVRTC and the
//! PTX that dfdx's build script compiled with nvcc. (cuRAND is linked by cudarc's build script
//! but dfdx 0.13 samples on the host, so no binary imports it.)
//!
//! Built only with `--features cuda`. The tests that need a GPU are `#[ignore]`d and named
//! `cuda_*`; `cuda/run-on-gpu.sh` runs them with `--ignored` on the GPU machine. See
//! `cuda/README.md`.
#![cfg(feature = "cuda")]

use dfdx::optim::Adam;
use dfdx::prelude::*;

type Mlp = (Linear<3, 64>, Tanh, Linear<64, 64>, Tanh, Linear<64, 2>);

const BATCH: usize = 256;

fn gpu() -> Cuda {
    Cuda::try_seed_from_u64(0).expect("a CUDA device (run this on the GPU machine: cuda/run-on-gpu.sh)")
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn batch(n: usize, d: usize, seed: u32) -> Vec<f32> {
    // A fixed, device-independent batch: a cheap hash mapped to [-2, 2).
    (0..n * d)
        .map(|i| {
            let h = (i as u32 ^ seed).wrapping_mul(2_654_435_761).rotate_left(13).wrapping_mul(40_503);
            (h >> 8) as f32 / (1u32 << 24) as f32 * 4.0 - 2.0
        })
        .collect()
}

/// Runs with or without a driver and reports how starting the device went. Without a GPU (the
/// build machine, with its link stub for libcuda) cudarc 0.9.15 does not return an error:
/// `CudaDevice::new` calls `result::init().unwrap()`, so `Cuda::try_seed_from_u64` panics. A
/// device choice that must survive a machine without a GPU has to catch that panic.
#[test]
fn cuda_device_start_outcome() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| Cuda::try_seed_from_u64(0).map(|_| ()));
    std::panic::set_hook(prev);
    match outcome {
        Ok(Ok(())) => println!("cuda device start: CUDA device 0 started"),
        Ok(Err(e)) => println!("cuda device start: error {e:?}"),
        Err(p) => {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            println!("cuda device start: panicked in cudarc: {}", msg.unwrap_or_default());
        }
    }
}

/// Random numbers: dfdx 0.13 samples on the host and copies to the GPU (no cuRAND), so this
/// checks the driver's copies; a normal sample has about mean 0 and variance 1.
#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_normal_sample_roundtrip() {
    let dev = gpu();
    let x: Tensor<Rank1<65536>, f32, _> = dev.sample_normal();
    let v = x.as_vec();
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    let var = v.iter().map(|a| (a - mean) * (a - mean)).sum::<f32>() / v.len() as f32;
    assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "mean {mean}, var {var}");
}

/// cuBLAS: a 256×128 by 128×96 product matches the CPU's.
#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_cublas_matmul_matches_cpu() {
    let (cpu, dev) = (Cpu::default(), gpu());
    let a: Tensor<Rank2<256, 128>, f32, _> = cpu.tensor(batch(256, 128, 1));
    let b: Tensor<Rank2<128, 96>, f32, _> = cpu.tensor(batch(128, 96, 2));
    let want = a.clone().matmul(b.clone()).as_vec();
    let got = a.to_device(&dev).matmul(b.to_device(&dev)).as_vec();
    let err = max_abs_diff(&want, &got);
    assert!(err < 1e-3, "max |cpu - gpu| = {err}");
}

/// NVRTC at run time: dfdx compiles `concat_along` and `reshape` kernels on first use, with the
/// CUDA headers and its own `.cuh` files found at paths baked in at build time.
#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_nvrtc_jit_kernels_run() {
    let (cpu, dev) = (Cpu::default(), gpu());
    let a: Tensor<(usize, Const<3>), f32, _> = cpu.tensor_from_vec(batch(5, 3, 3), (5, Const));
    let b: Tensor<(usize, Const<3>), f32, _> = cpu.tensor_from_vec(batch(7, 3, 4), (7, Const));
    let want = (a.clone(), b.clone()).concat_along(Axis::<0>);
    let got = (a.to_device(&dev), b.to_device(&dev)).concat_along(Axis::<0>);
    assert_eq!(want.as_vec(), got.as_vec());
    let t: Tensor<Rank2<4, 6>, f32, _> = cpu.tensor(batch(4, 6, 5));
    let want = t.clone().permute::<Rank2<6, 4>, _>().reshape::<Rank1<24>>().as_vec();
    let got = t.to_device(&dev).permute::<Rank2<6, 4>, _>().reshape::<Rank1<24>>().as_vec();
    assert_eq!(want, got);
}

/// The whole training path on the same weights and batch: forward, MSE loss, backward and one
/// Adam step give the same loss and updated weights on the GPU as on the CPU.
#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_mlp_train_step_matches_cpu() {
    let (cpu, dev) = (Cpu::seed_from_u64(7), gpu());
    let mut m_cpu = cpu.build_module::<Mlp, f32>();
    let mut m_gpu = m_cpu.to_device(&dev);
    let x: Tensor<Rank2<BATCH, 3>, f32, _> = cpu.tensor(batch(BATCH, 3, 6));
    let y: Tensor<Rank2<BATCH, 2>, f32, _> = cpu.tensor(batch(BATCH, 2, 7));
    let (xg, yg) = (x.to_device(&dev), y.to_device(&dev));

    let out_cpu = m_cpu.forward(x.clone());
    let out_gpu = m_gpu.forward(xg.clone());
    let err = max_abs_diff(&out_cpu.as_vec(), &out_gpu.as_vec());
    assert!(err < 1e-4, "forward: max |cpu - gpu| = {err}");

    let mut opt_cpu = Adam::new(&m_cpu, AdamConfig { lr: 1e-3, ..Default::default() });
    let mut opt_gpu = Adam::new(&m_gpu, AdamConfig { lr: 1e-3, ..Default::default() });
    for step in 0..3 {
        let loss_cpu = mse_loss(m_cpu.forward(x.clone().traced(m_cpu.alloc_grads())), y.clone());
        let loss_gpu = mse_loss(m_gpu.forward(xg.clone().traced(m_gpu.alloc_grads())), yg.clone());
        let (lc, lg) = (loss_cpu.array(), loss_gpu.array());
        assert!((lc - lg).abs() <= 1e-4 * lc.abs().max(1.0), "step {step}: loss cpu {lc}, gpu {lg}");
        let g_cpu = loss_cpu.backward();
        let g_gpu = loss_gpu.backward();
        opt_cpu.update(&mut m_cpu, &g_cpu).expect("cpu update");
        opt_gpu.update(&mut m_gpu, &g_gpu).expect("gpu update");
    }
    let w_cpu = m_cpu.0.weight.as_vec();
    let w_gpu = m_gpu.0.weight.as_vec();
    let err = max_abs_diff(&w_cpu, &w_gpu);
    assert!(err < 1e-4, "weights after 3 Adam steps: max |cpu - gpu| = {err}");
}
