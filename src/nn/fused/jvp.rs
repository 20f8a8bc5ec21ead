//! Jacobian-vector products of the SiLU MLP on the tape-free path (forward-mode
//! differentiation): the input gradient that exact likelihoods need.
//!
//! ```text
//! z₁ = W_x x + W_t τ(t) + E[y] + b₁,   h₁ = silu(z₁)   ż₁ = W_x u,   ḣ₁ = silu'(z₁) ⊙ ż₁
//! z₂ = W₂ h₁ + b₂,            h₂ = silu(z₂)          ż₂ = W₂ ḣ₁,   ḣ₂ = silu'(z₂) ⊙ ż₂
//! z₃ = W₃ h₂ + b₃,            h₃ = silu(z₃)          ż₃ = W₃ ḣ₂,   ḣ₃ = silu'(z₃) ⊙ ż₃
//! v  = W₄ h₃ + b₄                                     v̇  = W₄ ḣ₃ = (∂v/∂x) u
//! silu'(z) = σ(z)(1 + z(1 − σ(z)))
//! ```
//!
//! A tangent u travels through the same matrices as the point, without biases, and is
//! scaled by the activation's derivative at the point's pre-activations. So one chunk of
//! m points with T tangents is one matmul of (1 + T)·m rows per layer: the point's rows
//! first, then the rows of each tangent. The divergence ∇·v = tr ∂v/∂x takes the d unit
//! vectors as tangents (`e_j` enters as the column j of W_x) and keeps the j-th coordinate
//! of tangent j; a Hutchinson probe ε keeps the whole product J ε.
//!
//! A conditional model's label vector E[y] (the row of y, or of ∅, in its label table) is a
//! constant of x: it moves the point's pre-activation z₁, so J(x, t | y) depends on y through
//! silu'(z₁), but a tangent gets no share of it. It enters the points' rows only.

use super::{act, add_rows, pool, Embed, Frozen, TimePart, SCRATCH};

/// Rows of points per chunk of a Jacobian-vector product: with T tangents a chunk holds
/// (1 + T)·m rows, so m shrinks as T grows to keep the activations in L2.
const JVP_ROWS: usize = 512;

/// The tangents pushed through the network with the points.
#[derive(Clone, Copy)]
pub(crate) enum Tangents<'a> {
    /// The d unit vectors: the output is the divergence tr ∂v/∂x, one number per point.
    Basis,
    /// Directions ε₁ … ε_k, each n × d row-major: the output is J ε_j for every point and
    /// probe, laid out point by point (`out[(i·k + j)·d + a] = (J(x_i) ε_j,i)_a`).
    Probes(&'a [&'a [f64]]),
}

impl Tangents<'_> {
    fn count(&self, d: usize) -> usize {
        match self {
            Tangents::Basis => d,
            Tangents::Probes(p) => p.len(),
        }
    }

    /// Output numbers per point.
    fn out_width(&self, d: usize) -> usize {
        match self {
            Tangents::Basis => 1,
            Tangents::Probes(p) => p.len() * d,
        }
    }
}

