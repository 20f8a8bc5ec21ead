//! Trains the digit classifier that judges generated digits, and saves it.
//!
//! ```text
//! cargo run --release --example digit_classifier -- [--epochs E] [--seed S] [--noise SIGMA] [--save PATH]
//! ```
//!
//! `DigitClassifier::train` on the training split of `Digits` (an MLP 64 → 256 → 64 → 10, Adam on the
//! cross-entropy; see `src/nn/classifier.rs`), then its accuracy on the 355 held-out test digits.
//! The shipped `checkpoints/digits/classifier.safetensors` is this command with `--save` and the
//! defaults. Last lines: `train_seconds`, `test_accuracy`.

mod common;

use flowmatch::nn::{ClassifierConfig, DigitClassifier};

struct Args {
    config: ClassifierConfig,
    save: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { config: ClassifierConfig::default(), save: None };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().ok_or(format!("{k} needs a value"))?;
        let bad = |e: String| format!("{k}: {e}");
        match k.as_str() {
            "--epochs" => a.config.epochs = v.parse().map_err(|e| bad(format!("{e}")))?,
            "--seed" => a.config.seed = v.parse().map_err(|e| bad(format!("{e}")))?,
            "--noise" => a.config.noise = v.parse().map_err(|e| bad(format!("{e}")))?,
            "--save" => a.save = Some(v),
            other => {
                return Err(format!(
                    "unknown argument '{other}' (usage: digit_classifier [--epochs E] [--seed S] [--noise SIGMA] [--save PATH])"
                ))
            }
        }
    }
    Ok(a)
}

fn main() {
    common::main_with(parse, run);
}

fn run(a: &Args) -> flowmatch::Result<()> {
    let t0 = std::time::Instant::now();
    let clf = DigitClassifier::train(a.config.clone())?;
    let seconds = t0.elapsed().as_secs_f64();
    println!("{clf:?}");
    if let Some(path) = &a.save {
        clf.save(path, Some(serde_json::json!({ "command": std::env::args().collect::<Vec<_>>().join(" ") })))?;
        println!("saved {path}");
    }
    println!("train_seconds: {seconds:.1}");
    println!("test_accuracy: {:.4}", clf.test_accuracy()?);
    Ok(())
}
