//! Line charts: the training loss curve and general (x, y) series, on linear or log axes.

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};

/// One polyline of a line chart.
struct Curve {
    label: String,
    xy: Vec<(f64, f64)>,
    color: Rgb,
    alpha: f64,
    width: u32,
    markers: bool,
    /// A shaded band (x, lo, hi) drawn under the line; empty for none.
    band: Vec<(f64, f64, f64)>,
}

/// Most vertices drawn per curve; longer curves are thinned to every k-th point.
const MAX_VERTICES: usize = 2000;

fn thin(xy: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if xy.len() <= MAX_VERTICES {
        return xy;
    }
    let stride = xy.len().div_ceil(MAX_VERTICES);
    let last = xy[xy.len() - 1];
    let mut out: Vec<(f64, f64)> = xy.into_iter().step_by(stride).collect();
    if out.last() != Some(&last) {
        out.push(last);
    }
    out
}

/// Draws a line chart of `curves` on linear or logarithmic axes.
fn line_chart(frame: &Frame, default_size: (u32, u32), curves: &[Curve], log_x: bool, log_y: bool) -> Result<Figure> {
    let size = frame.size_or(default_size)?;
    let (fx, fy) = frame.checked_ranges()?;
    let band_points: Vec<(f64, f64)> =
        curves.iter().flat_map(|c| c.band.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)])).collect();
    let all = || curves.iter().flat_map(|c| c.xy.iter()).chain(band_points.iter());
    for (axis, log, range, pick) in
        [("x", log_x, fx, (|p: &(f64, f64)| p.0) as fn(&(f64, f64)) -> f64), ("y", log_y, fy, |p: &(f64, f64)| p.1)]
    {
        if !log {
            continue;
        }
        if let Some((lo, _)) = range.filter(|r| r.0 <= 0.0) {
            return Err(Error::invalid(
                format!("{axis}_range on a log axis"),
                format!("it starts at {lo}; a log axis needs a positive range"),
            ));
        }
        if let Some(v) = all().map(pick).find(|v| *v <= 0.0) {
            return Err(Error::invalid(
                format!("{axis} values on a log axis"),
                format!("{v} is not positive; use a linear {axis} axis or drop non-positive values"),
            ));
        }
    }
    let fit_log = |v: Vec<f64>| {
        fit(v.iter().map(|x| x.log10())).map(|(lo, hi)| (10f64.powf(lo), 10f64.powf(hi))).unwrap_or((1.0, 10.0))
    };
    let fit_lin = |v: Vec<f64>| fit(v.into_iter()).unwrap_or((0.0, 1.0));
    let xs: Vec<f64> = all().map(|p| p.0).collect();
    let ys: Vec<f64> = all().map(|p| p.1).collect();
    let xr = fx.unwrap_or_else(|| if log_x { fit_log(xs) } else { fit_lin(xs) });
    let yr = fy.unwrap_or_else(|| if log_y { fit_log(ys) } else { fit_lin(ys) });
    render(size, |root| {
        let area = titled(root, frame.title.as_deref(), TITLE_FONT)?;
        let entries: Vec<_> = curves
            .iter()
            .filter(|c| !c.label.is_empty())
            .map(|c| {
                let mark = if c.markers { Mark::Dot } else { Mark::Line { alpha: c.alpha, width: c.width } };
                (c.label.clone(), c.color, mark)
            })
            .collect();
        let area = legend_row(&area, &entries, 2)?;
        let axes = Axes {
            x_label: frame.x_label.as_deref(),
            y_label: frame.y_label.as_deref(),
            tick_font: TICK_FONT,
            y_ticks_width: tick_label_width(yr, log_y, TICK_FONT),
            margin_right: 18,
        };
        let log_axis = |r: Span| {
            let (bold, light) = log_ticks(r.0, r.1);
            (r.0..r.1).log_scale().with_key_points(bold).with_light_points(light)
        };
        match (log_x, log_y) {
            (false, false) => draw_curves(chart(&area, xr.0..xr.1, yr.0..yr.1, &axes)?, curves, xr, yr),
            (true, false) => draw_curves(chart(&area, log_axis(xr), yr.0..yr.1, &axes)?, curves, xr, yr),
            (false, true) => draw_curves(chart(&area, xr.0..xr.1, log_axis(yr), &axes)?, curves, xr, yr),
            (true, true) => draw_curves(chart(&area, log_axis(xr), log_axis(yr), &axes)?, curves, xr, yr),
        }
    })
}

