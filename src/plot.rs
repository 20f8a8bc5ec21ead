//! Figures for the course: scatter plots of samples, density heatmaps, vector
//! fields, trajectories, time strips, loss curves and line charts.
//!
//! Every figure is a [`Figure`] value: the text of an SVG document plus its
//! size in pixels. A figure can be
//!
//! * saved with [`Figure::save`] (written atomically: a temporary file in the
//!   same folder, then renamed over the target),
//! * read back as text with [`Figure::svg`],
//! * shown inline in an evcxr (Jupyter) notebook: a cell whose last
//!   expression is a `Figure` displays the plot, because `Figure` has the
//!   `evcxr_display` method that evcxr looks for. [`Figure::show`] prints the
//!   same block from the middle of a cell.
//!
//! Each kind of figure has a short function for notebook cells, e.g.
//! `plot::scatter(&[("data", &x1), ("samples", &gen)])?`, and a builder with the
//! same name in CamelCase for the options (title, size, axis ranges, axis
//! labels and the options special to that figure):
//! `plot::Scatter::new().layer("data", &x1).title("8 Gaussians").build()?`.
//!
//! Conventions shared by every figure:
//!
//! * Two-dimensional plots take [`Points`] of dimension 2 and return
//!   [`Error::ShapeMismatch`] for any other dimension.
//! * Points (or curve values) with a NaN or infinite coordinate are skipped and
//!   the rest is drawn, so a sampler that diverged on a few points still gives a
//!   picture. If nothing finite is left the figure returns [`Error::NonFinite`];
//!   an empty input returns [`Error::Plot`].
//! * Axis ranges are taken from the data (with 5 % padding) unless set with
//!   `x_range` / `y_range`; for point clouds both axes get the same span so
//!   that circles look round. Anything outside the ranges is clipped away.
//! * Text is written as SVG `<text>` elements in the `sans-serif` family, so
//!   the viewer (browser, notebook) picks the font; no font files are needed.

use std::fmt;
use std::io::Write as _;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::points::Points;

// ---------------------------------------------------------------------------
// Figure
// ---------------------------------------------------------------------------

/// A finished figure: an SVG document and its size in pixels.
#[derive(Clone, PartialEq)]
pub struct Figure {
    svg: String,
    width: u32,
    height: u32,
}

impl fmt::Debug for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Figure({}×{} px, {} bytes of SVG)", self.width, self.height, self.svg.len())
    }
}

impl Figure {
    /// The SVG document, starting with `<svg`.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Writes the SVG document to `path` (conventionally ending in `.svg`).
    ///
    /// The text goes to a temporary file in the same folder first and is then
    /// renamed over `path`, so a reader never sees a half-written file.
    /// Returns [`Error::Io`] naming `path` if the folder does not exist or is
    /// not writable.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = path.as_ref();
        let name = path
            .file_name()
            .ok_or_else(|| Error::io(path, "the path does not end in a file name; pass e.g. \"figure.svg\""))?;
        let tmp_name = format!(
            ".{}.tmp-{}-{}",
            name.to_string_lossy(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = path.with_file_name(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(self.svg.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            // Best effort: the temporary file may not even exist.
            let _ = std::fs::remove_file(&tmp);
            Error::io(path, format!("{e}; check that the folder exists and is writable"))
        })
    }

    /// The block that [`Figure::evcxr_display`] prints:
    /// `EVCXR_BEGIN_CONTENT image/svg+xml`, the SVG, `EVCXR_END_CONTENT`.
    pub fn to_evcxr(&self) -> String {
        format!("EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT", self.svg.trim_end())
    }

    /// Inline display hook for evcxr notebooks: a cell that ends in an
    /// expression of type `Figure` calls this and shows the plot.
    pub fn evcxr_display(&self) {
        println!("{}", self.to_evcxr());
    }

    /// Shows the figure in an evcxr notebook from anywhere in a cell (prints the
    /// same block as [`Figure::evcxr_display`]).
    pub fn show(&self) {
        self.evcxr_display();
    }
}

// ---------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------

/// A colour given by its red, green and blue components (0–255).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Blue, the first colour of the default palette.
    pub const BLUE: Rgb = Rgb(31, 119, 180);
    /// Orange.
    pub const ORANGE: Rgb = Rgb(255, 127, 14);
    /// Green.
    pub const GREEN: Rgb = Rgb(44, 160, 44);
    /// Red.
    pub const RED: Rgb = Rgb(214, 39, 40);
    /// Purple.
    pub const PURPLE: Rgb = Rgb(148, 103, 189);
    /// Grey.
    pub const GRAY: Rgb = Rgb(127, 127, 127);
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);

    /// The `i`-th colour of the default palette (ten colours, repeating).
    pub fn palette(i: usize) -> Rgb {
        const PALETTE: [Rgb; 10] = [
            Rgb::BLUE,
            Rgb::ORANGE,
            Rgb::GREEN,
            Rgb::RED,
            Rgb::PURPLE,
            Rgb(140, 86, 75),
            Rgb(227, 119, 194),
            Rgb::GRAY,
            Rgb(188, 189, 34),
            Rgb(23, 190, 207),
        ];
        PALETTE[i % PALETTE.len()]
    }

    fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }

    fn alpha(self, a: f64) -> RGBAColor {
        self.rgb().mix(a)
    }
}

