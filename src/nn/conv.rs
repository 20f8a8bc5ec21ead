//! A 2-D convolution as one op on dfdx's tape: im2col and a gemm forward, its own backward.
//!
//! ```text
//! y[b, o, p, q] = bias[o] + Σ_{c, i, j} W[o, c, i, j] · x[b, c, s·p + i − pad, s·q + j − pad]   (x = 0 outside the image)
//! im2col:   X_b[(p, q), (c, i, j)] = x[b, c, s·p + i − pad, s·q + j − pad]   (stored as X_bᵀ),   so   y_b = W X_bᵀ + bias
//! backward: ∂L/∂W = Σ_b G_b X_b,   ∂L/∂bias[o] = Σ_{b, p, q} G_b[o, (p, q)],   ∂L/∂X_b = G_bᵀ W,   ∂L/∂x = col2im(∂L/∂X_b)
//! ```
//!
//! with G_b = ∂L/∂y_b (C_out × P, P = H'·W' output pixels) and W flattened to C_out × (C_in k²).
//! The layout is PyTorch's: an image is C × H × W row-major (one row of a batch tensor per
//! image), a kernel C_out × C_in × k × k. dfdx 0.13's own `Conv2D` needs nightly Rust
//! (`generic_const_exprs`); this op runs on stable, with run-time shapes, on the CPU. The matrix
//! products call gemm 0.19 ([`super::fused::mm`]); the images of a batch are split into one block
//! per thread (fixed by the batch size and the thread count), and the blocks' weight gradients are
//! added in block order, so results do not depend on thread timing. Within a block the nb images'
//! X_bᵀ sit side by side, [X_1ᵀ … X_nbᵀ] (C_in k² × nb P), so each of the three products is one
//! gemm over the block (Y = W [X_bᵀ], ∂L/∂W = [G_b] [X_bᵀ]ᵀ, ∂L/∂[X_bᵀ] = Wᵀ [G_b]) rather than nb
//! small ones.

use super::fused::{mm, split_rows};
use super::pool;
use dfdx::prelude::*;
use std::ops::Range;

/// The geometry of one convolution: channels, input size, kernel size, stride and zero padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvShape {
    pub(crate) cin: usize,
    pub(crate) cout: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) k: usize,
    pub(crate) stride: usize,
    pub(crate) pad: usize,
}

impl ConvShape {
    /// Output height H' = (H + 2 pad − k)/s + 1.
    pub(crate) fn oh(&self) -> usize {
        (self.h + 2 * self.pad - self.k) / self.stride + 1
    }
    /// Output width W' = (W + 2 pad − k)/s + 1.
    pub(crate) fn ow(&self) -> usize {
        (self.w + 2 * self.pad - self.k) / self.stride + 1
    }
    /// Numbers per input image, C_in·H·W.
    pub(crate) fn in_len(&self) -> usize {
        self.cin * self.h * self.w
    }
    /// Numbers per output image, C_out·H'·W'.
    pub(crate) fn out_len(&self) -> usize {
        self.cout * self.oh() * self.ow()
    }
    /// Columns of the im2col matrix (and of the flattened kernel), C_in·k².
    pub(crate) fn patch(&self) -> usize {
        self.cin * self.k * self.k
    }
    /// Output pixels per channel, P = H'·W'.
    fn pixels(&self) -> usize {
        self.oh() * self.ow()
    }

    /// The output pixels (p, q) whose patch entry (i, j) falls inside the image, and the input
    /// row/column they read: `(p, y)` pairs for rows (same for columns with W and j).
    #[inline]
    fn inside(&self, i: usize, size: usize, out: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (s, pad) = (self.stride, self.pad);
        (0..out).filter_map(move |p| (p * s + i).checked_sub(pad).filter(|&y| y < size).map(|y| (p, y)))
    }

    /// With stride 1, the output columns q0..q1 whose kernel column j reads inside the image
    /// (input columns q + j − pad, one run); `None` for other strides.
    #[inline]
    fn run(&self, j: usize) -> Option<(usize, usize)> {
        (self.stride == 1).then(|| {
            let q0 = self.pad.saturating_sub(j);
            let q1 = self.ow().min((self.w + self.pad).saturating_sub(j));
            (q0, q1.max(q0))
        })
    }

