//! The maximum-likelihood pass of a [`FlowNet`](super::FlowNet) on plain f32 buffers: the
//! density direction x → z through every layer, the loss, and its gradient with respect to
//! every parameter, written by hand.
//!
//! ```text
//! density direction (last layer first):   v ← g_k(v),  ℓ ← ℓ + log |det ∂g_k/∂v|
//!   coupling:  v_B ← (v_B − t(v_A)) e^{−s(v_A)},   ℓ −= Σ s            planar: v ← v + û tanh(wᵀv + b)
//!   swap:      v ← P⁻¹ v                                               radial: v ← v + β (v − v₀)/(α + r)
//! base:        log N(v; μ, diag e^{2σ}) = −(d/2) ln 2π − Σ σ − ½ ‖(v − μ) e^{−σ}‖²
//! loss:        L = −(1/n) Σ_i (log N(v_i) + ℓ_i);   backward: the same layers in the other order
//! ```
//!
//! All parameters live in one flat vector θ (layout in [`Plan`]). The conditioner MLPs reuse
//! the dense kernels of the fast SiLU path (`fused.rs`: gemm 0.19 with AVX-512 for the square
//! layers, small vectorised loops for the thin first and last layers). A batch is cut into one
//! block of rows per thread; each block runs every layer forward and backward on its own, and the
//! blocks' gradients are added in block order, so a run is bit-identical for a given thread count.

use super::fused::{at_b_acc, Layer};
use super::pool;
use crate::flows::{Nonlinearity, ScaleMap};
use std::ops::Range;

/// ln 2π in f32.
const LN_2PI_F32: f32 = 1.837_877_1;

/// One layer of a flow, in the order the layers act on noise (generative order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An affine coupling layer: the first `k` coordinates are kept, the other `d − k` moved.
    Coupling,
    /// normflows' swap: x = (z_{⌊d/2⌋..}, z_{..⌊d/2⌋}).
    Swap,
    /// A planar map used in the density direction (x → z).
    Planar,
    /// A radial map used in the density direction.
    Radial,
}

/// Where each layer's parameters sit in θ, and the sizes the pass needs.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub d: usize,
    /// Kept coordinates of a coupling layer (⌈d/2⌉), and moved ones (d − k).
    pub k: usize,
    pub mb: usize,
    pub h: usize,
    pub act: Nonlinearity,
    pub scale: ScaleMap,
    pub trainable_base: bool,
    /// (kind, offset of its parameters in θ), generative order.
    pub layers: Vec<(Kind, usize)>,
    /// Offset of the base's μ (d numbers), followed by its log-scale σ (d numbers).
    pub base: usize,
    pub total: usize,
}

impl Plan {
    /// Lays out the parameters of `kinds` (generative order) for dimension `d` and conditioner width `h`.
    pub fn new(d: usize, h: usize, kinds: &[Kind], act: Nonlinearity, scale: ScaleMap, trainable_base: bool) -> Plan {
        let k = d.div_ceil(2);
        let mb = d - k;
        let mut off = 0;
        let mut layers = Vec::with_capacity(kinds.len());
        for &kind in kinds {
            layers.push((kind, off));
            off += Plan::size_of(kind, d, k, mb, h);
        }
        let base = off;
        Plan { d, k, mb, h, act, scale, trainable_base, layers, base, total: base + 2 * d }
    }

    fn size_of(kind: Kind, d: usize, k: usize, mb: usize, h: usize) -> usize {
        match kind {
            Kind::Coupling => h * k + h + h * h + h + 2 * mb * h + 2 * mb,
            Kind::Swap => 0,
            Kind::Planar => 2 * d + 1,
            Kind::Radial => d + 2,
        }
    }

    /// The named parameter blocks of layer `l` in θ order: (name, shape, range), for checkpoints and export.
    pub fn blocks(&self, l: usize) -> Vec<(&'static str, Vec<usize>, Range<usize>)> {
        let (kind, off) = self.layers[l];
        let (d, k, mb, h) = (self.d, self.k, self.mb, self.h);
        let shapes: Vec<(&'static str, Vec<usize>)> = match kind {
            Kind::Coupling => vec![
                ("w1", vec![h, k]),
                ("b1", vec![h]),
                ("w2", vec![h, h]),
                ("b2", vec![h]),
                ("w3", vec![2 * mb, h]),
                ("b3", vec![2 * mb]),
            ],
            Kind::Swap => vec![],
            Kind::Planar => vec![("u", vec![d]), ("w", vec![d]), ("b", vec![1])],
            Kind::Radial => vec![("z0", vec![d]), ("a", vec![1]), ("b", vec![1])],
        };
        let mut at = off;
        shapes
            .into_iter()
            .map(|(name, shape)| {
                let len: usize = shape.iter().product();
                at += len;
                (name, shape, at - len..at)
            })
            .collect()
    }
}

