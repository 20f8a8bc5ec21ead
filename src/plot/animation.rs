//! Animations: particles carried by a flow from noise to data, over the evolving
//! density p_t or the vector field, as a looping GIF shown inline in evcxr.
//!
//! ```text
//! frame k:  background = p_{t_k} on a grid (or arrows of u_{t_k}),  particles = states[k],  title "… t = t_k"
//! ```
//!
//! Frames are drawn on the indexed canvas of `raster.rs` (text in the bundled
//! DejaVu Sans) and encoded as one GIF. A notebook cell that ends in a [`Gif`]
//! shows it (MIME `image/gif`, base64, which is how Jupyter carries binary
//! images; JupyterLab draws it as an `<img>` and plays it); [`Gif::save`] writes
//! the file. `examples/bench_animation.rs` times a 60-frame, 1 000-point GIF.

use std::io::Write as _;
use std::path::Path;

use super::axes::{cloud_ranges, fmt_tick, frame_methods, linear_ticks, xy_rows, Frame};
use super::figure::{write_atomic, FIGURE_LOG_ENV};
use super::raster::{base64, encode_gif, Anchor, Canvas, ARROW, AXIS, DATA, DENSITY, DENSITY_LEVELS, WHITE};
use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::marginal::Marginal;
use crate::path::Scheduler;
use crate::points::Points;

/// A path of densities p_t that an animation (or [`super::density_strip`]) can draw.
pub trait DensityPath {
    /// log p_t(x) for every row of `x`.
    fn log_density_at(&self, x: &Points, t: f64) -> Result<Vec<f64>>;
}

impl<S: Scheduler> DensityPath for Marginal<S> {
    fn log_density_at(&self, x: &Points, t: f64) -> Result<Vec<f64>> {
        self.log_density(x, t)
    }
}

/// A finished animation: GIF bytes, size and frame count. Save it with
/// [`Gif::save`]; a notebook cell that ends in a `Gif` plays it inline.
#[derive(Clone, PartialEq)]
pub struct Gif {
    bytes: Vec<u8>,
    width: u32,
    height: u32,
    frames: usize,
}

impl std::fmt::Debug for Gif {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gif({}×{} px, {} frames, {} bytes)", self.width, self.height, self.frames, self.bytes.len())
    }
}

impl Gif {
    /// The GIF file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Writes the GIF to `path` (conventionally ending in `.gif`), atomically as [`super::Figure::save`] does.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), &self.bytes)
    }

    /// What [`Gif::evcxr_display`] prints: the GIF as base64 between
    /// `EVCXR_BEGIN_CONTENT image/gif` and `EVCXR_END_CONTENT`.
    pub fn to_evcxr(&self) -> String {
        format!("EVCXR_BEGIN_CONTENT image/gif\n{}\nEVCXR_END_CONTENT", base64(&self.bytes))
    }

    /// Inline display hook for evcxr: a cell that ends in a `Gif` plays it.
    /// Logged to `$FLOWMATCH_FIGURE_LOG` like every figure.
    pub fn evcxr_display(&self) {
        if let Some(log) = std::env::var_os(FIGURE_LOG_ENV) {
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
                let _ = writeln!(f, "animation {}x{}", self.width, self.height);
            }
        }
        println!("{}", self.to_evcxr());
    }
}

/// Largest number of frames in one animation.
pub const MAX_FRAMES: usize = 400;

/// An animation of particles `states[k]` at `times[k]` (each n × 2, the same n),
/// optionally over the density p_t ([`Animation::density`]) or the arrows of a
/// field ([`Animation::field`]). Build with [`Animation::new`] or use [`animate`].
///
/// Axis ranges fit all states (equal spans) unless set; the title gets
/// "t = …" of each frame appended. Particles are 1 px dots above 500 points,
/// 2 px below; [`Animation::colors`] colours them by a label (e.g. where each
/// particle ends up), which shows who goes where.
pub struct Animation<'a> {
    frame: Frame,
    states: &'a [Points],
    times: &'a [f64],
    density: Option<&'a dyn DensityPath>,
    field: Option<&'a dyn VectorField>,
    labels: Option<&'a [usize]>,
    frame_ms: u32,
}