    /// Xᵀ (C_in k² × P) of one image `x` (C_in·H·W numbers): row (c, i, j) holds the pixel each
    /// output pixel reads through kernel entry (c, i, j), zeros where that falls outside the image.
    /// Row r is written to `cols[r·ld..][..P]`, so the images of a batch can sit side by side
    /// (ld = n P, image b starting at column b P).
    pub(crate) fn im2col(&self, x: &[f32], cols: &mut [f32], ld: usize) {
        let (k, ow, pp) = (self.k, self.ow(), self.pixels());
        for c in 0..self.cin {
            let img = &x[c * self.h * self.w..][..self.h * self.w];
            for i in 0..k {
                for j in 0..k {
                    let row = &mut cols[((c * k + i) * k + j) * ld..][..pp];
                    row.fill(0.0);
                    for (p, y) in self.inside(i, self.h, self.oh()) {
                        let (src, dst) = (&img[y * self.w..][..self.w], &mut row[p * ow..][..ow]);
                        match self.run(j) {
                            Some((q0, q1)) => dst[q0..q1].copy_from_slice(&src[q0 + j - self.pad..q1 + j - self.pad]),
                            None => self.inside(j, self.w, ow).for_each(|(q, xx)| dst[q] = src[xx]),
                        }
                    }
                }
            }
        }
    }

    /// Adds the gradient of one image's Xᵀ (rows `ld` apart, as [`ConvShape::im2col`] writes
    /// them) back onto the pixels it was read from.
    fn col2im_add(&self, dcols: &[f32], dx: &mut [f32], ld: usize) {
        let (k, ow, pp) = (self.k, self.ow(), self.pixels());
        for c in 0..self.cin {
            let img = &mut dx[c * self.h * self.w..][..self.h * self.w];
            for i in 0..k {
                for j in 0..k {
                    let row = &dcols[((c * k + i) * k + j) * ld..][..pp];
                    for (p, y) in self.inside(i, self.h, self.oh()) {
                        let (src, dst) = (&row[p * ow..][..ow], &mut img[y * self.w..][..self.w]);
                        match self.run(j) {
                            Some((q0, q1)) => dst[q0 + j - self.pad..q1 + j - self.pad]
                                .iter_mut()
                                .zip(&src[q0..q1])
                                .for_each(|(d, s)| *d += s),
                            None => self.inside(j, self.w, ow).for_each(|(q, xx)| dst[xx] += src[q]),
                        }
                    }
                }
            }
        }
    }

    /// y_b = W X_bᵀ + bias for the nb images of `x` (one per `in_len` numbers) into `y`, as one
    /// product Y = W [X_1ᵀ … X_nbᵀ] (C_out × nb P); keeps [X_1ᵀ … X_nbᵀ] in `cols` (C_in k² × nb P).
    fn forward(&self, x: &[f32], w: &[f32], bias: &[f32], y: &mut [f32], cols: &mut [f32]) {
        let (pp, patch, nb) = (self.pixels(), self.patch(), x.len() / self.in_len());
        let ld = nb * pp;
        for (b, xb) in x.chunks_exact(self.in_len()).enumerate() {
            self.im2col(xb, &mut cols[b * pp..], ld);
        }
        let mut wide = vec![0.0f32; self.cout * ld];
        mm((self.cout, ld, patch), &mut wide, (ld, 1), false, w, (patch, 1), cols, (ld, 1));
        // Y (C_out × nb P) back to one C_out × P image after another, plus the bias.
        for (b, yb) in y.chunks_exact_mut(self.out_len()).enumerate() {
            for ((yo, src), &bo) in yb.chunks_exact_mut(pp).zip(wide.chunks_exact(ld)).zip(bias) {
                yo.iter_mut().zip(&src[b * pp..][..pp]).for_each(|(v, s)| *v = s + bo);
            }
        }
    }

    /// The backward pass for the nb images of one block: adds into `dx` (that block's images),
    /// `dw` and `db` from G (`dy`) and the kept [X_1ᵀ … X_nbᵀ] (`cols`), each product over the
    /// whole block at once.
    fn backward(&self, dy: &[f32], cols: &[f32], w: &[f32], dx: &mut [f32], dw: &mut [f32], db: &mut [f32]) {
        let (pp, patch, nb) = (self.pixels(), self.patch(), dy.len() / self.out_len());
        let ld = nb * pp;
        // G = [G_1 … G_nb] (C_out × nb P).
        let mut g = vec![0.0f32; self.cout * ld];
        for (b, gb) in dy.chunks_exact(self.out_len()).enumerate() {
            for (dst, src) in g.chunks_exact_mut(ld).zip(gb.chunks_exact(pp)) {
                dst[b * pp..][..pp].copy_from_slice(src);
            }
        }
        // ∂L/∂W += G [X_1 … X_nb]ᵀᵀ = Σ_b G_b X_b,   ∂L/∂bias[o] += Σ of row o of G.
        mm((self.cout, patch, ld), dw, (patch, 1), true, &g, (ld, 1), cols, (1, ld));
        for (d, go) in db.iter_mut().zip(g.chunks_exact(ld)) {
            *d += go.iter().sum::<f32>();
        }
        // ∂L/∂[X_1ᵀ … X_nbᵀ] = Wᵀ G, then back onto the pixels of each image.
        let mut dcols = vec![0.0f32; patch * ld];
        mm((patch, ld, self.cout), &mut dcols, (ld, 1), false, w, (1, patch), &g, (ld, 1));
        for (b, dxb) in dx.chunks_exact_mut(self.in_len()).enumerate() {
            self.col2im_add(&dcols[b * pp..], dxb, ld);
        }
    }
}