fn softplus(a: f64) -> f64 {
    crate::flows::softplus(a)
}

fn sigmoid(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

/// σ(p) in place, with the bias added first: p ← p + b, a ← σ(p).
fn act_fwd(act: Nonlinearity, p: &mut [f32], b: &[f32], a: &mut [f32]) {
    if act == Nonlinearity::Relu {
        return super::act::relu_fwd(p, b, a);
    }
    let o = b.len();
    for (pr, ar) in p.chunks_exact_mut(o).zip(a.chunks_exact_mut(o)) {
        for j in 0..o {
            let v = pr[j] + b[j];
            pr[j] = v;
            ar[j] = match act {
                Nonlinearity::Relu => v.max(0.0),
                Nonlinearity::Tanh => v.tanh(),
                Nonlinearity::Silu => v / (1.0 + (-v).exp()),
            };
        }
    }
}

/// In place: g ← g ⊙ σ'(p) (the gradient of the pre-activation), and gb += Σ_rows of it.
fn act_bwd(act: Nonlinearity, g: &mut [f32], p: &[f32], a: &[f32], gb: &mut [f32]) {
    if act == Nonlinearity::Relu {
        return super::act::relu_bwd(g, p, gb);
    }
    let o = gb.len();
    for ((gr, pr), ar) in g.chunks_exact_mut(o).zip(p.chunks_exact(o)).zip(a.chunks_exact(o)) {
        for j in 0..o {
            let d = match act {
                Nonlinearity::Relu => {
                    if pr[j] > 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                }
                Nonlinearity::Tanh => 1.0 - ar[j] * ar[j],
                Nonlinearity::Silu => {
                    let s = 1.0 / (1.0 + (-pr[j]).exp());
                    s * (1.0 + pr[j] * (1.0 - s))
                }
            };
            let v = gr[j] * d;
            gr[j] = v;
            gb[j] += v;
        }
    }
}

/// The conditioner of one coupling layer, copied out of θ into the dense kernels' layouts.
struct Net3 {
    l1: Layer,
    l2: Layer,
    l3: Layer,
}

/// What the pass reads from θ, prepared once per call. (A coupling block's weights are stored
/// inline: the list is built once per pass, so the size difference between variants costs nothing.)
#[allow(clippy::large_enum_variant)]
enum Prepared {
    Coupling(Net3),
    Swap,
    Planar { u_hat: Vec<f32>, w: Vec<f32>, b: f32, kappa: f32 },
    Radial { z0: Vec<f32>, alpha: f32, beta: f32 },
}

/// θ in the shapes the pass uses.
pub(crate) struct Weights<'p> {
    plan: &'p Plan,
    layers: Vec<Prepared>,
    loc: Vec<f32>,
    log_scale: Vec<f32>,
}

