//! Warped grids: where a map of the plane sends the lines of a square grid.

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};
use crate::points::Points;

/// A map of the plane applied to a batch of points.
type PlaneMap<'a> = Box<dyn Fn(&Points) -> Result<Points> + 'a>;

/// The image of a square grid under a map of the plane, x = f(z): lines of constant z₁ in blue,
/// lines of constant z₂ in orange. Where the lines crowd together the map compresses space
/// (|det J| < 1, the density rises); where they spread it stretches space (the density falls);
/// where they cross, the map folds the plane and is not invertible.
pub struct WarpedGrid<'a> {
    frame: Frame,
    map: PlaneMap<'a>,
    grid: (f64, f64),
    lines: usize,
}

/// Points along one grid line per line, each line `samples` points long.
const SAMPLES: usize = 120;

impl<'a> WarpedGrid<'a> {
    /// The grid [−3, 3]² with 13 lines each way, mapped by `map` (which takes and returns n × 2 points).
    pub fn new(map: impl Fn(&Points) -> Result<Points> + 'a) -> Self {
        WarpedGrid { frame: Frame::default(), map: Box::new(map), grid: (-3.0, 3.0), lines: 13 }
    }

    frame_methods!();

    /// The square [lo, hi]² the grid covers before the map (default [−3, 3]²).
    pub fn grid_range(mut self, lo: f64, hi: f64) -> Self {
        self.grid = (lo, hi);
        self
    }

    /// Lines each way (default 13, at least 2).
    pub fn lines(mut self, n: usize) -> Self {
        self.lines = n;
        self
    }

    /// Draws the figure.
    pub fn build(&self) -> Result<Figure> {
        check_range("grid_range", self.grid.0, self.grid.1)?;
        if self.lines < 2 || self.lines > 100 {
            return Err(Error::invalid("WarpedGrid lines", format!("{}: use 2 to 100 lines each way", self.lines)));
        }
        let (lo, hi) = self.grid;
        let (n, m) = (self.lines, SAMPLES);
        let at = |k: usize, count: usize| lo + (hi - lo) * k as f64 / (count - 1) as f64;
        // Rows: n vertical lines (constant z₁) then n horizontal ones (constant z₂), m points each.
        let z = Points::from_fn(2 * n * m, 2, |r, c| {
            let (line, k) = (r / m, r % m);
            let (fixed, along) = (at(line % n, n), at(k, m));
            match (line < n, c) {
                (true, 0) | (false, 1) => fixed,
                _ => along,
            }
        });
        let x = (self.map)(&z)?;
        if x.shape() != z.shape() {
            return Err(Error::shape(
                "the map of a warped grid",
                format!("{} × 2 points", z.len()),
                format!("{} × {}", x.len(), x.dim()),
            ));
        }
        let paths: Vec<Vec<(f64, f64)>> =
            (0..2 * n).map(|l| (0..m).map(|k| (x.row(l * m + k)[0], x.row(l * m + k)[1])).collect()).collect();
        let all = finite_points(&paths, "the warped grid", "the map returned no finite point")?;
        let (xr, yr) = cloud_ranges(&self.frame, &all)?;
        let size = self.frame.size_or(SINGLE_PANEL)?;
        let colours = [Rgb::BLUE, Rgb::ORANGE];
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let entries = [
                ("z₁ fixed".to_string(), colours[0], Mark::Line { alpha: 0.8, width: 2 }),
                ("z₂ fixed".to_string(), colours[1], Mark::Line { alpha: 0.8, width: 2 }),
            ];
            let area = legend_row(&area, &entries, 1)?;
            let axes = Axes::for_frame(&self.frame, yr, 14);
            let mut ch = chart(&area, xr.0..xr.1, yr.0..yr.1, &axes)?;
            for (l, path) in paths.iter().enumerate() {
                let style = colours[l / n].alpha(0.8).stroke_width(1);
                ch.draw_series(clip_path(path, xr, yr).into_iter().map(|piece| PathElement::new(piece, style)))
                    .map_err(plot_err)?;
            }
            Ok(())
        })
    }
}

/// The image of the grid [−3, 3]² (13 lines each way) under `map`. See [`WarpedGrid`].
pub fn warped_grid(map: impl Fn(&Points) -> Result<Points>) -> Result<Figure> {
    WarpedGrid::new(map).build()
}
