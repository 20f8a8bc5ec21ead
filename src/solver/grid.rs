//! [`TimeGrid`]: the times t₀, t₁, …, t_K at which a solve reports its state.
//!
//! ```text
//! uniform(t₀, t₁, K):  t_k = t₀ + (t₁ − t₀)·k/K,   k = 0, …, K      (strictly monotone, forward or backward)
//! ```

use crate::error::{Error, Result};

/// Largest number of steps [`TimeGrid::uniform`] builds (ten million).
pub const MAX_UNIFORM_STEPS: usize = 10_000_000;

/// A validated, strictly monotone list of times `t_0, t_1, …, t_K` (K ≥ 1).
///
/// The grid runs forwards (`t_0 < t_1 < …`, sampling) or backwards
/// (`t_0 > t_1 > …`, e.g. from 1 to 0 for likelihoods). Fixed-step methods
/// take one step per interval; adaptive methods report the state at each time.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeGrid {
    times: Vec<f64>,
}

impl TimeGrid {
    /// Wraps explicit times after checking them.
    ///
    /// Errors with [`Error::TimeGrid`] when the list is empty, has a single
    /// time, holds a NaN or infinite time, or is not strictly increasing or
    /// strictly decreasing throughout (repeated times included).
    pub fn new(times: Vec<f64>) -> Result<TimeGrid> {
        if times.is_empty() {
            return Err(Error::TimeGrid { reason: "the grid is empty (no times at all)".into() });
        }
        if let Some(i) = times.iter().position(|t| !t.is_finite()) {
            return Err(Error::TimeGrid { reason: format!("time {i} is {}, which is not a finite number", times[i]) });
        }
        if times.len() == 1 {
            return Err(Error::TimeGrid {
                reason: format!("the grid has a single time t = {}; it needs a start and an end time", times[0]),
            });
        }
        let forward = times[1] > times[0];
        for (i, w) in times.windows(2).enumerate() {
            let ok = if forward { w[1] > w[0] } else { w[1] < w[0] };
            if !ok {
                let reason = if w[0] == w[1] {
                    format!("times {i} and {} are both {}; a grid must not repeat a time", i + 1, w[0])
                } else {
                    let way = if forward { "increases" } else { "decreases" };
                    format!(
                        "the grid is not monotone: it {way} at first (t_0 = {}, t_1 = {}) but goes from \
                         t_{i} = {} to t_{} = {}",
                        times[0],
                        times[1],
                        w[0],
                        i + 1,
                        w[1]
                    )
                };
                return Err(Error::TimeGrid { reason });
            }
        }
        Ok(TimeGrid { times })
    }

    /// `steps` equal intervals from `t0` to `t1`: `t_k = t0 + (t1 − t0)·k/steps`, `k = 0, …, steps`.
    ///
    /// `t1 < t0` gives a backward grid. The last time is exactly `t1`.
    /// Errors with [`Error::ZeroCount`] when `steps == 0`, [`Error::TimeGrid`]
    /// when `t0 == t1` or either is NaN/infinite, and [`Error::SizeLimit`]
    /// above [`MAX_UNIFORM_STEPS`].
    pub fn uniform(t0: f64, t1: f64, steps: usize) -> Result<TimeGrid> {
        if steps == 0 {
            return Err(Error::ZeroCount { what: "the number of steps of TimeGrid::uniform".into() });
        }
        if steps > MAX_UNIFORM_STEPS {
            return Err(Error::SizeLimit {
                what: "TimeGrid::uniform steps".into(),
                size: steps,
                limit: MAX_UNIFORM_STEPS,
                hint: "Use fewer steps, or an adaptive method (Method::dopri5) on a short grid".into(),
            });
        }
        for (name, t) in [("t0", t0), ("t1", t1)] {
            if !t.is_finite() {
                return Err(Error::TimeGrid { reason: format!("{name} = {t} is not a finite number") });
            }
        }
        if t0 == t1 {
            return Err(Error::TimeGrid {
                reason: format!("t0 and t1 are both {t0}, so the interval has zero length"),
            });
        }
        let span = t1 - t0;
        let n = steps as f64;
        let mut times: Vec<f64> = (0..=steps).map(|k| t0 + span * (k as f64) / n).collect();
        times[steps] = t1;
        TimeGrid::new(times)
    }

    /// The times `t_0, …, t_K`.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// Number of intervals `K` (one less than the number of times).
    pub fn steps(&self) -> usize {
        self.times.len() - 1
    }

    /// Start time `t_0`.
    pub fn t0(&self) -> f64 {
        self.times[0]
    }

    /// End time `t_K`.
    pub fn t1(&self) -> f64 {
        self.times[self.times.len() - 1]
    }

    /// True when the times increase (`t_0 < t_K`), false on a backward grid.
    pub fn is_forward(&self) -> bool {
        self.times[1] > self.times[0]
    }

    /// The same times in reverse order (`t_K, …, t_0`): a forward grid becomes backward and vice versa.
    pub fn reversed(&self) -> TimeGrid {
        TimeGrid { times: self.times.iter().rev().copied().collect() }
    }
}