/// The viridis colour map at `s ∈ [0, 1]` (dark purple → teal → yellow),
/// linearly interpolated between eleven reference colours.
fn viridis(s: f64) -> Rgb {
    const STOPS: [(u8, u8, u8); 11] = [
        (0x44, 0x01, 0x54),
        (0x48, 0x24, 0x75),
        (0x41, 0x44, 0x87),
        (0x35, 0x5f, 0x8d),
        (0x2a, 0x78, 0x8e),
        (0x21, 0x91, 0x8c),
        (0x22, 0xa8, 0x84),
        (0x44, 0xbf, 0x70),
        (0x7a, 0xd1, 0x51),
        (0xbd, 0xdf, 0x26),
        (0xfd, 0xe7, 0x25),
    ];
    let s = if s.is_finite() { s.clamp(0.0, 1.0) } else { 0.0 };
    let x = s * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + f * (q as f64 - p as f64)).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

// ---------------------------------------------------------------------------
// Options shared by every builder
// ---------------------------------------------------------------------------

/// Options every figure has: title, size, axis ranges and axis labels.
#[derive(Clone, Debug, Default)]
struct Frame {
    title: Option<String>,
    size: Option<(u32, u32)>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    x_label: Option<String>,
    y_label: Option<String>,
}

/// An interval (lo, hi) or a point (x, y).
type Span = (f64, f64);

/// Smallest and largest accepted figure side in pixels.
const MIN_SIDE: u32 = 100;
const MAX_SIDE: u32 = 4000;

impl Frame {
    fn size_or(&self, default: (u32, u32)) -> Result<(u32, u32)> {
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

    fn checked_ranges(&self) -> Result<(Option<Span>, Option<Span>)> {
        for (name, r) in [("x_range", self.x_range), ("y_range", self.y_range)] {
            if let Some((lo, hi)) = r {
                check_range(name, lo, hi)?;
            }
        }
        Ok((self.x_range, self.y_range))
    }
}

fn check_range(name: &str, lo: f64, hi: f64) -> Result<()> {
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

// ---------------------------------------------------------------------------
// Shared drawing helpers
// ---------------------------------------------------------------------------

const FONT: &str = "sans-serif";
/// Font sizes as plotters counts them (the SVG gets size / 1.24 px).
const TITLE_FONT: u32 = 21;
const LEGEND_FONT: u32 = 15;
const TICK_FONT: u32 = 14;
const SINGLE_PANEL: (u32, u32) = (480, 480);
const WIDE_PANEL: (u32, u32) = (600, 420);

type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;
type Chart2d<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

fn plot_err(e: impl fmt::Display) -> Error {
    Error::Plot { reason: e.to_string() }
}

/// Runs `draw` on a white canvas of `size` pixels and collects the SVG text.
fn render(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Result<()>) -> Result<Figure> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Figure { svg, width: size.0, height: size.1 })
}

/// Draws the optional title and returns the area below it.
fn titled<'b>(area: &Area<'b>, title: Option<&str>, font_size: u32) -> Result<Area<'b>> {
    match title {
        Some(t) if !t.is_empty() => area.titled(t, (FONT, font_size)).map_err(plot_err),
        _ => Ok(area.clone()),
    }
}

