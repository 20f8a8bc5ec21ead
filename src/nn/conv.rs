//! A 2-D convolution as one op on dfdx's tape: im2col and a gemm forward, its own backward.
//!
//! ```text
//! y[b, o, p, q] = bias[o] + Σ_{c, i, j} W[o, c, i, j] · x[b, c, s·p + i − pad, s·q + j − pad]   (x = 0 outside the image)
//! im2col:   X_b[(p, q), (i, j, c)] = x[b, c, s·p + i − pad, s·q + j − pad],   so   y_bᵀ = X_b W'ᵀ + bias   (W' = W in (i, j, c) order)
//! backward: ∂L/∂W' = Σ_b G_b X_b,   ∂L/∂bias[o] = Σ_{b, p, q} G_b[o, (p, q)],   ∂L/∂X_b = G_bᵀ W',   ∂L/∂x = col2im(∂L/∂X_b)
//! ```
//!
//! with G_b = ∂L/∂y_b (C_out × P, P = H'·W' output pixels). The layout is PyTorch's: an image is
//! C × H × W row-major (one row of a batch tensor per image), a kernel C_out × C_in × k × k.
//! dfdx 0.13's own `Conv2D` needs nightly Rust (`generic_const_exprs`); this op runs on stable,
//! with run-time shapes, on the CPU.
//!
//! Inside the op an image is turned channels-last (H·W × C), so that a row of the patch matrix
//! X_b is a few contiguous runs of k·C_in numbers, and the kernel is reordered to (i, j, c) to
//! match. That layout is also what makes the weight gradient fast: Σ_b G_b X_b contracts over
//! pixels, and gemm 0.19 runs that product about ten times faster when X_b is pixel-major than
//! when it is stored as X_bᵀ. The products call gemm 0.19 ([`super::fused::mm`]). The images of a
//! batch are split into one block per thread (fixed by the batch size and the thread count), and
//! each block into sub-blocks whose patch matrix stays in the L2 cache; the patch matrix is
//! rebuilt in the backward pass rather than kept. Each block adds its weight gradient into its
//! own buffer and the blocks are summed in block order, so results do not depend on thread timing.

use super::fused::{data, mm, split_rows};
use super::pool;
use dfdx::prelude::*;
use std::cell::RefCell;
use std::ops::Range;

/// About this many numbers in the patch matrix of one sub-block (so it stays in the L2 cache).
const SUB_BLOCK_NUMBERS: usize = 1 << 17;

