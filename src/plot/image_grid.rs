//! [`ImageGrid`]: small grey images (one per row of a point set) laid out in rows and columns,
//! with optional labels for the rows and the columns, e.g. generated digits, one row per class
//! and one column per guidance scale.
//!
//! ```text
//! image k  = row k of the points, S × S pixels read row by row (pixel (r, c) is entry S·r + c)
//! place    = grid row ⌊k / columns⌋, grid column k mod columns (filled row by row)
//! grey     = g = clamp((x − lo)/(hi − lo), 0, 1),  colour = 255·(1 − g) in each channel
//! ```
//!
//! So the low end of the value range is white paper and the high end black ink (for the digits,
//! whose pixels lie in [−1, 1], the default range). A pixel that is NaN or infinite is drawn
//! magenta, [`NON_FINITE_PIXEL`], so a diverged sample shows as such instead of vanishing.
//! Every pixel is one SVG rectangle, which keeps the figure sharp at any zoom.

use super::axes::{check_range, FONT, LEGEND_FONT, MAX_SIDE, TITLE_FONT};
use super::figure::{escape_xml, Figure};
use super::style::Rgb;
use crate::error::{Error, Result};
use crate::points::Points;

/// The colour of a pixel that is NaN or infinite (magenta).
pub const NON_FINITE_PIXEL: Rgb = Rgb(255, 0, 255);

/// The largest number of pixels (one SVG rectangle each) an image grid draws.
pub const MAX_GRID_PIXELS: usize = 200_000;

/// Space between two images, in figure pixels.
const GAP: u32 = 6;
/// Space around the whole grid, in figure pixels.
const MARGIN: u32 = 8;
/// Height of the band that holds the column labels.
const LABEL_BAND: u32 = 24;
/// Height of the title band.
const TITLE_BAND: u32 = 34;

/// A grid of small grey images with optional row and column labels. Build with
/// [`ImageGrid::new`], or use [`image_grid`] for a plain grid.
///
/// ```
/// use flowmatch::{plot, Points};
/// // two 2 × 2 images: a black top-left pixel, then an all-white image
/// let x = Points::from_rows(&[[1.0, -1.0, -1.0, -1.0], [-1.0, -1.0, -1.0, -1.0]]).unwrap();
/// let fig = plot::ImageGrid::new(&x, 2).columns(2).column_labels(["ink", "paper"]).build().unwrap();
/// assert!(fig.svg().contains("paper"));
/// ```
#[derive(Clone, Debug)]
pub struct ImageGrid<'a> {
    images: &'a Points,
    side: usize,
    columns: Option<usize>,
    row_labels: Option<Vec<String>>,
    column_labels: Option<Vec<String>>,
    title: Option<String>,
    range: (f64, f64),
    pixel: u32,
}

impl<'a> ImageGrid<'a> {
    /// The images, one per row of `images`, each `side × side` pixels read row by row
    /// (`images.dim()` must be `side²`). Defaults: all images in one row, values in [−1, 1]
    /// (the digits' pixels), 5 figure pixels per image pixel.
    pub fn new(images: &'a Points, side: usize) -> Self {
        ImageGrid {
            images,
            side,
            columns: None,
            row_labels: None,
            column_labels: None,
            title: None,
            range: (-1.0, 1.0),
            pixel: 5,
        }
    }

    /// How many images per grid row; the images fill the grid row by row.
    pub fn columns(mut self, columns: usize) -> Self {
        self.columns = Some(columns);
        self
    }

