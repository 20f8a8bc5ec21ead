//! The evolving density p_t at several times, as a row of heatmaps from a closed form.
//!
//! ```text
//! panel k:  x ↦ p_{t_k}(x) on a grid,   p_t = Σ_k w_k N(α_t m_k, α_t² C_k + σ_t² I)   (crate::marginal)
//! ```

use super::animation::DensityPath;
use super::figure::{Figure, Panels};
use super::heatmap::Heatmap;
use super::time_strip::MAX_PANELS;
use crate::error::{Error, Result};
use crate::points::Points;

/// A row of heatmaps of p_t, one per time, on shared axes (default [-3, 3]²).
/// Each panel is scaled to its own maximum, so a spread-out p₀ and a sharp p₁
/// are both visible. Build with [`DensityStrip::new`] or use [`density_strip`].
pub struct DensityStrip<'a> {
    density: &'a dyn DensityPath,
    times: &'a [f64],
    range: (f64, f64),
    bins: usize,
    title: Option<String>,
}

impl<'a> DensityStrip<'a> {
    /// p_t of `density` (e.g. a [`crate::marginal::Marginal`]) at each of `times`.
    pub fn new(density: &'a dyn DensityPath, times: &'a [f64]) -> Self {
        DensityStrip { density, times, range: (-3.0, 3.0), bins: 70, title: None }
    }

    /// The square [lo, hi]² shown in every panel.
    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = (lo, hi);
        self
    }

    /// Cells per axis (default 70).
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// A title above the row.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        if self.times.is_empty() || self.times.len() > MAX_PANELS {
            return Err(Error::invalid(
                "times of a density strip",
                format!("{} times: pass 1 to {MAX_PANELS}", self.times.len()),
            ));
        }
        let (lo, hi) = self.range;
        super::axes::check_range("range of a density strip", lo, hi)?;
        let mut figures = Vec::new();
        for &t in self.times {
            // One batch evaluation per panel, then the heatmap reads the grid.
            let n = self.bins.max(1);
            let at = |i: usize| lo + (i as f64 + 0.5) / n as f64 * (hi - lo);
            let grid = Points::from_fn(n * n, 2, |k, j| if j == 0 { at(k % n) } else { at(k / n) });
            let logp = self.density.log_density_at(&grid, t)?;
            let top = logp.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
            let cell = |v: f64| (((v - lo) / (hi - lo) * n as f64).floor() as usize).min(n - 1);
            let value = |x: f64, y: f64| (logp[cell(y) * n + cell(x)] - top).exp();
            figures.push(
                Heatmap::function(value)
                    .bins(n)
                    .x_range(lo, hi)
                    .y_range(lo, hi)
                    .color_range(0.0, 1.0)
                    .title(format!("p_t at t = {}", super::axes::fmt_tick(&t)))
                    .size(260, 250)
                    .build()?,
            );
        }
        let mut panels = Panels::new(figures);
        if let Some(t) = &self.title {
            panels = panels.title(t.clone());
        }
        panels.build()
    }
}

/// p_t of `density` at each of `times`, as a row of heatmaps on [-3, 3]². See [`DensityStrip`].
pub fn density_strip(density: &dyn DensityPath, times: &[f64]) -> Result<Figure> {
    DensityStrip::new(density, times).build()
}
