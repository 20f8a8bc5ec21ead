//! Grouped box plots: the spread of a measurement across repeats (seeds), per category and series.
//!
//! ```text
//! box: quartiles Q1–Q3,   line: the median,   whiskers: min and max,   dots: every value
//! ```

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};

/// A box plot of values per category, with one box per series side by side in each category
/// (e.g. W2 over five seeds, per method, for two implementations), and optional horizontal
/// reference lines (e.g. the noise floor). Every value is also drawn as a dot, since with a
/// handful of repeats the dots say more than the box. Build with [`BoxPlot::new`] or use
/// [`box_plot`].
pub struct BoxPlot {
    frame: Frame,
    categories: Vec<String>,
    series: Vec<(String, Vec<Vec<f64>>, Option<Rgb>)>,
    references: Vec<(String, f64)>,
}

impl BoxPlot {
    /// An empty box plot over `categories` (the x axis), 600×420 px.
    pub fn new<S: AsRef<str>>(categories: &[S]) -> Self {
        BoxPlot {
            frame: Frame::default(),
            categories: categories.iter().map(|c| c.as_ref().to_string()).collect(),
            series: Vec::new(),
            references: Vec::new(),
        }
    }

    frame_methods!();

    /// Adds a series: one list of values per category (an empty list leaves a gap), in the
    /// next palette colour.
    pub fn series(mut self, label: impl Into<String>, values: Vec<Vec<f64>>) -> Self {
        self.series.push((label.into(), values, None));
        self
    }

    /// Adds a series drawn in `color`.
    pub fn series_colored(mut self, label: impl Into<String>, values: Vec<Vec<f64>>, color: Rgb) -> Self {
        self.series.push((label.into(), values, Some(color)));
        self
    }

    /// A dashed horizontal line at `y`, named in the legend.
    pub fn reference(mut self, label: impl Into<String>, y: f64) -> Self {
        self.references.push((label.into(), y));
        self
    }

