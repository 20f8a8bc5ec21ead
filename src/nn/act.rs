//! Vectorised kernels for the fast CPU path of the SiLU MLP (see `fused.rs`).
//!
//! dfdx 0.13 evaluates activations one element at a time with libm `expf`;
//! here `exp` is a branch-free Cephes-style polynomial (relative error ~1e-7)
//! that LLVM auto-vectorises. Every loop is compiled three times (AVX-512,
//! AVX2+FMA, baseline) and chosen once at run time, so the crate needs no
//! `-C target-cpu` flag. Set `FLOWMATCH_NO_AVX512=1` to stay on AVX2.
//!
//! The kernels work on row-major matrices whose rows are `b.len()` (or `w`)
//! numbers long; callers split the rows across threads.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// exp(x) for any finite x (clamped to the normal f32 range).
#[inline(always)]
fn exp<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let kf = madd::<FMA>(x, LOG2E, MAGIC);
    let k = (kf.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32); // round(x*log2e)
    let kf = kf - MAGIC;
    let r = madd::<FMA>(kf, -LN2_HI, x);
    let r = madd::<FMA>(kf, -LN2_LO, r);
    let mut p = 1.987_569_1e-4_f32;
    p = madd::<FMA>(p, r, 1.398_199_9e-3);
    p = madd::<FMA>(p, r, 8.333_452e-3);
    p = madd::<FMA>(p, r, 4.166_579_6e-2);
    p = madd::<FMA>(p, r, 1.666_666_5e-1);
    p = madd::<FMA>(p, r, 0.5);
    let y = madd::<FMA>(p, r * r, r) + 1.0;
    y * f32::from_bits(((k + 127) as u32) << 23)
}

#[inline(always)]
fn sigmoid<const FMA: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp::<FMA>(-x))
}

// ---- kernels (generic bodies) ------------------------------------------------

/// z[r, j] += b[j]; y = silu(z); keeps s = sigmoid(z) and z (pre-activation) for backward.
#[inline(always)]
fn fwd_train_body<const FMA: bool>(z: &mut [f32], b: &[f32], y: &mut [f32], s: &mut [f32]) {
    let o = b.len();
    for ((zr, yr), sr) in z.chunks_exact_mut(o).zip(y.chunks_exact_mut(o)).zip(s.chunks_exact_mut(o)) {
        for j in 0..o {
            let p = zr[j] + b[j];
            let sg = sigmoid::<FMA>(p);
            zr[j] = p;
            sr[j] = sg;
            yr[j] = p * sg;
        }
    }
}

/// In place: z[r, j] = silu(z[r, j] + b[j]).
#[inline(always)]
fn fwd_infer_body<const FMA: bool>(z: &mut [f32], b: &[f32]) {
    let o = b.len();
    for zr in z.chunks_exact_mut(o) {
        for j in 0..o {
            let p = zr[j] + b[j];
            zr[j] = p * sigmoid::<FMA>(p);
        }
    }
}

/// In place: p <- g * silu'(p) = g * s * (1 + p * (1 - s)); also gb[j] += sum_r of it.
#[inline(always)]
fn bwd_body<const FMA: bool>(p: &mut [f32], s: &[f32], g: &[f32], gb: &mut [f32]) {
    let o = gb.len();
    for ((pr, sr), gr) in p.chunks_exact_mut(o).zip(s.chunks_exact(o)).zip(g.chunks_exact(o)) {
        for j in 0..o {
            let sg = sr[j];
            let d = gr[j] * sg * madd::<FMA>(pr[j], 1.0 - sg, 1.0);
            pr[j] = d;
            gb[j] += d;
        }
    }
}