impl<'a> Animation<'a> {
    /// An animation of the particles `states[k]` at `times[k]`; 480 × 480 px, 80 ms per frame.
    pub fn new(states: &'a [Points], times: &'a [f64]) -> Self {
        Animation { frame: Frame::default(), states, times, density: None, field: None, labels: None, frame_ms: 80 }
    }

    frame_methods!();

    /// Draws p_t of each frame's time behind the particles (e.g. a [`Marginal`]).
    pub fn density(mut self, density: &'a dyn DensityPath) -> Self {
        self.density = Some(density);
        self
    }

    /// Draws the arrows of `field` at each frame's time behind the particles.
    pub fn field(mut self, field: &'a dyn VectorField) -> Self {
        self.field = Some(field);
        self
    }

    /// Colours particle i by `labels[i]` (the default palette).
    pub fn colors(mut self, labels: &'a [usize]) -> Self {
        self.labels = Some(labels);
        self
    }

    /// How long each frame shows, in milliseconds (20–2000; the last frame holds for a second more).
    pub fn frame_duration(mut self, ms: u32) -> Self {
        self.frame_ms = ms;
        self
    }

    /// Renders every frame and encodes the GIF.
    pub fn build(&self) -> Result<Gif> {
        let k = self.states.len();
        if k != self.times.len() {
            return Err(Error::shape(
                "Animation::new(states, times)",
                format!("one time per state ({k} states)"),
                format!("{} times", self.times.len()),
            ));
        }
        if k == 0 {
            return Err(Error::Plot { reason: "the animation has no states; pass at least one".into() });
        }
        if k > MAX_FRAMES {
            return Err(Error::SizeLimit {
                what: "frames in an animation".into(),
                size: k,
                limit: MAX_FRAMES,
                hint: "Solve on a coarser grid (60 frames play smoothly)".into(),
            });
        }
        if !(20..=2000).contains(&self.frame_ms) {
            return Err(Error::invalid("frame duration", format!("{} ms: use 20 to 2000 ms", self.frame_ms)));
        }
        if let Some(t) = self.times.iter().find(|t| !t.is_finite()) {
            return Err(Error::NonFinite { what: "the times of an animation".into(), detail: format!("t = {t}") });
        }
        let n = self.states[0].len();
        let mut all = Vec::new();
        for (i, s) in self.states.iter().enumerate() {
            if s.len() != n {
                return Err(Error::shape(
                    "the states of an animation (the same particles in every frame)",
                    format!("{n} points, as in state 0"),
                    format!("{} points in state {i}", s.len()),
                ));
            }
            all.extend(xy_rows(s, &format!("state {i} of the animation"))?);
        }
        if let Some(l) = self.labels {
            if l.len() != n {
                return Err(Error::shape(
                    "Animation::colors",
                    format!("one label per particle ({n})"),
                    format!("{}", l.len()),
                ));
            }
        }
        let (xr, yr) = cloud_ranges(&self.frame, &all)?;
        let (w, h) = self.frame.size_or((480, 480))?;
        let layout = Layout::new(w as usize, h as usize, xr, yr);
        let base = layout.base(&self.frame);
        let mut frames = Vec::with_capacity(k);
        for (state, &t) in self.states.iter().zip(self.times) {
            let mut c = base.clone();
            if let Some(d) = self.density {
                layout.draw_density(&mut c, d, t)?;
            }
            if let Some(f) = self.field {
                layout.draw_field(&mut c, f, t)?;
            }
            let radius = if n > 500 { 1 } else { 2 };
            // Orange over a (blue) density, blue otherwise, unless labels colour them.
            let plain = if self.density.is_some() { DATA + 1 } else { DATA };
            for (i, r) in state.rows().enumerate() {
                if let Some((px, py)) = layout.pixel(r[0], r[1]) {
                    let color = self.labels.map_or(plain, |l| DATA + (l[i] % 10) as u8);
                    c.disc(px, py, if radius == 1 { 0 } else { 1 }, color);
                    if radius == 1 {
                        c.set(px + 1, py, color);
                        c.set(px, py + 1, color);
                    }
                }
            }
            layout.title(&mut c, self.frame.title.as_deref(), t);
            frames.push(c);
        }
        let step = (self.frame_ms / 10).max(2) as u16;
        let mut delays = vec![step; k];
        delays[k - 1] = step + 100;
        Ok(Gif { bytes: encode_gif(&frames, &delays)?, width: w, height: h, frames: k })
    }
}