/// How a legend entry is marked.
#[derive(Clone, Copy)]
enum Mark {
    Dot,
    Line,
}

/// Draws a centred row of legend entries at the top of `area` and returns the
/// area below it. With fewer than `min_entries` entries nothing is drawn.
fn legend_row<'b>(area: &Area<'b>, entries: &[(String, Rgb, Mark)], min_entries: usize) -> Result<Area<'b>> {
    if entries.len() < min_entries || entries.is_empty() {
        return Ok(area.clone());
    }
    const ROW: u32 = 26;
    let (row, rest) = area.split_vertically(ROW);
    let style = TextStyle::from((FONT, LEGEND_FONT).into_font()).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Left,
        plotters::style::text_anchor::VPos::Center,
    ));
    let widths: Vec<i32> = entries
        .iter()
        .map(|(label, _, _)| row.estimate_text_size(label, &style).map(|(w, _)| w as i32 + 34).map_err(plot_err))
        .collect::<Result<_>>()?;
    let total: i32 = widths.iter().sum();
    let (w, _) = row.dim_in_pixel();
    let mut x = ((w as i32 - total) / 2).max(4);
    let y = ROW as i32 / 2;
    for ((label, color, mark), width) in entries.iter().zip(widths) {
        match mark {
            Mark::Dot => row.draw(&Circle::new((x + 9, y), 4, color.rgb().filled())).map_err(plot_err)?,
            Mark::Line => {
                row.draw(&PathElement::new(vec![(x, y), (x + 18, y)], color.rgb().stroke_width(2))).map_err(plot_err)?
            }
        }
        row.draw_text(label, &style, (x + 24, y)).map_err(plot_err)?;
        x += width;
    }
    Ok(rest)
}