/// In place: z[r, j] = silu(p) with p = z[r, j] + b[j]; ds[r, j] = silu'(p) = σ(p)(1 + p(1 − σ(p))).
/// (The forward pass of a Jacobian-vector product: `ds` scales the tangents.)
#[inline(always)]
fn fwd_deriv_body<const FMA: bool>(z: &mut [f32], b: &[f32], ds: &mut [f32]) {
    let o = b.len();
    for (zr, dr) in z.chunks_exact_mut(o).zip(ds.chunks_exact_mut(o)) {
        for j in 0..o {
            let p = zr[j] + b[j];
            let sg = sigmoid::<FMA>(p);
            zr[j] = p * sg;
            dr[j] = sg * madd::<FMA>(p, 1.0 - sg, 1.0);
        }
    }
}

/// In place: every block of `s.len()` numbers of `t` is multiplied by `s`, element by element
/// (the tangents of all probes times the activation's derivative at the primal rows).
#[inline(always)]
fn scale_blocks_body<const FMA: bool>(t: &mut [f32], s: &[f32]) {
    let len = s.len();
    for block in t.chunks_exact_mut(len) {
        for (a, b) in block.iter_mut().zip(s) {
            *a *= b;
        }
    }
}

/// Segment k of `z` (z.len()/a.len() numbers): p = z + a[k]; z = p, s = σ(p), y = p σ(p).
#[inline(always)]
fn shift_fwd_body<const FMA: bool>(z: &mut [f32], a: &[f32], y: &mut [f32], s: &mut [f32]) {
    let len = z.len() / a.len().max(1);
    for (((zr, yr), sr), &ak) in
        z.chunks_exact_mut(len).zip(y.chunks_exact_mut(len)).zip(s.chunks_exact_mut(len)).zip(a)
    {
        for j in 0..len {
            let p = zr[j] + ak;
            let sg = sigmoid::<FMA>(p);
            zr[j] = p;
            sr[j] = sg;
            yr[j] = p * sg;
        }
    }
}

/// Segment k as in [`shift_fwd_body`]: d = g σ(p)(1 + p(1 − σ(p))); dx += d and da[k] += Σ d.
#[inline(always)]
fn shift_bwd_body<const FMA: bool>(p: &[f32], s: &[f32], g: &[f32], dx: &mut [f32], da: &mut [f32]) {
    let len = p.len() / da.len().max(1);
    let rows = p.chunks_exact(len).zip(s.chunks_exact(len)).zip(g.chunks_exact(len)).zip(dx.chunks_exact_mut(len));
    for ((((pr, sr), gr), dr), dak) in rows.zip(da) {
        let mut sum = 0.0;
        for j in 0..len {
            let sg = sr[j];
            let d = gr[j] * sg * madd::<FMA>(pr[j], 1.0 - sg, 1.0);
            dr[j] += d;
            sum += d;
        }
        *dak += sum;
    }
}

/// z[r, j] += b[j] (no activation).
#[inline(always)]
fn bias_body(z: &mut [f32], b: &[f32]) {
    let o = b.len();
    for zr in z.chunks_exact_mut(o) {
        for j in 0..o {
            zr[j] += b[j];
        }
    }
}

/// z[r, j] += b[j]; y = max(z, 0) (ReLU, for the coupling conditioners of `flowpass.rs`).
#[inline(always)]
fn relu_fwd_body<const FMA: bool>(z: &mut [f32], b: &[f32], y: &mut [f32]) {
    let o = b.len();
    for (zr, yr) in z.chunks_exact_mut(o).zip(y.chunks_exact_mut(o)) {
        for j in 0..o {
            let p = zr[j] + b[j];
            zr[j] = p;
            yr[j] = p.max(0.0);
        }
    }
}

/// In place: g <- g * [z > 0]; also gb[j] += sum_r of it.
#[inline(always)]
fn relu_bwd_body<const FMA: bool>(g: &mut [f32], z: &[f32], gb: &mut [f32]) {
    let o = gb.len();
    for (gr, zr) in g.chunks_exact_mut(o).zip(z.chunks_exact(o)) {
        for j in 0..o {
            let d = if zr[j] > 0.0 { gr[j] } else { 0.0 };
            gr[j] = d;
            gb[j] += d;
        }
    }
}

// ---- runtime dispatch -------------------------------------------------------

use crate::numeric::{simd_level as level, SimdLevel as Level};

