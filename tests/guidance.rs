//! Conditional models and classifier-free guidance: the exact conditional velocities of a
//! Gaussian mixture, the guided field, label dropout, the conditional MLP (velocity, training,
//! checkpoints) and the class-aware metrics.

use flowmatch::data::{Dataset, EightGaussians, GaussianMixture, Moons, StandardGaussian};
use flowmatch::field::{Model, NULL_LABEL};
use flowmatch::guidance::{self, balanced_labels, combine, Guided, SweepSettings};
use flowmatch::loss::{drop_labels, Batch, CfmObjective, Objective};
use flowmatch::marginal::Marginal;
use flowmatch::metrics::{accuracy, knn_classify, spread, w2};
use flowmatch::nn::{Mlp, Net, OptimizerConfig};
use flowmatch::path::CondOT;
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::{Progress, Trainer};
use flowmatch::{Error, Points, Time, VectorField};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flowmatch-guidance-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn eight() -> Marginal<CondOT> {
    Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), CondOT).unwrap()
}

fn max_abs_diff(a: &Points, b: &Points) -> f64 {
    a.as_slice().iter().zip(b.as_slice()).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

fn probe(n: usize, seed: u64) -> Points {
    StandardGaussian::new(2).unwrap().sample(n, seed).unwrap().scale_rows(&vec![3.0; n])
}

// ---------------------------------------------------------------------------------------------
// Exact conditional velocities
// ---------------------------------------------------------------------------------------------

#[test]
fn the_velocity_of_a_class_is_that_of_its_component_alone() {
    let mixture = EightGaussians::torchcfm().to_mixture();
    let exact = eight();
    let x = probe(40, 1);
    for k in [0, 3, 7] {
        let alone = GaussianMixture::from_components(vec![1.0], vec![mixture.components()[k].clone()]).unwrap();
        let alone = Marginal::from_mixture(&alone, CondOT).unwrap();
        for t in [0.0, 0.3, 0.9, 1.0] {
            let want = alone.velocity(&x, t).unwrap();
            let got = exact.class_velocity(&x, t, k).unwrap();
            assert!(max_abs_diff(&got, &want) < 1e-12, "class {k} at t = {t}");
        }
    }
    assert!(matches!(exact.class_velocity(&x, 0.5, 8), Err(Error::InvalidParameter { .. })));
}

#[test]
fn the_marginal_velocity_is_the_posterior_average_of_the_class_velocities() {
    // u_t(x) = Σ_k p(y = k | x_t = x) u_t(x | y = k)
    let exact = eight();
    let x = probe(12, 2);
    for t in [0.2, 0.6, 0.95] {
        let u = exact.velocity(&x, t).unwrap();
        for (i, xi) in x.rows().enumerate() {
            let post = exact.posterior(xi, t).unwrap();
            let mut avg = [0.0; 2];
            for k in 0..8 {
                let uk = exact.class_velocity(&Points::from_rows(&[xi]).unwrap(), t, k).unwrap();
                avg[0] += post.weights[k] * uk.row(0)[0];
                avg[1] += post.weights[k] * uk.row(0)[1];
            }
            assert!((avg[0] - u.row(i)[0]).abs() < 1e-9 && (avg[1] - u.row(i)[1]).abs() < 1e-9, "t = {t}, row {i}");
        }
    }
}

#[test]
fn the_exact_conditional_model_takes_a_label_per_row() {
    let exact = eight();
    assert_eq!(exact.classes(), Some(8));
    let x = probe(6, 3);
    let labels = [0, NULL_LABEL, 5, 5, NULL_LABEL, 2];
    let times = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    for t in [Time::Same(0.4), Time::PerRow(&times)] {
        let v = Model::velocity(&exact, &x, t, Some(&labels)).unwrap();
        for (i, &y) in labels.iter().enumerate() {
            let (row, ti) = (x.select(&[i]), t.at(i));
            let want = if y == NULL_LABEL { exact.velocity(&row, ti) } else { exact.class_velocity(&row, ti, y) };
            assert!(max_abs_diff(&v.select(&[i]), &want.unwrap()) < 1e-12, "row {i}");
        }
    }
    let e = Model::velocity(&exact, &x, Time::Same(0.5), Some(&[0, 1, 2, 3, 4, 8])).unwrap_err();
    assert!(e.to_string().contains("label 8") && e.to_string().contains("8 classes"), "{e}");
    assert!(matches!(Model::velocity(&exact, &x, Time::Same(0.5), Some(&[0; 5])), Err(Error::ShapeMismatch { .. })));
}

// ---------------------------------------------------------------------------------------------
// The guided field
// ---------------------------------------------------------------------------------------------

#[test]
fn the_guided_field_is_the_convex_combination_with_weight_w_on_the_class() {
    let exact = eight();
    let x = probe(30, 4);
    for w in [0.0, 1.0, 2.0, 3.0, -0.5] {
        let guided = Guided::new(&exact, 4, w).unwrap();
        for t in [0.0, 0.5, 0.99] {
            let u = exact.velocity(&x, t).unwrap();
            let uk = exact.class_velocity(&x, t, 4).unwrap();
            let want = u.plus_scaled(-w, &u).plus_scaled(w, &uk); // (1 − w) u + w u_k
            let got = guided.eval(&x, t).unwrap();
            assert!(max_abs_diff(&got, &want) < 1e-12, "w = {w}, t = {t}");
        }
    }
    // w = 0 is the unconditional field, w = 1 the conditional one, exactly.
    assert_eq!(Guided::new(&exact, 4, 0.0).unwrap().eval(&x, 0.5).unwrap(), exact.velocity(&x, 0.5).unwrap());
    assert_eq!(Guided::new(&exact, 4, 1.0).unwrap().eval(&x, 0.5).unwrap(), exact.class_velocity(&x, 0.5, 4).unwrap());
    // Meta's (1 + w′) v_cond − w′ v_uncond is ours with w = 1 + w′.
    let (u, uk) = (exact.velocity(&x, 0.5).unwrap(), exact.class_velocity(&x, 0.5, 1).unwrap());
    let meta = uk.plus_scaled(2.0, &uk).plus_scaled(-2.0, &u); // w′ = 2
    assert!(max_abs_diff(&combine(&u, &uk, 3.0).unwrap(), &meta) < 1e-12);
}

#[test]
fn per_row_guidance_guides_each_row_towards_its_own_class() {
    let exact = eight();
    let x = probe(16, 5);
    let labels = balanced_labels(8, 2);
    assert_eq!(labels, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
    let times: Vec<f64> = (0..16).map(|i| i as f64 / 16.0).collect();
    let guided = Guided::per_row(&exact, labels.clone(), 2.5).unwrap();
    let got = guided.eval_rows(&x, &times).unwrap();
    for i in 0..16 {
        let one = Guided::new(&exact, labels[i], 2.5).unwrap();
        assert!(max_abs_diff(&got.select(&[i]), &one.eval(&x.select(&[i]), times[i]).unwrap()) < 1e-12);
    }
    assert!(matches!(guided.eval(&x.head(3), 0.5), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn guidance_explains_bad_input() {
    let exact = eight();
    let msg = |r: flowmatch::Result<Guided<'_>>| r.err().expect("an error").to_string();
    assert!(msg(Guided::new(&exact, 8, 2.0)).contains("8 classes"));
    assert!(msg(Guided::new(&exact, NULL_LABEL, 2.0)).contains("towards a class"));
    for w in [f64::NAN, f64::INFINITY] {
        assert!(msg(Guided::new(&exact, 1, w)).contains("not a finite number"));
    }
    assert!(msg(Guided::per_row(&exact, vec![1, 9], 2.0)).contains("label 9"));
    let unconditional = Net::mlp(2, 32).unwrap();
    assert!(msg(Guided::new(&unconditional, 0, 2.0)).contains("no class conditioning"));
}

#[test]
fn the_exact_field_guided_at_w_1_reproduces_its_class() {
    // W2 between the samples and fresh draws of the class, against W2 between two fresh draws.
    let exact = eight();
    let mixture = EightGaussians::torchcfm().to_mixture();
    let n = 400;
    let grid = TimeGrid::uniform(0.0, 1.0, 50).unwrap();
    let x0 = StandardGaussian::new(2).unwrap().sample(n, 10).unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    for k in [0, 5] {
        let fresh = mixture.sample_class_with(k, n, &mut rng).unwrap();
        let fresh2 = mixture.sample_class_with(k, n, &mut rng).unwrap();
        let floor = w2(&fresh, &fresh2).unwrap();
        let conditional = Guided::new(&exact, k, 1.0).unwrap();
        let x1 = solve(&conditional, &x0, &grid, Method::Midpoint).unwrap().final_state;
        let dist = w2(&x1, &fresh).unwrap();
        assert!(dist < 1.5 * floor, "class {k}: W2 {dist} against a floor of {floor}");
        // The check can fail: unconditional samples (w = 0) spread over all eight classes.
        let unconditional = Guided::new(&exact, k, 0.0).unwrap();
        let x1 = solve(&unconditional, &x0, &grid, Method::Midpoint).unwrap().final_state;
        assert!(w2(&x1, &fresh).unwrap() > 5.0 * floor);
    }
}

#[test]
fn guidance_above_1_trades_diversity_for_fidelity_on_the_exact_field() {
    // Two overlapping classes: more guidance, more samples on their class's side, less spread.
    let mixture =
        GaussianMixture::isotropic(vec![1.0, 1.0], vec![vec![-0.6, 0.0], vec![0.6, 0.0]], vec![0.5, 0.5]).unwrap();
    let exact = Marginal::from_mixture(&mixture, CondOT).unwrap();
    let x0 = StandardGaussian::new(2).unwrap().sample(600, 12).unwrap();
    let grid = TimeGrid::uniform(0.0, 1.0, 50).unwrap();
    let (mut right, mut spreads) = (Vec::new(), Vec::new());
    for w in [1.0, 2.0, 4.0] {
        let x1 = solve(&Guided::new(&exact, 1, w).unwrap(), &x0, &grid, Method::Midpoint).unwrap().final_state;
        right.push(x1.rows().filter(|r| r[0] > 0.0).count());
        spreads.push(spread(&x1).unwrap());
    }
    assert!(right[0] < right[1] && right[1] < right[2], "{right:?}");
    assert!(spreads[0] > spreads[1] && spreads[1] > spreads[2], "{spreads:?}");
}

// ---------------------------------------------------------------------------------------------
// Label dropout
// ---------------------------------------------------------------------------------------------

fn objective(p: f64) -> CfmObjective {
    CfmObjective::new(EightGaussians::torchcfm()).with_label_dropout(p).unwrap()
}

fn regression(b: Batch) -> flowmatch::path::PathSample {
    match b {
        Batch::Regression(s) => s,
        other => panic!("expected a regression batch, got {}", other.kind()),
    }
}

#[test]
fn label_dropout_nulls_a_share_p_of_the_labels_and_leaves_the_data_alone() {
    let p = 0.2;
    let (kept, dropped) = (objective(0.0), objective(p));
    let (mut rng_a, mut rng_b) = (StdRng::seed_from_u64(7), StdRng::seed_from_u64(7));
    let (batches, n) = (200, 256);
    let mut nulls = 0usize;
    let mut masks: Vec<Vec<bool>> = Vec::new();
    for _ in 0..batches {
        let a = regression(kept.draw(n, &mut rng_a).unwrap());
        let b = regression(dropped.draw(n, &mut rng_b).unwrap());
        // The data rows are untouched: the same points, times and targets as without dropout.
        assert_eq!((&a.x0, &a.x1, &a.t, &a.x_t, &a.target), (&b.x0, &b.x1, &b.t, &b.x_t, &b.target));
        let (la, lb) = (a.labels.unwrap(), b.labels.unwrap());
        assert_eq!(lb.len(), n);
        for (ya, yb) in la.iter().zip(&lb) {
            assert!(*yb == *ya || *yb == NULL_LABEL, "a label changed into another class");
        }
        masks.push(lb.iter().map(|&y| y == NULL_LABEL).collect());
        nulls += masks.last().unwrap().iter().filter(|m| **m).count();
        // Keep the two streams aligned: the dropout draws come after the batch.
        for _ in 0..n {
            let _: f64 = rand::Rng::gen(&mut rng_a);
        }
    }
    let total = (batches * n) as f64;
    let share = nulls as f64 / total;
    let sd = (p * (1.0 - p) / total).sqrt();
    assert!((share - p).abs() < 4.0 * sd, "null share {share} against p = {p} (4σ = {})", 4.0 * sd);
    // Fresh draws every step: no two batches drop the same rows.
    assert!(masks.windows(2).all(|w| w[0] != w[1]));
}

#[test]
fn drop_labels_draws_nothing_at_p_0_and_everything_at_p_1() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut labels = vec![3usize; 50];
    assert_eq!(drop_labels(&mut labels, 0.0, &mut rng).unwrap(), 0);
    assert_eq!(labels, vec![3; 50]);
    assert_eq!(drop_labels(&mut labels, 1.0, &mut rng).unwrap(), 50);
    assert!(labels.iter().all(|&y| y == NULL_LABEL));
    for p in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(drop_labels(&mut labels, p, &mut rng), Err(Error::InvalidParameter { .. })));
    }
}

#[test]
fn label_dropout_needs_labels_and_a_probability() {
    assert!(CfmObjective::new(EightGaussians::torchcfm()).with_label_dropout(1.2).is_err());
    let no_classes = CfmObjective::new(StandardGaussian::new(2).unwrap()).with_label_dropout(0.1).unwrap();
    let e = no_classes.draw(8, &mut StdRng::seed_from_u64(0)).unwrap_err();
    assert!(e.to_string().contains("no classes"), "{e}");
    let mut model = Net::conditional(2, 32, 8).unwrap();
    let e = Trainer::new(EightGaussians::torchcfm()).label_dropout(-0.5).steps(1).train(&mut model).unwrap_err();
    assert!(e.to_string().contains("not a probability"), "{e}");
    assert!(objective(0.25).describe()["label_dropout"] == 0.25);
}

// ---------------------------------------------------------------------------------------------
// The conditional MLP
// ---------------------------------------------------------------------------------------------

#[test]
fn a_conditional_net_takes_labels_and_explains_bad_ones() {
    let model = Net::conditional(2, 64, 8).unwrap();
    assert_eq!(model.classes(), Some(8));
    assert_eq!(model.num_params(), Net::mlp(2, 64).unwrap().num_params() + 9 * 64);
    let x = probe(10, 6);
    let v0 = model.velocity(&x, 0.5, Some(&[0; 10])).unwrap();
    let v3 = model.velocity(&x, 0.5, Some(&[3; 10])).unwrap();
    assert!(max_abs_diff(&v0, &v3) > 1e-4, "the label must change the velocity");
    // None, NULL_LABEL and the VectorField view are all the unconditional velocity.
    let vn = model.velocity(&x, 0.5, None).unwrap();
    assert_eq!(vn, model.velocity(&x, 0.5, Some(&[NULL_LABEL; 10])).unwrap());
    assert_eq!(vn, model.eval(&x, 0.5).unwrap());
    // Per-row labels are per-row: row i with label y equals the batch all labelled y, row i.
    let mixed: Vec<usize> = (0..10).map(|i| if i % 2 == 0 { 0 } else { 3 }).collect();
    let vm = model.velocity(&x, 0.5, Some(&mixed)).unwrap();
    assert!(max_abs_diff(&vm.select(&[0, 2]), &v0.select(&[0, 2])) < 1e-12);
    assert!(max_abs_diff(&vm.select(&[1, 3]), &v3.select(&[1, 3])) < 1e-12);
    let e = model.velocity(&x, 0.5, Some(&[8; 10])).unwrap_err().to_string();
    assert!(e.contains("label 8") && e.contains("8 classes"), "{e}");
    assert!(matches!(model.velocity(&x, 0.5, Some(&[1; 9])), Err(Error::ShapeMismatch { .. })));
    assert!(Net::conditional(2, 64, 0).is_err());
    // The same layers as the unconditional model with the same seed.
    let plain = Net::mlp(2, 64).unwrap();
    assert!(max_abs_diff(&plain.velocity(&x, 0.5, None).unwrap(), &vn) > 0.0); // ∅'s vector is added
}

#[test]
fn a_conditional_model_needs_labelled_batches() {
    let mut model = Net::conditional(2, 32, 8).unwrap();
    let e =
        Trainer::new(StandardGaussian::new(2).unwrap()).steps(1).progress(Progress::Off).train(&mut model).unwrap_err();
    assert!(e.to_string().contains("no labels"), "{e}");
    // An unconditional model still ignores the labels of a batch.
    let mut plain = Net::mlp(2, 32).unwrap();
    Trainer::new(EightGaussians::torchcfm()).steps(2).progress(Progress::Off).train(&mut plain).unwrap();
}

fn conditional_trainer(steps: usize, seed: u64) -> Trainer {
    Trainer::new(EightGaussians::torchcfm())
        .label_dropout(0.2)
        .steps(steps)
        .batch_size(256)
        .lr(2e-3)
        .seed(seed)
        .progress(Progress::Off)
}

#[test]
fn conditional_training_is_deterministic_and_learns_the_classes() {
    let run = || {
        let mut m = Net::conditional(2, 64, 8).unwrap();
        let report = conditional_trainer(1500, 3).train(&mut m).unwrap();
        (m, report.losses)
    };
    let (model, losses) = run();
    let (again, losses_again) = run();
    assert_eq!(losses, losses_again, "the same seed must give the same run, label dropout included");
    let x = probe(20, 8);
    assert_eq!(model.velocity(&x, 0.3, Some(&[2; 20])).unwrap(), again.velocity(&x, 0.3, Some(&[2; 20])).unwrap());
    // Conditional samples land in their class: a 15-NN classifier on labelled data agrees.
    let data = EightGaussians::torchcfm();
    let (reference, ref_labels) = data.sample_labeled(2000, 21).unwrap();
    let labels = balanced_labels(8, 40);
    let samples = guidance::sample(&model, labels.clone(), 1.0, 20, Method::Midpoint, 5).unwrap();
    let acc = accuracy(&knn_classify(&reference, &ref_labels, &samples, 15).unwrap(), &labels).unwrap();
    assert!(acc > 0.8, "conditional accuracy {acc}");
    // Unconditional samples (w = 0) do not care about the label.
    let samples = guidance::sample(&model, labels.clone(), 0.0, 20, Method::Midpoint, 5).unwrap();
    let acc0 = accuracy(&knn_classify(&reference, &ref_labels, &samples, 15).unwrap(), &labels).unwrap();
    assert!(acc0 < 0.3, "unconditional accuracy {acc0}");
}

#[test]
fn conditional_checkpoints_record_the_classes() {
    let mut model = Net::conditional(2, 64, 8).unwrap();
    conditional_trainer(20, 1).train(&mut model).unwrap();
    let path = tmp("conditional.safetensors");
    model.save(&path).unwrap();
    let meta = flowmatch::nn::checkpoint::read_meta(&path).unwrap();
    assert_eq!(meta.shape.get("C"), Some(&8));
    let back = Net::load(&path).unwrap();
    assert_eq!(back.classes(), Some(8));
    let x = probe(12, 9);
    let labels = [0, 1, 2, 3, 4, 5, 6, 7, NULL_LABEL, 1, 2, 3];
    assert_eq!(back.velocity(&x, 0.7, Some(&labels)).unwrap(), model.velocity(&x, 0.7, Some(&labels)).unwrap());
    let typed = Mlp::<2, 64>::load(&path).unwrap();
    assert_eq!(typed.classes(), Some(8));
    // Another shape is a clear error that names both.
    let e = Mlp::<2, 128>::load(&path).unwrap_err().to_string();
    assert!(e.contains("C=8") && e.contains("H=128"), "{e}");
    // Unconditional checkpoints record no classes and load unconditional.
    let plain_path = tmp("plain.safetensors");
    Net::mlp(2, 64).unwrap().save(&plain_path).unwrap();
    assert_eq!(flowmatch::nn::checkpoint::read_meta(&plain_path).unwrap().shape.get("C"), None);
    assert_eq!(Net::load(&plain_path).unwrap().classes(), None);
}

#[test]
fn a_label_table_that_disagrees_with_the_recorded_classes_is_a_clear_error() {
    // Rewrite a checkpoint's label table with one row too few.
    let path = tmp("bad-table.safetensors");
    Net::conditional(2, 32, 4).unwrap().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, md) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> =
        file.tensors().into_iter().map(|(name, v)| (name.to_string(), v.shape().to_vec(), v.data().to_vec())).collect();
    for (name, shape, data) in owned.iter_mut() {
        if name == "label_embedding" {
            assert_eq!(shape, &vec![5, 32]);
            *shape = vec![4, 32];
            data.truncate(4 * 32 * 4);
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, s, d)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d).unwrap())
        })
        .collect();
    std::fs::write(&path, safetensors::tensor::serialize(views, md.metadata()).unwrap()).unwrap();
    let e = Net::load(&path).unwrap_err().to_string();
    assert!(e.contains("label table") && e.contains("4 classes") && e.contains("[5, 32]"), "{e}");
}

