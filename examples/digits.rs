//! A small U-Net trained on the 8 × 8 handwritten digits, then sampled with classifier-free guidance.
//!
//! ```text
//! cargo run --release --example digits -- [--steps N] [--seed S] [--batch B] [--lr LR]
//!                                         [--channels C] [--save PATH] [--per-class M] [--nfe N]
//! ```
//!
//! Data: the training split of `Digits` (1 442 images, pixels in [−1, 1]). Model: `UNet` with
//! `UNetConfig { channels: C, seed: S, ..Default::default() }` (C = 32: 8 × 8 × C and 4 × 4 × 2C,
//! embedding 64, 10 classes and ∅). CFM on the CondOT path from N(0, I), label dropout
//! p_uncond = 0.2, Adam, batch B (128), lr 1e-3 by default, N steps (3000) with a progress line.
//! `--save PATH` writes the checkpoint (safetensors, with the training settings).
//!
//! Then, on the held-out test split: the CFM loss (one batch of 1 000, seed 0), a 5-NN classifier
//! on the training images (its test accuracy, a yardstick for the measure below), and for
//! w ∈ {0, 1, 2, 3} M samples per class (100), N (20) midpoint steps: the share whose 5-NN class is
//! the class asked for, W2 to as many training images of that class, and the spread ratio.
//! This k-NN share stands in for the class accuracy of the issue (a trained classifier comes later).
//! Last lines: `key: value`, e.g. `train_seconds`, `test_loss`, `knn_test_accuracy`,
//! `sample_1000_seconds` (1 000 guided digits, w = 2), and `knn_class_accuracy_wW` for each w.

mod common;

use flowmatch::data::Digits;
use flowmatch::guidance::{balanced_labels, sample, sweep, SweepSettings};
use flowmatch::metrics::{accuracy, knn_classify};
use flowmatch::nn::{TrainableModel, UNet, UNetConfig};
use flowmatch::solver::Method;
use flowmatch::train::Trainer;
use rand::SeedableRng;

const WS: [f64; 4] = [0.0, 1.0, 2.0, 3.0];
const USAGE: &str = "usage: digits [--steps N] [--seed S] [--batch B] [--lr LR] [--channels C] [--save PATH] \
                     [--per-class M] [--nfe N]";

struct Args {
    steps: usize,
    seed: u64,
    batch: usize,
    lr: f64,
    channels: usize,
    save: Option<String>,
    per_class: usize,
    nfe: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { steps: 3000, seed: 0, batch: 128, lr: 1e-3, channels: 32, save: None, per_class: 100, nfe: 20 };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        fn num<T: std::str::FromStr>(k: &str, v: String) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e| format!("{k}: {e}"))
        }
        match k.as_str() {
            "--steps" => a.steps = num(&k, v()?)?,
            "--seed" => a.seed = num(&k, v()?)?,
            "--batch" => a.batch = num(&k, v()?)?,
            "--lr" => a.lr = num(&k, v()?)?,
            "--channels" => a.channels = num(&k, v()?)?,
            "--save" => a.save = Some(v()?),
            "--per-class" => a.per_class = num(&k, v()?)?,
            "--nfe" => a.nfe = num(&k, v()?)?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}' ({USAGE})")),
        }
    }
    Ok(a)
}

fn main() {
    common::main_with(parse, run);
}

fn run(a: &Args) -> flowmatch::Result<()> {
    let (train, test) = (Digits::train()?, Digits::test()?);
    let mut net = UNet::new(UNetConfig { channels: a.channels, seed: a.seed, ..Default::default() })?;
    println!(
        "UNet {:?}: {} parameters; {} steps, batch {}, lr {}, seed {}, label dropout 0.2",
        net.config(),
        net.num_params(),
        a.steps,
        a.batch,
        a.lr,
        a.seed
    );
    let trainer =
        Trainer::new(train.clone()).label_dropout(0.2).steps(a.steps).batch_size(a.batch).lr(a.lr).seed(a.seed);
    let report = trainer.train(&mut net)?;
    println!(
        "trained {} steps in {:.1}s ({:.2} steps/s), final loss {:.4}",
        report.steps(),
        report.seconds,
        report.steps_per_second(),
        report.final_loss(100)
    );
    if let Some(path) = &a.save {
        net.save_checkpoint(std::path::Path::new(path), Some(trainer.describe_json()))?;
        println!("saved {path}");
    }

    // The CFM loss on held-out digits (no label dropout: every row keeps its label).
    let held_out =
        Trainer::new(test.clone()).current_objective().draw(1000, &mut rand::rngs::StdRng::seed_from_u64(0))?;
    let test_loss = net.loss(&held_out)?;

    // The yardstick of the k-NN measure: how well 5-NN on the training images labels real test digits.
    let knn = knn_classify(train.images(), train.labels(), test.images(), 5)?;
    let knn_test_accuracy = accuracy(&knn, test.labels())?;

    let t0 = std::time::Instant::now();
    let x = sample(&net, balanced_labels(10, 100), 2.0, a.nfe, Method::Midpoint, a.seed)?;
    let sample_seconds = t0.elapsed().as_secs_f64();
    assert_eq!(x.len(), 1000);

    let settings = SweepSettings {
        per_class: a.per_class,
        steps: a.nfe,
        method: Method::Midpoint,
        reference: 4000,
        neighbours: 5,
        seed: a.seed.wrapping_add(1),
        progress: true,
    };
    let rows = sweep(&net, &train, &WS, &settings)?;
    println!();
    println!("train_steps: {}", report.steps());
    println!("train_seconds: {:.1}", report.seconds);
    println!("steps_per_second: {:.2}", report.steps_per_second());
    println!("final_loss: {:.4}", report.final_loss(100));
    println!("test_loss: {test_loss:.4}");
    println!("knn_test_accuracy: {knn_test_accuracy:.4}");
    println!("sample_1000_seconds: {sample_seconds:.2}");
    for r in &rows {
        println!("w2_w{}: {:.3}", r.w, r.w2);
        println!("spread_ratio_w{}: {:.3}", r.w, r.spread_ratio);
    }
    for r in &rows {
        println!("knn_class_accuracy_w{}: {:.4}", r.w, r.accuracy);
    }
    Ok(())
}
