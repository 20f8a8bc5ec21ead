//! Exercise images.1: im2col, the matrix that turns a convolution into one matrix product.
//!
//! A 2-D convolution with a C_out × C × k × k kernel W, stride s and zero padding `pad`:
//!
//! ```text
//! y[o, p, q] = Σ_{c, i, j} W[o, c, i, j] · x[c, s·p + i − pad, s·q + j − pad]      (x = 0 outside the image)
//! X[p·W' + q, (c·k + i)·k + j] = x[c, s·p + i − pad, s·q + j − pad]                (H'·W' rows, C·k² columns)
//! y = W Xᵀ   with W flattened to C_out × C·k²,   H' = (H + 2 pad − k)/s + 1, W' likewise
//! ```
//!
//! The student writes `fn im2col(x, channels, height, width, k, stride, pad) -> Vec<f64>`, the
//! matrix X row by row. The checker multiplies it by a random kernel with C·k² output channels
//! (so that only the right matrix can give the right product) and compares the result with a
//! direct convolution, on random images of several shapes, kernel sizes, strides and paddings.
//! The library's own im2col is in `nn::conv` (f32, behind the U-Net's convolution); it orders a
//! row's columns (i, j, c), channels last, so that each row is a few contiguous copies.

use super::text::{self, close};
use super::{Checker, Exercise, Hints};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], usize, usize, usize, usize, usize, usize) -> Vec<f64> + Sync;

/// Exercise images.1: `im2col`, 20 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "im2col: the patch matrix that turns a convolution into a matrix product",
        points: 20,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "one row per output pixel, one column per kernel entry: a row holds exactly the input numbers \
                the kernel multiplies to make that output pixel, in the order the kernel is flattened (channel, then \
                kernel row, then kernel column). Neighbouring windows start `stride` pixels apart, the first one \
                `pad` pixels above and to the left of the image, and wherever a window hangs over the edge it reads \
                zeros.",
            formula: "X[p·W' + q, (c·k + i)·k + j] = x[c, s·p + i − pad, s·q + j − pad], zero outside the image; \
                H' = (H + 2·pad − k)/s + 1, W' likewise; x[c, y, z] is x[(c·H + y)·W + z]",
        },
        ..super::registered::im2col
    },
    compare,
);

/// The geometry of one convolution in the tests.
#[derive(Clone, Copy, Debug)]
struct Geom {
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    pad: usize,
}

impl Geom {
    /// Output size along a side of `n` pixels, or `None` if the kernel does not fit.
    fn out(n: usize, k: usize, s: usize, pad: usize) -> Option<usize> {
        (n + 2 * pad).checked_sub(k).map(|r| r / s + 1)
    }
    fn oh(&self) -> usize {
        Geom::out(self.h, self.k, self.s, self.pad).unwrap_or(0)
    }
    fn ow(&self) -> usize {
        Geom::out(self.w, self.k, self.s, self.pad).unwrap_or(0)
    }
    fn patch(&self) -> usize {
        self.c * self.k * self.k
    }
    fn describe(&self) -> String {
        format!(
            "For a {} × {} × {} image (channels × height × width), a {} × {} kernel, stride {} and padding {},",
            self.c, self.h, self.w, self.k, self.k, self.s, self.pad
        )
    }
}

/// How a (right or wrong) patch matrix is built: the reference has every flag off.
#[derive(Clone, Copy, Default)]
struct Variant {
    swap_kernel_axes: bool,
    read_offset: isize,
    ignore_stride: bool,
    channel_last: bool,
    transposed: bool,
    pixels_by_column: bool,
    replicate_edges: bool,
}

/// The patch matrix of `x` for geometry `g`, built the way `v` says (the reference for the default).
fn patches(x: &[f64], g: Geom, v: Variant) -> Vec<f64> {
    let (oh, ow, k, patch) = (g.oh(), g.ow(), g.k, g.patch());
    let s = if v.ignore_stride { 1 } else { g.s };
    let mut out = vec![0.0; oh * ow * patch];
    for p in 0..oh {
        for q in 0..ow {
            let row = if v.pixels_by_column { q * oh + p } else { p * ow + q };
            for c in 0..g.c {
                for i in 0..k {
                    for j in 0..k {
                        let (a, b) = if v.swap_kernel_axes { (j, i) } else { (i, j) };
                        let y = (s * p + a) as isize - g.pad as isize + v.read_offset;
                        let z = (s * q + b) as isize - g.pad as isize + v.read_offset;
                        let inside = |u: isize, n: usize| (0..n as isize).contains(&u);
                        let value = if inside(y, g.h) && inside(z, g.w) {
                            x[(c * g.h + y as usize) * g.w + z as usize]
                        } else if v.replicate_edges {
                            let (y, z) = (y.clamp(0, g.h as isize - 1) as usize, z.clamp(0, g.w as isize - 1) as usize);
                            x[(c * g.h + y) * g.w + z]
                        } else {
                            0.0
                        };
                        let col = if v.channel_last { (i * k + j) * g.c + c } else { (c * k + i) * k + j };
                        let at = if v.transposed { col * oh * ow + row } else { row * patch + col };
                        out[at] = value;
                    }
                }
            }
        }
    }
    out
}

