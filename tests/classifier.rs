//! The digit classifier and the Fréchet distance: closed forms, the shipped weights, clear errors.

use flowmatch::data::Digits;
use flowmatch::metrics::{frechet_distance, frechet_gaussians};
use flowmatch::nalgebra::{DMatrix, DVector};
use flowmatch::nn::checkpoint::{load_tensors, read_meta, save_tensors, CheckpointMeta};
use flowmatch::nn::{ClassifierConfig, DigitClassifier, UNet, UNetConfig};
use flowmatch::points::Points;
use flowmatch::Error;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flowmatch-classifier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A quick classifier (few epochs) for the tests that need any trained one.
fn quick(seed: u64) -> DigitClassifier {
    DigitClassifier::train(ClassifierConfig { epochs: 3, seed, ..Default::default() }).unwrap()
}

#[test]
fn frechet_of_a_set_with_itself_is_zero_and_a_shift_adds_its_square() {
    let a = Points::randn(400, 5, 1);
    assert!(frechet_distance(&a, &a).unwrap().abs() < 1e-9);
    // Shifting every point by c keeps the covariance: d² = ‖c‖² exactly.
    let c = [0.5, -1.0, 0.0, 2.0, 0.25];
    let shifted = Points::from_fn(a.len(), 5, |i, j| a.row(i)[j] + c[j]);
    let want: f64 = c.iter().map(|v| v * v).sum();
    let got = frechet_distance(&a, &shifted).unwrap();
    assert!((got - want).abs() < 1e-8, "{got} vs {want}");
}

#[test]
fn frechet_of_two_gaussian_samples_approaches_the_closed_form() {
    // x = μ + L z with z ~ N(0, I): the sample estimate tends to d²_F of the two Gaussians.
    let (n, d) = (40_000, 3);
    let la = DMatrix::from_row_slice(d, d, &[1.0, 0.0, 0.0, 0.5, 0.8, 0.0, -0.3, 0.2, 0.6]);
    let lb = DMatrix::from_row_slice(d, d, &[0.7, 0.0, 0.0, -0.4, 1.2, 0.0, 0.1, 0.5, 0.9]);
    let (ma, mb) = (DVector::from_vec(vec![0.0, 1.0, -1.0]), DVector::from_vec(vec![0.5, 0.5, 0.0]));
    let draw = |l: &DMatrix<f64>, m: &DVector<f64>, seed| {
        let z = Points::randn(n, d, seed);
        Points::from_fn(n, d, |i, j| m[j] + (0..d).map(|k| l[(j, k)] * z.row(i)[k]).sum::<f64>())
    };
    let (a, b) = (draw(&la, &ma, 3), draw(&lb, &mb, 4));
    let want = frechet_gaussians(&ma, &(&la * la.transpose()), &mb, &(&lb * lb.transpose())).unwrap();
    let got = frechet_distance(&a, &b).unwrap();
    assert!(want > 0.5, "the two Gaussians differ");
    assert!((got - want).abs() < 0.03 * want, "{got} vs the closed form {want}");
}

#[test]
fn the_shipped_classifier_passes_its_bar_and_class_accuracy_is_test_accuracy() {
    let clf = DigitClassifier::shipped().unwrap();
    let test = Digits::test().unwrap();
    let acc = clf.test_accuracy().unwrap();
    assert!(acc >= 0.95, "test accuracy {acc} below the 0.95 the issue asks");
    // Class accuracy on the real test digits with their true labels is the test accuracy,
    // and it is the share of agreeing predictions counted by hand.
    let predicted = clf.predict(test.images()).unwrap();
    let by_hand = predicted.iter().zip(test.labels()).filter(|(a, b)| a == b).count() as f64 / test.len() as f64;
    assert_eq!(clf.class_accuracy(test.images(), test.labels()).unwrap(), acc);
    assert_eq!(by_hand, acc);
    // Asking for the wrong digits (each label moved by one) scores near zero.
    let wrong: Vec<usize> = test.labels().iter().map(|y| (y + 1) % 10).collect();
    assert!(clf.class_accuracy(test.images(), &wrong).unwrap() < 0.05);
}