impl<'p> Weights<'p> {
    pub fn new(plan: &'p Plan, theta: &[f32]) -> Weights<'p> {
        let (d, k, mb, h) = (plan.d, plan.k, plan.mb, plan.h);
        let layers = plan
            .layers
            .iter()
            .map(|&(kind, off)| match kind {
                Kind::Coupling => {
                    let mut at = off;
                    let mut take = |n: usize| {
                        at += n;
                        theta[at - n..at].to_vec()
                    };
                    let (w1, b1) = (take(h * k), take(h));
                    let (w2, b2) = (take(h * h), take(h));
                    let (w3, b3) = (take(2 * mb * h), take(2 * mb));
                    Prepared::Coupling(Net3 {
                        l1: Layer::new(w1, b1, h, k),
                        l2: Layer::new(w2, b2, h, h),
                        l3: Layer::new(w3, b3, 2 * mb, h),
                    })
                }
                Kind::Swap => Prepared::Swap,
                Kind::Planar => {
                    let p = planar_params(&theta[off..off + 2 * d + 1], d);
                    Prepared::Planar {
                        u_hat: p.u_hat.iter().map(|&v| v as f32).collect(),
                        w: p.w.iter().map(|&v| v as f32).collect(),
                        b: p.b as f32,
                        kappa: p.kappa as f32,
                    }
                }
                Kind::Radial => {
                    let (alpha, beta) = radial_ab(theta[off + d] as f64, theta[off + d + 1] as f64);
                    Prepared::Radial { z0: theta[off..off + d].to_vec(), alpha: alpha as f32, beta: beta as f32 }
                }
            })
            .collect();
        let loc = theta[plan.base..plan.base + d].to_vec();
        let log_scale = theta[plan.base + d..plan.base + 2 * d].to_vec();
        Weights { plan, layers, loc, log_scale }
    }
}

/// A planar layer's parameters in f64: u, w, b, û and κ = wᵀû, with the constraint's pieces.
pub(crate) struct PlanarParams {
    pub u: Vec<f64>,
    pub w: Vec<f64>,
    pub b: f64,
    pub u_hat: Vec<f64>,
    pub kappa: f64,
    /// c in û = u + c w, and the derivatives dc/da (a = wᵀu) and dc/ds (s = ‖w‖²).
    c: f64,
    dc_da: f64,
    dc_ds: f64,
}

/// û = u + c w with c = (m(wᵀu) − wᵀu)/‖w‖², m(a) = −1 + softplus(a) (the same formula as `flows::Planar`).
pub(crate) fn planar_params(p: &[f32], d: usize) -> PlanarParams {
    let u: Vec<f64> = p[..d].iter().map(|&v| v as f64).collect();
    let w: Vec<f64> = p[d..2 * d].iter().map(|&v| v as f64).collect();
    let b = p[2 * d] as f64;
    let a: f64 = u.iter().zip(&w).map(|(x, y)| x * y).sum();
    let s: f64 = w.iter().map(|v| v * v).sum();
    let (c, dc_da, dc_ds) = if s > 0.0 {
        ((-1.0 + softplus(a) - a) / s, (sigmoid(a) - 1.0) / s, -(-1.0 + softplus(a) - a) / (s * s))
    } else {
        (0.0, 0.0, 0.0)
    };
    let u_hat: Vec<f64> = u.iter().zip(&w).map(|(x, y)| x + c * y).collect();
    let kappa = w.iter().zip(&u_hat).map(|(x, y)| x * y).sum();
    PlanarParams { u, w, b, u_hat, kappa, c, dc_da, dc_ds }
}

/// α = softplus(a), β = −α + softplus(b) (the same as `flows::Radial::from_unconstrained`).
pub(crate) fn radial_ab(a: f64, b: f64) -> (f64, f64) {
    let alpha = softplus(a);
    (alpha, -alpha + softplus(b))
}

/// What the backward pass needs from one layer of the forward pass, for one block of rows.
/// Coupling layers fill `xa` (kept inputs), `p1, a1, p2, a2` (pre-activations and activations),
/// `raw` (conditioner outputs) and `zb` (moved outputs); planar and radial layers fill `v` (their
/// input) and `s` (tanh(wᵀv + b), or the radius). The buffers are kept from step to step.
#[derive(Default)]
struct Cache {
    xa: Vec<f32>,
    p1: Vec<f32>,
    a1: Vec<f32>,
    p2: Vec<f32>,
    a2: Vec<f32>,
    raw: Vec<f32>,
    zb: Vec<f32>,
    v: Vec<f32>,
    s: Vec<f32>,
}

/// `v` resized to `len` without clearing: every user overwrites all of it.
fn sized(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    v.resize(len, 0.0);
    &mut v[..len]
}

/// The buffers of one block of rows, kept from step to step so a training step allocates nothing.
#[derive(Default)]
pub(crate) struct Workspace {
    caches: Vec<Cache>,
    grad: Vec<f32>,
    v: Vec<f32>,
    ld: Vec<f32>,
    lp: Vec<f32>,
    gv: Vec<f32>,
    graw: Vec<f32>,
    ga: Vec<f32>,
    ga1: Vec<f32>,
    gxa: Vec<f32>,
    perm: Vec<f32>,
}

impl Weights<'_> {
    /// The density direction for `m` rows of `v` (m × d, overwritten by z), adding each row's
    /// log-determinant into `ld`. With `keep`, layer k's intermediate values stay in `caches[k]`
    /// (density order) for the backward pass; without, one cache is reused by every layer.
    fn density(&self, v: &mut [f32], ld: &mut [f32], caches: &mut Vec<Cache>, keep: bool) {
        let (d, k, mb, h) = (self.plan.d, self.plan.k, self.plan.mb, self.plan.h);
        let m = ld.len();
        let scale = self.plan.scale;
        for (li, prep) in self.layers.iter().rev().enumerate() {
            let slot = if keep { li } else { 0 };
            while caches.len() <= slot {
                caches.push(Cache::default());
            }
            let c = &mut caches[slot];
            match prep {
                Prepared::Coupling(net) => {
                    let xa = sized(&mut c.xa, m * k);
                    for (dst, row) in xa.chunks_exact_mut(k).zip(v.chunks_exact(d)) {
                        dst.copy_from_slice(&row[..k]);
                    }
                    let (p1, a1) = (sized(&mut c.p1, m * h), sized(&mut c.a1, m * h));
                    net.l1.fwd(&c.xa, p1);
                    act_fwd(self.plan.act, p1, &net.l1.b, a1);
                    let (p2, a2) = (sized(&mut c.p2, m * h), sized(&mut c.a2, m * h));
                    net.l2.fwd(&c.a1, p2);
                    act_fwd(self.plan.act, p2, &net.l2.b, a2);
                    let raw = sized(&mut c.raw, m * 2 * mb);
                    net.l3.fwd(&c.a2, raw);
                    super::act::add_bias(raw, &net.l3.b);
                    let zb = sized(&mut c.zb, m * mb);
                    for i in 0..m {
                        let (row, r) = (&mut v[i * d..(i + 1) * d], &raw[i * 2 * mb..(i + 1) * 2 * mb]);
                        let mut sum = 0.0f32;
                        for j in 0..mb {
                            let (t, s) = (r[2 * j], scale.apply(r[2 * j + 1] as f64) as f32);
                            let z = (row[k + j] - t) * (-s).exp();
                            row[k + j] = z;
                            zb[i * mb + j] = z;
                            sum += s;
                        }
                        ld[i] -= sum;
                    }
                }
                Prepared::Swap => {
                    // Generative swap x_i = z_{(i + ⌊d/2⌋) mod d}; its inverse z_j = x_{(j − ⌊d/2⌋) mod d}.
                    let shift = d / 2;
                    let tmp = sized(&mut c.s, d);
                    for row in v.chunks_exact_mut(d) {
                        for i in 0..d {
                            tmp[(i + shift) % d] = row[i];
                        }
                        row.copy_from_slice(tmp);
                    }
                }
                Prepared::Planar { u_hat, w, b, kappa } => {
                    if keep {
                        sized(&mut c.v, m * d).copy_from_slice(v);
                    }
                    let hs = sized(&mut c.s, m);
                    for (i, row) in v.chunks_exact_mut(d).enumerate() {
                        let a: f32 = row.iter().zip(w).map(|(x, y)| x * y).sum::<f32>() + b;
                        let hh = a.tanh();
                        row.iter_mut().zip(u_hat).for_each(|(x, u)| *x += u * hh);
                        ld[i] += (1.0 + (1.0 - hh * hh) * kappa).abs().ln();
                        hs[i] = hh;
                    }
                }
                Prepared::Radial { z0, alpha, beta } => {
                    if keep {
                        sized(&mut c.v, m * d).copy_from_slice(v);
                    }
                    let rs = sized(&mut c.s, m);
                    let dm1 = (d - 1) as f32;
                    for (i, row) in v.chunks_exact_mut(d).enumerate() {
                        let r = row.iter().zip(z0).map(|(x, c)| (x - c) * (x - c)).sum::<f32>().sqrt();
                        let q = alpha + r;
                        let phi = beta / q;
                        row.iter_mut().zip(z0).for_each(|(x, c)| *x += phi * (*x - c));
                        ld[i] += dm1 * (1.0 + phi).ln() + (1.0 + alpha * beta / (q * q)).ln();
                        rs[i] = r;
                    }
                }
            }
        }
    }