impl Frozen {
    /// `v (n × D) = v(x, t | y)` (with the label vectors of `embed`, one row per point, for a
    /// conditional model) and, in `out`, the divergence (for [`Tangents::Basis`], n numbers)
    /// or the products J ε_j (for [`Tangents::Probes`], n × k × D numbers), in chunks spread over
    /// the worker threads. Each chunk is computed the same way whatever the thread count.
    pub(crate) fn eval_tangents(
        &self,
        x: &[f64],
        t: f64,
        embed: Option<Embed<'_>>,
        tangents: Tangents<'_>,
        v: &mut [f64],
        out: &mut [f64],
    ) {
        let (d, tf, h) = (self.w.d, self.w.tf, self.w.h);
        let n = x.len() / d;
        let k = tangents.count(d);
        let width = tangents.out_width(d);
        assert_eq!(v.len(), n * d);
        assert_eq!(out.len(), n * width);
        if let Tangents::Probes(p) = tangents {
            assert!(p.iter().all(|e| e.len() == n * d), "every probe holds one direction per point");
        }
        if let Some(e) = embed {
            assert_eq!(e.rows.len(), n, "one label row per point");
        }
        let mut shared = vec![0.0f32; h];
        self.w.t_in.fwd(&self.emb.features(&[t], tf), &mut shared);
        let m_max = (JVP_ROWS / (1 + k)).next_multiple_of(16).max(16);
        let mut chunks: Vec<(usize, &mut [f64], &mut [f64])> = v
            .chunks_mut(m_max * d)
            .zip(out.chunks_mut(m_max * width))
            .enumerate()
            .map(|(c, (v, o))| (c * m_max, v, o))
            .collect();
        pool::for_each_mut(&mut chunks, |_, (r0, v, out)| {
            let m = v.len() / d;
            SCRATCH.with(|cell| {
                let mut own = Vec::new();
                let mut guard = cell.try_borrow_mut();
                let scratch = match guard.as_mut() {
                    Ok(s) => &mut **s,
                    Err(_) => &mut own,
                };
                let rows = (1 + k) * m;
                let labelled = if embed.is_some() { m * h } else { 0 };
                let need = 2 * rows * h + m * h + m * d + rows * d + labelled;
                if scratch.len() < need {
                    scratch.resize(need, 0.0);
                }
                let (a, rest) = scratch.split_at_mut(rows * h);
                let (b, rest) = rest.split_at_mut(rows * h);
                let (ds, rest) = rest.split_at_mut(m * h);
                let (xf, rest) = rest.split_at_mut(m * d);
                let (vf, rest) = rest.split_at_mut(rows * d);
                let tp = &mut rest[..labelled];
                let r0 = *r0;
                for (f, x) in xf.iter_mut().zip(&x[r0 * d..(r0 + m) * d]) {
                    *f = *x as f32;
                }
                // First layer: the points' pre-activations, then each tangent's W_x u.
                let (a0, at) = a.split_at_mut(m * h);
                let time = match embed {
                    None => TimePart::Shared(&shared),
                    Some(e) => {
                        // W_t τ(t) + E[y_i] on every row: the label vectors are constants of x.
                        for row in tp.chunks_exact_mut(h) {
                            row.copy_from_slice(&shared);
                        }
                        add_rows(tp, e.table, &e.rows[r0..r0 + m], h);
                        TimePart::PerRow(tp)
                    }
                };
                self.w.first_pre(xf, time, a0);
                match tangents {
                    Tangents::Basis => {
                        // W_x e_j is the column j of W_x (H × D row-major), the same for every row.
                        for (j, block) in at.chunks_exact_mut(m * h).enumerate() {
                            for row in block.chunks_exact_mut(h) {
                                for (o, r) in row.iter_mut().enumerate() {
                                    *r = self.w.x_in.w[o * d + j];
                                }
                            }
                        }
                    }
                    Tangents::Probes(probes) => {
                        // The probes go in through the points' rows of vf (free until the last layer).
                        let uf = &mut vf[..m * d];
                        for (e, block) in probes.iter().zip(at.chunks_exact_mut(m * h)) {
                            for (f, u) in uf.iter_mut().zip(&e[r0 * d..(r0 + m) * d]) {
                                *f = *u as f32;
                            }
                            self.w.x_in.fwd(uf, block);
                        }
                    }
                }
                act::silu_fwd_deriv(a0, &self.w.x_in.b, ds);
                act::scale_blocks(at, ds);
                // The two hidden layers: one matmul for the points and all tangents together.
                let (mut cur, mut next) = (a, b);
                for layer in &self.w.hidden {
                    layer.fwd(cur, next);
                    let (n0, nt) = next.split_at_mut(m * h);
                    act::silu_fwd_deriv(n0, &layer.b, ds);
                    act::scale_blocks(nt, ds);
                    std::mem::swap(&mut cur, &mut next);
                }
                self.w.out.fwd(cur, vf);
                let (v0, vt) = vf.split_at_mut(m * d);
                act::add_bias(v0, &self.w.out.b);
                for (o, f) in v.iter_mut().zip(v0.iter()) {
                    *o = *f as f64;
                }
                match tangents {
                    Tangents::Basis => {
                        for (i, o) in out.iter_mut().enumerate() {
                            *o = (0..d).map(|j| vt[j * m * d + i * d + j] as f64).sum();
                        }
                    }
                    Tangents::Probes(_) => {
                        for i in 0..m {
                            for j in 0..k {
                                let src = &vt[j * m * d + i * d..j * m * d + (i + 1) * d];
                                let dst = &mut out[(i * k + j) * d..(i * k + j + 1) * d];
                                for (o, s) in dst.iter_mut().zip(src) {
                                    *o = *s as f64;
                                }
                            }
                        }
                    }
                }
            });
        });
    }
}
