//! Figures for the course: scatter plots of samples, density heatmaps, vector
//! fields, trajectories, time strips, loss curves and line charts, and panels
//! that compose several of them into one.
//!
//! Every figure is a [`Figure`] value: the text of an SVG document plus its
//! size in pixels. A figure can be
//!
//! * saved with [`Figure::save`] (written atomically: a temporary file in the
//!   same folder, then renamed over the target),
//! * read back as text with [`Figure::svg`],
//! * shown inline in an evcxr (Jupyter) notebook: a cell whose last
//!   expression is a `Figure` displays the plot, because `Figure` has the
//!   `evcxr_display` method that evcxr looks for. In the notebook the figure
//!   shrinks to the width of the page ([`Figure::responsive_svg`]).
//!
//! **One figure per cell.** Jupyter receives one result per cell, so to show
//! several figures compose them: [`row`], [`grid`] or [`Panels`] (with a shared
//! title). `course execute` checks that every figure a cell drew is shown.
//!
//! Each kind of figure has a short function for notebook cells, e.g.
//! `plot::scatter(&[("data", &x1), ("samples", &gen)])?`, and a builder with the
//! same name in CamelCase for the options (title, size, axis ranges, axis
//! labels and the options special to that figure):
//! `plot::Scatter::new().layer("data", &x1).title("8 Gaussians").build()?`.
//!
//! | file | figure |
//! | --- | --- |
//! | `figure` | [`Figure`], [`Panels`], [`row`], [`grid`] |
//! | `scatter` | [`Scatter`], [`scatter`] |
//! | `heatmap` | [`Heatmap`], [`histogram2d`], [`heatmap`]; `png` writes the image of a fine heatmap |
//! | `quiver` | [`Quiver`], [`quiver`] |
//! | `trajectories` | [`Trajectories`], [`trajectories`] |
//! | `time_strip` | [`TimeStrip`], [`time_strip`] |
//! | `lines` | [`LossCurve`], [`loss_curve`], [`Lines`], [`lines`], [`histogram_steps`] |
//! | `boxplot` | [`BoxPlot`], [`box_plot`]: a measurement's spread over repeats, per category and series |
//! | `image_grid` | [`ImageGrid`], [`image_grid`]: small grey images in rows and columns, with row and column labels |
//! | `warp` | [`WarpedGrid`], [`warped_grid`]: where a map of the plane sends a square grid |
//! | `density` | [`DensityStrip`], [`density_strip`]: p_t at several t from a closed form |
//! | `animation` | [`Animation`], [`animate`], [`Gif`]: particles moving along a flow, over p_t or the field |
//! | `raster` | the indexed canvas behind animations: shapes, text in the bundled font, GIF, base64 |
//! | `axes`, `style` | what every figure shares: options, ticks, ranges, clipping, colours |
//!
//! Conventions shared by every figure:
//!
//! * Two-dimensional plots take [`Points`](crate::Points) of dimension 2 and
//!   return [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for any other
//!   dimension.
//! * Points (or curve values) with a NaN or infinite coordinate are skipped and
//!   the rest is drawn, so a sampler that diverged on a few points still gives a
//!   picture. If nothing finite is left the figure returns
//!   [`Error::NonFinite`](crate::Error::NonFinite); an empty input returns
//!   [`Error::Plot`](crate::Error::Plot).
//! * Axis ranges are taken from the data (with 5 % padding) unless set with
//!   `x_range` / `y_range`; for point clouds both axes get the same span so
//!   that circles look round. Anything outside the ranges is clipped away.
//! * Text is written as SVG `<text>` elements in the `sans-serif` family, so
//!   the viewer (browser, notebook) picks the font. Animations are pixels, so
//!   their text is drawn with a font compiled into the crate (DejaVu Sans,
//!   Bitstream Vera licence, `assets/fonts/`), never a system font.
//! * **Animations** ([`Animation`]) are GIFs ([`Gif`]): a cell that ends in one
//!   plays it inline (`image/gif`), and it counts as that cell's one figure.

mod animation;
mod axes;
mod boxplot;
mod density;
mod figure;
mod heatmap;
mod image_grid;
mod lines;
mod png;
mod quiver;
mod raster;
mod scatter;
mod style;
mod time_strip;
mod trajectories;
mod warp;

pub use animation::{animate, Animation, DensityPath, Gif, MAX_FRAMES};
pub use boxplot::{box_plot, BoxPlot};
pub use density::{density_strip, DensityStrip};
pub use figure::{grid, row, Figure, Panels, FIGURE_LOG_ENV};
pub use heatmap::{heatmap, histogram2d, Heatmap, MAX_HEATMAP_BINS, VECTOR_BINS};
pub use image_grid::{image_grid, pixel_colour, ImageGrid, MAX_GRID_PIXELS, NON_FINITE_PIXEL};
pub use lines::{histogram_steps, lines, loss_curve, Lines, LossCurve};
pub use quiver::{quiver, Quiver, MAX_QUIVER_GRID};
pub use scatter::{scatter, Scatter};
pub use style::Rgb;
pub use time_strip::{time_strip, TimeStrip, MAX_PANELS};
pub use trajectories::{trajectories, Trajectories};
pub use warp::{warped_grid, WarpedGrid};