/// Formats a tick value compactly: `0`, `0.25`, `-3`, `1e5`, `2.5e-4`.
fn fmt_tick(v: &f64) -> String {
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

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// Nice tick positions on a linear axis: multiples of 1, 2 or 5 × 10^k, about `target` of them.
fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
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
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
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
fn tick_label_width(range: Span, log: bool, tick_font: u32) -> u32 {
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
struct Axes<'s> {
    x_label: Option<&'s str>,
    y_label: Option<&'s str>,
    /// Font size of tick labels; panels in a strip use a smaller one.
    tick_font: u32,
    /// Room for the y tick labels in pixels (from [`tick_label_width`]); 0
    /// hides the y axis, for panels that share the axis of their left neighbour.
    y_ticks_width: u32,
    /// Horizontal margin on the right of the plotting area.
    margin_right: u32,
}

/// Builds a Cartesian chart on `area` over `xs × ys` and draws its axes and a light grid.
fn chart<'a, 'b, XS, YS>(
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
fn xy_rows(points: &Points, what: &str) -> Result<Vec<(f64, f64)>> {
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

fn check_2d(points: &Points, what: &str) -> Result<()> {
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
fn fit(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
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
fn cloud_ranges(frame: &Frame, xy: &[(f64, f64)]) -> Result<((f64, f64), (f64, f64))> {
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

fn inside(p: (f64, f64), xr: (f64, f64), yr: (f64, f64)) -> bool {
    p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1
}

/// Clips the segment a→b to the box `xr × yr` (Liang–Barsky); `None` if it misses.
fn clip_segment(a: (f64, f64), b: (f64, f64), xr: (f64, f64), yr: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
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
fn clip_path(path: &[(f64, f64)], xr: (f64, f64), yr: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
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
fn colorbar(area: &Area<'_>, lo: f64, hi: f64, plot_y: Range<i32>, cmap: fn(f64) -> Rgb) -> Result<()> {
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

// ---------------------------------------------------------------------------
// 1. Scatter
// ---------------------------------------------------------------------------

/// Scatter plot of one or more labelled point clouds in the plane, e.g. data
/// against generated samples. Build with [`Scatter::new`] or use [`scatter`].
pub struct Scatter<'a> {
    frame: Frame,
    layers: Vec<(String, &'a Points, Option<Rgb>)>,
    radius: u32,
    opacity: f64,
}

impl Default for Scatter<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Scatter<'a> {
    /// An empty scatter plot: 480×480 px, dots of radius 2 px at 60 % opacity.
    pub fn new() -> Self {
        Scatter { frame: Frame::default(), layers: Vec::new(), radius: 2, opacity: 0.6 }
    }

    frame_methods!();

    /// Adds a point cloud (n × 2) drawn in the next palette colour.
    pub fn layer(mut self, label: impl Into<String>, points: &'a Points) -> Self {
        self.layers.push((label.into(), points, None));
        self
    }

    /// Adds a point cloud (n × 2) drawn in `color`.
    pub fn layer_colored(mut self, label: impl Into<String>, points: &'a Points, color: Rgb) -> Self {
        self.layers.push((label.into(), points, Some(color)));
        self
    }

    /// Radius of each dot in pixels (default 2).
    pub fn point_radius(mut self, radius: u32) -> Self {
        self.radius = radius;
        self
    }

    /// Opacity of the dots in `[0, 1]` (default 0.6); lower shows density in big clouds.
    pub fn opacity(mut self, opacity: f64) -> Self {
        self.opacity = opacity;
        self
    }

    /// Draws the figure. Layers are drawn in order, so later ones lie on top.
    pub fn build(&self) -> Result<Figure> {
        if self.layers.is_empty() {
            return Err(Error::Plot {
                reason: "the scatter plot has no layers; add one with .layer(label, &points)".into(),
            });
        }
        if !(0.0..=1.0).contains(&self.opacity) {
            return Err(Error::invalid("opacity", format!("{} is outside [0, 1]", self.opacity)));
        }
        let size = self.frame.size_or(SINGLE_PANEL)?;
        let mut clouds = Vec::with_capacity(self.layers.len());
        for (i, (label, pts, color)) in self.layers.iter().enumerate() {
            let xy = xy_rows(pts, &format!("scatter layer '{label}'"))?;
            clouds.push((label.clone(), xy, color.unwrap_or_else(|| Rgb::palette(i))));
        }
        let all: Vec<(f64, f64)> = clouds.iter().flat_map(|c| c.1.iter().copied()).collect();
        let (xr, yr) = cloud_ranges(&self.frame, &all)?;
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let entries: Vec<_> = clouds.iter().map(|(l, _, c)| (l.clone(), *c, Mark::Dot)).collect();
            let area = legend_row(&area, &entries, 1)?;
            let axes = Axes {
                x_label: self.frame.x_label.as_deref(),
                y_label: self.frame.y_label.as_deref(),
                tick_font: TICK_FONT,
                y_ticks_width: tick_label_width(yr, false, TICK_FONT),
                margin_right: 14,
            };
            let mut ch = chart(&area, xr.0..xr.1, yr.0..yr.1, &axes)?;
            for (_, xy, color) in &clouds {
                let style = color.alpha(self.opacity).filled();
                ch.draw_series(xy.iter().filter(|p| inside(**p, xr, yr)).map(|p| Circle::new(*p, self.radius, style)))
                    .map_err(plot_err)?;
            }
            Ok(())
        })
    }
}

/// Scatter plot of labelled point clouds (each n × 2), one palette colour per
/// layer and a legend: `plot::scatter(&[("data", &x1), ("samples", &gen)])`.
pub fn scatter(layers: &[(&str, &Points)]) -> Result<Figure> {
    layers.iter().fold(Scatter::new(), |s, (label, pts)| s.layer(*label, pts)).build()
}

// ---------------------------------------------------------------------------
// 2. Heatmaps: 2-D histograms and functions on a grid
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// 3. Quiver
// ---------------------------------------------------------------------------

/// Largest grid side of a quiver plot.
pub const MAX_QUIVER_GRID: usize = 100;

/// Arrows of a 2-D vector field u_t(x) at one time t on a regular grid.
///
/// The arrow at cell centre x points along u_t(x) and has length
/// 0.85 · cell · |u_t(x)| / max |u_t|, so the longest arrow nearly fills its
/// cell and lengths compare magnitudes. Build with [`Quiver::new`] or use [`quiver`].
pub struct Quiver<'a> {
    frame: Frame,
    field: &'a dyn VectorField,
    t: f64,
    grid: usize,
    by_magnitude: bool,
}

impl<'a> Quiver<'a> {
    /// The field at time `t` on a 20 × 20 grid over [-3, 3]², arrows in one colour.
    pub fn new(field: &'a dyn VectorField, t: f64) -> Self {
        Quiver { frame: Frame::default(), field, t, grid: 20, by_magnitude: false }
    }

    frame_methods!();

    /// Number of arrows per axis (1 to [`MAX_QUIVER_GRID`]).
    pub fn grid(mut self, n: usize) -> Self {
        self.grid = n;
        self
    }

    /// Colours each arrow by its magnitude |u_t(x)| (viridis, with a colour bar).
    pub fn color_by_magnitude(mut self, on: bool) -> Self {
        self.by_magnitude = on;
        self
    }

    /// Evaluates the field on the grid and draws the figure.
    ///
    /// Errors: [`Error::NonFinite`] for a non-finite `t` or velocity (a field that
    /// is singular at t = 0 or t = 1 should be drawn at a time inside (0, 1)),
    /// [`Error::ShapeMismatch`] if the field does not return 2-D velocities.
    pub fn build(&self) -> Result<Figure> {
        let n = self.grid;
        if n == 0 {
            return Err(Error::ZeroCount { what: "the quiver grid size".into() });
        }
        if n > MAX_QUIVER_GRID {
            return Err(Error::SizeLimit {
                what: "quiver grid side".into(),
                size: n,
                limit: MAX_QUIVER_GRID,
                hint: "Arrows become unreadable beyond a few dozen per axis; try 15–30".into(),
            });
        }
        if !self.t.is_finite() {
            return Err(Error::NonFinite {
                what: "the time t of a quiver plot".into(),
                detail: format!("t = {}", self.t),
            });
        }
        let (fx, fy) = self.frame.checked_ranges()?;
        let (xr, yr) = (fx.unwrap_or((-3.0, 3.0)), fy.unwrap_or((-3.0, 3.0)));
        let size = self.frame.size_or(if self.by_magnitude { (560, 480) } else { SINGLE_PANEL })?;
        let (cx, cy) = ((xr.1 - xr.0) / n as f64, (yr.1 - yr.0) / n as f64);
        let grid = Points::from_fn(n * n, 2, |k, d| {
            if d == 0 {
                xr.0 + ((k % n) as f64 + 0.5) * cx
            } else {
                yr.0 + ((k / n) as f64 + 0.5) * cy
            }
        });
        let v = self.field.eval(&grid, self.t)?;
        grid.check_same_shape(&v, "the velocities returned by the field")?;
        if let Some((k, _)) = v.rows().enumerate().find(|(_, r)| !(r[0].is_finite() && r[1].is_finite())) {
            return Err(Error::NonFinite {
                what: format!("the field at t = {}", self.t),
                detail: format!(
                    "u_t({}, {}) = ({}, {}); if the field is singular at this time, draw it at a time inside (0, 1)",
                    grid.row(k)[0],
                    grid.row(k)[1],
                    v.row(k)[0],
                    v.row(k)[1]
                ),
            });
        }
        let mags: Vec<f64> = v.rows().map(|r| r[0].hypot(r[1])).collect();
        let vmax = mags.iter().cloned().fold(0.0, f64::max);
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let (w, _) = area.dim_in_pixel();
            let (main, bar) = if self.by_magnitude {
                area.split_horizontally(w.saturating_sub(80))
            } else {
                (area.clone(), area.clone())
            };
            let axes = Axes {
                x_label: self.frame.x_label.as_deref(),
                y_label: self.frame.y_label.as_deref(),
                tick_font: TICK_FONT,
                y_ticks_width: tick_label_width(yr, false, TICK_FONT),
                margin_right: if self.by_magnitude { 4 } else { 14 },
            };
            let ch = chart(&main, xr.0..xr.1, yr.0..yr.1, &axes)?;
            let (px, py) = ch.plotting_area().get_pixel_range();
            let sx = (px.end - px.start) as f64 / (xr.1 - xr.0);
            let sy = (py.end - py.start) as f64 / (yr.1 - yr.0);
            let cell_px = (cx * sx).min(cy * sy);
            for (k, p) in grid.rows().enumerate() {
                let (vx, vy) = (v.row(k)[0], v.row(k)[1]);
                let color =
                    if self.by_magnitude && vmax > 0.0 { viridis(0.9 * mags[k] / vmax) } else { Rgb(40, 60, 110) };
                let centre = ch.backend_coord(&(p[0], p[1]));
                arrow(root, centre, (vx * sx, -vy * sy), mags[k], vmax, cell_px, color)?;
            }
            if self.by_magnitude {
                let hi = if vmax > 0.0 { vmax } else { 1.0 };
                colorbar(&bar, 0.0, hi, py, |s| viridis(0.9 * s))?;
            }
            Ok(())
        })
    }
}

/// Draws one arrow centred on `centre` (pixels) pointing along `dir_px`, with
/// length 0.85 · cell · mag / vmax; a dot if the velocity is (nearly) zero.
fn arrow(
    root: &Area<'_>,
    centre: (i32, i32),
    dir_px: (f64, f64),
    mag: f64,
    vmax: f64,
    cell_px: f64,
    color: Rgb,
) -> Result<()> {
    let norm = dir_px.0.hypot(dir_px.1);
    let len = if vmax > 0.0 { 0.85 * cell_px * mag / vmax } else { 0.0 };
    if len < 1.0 || norm == 0.0 {
        return root.draw(&Circle::new(centre, 1, color.rgb().filled())).map_err(plot_err);
    }
    let (ux, uy) = (dir_px.0 / norm, dir_px.1 / norm);
    let (cx, cy) = (centre.0 as f64, centre.1 as f64);
    let tail = (cx - 0.5 * len * ux, cy - 0.5 * len * uy);
    let tip = (cx + 0.5 * len * ux, cy + 0.5 * len * uy);
    let head = (0.35 * len).clamp(2.0, 7.0);
    let base = (tip.0 - head * ux, tip.1 - head * uy);
    let half = 0.45 * head;
    let px = |p: (f64, f64)| (p.0.round() as i32, p.1.round() as i32);
    root.draw(&PathElement::new(vec![px(tail), px(base)], color.rgb().stroke_width(1))).map_err(plot_err)?;
    let wing = |s: f64| px((base.0 - s * half * uy, base.1 + s * half * ux));
    root.draw(&Polygon::new(vec![px(tip), wing(1.0), wing(-1.0)], color.rgb().filled())).map_err(plot_err)
}

/// Arrows of the field u_t on a `grid_n × grid_n` grid over `range × range`
/// at time `t`. See [`Quiver`] for the arrow scaling and options.
pub fn quiver(field: &impl VectorField, t: f64, range: (f64, f64), grid_n: usize) -> Result<Figure> {
    Quiver::new(field, t).x_range(range.0, range.1).y_range(range.0, range.1).grid(grid_n).build()
}

// ---------------------------------------------------------------------------
// 4. Trajectories
// ---------------------------------------------------------------------------

/// Paths x_{t_0} → x_{t_1} → … → x_{t_K} of several particles through the plane.
///
/// Input: the states along a solve, `states[k]` = all n particles at step k
/// (each n × 2, same n). Particle i's path joins row i of every state. At most
/// `max_paths` paths are drawn, taken evenly spaced over the rows
/// (i = ⌊j · n / max_paths⌋). Starts are marked in blue, ends in orange.
/// Segments touching a non-finite state are skipped.
pub struct Trajectories<'a> {
    frame: Frame,
    states: &'a [Points],
    max_paths: usize,
}

impl<'a> Trajectories<'a> {
    /// Trajectories through `states` (at least 2 states), at most 50 paths, 480×480 px.
    pub fn new(states: &'a [Points]) -> Self {
        Trajectories { frame: Frame::default(), states, max_paths: 50 }
    }

    frame_methods!();

    /// The most paths to draw (default 50).
    pub fn max_paths(mut self, max_paths: usize) -> Self {
        self.max_paths = max_paths;
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        if self.states.len() < 2 {
            return Err(Error::Plot {
                reason: format!(
                    "trajectories need at least 2 states (start and end), got {}; pass every state of the solve",
                    self.states.len()
                ),
            });
        }
        if self.max_paths == 0 {
            return Err(Error::ZeroCount { what: "max_paths".into() });
        }
        let first = &self.states[0];
        check_2d(first, "the trajectory states")?;
        for (k, s) in self.states.iter().enumerate() {
            first.check_same_shape(s, &format!("trajectory state {k} (every state must have the shape of state 0)"))?;
        }
        let n = first.len();
        if n == 0 {
            return Err(Error::Plot { reason: "the trajectory states have no points".into() });
        }
        let m = self.max_paths.min(n);
        let idx: Vec<usize> = (0..m).map(|j| j * n / m).collect();
        let paths: Vec<Vec<(f64, f64)>> =
            idx.iter().map(|&i| self.states.iter().map(|s| (s.row(i)[0], s.row(i)[1])).collect()).collect();
        let all: Vec<(f64, f64)> =
            paths.iter().flatten().copied().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
        if all.is_empty() {
            return Err(Error::NonFinite {
                what: "the trajectory states".into(),
                detail: "every selected path is NaN or infinite at every step".into(),
            });
        }
        let (xr, yr) = cloud_ranges(&self.frame, &all)?;
        let size = self.frame.size_or(SINGLE_PANEL)?;
        let (start_c, end_c, path_c) = (Rgb::BLUE, Rgb::ORANGE, Rgb(90, 90, 90));
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let entries = [
                ("start".to_string(), start_c, Mark::Dot),
                ("path".to_string(), path_c, Mark::Line),
                ("end".to_string(), end_c, Mark::Dot),
            ];
            let area = legend_row(&area, &entries, 1)?;
            let axes = Axes {
                x_label: self.frame.x_label.as_deref(),
                y_label: self.frame.y_label.as_deref(),
                tick_font: TICK_FONT,
                y_ticks_width: tick_label_width(yr, false, TICK_FONT),
                margin_right: 14,
            };
            let mut ch = chart(&area, xr.0..xr.1, yr.0..yr.1, &axes)?;
            let line = path_c.alpha(0.45).stroke_width(1);
            for path in &paths {
                ch.draw_series(clip_path(path, xr, yr).into_iter().map(|piece| PathElement::new(piece, line)))
                    .map_err(plot_err)?;
            }
            let ok = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite() && inside(*p, xr, yr);
            let starts = paths.iter().map(|p| p[0]).filter(ok);
            ch.draw_series(starts.map(|p| Circle::new(p, 3, start_c.alpha(0.9).filled()))).map_err(plot_err)?;
            let ends = paths.iter().map(|p| p[p.len() - 1]).filter(ok);
            ch.draw_series(ends.map(|p| Circle::new(p, 3, end_c.alpha(0.9).filled()))).map_err(plot_err)?;
            Ok(())
        })
    }
}