    /// log N(v; μ, diag e^{2σ}) for every row of `v`.
    fn base_log_prob(&self, v: &[f32], out: &mut [f32]) {
        let d = self.plan.d;
        let norm = -0.5 * d as f32 * LN_2PI_F32 - self.log_scale.iter().sum::<f32>();
        for (o, row) in out.iter_mut().zip(v.chunks_exact(d)) {
            let q: f32 = (0..d)
                .map(|j| {
                    let u = (row[j] - self.loc[j]) * (-self.log_scale[j]).exp();
                    u * u
                })
                .sum();
            *o = norm - 0.5 * q;
        }
    }

    /// log p(x) for `m` rows of `x` (no backward pass): the density direction and the base.
    pub fn log_prob_rows(&self, x: &[f32], out: &mut [f32]) {
        let mut v = x.to_vec();
        let mut ld = vec![0.0f32; out.len()];
        self.density(&mut v, &mut ld, &mut Vec::new(), false);
        self.base_log_prob(&v, out);
        out.iter_mut().zip(&ld).for_each(|(o, l)| *o += l);
    }

    /// One block of rows: forward with caches, then backward, writing the parameter gradients of
    /// L = −(1/n) Σ log p(x_i) (n = the whole batch) into `ws.grad` (θ's layout; planar and radial
    /// slots hold ∂L/∂û and ∂L/∂α, ∂L/∂β until [`finish_gradient`] chains them). Returns
    /// Σ_rows −log p(x_i) in f64.
    fn block(&self, x: &[f32], n: usize, ws: &mut Workspace) -> f64 {
        let (d, k, mb, h) = (self.plan.d, self.plan.k, self.plan.mb, self.plan.h);
        let m = x.len() / d;
        let Workspace { caches, grad, v, ld, lp, gv, graw, ga, ga1, gxa, perm } = ws;
        let v = sized(v, m * d);
        v.copy_from_slice(x);
        let ld = sized(ld, m);
        ld.fill(0.0);
        self.density(v, ld, caches, true);
        let lp = sized(lp, m);
        self.base_log_prob(v, lp);
        let loss: f64 = lp.iter().zip(ld.iter()).map(|(a, b)| -(*a as f64 + *b as f64)).sum();
        let g = sized(grad, self.plan.total);
        g.fill(0.0);

        // dL/d(log p_i) = −1/n for every row, and so is dL/d(log-det of every layer at row i).
        let g_ld = -1.0 / n as f32;
        let gv = sized(gv, m * d);
        let base = self.plan.base;
        {
            let (g_loc, g_ls) = g[base..base + 2 * d].split_at_mut(d);
            for (row, grow) in v.chunks_exact(d).zip(gv.chunks_exact_mut(d)) {
                for j in 0..d {
                    let e = (-self.log_scale[j]).exp();
                    let u = (row[j] - self.loc[j]) * e;
                    // log N = … − σ_j − u²/2:  ∂/∂v = −u e^{−σ},  ∂/∂μ = u e^{−σ},  ∂/∂σ = −1 + u².
                    grow[j] = g_ld * (-u * e);
                    if self.plan.trainable_base {
                        g_loc[j] += g_ld * u * e;
                        g_ls[j] += g_ld * (-1.0 + u * u);
                    }
                }
            }
        }
        let scale = self.plan.scale;
        let count = self.layers.len();
        for (li, (prep, &(_, off))) in self.layers.iter().zip(&self.plan.layers).enumerate() {
            let c = &caches[count - 1 - li];
            match prep {
                Prepared::Coupling(net) => {
                    let graw = sized(graw, m * 2 * mb);
                    for i in 0..m {
                        let grow = &mut gv[i * d..(i + 1) * d];
                        let r = &c.raw[i * 2 * mb..(i + 1) * 2 * mb];
                        for j in 0..mb {
                            let sr = r[2 * j + 1];
                            let s = scale.apply(sr as f64) as f32;
                            let e = (-s).exp();
                            let gz = grow[k + j];
                            grow[k + j] = gz * e;
                            graw[i * 2 * mb + 2 * j] = -gz * e;
                            let gs = -gz * c.zb[i * mb + j] - g_ld;
                            graw[i * 2 * mb + 2 * j + 1] = gs * scale.derivative(sr as f64) as f32;
                        }
                    }
                    let gl = &mut g[off..];
                    let (gw1, rest) = gl.split_at_mut(h * k);
                    let (gb1, rest) = rest.split_at_mut(h);
                    let (gw2, rest) = rest.split_at_mut(h * h);
                    let (gb2, rest) = rest.split_at_mut(h);
                    let (gw3, rest) = rest.split_at_mut(2 * mb * h);
                    let gb3 = &mut rest[..2 * mb];
                    at_b_acc(graw, &c.a2, gw3, 2 * mb, h);
                    super::act::col_sums(graw, gb3);
                    let ga = sized(ga, m * h);
                    net.l3.back_input(graw, ga);
                    act_bwd(self.plan.act, ga, &c.p2, &c.a2, gb2);
                    at_b_acc(ga, &c.a1, gw2, h, h);
                    let ga1 = sized(ga1, m * h);
                    net.l2.back_input(ga, ga1);
                    act_bwd(self.plan.act, ga1, &c.p1, &c.a1, gb1);
                    at_b_acc(ga1, &c.xa, gw1, h, k);
                    let gxa = sized(gxa, m * k);
                    net.l1.back_input(ga1, gxa);
                    for (grow, gx) in gv.chunks_exact_mut(d).zip(gxa.chunks_exact(k)) {
                        grow[..k].iter_mut().zip(gx).for_each(|(a, b)| *a += b);
                    }
                }
                Prepared::Swap => {
                    // z_j = x_{(j − ⌊d/2⌋) mod d}  ⇒  ∂L/∂x_i = ∂L/∂z_{(i + ⌊d/2⌋) mod d}.
                    let shift = d / 2;
                    let tmp = sized(perm, d);
                    for row in gv.chunks_exact_mut(d) {
                        for i in 0..d {
                            tmp[i] = row[(i + shift) % d];
                        }
                        row.copy_from_slice(tmp);
                    }
                }
                Prepared::Planar { u_hat, w, kappa, .. } => {
                    let gl = &mut g[off..off + 2 * d + 1];
                    let (g_uhat, rest) = gl.split_at_mut(d);
                    let (g_w, g_b) = rest.split_at_mut(d);
                    let mut g_kappa = 0.0f32;
                    for i in 0..m {
                        let (vi, gz) = (&c.v[i * d..(i + 1) * d], &mut gv[i * d..(i + 1) * d]);
                        let hh = c.s[i];
                        let dh = 1.0 - hh * hh;
                        let det = 1.0 + dh * kappa;
                        let ug: f32 = u_hat.iter().zip(gz.iter()).map(|(a, b)| a * b).sum();
                        // z = v + û h(a), a = wᵀv + b;  ld = ln|1 + (1 − h²) κ|.
                        let g_a = ug * dh + g_ld * (-2.0 * hh * kappa * dh / det);
                        g_kappa += g_ld * dh / det;
                        for j in 0..d {
                            g_uhat[j] += gz[j] * hh;
                            g_w[j] += g_a * vi[j];
                        }
                        g_b[0] += g_a;
                        gz.iter_mut().zip(w).for_each(|(x, wj)| *x += g_a * wj);
                    }
                    // κ = wᵀû.
                    for j in 0..d {
                        g_w[j] += g_kappa * u_hat[j];
                        g_uhat[j] += g_kappa * w[j];
                    }
                }
                Prepared::Radial { z0, alpha, beta } => {
                    let gl = &mut g[off..off + d + 2];
                    let (g_z0, rest) = gl.split_at_mut(d);
                    let (mut g_alpha, mut g_beta) = (0.0f32, 0.0f32);
                    let dm1 = (d - 1) as f32;
                    for i in 0..m {
                        let (vi, gz) = (&c.v[i * d..(i + 1) * d], &mut gv[i * d..(i + 1) * d]);
                        let r = c.s[i];
                        let q = alpha + r;
                        let phi = beta / q;
                        let psi = alpha * beta / (q * q);
                        // z = v + φ e, e = v − z₀;  ld = (d − 1) ln(1 + φ) + ln(1 + ψ).
                        let eg: f32 = (0..d).map(|j| (vi[j] - z0[j]) * gz[j]).sum();
                        let g_phi = eg + g_ld * dm1 / (1.0 + phi);
                        let g_psi = g_ld / (1.0 + psi);
                        g_beta += g_phi / q + g_psi * alpha / (q * q);
                        g_alpha += g_psi * beta / (q * q);
                        let g_q = -g_phi * beta / (q * q) - 2.0 * g_psi * alpha * beta / (q * q * q);
                        g_alpha += g_q;
                        let g_r_over_r = if r > 0.0 { g_q / r } else { 0.0 };
                        for j in 0..d {
                            let e = vi[j] - z0[j];
                            let ge = phi * gz[j] + g_r_over_r * e;
                            gz[j] += ge;
                            g_z0[j] -= ge;
                        }
                    }
                    rest[0] += g_alpha;
                    rest[1] += g_beta;
                }
            }
        }
        loss
    }
}