#[test]
fn a_conditional_model_trains_one_step_at_a_time_with_its_own_optimiser_state() {
    // train_step with labels changes the label table (the velocity for a class moves).
    let mut model = Net::conditional(2, 32, 8).unwrap();
    let mut rng = StdRng::seed_from_u64(2);
    let batch = objective(0.2).draw(128, &mut rng).unwrap();
    let x = probe(8, 1);
    let before = model.velocity(&x, 0.5, Some(&[6; 8])).unwrap();
    let loss = model.train_step(&batch, &OptimizerConfig::default()).unwrap();
    assert!(loss.is_finite());
    assert_ne!(before, model.velocity(&x, 0.5, Some(&[6; 8])).unwrap());
    let copy = model.clone();
    assert_eq!(copy.velocity(&x, 0.5, Some(&[6; 8])).unwrap(), model.velocity(&x, 0.5, Some(&[6; 8])).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Class-aware metrics and the sweep
// ---------------------------------------------------------------------------------------------

#[test]
fn knn_classify_accuracy_and_spread_on_known_cases() {
    let reference = Points::from_rows(&[[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [5.0, 5.2]]).unwrap();
    let labels = [0, 0, 1, 1, 1];
    let x = Points::from_rows(&[[0.2, 0.1], [4.0, 4.0], [2.4, 2.4]]).unwrap();
    assert_eq!(knn_classify(&reference, &labels, &x, 1).unwrap(), vec![0, 1, 0]);
    assert_eq!(knn_classify(&reference, &labels, &x, 5).unwrap(), vec![1, 1, 1]);
    // A 2–2 tie goes to the label whose nearest point is closer.
    assert_eq!(knn_classify(&reference, &labels, &x, 4).unwrap(), vec![0, 1, 0]);
    assert!(knn_classify(&reference, &labels, &x, 6).is_err());
    assert!(knn_classify(&reference, &labels[..4], &x, 1).is_err());
    assert_eq!(accuracy(&[0, 1, 1, 2], &[0, 1, 2, 2]).unwrap(), 0.75);
    assert!(accuracy(&[0], &[0, 1]).is_err());
    // tr Cov of the four corners of the unit square about their centre: 4 · (¼ + ¼) / 4 = ½.
    let square = Points::from_rows(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).unwrap();
    assert!((spread(&square).unwrap() - 0.5).abs() < 1e-15);
}

#[test]
fn sample_class_draws_one_class_only() {
    let mut rng = StdRng::seed_from_u64(4);
    let moons = Moons::torchcfm();
    let inner = moons.sample_class_with(1, 300, &mut rng).unwrap();
    let (reference, labels) = moons.sample_labeled(2000, 5).unwrap();
    assert!(knn_classify(&reference, &labels, &inner, 5).unwrap().iter().all(|&y| y == 1));
    assert!(moons.sample_class_with(2, 10, &mut rng).is_err());
}

#[test]
fn the_sweep_of_the_exact_field_reaches_the_modes_and_checks_its_model() {
    let exact = eight();
    let settings = SweepSettings { per_class: 60, reference: 1600, progress: false, ..Default::default() };
    let rows = guidance::sweep(&exact, &EightGaussians::torchcfm(), &[0.0, 1.0, 3.0], &settings).unwrap();
    assert!(rows[0].accuracy < 0.3, "w = 0: {}", rows[0].accuracy);
    assert!(rows[1].accuracy > 0.97 && rows[2].accuracy > 0.97, "{rows:?}");
    assert!(rows[1].w2 < 1.5 * rows[1].w2_floor, "w = 1 samples its class: {rows:?}");
    assert!(rows[2].spread_ratio < rows[1].spread_ratio, "guidance narrows a class: {rows:?}");
    let e = guidance::sweep(&exact, &Moons::torchcfm(), &[1.0], &settings).unwrap_err();
    assert!(e.to_string().contains("2 classes"), "{e}");
}
