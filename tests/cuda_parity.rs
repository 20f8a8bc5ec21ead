//! The notebook model on the GPU gives the CPU's numbers: the same weights (the CPU model's,
//! copied), the same batch, and then the forward output, the loss, every gradient and one Adam
//! step agree to float tolerance. The CPU side is the fused SiLU path the notebooks run; the GPU
//! side is dfdx's graph on cuBLAS and its CUDA kernels.
//!
//! Built only with `--features cuda`; the tests are `#[ignore]`d (they need a GPU) and named
//! `cuda_*`, and `cuda/run-on-gpu.sh` runs them with `--ignored` on the GPU machine.
#![cfg(feature = "cuda")]

use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::loss::{Batch, Cfm};
use flowmatch::nn::checkpoint::NamedTensor;
use flowmatch::nn::{Activation, Device, MlpConfig, Net, OptimizerConfig, TimeEmbedding};
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::{Progress, Trainer};
use rand::rngs::StdRng;
use rand::SeedableRng;

const GPU: Device = Device::Cuda(0);

fn batch(n: usize, seed: u64) -> Batch {
    let mut rng = StdRng::seed_from_u64(seed);
    let x0 = StandardGaussian::new(2).unwrap().sample(n, seed).unwrap();
    let x1 = EightGaussians::torchcfm().sample(n, seed + 1).unwrap();
    Batch::Regression(Cfm::condot().batch(&x0, &x1, None, &mut rng).unwrap())
}

/// max |a − b| over every value, and max |a| (for a relative tolerance).
fn max_diff(a: &[NamedTensor], b: &[NamedTensor]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let mut diff: f64 = 0.0;
    let mut scale: f64 = 0.0;
    for ((na, sa, va), (nb, sb, vb)) in a.iter().zip(b) {
        assert_eq!((na, sa), (nb, sb));
        for (x, y) in va.iter().zip(vb) {
            diff = diff.max((x - y).abs() as f64);
            scale = scale.max(x.abs() as f64);
        }
    }
    (diff, scale)
}