#[test]
fn frechet_in_feature_space_separates_real_from_shifted_digits() {
    let clf = DigitClassifier::shipped().unwrap();
    let (train, test) = (Digits::train().unwrap(), Digits::test().unwrap());
    assert!(clf.frechet(test.images(), test.images()).unwrap().abs() < 1e-6);
    let real = clf.frechet(train.images(), test.images()).unwrap();
    // Digits moved one pixel to the right (a column of background on the left) look less real.
    let moved = Points::from_fn(test.len(), 64, |i, j| if j % 8 == 0 { -1.0 } else { test.images().row(i)[j - 1] });
    let off = clf.frechet(train.images(), &moved).unwrap();
    let noise = clf.frechet(train.images(), &Points::randn(test.len(), 64, 0)).unwrap();
    assert!(real > 0.0 && real < off && off < noise, "train–test {real}, moved {off}, noise {noise}");
}

#[test]
fn training_is_deterministic_under_a_seed() {
    let x = Digits::test().unwrap().images().head(50);
    let (a, b, c) = (quick(7), quick(7), quick(8));
    assert_eq!(a.logits(&x).unwrap(), b.logits(&x).unwrap());
    assert_ne!(a.logits(&x).unwrap(), c.logits(&x).unwrap());
}

#[test]
fn save_and_load_give_the_same_classifier() {
    let clf = quick(1);
    let path = tmp("clf.safetensors");
    clf.save(&path, None).unwrap();
    let back = DigitClassifier::load(&path).unwrap();
    let x = Digits::test().unwrap().images().head(20);
    assert_eq!(back.logits(&x).unwrap(), clf.logits(&x).unwrap());
    assert_eq!(back.config(), clf.config());
}

#[test]
fn bad_checkpoints_and_inputs_are_clear_errors() {
    let missing = DigitClassifier::load(tmp("missing.safetensors")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
    // A U-Net's checkpoint is not a classifier's, and the other way round.
    let net_path = tmp("unet.safetensors");
    UNet::new(UNetConfig { channels: 2, embed: 4, time_features: 2, ..Default::default() })
        .unwrap()
        .save(&net_path, None)
        .unwrap();
    let e = DigitClassifier::load(&net_path).unwrap_err().to_string();
    assert!(e.contains("holds a UNet"), "{e}");
    let clf_path = tmp("clf2.safetensors");
    quick(2).save(&clf_path, None).unwrap();
    let e = UNet::load(&clf_path).unwrap_err().to_string();
    assert!(e.contains("holds a DigitClassifier"), "{e}");
    // A configuration that does not match the tensors (hidden 128 claimed, 256 stored).
    let (meta, tensors) = load_tensors(&clf_path).unwrap();
    let mut lying = meta.clone();
    lying.model_config["hidden"] = 128.into();
    let bad_shape = tmp("shape.safetensors");
    let named = |t: &flowmatch::nn::checkpoint::TensorMap| {
        let mut v: Vec<_> = t.iter().map(|(n, (s, x))| (n.clone(), s.clone(), x.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    save_tensors(named(&tensors), &lying, &bad_shape).unwrap();
    let e = DigitClassifier::load(&bad_shape).unwrap_err().to_string();
    assert!(e.contains("has shape") && e.contains("layer1.weight"), "{e}");
    // Another format version.
    let future = CheckpointMeta { format: meta.format + 1, ..meta };
    let bad_version = tmp("version.safetensors");
    save_tensors(named(&tensors), &future, &bad_version).unwrap();
    let e = DigitClassifier::load(&bad_version).unwrap_err().to_string();
    assert!(e.contains("format version"), "{e}");
    assert!(read_meta(&bad_version).is_err());
    // Images of the wrong size.
    let e = quick(3).predict(&Points::zeros(2, 16)).unwrap_err().to_string();
    assert!(e.contains("64 pixels per row"), "{e}");
}
