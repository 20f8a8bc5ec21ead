//! Heatmaps: 2-D density histograms of samples and functions f(x, y) on a grid.

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::viridis;
use crate::error::{Error, Result};
use crate::points::Points;

enum HeatSource<'a> {
    Function(Box<dyn Fn(f64, f64) -> f64 + 'a>),
    Samples(&'a Points),
}

/// Largest number of grid cells per axis of a heatmap (the SVG holds one
/// rectangle per cell).
pub const MAX_HEATMAP_BINS: usize = 300;

/// Colour image of a value on a regular grid, with a colour bar: either the
/// empirical density of samples ([`Heatmap::histogram`], [`histogram2d`]) or a
/// function f(x, y) such as a closed-form log density ([`Heatmap::function`],
/// [`heatmap`]).
pub struct Heatmap<'a> {
    frame: Frame,
    source: HeatSource<'a>,
    bins: usize,
    color_range: Option<(f64, f64)>,
}

impl<'a> Heatmap<'a> {
    /// Density histogram of samples (n × 2) on a `bins × bins` grid (default 60).
    ///
    /// Each cell shows p̂ = count / (n · Δx · Δy), where n counts all finite
    /// samples (also those outside the range), so p̂ estimates the density and
    /// can be compared with a closed-form one. Default range: the samples'
    /// extent, same span on both axes.
    pub fn histogram(samples: &'a Points) -> Self {
        Heatmap { frame: Frame::default(), source: HeatSource::Samples(samples), bins: 60, color_range: None }
    }

    /// The function `f(x, y)` evaluated at the centre of each cell of a
    /// `bins × bins` grid (default 80) over `x_range × y_range`
    /// (default [-3, 3]², about ±3 standard deviations of N(0, I)).
    /// Cells where f is NaN or ±∞ are left blank (white).
    pub fn function(f: impl Fn(f64, f64) -> f64 + 'a) -> Self {
        Heatmap { frame: Frame::default(), source: HeatSource::Function(Box::new(f)), bins: 80, color_range: None }
    }

    frame_methods!();

    /// Number of cells per axis (1 to [`MAX_HEATMAP_BINS`]).
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// Fixes the values mapped to the two ends of the colour map; values
    /// outside are clamped. Default: the smallest and largest finite value.
    pub fn color_range(mut self, lo: f64, hi: f64) -> Self {
        self.color_range = Some((lo, hi));
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        let n = self.bins;
        if n == 0 {
            return Err(Error::ZeroCount { what: "the number of heatmap bins".into() });
        }
        if n > MAX_HEATMAP_BINS {
            return Err(Error::SizeLimit {
                what: "heatmap bins per axis".into(),
                size: n,
                limit: MAX_HEATMAP_BINS,
                hint: "Fewer bins draw faster and give a smaller SVG; 50–150 is plenty on screen".into(),
            });
        }
        if let Some((lo, hi)) = self.color_range {
            check_range("color_range", lo, hi)?;
        }
        let size = self.frame.size_or((560, 480))?;
        let (xr, yr, values) = match &self.source {
            HeatSource::Samples(pts) => {
                let xy = xy_rows(pts, "the samples of a 2-D histogram")?;
                let (xr, yr) = cloud_ranges(&self.frame, &xy)?;
                (xr, yr, histogram_grid(&xy, n, xr, yr))
            }
            HeatSource::Function(f) => {
                let (fx, fy) = self.frame.checked_ranges()?;
                let (xr, yr) = (fx.unwrap_or((-3.0, 3.0)), fy.unwrap_or((-3.0, 3.0)));
                let (dx, dy) = ((xr.1 - xr.0) / n as f64, (yr.1 - yr.0) / n as f64);
                let mut v = Vec::with_capacity(n * n);
                for j in 0..n {
                    for i in 0..n {
                        v.push(f(xr.0 + (i as f64 + 0.5) * dx, yr.0 + (j as f64 + 0.5) * dy));
                    }
                }
                (xr, yr, v)
            }
        };
        let (lo, hi) = match self.color_range {
            Some(r) => r,
            None => {
                let (lo, hi) = values
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                if lo > hi {
                    return Err(Error::NonFinite {
                        what: "the heatmap values".into(),
                        detail: "every cell is NaN or infinite; check the function on this range".into(),
                    });
                }
                if hi - lo <= 1e-12 * (1.0 + hi.abs()) {
                    (lo - 0.5, hi + 0.5)
                } else {
                    (lo, hi)
                }
            }
        };
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let (w, _) = area.dim_in_pixel();
            let (main, bar) = area.split_horizontally(w.saturating_sub(80));
            let axes = Axes {
                x_label: self.frame.x_label.as_deref(),
                y_label: self.frame.y_label.as_deref(),
                tick_font: TICK_FONT,
                y_ticks_width: tick_label_width(yr, false, TICK_FONT),
                margin_right: 4,
            };
            let mut ch = chart(&main, xr.0..xr.1, yr.0..yr.1, &axes)?;
            let (dx, dy) = ((xr.1 - xr.0) / n as f64, (yr.1 - yr.0) / n as f64);
            ch.draw_series(values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(k, &v)| {
                let (i, j) = ((k % n) as f64, (k / n) as f64);
                let c = viridis((v - lo) / (hi - lo));
                Rectangle::new(
                    [(xr.0 + i * dx, yr.0 + j * dy), (xr.0 + (i + 1.0) * dx, yr.0 + (j + 1.0) * dy)],
                    c.rgb().filled(),
                )
            }))
            .map_err(plot_err)?;
            let plot_y = ch.plotting_area().get_pixel_range().1;
            colorbar(&bar, lo, hi, plot_y, viridis)
        })
    }
}

/// Density estimate on a `n × n` grid, row-major from the bottom-left cell.
fn histogram_grid(xy: &[(f64, f64)], n: usize, xr: (f64, f64), yr: (f64, f64)) -> Vec<f64> {
    let (dx, dy) = ((xr.1 - xr.0) / n as f64, (yr.1 - yr.0) / n as f64);
    let mut counts = vec![0usize; n * n];
    for &(x, y) in xy {
        if inside((x, y), xr, yr) {
            let i = (((x - xr.0) / dx) as usize).min(n - 1);
            let j = (((y - yr.0) / dy) as usize).min(n - 1);
            counts[j * n + i] += 1;
        }
    }
    let norm = xy.len() as f64 * dx * dy;
    counts.into_iter().map(|c| c as f64 / norm).collect()
}

/// Density histogram of samples (n × 2) on a `bins × bins` grid:
/// p̂(cell) = count / (n · Δx · Δy). See [`Heatmap::histogram`] for options.
pub fn histogram2d(samples: &Points, bins: usize) -> Result<Figure> {
    Heatmap::histogram(samples).bins(bins).build()
}

/// Heatmap of `f(x, y)` on an `n × n` grid over `range × range`
/// (e.g. a closed-form log density). See [`Heatmap::function`] for options.
pub fn heatmap(f: impl Fn(f64, f64) -> f64, range: (f64, f64), n: usize) -> Result<Figure> {
    Heatmap::function(f).x_range(range.0, range.1).y_range(range.0, range.1).bins(n).build()
}
