//! What every figure shares: the common options (title, size, axis ranges and
//! labels), the canvas, titles and legends, tick placement, axis ranges fitted
//! to the data, clipping to the plotting box and the colour bar.

use std::fmt;
use std::ops::Range;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};
use crate::points::Points;
/// Options every figure has: title, size, axis ranges and axis labels.
#[derive(Clone, Debug, Default)]
pub(super) struct Frame {
    pub(super) title: Option<String>,
    pub(super) size: Option<(u32, u32)>,
    pub(super) x_range: Option<(f64, f64)>,
    pub(super) y_range: Option<(f64, f64)>,
    pub(super) x_label: Option<String>,
    pub(super) y_label: Option<String>,
}

/// An interval (lo, hi) or a point (x, y).
pub(super) type Span = (f64, f64);

/// Smallest and largest accepted figure side in pixels.
pub(super) const MIN_SIDE: u32 = 100;
pub(super) const MAX_SIDE: u32 = 4000;

impl Frame {
    pub(super) fn size_or(&self, default: (u32, u32)) -> Result<(u32, u32)> {
        let (w, h) = self.size.unwrap_or(default);
        for (side, v) in [("width", w), ("height", h)] {
            if v < MIN_SIDE {
                return Err(Error::invalid(
                    format!("figure {side}"),
                    format!("{v} px is too small to draw axes in; use at least {MIN_SIDE} px"),
                ));
            }
            if v > MAX_SIDE {
                return Err(Error::SizeLimit {
                    what: format!("figure {side} in pixels"),
                    size: v as usize,
                    limit: MAX_SIDE as usize,
                    hint: "Use a smaller .size(width, height); SVG scales without loss anyway".into(),
                });
            }
        }
        Ok((w, h))
    }

    pub(super) fn checked_ranges(&self) -> Result<(Option<Span>, Option<Span>)> {
        for (name, r) in [("x_range", self.x_range), ("y_range", self.y_range)] {
            if let Some((lo, hi)) = r {
                check_range(name, lo, hi)?;
            }
        }
        Ok((self.x_range, self.y_range))
    }
}

pub(super) fn check_range(name: &str, lo: f64, hi: f64) -> Result<()> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::invalid(
            name,
            format!("({lo}, {hi}) is not an interval; pass two finite numbers with lo < hi"),
        ));
    }
    Ok(())
}

/// Adds the builder methods shared by every figure (title, size, ranges, labels).
macro_rules! frame_methods {
    () => {
        /// Sets the title drawn above the figure.
        pub fn title(mut self, title: impl Into<String>) -> Self {
            self.frame.title = Some(title.into());
            self
        }

        /// Sets the size of the whole figure in pixels (each side 100–4000).
        pub fn size(mut self, width: u32, height: u32) -> Self {
            self.frame.size = Some((width, height));
            self
        }

        /// Fixes the horizontal axis to `[lo, hi]` instead of fitting the data.
        pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
            self.frame.x_range = Some((lo, hi));
            self
        }

        /// Fixes the vertical axis to `[lo, hi]` instead of fitting the data.
        pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
            self.frame.y_range = Some((lo, hi));
            self
        }

        /// Sets the caption of the horizontal axis.
        pub fn x_label(mut self, label: impl Into<String>) -> Self {
            self.frame.x_label = Some(label.into());
            self
        }

        /// Sets the caption of the vertical axis.
        pub fn y_label(mut self, label: impl Into<String>) -> Self {
            self.frame.y_label = Some(label.into());
            self
        }
    };
}
pub(super) use frame_methods;

// ---------------------------------------------------------------------------
// Shared drawing helpers
// ---------------------------------------------------------------------------

pub(super) const FONT: &str = "sans-serif";
/// Font sizes as plotters counts them (the SVG gets size / 1.24 px).
pub(super) const TITLE_FONT: u32 = 21;
pub(super) const LEGEND_FONT: u32 = 15;
pub(super) const TICK_FONT: u32 = 14;
pub(super) const SINGLE_PANEL: (u32, u32) = (480, 480);
pub(super) const WIDE_PANEL: (u32, u32) = (600, 420);

pub(super) type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
pub(super) type Chart2d<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

pub(super) fn plot_err(e: impl fmt::Display) -> Error {
    Error::Plot { reason: e.to_string() }
}

/// Runs `draw` on a white canvas of `size` pixels and collects the SVG text.
pub(super) fn render(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Result<()>) -> Result<Figure> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Figure::from_svg(svg, size.0, size.1))
}

