//! Time strips: a row of panels showing p_t at several times on shared axes.

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};
use crate::points::Points;

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
