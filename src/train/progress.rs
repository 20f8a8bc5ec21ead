//! The progress line of a training run: step, smoothed loss, rate and time left.
//!
//! ```text
//! step  300/3000 [ 10%]  loss 1.2345  620 steps/s  0.5s elapsed, ~4.4s left      (loss: EMA, ℓ̄ ← 0.95 ℓ̄ + 0.05 ℓ)
//! ```

use super::Progress;
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Prints progress: step, loss (smoothed), rate and time left.
pub(super) struct ProgressLine {
    mode: Progress,
    total: usize,
    every: usize,
    last_print: Instant,
    smoothed: Option<f64>,
}

impl ProgressLine {
    pub(super) fn new(mode: Progress, total: usize) -> Self {
        let mode = match mode {
            Progress::Auto if std::io::stderr().is_terminal() => Progress::Live,
            Progress::Auto => Progress::Lines,
            m => m,
        };
        ProgressLine { mode, total, every: total.div_ceil(10).max(1), last_print: Instant::now(), smoothed: None }
    }

    fn text(&self, step: usize, start: Instant) -> String {
        let secs = start.elapsed().as_secs_f64();
        let rate = step as f64 / secs.max(1e-9);
        let left = (self.total - step) as f64 / rate.max(1e-9);
        let width = self.total.to_string().len();
        let loss = self.smoothed.map(|l| format!("{l:.4}")).unwrap_or_else(|| "-".into());
        format!(
            "step {step:>width$}/{} [{:>3.0}%]  loss {loss}  {rate:.0} steps/s  {secs:.1}s elapsed, ~{left:.1}s left",
            self.total,
            100.0 * step as f64 / self.total as f64
        )
    }

    pub(super) fn update(&mut self, step: usize, loss: f64, start: Instant) {
        self.smoothed = Some(match self.smoothed {
            None => loss,
            Some(s) => 0.95 * s + 0.05 * loss,
        });
        match self.mode {
            Progress::Lines if step.is_multiple_of(self.every) || step == 1 => {
                println!("{}", self.text(step, start));
                let _ = std::io::stdout().flush();
            }
            Progress::Live if self.last_print.elapsed().as_millis() >= 100 || step == self.total => {
                self.last_print = Instant::now();
                let mut e = std::io::stderr();
                let _ = write!(e, "\r{}\x1b[K", self.text(step, start));
                let _ = e.flush();
            }
            _ => {}
        }
    }

    pub(super) fn finish(&mut self, step: usize, _loss: Option<f64>, start: Instant) {
        match self.mode {
            Progress::Live => {
                let _ = writeln!(std::io::stderr(), "\r{}\x1b[K", self.text(step, start));
            }
            Progress::Lines if !step.is_multiple_of(self.every) && step > 1 => println!("{}", self.text(step, start)),
            _ => {}
        }
    }
}