fn draw_curves<X, Y>(mut ch: Chart2d<'_, '_, X, Y>, curves: &[Curve], xr: (f64, f64), yr: (f64, f64)) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for c in curves.iter().filter(|c| c.band.len() > 1) {
        let clamp = |x: f64, y: f64| (x.clamp(xr.0, xr.1), y.clamp(yr.0, yr.1));
        let mut outline: Vec<(f64, f64)> = c.band.iter().map(|&(x, lo, _)| clamp(x, lo)).collect();
        outline.extend(c.band.iter().rev().map(|&(x, _, hi)| clamp(x, hi)));
        ch.draw_series(std::iter::once(Polygon::new(outline, c.color.alpha(0.18).filled()))).map_err(plot_err)?;
    }
    for c in curves {
        let style = c.color.alpha(c.alpha).stroke_width(c.width);
        ch.draw_series(clip_path(&c.xy, xr, yr).into_iter().map(|piece| PathElement::new(piece, style)))
            .map_err(plot_err)?;
        if c.markers {
            ch.draw_series(
                c.xy.iter()
                    .filter(|p| inside(**p, xr, yr))
                    .map(|p| Circle::new(*p, 3, c.color.alpha(c.alpha).filled())),
            )
            .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// Training loss against step, optionally with a moving average and a log y axis.
///
/// The moving average over a window of w steps is
/// m_k = (1 / (k − j₀ + 1)) Σ_{j=j₀}^{k} ℓ_j with j₀ = max(0, k − w + 1),
/// computed over the finite losses only. Non-finite losses are skipped. Curves
/// longer than 2000 points are drawn through every ⌈n/2000⌉-th point.
pub struct LossCurve<'a> {
    frame: Frame,
    losses: &'a [f64],
    window: usize,
    log_y: bool,
}

impl<'a> LossCurve<'a> {
    /// The raw losses (step k at x = k) on a linear axis, 600×420 px.
    pub fn new(losses: &'a [f64]) -> Self {
        LossCurve { frame: Frame::default(), losses, window: 0, log_y: false }
    }

    frame_methods!();

    /// Adds a moving average over `window` steps (0 or 1: none). The raw curve
    /// is then drawn faintly behind it.
    pub fn smooth(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// Uses a logarithmic y axis (all losses must be positive).
    pub fn log_y(mut self, on: bool) -> Self {
        self.log_y = on;
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        if self.losses.is_empty() {
            return Err(Error::Plot { reason: "the loss curve has no values; train for at least one step".into() });
        }
        let raw: Vec<(f64, f64)> =
            self.losses.iter().enumerate().filter(|(_, l)| l.is_finite()).map(|(k, &l)| (k as f64, l)).collect();
        if raw.is_empty() {
            return Err(Error::NonFinite {
                what: "the losses".into(),
                detail: format!("all {} values are NaN or infinite", self.losses.len()),
            });
        }
        let smooth = self.window > 1;
        let mut curves = vec![Curve {
            label: if smooth { "loss".into() } else { String::new() },
            xy: Vec::new(),
            color: Rgb::BLUE,
            alpha: if smooth { 0.3 } else { 1.0 },
            width: 1,
            markers: false,
            band: Vec::new(),
        }];
        if smooth {
            curves.push(Curve {
                label: format!("moving average ({} steps)", self.window),
                xy: thin(moving_average(&raw, self.window)),
                color: Rgb::BLUE,
                alpha: 1.0,
                width: 2,
                markers: false,
                band: Vec::new(),
            });
        }
        curves[0].xy = thin(raw);
        let mut frame = self.frame.clone();
        frame.x_label.get_or_insert_with(|| "step".into());
        frame.y_label.get_or_insert_with(|| "loss".into());
        line_chart(&frame, WIDE_PANEL, &curves, false, self.log_y)
    }
}

/// Trailing moving average over the last `w` points (fewer at the start).
fn moving_average(xy: &[(f64, f64)], w: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(xy.len());
    let mut sum = 0.0;
    for k in 0..xy.len() {
        sum += xy[k].1;
        if k >= w {
            sum -= xy[k - w].1;
        }
        let count = (k + 1).min(w);
        out.push((xy[k].0, sum / count as f64));
    }
    out
}

/// Loss against training step on a linear axis. See [`LossCurve`] for
/// smoothing and a log axis.
pub fn loss_curve(losses: &[f64]) -> Result<Figure> {
    LossCurve::new(losses).build()
}

/// A shaded band: (x, lo, hi) at each x.
type Band = Vec<(f64, f64, f64)>;

/// General multi-series line chart, e.g. W2 against the number of function
/// evaluations for each solver. Each series is a list of (x, y) points drawn
/// as a line with a dot at every point; non-finite points are skipped.
pub struct Lines<'a> {
    frame: Frame,
    series: Vec<(String, &'a [Span], Option<Rgb>)>,
    bands: Vec<(String, Band)>,
    log_x: bool,
    log_y: bool,
    markers: bool,
}

impl Default for Lines<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Lines<'a> {
    /// An empty chart, 600×420 px, linear axes, dots at the data points.
    pub fn new() -> Self {
        Lines {
            frame: Frame::default(),
            series: Vec::new(),
            bands: Vec::new(),
            log_x: false,
            log_y: false,
            markers: true,
        }
    }

    frame_methods!();

    /// Adds a series in the next palette colour.
    pub fn series(mut self, label: impl Into<String>, xy: &'a [(f64, f64)]) -> Self {
        self.series.push((label.into(), xy, None));
        self
    }

    /// Adds a series drawn in `color`.
    pub fn series_colored(mut self, label: impl Into<String>, xy: &'a [(f64, f64)], color: Rgb) -> Self {
        self.series.push((label.into(), xy, Some(color)));
        self
    }

    /// Adds a shaded band between `lo` and `hi` at each `(x, lo, hi)`, with a line
    /// through its middle, e.g. a measurement's mean ± one standard deviation.
    pub fn band(mut self, label: impl Into<String>, x_lo_hi: Vec<(f64, f64, f64)>) -> Self {
        self.bands.push((label.into(), x_lo_hi));
        self
    }

    /// Logarithmic x axis (all x must be positive).
    pub fn log_x(mut self, on: bool) -> Self {
        self.log_x = on;
        self
    }

    /// Logarithmic y axis (all y must be positive).
    pub fn log_y(mut self, on: bool) -> Self {
        self.log_y = on;
        self
    }

    /// Draws a dot at every data point (default on).
    pub fn markers(mut self, on: bool) -> Self {
        self.markers = on;
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        if self.series.is_empty() && self.bands.is_empty() {
            return Err(Error::Plot {
                reason: "the line chart has no series; add one with .series(label, &xy) or .band(label, x_lo_hi)"
                    .into(),
            });
        }
        let mut curves = Vec::with_capacity(self.series.len());
        for (i, (label, xy, color)) in self.series.iter().enumerate() {
            if xy.is_empty() {
                return Err(Error::Plot {
                    reason: format!("series '{label}' has no points; pass at least one (x, y)"),
                });
            }
            let finite: Vec<(f64, f64)> = xy.iter().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
            if finite.is_empty() {
                return Err(Error::NonFinite {
                    what: format!("series '{label}'"),
                    detail: format!("all {} points are NaN or infinite", xy.len()),
                });
            }
            curves.push(Curve {
                label: label.clone(),
                xy: thin(finite),
                color: color.unwrap_or_else(|| Rgb::palette(i)),
                alpha: 1.0,
                width: 2,
                markers: self.markers,
                band: Vec::new(),
            });
        }
        for (label, band) in &self.bands {
            let band: Vec<(f64, f64, f64)> =
                band.iter().copied().filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite()).collect();
            if band.is_empty() {
                return Err(Error::Plot { reason: format!("band '{label}' has no finite (x, lo, hi) point") });
            }
            curves.push(Curve {
                label: label.clone(),
                xy: band.iter().map(|&(x, lo, hi)| (x, 0.5 * (lo + hi))).collect(),
                color: Rgb(110, 110, 110),
                alpha: 1.0,
                width: 1,
                markers: false,
                band,
            });
        }
        line_chart(&self.frame, WIDE_PANEL, &curves, self.log_x, self.log_y)
    }
}