macro_rules! dispatch {
    ($name:ident, $body:ident, ($($arg:ident : $ty:ty),*)) => {
        pub(crate) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn k512($($arg: $ty),*) { $body::<true>($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn k256($($arg: $ty),*) { $body::<true>($($arg),*) }
                match level() {
                    // SAFETY: the CPU features were detected at run time.
                    Level::Avx512 => return unsafe { k512($($arg),*) },
                    Level::Avx2 => return unsafe { k256($($arg),*) },
                    Level::Base => {}
                }
            }
            $body::<false>($($arg),*)
        }
    };
}

dispatch!(silu_fwd_train, fwd_train_body, (z: &mut [f32], b: &[f32], y: &mut [f32], s: &mut [f32]));
dispatch!(silu_shift_fwd, shift_fwd_body, (z: &mut [f32], a: &[f32], y: &mut [f32], s: &mut [f32]));
dispatch!(silu_shift_bwd, shift_bwd_body, (p: &[f32], s: &[f32], g: &[f32], dx: &mut [f32], da: &mut [f32]));
dispatch!(silu_fwd_infer, fwd_infer_body, (z: &mut [f32], b: &[f32]));
dispatch!(silu_bwd, bwd_body, (p: &mut [f32], s: &[f32], g: &[f32], gb: &mut [f32]));
dispatch!(silu_fwd_deriv, fwd_deriv_body, (z: &mut [f32], b: &[f32], ds: &mut [f32]));
dispatch!(scale_blocks, scale_blocks_body, (t: &mut [f32], s: &[f32]));
dispatch!(relu_fwd, relu_fwd_body, (z: &mut [f32], b: &[f32], y: &mut [f32]));
dispatch!(relu_bwd, relu_bwd_body, (g: &mut [f32], z: &[f32], gb: &mut [f32]));

// ---- thin matmuls (one side has <= 8 columns): cheaper than gemm's packing -------------

/// out[r, :] (+)= sum_k small[r, k] * wide[k, :]   (small: n x s, wide: s x w, out: n x w)
#[inline(always)]
fn rows_small_times_wide_body<const FMA: bool>(small: &[f32], wide: &[f32], out: &mut [f32], s: usize, acc: bool) {
    let w = wide.len() / s;
    for (sr, or) in small.chunks_exact(s).zip(out.chunks_exact_mut(w)) {
        if !acc {
            or.fill(0.0);
        }
        for k in 0..s {
            let a = sr[k];
            let wk = &wide[k * w..(k + 1) * w];
            for j in 0..w {
                or[j] = madd::<FMA>(a, wk[j], or[j]);
            }
        }
    }
}

/// out[k, :] += sum_r small[r, k] * wide[r, :]   (small: n x s, wide: n x w, out: s x w)
#[inline(always)]
fn small_t_times_wide_body<const FMA: bool>(small: &[f32], wide: &[f32], out: &mut [f32], s: usize) {
    let w = out.len() / s;
    for (sr, wr) in small.chunks_exact(s).zip(wide.chunks_exact(w)) {
        for k in 0..s {
            let a = sr[k];
            let ok = &mut out[k * w..(k + 1) * w];
            for j in 0..w {
                ok[j] = madd::<FMA>(a, wr[j], ok[j]);
            }
        }
    }
}

/// out[r, o] (+)= dot(a[r, :], b[o, :])   (a: n x w, b: s x w, out: n x s), 16 partial sums.
#[inline(always)]
fn dots_body<const FMA: bool>(a: &[f32], b: &[f32], out: &mut [f32], s: usize, acc: bool) {
    let w = b.len() / s;
    for (ar, or) in a.chunks_exact(w).zip(out.chunks_exact_mut(s)) {
        for o in 0..s {
            let br = &b[o * w..(o + 1) * w];
            let mut p = [0.0f32; 16];
            let (ac, bc) = (ar.chunks_exact(16), br.chunks_exact(16));
            let (at, bt) = (ac.remainder(), bc.remainder());
            for (x, y) in ac.zip(bc) {
                for l in 0..16 {
                    p[l] = madd::<FMA>(x[l], y[l], p[l]);
                }
            }
            let mut t: f32 = p.iter().sum();
            for (x, y) in at.iter().zip(bt) {
                t = madd::<FMA>(*x, *y, t);
            }
            or[o] = if acc { or[o] + t } else { t };
        }
    }
}

