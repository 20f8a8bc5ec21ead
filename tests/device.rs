//! Device choice on any build: parsing, the CPU as the default, moving a `Net` (CPU → CPU keeps
//! every weight), the error for a GPU in a build without the `cuda` feature, and the gradients
//! a training step uses. The GPU itself is checked by `tests/cuda_parity.rs` (`--features cuda`).

use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::loss::{Batch, Cfm};
use flowmatch::nn::{Device, Net, OptimizerConfig, TrainableModel};
use flowmatch::train::{Progress, Trainer};
use flowmatch::{Error, Points};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn batch(n: usize, seed: u64) -> Batch {
    let mut rng = StdRng::seed_from_u64(seed);
    let x0 = StandardGaussian::new(2).unwrap().sample(n, seed).unwrap();
    let x1 = EightGaussians::torchcfm().sample(n, seed + 1).unwrap();
    Batch::Regression(Cfm::condot().batch(&x0, &x1, None, &mut rng).unwrap())
}

#[test]
fn devices_parse_from_command_line_strings_and_print_back() {
    for (s, d) in
        [("cpu", Device::Cpu), ("CUDA", Device::Cuda(0)), ("cuda:0", Device::Cuda(0)), ("cuda:3", Device::Cuda(3))]
    {
        assert_eq!(s.parse::<Device>().unwrap(), d, "{s}");
        assert_eq!(d.to_string().parse::<Device>().unwrap(), d);
    }
    for bad in ["", "gpu0", "cuda:", "cuda:-1", "cuda:x", "tpu"] {
        let e = bad.parse::<Device>().unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }) && e.to_string().contains("cuda:N"), "{bad}: {e}");
    }
    assert_eq!(Device::default(), Device::Cpu);
}

#[test]
fn a_net_lives_on_the_cpu_and_a_move_to_the_cpu_keeps_every_weight() {
    let mut net = Net::mlp(2, 32).unwrap();
    Trainer::new(EightGaussians::torchcfm()).steps(5).batch_size(64).progress(Progress::Off).train(&mut net).unwrap();
    assert_eq!(net.device(), Device::Cpu);
    assert_eq!(TrainableModel::device(&net), Device::Cpu);
    let before = net.parameters().unwrap();
    let x = StandardGaussian::new(2).unwrap().sample(50, 7).unwrap();
    let v = net.velocity(&x, 0.3, None).unwrap();
    // Moving to where it is changes nothing, not even the optimiser.
    net.to_device(Device::Cpu).unwrap();
    assert_eq!(net.parameters().unwrap(), before);
    // A copy made through `to_device` (here CPU → CPU) has the same weights and outputs.
    let copy = net.clone().on(Device::Cpu).unwrap();
    assert_eq!(copy.parameters().unwrap(), before);
    assert_eq!(copy.velocity(&x, 0.3, None).unwrap(), v);
    assert_eq!(copy.steps_trained(), 5);
    let names: Vec<_> = before.iter().map(|(n, s, _)| (n.as_str(), s.clone())).collect();
    assert_eq!(names[0], ("x_in.weight", vec![32, 2]));
    assert_eq!(before.iter().map(|(_, _, v)| v.len()).sum::<usize>(), net.num_params());
}

#[test]
fn asking_for_a_gpu_is_a_clear_error_where_there_is_none() {
    let mut net = Net::mlp(2, 32).unwrap();
    let e = net.to_device(Device::Cuda(0)).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::InvalidParameter { .. }), "{msg}");
    if Device::CUDA_BUILT {
        // A cuda build on a machine without a driver: cudarc's panic is caught and explained.
        assert!(msg.contains("no CUDA driver") || msg.contains("could not be started"), "{msg}");
    } else {
        assert!(msg.contains("--features cuda") && msg.contains("scripts/cuda-build.sh"), "{msg}");
        assert!(Device::Cuda(1).check_available().is_err());
    }
    assert!(Device::Cpu.check_available().is_ok());
    // The model is untouched and still works on the CPU; the trainer reports the same error.
    assert_eq!(net.device(), Device::Cpu);
    let e = Trainer::new(EightGaussians::torchcfm())
        .steps(2)
        .device(Device::Cuda(0))
        .progress(Progress::Off)
        .train(&mut net)
        .unwrap_err();
    assert_eq!(e.to_string(), msg);
    assert_eq!(net.steps_trained(), 0);
    let r = Trainer::new(EightGaussians::torchcfm())
        .steps(2)
        .device(Device::Cpu)
        .progress(Progress::Off)
        .train(&mut net)
        .unwrap();
    assert_eq!(r.steps(), 2);
}

/// Adam's first step from fresh moments moves each weight by −lr·g/(|g| + ε) ≈ −lr·sign(g), so the
/// gradients `Net::gradients` returns must predict the step `train_step` takes, weight by weight.
#[test]
fn gradients_predict_the_first_adam_step_and_leave_the_weights_alone() {
    let mut net = Net::mlp(2, 64).unwrap();
    let b = batch(256, 11);
    let theta0 = net.parameters().unwrap();
    let (loss, grads) = net.gradients(&b).unwrap();
    assert_eq!(net.parameters().unwrap(), theta0, "gradients must not update the weights");
    assert!((loss - net.loss(&b).unwrap()).abs() < 1e-5 * loss.max(1.0), "{loss} vs {}", net.loss(&b).unwrap());
    let opt = OptimizerConfig { lr: 1e-3, ..Default::default() };
    let step_loss = net.train_step(&b, &opt).unwrap();
    assert!((step_loss - loss).abs() < 1e-6 * loss.max(1.0));
    let theta1 = net.parameters().unwrap();
    let mut checked = 0;
    for ((name, shape, g), ((_, _, w0), (_, _, w1))) in grads.iter().zip(theta0.iter().zip(&theta1)) {
        assert_eq!(g.len(), shape.iter().product::<usize>(), "{name}");
        for ((g, w0), w1) in g.iter().zip(w0).zip(w1) {
            assert!(g.is_finite(), "{name}");
            if g.abs() > 1e-4 {
                let want = -1e-3 * g.signum();
                assert!(((w1 - w0) - want).abs() < 1e-5, "{name}: step {} but gradient {g}", w1 - w0);
                checked += 1;
            }
        }
    }
    assert!(checked > net.num_params() / 2, "only {checked} weights had a clear gradient");
    // A batch the model cannot learn from is the training step's error.
    let samples = Batch::Samples { x: Points::zeros(4, 2), labels: None };
    assert!(net.gradients(&samples).unwrap_err().to_string().contains("regression"));
}
