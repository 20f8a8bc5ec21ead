//! The U-Net: shapes, the model contract, clear errors, checkpoints, determinism and training.

use flowmatch::data::{Dataset, Digits};
use flowmatch::field::{Model, Time, VectorField, NULL_LABEL};
use flowmatch::nn::checkpoint::{load_tensors, save_tensors};
use flowmatch::nn::{Net, TrainableModel, UNet, UNetConfig};
use flowmatch::points::Points;
use flowmatch::train::Trainer;

fn small() -> UNetConfig {
    UNetConfig { channels: 4, embed: 8, time_features: 4, ..Default::default() }
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flowmatch-unet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn shapes_and_the_model_contract() {
    let net = UNet::new(small()).unwrap();
    assert_eq!((Model::dim(&net), net.classes()), (64, Some(10)));
    // Parameters: the sum of every layer's tensors (C = 4, E = 8, 4 time features, K = 10).
    let (c, e) = (4, 8);
    let conv = |cin: usize, cout: usize, k: usize| cout * cin * k * k + cout;
    let res = |cin: usize, cout: usize| {
        conv(cin, cout, 3) + e * cout + cout + conv(cout, cout, 3) + if cin != cout { conv(cin, cout, 1) } else { 0 }
    };
    let want = (4 * e + e)
        + (e * e + e)
        + 11 * e
        + conv(1, c, 3)
        + res(c, c)
        + conv(c, 2 * c, 3)
        + 2 * res(2 * c, 2 * c)
        + res(4 * c, 2 * c)
        + res(3 * c, c)
        + conv(c, 1, 3);
    assert_eq!(net.num_params(), want);
    // The output layer starts at zero, so a fresh model's velocity is 0 everywhere.
    let x = Digits::test().unwrap().sample(5, 0).unwrap();
    let v = net.velocity(&x, Time::PerRow(&[0.0, 0.25, 0.5, 0.75, 1.0]), Some(&[0, 1, 2, 3, NULL_LABEL])).unwrap();
    assert_eq!((v.len(), v.dim()), (5, 64));
    assert!(v.as_slice().iter().all(|&a| a == 0.0));
    // Labels = None is ∅ on every row, and the vector field is that unconditional velocity.
    let trained = trained_briefly(3);
    let none = trained.velocity(&x, 0.3.into(), None).unwrap();
    assert_eq!(none, trained.velocity(&x, 0.3.into(), Some(&[NULL_LABEL; 5])).unwrap());
    assert_eq!(none, trained.eval(&x, 0.3).unwrap());
    assert_ne!(none, trained.velocity(&x, 0.3.into(), Some(&[4; 5])).unwrap());
    // More rows than one evaluation chunk give the same rows as one at a time.
    let many = Digits::test().unwrap().sample(300, 1).unwrap();
    let all = trained.velocity(&many, 0.6.into(), None).unwrap();
    let last = trained.velocity(&many.select(&[299]), 0.6.into(), None).unwrap();
    for (a, b) in all.row(299).iter().zip(last.row(0)) {
        assert!((a - b).abs() < 1e-5);
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let net = UNet::new(small()).unwrap();
    let e = net.velocity(&Points::zeros(2, 63), 0.5.into(), None).unwrap_err().to_string();
    assert!(e.contains("64 pixels") && e.contains("63"), "{e}");
    let x = Points::zeros(2, 64);
    let e = net.velocity(&x, 0.5.into(), Some(&[3, 10])).unwrap_err().to_string();
    assert!(e.contains("label 10") && e.contains("10 classes"), "{e}");
    assert!(net.velocity(&x, 0.5.into(), Some(&[3])).is_err());
    assert!(net.velocity(&x, Time::PerRow(&[0.5, 0.6, 0.7]), None).is_err());
    let e = net.velocity(&x, f64::NAN.into(), None).unwrap_err().to_string();
    assert!(e.contains("NaN"), "{e}");
    assert!(net.velocity(&Points::zeros(0, 64), 0.5.into(), None).is_err());
    let plain = UNet::new(UNetConfig { classes: None, ..small() }).unwrap();
    let e = plain.velocity(&x, 0.5.into(), Some(&[1, 2])).unwrap_err().to_string();
    assert!(e.contains("without classes"), "{e}");
    for bad in [
        UNetConfig { side: 7, ..small() },
        UNetConfig { channels: 0, ..small() },
        UNetConfig { time_features: 3, ..small() },
        UNetConfig { classes: Some(0), ..small() },
    ] {
        assert!(UNet::new(bad).is_err());
    }
}

fn trained_briefly(steps: usize) -> UNet {
    let mut net = UNet::new(UNetConfig { seed: 1, ..small() }).unwrap();
    Trainer::new(Digits::train().unwrap())
        .label_dropout(0.2)
        .steps(steps)
        .batch_size(16)
        .seed(4)
        .train(&mut net)
        .unwrap();
    net
}

#[test]
fn training_is_deterministic_and_learns() {
    let (a, b) = (trained_briefly(3), trained_briefly(3));
    let x = Digits::test().unwrap().sample(4, 2).unwrap();
    let va = a.velocity(&x, 0.4.into(), Some(&[1, 2, 3, 4])).unwrap();
    assert_eq!(va, b.velocity(&x, 0.4.into(), Some(&[1, 2, 3, 4])).unwrap());
    assert_eq!(a.steps_trained(), 3);
    // A different seed gives different weights.
    let mut c = UNet::new(UNetConfig { seed: 2, ..small() }).unwrap();
    Trainer::new(Digits::train().unwrap()).label_dropout(0.2).steps(3).batch_size(16).seed(4).train(&mut c).unwrap();
    assert_ne!(va, c.velocity(&x, 0.4.into(), Some(&[1, 2, 3, 4])).unwrap());
    // 150 steps lower the CFM loss well below its start (about 1 + E‖x₁‖²/64 ≈ 1.5 for v = 0).
    let mut net = UNet::new(UNetConfig { seed: 1, ..small() }).unwrap();
    let report =
        Trainer::new(Digits::train().unwrap()).steps(150).batch_size(64).lr(3e-3).seed(1).train(&mut net).unwrap();
    let (first, last) = (report.losses[0], report.final_loss(20));
    assert!(last < 0.75 * first, "loss {first} -> {last}");
}

#[test]
fn checkpoints_round_trip_and_reject_wrong_files() {
    let net = trained_briefly(2);
    let path = tmp("net.safetensors");
    net.save(&path, None).unwrap();
    let back = UNet::load(&path).unwrap();
    assert_eq!(back.config(), net.config());
    assert_eq!(back.steps_trained(), 2);
    let x = Digits::test().unwrap().sample(3, 0).unwrap();
    assert_eq!(
        back.velocity(&x, 0.5.into(), Some(&[7, 8, 9])).unwrap(),
        net.velocity(&x, 0.5.into(), Some(&[7, 8, 9])).unwrap()
    );

    // A configuration that does not match the tensors (a wider model recorded): a clear shape error.
    let (mut meta, tensors) = load_tensors(&path).unwrap();
    meta.model_config["channels"] = serde_json::json!(8);
    let tensors: Vec<_> = tensors.into_iter().map(|(n, (s, v))| (n, s, v)).collect();
    let wrong = tmp("wrong-shape.safetensors");
    save_tensors(tensors.clone(), &meta, &wrong).unwrap();
    let e = UNet::load(&wrong).unwrap_err().to_string();
    assert!(e.contains("has shape") && e.contains("needs"), "{e}");

    // Another format version.
    let (mut meta, _) = load_tensors(&path).unwrap();
    meta.format += 1;
    let future = tmp("future.safetensors");
    save_tensors(tensors.clone(), &meta, &future).unwrap();
    let e = UNet::load(&future).unwrap_err().to_string();
    assert!(e.contains("format version"), "{e}");

    // A missing tensor, and a checkpoint of another model.
    let (meta, _) = load_tensors(&path).unwrap();
    let partial = tmp("partial.safetensors");
    save_tensors(tensors.into_iter().filter(|t| t.0 != "mid.conv2.weight").collect(), &meta, &partial).unwrap();
    let e = UNet::load(&partial).unwrap_err().to_string();
    assert!(e.contains("mid.conv2.weight"), "{e}");
    let mlp = tmp("mlp.safetensors");
    Net::mlp(2, 32).unwrap().save(&mlp).unwrap();
    let e = UNet::load(&mlp).unwrap_err().to_string();
    assert!(e.contains("not a UNet"), "{e}");
    assert!(UNet::load(tmp("absent.safetensors")).is_err());
}

#[test]
fn the_shipped_unet_loads_and_samples_digits() {
    let net = UNet::shipped().unwrap();
    assert_eq!((Model::dim(&net), net.classes()), (64, Some(10)));
    assert!(net.steps_trained() > 0, "the shipped weights are trained");
    let x = net.sample(&[0, 7, 7], 2.0, 4, 0).unwrap();
    assert_eq!((x.len(), x.dim()), (3, 64));
    assert!(x.as_slice().iter().all(|v| v.is_finite()));
    // The same seed gives the same digits; a label out of range is a clear error.
    assert_eq!(x, net.sample(&[0, 7, 7], 2.0, 4, 0).unwrap());
    let e = net.sample(&[10], 2.0, 4, 0).unwrap_err().to_string();
    assert!(e.contains("10"), "{e}");
}