/// The notebook's model (SiLU, raw time) and a variant on the plain dfdx graph on both devices.
fn configs() -> [MlpConfig; 2] {
    [
        MlpConfig::default(),
        MlpConfig { activation: Activation::Tanh, time_embedding: TimeEmbedding::fourier(), seed: 3 },
    ]
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_net_forward_loss_gradients_and_one_step_match_the_cpu() {
    for config in configs() {
        let mut cpu = Net::mlp_with(2, 256, config.clone()).unwrap();
        let mut gpu = cpu.clone().on(GPU).unwrap();
        assert_eq!(gpu.device(), GPU);
        // The copy is exact.
        assert_eq!(gpu.parameters().unwrap(), cpu.parameters().unwrap());

        // Forward: per-row times on 4096 points.
        let x = StandardGaussian::new(2).unwrap().sample(4096, 5).unwrap();
        let t: Vec<f64> = (0..4096).map(|i| i as f64 / 4095.0).collect();
        let (vc, vg) = (cpu.velocity(&x, &t, None).unwrap(), gpu.velocity(&x, &t, None).unwrap());
        let err = vc.as_slice().iter().zip(vg.as_slice()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(err < 1e-4, "{config:?}: forward max |cpu − gpu| = {err}");

        // Loss and gradients on one batch.
        let b = batch(4096, 9);
        let (lc, gc) = cpu.gradients(&b).unwrap();
        let (lg, gg) = gpu.gradients(&b).unwrap();
        assert!((lc - lg).abs() < 1e-5 * lc, "{config:?}: loss cpu {lc} gpu {lg}");
        assert!((gpu.loss(&b).unwrap() - lc).abs() < 1e-5 * lc);
        let (err, scale) = max_diff(&gc, &gg);
        assert!(err < 1e-4 * scale + 1e-7, "{config:?}: gradients max |cpu − gpu| = {err} (max |g| = {scale})");

        // One Adam step: each weight moves by about −lr·sign(g), so the weights agree to float
        // rounding except where a gradient is so small that its sign is rounding too.
        let opt = OptimizerConfig { lr: 1e-3, ..Default::default() };
        assert!((cpu.train_step(&b, &opt).unwrap() - gpu.train_step(&b, &opt).unwrap()).abs() < 1e-5 * lc);
        let (pc, pg) = (cpu.parameters().unwrap(), gpu.parameters().unwrap());
        let mut loose = 0;
        for (((name, _, wc), (_, _, wg)), (_, _, g)) in pc.iter().zip(&pg).zip(&gc) {
            for ((a, b), g) in wc.iter().zip(wg).zip(g) {
                let d = (a - b).abs();
                if g.abs() > 1e-4 * scale as f32 {
                    assert!(d < 2e-6, "{config:?}: {name}: cpu {a} gpu {b} after one step (gradient {g})");
                } else {
                    assert!(d <= 2.1e-3, "{config:?}: {name}: {d} apart, more than two steps");
                    loose += (d > 2e-6) as usize;
                }
            }
        }
        assert!(loose < cpu.num_params() / 100, "{config:?}: {loose} weights differ after one step");
    }
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_trainer_and_sampler_run_on_the_gpu_and_agree_with_the_cpu() {
    let mut cpu = Net::mlp(2, 64).unwrap();
    let mut gpu = cpu.clone();
    let trainer = |d| {
        Trainer::new(EightGaussians::torchcfm()).steps(200).batch_size(256).seed(0).device(d).progress(Progress::Off)
    };
    let rc = trainer(Device::Cpu).train(&mut cpu).unwrap();
    let rg = trainer(GPU).train(&mut gpu).unwrap();
    assert_eq!(gpu.device(), GPU, "the trainer moves the model and leaves it there");
    assert_eq!(gpu.steps_trained(), 200);
    // The same batches; float rounding makes the runs drift apart slowly, not the losses' level.
    let (a, b) = (rc.final_loss(50), rg.final_loss(50));
    assert!((a - b).abs() < 0.05 * a, "mean loss of the last 50 steps: cpu {a}, gpu {b}");
    assert!((rc.losses[0] - rg.losses[0]).abs() < 1e-5 * rc.losses[0]);

    // Sampling the GPU model runs on the GPU; the same weights on the CPU give the same samples.
    let back = gpu.clone().on(Device::Cpu).unwrap();
    assert_eq!(back.parameters().unwrap(), gpu.parameters().unwrap());
    let x0 = StandardGaussian::new(2).unwrap().sample(2000, 4).unwrap();
    let grid = TimeGrid::uniform(0.0, 1.0, 50).unwrap();
    let sg = solve(&gpu, &x0, &grid, Method::Midpoint).unwrap().final_state;
    let sc = solve(&back, &x0, &grid, Method::Midpoint).unwrap().final_state;
    let err = sg.as_slice().iter().zip(sc.as_slice()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(err < 1e-3, "samples max |gpu − cpu| = {err}");
}

#[test]
#[ignore = "needs a CUDA GPU"]
fn cuda_a_gpu_that_is_not_there_is_an_error() {
    let e = Net::mlp(2, 32).unwrap().on(Device::Cuda(99)).unwrap_err();
    assert!(e.to_string().contains("GPU 99") || e.to_string().contains("no CUDA driver"), "{e}");
}

/// Runs with or without a GPU: starting CUDA either works or is a clear error, never a panic.
#[test]
fn cuda_device_choice_never_panics() {
    match Net::mlp(2, 32).unwrap().on(GPU) {
        Ok(net) => println!("GPU 0 started: {:?} on {}", net, net.device()),
        Err(e) => {
            println!("no GPU here: {e}");
            assert!(e.to_string().contains("CUDA"), "{e}");
        }
    }
}
