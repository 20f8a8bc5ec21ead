//! SiLU as one op on dfdx's tape, optionally after a shift that is constant along segments.
//!
//! ```text
//! y[r, (k, j)] = SiLU(x[r, (k, j)] + a[r, k]),   SiLU(p) = p σ(p)
//! ∂L/∂x = ∂L/∂y · σ(p)(1 + p(1 − σ(p))),   ∂L/∂a[r, k] = Σ_j ∂L/∂x[r, (k, j)]
//! ```
//!
//! A row of `x` is split into as many segments as `a` has columns: for a batch of images
//! (C × H·W per row) and a per-image, per-channel shift `a` (n × C, the U-Net's time and label
//! embedding projected to C channels), each channel gets its own shift. dfdx would build this
//! from a broadcast, an add, a sigmoid and a product, each with its own pass over memory and
//! its own backward; here it is one pass forward and one backward, with the vectorised kernels
//! of `act.rs`, over the rows of the batch split between the threads of the pool (a fixed split,
//! so results do not depend on thread timing).

use super::act;
use super::fused::{data, split_rows};
use super::pool;
use dfdx::prelude::*;

type Rows<T> = Tensor<(usize, usize), f32, Cpu, T>;

/// y = SiLU(x), element by element, on the tape.
pub(crate) fn silu<T: Tape<f32, Cpu>>(x: Rows<T>) -> Rows<T> {
    let (x, tape) = x.split_tape();
    let n = x.shape().0;
    let (y, keep) = forward(&x, &vec![0.0; n], 1);
    let out = x.device().tensor_from_vec(y, *x.shape());
    let (gx, og) = (x.ghost(), out.ghost());
    let mut tape = tape;
    tape.add_backward_op(move |grads| {
        let (dy, (dx,)) = grad_slices!(grads, &og; &gx);
        backward(&keep, dy, dx, &mut vec![0.0; n]);
        Ok(())
    });
    out.put_tape(tape)
}

/// y[r, (k, j)] = SiLU(x[r, (k, j)] + a[r, k]) on the tape: `x` is n × (K·len), `a` n × K.
///
/// Panics unless the shapes fit (the caller builds them).
pub(crate) fn silu_shift<T: Tape<f32, Cpu> + Merge<T>>(x: Rows<T>, a: Rows<T>) -> Rows<T> {
    let ((n, width), (na, k)) = (*x.shape(), *a.shape());
    assert!(na == n && k > 0 && width % k == 0, "silu_shift: a shift per row and segment");
    let (x, tx) = x.split_tape();
    let (a, ta) = a.split_tape();
    let mut tape = tx.merge(ta);
    let (y, keep) = forward(&x, &data(&a), k);
    let out = x.device().tensor_from_vec(y, (n, width));
    let (gx, ga, og) = (x.ghost(), a.ghost(), out.ghost());
    tape.add_backward_op(move |grads| {
        let (dy, (dx, da)) = grad_slices!(grads, &og; &gx, &ga);
        backward(&keep, dy, dx, da);
        Ok(())
    });
    out.put_tape(tape)
}

/// What the backward pass needs: p = x + a and σ(p), with the row split and the segments per row.
struct Kept {
    p: Vec<f32>,
    s: Vec<f32>,
    width: usize,
    segments: usize,
    parts: Vec<std::ops::Range<usize>>,
}

fn forward(x: &Rows<NoneTape>, a: &[f32], segments: usize) -> (Vec<f32>, Kept) {
    let (n, width) = *x.shape();
    let mut p = data(x);
    let (mut y, mut s) = (vec![0.0; n * width], vec![0.0; n * width]);
    let parts = pool::ranges(n, pool::threads(), 1);
    {
        let blocks = split_rows(&mut p, width, &parts).into_iter().zip(split_rows(&mut y, width, &parts));
        let mut items: Vec<_> = blocks.zip(split_rows(&mut s, width, &parts)).zip(parts.iter().cloned()).collect();
        pool::for_each_mut(&mut items, |_, (((pb, yb), sb), r)| {
            act::silu_shift_fwd(pb, &a[r.start * segments..r.end * segments], yb, sb);
        });
    }
    (y, Kept { p, s, width, segments, parts })
}