/// Chains the planar and radial slots of a summed gradient from (û, α, β) to the raw parameters
/// (u, w, a, b): û = u + c(wᵀu, ‖w‖²) w,  α = softplus(a),  β = −α + softplus(b).
fn finish_gradient(plan: &Plan, theta: &[f32], g: &mut [f32]) {
    let d = plan.d;
    for &(kind, off) in &plan.layers {
        match kind {
            Kind::Planar => {
                let p = planar_params(&theta[off..off + 2 * d + 1], d);
                let g_uhat: Vec<f64> = g[off..off + d].iter().map(|&v| v as f64).collect();
                let wg: f64 = p.w.iter().zip(&g_uhat).map(|(a, b)| a * b).sum();
                for j in 0..d {
                    let gu = g_uhat[j] + p.dc_da * wg * p.w[j];
                    let gw = p.c * g_uhat[j] + wg * (p.dc_da * p.u[j] + 2.0 * p.dc_ds * p.w[j]);
                    g[off + j] = gu as f32;
                    g[off + d + j] += gw as f32;
                }
            }
            Kind::Radial => {
                let (a, b) = (theta[off + d] as f64, theta[off + d + 1] as f64);
                let (g_alpha, g_beta) = (g[off + d] as f64, g[off + d + 1] as f64);
                g[off + d] = ((g_alpha - g_beta) * sigmoid(a)) as f32;
                g[off + d + 1] = (g_beta * sigmoid(b)) as f32;
            }
            Kind::Coupling | Kind::Swap => {}
        }
    }
}