/// Paths of at most `max_paths` particles through the states of a solve
/// (`traj[k]` = all particles at step k). See [`Trajectories`].
pub fn trajectories(traj: &[Points], max_paths: usize) -> Result<Figure> {
    Trajectories::new(traj).max_paths(max_paths).build()
}

// ---------------------------------------------------------------------------
// 5. Time strip
// ---------------------------------------------------------------------------

/// Largest number of panels in a time strip.
pub const MAX_PANELS: usize = 12;

/// A row of small scatter panels showing the distribution p_t at several
/// times, titled "t = 0.25", all on the same axis ranges so that panels
/// compare directly. Build with [`TimeStrip::new`] or use [`time_strip`].
pub struct TimeStrip<'a> {
    frame: Frame,
    states: &'a [Points],
    times: &'a [f64],
    color: Rgb,
}

impl<'a> TimeStrip<'a> {
    /// One panel per state (`states[k]` drawn at `times[k]`); default size
    /// 220 px per panel by 270 px. Dots have radius 2 px for clouds of at most
    /// 500 points and 1 px for bigger ones.
    pub fn new(states: &'a [Points], times: &'a [f64]) -> Self {
        TimeStrip { frame: Frame::default(), states, times, color: Rgb::BLUE }
    }

    frame_methods!();