/// dx += ∂L/∂y · SiLU'(p); da[r, k] += the segment sums (`da` may be a scratch buffer).
fn backward(kept: &Kept, dy: &[f32], dx: &mut [f32], da: &mut [f32]) {
    let (w, k) = (kept.width, kept.segments);
    let mut items: Vec<_> = split_rows(dx, w, &kept.parts)
        .into_iter()
        .zip(split_rows(da, k, &kept.parts))
        .zip(kept.parts.iter().cloned())
        .collect();
    pool::for_each_mut(&mut items, |_, ((dxb, dab), r)| {
        let rows = r.start * w..r.end * w;
        act::silu_shift_bwd(&kept.p[rows.clone()], &kept.s[rows.clone()], &dy[rows], dxb, dab);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..n).map(|_| rng.gen_range(-3.0f32..3.0)).collect()
    }

    /// L = Σ R ⊙ SiLU(x + a) and its gradients from the tape.
    fn loss_and_grads(x: &[f32], a: &[f32], r: &[f32], n: usize) -> (f64, Vec<f32>, Vec<f32>) {
        let dev = Cpu::default();
        let (w, k) = (x.len() / n, a.len() / n);
        let xt = dev.tensor_from_vec(x.to_vec(), (n, w));
        let at = dev.tensor_from_vec(a.to_vec(), (n, k));
        let rt = dev.tensor_from_vec(r.to_vec(), (n, w));
        let tape = xt.leaky_trace();
        let y = silu_shift(tape, at.clone().traced(Gradients::leaky()));
        let loss = (y * rt).sum();
        let value = loss.array() as f64;
        let g = loss.backward();
        (value, g.get(&xt).as_vec(), g.get(&at).as_vec())
    }

    #[test]
    fn forward_is_silu_of_the_shifted_input() {
        let (n, k, len) = (5, 3, 4);
        let (x, a) = (random(n * k * len, 1), random(n * k, 2));
        let dev = Cpu::default();
        let y = silu_shift(dev.tensor_from_vec(x.clone(), (n, k * len)), dev.tensor_from_vec(a.clone(), (n, k)));
        let plain = silu(dev.tensor_from_vec(x.clone(), (n, k * len))).as_vec();
        for (i, v) in y.as_vec().iter().enumerate() {
            let p = (x[i] + a[i / len]) as f64;
            assert!((*v as f64 - p / (1.0 + (-p).exp())).abs() < 1e-5, "entry {i}");
            let q = x[i] as f64;
            assert!((plain[i] as f64 - q / (1.0 + (-q).exp())).abs() < 1e-5, "entry {i} without shift");
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (n, k, len) = (4, 3, 5);
        let (x, a, r) = (random(n * k * len, 3), random(n * k, 4), random(n * k * len, 5));
        let (_, gx, ga) = loss_and_grads(&x, &a, &r, n);
        let h = 1e-2f32;
        let mut args = [x, a];
        for (which, grad) in [gx, ga].iter().enumerate() {
            for i in 0..args[which].len() {
                let keep = args[which][i];
                args[which][i] = keep + h;
                let up = loss_and_grads(&args[0], &args[1], &r, n).0;
                args[which][i] = keep - h;
                let down = loss_and_grads(&args[0], &args[1], &r, n).0;
                args[which][i] = keep;
                let fd = (up - down) / (2.0 * h as f64);
                assert!(
                    (fd - grad[i] as f64).abs() < 2e-3 * (1.0 + fd.abs()),
                    "argument {which}, entry {i}: tape {}, difference {fd}",
                    grad[i]
                );
            }
        }
    }
}
