//! A small indexed-colour canvas for animation frames: filled rectangles, discs,
//! lines, text in the bundled font, GIF encoding and base64.
//!
//! ```text
//! pixel = palette index (u8);  text coverage c ∈ [0, 1] → one of 8 grey levels;  GIF = LZW(indices) per frame
//! ```
//!
//! Frames are drawn straight in palette indices ([`palette`]), so no colour
//! quantisation is needed and encoding is exact. Text uses DejaVu Sans
//! (Bitstream Vera licence, see `assets/fonts/LICENSE-DejaVu.txt`), subset to
//! Latin, Greek, sub/superscripts, arrows and maths symbols (52 kB), compiled
//! into the crate: nothing depends on the system's fonts.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

use crate::error::{Error, Result};

/// The bundled font: DejaVu Sans, subset (Bitstream Vera licence; DejaVu changes are public domain).
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Palette index of white.
pub(super) const WHITE: u8 = 0;
/// Palette index of the axis grey.
pub(super) const AXIS: u8 = 2;
/// Palette index of the arrows of a vector field.
pub(super) const ARROW: u8 = 3;
/// First of the eight text levels (coverage 1/8 … 8/8, white → black).
const TEXT: u8 = 4;
/// First of the ten data colours ([`super::Rgb::palette`]).
pub(super) const DATA: u8 = 12;
/// First of the density levels (white → dark blue); [`DENSITY_LEVELS`] of them.
pub(super) const DENSITY: u8 = 32;
/// Number of density levels.
pub(super) const DENSITY_LEVELS: usize = 224;

/// The 256-colour palette shared by every frame, as RGB triples.
pub(super) fn palette() -> Vec<u8> {
    let mut p = vec![0u8; 256 * 3];
    let mut set = |i: usize, c: (u8, u8, u8)| p[3 * i..3 * i + 3].copy_from_slice(&[c.0, c.1, c.2]);
    set(WHITE as usize, (255, 255, 255));
    set(1, (0, 0, 0));
    set(AXIS as usize, (110, 110, 110));
    set(ARROW as usize, (40, 40, 40));
    for k in 0..8 {
        let g = (255.0 * (1.0 - (k + 1) as f64 / 8.0)).round() as u8;
        set(TEXT as usize + k, (g, g, g));
    }
    for k in 0..10 {
        let c = super::Rgb::palette(k);
        set(DATA as usize + k, (c.0, c.1, c.2));
    }
    for k in 0..DENSITY_LEVELS {
        let s = k as f64 / (DENSITY_LEVELS - 1) as f64;
        // White → light blue → deep blue (a "Blues" ramp), so coloured particles stay visible.
        let mix = |a: f64, b: f64, c: f64| {
            if s < 0.5 {
                a + (b - a) * s / 0.5
            } else {
                b + (c - b) * (s - 0.5) / 0.5
            }
        };
        set(
            DENSITY as usize + k,
            (mix(255.0, 158.0, 8.0) as u8, mix(255.0, 202.0, 69.0) as u8, mix(255.0, 225.0, 148.0) as u8),
        );
    }
    p
}

/// An image of palette indices.
#[derive(Clone)]
pub(super) struct Canvas {
    pub(super) width: usize,
    pub(super) height: usize,
    pub(super) pixels: Vec<u8>,
}

/// Where a text's anchor point sits on the text.
#[derive(Clone, Copy)]
pub(super) enum Anchor {
    /// Centre.
    Centre,
    /// Right end.
    Right,
}

impl Canvas {
    pub(super) fn new(width: usize, height: usize) -> Self {
        Canvas { width, height, pixels: vec![WHITE; width * height] }
    }