    /// Colour of the dots (default blue).
    pub fn color(mut self, color: Rgb) -> Self {
        self.color = color;
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        let k = self.states.len();
        if k != self.times.len() {
            return Err(Error::shape(
                "time_strip(states, times)",
                format!("one time per state ({k} states)"),
                format!("{} times", self.times.len()),
            ));
        }
        if k == 0 {
            return Err(Error::Plot { reason: "the time strip has no states; pass at least one".into() });
        }
        if k > MAX_PANELS {
            return Err(Error::SizeLimit {
                what: "panels in a time strip".into(),
                size: k,
                limit: MAX_PANELS,
                hint: "Pick a few representative times, e.g. every 10th state of the solve".into(),
            });
        }
        if let Some(t) = self.times.iter().find(|t| !t.is_finite()) {
            return Err(Error::NonFinite { what: "the times of a time strip".into(), detail: format!("t = {t}") });
        }
        let clouds: Vec<Vec<(f64, f64)>> = self
            .states
            .iter()
            .zip(self.times)
            .map(|(s, t)| xy_rows(s, &format!("the state at t = {}", fmt_tick(t))))
            .collect::<Result<_>>()?;
        let all: Vec<(f64, f64)> = clouds.iter().flatten().copied().collect();
        let (xr, yr) = cloud_ranges(&self.frame, &all)?;
        let size = self.frame.size_or((220 * k as u32 + 20, 270))?;
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT - 2)?;
            // Only the first panel carries the y axis; it is wider by that axis so
            // that all plotting areas have the same width.
            const TICK: u32 = 12;
            let left = tick_label_width(yr, false, TICK) + if self.frame.y_label.is_some() { TICK + 8 } else { 0 };
            let (w, _) = area.dim_in_pixel();
            let plot_w = w.saturating_sub(left) as f64 / k as f64;
            let breaks: Vec<i32> = (1..k).map(|i| (left as f64 + i as f64 * plot_w).round() as i32).collect();
            let panels = area.split_by_breakpoints(breaks, Vec::<i32>::new());
            for (i, (panel, (xy, t))) in panels.iter().zip(clouds.iter().zip(self.times)).enumerate() {
                let axis_w = if i == 0 { left } else { 0 };
                // Centre the panel title over the plotting area, not over the axis.
                let (_, body) = panel.split_horizontally(axis_w);
                let below = body.titled(&format!("t = {}", fmt_tick(t)), (FONT, 17)).map_err(plot_err)?;
                let title_h = below.get_pixel_range().1.start - panel.get_pixel_range().1.start;
                let (_, panel) = panel.split_vertically(title_h);
                let axes = Axes {
                    x_label: self.frame.x_label.as_deref(),
                    y_label: if i == 0 { self.frame.y_label.as_deref() } else { None },
                    tick_font: TICK,
                    y_ticks_width: if i == 0 { tick_label_width(yr, false, TICK) } else { 0 },
                    margin_right: 10,
                };
                let mut ch = chart(&panel, xr.0..xr.1, yr.0..yr.1, &axes)?;
                let radius = if xy.len() <= 500 { 2 } else { 1 };
                let style = self.color.alpha(0.6).filled();
                ch.draw_series(xy.iter().filter(|p| inside(**p, xr, yr)).map(|p| Circle::new(*p, radius, style)))
                    .map_err(plot_err)?;
            }
            Ok(())
        })
    }
}

