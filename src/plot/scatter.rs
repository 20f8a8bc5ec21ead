//! Scatter plots of labelled point clouds.

use plotters::prelude::*;
use std::borrow::Cow;

use super::axes::*;
use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};
use crate::points::Points;

/// Scatter plot of one or more labelled point clouds in the plane, e.g. data
/// against generated samples. Build with [`Scatter::new`] or use [`scatter`].
pub struct Scatter<'a> {
    frame: Frame,
    layers: Vec<(String, Cow<'a, Points>, Option<Rgb>)>,
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
        self.layers.push((label.into(), Cow::Borrowed(points), None));
        self
    }

    /// Adds a point cloud (n × 2) drawn in `color`.
    pub fn layer_colored(mut self, label: impl Into<String>, points: &'a Points, color: Rgb) -> Self {
        self.layers.push((label.into(), Cow::Borrowed(points), Some(color)));
        self
    }

    /// Adds one layer per class: the rows of `points` (n × 2) labelled k, drawn in palette colour k
    /// (the same colour for a class in every figure). The legend names the first class `y = k` and
    /// the others by their number alone, so that eight or ten classes fit on one line. `labels` has
    /// one class per row.
    ///
    /// Errors: [`Error::ShapeMismatch`] for a wrong number of labels.
    pub fn classes(mut self, points: &Points, labels: &[usize]) -> Result<Self> {
        if labels.len() != points.len() {
            return Err(Error::shape(
                "the labels of a class scatter plot",
                format!("{} labels (one per point)", points.len()),
                format!("{} labels", labels.len()),
            ));
        }
        let mut classes: Vec<usize> = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        for (n, k) in classes.into_iter().enumerate() {
            let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == k).collect();
            let name = if n == 0 { format!("y = {k}") } else { k.to_string() };
            self.layers.push((name, Cow::Owned(points.select(&rows)), Some(Rgb::palette(k))));
        }
        Ok(self)
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
            let axes = Axes::for_frame(&self.frame, yr, 14);
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