/// Buffers a thread reuses from one convolution to the next.
#[derive(Default)]
struct Scratch {
    xt: Vec<f32>,
    cols: Vec<f32>,
    yt: Vec<f32>,
    dcols: Vec<f32>,
    dxt: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The first `n` numbers of `v`, grown when it is shorter (contents are the caller's to overwrite).
fn sized(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

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

    /// For output row (or column) `p` of an input `size` long: the kernel offsets i0..i1 that
    /// read inside the input, and the input index that offset i0 reads.
    #[inline]
    fn inside(&self, p: usize, size: usize) -> (usize, usize, usize) {
        let start = p * self.stride; // the input index of offset 0, plus pad
        let i0 = self.pad.saturating_sub(start).min(self.k);
        let i1 = self.k.min((size + self.pad).saturating_sub(start)).max(i0);
        (i0, i1, (start + i0).saturating_sub(self.pad))
    }

    /// The kernel in channels-last order: W'[o, (i, j, c)] = W[o, (c, i, j)].
    fn kernel_channels_last(&self, w: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; w.len()];
        self.each_kernel_entry(|cl, std| out[cl] = w[std]);
        out
    }

    /// Adds a gradient of W' (channels-last order) to one of W.
    fn add_kernel_grad(&self, gcl: &[f32], dw: &mut [f32]) {
        self.each_kernel_entry(|cl, std| dw[std] += gcl[cl]);
    }

    /// Calls `f(index in W', index in W)` for every kernel entry.
    fn each_kernel_entry(&self, mut f: impl FnMut(usize, usize)) {
        let (k, cin, patch) = (self.k, self.cin, self.patch());
        for o in 0..self.cout {
            for c in 0..cin {
                for i in 0..k {
                    for j in 0..k {
                        f(o * patch + (i * k + j) * cin + c, o * patch + (c * k + i) * k + j);
                    }
                }
            }
        }
    }

    /// X (P × k² C_in, row-major) of one image given channels last (`xt`, H·W × C_in): row
    /// (p, q) holds x[c, s·p + i − pad, s·q + j − pad] at column (i, j, c), zeros outside the image.
    pub(crate) fn im2col(&self, xt: &[f32], cols: &mut [f32]) {
        let (k, cin, patch, ow) = (self.k, self.cin, self.patch(), self.ow());
        for p in 0..self.oh() {
            let (i0, i1, y0) = self.inside(p, self.h);
            for q in 0..ow {
                let (j0, j1, x0) = self.inside(q, self.w);
                let row = &mut cols[(p * ow + q) * patch..][..patch];
                for (i, seg) in row.chunks_exact_mut(k * cin).enumerate() {
                    if i < i0 || i >= i1 || j1 == j0 {
                        seg.fill(0.0);
                        continue;
                    }
                    let from = ((y0 + i - i0) * self.w + x0) * cin;
                    seg[..j0 * cin].fill(0.0);
                    seg[j0 * cin..j1 * cin].copy_from_slice(&xt[from..][..(j1 - j0) * cin]);
                    seg[j1 * cin..].fill(0.0);
                }
            }
        }
    }

    /// Adds the gradient of one image's X (as [`ConvShape::im2col`] lays it out) back onto the
    /// pixels it was read from, channels last (`dxt`, H·W × C_in).
    fn col2im_add(&self, dcols: &[f32], dxt: &mut [f32]) {
        let (k, cin, patch, ow) = (self.k, self.cin, self.patch(), self.ow());
        for p in 0..self.oh() {
            let (i0, i1, y0) = self.inside(p, self.h);
            for q in 0..ow {
                let (j0, j1, x0) = self.inside(q, self.w);
                let row = &dcols[(p * ow + q) * patch..][..patch];
                for i in i0..i1 {
                    let from = ((y0 + i - i0) * self.w + x0) * cin;
                    let seg = &row[(i * k + j0) * cin..(i * k + j1) * cin];
                    dxt[from..][..seg.len()].iter_mut().zip(seg).for_each(|(d, g)| *d += g);
                }
            }
        }
    }

    /// The patch matrices of the m images of `x` (C_in × H·W each), stacked: m P × k² C_in.
    fn patches(&self, x: &[f32], xt: &mut [f32], cols: &mut [f32]) {
        let (hw, pp, patch) = (self.h * self.w, self.pixels(), self.patch());
        for (b, xb) in x.chunks_exact(self.in_len()).enumerate() {
            to_channels_last(xb, self.cin, hw, xt);
            self.im2col(xt, &mut cols[b * pp * patch..][..pp * patch]);
        }
    }

    /// Images per sub-block for a block of nb images.
    fn sub_block(&self, nb: usize) -> usize {
        (SUB_BLOCK_NUMBERS / (self.pixels() * self.patch())).clamp(1, nb.max(1))
    }

    /// y_b = conv(x_b) for the images of one block (`x`, `y`), a sub-block at a time: its patch
    /// matrix X (m P × k² C_in), then Yᵀ = X W'ᵀ (m P × C_out) as one product, then back to C_out × P
    /// per image with the bias.
    fn forward(&self, x: &[f32], wcl: &[f32], bias: &[f32], y: &mut [f32]) {
        let (pp, patch, cout) = (self.pixels(), self.patch(), self.cout);
        let sb = self.sub_block(x.len() / self.in_len());
        SCRATCH.with(|s| {
            let Scratch { xt, cols, yt, .. } = &mut *s.borrow_mut();
            let xt = sized(xt, self.in_len());
            for (xs, ys) in x.chunks(sb * self.in_len()).zip(y.chunks_mut(sb * self.out_len())) {
                let rows = xs.len() / self.in_len() * pp;
                let (cols, yt) = (sized(cols, rows * patch), sized(yt, rows * cout));
                self.patches(xs, xt, cols);
                mm((rows, cout, patch), yt, (cout, 1), false, cols, (patch, 1), wcl, (1, patch));
                for (yb, ytb) in ys.chunks_exact_mut(self.out_len()).zip(yt.chunks_exact(pp * cout)) {
                    for ((yo, &bo), o) in yb.chunks_exact_mut(pp).zip(bias).zip(0..) {
                        yo.iter_mut().zip(ytb.iter().skip(o).step_by(cout)).for_each(|(v, t)| *v = t + bo);
                    }
                }
            }
        })
    }

    /// The backward pass for the images of one block: rebuilds each sub-block's X, then adds
    /// into `dx` (that block's images), `dwcl` (the gradient of W', channels last) and `db`.
    fn backward(&self, x: &[f32], dy: &[f32], wcl: &[f32], dx: &mut [f32], dwcl: &mut [f32], db: &mut [f32]) {
        let (pp, patch, cout, hw) = (self.pixels(), self.patch(), self.cout, self.h * self.w);
        let sb = self.sub_block(x.len() / self.in_len());
        SCRATCH.with(|s| {
            let Scratch { xt, cols, yt, dcols, dxt } = &mut *s.borrow_mut();
            let (xt, dxt) = (sized(xt, self.in_len()), sized(dxt, self.in_len()));
            let parts = x.chunks(sb * self.in_len()).zip(dy.chunks(sb * self.out_len()));
            for ((xs, dys), dxs) in parts.zip(dx.chunks_mut(sb * self.in_len())) {
                let rows = xs.len() / self.in_len() * pp;
                let (cols, gt, dcols) = (sized(cols, rows * patch), sized(yt, rows * cout), sized(dcols, rows * patch));
                self.patches(xs, xt, cols);
                // Gᵀ (m P × C_out), pixel-major like X.
                for (dyb, gtb) in dys.chunks_exact(self.out_len()).zip(gt.chunks_exact_mut(pp * cout)) {
                    for (o, go) in dyb.chunks_exact(pp).enumerate() {
                        gtb.iter_mut().skip(o).step_by(cout).zip(go).for_each(|(t, g)| *t = *g);
                    }
                }
                // ∂L/∂W' += G X,   ∂L/∂bias += the column sums of Gᵀ,   ∂L/∂X = Gᵀ W'.
                mm((cout, patch, rows), dwcl, (patch, 1), true, gt, (1, cout), cols, (patch, 1));
                for r in gt.chunks_exact(cout) {
                    db.iter_mut().zip(r).for_each(|(d, g)| *d += g);
                }
                mm((rows, patch, cout), dcols, (patch, 1), false, gt, (cout, 1), wcl, (patch, 1));
                for (dcb, dxb) in dcols.chunks_exact(pp * patch).zip(dxs.chunks_exact_mut(self.in_len())) {
                    dxt.fill(0.0);
                    self.col2im_add(dcb, dxt);
                    for (c, dxc) in dxb.chunks_exact_mut(hw).enumerate() {
                        dxc.iter_mut().zip(dxt.iter().skip(c).step_by(self.cin)).for_each(|(d, g)| *d += g);
                    }
                }
            }
        })
    }
}

/// One image C × N (row-major) to N × C.
fn to_channels_last(x: &[f32], c: usize, n: usize, xt: &mut [f32]) {
    for (ch, row) in x.chunks_exact(n).enumerate().take(c) {
        xt.iter_mut().skip(ch).step_by(c).zip(row).for_each(|(t, v)| *t = *v);
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
    let (xv, bv) = (data(&x), data(bias));
    let wcl = s.kernel_channels_last(&data(w));
    let parts = blocks(n);
    let mut y = vec![0.0f32; n * s.out_len()];
    {
        let mut items: Vec<_> = parts.iter().cloned().zip(split_rows(&mut y, s.out_len(), &parts)).collect();
        pool::for_each_mut(&mut items, |_, (r, yb)| {
            s.forward(&xv[r.start * len..r.end * len], &wcl, &bv, yb);
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
                s.backward(&xv[r.start * len..r.end * len], dyb, &wcl, dxb, gw, gb);
            });
        }
        for (gw, gb) in &own {
            s.add_kernel_grad(gw, dw);
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

    /// A batch large enough to be cut into several sub-blocks (and blocks, with several threads)
    /// gives the direct convolution, and the gradients of its images one at a time.
    #[test]
    fn sub_blocks_change_nothing() {
        let s = ConvShape { cin: 16, cout: 8, h: 8, w: 8, k: 3, stride: 1, pad: 1 };
        let n = 40;
        assert!(s.sub_block(n) < n / 2, "the batch spans at least three sub-blocks");
        let (x, w, b, r) = (
            random(n * s.in_len(), 70),
            random(s.cout * s.patch(), 71),
            random(s.cout, 72),
            random(n * s.out_len(), 73),
        );
        let dev = Cpu::default();
        let y = conv2d(
            dev.tensor_from_vec(x.clone(), (n, s.in_len())),
            &dev.tensor_from_vec(w.clone(), (s.cout, s.patch())),
            &dev.tensor_from_vec(b.clone(), (1, s.cout)),
            s,
        );
        for (a, e) in y.as_vec().iter().zip(&direct(&s, &x, &w, &b, n)) {
            assert!((*a as f64 - e).abs() < 1e-4, "{a} vs {e}");
        }
        let (_, [gx, gw, gb]) = loss_and_grads(&s, &x, &w, &b, &r, n);
        let (mut gw1, mut gb1) = (vec![0.0f64; gw.len()], vec![0.0f64; gb.len()]);
        for i in 0..n {
            let (xi, ri) = (&x[i * s.in_len()..][..s.in_len()], &r[i * s.out_len()..][..s.out_len()]);
            let (_, [gxi, gwi, gbi]) = loss_and_grads(&s, xi, &w, &b, ri, 1);
            for (a, e) in gx[i * s.in_len()..][..s.in_len()].iter().zip(&gxi) {
                assert!((a - e).abs() < 1e-4, "image {i}: ∂L/∂x {a} vs {e}");
            }
            gw1.iter_mut().zip(&gwi).for_each(|(a, g)| *a += *g as f64);
            gb1.iter_mut().zip(&gbi).for_each(|(a, g)| *a += *g as f64);
        }
        for (a, e) in gw.iter().zip(&gw1).chain(gb.iter().zip(&gb1)) {
            assert!((*a as f64 - e).abs() < 1e-3 * (1.0 + e.abs()), "∂L/∂W or ∂L/∂bias: {a} vs {e}");
        }
    }

    #[test]
    fn im2col_reads_zeros_outside_the_image() {
        let s = SHAPES[0];
        let x: Vec<f32> = (1..=s.in_len()).map(|v| v as f32).collect();
        let (pp, hw) = (s.oh() * s.ow(), s.h * s.w);
        let mut xt = vec![f32::NAN; s.in_len()];
        to_channels_last(&x, s.cin, hw, &mut xt);
        let mut cols = vec![f32::NAN; pp * s.patch()];
        s.im2col(&xt, &mut cols);
        // Output pixel (0, 0): the top row and left column of its 3 × 3 patch are padding, in
        // both channels; columns are ordered (i, j, c), so channel 0 is every second entry.
        let channel = |c: usize| -> Vec<f32> { (0..9).map(|r| cols[r * s.cin + c]).collect() };
        assert_eq!(channel(0), [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 5.0, 6.0]);
        assert_eq!(channel(1), [0.0, 0.0, 0.0, 0.0, 21.0, 22.0, 0.0, 25.0, 26.0]);
        assert!(cols.iter().all(|v| v.is_finite()));
    }
}