/// A row of scatter panels of `states[k]` (each n × 2) titled `t = times[k]`,
/// on shared axis ranges. See [`TimeStrip`].
pub fn time_strip(states: &[Points], times: &[f64]) -> Result<Figure> {
    TimeStrip::new(states, times).build()
}

// ---------------------------------------------------------------------------
// 6. Loss curve and 7. line charts
// ---------------------------------------------------------------------------

/// One polyline of a line chart.
struct Curve {
    label: String,
    xy: Vec<(f64, f64)>,
    color: Rgb,
    alpha: f64,
    width: u32,
    markers: bool,
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
    let all = || curves.iter().flat_map(|c| c.xy.iter());
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
            .map(|c| (c.label.clone(), c.color, if c.markers { Mark::Dot } else { Mark::Line }))
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
        }];
        if smooth {
            curves.push(Curve {
                label: format!("moving average ({} steps)", self.window),
                xy: thin(moving_average(&raw, self.window)),
                color: Rgb::BLUE,
                alpha: 1.0,
                width: 2,
                markers: false,
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

/// General multi-series line chart, e.g. W2 against the number of function
/// evaluations for each solver. Each series is a list of (x, y) points drawn
/// as a line with a dot at every point; non-finite points are skipped.
pub struct Lines<'a> {
    frame: Frame,
    series: Vec<(String, &'a [Span], Option<Rgb>)>,
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
        Lines { frame: Frame::default(), series: Vec::new(), log_x: false, log_y: false, markers: true }
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
        if self.series.is_empty() {
            return Err(Error::Plot {
                reason: "the line chart has no series; add one with .series(label, &xy)".into(),
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