/// The blocks of images each thread takes.
fn blocks(n: usize) -> Vec<Range<usize>> {
    pool::ranges(n, pool::threads(), 1)
}

/// `y = conv(x; W, bias)` for a batch `x` of n images (n × C_in·H·W) as one dfdx op, with the
/// kernel `w` (C_out × C_in k²) and `bias` (1 × C_out) as parameters; returns n × C_out·H'·W'.
///
/// With an [`OwnedTape`] the backward pass adds ∂L/∂x, ∂L/∂W and ∂L/∂bias to the gradients;
/// with [`NoneTape`] it is a plain forward pass. The caller checks the shapes (asserted here).
pub(crate) fn conv2d<T: Tape<f32, Cpu>>(
    x: Tensor<(usize, usize), f32, Cpu, T>,
    w: &Tensor<(usize, usize), f32, Cpu>,
    bias: &Tensor<(usize, usize), f32, Cpu>,
    s: ConvShape,
) -> Tensor<(usize, usize), f32, Cpu, T> {
    let (n, len) = *x.shape();
    assert_eq!(len, s.in_len(), "conv2d: input rows of C_in·H·W numbers");
    assert_eq!(*w.shape(), (s.cout, s.patch()), "conv2d: kernel of C_out × C_in k²");
    assert_eq!(*bias.shape(), (1, s.cout), "conv2d: one bias per output channel (1 × C_out)");
    assert!(s.h + 2 * s.pad >= s.k && s.w + 2 * s.pad >= s.k && s.stride > 0, "conv2d: the kernel fits");
    let (x, mut tape) = x.split_tape();
    let (xv, wv, bv) = (x.as_vec(), w.as_vec(), bias.as_vec());
    let (pp, patch) = (s.pixels(), s.patch());
    let parts = blocks(n);
    let mut y = vec![0.0f32; n * s.out_len()];
    let mut cols = vec![0.0f32; n * pp * patch];
    {
        let mut items: Vec<_> = parts
            .iter()
            .cloned()
            .zip(split_rows(&mut y, s.out_len(), &parts))
            .zip(split_rows(&mut cols, pp * patch, &parts))
            .collect();
        pool::for_each_mut(&mut items, |_, ((r, yb), cb)| {
            s.forward(&xv[r.start * len..r.end * len], &wv, &bv, yb, cb);
        });
    }
    let out = x.device().tensor_from_vec(y, (n, s.out_len()));
    let (gx, gw, gb, og) = (x.ghost(), w.ghost(), bias.ghost(), out.ghost());
    tape.add_backward_op(move |grads| {
        let (dy, (dx, dw, db)) = grad_slices!(grads, &og; &gx, &gw, &gb);
        // Each block adds its weight gradient into a zeroed buffer; the blocks are summed in order.
        let mut own: Vec<(Vec<f32>, Vec<f32>)> = vec![(vec![0.0; dw.len()], vec![0.0; db.len()]); parts.len()];
        {
            let mut items: Vec<_> =
                parts.iter().cloned().zip(split_rows(dx, len, &parts)).zip(own.iter_mut()).collect();
            pool::for_each_mut(&mut items, |_, ((r, dxb), (gw, gb))| {
                let dyb = &dy[r.start * s.out_len()..r.end * s.out_len()];
                let cb = &cols[r.start * pp * patch..r.end * pp * patch];
                s.backward(dyb, cb, &wv, dxb, gw, gb);
            });
        }
        for (gw, gb) in &own {
            dw.iter_mut().zip(gw).for_each(|(a, b)| *a += b);
            db.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
        }
        Ok(())
    });
    out.put_tape(tape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
    }

    /// The convolution by its definition, in f64, one output at a time.
    fn direct(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], n: usize) -> Vec<f64> {
        let mut y = Vec::new();
        for bi in 0..n {
            for o in 0..s.cout {
                for p in 0..s.oh() {
                    for q in 0..s.ow() {
                        let mut acc = b[o] as f64;
                        for c in 0..s.cin {
                            for i in 0..s.k {
                                for j in 0..s.k {
                                    let (yy, xx) = (
                                        (p * s.stride + i) as i64 - s.pad as i64,
                                        (q * s.stride + j) as i64 - s.pad as i64,
                                    );
                                    if yy >= 0 && xx >= 0 && (yy as usize) < s.h && (xx as usize) < s.w {
                                        let xi = bi * s.in_len() + (c * s.h + yy as usize) * s.w + xx as usize;
                                        acc += w[((o * s.cin + c) * s.k + i) * s.k + j] as f64 * x[xi] as f64;
                                    }
                                }
                            }
                        }
                        y.push(acc);
                    }
                }
            }
        }
        y
    }

    const SHAPES: [ConvShape; 4] = [
        ConvShape { cin: 2, cout: 3, h: 5, w: 4, k: 3, stride: 1, pad: 1 },
        ConvShape { cin: 3, cout: 2, h: 8, w: 8, k: 3, stride: 2, pad: 1 },
        ConvShape { cin: 2, cout: 4, h: 3, w: 3, k: 1, stride: 1, pad: 0 },
        ConvShape { cin: 1, cout: 2, h: 4, w: 5, k: 3, stride: 1, pad: 0 },
    ];

    #[test]
    fn forward_is_the_direct_convolution() {
        let dev = Cpu::default();
        for (k, s) in SHAPES.iter().enumerate() {
            let n = 3;
            let (x, w, b) =
                (random(n * s.in_len(), k as u64), random(s.cout * s.patch(), 10 + k as u64), random(s.cout, 20));
            let y = conv2d(
                dev.tensor_from_vec(x.clone(), (n, s.in_len())),
                &dev.tensor_from_vec(w.clone(), (s.cout, s.patch())),
                &dev.tensor_from_vec(b.clone(), (1, s.cout)),
                *s,
            );
            assert_eq!(*y.shape(), (n, s.out_len()));
            let want = direct(s, &x, &w, &b, n);
            for (a, e) in y.as_vec().iter().zip(&want) {
                assert!((*a as f64 - e).abs() < 1e-5, "{s:?}: {a} vs {e}");
            }
        }
        // The strided case halves the image: 8 × 8 → 4 × 4.
        assert_eq!((SHAPES[1].oh(), SHAPES[1].ow()), (4, 4));
    }

    /// L = Σ R ⊙ conv(x; W, b) and its gradients from the tape.
    fn loss_and_grads(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], r: &[f32], n: usize) -> (f64, [Vec<f32>; 3]) {
        let dev = Cpu::default();
        let xt = dev.tensor_from_vec(x.to_vec(), (n, s.in_len()));
        let wt = dev.tensor_from_vec(w.to_vec(), (s.cout, s.patch()));
        let bt = dev.tensor_from_vec(b.to_vec(), (1, s.cout));
        let rt = dev.tensor_from_vec(r.to_vec(), (n, s.out_len()));
        let y = conv2d(xt.leaky_trace(), &wt, &bt, *s);
        let loss = (y * rt).sum();
        let value = loss.array() as f64;
        let g = loss.backward();
        (value, [g.get(&xt).as_vec(), g.get(&wt).as_vec(), g.get(&bt).as_vec()])
    }

    #[test]
    fn gradients_match_finite_differences() {
        // L is linear in each of x, W and b, so a central difference is exact up to rounding.
        let h = 0.05f32;
        for (k, s) in SHAPES.iter().enumerate() {
            let n = 2;
            let x = random(n * s.in_len(), 30 + k as u64);
            let w = random(s.cout * s.patch(), 40 + k as u64);
            let b = random(s.cout, 50 + k as u64);
            let r = random(n * s.out_len(), 60 + k as u64);
            let (_, grads) = loss_and_grads(s, &x, &w, &b, &r, n);
            let mut args = [x, w, b];
            for which in 0..3 {
                for i in 0..args[which].len() {
                    let keep = args[which][i];
                    args[which][i] = keep + h;
                    let up = loss_and_grads(s, &args[0], &args[1], &args[2], &r, n).0;
                    args[which][i] = keep - h;
                    let down = loss_and_grads(s, &args[0], &args[1], &args[2], &r, n).0;
                    args[which][i] = keep;
                    let fd = (up - down) / (2.0 * h as f64);
                    let g = grads[which][i] as f64;
                    assert!(
                        (fd - g).abs() < 2e-3 * (1.0 + g.abs()),
                        "{s:?}, argument {which}, entry {i}: tape {g}, difference {fd}"
                    );
                }
            }
        }
    }

    #[test]
    fn im2col_reads_zeros_outside_the_image() {
        let s = SHAPES[0];
        let x: Vec<f32> = (1..=s.in_len()).map(|v| v as f32).collect();
        let pp = s.oh() * s.ow();
        let mut cols = vec![f32::NAN; pp * s.patch()];
        s.im2col(&x, &mut cols, pp);
        // Output pixel (0, 0), channel 0: the top row and left column of its 3 × 3 patch are padding.
        let patch: Vec<f32> = (0..9).map(|r| cols[r * pp]).collect();
        assert_eq!(patch, [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 5.0, 6.0]);
        assert!(cols.iter().all(|v| v.is_finite()));
    }
}
