//! The fast CPU path of the SiLU [`Mlp`](crate::nn::Mlp): one fused dfdx op for training
//! and a tape-free forward pass for sampling.
//!
//! * Parameters stay in the ordinary dfdx `Linear` / `UnbiasedLinear` modules, so dfdx's
//!   `Adam`, `ZeroGrads` and safetensors checkpoints keep working unchanged.
//! * Training runs the whole network as one dfdx op with its own backward ([`mlp`]), written
//!   with public dfdx 0.13 APIs only (`split_tape`, `Tape::add_backward_op`,
//!   `Gradients::get_or_alloc_mut`, `copy_into`, `tensor_from_vec`). Each layer is a matmul,
//!   the bias and the SiLU fused: the matmuls call gemm 0.19 (AVX-512 on stable, detected at
//!   run time; thin layers use small vectorised loops) and the SiLU uses the kernels of
//!   [`super::act`]. The first layer sums `W_x x` and `W_t τ` before its SiLU, so the
//!   checkpoint layout (`x_in`, `t_in`) is unchanged. A conditional model adds its label
//!   vector E[y] there too ([`Embed`]); the op hands back that row's gradient, ∂L/∂z₁.
//! * [`Frozen`] snapshots the weights once and evaluates the network on plain buffers, in
//!   chunks of [`CHUNK`] rows (so the activations stay in L2), spread over the worker threads.
//! * [`Frozen::eval_tangents`] (in `fused/jvp.rs`) pushes tangents through the same layers
//!   (forward-mode Jacobian-vector products): the divergence and the Hutchinson products J ε
//!   that exact likelihoods need.
//!
//! Work is split over a small fork-join pool (`pool.rs`) whose thread count is fixed per
//! process (`FLOWMATCH_THREADS`, else `RAYON_NUM_THREADS`, else the number of CPUs). A batch
//! is cut into one block of rows per thread; each block runs through every layer on its own
//! (forward and backward), so the threads meet only twice per step. Every split is a fixed
//! function of the problem size and that count, and the blocks' gradients are added in block
//! order, so results never depend on thread timing.

use super::act;
use super::config::TimeEmbedding;
use super::labels::{scatter_into, GradSink};
use super::layers::MlpNet;
use super::pool;
use crate::field::Time;
use dfdx::nn::modules::Linear;
use dfdx::prelude::*;
use gemm19 as gemm;
use std::ops::Range;

mod jvp;
pub(crate) use jvp::Tangents;

/// Rows per chunk of the tape-free forward pass (500 × 256 activations stay in L2).
pub(crate) const CHUNK: usize = 512;

/// Layers with at most this many inputs or outputs skip gemm (its packing costs more than the work).
const THIN: usize = 32;

/// Splits a row-major buffer of rows `width` long into the given row ranges.
pub(super) fn split_rows<'a>(mut buf: &'a mut [f32], width: usize, ranges: &[Range<usize>]) -> Vec<&'a mut [f32]> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (head, tail) = std::mem::take(&mut buf).split_at_mut(r.len() * width);
        out.push(head);
        buf = tail;
    }
    out
}