    /// One label per grid row, written to the left of it (e.g. the digit asked for).
    pub fn row_labels<S: ToString>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.row_labels = Some(labels.into_iter().map(|s| s.to_string()).collect());
        self
    }

    /// One label per grid column, written above it (e.g. `"w = 2"`).
    pub fn column_labels<S: ToString>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.column_labels = Some(labels.into_iter().map(|s| s.to_string()).collect());
        self
    }

    /// A title centred above the grid.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The values drawn as white (`lo`) and black (`hi`); values outside are clamped.
    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = (lo, hi);
        self
    }

    /// Figure pixels per image pixel (default 5).
    pub fn pixel_size(mut self, px: u32) -> Self {
        self.pixel = px;
        self
    }

    /// Draws the grid.
    ///
    /// Errors: [`Error::ShapeMismatch`] when a row does not hold `side²` pixels or a list of
    /// labels does not have one label per grid row (column); [`Error::Plot`] for no images;
    /// [`Error::ZeroCount`] for a side, column count or pixel size of 0;
    /// [`Error::InvalidParameter`] for a value range that is not an interval;
    /// [`Error::SizeLimit`] for a figure too large to draw.
    pub fn build(&self) -> Result<Figure> {
        let (n, s) = (self.images.len(), self.side);
        if s == 0 {
            return Err(Error::ZeroCount { what: "the side of the images".into() });
        }
        if self.pixel == 0 {
            return Err(Error::ZeroCount { what: "the figure pixels per image pixel".into() });
        }
        if n == 0 {
            return Err(Error::Plot { reason: "there are no images to draw; pass at least one row".into() });
        }
        if self.images.dim() != s * s {
            return Err(Error::shape(
                "the images of an image grid",
                format!("{} pixels per row ({s} × {s} images, read row by row)", s * s),
                format!("{} numbers per row; pass the side that matches the images", self.images.dim()),
            ));
        }
        let (lo, hi) = self.range;
        check_range("the value range of an image grid", lo, hi)?;
        let cols = self.columns.unwrap_or(n);
        if cols == 0 {
            return Err(Error::ZeroCount { what: "the number of columns".into() });
        }
        let rows = n.div_ceil(cols);
        let labels = |list: &Option<Vec<String>>, want: usize, what: &str| -> Result<usize> {
            match list {
                Some(l) if l.len() != want => Err(Error::shape(
                    format!("the {what} labels of an image grid"),
                    format!("one per grid {what} ({want})"),
                    format!("{} labels", l.len()),
                )),
                Some(l) => Ok(l.iter().map(|s| s.chars().count()).max().unwrap_or(0)),
                None => Ok(0),
            }
        };
        let row_chars = labels(&self.row_labels, rows, "row")?;
        let _ = labels(&self.column_labels, cols, "column")?;
        if n * s * s > MAX_GRID_PIXELS {
            return Err(Error::SizeLimit {
                what: "pixels in an image grid".into(),
                size: n * s * s,
                limit: MAX_GRID_PIXELS,
                hint: "Draw fewer or smaller images".into(),
            });
        }

        let img = s as u32 * self.pixel;
        let left = MARGIN + if self.row_labels.is_some() { 10 + (row_chars as u32) * LEGEND_FONT * 3 / 5 } else { 0 };
        let title = self.title.as_deref().filter(|t| !t.is_empty());
        let top = MARGIN
            + if title.is_some() { TITLE_BAND } else { 0 }
            + if self.column_labels.is_some() { LABEL_BAND } else { 0 };
        let width = left + cols as u32 * img + (cols as u32 - 1) * GAP + MARGIN;
        let height = top + rows as u32 * img + (rows as u32 - 1) * GAP + MARGIN;
        if width > 4 * MAX_SIDE || height > 4 * MAX_SIDE {
            return Err(Error::SizeLimit {
                what: "image grid side in pixels".into(),
                size: width.max(height) as usize,
                limit: 4 * MAX_SIDE as usize,
                hint: "Draw fewer images per row or column, or pass a smaller .pixel_size(…)".into(),
            });
        }

        let mut svg = format!(
            "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
             xmlns=\"http://www.w3.org/2000/svg\" shape-rendering=\"crispEdges\">\n\
             <rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#FFFFFF\"/>\n"
        );
        let text = |svg: &mut String, x: u32, y: u32, anchor: &str, size: u32, t: &str| {
            *svg += &format!(
                "<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" dominant-baseline=\"middle\" \
                 font-family=\"{FONT}\" font-size=\"{size}\" fill=\"#000000\">{}</text>\n",
                escape_xml(t)
            );
        };
        if let Some(t) = title {
            text(&mut svg, width / 2, MARGIN + TITLE_BAND / 2, "middle", TITLE_FONT, t);
        }
        let x_of = |c: usize| left + c as u32 * (img + GAP);
        let y_of = |r: usize| top + r as u32 * (img + GAP);
        if let Some(l) = &self.column_labels {
            for (c, t) in l.iter().enumerate() {
                text(&mut svg, x_of(c) + img / 2, top - LABEL_BAND / 2, "middle", LEGEND_FONT, t);
            }
        }
        if let Some(l) = &self.row_labels {
            for (r, t) in l.iter().enumerate() {
                text(&mut svg, left - 8, y_of(r) + img / 2, "end", LEGEND_FONT, t);
            }
        }
        let px = self.pixel;
        for (k, image) in self.images.rows().enumerate() {
            let (x0, y0) = (x_of(k % cols), y_of(k / cols));
            for (p, &v) in image.iter().enumerate() {
                let (r, c) = ((p / s) as u32, (p % s) as u32);
                svg += &format!(
                    "<rect x=\"{}\" y=\"{}\" width=\"{px}\" height=\"{px}\" fill=\"{}\"/>",
                    x0 + c * px,
                    y0 + r * px,
                    pixel_colour(v, lo, hi).hex()
                );
            }
            svg += &format!(
                "\n<rect x=\"{x0}\" y=\"{y0}\" width=\"{img}\" height=\"{img}\" fill=\"none\" stroke=\"#B0B0B0\" \
                 stroke-width=\"1\"/>\n"
            );
        }
        svg += "</svg>\n";
        Ok(Figure::from_svg(svg, width, height))
    }
}

/// The grey of value `v` on the scale `lo` (white) … `hi` (black); magenta when `v` is not finite.
pub fn pixel_colour(v: f64, lo: f64, hi: f64) -> Rgb {
    if !v.is_finite() {
        return NON_FINITE_PIXEL;
    }
    let g = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let level = (255.0 * (1.0 - g)).round() as u8;
    Rgb(level, level, level)
}

/// A plain grid of `side × side` images (one per row of `images`), `columns` per row, values in
/// [−1, 1]: `plot::image_grid(&samples, 8, 10)?`. [`ImageGrid`] adds labels and a title.
pub fn image_grid(images: &Points, side: usize, columns: usize) -> Result<Figure> {
    ImageGrid::new(images, side).columns(columns).build()
}