/// Draws the optional title and returns the area below it.
pub(super) fn titled<'b>(area: &Area<'b>, title: Option<&str>, font_size: u32) -> Result<Area<'b>> {
    match title {
        Some(t) if !t.is_empty() => area.titled(t, (FONT, font_size)).map_err(plot_err),
        _ => Ok(area.clone()),
    }
}

/// How a legend entry is marked.
#[derive(Clone, Copy)]
pub(super) enum Mark {
    Dot,
    /// A line swatch drawn with the curve's own opacity and width, so that a
    /// faint raw curve and its bold moving average have different swatches.
    Line {
        alpha: f64,
        width: u32,
    },
}

/// Draws centred rows of legend entries at the top of `area` and returns the
/// area below them. Entries wrap onto further rows when one row would be wider
/// than the area. With fewer than `min_entries` entries nothing is drawn.
pub(super) fn legend_row<'b>(area: &Area<'b>, entries: &[(String, Rgb, Mark)], min_entries: usize) -> Result<Area<'b>> {
    if entries.len() < min_entries || entries.is_empty() {
        return Ok(area.clone());
    }
    const ROW: u32 = 26;
    let style = TextStyle::from((FONT, LEGEND_FONT).into_font()).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    ));
    let widths: Vec<i32> = entries
        .iter()
        .map(|(label, _, _)| area.estimate_text_size(label, &style).map(|(w, _)| w as i32 + 34).map_err(plot_err))
        .collect::<Result<_>>()?;
    // Greedy line breaking: each row holds as many entries as fit (at least one).
    let (w, _) = area.dim_in_pixel();
    let mut rows: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut first, mut used) = (0, 0);
    for (i, &width) in widths.iter().enumerate() {
        if i > first && used + width > w as i32 - 8 {
            rows.push(first..i);
            (first, used) = (i, 0);
        }
        used += width;
    }
    rows.push(first..entries.len());
    let (block, rest) = area.split_vertically(ROW * rows.len() as u32);
    for (r, range) in rows.into_iter().enumerate() {
        let total: i32 = widths[range.clone()].iter().sum();
        let mut x = ((w as i32 - total) / 2).max(4);
        let y = ROW as i32 * r as i32 + ROW as i32 / 2;
        for ((label, color, mark), width) in entries[range.clone()].iter().zip(&widths[range]) {
            match mark {
                Mark::Dot => block.draw(&Circle::new((x + 9, y), 4, color.rgb().filled())).map_err(plot_err)?,
                Mark::Line { alpha, width } => block
                    .draw(&PathElement::new(vec![(x, y), (x + 18, y)], color.alpha(*alpha).stroke_width(*width)))
                    .map_err(plot_err)?,
            }
            block.draw_text(label, &style, (x + 24, y)).map_err(plot_err)?;
            x += width;
        }
    }
    Ok(rest)
}

/// Formats a tick value compactly: `0`, `0.25`, `-3`, `1e5`, `2.5e-4`.
pub(super) fn fmt_tick(v: &f64) -> String {
    let v = *v;
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e5 || v.abs() < 1e-3 {
        let s = format!("{v:.2e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{exp}", trim_zeros(mant));
    }
    trim_zeros(&format!("{v:.6}"))
}

pub(super) fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Nice tick positions on a linear axis: multiples of 1, 2 or 5 × 10^k, about `target` of them.
pub(super) fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Ticks (bold) and grid lines (light) for a log axis over [lo, hi] (0 < lo < hi).
///
/// Labels sit at powers of ten when the range spans at least two decades, at
/// 1, 2, 5 × 10^k or 1, 2, …, 9 × 10^k for shorter ranges, and at linear ticks
/// for a range inside one decade that holds none of those.
pub(super) fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let multiples = |mults: &[f64]| -> Vec<f64> {
        (e0..=e1).flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e))).filter(within).collect()
    };
    let all: Vec<f64> = (1..10).map(f64::from).collect();
    let light = multiples(&all);
    for mults in [&[1.0][..], &[1.0, 2.0, 5.0][..], &all[..]] {
        let ticks = multiples(mults);
        if ticks.len() >= 3 {
            let stride = ticks.len().div_ceil(8);
            return (ticks.into_iter().step_by(stride).collect(), light);
        }
    }
    (linear_ticks(lo, hi, 5), Vec::new())
}