/// The loss L = −(1/n) Σ log p(x_i) of a batch `x` (n × d, f32) and its gradient with respect to
/// θ, written into `grad` (overwritten). The rows are split over the worker threads in fixed
/// blocks, each with its own [`Workspace`] (kept in `workspaces` between calls), and the blocks'
/// gradients are added in order.
pub(crate) fn loss_and_gradient(
    plan: &Plan,
    theta: &[f32],
    x: &[f32],
    grad: &mut [f32],
    workspaces: &mut Vec<Workspace>,
) -> f64 {
    let d = plan.d;
    let n = x.len() / d;
    let w = Weights::new(plan, theta);
    let parts = super::fused::row_parts(n);
    workspaces.resize_with(parts.len().max(workspaces.len()), Workspace::default);
    let mut items: Vec<(Range<usize>, &mut Workspace, f64)> =
        parts.into_iter().zip(workspaces.iter_mut()).map(|(r, ws)| (r, ws, 0.0)).collect();
    pool::for_each_mut(&mut items, |_, (rows, ws, loss)| {
        *loss = w.block(&x[rows.start * d..rows.end * d], n, ws);
    });
    grad.fill(0.0);
    let mut total = 0.0;
    for (_, ws, loss) in &items {
        super::act::add_into(grad, &ws.grad[..plan.total]);
        total += loss;
    }
    finish_gradient(plan, theta, grad);
    total / n as f64
}

/// log p(x) for every row of `x` (n × d, f32), in chunks of 512 rows over the worker threads.
pub(crate) fn log_prob(plan: &Plan, theta: &[f32], x: &[f32], out: &mut [f32]) {
    let d = plan.d;
    let w = Weights::new(plan, theta);
    let chunk = super::fused::CHUNK;
    let mut chunks: Vec<(usize, &mut [f32])> = out.chunks_mut(chunk).enumerate().collect();
    pool::for_each_mut(&mut chunks, |_, (c, o)| {
        let r0 = *c * chunk;
        w.log_prob_rows(&x[r0 * d..(r0 + o.len()) * d], o);
    });
}