/// y[o, pixel] = Σ_{c, i, j} W[o, c, i, j] · x[c, s·p + i − pad, s·q + j − pad], by four nested sums.
fn direct(x: &[f64], kernel: &[f64], cout: usize, g: Geom) -> Vec<f64> {
    let (oh, ow, k) = (g.oh(), g.ow(), g.k);
    let mut y = vec![0.0; cout * oh * ow];
    for o in 0..cout {
        for p in 0..oh {
            for q in 0..ow {
                let mut sum = 0.0;
                for c in 0..g.c {
                    for i in 0..k {
                        for j in 0..k {
                            let (yy, zz) = ((g.s * p + i) as isize - g.pad as isize, (g.s * q + j) as isize - g.pad as isize);
                            if (0..g.h as isize).contains(&yy) && (0..g.w as isize).contains(&zz) {
                                sum += kernel[((o * g.c + c) * k + i) * k + j] * x[(c * g.h + yy as usize) * g.w + zz as usize];
                            }
                        }
                    }
                }
                y[(o * oh + p) * ow + q] = sum;
            }
        }
    }
    y
}

/// W Xᵀ for a patch matrix X (pixels × patch, row by row): C_out × pixels.
fn product(kernel: &[f64], cout: usize, cols: &[f64], pixels: usize, patch: usize) -> Vec<f64> {
    let mut y = vec![0.0; cout * pixels];
    for o in 0..cout {
        for r in 0..pixels {
            y[o * pixels + r] = (0..patch).map(|m| kernel[o * patch + m] * cols[r * patch + m]).sum();
        }
    }
    y
}

/// The geometries graded, in order: the first has every feature (channels, a non-square image,
/// padding), so most mistakes show at once; stride 2 comes next, then edge cases.
const GEOMS: [Geom; 7] = [
    Geom { c: 2, h: 4, w: 5, k: 3, s: 1, pad: 1 },
    Geom { c: 3, h: 7, w: 6, k: 3, s: 2, pad: 1 },
    Geom { c: 1, h: 3, w: 3, k: 2, s: 1, pad: 0 },
    Geom { c: 2, h: 6, w: 5, k: 2, s: 2, pad: 0 },
    Geom { c: 1, h: 5, w: 8, k: 3, s: 3, pad: 2 },
    Geom { c: 4, h: 4, w: 4, k: 1, s: 1, pad: 0 },
    Geom { c: 1, h: 8, w: 8, k: 3, s: 2, pad: 1 },
];