    #[inline]
    pub(super) fn set(&mut self, x: i64, y: i64, c: u8) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = c;
        }
    }

    /// Fills [x0, x1) × [y0, y1), clipped to the canvas.
    pub(super) fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: u8) {
        let (x0, x1) = (x0.clamp(0, self.width as i64) as usize, x1.clamp(0, self.width as i64) as usize);
        let (y0, y1) = (y0.clamp(0, self.height as i64) as usize, y1.clamp(0, self.height as i64) as usize);
        for y in y0..y1 {
            self.pixels[y * self.width + x0..y * self.width + x1].fill(c);
        }
    }

    /// A filled disc of radius `r` pixels (r = 0: one pixel).
    pub(super) fn disc(&mut self, cx: i64, cy: i64, r: i64, c: u8) {
        for dy in -r..=r {
            for dx in -r..=r {
                if dx * dx + dy * dy <= r * r + r {
                    self.set(cx + dx, cy + dy, c);
                }
            }
        }
    }

    /// A one-pixel line from (x0, y0) to (x1, y1) (Bresenham).
    pub(super) fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: u8) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        for _ in 0..=(dx - dy) {
            self.set(x, y, c);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// Writes `text` at `size` px, vertically centred on `y`, anchored at `x`, on a white background.
    pub(super) fn text(&mut self, text: &str, x: f64, y: f64, size: f32, anchor: Anchor) {
        let font = FontRef::try_from_slice(FONT_BYTES).expect("the bundled font parses");
        let scaled = font.as_scaled(PxScale::from(size));
        let glyphs: Vec<_> = text.chars().map(|ch| scaled.scaled_glyph(ch)).collect();
        let width: f32 = glyphs.iter().map(|g| scaled.h_advance(g.id)).sum();
        let mut pen = match anchor {
            Anchor::Centre => x as f32 - width / 2.0,
            Anchor::Right => x as f32 - width,
        };
        let baseline = y as f32 + (scaled.ascent() + scaled.descent()) / 2.0;
        for mut g in glyphs {
            let advance = scaled.h_advance(g.id);
            g.position = point(pen, baseline);
            if let Some(outlined) = scaled.outline_glyph(g) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, cov| {
                    if cov > 0.06 {
                        let level = ((cov.min(1.0) * 8.0).ceil() as u8).clamp(1, 8) - 1;
                        self.set(b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64, TEXT + level);
                    }
                });
            }
            pen += advance;
        }
    }
}

/// Encodes frames of palette indices as a looping GIF: `delays` in hundredths of a second.
pub(super) fn encode_gif(frames: &[Canvas], delays: &[u16]) -> Result<Vec<u8>> {
    let first = frames.first().ok_or_else(|| Error::Plot { reason: "an animation needs at least one frame".into() })?;
    let (w, h) = (first.width as u16, first.height as u16);
    let mut out = Vec::new();
    {
        let err = |e: gif::EncodingError| Error::Plot { reason: format!("GIF encoding failed: {e}") };
        let mut enc = gif::Encoder::new(&mut out, w, h, &palette()).map_err(err)?;
        enc.set_repeat(gif::Repeat::Infinite).map_err(err)?;
        for (f, &delay) in frames.iter().zip(delays) {
            let mut frame = gif::Frame::from_indexed_pixels(w, h, f.pixels.clone(), None);
            frame.delay = delay;
            enc.write_frame(&frame).map_err(err)?;
        }
    }
    Ok(out)
}

/// Standard base64 (RFC 4648, with padding), as Jupyter expects binary images.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                s.push(ABC[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn text_draws_dark_pixels_inside_its_box() {
        let mut c = Canvas::new(120, 40);
        c.text("t = 0.5 σ", 60.0, 20.0, 16.0, Anchor::Centre);
        let dark: Vec<(usize, usize)> = (0..40 * 120)
            .filter(|&k| c.pixels[k] >= TEXT + 4 && c.pixels[k] < DATA)
            .map(|k| (k % 120, k / 120))
            .collect();
        assert!(dark.len() > 40, "{} dark pixels", dark.len());
        assert!(dark.iter().all(|&(x, y)| (5..115).contains(&x) && (8..34).contains(&y)));
    }
}