/// Estimated width in pixels of the y tick labels of `range` (ticks plus padding).
pub(super) fn tick_label_width(range: Span, log: bool, tick_font: u32) -> u32 {
    let ticks = if log {
        log_ticks(range.0, range.1).0
    } else {
        [linear_ticks(range.0, range.1, 6), linear_ticks(range.0, range.1, 10)].concat()
    };
    let chars = ticks.iter().map(|t| fmt_tick(t).chars().count()).max().unwrap_or(1);
    // Sans-serif digits are about 0.64 em wide; the SVG font size is size / 1.24.
    (chars as f64 * 0.64 * tick_font as f64 / 1.24).ceil() as u32 + 14
}

/// Axis layout for one chart.
pub(super) struct Axes<'s> {
    pub(super) x_label: Option<&'s str>,
    pub(super) y_label: Option<&'s str>,
    /// Font size of tick labels; panels in a strip use a smaller one.
    pub(super) tick_font: u32,
    /// Room for the y tick labels in pixels (from [`tick_label_width`]); 0
    /// hides the y axis, for panels that share the axis of their left neighbour.
    pub(super) y_ticks_width: u32,
    /// Horizontal margin on the right of the plotting area.
    pub(super) margin_right: u32,
}

impl<'s> Axes<'s> {
    /// The axes of one panel drawn from `frame`: its axis labels, the standard tick font, room
    /// for linear y tick labels over `yr`, and `margin_right` pixels on the right.
    pub(super) fn for_frame(frame: &'s Frame, yr: Span, margin_right: u32) -> Self {
        Axes {
            x_label: frame.x_label.as_deref(),
            y_label: frame.y_label.as_deref(),
            tick_font: TICK_FONT,
            y_ticks_width: tick_label_width(yr, false, TICK_FONT),
            margin_right,
        }
    }
}

/// The finite points of `paths`, flattened, or [`Error::NonFinite`] about `what` (with
/// `detail`) when not one of them is finite: the axes are fitted to what this returns.
pub(super) fn finite_points(paths: &[Vec<(f64, f64)>], what: &str, detail: &str) -> Result<Vec<(f64, f64)>> {
    let all: Vec<(f64, f64)> = paths.iter().flatten().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    if all.is_empty() {
        return Err(Error::NonFinite { what: what.into(), detail: detail.into() });
    }
    Ok(all)
}

/// Builds a Cartesian chart on `area` over `xs × ys` and draws its axes and a light grid.
pub(super) fn chart<'a, 'b, XS, YS>(
    area: &'a Area<'b>,
    xs: XS,
    ys: YS,
    axes: &Axes<'_>,
) -> Result<Chart2d<'a, 'b, XS::CoordDescType, YS::CoordDescType>>
where
    XS: AsRangedCoord<Value = f64>,
    YS: AsRangedCoord<Value = f64>,
    XS::CoordDescType: ValueFormatter<f64>,
    YS::CoordDescType: ValueFormatter<f64>,
{
    let tick = axes.tick_font;
    let x_area = tick + 10 + if axes.x_label.is_some() { tick + 8 } else { 0 };
    let y_area = axes.y_ticks_width + if axes.y_label.is_some() { tick + 8 } else { 0 };
    let mut chart = ChartBuilder::on(area)
        .margin_top(12)
        .margin_left(6)
        .margin_bottom(6)
        .margin_right(axes.margin_right)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(xs, ys)
        .map_err(plot_err)?;
    {
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(BLACK.mix(0.04))
            .bold_line_style(BLACK.mix(0.12))
            .axis_style(BLACK.mix(0.6))
            .label_style((FONT, tick))
            .axis_desc_style((FONT, tick + 2))
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&fmt_tick)
            .y_label_formatter(&fmt_tick);
        if let Some(l) = axes.x_label {
            mesh.x_desc(l);
        }
        if let Some(l) = axes.y_label {
            mesh.y_desc(l);
        }
        mesh.draw().map_err(plot_err)?;
    }
    Ok(chart)
}

/// The finite (x, y) rows of a point set of dimension 2.
///
/// Errors: [`Error::ShapeMismatch`] if the dimension is not 2, [`Error::Plot`]
/// if there are no points, [`Error::NonFinite`] if no row is finite.
pub(super) fn xy_rows(points: &Points, what: &str) -> Result<Vec<(f64, f64)>> {
    check_2d(points, what)?;
    if points.is_empty() {
        return Err(Error::Plot { reason: format!("{what} has no points; pass at least one point") });
    }
    let xy: Vec<(f64, f64)> =
        points.rows().map(|r| (r[0], r[1])).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    if xy.is_empty() {
        return Err(Error::NonFinite {
            what: what.into(),
            detail: format!(
                "all {} points have a NaN or infinite coordinate, so there is nothing to draw",
                points.len()
            ),
        });
    }
    Ok(xy)
}

