//! Heatmaps: 2-D density histograms of samples, functions f(x, y) and values computed on a
//! grid (e.g. a model's log-likelihood, evaluated in one batch at [`Heatmap::cell_centres`]).
//!
//! Grids of at most [`VECTOR_BINS`] cells per axis are drawn as one SVG rectangle per cell;
//! finer grids as one embedded PNG image of one pixel per cell (the same colours, a file
//! about twenty times smaller).

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::{diverging, viridis, Rgb};
use crate::error::{Error, Result};
use crate::points::Points;

/// Values of all cell centres at once.
type BatchFn<'a> = Box<dyn Fn(&Points) -> Result<Vec<f64>> + 'a>;

enum HeatSource<'a> {
    Function(Box<dyn Fn(f64, f64) -> f64 + 'a>),
    /// All cell centres at once (n × 2 points → one value each); `exp` shows e^value.
    Batch(BatchFn<'a>, bool),
    Samples(&'a Points),
    Values(&'a [f64]),
}

/// Finest grid drawn as one SVG rectangle per cell; finer grids become an embedded image.
pub const VECTOR_BINS: usize = 100;

/// The colour map of a heatmap.
#[derive(Clone, Copy, PartialEq)]
enum ColorMap {
    Viridis,
    /// Blue through white to red, white at 0, for signed differences.
    Diverging,
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
    cmap: ColorMap,
}

impl<'a> Heatmap<'a> {
    /// Density histogram of samples (n × 2) on a `bins × bins` grid (default 60).
    ///
    /// Each cell shows p̂ = count / (n · Δx · Δy), where n counts all finite
    /// samples (also those outside the range), so p̂ estimates the density and
    /// can be compared with a closed-form one. Default range: the samples'
    /// extent, same span on both axes.
    pub fn histogram(samples: &'a Points) -> Self {
        Heatmap {
            frame: Frame::default(),
            source: HeatSource::Samples(samples),
            bins: 60,
            color_range: None,
            cmap: ColorMap::Viridis,
        }
    }

    /// The function `f(x, y)` evaluated at the centre of each cell of a
    /// `bins × bins` grid (default 80) over `x_range × y_range`
    /// (default [-3, 3]², about ±3 standard deviations of N(0, I)).
    /// Cells where f is NaN or ±∞ are left blank (white).
    pub fn function(f: impl Fn(f64, f64) -> f64 + 'a) -> Self {
        Heatmap {
            frame: Frame::default(),
            source: HeatSource::Function(Box::new(f)),
            bins: 80,
            color_range: None,
            cmap: ColorMap::Viridis,
        }
    }

    /// Values already computed at the cells of a `bins × bins` grid over `x_range × y_range`
    /// (default [-3, 3]², as for [`Heatmap::function`]): `values[j·bins + i]` belongs to the
    /// cell centre of column i and row j, counted from the bottom left, which is row
    /// `j·bins + i` of [`Heatmap::cell_centres`]. So a model evaluates all cells in one batch.
    /// NaN or infinite values are left blank.
    pub fn values(values: &'a [f64], bins: usize) -> Self {
        Heatmap {
            frame: Frame::default(),
            source: HeatSource::Values(values),
            bins,
            color_range: None,
            cmap: ColorMap::Viridis,
        }
    }

    /// The centres of the cells of a `bins × bins` grid over `x_range × y_range`, one row per
    /// cell, column index fastest from the bottom-left cell: where [`Heatmap::values`] expects
    /// its values (and where [`Heatmap::function`] evaluates its function).
    pub fn cell_centres(x_range: (f64, f64), y_range: (f64, f64), bins: usize) -> Points {
        let (dx, dy) = ((x_range.1 - x_range.0) / bins as f64, (y_range.1 - y_range.0) / bins as f64);
        Points::from_fn(bins * bins, 2, |k, c| {
            let (i, j) = ((k % bins) as f64, (k / bins) as f64);
            if c == 0 {
                x_range.0 + (i + 0.5) * dx
            } else {
                y_range.0 + (j + 0.5) * dy
            }
        })
    }

    /// A diverging colour map, blue (negative) through white (0) to red (positive), with a
    /// colour range symmetric about 0 unless set: for differences such as model − truth.
    pub fn diverging(mut self) -> Self {
        self.cmap = ColorMap::Diverging;
        self
    }

    /// Like [`Heatmap::function`], with every cell centre evaluated in one call: `f` takes the
    /// `bins² × 2` centres and returns one value each (a model's batch evaluation).
    pub fn batch(f: impl Fn(&Points) -> Result<Vec<f64>> + 'a) -> Self {
        Heatmap {
            frame: Frame::default(),
            source: HeatSource::Batch(Box::new(f), false),
            bins: 80,
            color_range: None,
            cmap: ColorMap::Viridis,
        }
    }

    /// A density p = exp(log p) from a batch log-density, e.g. `Heatmap::density(|x| flow.log_prob(x))`:
    /// like [`Heatmap::batch`], showing e^value.
    pub fn density(log_p: impl Fn(&Points) -> Result<Vec<f64>> + 'a) -> Self {
        Heatmap {
            frame: Frame::default(),
            source: HeatSource::Batch(Box::new(log_p), true),
            bins: 80,
            color_range: None,
            cmap: ColorMap::Viridis,
        }
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
                let cells = Heatmap::cell_centres(xr, yr, n);
                (xr, yr, cells.rows().map(|c| f(c[0], c[1])).collect())
            }
            HeatSource::Values(v) => {
                if v.len() != n * n {
                    return Err(Error::shape(
                        "the values of a heatmap",
                        format!("{} values (one per cell of the {n} × {n} grid)", n * n),
                        format!("{} values", v.len()),
                    ));
                }
                let (fx, fy) = self.frame.checked_ranges()?;
                (fx.unwrap_or((-3.0, 3.0)), fy.unwrap_or((-3.0, 3.0)), v.to_vec())
            }
            HeatSource::Batch(f, exp) => {
                let (fx, fy) = self.frame.checked_ranges()?;
                let (xr, yr) = (fx.unwrap_or((-3.0, 3.0)), fy.unwrap_or((-3.0, 3.0)));
                let (dx, dy) = ((xr.1 - xr.0) / n as f64, (yr.1 - yr.0) / n as f64);
                let centres = Points::from_fn(n * n, 2, |k, c| {
                    if c == 0 {
                        xr.0 + ((k % n) as f64 + 0.5) * dx
                    } else {
                        yr.0 + ((k / n) as f64 + 0.5) * dy
                    }
                });
                let mut v = f(&centres)?;
                if v.len() != n * n {
                    return Err(Error::shape(
                        "the values of a batch heatmap",
                        format!("{} values, one per cell", n * n),
                        format!("{}", v.len()),
                    ));
                }
                if *exp {
                    v.iter_mut().for_each(|a| *a = a.exp());
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
                if self.cmap == ColorMap::Diverging {
                    let m = lo.abs().max(hi.abs()).max(1e-12);
                    (-m, m)
                } else if hi - lo <= 1e-12 * (1.0 + hi.abs()) {
                    (lo - 0.5, hi + 0.5)
                } else {
                    (lo, hi)
                }
            }
        };
        let cmap: fn(f64) -> Rgb = match self.cmap {
            ColorMap::Viridis => viridis,
            ColorMap::Diverging => diverging,
        };
        let raster = n > VECTOR_BINS;
        let figure = render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let (w, _) = area.dim_in_pixel();
            let (main, bar) = area.split_horizontally(w.saturating_sub(80));
            let axes = Axes::for_frame(&self.frame, yr, 4);
            let mut ch = chart(&main, xr.0..xr.1, yr.0..yr.1, &axes)?;
            let (dx, dy) = ((xr.1 - xr.0) / n as f64, (yr.1 - yr.0) / n as f64);
            if raster {
                // A placeholder over the whole plot, replaced by the image once the SVG is written.
                ch.draw_series(std::iter::once(Rectangle::new([(xr.0, yr.0), (xr.1, yr.1)], MARKER.filled())))
                    .map_err(plot_err)?;
            } else {
                ch.draw_series(values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(k, &v)| {
                    let (i, j) = ((k % n) as f64, (k / n) as f64);
                    let c = cmap((v - lo) / (hi - lo));
                    Rectangle::new(
                        [(xr.0 + i * dx, yr.0 + j * dy), (xr.0 + (i + 1.0) * dx, yr.0 + (j + 1.0) * dy)],
                        c.rgb().filled(),
                    )
                }))
                .map_err(plot_err)?;
            }
            let plot_y = ch.plotting_area().get_pixel_range().1;
            colorbar(&bar, lo, hi, plot_y, cmap)
        })?;
        if !raster {
            return Ok(figure);
        }
        // One pixel per cell, top row first; blank (white) where the value is not finite.
        let mut rgb = Vec::with_capacity(3 * n * n);
        for j in (0..n).rev() {
            for &v in &values[j * n..(j + 1) * n] {
                let c = if v.is_finite() { cmap((v - lo) / (hi - lo)) } else { Rgb(255, 255, 255) };
                rgb.extend_from_slice(&[c.0, c.1, c.2]);
            }
        }
        let image =
            format!("data:image/png;base64,{}", super::png::base64(&super::png::encode_rgb(n as u32, n as u32, &rgb)));
        let svg = replace_marker(figure.svg(), &image)?;
        Ok(Figure::from_svg(svg, figure.width(), figure.height()))
    }
}