dispatch!(rows_small_times_wide, rows_small_times_wide_body, (small: &[f32], wide: &[f32], out: &mut [f32], s: usize, acc: bool));
dispatch!(small_t_times_wide, small_t_times_wide_body, (small: &[f32], wide: &[f32], out: &mut [f32], s: usize));
dispatch!(dots, dots_body, (a: &[f32], b: &[f32], out: &mut [f32], s: usize, acc: bool));

/// z[r, j] += b[j] (no activation).
pub(crate) fn add_bias(z: &mut [f32], b: &[f32]) {
    bias_body(z, b)
}

/// z += a, element by element.
pub(crate) fn add_into(z: &mut [f32], a: &[f32]) {
    for (z, a) in z.iter_mut().zip(a) {
        *z += a;
    }
}

/// gb[j] += sum_r g[r, j].
pub(crate) fn col_sums(g: &[f32], gb: &mut [f32]) {
    let o = gb.len();
    for r in g.chunks_exact(o) {
        for j in 0..o {
            gb[j] += r[j];
        }
    }
}

/// out (c × r) = transpose of w (r × c).
pub(crate) fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}

/// Reference scalar SiLU (libm exp), for tests.
#[cfg(test)]
fn silu_exact(x: f64) -> f64 {
    x / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn silu_matches_exact() {
        let n = 200_001;
        let xs: Vec<f32> = (0..n).map(|i| -100.0 + 200.0 * i as f32 / (n - 1) as f32).collect();
        let mut z = xs.clone();
        let b = [0.0f32];
        let (mut y, mut s) = (vec![0.0; n], vec![0.0; n]);
        silu_fwd_train(&mut z, &b, &mut y, &mut s);
        let mut worst = 0.0f64;
        for (i, &x) in xs.iter().enumerate() {
            let e = silu_exact(x as f64);
            let err = (y[i] as f64 - e).abs() / e.abs().max(1.0);
            worst = worst.max(err);
        }
        assert!(worst < 1e-6, "worst {worst}");
        // derivative
        let g = vec![1.0f32; n];
        let mut gb = [0.0f32];
        let mut p = z.clone();
        silu_bwd(&mut p, &s, &g, &mut gb);
        for (i, &x) in xs.iter().enumerate() {
            let x = x as f64;
            let sg = 1.0 / (1.0 + (-x).exp());
            let d = sg * (1.0 + x * (1.0 - sg));
            assert!((p[i] as f64 - d).abs() < 2e-6, "x {x} got {} want {d}", p[i]);
        }
    }
}

#[cfg(test)]
mod relu_tests {
    use super::*;

    #[test]
    fn relu_kernels_match_the_definition() {
        let z0: Vec<f32> = (0..96).map(|i| (i as f32 - 47.5) * 0.37).collect();
        let b = [0.25f32, -0.5, 1.0];
        let (mut z, mut y) = (z0.clone(), vec![0.0; 96]);
        relu_fwd(&mut z, &b, &mut y);
        for i in 0..96 {
            let p = z0[i] + b[i % 3];
            assert_eq!(z[i], p);
            assert_eq!(y[i], p.max(0.0));
        }
        let mut g: Vec<f32> = (0..96).map(|i| 1.0 + i as f32).collect();
        let mut gb = [0.0f32; 3];
        relu_bwd(&mut g, &z, &mut gb);
        let mut want = [0.0f32; 3];
        for i in 0..96 {
            let d = if z[i] > 0.0 { 1.0 + i as f32 } else { 0.0 };
            assert_eq!(g[i], d);
            want[i % 3] += d;
        }
        assert_eq!(gb, want);
    }
}
