//! The training cell of notebook 7.4 (`Implementing Flow Matching`), timed, on a chosen device.
//!
//! ```text
//! cargo run --release --example notebook_train -- [--device cpu|cuda|cuda:N]
//! ```
//!
//! The cell: `Net::mlp(2, 64)` (SiLU, raw time, seed 0), CFM from N(0, I) to eight Gaussians,
//! 3000 Adam steps at lr 1e-3, batch 256, seed 0. The model is built on the CPU and moved by the
//! trainer (`Trainer::device`), as a notebook would do. `--device cuda` needs a build with
//! `--features cuda` (`scripts/cuda-build.sh`; `cuda/run-on-gpu.sh` runs it on the GPU machine).
//! The first GPU step includes starting CUDA and compiling dfdx's run-time kernels, as the
//! cell's would. The last lines are `final_loss: L`, `train_seconds: S` (the 3000 steps) and
//! `cell_seconds: C` (the whole call, moving the model to the device included).

use flowmatch::data::EightGaussians;
use flowmatch::nn::{Device, Net};
use flowmatch::train::{Progress, Trainer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let device = match args.as_slice() {
        [] => Ok(Device::Cpu),
        [flag, value] if flag == "--device" => value.parse::<Device>().map_err(|e| e.to_string()),
        _ => Err("usage: notebook_train [--device cpu|cuda|cuda:N]".to_string()),
    };
    let device = device.unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    if let Err(e) = run(device) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(device: Device) -> flowmatch::Result<()> {
    let mut model = Net::mlp(2, 64)?;
    let start = std::time::Instant::now();
    let report = Trainer::new(EightGaussians::torchcfm())
        .steps(3000)
        .batch_size(256)
        .lr(1e-3)
        .seed(0)
        .device(device)
        .progress(Progress::Off)
        .train(&mut model)?;
    let cell_seconds = start.elapsed().as_secs_f64();
    println!("cell: notebook 7.4, Net::mlp(2, 64), 3000 steps at batch 256");
    println!("device: {}", model.device());
    println!("final_loss: {:.4}", report.final_loss(200));
    println!("train_seconds: {:.2}", report.seconds);
    println!("cell_seconds: {cell_seconds:.2}");
    Ok(())
}