    /// Draws the figure.
    ///
    /// Errors: [`Error::Plot`] with no category or no series, [`Error::ShapeMismatch`] when a
    /// series has not one list per category, [`Error::NonFinite`] when no value is finite.
    pub fn build(&self) -> Result<Figure> {
        if self.categories.is_empty() || self.series.is_empty() {
            return Err(Error::Plot {
                reason: "the box plot needs categories and at least one series: \
                         BoxPlot::new(&names).series(label, values_per_category)"
                    .into(),
            });
        }
        for (label, v, _) in &self.series {
            if v.len() != self.categories.len() {
                return Err(Error::shape(
                    format!("box-plot series '{label}'"),
                    format!("{} lists of values (one per category)", self.categories.len()),
                    format!("{} lists", v.len()),
                ));
            }
        }
        let finite = |v: &[f64]| v.iter().copied().filter(|x| x.is_finite()).collect::<Vec<f64>>();
        let all: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.1.iter().flat_map(|v| finite(v)))
            .chain(self.references.iter().map(|r| r.1).filter(|y| y.is_finite()))
            .collect();
        let Some((lo, hi)) = fit(all.iter().copied()) else {
            return Err(Error::NonFinite { what: "the box plot's values".into(), detail: "none is finite".into() });
        };
        let pad = 0.08 * (hi - lo).max(1e-9);
        let yr = self.frame.y_range.unwrap_or((lo - pad, hi + pad));
        check_range("y_range", yr.0, yr.1)?;
        let k = self.categories.len() as f64;
        let xr = (-0.5, k - 0.5);
        let size = self.frame.size_or(WIDE_PANEL)?;
        let m = self.series.len() as f64;
        let slot = 0.8 / m;
        let colors: Vec<Rgb> =
            self.series.iter().enumerate().map(|(i, s)| s.2.unwrap_or_else(|| Rgb::palette(i))).collect();
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let mut entries: Vec<_> =
                self.series.iter().zip(&colors).map(|(s, c)| (s.0.clone(), *c, Mark::Dot)).collect();
            for (label, _) in &self.references {
                entries.push((label.clone(), Rgb(90, 90, 90), Mark::Line { alpha: 1.0, width: 1 }));
            }
            let area = legend_row(&area, &entries, 1)?;
            let tick = TICK_FONT;
            let y_area = tick_label_width(yr, false, tick) + if self.frame.y_label.is_some() { tick + 8 } else { 0 };
            let x_area = tick + 10 + if self.frame.x_label.is_some() { tick + 8 } else { 0 };
            let names = &self.categories;
            let x_name = |x: &f64| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                    names[i as usize].clone()
                } else {
                    String::new()
                }
            };
            let mut ch = ChartBuilder::on(&area)
                .margin_top(12)
                .margin_left(6)
                .margin_bottom(6)
                .margin_right(14)
                .x_label_area_size(x_area)
                .y_label_area_size(y_area)
                .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
                .map_err(plot_err)?;
            {
                let mut mesh = ch.configure_mesh();
                mesh.disable_x_mesh()
                    .light_line_style(BLACK.mix(0.04))
                    .bold_line_style(BLACK.mix(0.12))
                    .axis_style(BLACK.mix(0.6))
                    .label_style((FONT, tick))
                    .axis_desc_style((FONT, tick + 2))
                    .x_labels(2 * names.len() + 1)
                    .y_labels(6)
                    .x_label_formatter(&x_name)
                    .y_label_formatter(&fmt_tick);
                if let Some(l) = &self.frame.x_label {
                    mesh.x_desc(l.as_str());
                }
                if let Some(l) = &self.frame.y_label {
                    mesh.y_desc(l.as_str());
                }
                mesh.draw().map_err(plot_err)?;
            }
            for (_, y) in &self.references {
                let dash = 0.12;
                let mut x = xr.0;
                while x < xr.1 {
                    let x2 = (x + dash).min(xr.1);
                    ch.draw_series(std::iter::once(PathElement::new(
                        vec![(x, *y), (x2, *y)],
                        Rgb(90, 90, 90).rgb().stroke_width(1),
                    )))
                    .map_err(plot_err)?;
                    x += 2.0 * dash;
                }
            }
            for (s, ((_, values, _), color)) in self.series.iter().zip(&colors).enumerate() {
                for (c, v) in values.iter().enumerate() {
                    let v = finite(v);
                    let Some(q) = quartiles(&v) else { continue };
                    let centre = c as f64 - 0.4 + slot * (s as f64 + 0.5);
                    let half = 0.35 * slot;
                    let line = color.rgb().stroke_width(2);
                    ch.draw_series(std::iter::once(Rectangle::new(
                        [(centre - half, q.1), (centre + half, q.3)],
                        color.alpha(0.25).filled(),
                    )))
                    .map_err(plot_err)?;
                    ch.draw_series(std::iter::once(Rectangle::new([(centre - half, q.1), (centre + half, q.3)], line)))
                        .map_err(plot_err)?;
                    for seg in [
                        vec![(centre - half, q.2), (centre + half, q.2)],
                        vec![(centre, q.0), (centre, q.1)],
                        vec![(centre, q.3), (centre, q.4)],
                        vec![(centre - 0.5 * half, q.0), (centre + 0.5 * half, q.0)],
                        vec![(centre - 0.5 * half, q.4), (centre + 0.5 * half, q.4)],
                    ] {
                        ch.draw_series(std::iter::once(PathElement::new(seg, line))).map_err(plot_err)?;
                    }
                    ch.draw_series(
                        v.iter().map(|&y| Circle::new((centre + 0.6 * half, y), 3, BLACK.mix(0.7).filled())),
                    )
                    .map_err(plot_err)?;
                }
            }
            Ok(())
        })
    }
}

/// (min, Q1, median, Q3, max) by linear interpolation between order statistics; `None` when empty.
fn quartiles(v: &[f64]) -> Option<(f64, f64, f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (s.len() - 1) as f64;
        let (i, f) = (h.floor() as usize, h - h.floor());
        s[i] + f * (s[(i + 1).min(s.len() - 1)] - s[i])
    };
    Some((s[0], q(0.25), q(0.5), q(0.75), s[s.len() - 1]))
}

/// A grouped box plot: one box per series in each category, e.g.
/// `plot::box_plot(&["icfm", "otcfm"], &[("ours", w2_ours), ("TorchCFM", w2_theirs)])`, where each
/// series holds one list of values per category.
pub fn box_plot<S: AsRef<str>>(categories: &[S], series: &[(&str, Vec<Vec<f64>>)]) -> Result<Figure> {
    series.iter().fold(BoxPlot::new(categories), |b, (label, v)| b.series(*label, v.clone())).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_of_five_values() {
        assert_eq!(quartiles(&[5.0, 1.0, 3.0, 2.0, 4.0]), Some((1.0, 2.0, 3.0, 4.0, 5.0)));
        assert_eq!(quartiles(&[]), None);
    }

    #[test]
    fn a_box_plot_draws_and_checks_its_shape() {
        let fig = BoxPlot::new(&["a", "b"])
            .series("x", vec![vec![1.0, 2.0, 3.0], vec![]])
            .reference("floor", 0.5)
            .build()
            .unwrap();
        assert!(fig.svg().contains("floor"));
        assert!(BoxPlot::new(&["a", "b"]).series("x", vec![vec![1.0]]).build().is_err());
        assert!(BoxPlot::new(&["a"]).build().is_err());
    }
}
