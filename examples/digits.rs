//! Guided digits from the U-Net, judged by the digit classifier: class accuracy and Fréchet distance
//! against w and against NFE.
//!
//! ```text
//! cargo run --release --example digits -- [--checkpoint PATH] [--w W] [--nfe N] [--samples N] [--seed S]
//!     [--train [--steps N] [--channels C] [--batch B] [--lr LR] [--save PATH]] [--no-sweep]
//! ```
//!
//! By default it samples from the shipped `checkpoints/digits/unet.safetensors` (`UNet::shipped`);
//! `--checkpoint PATH` takes another, and `--train` trains a fresh `UNet` instead (CFM on the CondOT
//! path, label dropout 0.2, Adam; `--steps` 1500, `--channels` 16, `--batch` 128, `--lr` 1e-3, with a
//! progress line; `--save PATH` writes it). The judge is the shipped `DigitClassifier`.
//!
//! NFE counts evaluations of the guided velocity ṽ = (1 − w) v(x, t | ∅) + w v(x, t | y): midpoint
//! steps take two each, so NFE is even (40 = 20 steps; each ṽ is two passes of the U-Net).
//! `--samples N` guided digits (N/10 per class) per setting, sampled from the same seeded noise:
//! one table against w (at `--nfe`), one against NFE (at `--w`), each row the class accuracy (the
//! share the classifier assigns to the digit asked for) and the Fréchet distance to the 355 real
//! test digits in the classifier's features (the train–test distance is printed as its floor).
//! Then 1 000 digits at `--w` with 20 midpoint steps, timed. Last lines are `key: value`; the last
//! three are `classifier_test_accuracy`, `class_accuracy` and `frechet` at `--w` and `--nfe`.
//!
//! `--bench-train N` only times N training steps of a fresh U-Net (after two warm-up steps), for the
//! yardstick `benches/unet_torch.py`; its last line is `train_steps_per_s`.

mod common;

use flowmatch::data::Digits;
use flowmatch::nn::{DigitClassifier, DigitScore, TrainableModel, UNet, UNetConfig};
use flowmatch::train::{Progress, Trainer};

const WS: [f64; 7] = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0];
const NFES: [usize; 5] = [4, 8, 16, 40, 80];
const USAGE: &str = "usage: digits [--checkpoint PATH] [--w W] [--nfe N] [--samples N] [--seed S] \
                     [--train [--steps N] [--channels C] [--batch B] [--lr LR] [--save PATH]] [--no-sweep] \
                     [--bench-train N [--channels C] [--batch B]]";

struct Args {
    checkpoint: Option<String>,
    w: f64,
    nfe: usize,
    samples: usize,
    seed: u64,
    train: bool,
    steps: usize,
    channels: usize,
    batch: usize,
    lr: f64,
    save: Option<String>,
    sweep: bool,
    bench_train: Option<usize>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        checkpoint: None,
        w: 2.0,
        nfe: 40,
        samples: 1000,
        seed: 0,
        train: false,
        steps: 1500,
        channels: 16,
        batch: 128,
        lr: 1e-3,
        save: None,
        sweep: true,
        bench_train: None,
    };
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
            "--checkpoint" => a.checkpoint = Some(v()?),
            "--w" => a.w = num(&k, v()?)?,
            "--nfe" => a.nfe = num(&k, v()?)?,
            "--samples" => a.samples = num(&k, v()?)?,
            "--seed" => a.seed = num(&k, v()?)?,
            "--train" => a.train = true,
            "--steps" => a.steps = num(&k, v()?)?,
            "--channels" => a.channels = num(&k, v()?)?,
            "--batch" => a.batch = num(&k, v()?)?,
            "--lr" => a.lr = num(&k, v()?)?,
            "--save" => a.save = Some(v()?),
            "--no-sweep" => a.sweep = false,
            "--bench-train" => a.bench_train = Some(num(&k, v()?)?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument '{other}' ({USAGE})")),
        }
    }
    if a.nfe == 0 || !a.nfe.is_multiple_of(2) {
        return Err(format!("--nfe {}: midpoint steps take two evaluations each, so pass an even NFE ≥ 2", a.nfe));
    }
    if a.samples < 20 || !a.samples.is_multiple_of(10) {
        return Err(format!("--samples {}: pass a multiple of 10 (one tenth per digit), at least 20", a.samples));
    }
    if a.train && a.checkpoint.is_some() {
        return Err("--train and --checkpoint exclude each other (train a fresh model, or load one)".into());
    }
    Ok(a)
}

fn main() {
    common::main_with(parse, run);
}