/// `dst (m × n) (+)= lhs (m × k) · rhs (k × n)`; every matrix given with (row stride, column stride).
#[allow(clippy::too_many_arguments)]
pub(super) fn mm(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    (drs, dcs): (usize, usize),
    acc: bool,
    lhs: &[f32],
    (lrs, lcs): (usize, usize),
    rhs: &[f32],
    (rrs, rcs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(k > 0, "every layer has at least one input");
    // The largest index touched must lie inside each slice.
    assert!((m - 1) * drs + (n - 1) * dcs < dst.len());
    assert!((m - 1) * lrs + (k - 1) * lcs < lhs.len());
    assert!((k - 1) * rrs + (n - 1) * rcs < rhs.len());
    // SAFETY: the asserts keep every access in bounds; `dst` is a `&mut` so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dcs as isize,
            drs as isize,
            acc,
            lhs.as_ptr(),
            lcs as isize,
            lrs as isize,
            rhs.as_ptr(),
            rcs as isize,
            rrs as isize,
            if acc { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// A buffer for the caller to overwrite. Zeroed memory from the allocator is cheap, and it is
/// first touched by the thread that will use it.
pub(super) fn buf(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

/// The numbers of a contiguous tensor, copied in one go (dfdx's `as_vec` walks them one index at a time).
pub(super) fn data<S: dfdx::shapes::Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Vec<f32> {
    let mut v = buf(t.shape().num_elements());
    t.copy_into(&mut v);
    v
}

/// `out (p × q) += aᵀ b` for `a (m × p)` and `b (m × q)`: a weight gradient summed over rows.
pub(super) fn at_b_acc(a: &[f32], b: &[f32], out: &mut [f32], p: usize, q: usize) {
    let m = a.len() / p;
    if p <= THIN {
        act::small_t_times_wide(a, b, out, p);
    } else {
        mm((p, q, m), out, (q, 1), true, a, (1, p), b, (q, 1));
    }
}

/// One affine layer's weight `W (o × k)`, its transpose when a thin kernel needs it, and its bias.
pub(super) struct Layer {
    pub(super) o: usize,
    pub(super) k: usize,
    pub(super) w: Vec<f32>,
    pub(super) wt: Vec<f32>,
    pub(super) b: Vec<f32>,
}

impl Layer {
    pub(super) fn new(w: Vec<f32>, b: Vec<f32>, o: usize, k: usize) -> Self {
        let wt = if k <= THIN || o <= THIN { act::transpose(&w, o, k) } else { Vec::new() };
        Layer { o, k, w, wt, b }
    }

    fn of<const I: usize, const O: usize>(l: &Linear<I, O, f32, Cpu>) -> Self {
        Layer::new(data(&l.weight), data(&l.bias), O, I)
    }

    /// `out (m × o) = inp (m × k) Wᵀ` (no bias). Each output row depends only on its input row.
    pub(super) fn fwd(&self, inp: &[f32], out: &mut [f32]) {
        let (o, k) = (self.o, self.k);
        if k <= THIN {
            act::rows_small_times_wide(inp, &self.wt, out, k, false);
        } else if o <= THIN {
            act::dots(inp, &self.w, out, o, false);
        } else {
            mm((out.len() / o, o, k), out, (o, 1), false, inp, (k, 1), &self.w, (1, k));
        }
    }

    /// `out (m × k) = g (m × o) W`: the gradient for the layer's input.
    pub(super) fn back_input(&self, g: &[f32], out: &mut [f32]) {
        let (o, k) = (self.o, self.k);
        if o <= THIN {
            act::rows_small_times_wide(g, &self.w, out, o, false);
        } else if k <= THIN {
            act::dots(g, &self.wt, out, k, false);
        } else {
            mm((out.len() / k, k, o), out, (k, 1), false, g, (o, 1), &self.w, (k, 1));
        }
    }
}

/// The weights of an `MlpNet` copied out of dfdx, in the layouts of the kernels.
struct Weights {
    d: usize,
    tf: usize,
    h: usize,
    /// W_x and b₁.
    x_in: Layer,
    /// W_t (no bias).
    t_in: Layer,
    hidden: [Layer; 2],
    out: Layer,
}

impl Weights {
    fn of<const D: usize, const H: usize, const TF: usize>(net: &MlpNet<D, H, TF, f32, Cpu>) -> Self {
        Weights {
            d: D,
            tf: TF,
            h: H,
            x_in: Layer::of(&net.x_in),
            t_in: Layer::new(data(&net.t_in.weight), Vec::new(), H, TF),
            hidden: [Layer::of(&net.hidden1), Layer::of(&net.hidden2)],
            out: Layer::of(&net.out),
        }
    }

    /// The first layer's pre-activation without its bias: `z = W_x x + (W_t τ)` where the
    /// time part `tp` was computed by [`Layer::fwd`] on `t_in` (per row, or one shared row).
    fn first_pre(&self, x: &[f32], tp: TimePart<'_>, z: &mut [f32]) {
        self.x_in.fwd(x, z);
        match tp {
            TimePart::PerRow(tp) => act::add_into(z, tp),
            TimePart::Shared(tp) => act::add_bias(z, tp),
        }
    }

    /// Inference on `m` rows: `v = net(x, t)`; `scratch` holds at least `2 m H` numbers.
    fn infer(&self, x: &[f32], tp: TimePart<'_>, v: &mut [f32], scratch: &mut [f32]) {
        let m = x.len() / self.d;
        let (h1, rest) = scratch.split_at_mut(m * self.h);
        let h2 = &mut rest[..m * self.h];
        self.first_pre(x, tp, h1);
        act::silu_fwd_infer(h1, &self.x_in.b);
        self.hidden[0].fwd(h1, h2);
        act::silu_fwd_infer(h2, &self.hidden[0].b);
        self.hidden[1].fwd(h2, h1);
        act::silu_fwd_infer(h1, &self.hidden[1].b);
        self.out.fwd(h1, v);
        act::add_bias(v, &self.out.b);
    }

    /// Training forward on `m` rows: `v = net(x, τ)` (plus the label vectors of `embed`),
    /// keeping what backward needs.
    fn train_fwd(&self, x: &[f32], tau: &[f32], embed: Option<Embed<'_>>, v: &mut [f32]) -> Acts {
        let m = x.len() / self.d;
        let mut acts = Acts::new(m * self.h);
        let mut tp = buf(m * self.h);
        self.t_in.fwd(tau, &mut tp);
        if let Some(e) = embed {
            add_rows(&mut tp, e.table, e.rows, self.h);
        }
        let Acts { p, s, a } = &mut acts;
        self.first_pre(x, TimePart::PerRow(&tp), &mut p[0]);
        act::silu_fwd_train(&mut p[0], &self.x_in.b, &mut a[0], &mut s[0]);
        for l in 0..2 {
            let (a_in, a_out) = a.split_at_mut(l + 1);
            self.hidden[l].fwd(&a_in[l], &mut p[l + 1]);
            act::silu_fwd_train(&mut p[l + 1], &self.hidden[l].b, &mut a_out[0], &mut s[l + 1]);
        }
        self.out.fwd(&a[2], v);
        act::add_bias(v, &self.out.b);
        acts
    }

    /// Training backward on the same rows: adds this part's parameter gradients into `g`
    /// for the output gradient `go (m × D)`. Overwrites the pre-activations in `acts`.
    fn train_bwd(&self, x: &[f32], tau: &[f32], acts: &mut Acts, go: &[f32], g: &mut GradParts<'_>) {
        let (d, tf, h) = (self.d, self.tf, self.h);
        let m = x.len() / d;
        let Acts { p, s, a } = acts;
        let mut da = buf(m * h);
        // Output layer (no activation).
        at_b_acc(go, &a[2], g.w_out, d, h);
        act::col_sums(go, g.b_out);
        self.out.back_input(go, &mut da);
        // The two hidden layers, top down: p becomes dL/d(pre-activation).
        for l in (0..2).rev() {
            act::silu_bwd(&mut p[l + 1], &s[l + 1], &da, g.b_hidden[l]);
            at_b_acc(&p[l + 1], &a[l], g.w_hidden[l], h, h);
            self.hidden[l].back_input(&p[l + 1], &mut da);
        }
        // First layer: W_x and W_t gradients are sums over rows of τ/x times dL/dz.
        act::silu_bwd(&mut p[0], &s[0], &da, g.b0);
        let mut t = vec![0.0f32; (d + tf) * h];
        let (gxt, gtt) = t.split_at_mut(d * h);
        at_b_acc(x, &p[0], gxt, d, h); // D × H
        at_b_acc(tau, &p[0], gtt, tf, h); // TF × H
        add_transposed(g.wx, gxt, h, d);
        add_transposed(g.wt, gtt, h, tf);
    }
}

/// `out (r × c) += tᵀ` for `t (c × r)`.
fn add_transposed(out: &mut [f32], t: &[f32], r: usize, c: usize) {
    for i in 0..r {
        for j in 0..c {
            out[i * c + j] += t[j * r + i];
        }
    }
}

/// `z[i] += table[rows[i]]` for every row i of `z` (rows `h` wide): a label vector per point.
fn add_rows(z: &mut [f32], table: &[f32], rows: &[usize], h: usize) {
    for (zi, &k) in z.chunks_exact_mut(h).zip(rows) {
        act::add_into(zi, &table[k * h..(k + 1) * h]);
    }
}

/// A label vector per point, added to the first layer's pre-activation: point i gets row
/// `rows[i]` of `table` ((K + 1) × H). See `labels.rs`.
#[derive(Clone, Copy)]
pub(crate) struct Embed<'a> {
    pub(crate) table: &'a [f32],
    pub(crate) rows: &'a [usize],
}

/// The time part of the first layer: one row per point, or one row shared by all points.
#[derive(Clone, Copy)]
enum TimePart<'a> {
    PerRow(&'a [f32]),
    Shared(&'a [f32]),
}

/// What the backward pass needs from the forward pass, for one block of rows:
/// pre-activations `p`, sigmoids `s` and activations `a` of the three SiLU layers.
struct Acts {
    p: [Vec<f32>; 3],
    s: [Vec<f32>; 3],
    a: [Vec<f32>; 3],
}

impl Acts {
    fn new(len: usize) -> Self {
        let b = || [buf(len), buf(len), buf(len)];
        Acts { p: b(), s: b(), a: b() }
    }
}

/// Where one part's parameter gradients go, in dfdx's layouts.
struct GradParts<'a> {
    wx: &'a mut [f32],
    b0: &'a mut [f32],
    wt: &'a mut [f32],
    w_hidden: [&'a mut [f32]; 2],
    b_hidden: [&'a mut [f32]; 2],
    w_out: &'a mut [f32],
    b_out: &'a mut [f32],
}

impl<'a> GradParts<'a> {
    /// The parameter sizes in the order of [`GradParts::from_flat`].
    fn sizes(d: usize, tf: usize, h: usize) -> [usize; 9] {
        [h * d, h, h * tf, h * h, h, h * h, h, d * h, d]
    }

    /// Splits one flat buffer (`sizes` summed) into the gradients of every parameter.
    fn from_flat(mut flat: &'a mut [f32], d: usize, tf: usize, h: usize) -> Self {
        let mut take = |n: usize| {
            let (a, b) = std::mem::take(&mut flat).split_at_mut(n);
            flat = b;
            a
        };
        let [wx, b0, wt, w1, b1, w2, b2, w_out, b_out] = Self::sizes(d, tf, h).map(&mut take);
        GradParts { wx, b0, wt, w_hidden: [w1, w2], b_hidden: [b1, b2], w_out, b_out }
    }

    /// The parameter gradients in the order of [`GradParts::sizes`].
    fn slices(&mut self) -> [&mut [f32]; 9] {
        let [w1, w2] = &mut self.w_hidden;
        let [b1, b2] = &mut self.b_hidden;
        [
            &mut *self.wx,
            &mut *self.b0,
            &mut *self.wt,
            &mut **w1,
            &mut **b1,
            &mut **w2,
            &mut **b2,
            &mut *self.w_out,
            &mut *self.b_out,
        ]
    }
}

impl GradParts<'_> {
    fn reborrow(&mut self) -> GradParts<'_> {
        let [w1, w2] = &mut self.w_hidden;
        let [b1, b2] = &mut self.b_hidden;
        GradParts {
            wx: &mut *self.wx,
            b0: &mut *self.b0,
            wt: &mut *self.wt,
            w_hidden: [&mut **w1, &mut **w2],
            b_hidden: [&mut **b1, &mut **b2],
            w_out: &mut *self.w_out,
            b_out: &mut *self.b_out,
        }
    }
}

/// Row ranges for splitting a batch of `n` rows over the pool (16-row aligned, for gemm's kernels).
pub(super) fn row_parts(n: usize) -> Vec<Range<usize>> {
    // Small batches are not worth a fork-join.
    let parts = if n < 32 { 1 } else { pool::threads() };
    pool::ranges(n, parts, 16)
}

/// The whole SiLU MLP as one dfdx op, `v = net(x, τ)`, with its own backward pass.
///
/// `tau` holds the `n × TF` time features (no gradient flows to `x` or `τ`). The rows are split
/// into one block per thread, and each block goes through all layers on its own, forward and
/// backward; the parameter gradients of the blocks are added in block order.
///
/// With `embed = Some((table, rows, sink))` point i also gets the label vector `table[rows[i]]`
/// in its first pre-activation, and the backward pass leaves the table's gradient
/// (Σ of ∂L/∂z₁ over the points of each row, blocks and rows in order) in `sink`.
pub(crate) fn mlp<const D: usize, const H: usize, const TF: usize>(
    x: Tensor<(usize, Const<D>), f32, Cpu, OwnedTape<f32, Cpu>>,
    tau: Vec<f32>,
    net: &MlpNet<D, H, TF, f32, Cpu>,
    embed: Option<(&[f32], Vec<usize>, GradSink)>,
) -> Tensor<(usize, Const<D>), f32, Cpu, OwnedTape<f32, Cpu>> {
    let n = x.shape().0;
    assert_eq!(tau.len(), n * TF, "one row of time features per point");
    let (x, mut tape) = x.split_tape();
    let xb = data(&x);
    let w = Weights::of(net);
    let parts = row_parts(n);
    let mut v = buf(n * D);
    let mut items: Vec<(Range<usize>, &mut [f32], Option<Acts>)> =
        parts.iter().cloned().zip(split_rows(&mut v, D, &parts)).map(|(r, v)| (r, v, None)).collect();
    let (table, table_rows) = match &embed {
        Some((table, rows, _)) => {
            assert_eq!(rows.len(), n, "one label row per point");
            (*table, rows.as_slice())
        }
        None => (&[][..], &[][..]),
    };
    pool::for_each_mut(&mut items, |_, (rows, v, acts)| {
        let e = embed.as_ref().map(|_| Embed { table, rows: &table_rows[rows.clone()] });
        *acts = Some(w.train_fwd(&xb[rows.start * D..rows.end * D], &tau[rows.start * TF..rows.end * TF], e, v));
    });
    let embed_back = embed.map(|(table, rows, sink)| (table.len(), rows, sink));
    let mut acts: Vec<Acts> = items.into_iter().map(|(_, _, a)| a.expect("every block ran")).collect();
    let out = x.device().tensor_from_vec(v, (n, Const::<D>));

    let (gwx, gb0, gwt) = (net.x_in.weight.ghost(), net.x_in.bias.ghost(), net.t_in.weight.ghost());
    let (gw1, gb1, gw2, gb2) =
        (net.hidden1.weight.ghost(), net.hidden1.bias.ghost(), net.hidden2.weight.ghost(), net.hidden2.bias.ghost());
    let (gwo, gbo, og) = (net.out.weight.ghost(), net.out.bias.ghost(), out.ghost());
    tape.add_backward_op(move |grads| {
        let (go, (wx, b0, wt, w1, b1, w2, b2, w_out, b_out)) =
            grad_slices!(grads, &og; &gwx, &gb0, &gwt, &gw1, &gb1, &gw2, &gb2, &gwo, &gbo);
        // Block 0 adds into dfdx's gradients directly, the others into zeroed buffers of their own.
        let mut own = GradParts { wx, b0, wt, w_hidden: [w1, w2], b_hidden: [b1, b2], w_out, b_out };
        let total: usize = GradParts::sizes(D, TF, H).iter().sum();
        let mut partial: Vec<Vec<f32>> = vec![Vec::new(); parts.len()];
        {
            let mut own = Some(own.reborrow());
            let mut items: Vec<_> =
                parts.iter().cloned().zip(acts.iter_mut()).zip(partial.iter_mut().map(|p| (p, own.take()))).collect();
            pool::for_each_mut(&mut items, |_, ((rows, acts), (flat, own))| {
                let mut g = match own.take() {
                    Some(g) => g,
                    None => {
                        **flat = vec![0.0; total];
                        GradParts::from_flat(flat, D, TF, H)
                    }
                };
                let (x, tau, go) = (
                    &xb[rows.start * D..rows.end * D],
                    &tau[rows.start * TF..rows.end * TF],
                    &go[rows.start * D..rows.end * D],
                );
                w.train_bwd(x, tau, acts, go, &mut g);
            });
        }
        for block in partial.iter_mut().skip(1) {
            let mut p = GradParts::from_flat(block, D, TF, H);
            for (dst, src) in own.slices().into_iter().zip(p.slices()) {
                act::add_into(dst, src);
            }
        }
        if let Some((len, rows, sink)) = embed_back {
            // train_bwd left ∂L/∂z₁ in each block's first pre-activation buffer.
            let mut g = vec![0.0f32; len];
            for (range, acts) in parts.iter().zip(&acts) {
                scatter_into(&mut g, &rows[range.clone()], &acts.p[0], H);
            }
            *sink.lock().expect("the gradient sink is only used here") = g;
        }
        Ok(())
    });
    out.put_tape(tape)
}

/// The weights of an SiLU `MlpNet`, copied out once for tape-free evaluation on plain buffers.
pub(crate) struct Frozen {
    w: Weights,
    emb: TimeEmbedding,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Frozen {
    pub(crate) fn new<const D: usize, const H: usize, const TF: usize>(
        net: &MlpNet<D, H, TF, f32, Cpu>,
        emb: TimeEmbedding,
    ) -> Self {
        Frozen { w: Weights::of(net), emb }
    }

    /// `out (n × D) = v(x (n × D), t)` (with the label vectors of `embed`, one row per point), in
    /// blocks of [`CHUNK`] rows spread over the worker threads. Each block is computed the same
    /// way whichever thread runs it, and whatever the thread count.
    pub(crate) fn eval(&self, x: &[f64], t: Time<'_>, embed: Option<Embed<'_>>, out: &mut [f64]) {
        let (d, tf, h) = (self.w.d, self.w.tf, self.w.h);
        let n = x.len() / d;
        assert_eq!(out.len(), n * d);
        if let Time::PerRow(ts) = t {
            assert_eq!(ts.len(), n);
        }
        if let Some(e) = embed {
            assert_eq!(e.rows.len(), n, "one label row per point");
        }
        // For one shared t, W_t τ(t) is computed once, by the same kernel as per row (the same bits).
        let shared = match t {
            Time::Same(t) => {
                let mut tp = vec![0.0f32; h];
                self.w.t_in.fwd(&self.emb.features(&[t], tf), &mut tp);
                tp
            }
            Time::PerRow(_) => Vec::new(),
        };
        let mut chunks: Vec<(usize, &mut [f64])> = out.chunks_mut(CHUNK * d).enumerate().collect();
        pool::for_each_mut(&mut chunks, |_, (c, out)| {
            let r0 = *c * CHUNK;
            let m = out.len() / d;
            SCRATCH.with(|cell| {
                let mut own = Vec::new();
                let mut guard = cell.try_borrow_mut();
                let scratch = match guard.as_mut() {
                    Ok(s) => &mut **s,
                    Err(_) => &mut own,
                };
                let need = 3 * m * h + 2 * m * d;
                if scratch.len() < need {
                    scratch.resize(need, 0.0);
                }
                let (hs, rest) = scratch.split_at_mut(2 * m * h);
                let (tp, rest) = rest.split_at_mut(m * h);
                let (xf, vf) = rest[..2 * m * d].split_at_mut(m * d);
                for (a, b) in xf.iter_mut().zip(&x[r0 * d..(r0 + m) * d]) {
                    *a = *b as f32;
                }
                let time = match (t, embed) {
                    (Time::PerRow(ts), _) => {
                        self.w.t_in.fwd(&self.emb.features(&ts[r0..r0 + m], tf), tp);
                        if let Some(e) = embed {
                            add_rows(tp, e.table, &e.rows[r0..r0 + m], h);
                        }
                        TimePart::PerRow(tp)
                    }
                    (Time::Same(_), None) => TimePart::Shared(&shared),
                    (Time::Same(_), Some(e)) => {
                        for row in tp.chunks_exact_mut(h) {
                            row.copy_from_slice(&shared);
                        }
                        add_rows(tp, e.table, &e.rows[r0..r0 + m], h);
                        TimePart::PerRow(tp)
                    }
                };
                self.w.infer(xf, time, vf, hs);
                for (o, v) in out.iter_mut().zip(vf.iter()) {
                    *o = *v as f64;
                }
            });
        });
    }
}

#[cfg(test)]
mod tests {
    //! The fused network against the plain dfdx graph of `MlpNet::forward`: forward values,
    //! the loss and every parameter gradient, on random weights and batches.
    use super::*;
    use crate::nn::config::Activation;
    use dfdx::nn::{BuildModule, ZeroGrads};
    use rand::{Rng, SeedableRng};

    /// max |a − b| / max |b|.
    fn rel(a: &[f32], b: &[f32]) -> f64 {
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)).max(1e-12);
        a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs() as f64)) / scale
    }

    fn check<const D: usize, const H: usize, const TF: usize>(n: usize, seed: u64) {
        let dev = Cpu::seed_from_u64(seed);
        let net = MlpNet::<D, H, TF, f32, Cpu>::try_build(&dev).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut rand_vec =
            |len: usize, scale: f32| -> Vec<f32> { (0..len).map(|_| scale * rng.gen_range(-1.0f32..1.0)).collect() };
        let (x, tau, target) = (rand_vec(n * D, 3.0), rand_vec(n * TF, 1.0), rand_vec(n * D, 3.0));
        let target = dev.tensor_from_vec(target, (n, Const::<D>));

        let fused_grads = net.alloc_grads();
        let xs = dev.tensor_from_vec(x.clone(), (n, Const::<D>)).traced(fused_grads);
        let pred = mlp(xs, tau.clone(), &net, None);
        let pred_fused = pred.as_vec();
        let loss = (pred - target.clone()).square().mean();
        let loss_fused = loss.array();
        let fused_grads = loss.backward();

        let plain_grads = net.alloc_grads();
        let xs = dev.tensor_from_vec(x.clone(), (n, Const::<D>)).traced(plain_grads);
        let taus = dev.tensor_from_vec(tau.clone(), (n, Const::<TF>)).retaped::<OwnedTape<f32, Cpu>>();
        let pred = net.forward_with(xs, taus, None, Activation::Silu).unwrap();
        let pred_plain = pred.as_vec();
        let loss = (pred - target).square().mean();
        let loss_plain = loss.array();
        let plain_grads = loss.backward();

        let what = format!("D={D} H={H} TF={TF} n={n}");
        assert!(rel(&pred_fused, &pred_plain) < 1e-5, "{what}: forward {}", rel(&pred_fused, &pred_plain));
        assert!(((loss_fused - loss_plain) / loss_plain).abs() < 1e-5, "{what}: loss {loss_fused} vs {loss_plain}");
        let pairs = [
            ("x_in.weight", fused_grads.get(&net.x_in.weight).as_vec(), plain_grads.get(&net.x_in.weight).as_vec()),
            ("x_in.bias", fused_grads.get(&net.x_in.bias).as_vec(), plain_grads.get(&net.x_in.bias).as_vec()),
            ("t_in.weight", fused_grads.get(&net.t_in.weight).as_vec(), plain_grads.get(&net.t_in.weight).as_vec()),
            (
                "hidden1.weight",
                fused_grads.get(&net.hidden1.weight).as_vec(),
                plain_grads.get(&net.hidden1.weight).as_vec(),
            ),
            ("hidden1.bias", fused_grads.get(&net.hidden1.bias).as_vec(), plain_grads.get(&net.hidden1.bias).as_vec()),
            (
                "hidden2.weight",
                fused_grads.get(&net.hidden2.weight).as_vec(),
                plain_grads.get(&net.hidden2.weight).as_vec(),
            ),
            ("hidden2.bias", fused_grads.get(&net.hidden2.bias).as_vec(), plain_grads.get(&net.hidden2.bias).as_vec()),
            ("out.weight", fused_grads.get(&net.out.weight).as_vec(), plain_grads.get(&net.out.weight).as_vec()),
            ("out.bias", fused_grads.get(&net.out.bias).as_vec(), plain_grads.get(&net.out.bias).as_vec()),
        ];
        for (name, f, p) in pairs {
            assert!(p.iter().any(|v| *v != 0.0), "{what}: {name} has no gradient");
            assert!(rel(&f, &p) < 1e-5, "{what}: gradient of {name} off by {}", rel(&f, &p));
        }

        // The tape-free forward pass gives the same velocities, per-row or shared time.
        let frozen = Frozen::new(&net, TimeEmbedding::Raw);
        if TF == 1 {
            let xd: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let td: Vec<f64> = tau.iter().map(|&v| v as f64).collect();
            let mut out = vec![0.0; n * D];
            frozen.eval(&xd, Time::PerRow(&td), None, &mut out);
            let out: Vec<f32> = out.iter().map(|&v| v as f32).collect();
            assert!(rel(&out, &pred_plain) < 1e-5, "{what}: tape-free forward {}", rel(&out, &pred_plain));
            let mut same = vec![0.0; n * D];
            frozen.eval(&xd, Time::Same(td[0]), None, &mut same);
            let mut row0 = vec![0.0; n * D];
            frozen.eval(&xd, Time::PerRow(&vec![td[0]; n]), None, &mut row0);
            assert_eq!(same, row0, "{what}: a shared t must give the same bits as that t on every row");
        }
    }

    #[test]
    fn fused_network_matches_the_dfdx_graph() {
        check::<2, 256, 1>(256, 0);
        check::<2, 64, 1>(100, 1); // rows not a multiple of the block alignment
        check::<1, 32, 16>(7, 2); // one block; thin hidden layers (H ≤ THIN)
        check::<2, 48, 16>(300, 3);
        check::<2, 16, 1>(33, 4);
        check::<40, 64, 1>(70, 5); // wide input and output: gemm in the first and last layers
        check::<3, 40, 40>(64, 6); // many time features: gemm for W_t
    }

    /// With label vectors: the fused op against the plain graph on one-hot codes times a table
    /// (the concatenation the table stands for), forward, every gradient and the table's.
    fn check_embed<const D: usize, const H: usize, const K1: usize>(n: usize, seed: u64) {
        let dev = Cpu::seed_from_u64(seed);
        let net = MlpNet::<D, H, 1, f32, Cpu>::try_build(&dev).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut rand_vec =
            |len: usize, scale: f32| -> Vec<f32> { (0..len).map(|_| scale * rng.gen_range(-1.0f32..1.0)).collect() };
        let (x, tau, target, table) =
            (rand_vec(n * D, 3.0), rand_vec(n, 1.0), rand_vec(n * D, 3.0), rand_vec(K1 * H, 1.0));
        let rows: Vec<usize> = (0..n).map(|i| (i * 7 + i / 3) % K1).collect();
        let target = dev.tensor_from_vec(target, (n, Const::<D>));

        let sink = GradSink::default();
        let xs = dev.tensor_from_vec(x.clone(), (n, Const::<D>)).traced(net.alloc_grads());
        let pred = mlp(xs, tau.clone(), &net, Some((&table, rows.clone(), sink.clone())));
        let pred_fused = pred.as_vec();
        let fused_grads = (pred - target.clone()).square().mean().backward();
        let table_grad_fused = sink.lock().unwrap().clone();

        // Plain graph; leaky gradients keep the table's (it is no module parameter).
        let xs = dev.tensor_from_vec(x.clone(), (n, Const::<D>)).traced(Gradients::leaky());
        let taus = dev.tensor_from_vec(tau.clone(), (n, Const::<1>)).retaped::<OwnedTape<f32, Cpu>>();
        let mut onehot = vec![0.0f32; n * K1];
        rows.iter().enumerate().for_each(|(i, &k)| onehot[i * K1 + k] = 1.0);
        let onehot = dev.tensor_from_vec(onehot, (n, Const::<K1>));
        let e: Tensor<Rank2<K1, H>, f32, Cpu> = dev.tensor_from_vec(table.clone(), (Const, Const));
        let extra = onehot.retaped::<OwnedTape<f32, Cpu>>().matmul(e.retaped::<OwnedTape<f32, Cpu>>());
        let pred = net.forward_with(xs, taus, Some(extra), Activation::Silu).unwrap();
        let pred_plain = pred.as_vec();
        let plain_grads = (pred - target).square().mean().backward();

        let what = format!("D={D} H={H} K+1={K1} n={n}");
        assert!(rel(&pred_fused, &pred_plain) < 1e-5, "{what}: forward {}", rel(&pred_fused, &pred_plain));
        let table_grad_plain = plain_grads.get(&e).as_vec();
        assert!(table_grad_plain.iter().any(|v| *v != 0.0));
        assert!(
            rel(&table_grad_fused, &table_grad_plain) < 1e-5,
            "{what}: table gradient off by {}",
            rel(&table_grad_fused, &table_grad_plain)
        );
        for (name, f, p) in [
            ("x_in.weight", fused_grads.get(&net.x_in.weight).as_vec(), plain_grads.get(&net.x_in.weight).as_vec()),
            ("t_in.weight", fused_grads.get(&net.t_in.weight).as_vec(), plain_grads.get(&net.t_in.weight).as_vec()),
            ("out.weight", fused_grads.get(&net.out.weight).as_vec(), plain_grads.get(&net.out.weight).as_vec()),
        ] {
            assert!(rel(&f, &p) < 1e-5, "{what}: gradient of {name} off by {}", rel(&f, &p));
        }

        // The tape-free forward pass with label vectors, per-row and shared time.
        let frozen = Frozen::new(&net, TimeEmbedding::Raw);
        let embed = Some(Embed { table: &table, rows: &rows });
        let xd: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let td: Vec<f64> = tau.iter().map(|&v| v as f64).collect();
        let mut out = vec![0.0; n * D];
        frozen.eval(&xd, Time::PerRow(&td), embed, &mut out);
        let out: Vec<f32> = out.iter().map(|&v| v as f32).collect();
        assert!(rel(&out, &pred_plain) < 1e-5, "{what}: tape-free forward {}", rel(&out, &pred_plain));
        let mut same = vec![0.0; n * D];
        frozen.eval(&xd, Time::Same(td[0]), embed, &mut same);
        let mut row0 = vec![0.0; n * D];
        frozen.eval(&xd, Time::PerRow(&vec![td[0]; n]), embed, &mut row0);
        assert_eq!(same, row0, "{what}: a shared t with labels must give the same bits as that t on every row");
    }

    #[test]
    fn fused_network_with_label_vectors_matches_the_dfdx_graph() {
        check_embed::<2, 64, 9>(300, 11); // eight classes and ∅, two blocks
        check_embed::<2, 256, 3>(33, 12);
        check_embed::<1, 32, 2>(5, 13); // one block; thin layers
        check_embed::<2, 16, 4>(1100, 14); // more rows than a sampling chunk
    }

    #[test]
    fn accumulates_into_existing_gradients() {
        // dfdx's contract: an op adds to the gradients already there.
        let dev = Cpu::seed_from_u64(9);
        let net = MlpNet::<2, 64, 1, f32, Cpu>::try_build(&dev).unwrap();
        let run = |grads| {
            let xs = dev.tensor_from_vec(vec![0.5f32; 2 * 40], (40, Const::<2>)).traced(grads);
            mlp(xs, vec![0.25f32; 40], &net, None).square().mean().backward()
        };
        let once = run(net.alloc_grads());
        let twice = run(once.clone());
        let (a, b) = (once.get(&net.hidden1.weight).as_vec(), twice.get(&net.hidden1.weight).as_vec());
        let doubled: Vec<f32> = a.iter().map(|v| 2.0 * v).collect();
        assert!(rel(&b, &doubled) < 1e-6);
        let mut g = twice;
        net.zero_grads(&mut g);
        assert!(g.get(&net.hidden1.weight).as_vec().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn ranges_cover_the_rows_in_aligned_blocks() {
        assert_eq!(pool::ranges(256, 2, 16), vec![0..128, 128..256]);
        assert_eq!(pool::ranges(100, 2, 16), vec![0..64, 64..100]);
        assert_eq!(pool::ranges(10, 3, 16), vec![0..10]);
        assert_eq!(pool::ranges(0, 2, 16), Vec::<Range<usize>>::new());
    }

    #[test]
    fn pool_runs_every_task_once_and_nests() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hits: Vec<AtomicUsize> = (0..8).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..200 {
            let mut items: Vec<usize> = (0..8).collect();
            pool::for_each_mut(&mut items, |i, v| {
                assert_eq!(i, *v);
                hits[i].fetch_add(1, Ordering::Relaxed);
                // A nested call runs serially.
                let mut inner = [0u8; 3];
                pool::for_each_mut(&mut inner, |_, b| *b += 1);
                assert_eq!(inner, [1, 1, 1]);
            });
        }
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 200));
    }
}