/// The fill of the placeholder that marks where a raster heatmap's image goes.
const MARKER: RGBColor = RGBColor(1, 2, 3);

/// Replaces the placeholder rectangle (`fill="#010203"`) of `svg` by an `<image>` with the
/// same position and size showing `href`, scaled without smoothing.
fn replace_marker(svg: &str, href: &str) -> Result<String> {
    let missing = || Error::Plot { reason: "the raster heatmap's placeholder is missing from the SVG".into() };
    let at = svg.find("fill=\"#010203\"").ok_or_else(missing)?;
    let start = svg[..at].rfind("<rect").ok_or_else(missing)?;
    let end = at + svg[at..].find("/>").ok_or_else(missing)? + 2;
    let rect = &svg[start..end];
    let attr = |name: &str| -> Result<&str> {
        let key = format!(" {name}=\"");
        let i = rect.find(&key).ok_or_else(missing)? + key.len();
        Ok(&rect[i..i + rect[i..].find('"').ok_or_else(missing)?])
    };
    let image = format!(
        "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
         style=\"image-rendering:pixelated\" href=\"{href}\"/>",
        attr("x")?,
        attr("y")?,
        attr("width")?,
        attr("height")?
    );
    Ok(format!("{}{}{}", &svg[..start], image, &svg[end..]))
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