fn model(a: &Args) -> flowmatch::Result<UNet> {
    if !a.train {
        let net = match &a.checkpoint {
            Some(path) => UNet::load(path)?,
            None => UNet::shipped()?,
        };
        println!("loaded {} ({net:?})", a.checkpoint.as_deref().unwrap_or("the shipped U-Net"));
        return Ok(net);
    }
    let mut net = UNet::new(UNetConfig { channels: a.channels, seed: a.seed, ..Default::default() })?;
    println!(
        "training UNet {:?}: {} parameters; {} steps, batch {}, lr {}, seed {}, label dropout 0.2",
        net.config(),
        net.num_params(),
        a.steps,
        a.batch,
        a.lr,
        a.seed
    );
    let trainer =
        Trainer::new(Digits::train()?).label_dropout(0.2).steps(a.steps).batch_size(a.batch).lr(a.lr).seed(a.seed);
    let report = trainer.train(&mut net)?;
    println!(
        "trained {} steps in {:.1}s ({:.2} steps/s), final loss {:.4}",
        report.steps(),
        report.seconds,
        report.steps_per_second(),
        report.final_loss(100)
    );
    println!("train_seconds: {:.1}", report.seconds);
    if let Some(path) = &a.save {
        let mut training = trainer.describe_json();
        training["command"] = std::env::args().collect::<Vec<_>>().join(" ").into();
        net.save_checkpoint(std::path::Path::new(path), Some(training))?;
        println!("saved {path}");
    }
    Ok(net)
}

fn row(s: &DigitScore) {
    println!(
        "| {:>4} | {:>4} | {:>5} | {:>14.3} | {:>7.2} | {:>7.1} |",
        s.w,
        2 * s.steps,
        s.steps,
        s.class_accuracy,
        s.frechet,
        s.seconds
    );
}

fn header(first: &str) {
    println!("{first}");
    println!("|    w |  NFE | steps | class accuracy | Fréchet | seconds |");
    println!("| ---: | ---: | ----: | -------------: | ------: | ------: |");
}

/// The speed yardstick: two warm-up steps, then N timed training steps of a fresh U-Net (data
/// draws included), as `benches/unet_torch.py` times PyTorch's.
fn bench_train(a: &Args, n: usize) -> flowmatch::Result<()> {
    let mut net = UNet::new(UNetConfig { channels: a.channels, seed: a.seed, ..Default::default() })?;
    let trainer = |steps| {
        Trainer::new(Digits::train().expect("the digits are compiled in"))
            .label_dropout(0.2)
            .steps(steps)
            .batch_size(a.batch)
            .lr(a.lr)
            .seed(a.seed)
            .progress(Progress::Off)
    };
    trainer(2).train(&mut net)?;
    let t0 = std::time::Instant::now();
    let report = trainer(n).train(&mut net)?;
    let seconds = t0.elapsed().as_secs_f64();
    println!(
        "UNet C={}: {} parameters; batch {}, {} steps in {seconds:.2}s, last loss {:.4}",
        a.channels,
        net.num_params(),
        a.batch,
        report.steps(),
        report.final_loss(1)
    );
    println!("train_seconds: {seconds:.3}");
    println!("train_steps_per_s: {:.2}", n as f64 / seconds);
    Ok(())
}

fn run(a: &Args) -> flowmatch::Result<()> {
    if let Some(n) = a.bench_train {
        return bench_train(a, n);
    }
    let net = model(a)?;
    let clf = DigitClassifier::shipped()?;
    let (train, test) = (Digits::train()?, Digits::test()?);
    let test_accuracy = clf.test_accuracy()?;
    let floor = clf.frechet(train.images(), test.images())?;
    println!("classifier test accuracy {test_accuracy:.4}; Fréchet train–test (the floor) {floor:.2}");
    let per_class = a.samples / 10;
    let steps = a.nfe / 2;
    if a.sweep {
        header(&format!("\nagainst w ({} samples, NFE {}):", a.samples, a.nfe));
        for &w in &WS {
            row(&clf.score(&net, w, steps, per_class, a.seed)?);
        }
        header(&format!("\nagainst NFE ({} samples, w = {}):", a.samples, a.w));
        for &nfe in &NFES {
            row(&clf.score(&net, a.w, nfe / 2, per_class, a.seed)?);
        }
    }
    let thousand = clf.score(&net, a.w, 20, 100, a.seed)?;
    let chosen = if (per_class, steps) == (100, 20) {
        thousand.clone()
    } else {
        clf.score(&net, a.w, steps, per_class, a.seed)?
    };
    println!();
    println!("frechet_floor: {floor:.3}");
    println!("sample_1000_seconds: {:.2}", thousand.seconds);
    println!("classifier_test_accuracy: {test_accuracy:.4}");
    println!("class_accuracy: {:.4}", chosen.class_accuracy);
    println!("frechet: {:.3}", chosen.frechet);
    Ok(())
}