/// Compares `f` with the direct convolution on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x12C0_0001);
    for g in GEOMS {
        let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let x = draw(g.c * g.h * g.w);
        let (pixels, patch) = (g.oh() * g.ow(), g.patch());
        // As many output channels as kernel entries: a random kernel of that size is invertible,
        // so only the right matrix reproduces the convolution.
        let cout = patch;
        let kernel = draw(cout * patch);
        let context = g.describe();
        let got = f(&x, g.c, g.h, g.w, g.k, g.s, g.pad);
        if got.len() != pixels * patch {
            let size = |g: Geom| Geom::out(g.h, g.k, g.s, g.pad).unwrap_or(0) * Geom::out(g.w, g.k, g.s, g.pad).unwrap_or(0);
            let why = if got.len() == size(Geom { s: 1, ..g }) * patch && g.s > 1 {
                Some("that is the number of rows of stride 1: the stride sets how far apart the windows start, so it also sets how many output pixels there are")
            } else if got.len() == size(Geom { pad: 0, ..g }) * patch && g.pad > 0 {
                Some("that is the size without padding: the zeros around the image add output pixels too")
            } else if got.len() == size(Geom { pad: g.pad + 1, ..g }) * patch
                || (g.pad > 0 && got.len() == size(Geom { pad: g.pad - 1, ..g }) * patch)
            {
                Some("that is the size for a padding one off: the padding is added on both sides, once per side")
            } else if got.len() == pixels * g.k * g.k && g.c > 1 {
                Some("that is one channel's worth of columns: every channel contributes its k × k window to each row")
            } else {
                None
            };
            return Err(format!(
                "{context} your matrix had {} numbers; expected {pixels} rows (output pixels) × {patch} columns \
                 (kernel entries) = {}{}.",
                got.len(),
                pixels * patch,
                text::remark(why)
            ));
        }
        let want = direct(&x, &kernel, cout, g);
        let mine = product(&kernel, cout, &got, pixels, patch);
        if let Some(at) = (0..want.len()).find(|&m| !close(mine[m], want[m], 1e-9)) {
            let (o, pix) = (at / pixels, at % pixels);
            let (p, q) = (pix / g.ow(), pix % g.ow());
            let reference = patches(&x, g, Variant::default());
            let suspect = |v: Variant| patches(&x, g, v);
            let suspects = [
                (
                    "your matrix reads the window transposed: the kernel's row index i must move down the image \
                     (with p) and its column index j across (with q); you swapped the two kernel axes",
                    suspect(Variant { swap_kernel_axes: true, ..Variant::default() }),
                ),
                (
                    "your windows are shifted by one pixel: the padding is off by one (the window of output pixel \
                     (0, 0) starts `pad` pixels above and to the left of the image)",
                    suspect(Variant { read_offset: 1, ..Variant::default() }),
                ),
                (
                    "your windows are shifted by one pixel: the padding is off by one (the window of output pixel \
                     (0, 0) starts `pad` pixels above and to the left of the image)",
                    suspect(Variant { read_offset: -1, ..Variant::default() }),
                ),
                (
                    "your matrix is transposed: it must have one row per output pixel and one column per kernel \
                     entry, and you wrote one row per kernel entry",
                    suspect(Variant { transposed: true, ..Variant::default() }),
                ),
                (
                    "the channel order within a row is wrong: the kernel is flattened channel first (all of \
                     channel 0's window, then channel 1's), and you put the channel last",
                    suspect(Variant { channel_last: true, ..Variant::default() }),
                ),
                (
                    "your windows start one pixel apart: the stride is ignored when reading the image",
                    suspect(Variant { ignore_stride: true, ..Variant::default() }),
                ),
                (
                    "your output pixels are listed column by column: row p·W' + q of the matrix belongs to output \
                     row p and output column q",
                    suspect(Variant { pixels_by_column: true, ..Variant::default() }),
                ),
                (
                    "outside the image the window must read zeros; you repeated the nearest edge pixel \
                     (replicate padding instead of zero padding)",
                    suspect(Variant { replicate_edges: true, ..Variant::default() }),
                ),
            ];
            let diagnosis = text::diagnose(&got, &suspects, 1e-9);
            // The first row of the matrix that differs, for a concrete look.
            let bad_row = (0..pixels).find(|&r| {
                !(0..patch).all(|m| close(got[r * patch + m], reference[r * patch + m], 1e-9))
            });
            let row_note = bad_row
                .map(|r| {
                    let (g_row, e_row) =
                        text::vector_pair(&got[r * patch..(r + 1) * patch], &reference[r * patch..(r + 1) * patch]);
                    format!(" Row {r} of your matrix (output pixel ({}, {})) was {g_row}; expected {e_row}.", r / g.ow(), r % g.ow())
                })
                .unwrap_or_default();
            return Err(format!(
                "{context} convolving with your matrix gives y[{o}, {p}, {q}] = {}; the direct convolution expected {}{}.{row_note}",
                text::num(mine[at]),
                text::num(want[at]),
                text::remark(diagnosis)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference patch matrix times the kernel is the direct convolution (so the checker's two
    /// references agree), and the worked example of the exercise file comes out.
    #[test]
    fn reference_patches_reproduce_the_direct_convolution() {
        let mut rng = StdRng::seed_from_u64(3);
        for g in GEOMS {
            let x: Vec<f64> = (0..g.c * g.h * g.w).map(|_| StandardNormal.sample(&mut rng)).collect();
            let kernel: Vec<f64> = (0..2 * g.patch()).map(|_| StandardNormal.sample(&mut rng)).collect();
            let y = product(&kernel, 2, &patches(&x, g, Variant::default()), g.oh() * g.ow(), g.patch());
            let d = direct(&x, &kernel, 2, g);
            assert!(y.iter().zip(&d).all(|(a, b)| (a - b).abs() < 1e-12), "{g:?}");
        }
        let x: Vec<f64> = (1..=9).map(f64::from).collect();
        let g = Geom { c: 1, h: 3, w: 3, k: 2, s: 1, pad: 0 };
        assert_eq!(
            patches(&x, g, Variant::default()),
            [1.0, 2.0, 4.0, 5.0, 2.0, 3.0, 5.0, 6.0, 4.0, 5.0, 7.0, 8.0, 5.0, 6.0, 8.0, 9.0]
        );
    }
}