/// The particles `states[k]` at `times[k]` as a looping GIF, on ranges fitted to them.
/// See [`Animation`] for the density or field behind them.
pub fn animate(states: &[Points], times: &[f64]) -> Result<Gif> {
    Animation::new(states, times).build()
}

/// Where the plotting box sits in the frame, and the map from data to pixels.
struct Layout {
    width: usize,
    height: usize,
    left: i64,
    top: i64,
    right: i64,
    bottom: i64,
    xr: (f64, f64),
    yr: (f64, f64),
}

const TICK_PX: f32 = 12.0;
const TITLE_PX: f32 = 16.0;

impl Layout {
    fn new(width: usize, height: usize, xr: (f64, f64), yr: (f64, f64)) -> Self {
        Layout { width, height, left: 46, top: 30, right: width as i64 - 12, bottom: height as i64 - 26, xr, yr }
    }

    fn pixel(&self, x: f64, y: f64) -> Option<(i64, i64)> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let fx = (x - self.xr.0) / (self.xr.1 - self.xr.0);
        let fy = (y - self.yr.0) / (self.yr.1 - self.yr.0);
        if !(0.0..=1.0).contains(&fx) || !(0.0..=1.0).contains(&fy) {
            return None;
        }
        let px = self.left + (fx * (self.right - self.left) as f64).round() as i64;
        let py = self.bottom - (fy * (self.bottom - self.top) as f64).round() as i64;
        Some((px, py))
    }

    /// The frame without data: white, box, ticks and tick labels.
    fn base(&self, frame: &Frame) -> Canvas {
        let mut c = Canvas::new(self.width, self.height);
        for x in linear_ticks(self.xr.0, self.xr.1, 5) {
            if let Some((px, _)) = self.pixel(x, self.yr.0) {
                c.line(px, self.bottom, px, self.bottom + 4, AXIS);
                c.text(&fmt_tick(&x), px as f64, self.bottom as f64 + 13.0, TICK_PX, Anchor::Centre);
            }
        }
        for y in linear_ticks(self.yr.0, self.yr.1, 5) {
            if let Some((_, py)) = self.pixel(self.xr.0, y) {
                c.line(self.left - 4, py, self.left, py, AXIS);
                c.text(&fmt_tick(&y), self.left as f64 - 7.0, py as f64, TICK_PX, Anchor::Right);
            }
        }
        if let Some(l) = &frame.x_label {
            c.text(l, (self.left + self.right) as f64 / 2.0, self.height as f64 - 6.0, TICK_PX, Anchor::Centre);
        }
        self.frame_box(&mut c);
        c
    }

    fn frame_box(&self, c: &mut Canvas) {
        c.line(self.left, self.top, self.right, self.top, AXIS);
        c.line(self.left, self.bottom, self.right, self.bottom, AXIS);
        c.line(self.left, self.top, self.left, self.bottom, AXIS);
        c.line(self.right, self.top, self.right, self.bottom, AXIS);
    }

    /// p_t on a grid of cells of about 5 px, scaled to its own maximum.
    fn draw_density(&self, c: &mut Canvas, d: &dyn DensityPath, t: f64) -> Result<()> {
        const CELL: i64 = 5;
        let (nx, ny) = (((self.right - self.left - 1) / CELL) as usize, ((self.bottom - self.top - 1) / CELL) as usize);
        let centres = Points::from_fn(nx * ny, 2, |k, j| {
            let (ix, iy) = (k % nx, k / nx);
            if j == 0 {
                self.xr.0 + (ix as f64 + 0.5) / nx as f64 * (self.xr.1 - self.xr.0)
            } else {
                self.yr.1 - (iy as f64 + 0.5) / ny as f64 * (self.yr.1 - self.yr.0)
            }
        });
        let logp = d.log_density_at(&centres, t)?;
        let top = logp.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        if !top.is_finite() {
            return Ok(());
        }
        let (cw, ch) =
            ((self.right - self.left - 1) as f64 / nx as f64, (self.bottom - self.top - 1) as f64 / ny as f64);
        for (k, lp) in logp.iter().enumerate() {
            let s = if lp.is_finite() { (lp - top).exp() } else { 0.0 };
            let level = DENSITY + ((s * (DENSITY_LEVELS - 1) as f64).round() as usize).min(DENSITY_LEVELS - 1) as u8;
            let (ix, iy) = ((k % nx) as f64, (k / nx) as f64);
            let x0 = self.left + 1 + (ix * cw).round() as i64;
            let y0 = self.top + 1 + (iy * ch).round() as i64;
            c.fill_rect(
                x0,
                y0,
                self.left + 1 + ((ix + 1.0) * cw).round() as i64,
                self.top + 1 + ((iy + 1.0) * ch).round() as i64,
                level,
            );
        }
        self.frame_box(c);
        Ok(())
    }

    /// Arrows of the field at t on a 15 × 15 grid, the longest as long as a cell.
    fn draw_field(&self, c: &mut Canvas, f: &dyn VectorField, t: f64) -> Result<()> {
        const G: usize = 15;
        let at = |i: usize, r: (f64, f64)| r.0 + (i as f64 + 0.5) / G as f64 * (r.1 - r.0);
        let x = Points::from_fn(G * G, 2, |k, j| if j == 0 { at(k % G, self.xr) } else { at(k / G, self.yr) });
        let u = f.eval(&x, t)?;
        let longest =
            u.rows().map(|r| (r[0] * r[0] + r[1] * r[1]).sqrt()).filter(|v| v.is_finite()).fold(0.0, f64::max);
        if longest <= 0.0 {
            return Ok(());
        }
        let cell = (self.right - self.left) as f64 / G as f64;
        for (p, v) in x.rows().zip(u.rows()) {
            let Some((px, py)) = self.pixel(p[0], p[1]) else { continue };
            let (dx, dy) = (v[0] / longest * 0.9 * cell, -v[1] / longest * 0.9 * cell);
            if !(dx.is_finite() && dy.is_finite()) {
                continue;
            }
            let (qx, qy) = (px + dx.round() as i64, py + dy.round() as i64);
            c.line(px, py, qx, qy, ARROW);
            let len = (dx * dx + dy * dy).sqrt();
            if len > 3.0 {
                let (ux, uy) = (dx / len, dy / len);
                for s in [-1.0, 1.0] {
                    let hx = qx as f64 - 3.5 * ux + s * 2.5 * uy;
                    let hy = qy as f64 - 3.5 * uy - s * 2.5 * ux;
                    c.line(qx, qy, hx.round() as i64, hy.round() as i64, ARROW);
                }
            }
        }
        Ok(())
    }

    fn title(&self, c: &mut Canvas, title: Option<&str>, t: f64) {
        c.fill_rect(0, 0, self.width as i64, self.top - 1, WHITE);
        let text = match title {
            Some(s) if !s.is_empty() => format!("{s}   t = {t:.2}"),
            _ => format!("t = {t:.2}"),
        };
        c.text(&text, self.width as f64 / 2.0, self.top as f64 / 2.0, TITLE_PX, Anchor::Centre);
    }
}
