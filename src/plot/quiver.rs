//! Quiver plots: the arrows of a 2-D vector field u_t(x) at one time.

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::{viridis, Rgb};
use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::points::Points;

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
            let axes = Axes::for_frame(&self.frame, yr, if self.by_magnitude { 4 } else { 14 });
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
