//! Trajectories: the paths of particles through the states of a solve.

use plotters::prelude::*;

use super::axes::*;
use super::figure::Figure;
use super::style::Rgb;
use crate::error::{Error, Result};
use crate::points::Points;

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
        let all =
            finite_points(&paths, "the trajectory states", "every selected path is NaN or infinite at every step")?;
        let (xr, yr) = cloud_ranges(&self.frame, &all)?;
        let size = self.frame.size_or(SINGLE_PANEL)?;
        let (start_c, end_c, path_c) = (Rgb::BLUE, Rgb::ORANGE, Rgb(90, 90, 90));
        render(size, |root| {
            let area = titled(root, self.frame.title.as_deref(), TITLE_FONT)?;
            let entries = [
                ("start".to_string(), start_c, Mark::Dot),
                ("path".to_string(), path_c, Mark::Line { alpha: 0.45, width: 1 }),
                ("end".to_string(), end_c, Mark::Dot),
            ];
            let area = legend_row(&area, &entries, 1)?;
            let axes = Axes::for_frame(&self.frame, yr, 14);
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