/// Line chart of labelled (x, y) series with axis captions, optionally with a
/// log x axis: `plot::lines(&[("Euler", &euler), ("RK4", &rk4)], "NFE", "W2", true)`.
pub fn lines(series: &[(&str, &[(f64, f64)])], x_label: &str, y_label: &str, log_x: bool) -> Result<Figure> {
    series
        .iter()
        .fold(Lines::new(), |l, (label, xy)| l.series(*label, xy))
        .x_label(x_label)
        .y_label(y_label)
        .log_x(log_x)
        .build()
}

/// A density histogram of `values` on `bins` equal cells over `[lo, hi]`, as the vertices of a
/// step curve for [`Lines`]: each cell's height is count / (n · width), with n counting every
/// finite value (also those outside the range), so the curve estimates the density and can be
/// drawn against a closed-form one.
pub fn histogram_steps(values: &[f64], bins: usize, lo: f64, hi: f64) -> Result<Vec<(f64, f64)>> {
    check_range("the histogram range", lo, hi)?;
    crate::numeric::check_count("the number of histogram bins", bins)?;
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    crate::numeric::check_count("the number of finite values to histogram", finite.len())?;
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in &finite {
        if *v >= lo && *v <= hi {
            counts[(((v - lo) / w) as usize).min(bins - 1)] += 1;
        }
    }
    let norm = finite.len() as f64 * w;
    let mut out = Vec::with_capacity(2 * bins + 2);
    out.push((lo, 0.0));
    for (k, c) in counts.iter().enumerate() {
        let h = *c as f64 / norm;
        out.push((lo + k as f64 * w, h));
        out.push((lo + (k + 1) as f64 * w, h));
    }
    out.push((hi, 0.0));
    Ok(out)
}