pub(super) fn check_2d(points: &Points, what: &str) -> Result<()> {
    if points.dim() != 2 {
        return Err(Error::shape(
            what,
            "points of dimension 2 (an n × 2 set); project or select two coordinates first",
            format!("{} points of dimension {}", points.len(), points.dim()),
        ));
    }
    Ok(())
}

/// Smallest interval holding `values`, padded by 5 % on each side (±0.5 if all equal).
pub(super) fn fit(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return None;
    }
    if hi - lo <= 1e-12 * (1.0 + lo.abs().max(hi.abs())) {
        let half = 0.5 * (1.0 + 0.1 * lo.abs());
        return Some((lo - half, hi + half));
    }
    let pad = 0.05 * (hi - lo);
    Some((lo - pad, hi + pad))
}

/// Axis ranges for a point cloud: the user's if given, otherwise fitted to the
/// data; if both are fitted they get the same span so that the aspect is 1.
pub(super) fn cloud_ranges(frame: &Frame, xy: &[(f64, f64)]) -> Result<((f64, f64), (f64, f64))> {
    let (fx, fy) = frame.checked_ranges()?;
    let auto_x = || fit(xy.iter().map(|p| p.0)).unwrap_or((-1.0, 1.0));
    let auto_y = || fit(xy.iter().map(|p| p.1)).unwrap_or((-1.0, 1.0));
    Ok(match (fx, fy) {
        (Some(x), Some(y)) => (x, y),
        (Some(x), None) => (x, auto_y()),
        (None, Some(y)) => (auto_x(), y),
        (None, None) => {
            let (x, y) = (auto_x(), auto_y());
            let span = (x.1 - x.0).max(y.1 - y.0);
            let centre = |r: (f64, f64)| 0.5 * (r.0 + r.1);
            let (cx, cy) = (centre(x), centre(y));
            ((cx - span / 2.0, cx + span / 2.0), (cy - span / 2.0, cy + span / 2.0))
        }
    })
}

pub(super) fn inside(p: (f64, f64), xr: (f64, f64), yr: (f64, f64)) -> bool {
    p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1
}

/// Clips the segment a→b to the box `xr × yr` (Liang–Barsky); `None` if it misses.
pub(super) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    xr: (f64, f64),
    yr: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - xr.0), (dx, xr.1 - a.0), (-dy, a.1 - yr.0), (dy, yr.1 - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            (a.0 + t * dx, a.1 + t * dy)
        }
    };
    Some((at(t0), at(t1)))
}

/// Splits a polyline into the pieces that lie inside the box, dropping
/// segments with a non-finite end.
pub(super) fn clip_path(path: &[(f64, f64)], xr: (f64, f64), yr: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    if path.len() == 1 && finite(&path[0]) && inside(path[0], xr, yr) {
        return vec![vec![path[0]]];
    }
    for w in path.windows(2) {
        if !(finite(&w[0]) && finite(&w[1])) {
            continue;
        }
        if let Some((a, b)) = clip_segment(w[0], w[1], xr, yr) {
            match pieces.last_mut() {
                Some(piece) if piece.last() == Some(&a) && a == w[0] => piece.push(b),
                _ => pieces.push(vec![a, b]),
            }
        }
    }
    pieces
}

/// Places the colour bar for `lo..hi` in `area`, aligned vertically with `plot_y` (pixels).
pub(super) fn colorbar(area: &Area<'_>, lo: f64, hi: f64, plot_y: Range<i32>, cmap: fn(f64) -> Rgb) -> Result<()> {
    let (_, ay) = area.get_pixel_range();
    let top = (plot_y.start - ay.start).max(0) as u32;
    let bottom = (ay.end - plot_y.end).max(0) as u32;
    let mut cb = ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(bottom)
        .margin_left(8)
        .right_y_label_area_size(56)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(plot_err)?;
    const STEPS: usize = 64;
    let h = (hi - lo) / STEPS as f64;
    cb.draw_series((0..STEPS).map(|i| {
        let y0 = lo + i as f64 * h;
        let c = cmap((i as f64 + 0.5) / STEPS as f64);
        Rectangle::new([(0.0, y0), (1.0, y0 + h)], c.rgb().filled())
    }))
    .map_err(plot_err)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .axis_style(BLACK.mix(0.6))
        .label_style((FONT, TICK_FONT))
        .y_labels(6)
        .y_label_formatter(&fmt_tick)
        .draw()
        .map_err(plot_err)?;
    Ok(())
}
