//! The fast CPU path of the SiLU [`Mlp`](crate::model::Mlp): fused dfdx ops for training
//! and a tape-free forward pass for sampling.
//!
//! * Parameters stay in the ordinary dfdx `Linear` / `UnbiasedLinear` modules, so dfdx's
//!   `Adam`, `ZeroGrads` and safetensors checkpoints keep working unchanged.
//! * Each layer is one dfdx op with its own backward: `y = silu(x Wᵀ + b)` ([`linear_act`]),
//!   written with public dfdx 0.13 APIs only (`split_tape`, `Tape::add_backward_op`,
//!   `Gradients::get_or_alloc_mut`, `copy_into`, `tensor_from_vec`). The matmuls call gemm 0.19
//!   (AVX-512 on stable, detected at run time) and the activation uses the vectorised kernels
//!   of [`crate::act`]; the first layer ([`first_layer`]) sums `W_x x` and `W_t τ` before the SiLU.
//! * [`Frozen`] snapshots the weights once and evaluates the network on plain buffers, in
//!   chunks of [`CHUNK`] rows (so the activations stay in L2), spread over the worker threads.
//!
//! Work is split over a small fork-join pool ([`pool`]) whose thread count is fixed per
//! process (`FLOWMATCH_THREADS`, else `RAYON_NUM_THREADS`, else the number of CPUs). Every split
//! is a fixed function of the problem size and that count, and partial sums are added in a
//! fixed order, so results never depend on thread timing.

use crate::act;
use crate::model::{MlpNet, TimeEmbedding};
use dfdx::nn::modules::{Linear, UnbiasedLinear};
use dfdx::prelude::*;
use gemm19 as gemm;

/// Rows per chunk of the tape-free forward pass (500 × 256 activations stay in L2).
pub(crate) const CHUNK: usize = 512;

/// Layers with at most this many inputs or outputs skip gemm (its packing costs more than the work).
const THIN: usize = 32;

/// A std-only fork-join pool with a fixed number of persistent workers.
///
/// A job is `tasks` independent calls `f(0..tasks)`. The calling thread and the workers claim
/// task indices from a shared counter, so when a worker is slow to wake (a busy machine) the
/// caller simply runs the remaining tasks itself. Which thread runs a task never changes what
/// the task computes.
pub mod pool {
    use std::cell::UnsafeCell;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, OnceLock, TryLockError};

    /// Spins (busy-wait iterations) before a waiting thread starts yielding.
    const SPINS: u32 = 1 << 14;
    /// Yields before an idle worker goes to sleep on the condition variable.
    const YIELDS: u32 = 1 << 10;

    type Job = *const (dyn Fn(usize) + Sync + 'static);

    /// `next` between jobs: no claim can succeed, even one that lands late.
    const IDLE: usize = usize::MAX / 2;

    struct Shared {
        /// Bumped for every job: wakes the workers.
        epoch: AtomicUsize,
        job: UnsafeCell<Option<Job>>,
        tasks: AtomicUsize,
        /// The next unclaimed task index ([`IDLE`] between jobs).
        next: AtomicUsize,
        /// Tasks finished in the current job.
        done: AtomicUsize,
        sleepers: AtomicUsize,
        panicked: AtomicBool,
        lock: Mutex<()>,
        wake: Condvar,
    }

    // SAFETY: `job` and `tasks` are written only by the thread that holds `Pool::busy`, between
    // jobs (every task of the previous job is done and none can be claimed), before `next` is
    // reset with Release. A worker reads `job` only after claiming an index below `tasks` from
    // `next` (Acquire), and the caller does not return before `done` shows that task finished.
    unsafe impl Sync for Shared {}

    struct Pool {
        threads: usize,
        workers: usize,
        busy: Mutex<()>,
        shared: &'static Shared,
    }

    fn configured() -> usize {
        let from_env = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0);
        from_env("FLOWMATCH_THREADS")
            .or_else(|| from_env("RAYON_NUM_THREADS"))
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
            .clamp(1, 64)
    }

    fn pool() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| {
            let threads = configured();
            let shared: &'static Shared = Box::leak(Box::new(Shared {
                epoch: AtomicUsize::new(0),
                job: UnsafeCell::new(None),
                tasks: AtomicUsize::new(0),
                next: AtomicUsize::new(IDLE),
                done: AtomicUsize::new(0),
                sleepers: AtomicUsize::new(0),
                panicked: AtomicBool::new(false),
                lock: Mutex::new(()),
                wake: Condvar::new(),
            }));
            let mut workers = 0;
            for w in 1..threads {
                let spawned = std::thread::Builder::new().name(format!("flowmatch-{w}")).spawn(move || worker(shared));
                if spawned.is_err() {
                    break;
                }
                workers += 1;
            }
            Pool { threads, workers, busy: Mutex::new(()), shared }
        })
    }

    /// How many parts work is split into (the configured thread count; fixed per process).
    pub(crate) fn threads() -> usize {
        pool().threads
    }

    /// Claims and runs tasks of the current job until none is left.
    fn claim_and_run(sh: &Shared) -> usize {
        let mut c = 0;
        loop {
            let i = sh.next.fetch_add(1, Ordering::AcqRel);
            if i >= sh.tasks.load(Ordering::Acquire) {
                return c;
            }
            c += 1;
            // SAFETY: see `Shared`: a claimed index means the job is published and still alive.
            let f = unsafe { &*(*sh.job.get()).expect("a job is published before its tasks can be claimed") };
            if catch_unwind(AssertUnwindSafe(|| f(i))).is_err() {
                sh.panicked.store(true, Ordering::SeqCst);
            }
            sh.done.fetch_add(1, Ordering::AcqRel);
        }
    }

    #[doc(hidden)]
    pub static DBG: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];
    fn worker(sh: &'static Shared) {
        let mut seen = 0;
        loop {
            let mut spins = 0u32;
            loop {
                let e = sh.epoch.load(Ordering::SeqCst);
                if e != seen {
                    seen = e;
                    break;
                }
                if spins < SPINS {
                    std::hint::spin_loop();
                } else if spins < SPINS + YIELDS {
                    std::thread::yield_now();
                } else {
                    DBG[2].fetch_add(1, Ordering::Relaxed);
                    let mut g = sh.lock.lock().unwrap_or_else(|p| p.into_inner());
                    sh.sleepers.fetch_add(1, Ordering::SeqCst);
                    while sh.epoch.load(Ordering::SeqCst) == seen {
                        g = sh.wake.wait(g).unwrap_or_else(|p| p.into_inner());
                    }
                    sh.sleepers.fetch_sub(1, Ordering::SeqCst);
                    spins = 0;
                    continue;
                }
                spins += 1;
            }
            DBG[1].fetch_add(claim_and_run(sh), Ordering::Relaxed);
        }
    }

    /// Calls `f(i)` for every `i` in `0..tasks`, on the pool's threads when it is free and
    /// serially otherwise (nested calls, or another thread using it). Either way each `f(i)`
    /// does the same work, so results do not depend on which thread ran it.
    pub fn run(tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        let p = pool();
        let serial = || (0..tasks).for_each(f);
        if tasks <= 1 || p.workers == 0 {
            return serial();
        }
        let _guard = match p.busy.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(g)) => g.into_inner(),
            Err(TryLockError::WouldBlock) => return serial(),
        };
        let sh = p.shared;
        // SAFETY: the lifetime is erased only while this call blocks until every task is done.
        let job: Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), Job>(f) };
        unsafe { *sh.job.get() = Some(job) };
        sh.tasks.store(tasks, Ordering::Release);
        sh.done.store(0, Ordering::Release);
        sh.next.store(0, Ordering::Release);
        sh.epoch.fetch_add(1, Ordering::SeqCst);
        if sh.sleepers.load(Ordering::SeqCst) > 0 {
            let _g = sh.lock.lock().unwrap_or_else(|p| p.into_inner());
            sh.wake.notify_all();
        }
        DBG[0].fetch_add(claim_and_run(sh), Ordering::Relaxed);
        let mut spins = 0u32;
        while sh.done.load(Ordering::Acquire) != tasks {
            if spins < SPINS {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
        // Every task is done; make late claims fail before the job goes.
        sh.next.store(IDLE, Ordering::SeqCst);
        unsafe { *sh.job.get() = None };
        if sh.panicked.swap(false, Ordering::SeqCst) {
            panic!("a flowmatch worker task panicked");
        }
    }

    /// Calls `f(i, &mut items[i])` for every item; item `i` goes to part `i % threads()`.
    pub(crate) fn for_each_mut<T: Send>(items: &mut [T], f: impl Fn(usize, &mut T) + Sync) {
        let parts = threads().min(items.len());
        if parts <= 1 {
            items.iter_mut().enumerate().for_each(|(i, it)| f(i, it));
            return;
        }
        struct Items<T>(*mut T, usize);
        // SAFETY: part `k` touches only the items with index ≡ k (mod parts): disjoint.
        unsafe impl<T: Send> Sync for Items<T> {}
        let items = Items(items.as_mut_ptr(), items.len());
        let items = &items;
        run(parts, &|k| {
            let mut i = k;
            while i < items.1 {
                f(i, unsafe { &mut *items.0.add(i) });
                i += parts;
            }
        });
    }

    /// Splits `0..n` into `parts` contiguous ranges whose boundaries are multiples of `align`.
    pub(crate) fn ranges(n: usize, parts: usize, align: usize) -> Vec<std::ops::Range<usize>> {
        let per = n.div_ceil(parts.max(1)).div_ceil(align) * align;
        (0..parts).map(|k| (k * per).min(n)..((k + 1) * per).min(n)).filter(|r| !r.is_empty()).collect()
    }
}

/// Splits a row-major buffer of rows `width` long into the given row ranges.
fn split_rows<'a>(mut buf: &'a mut [f32], width: usize, ranges: &[std::ops::Range<usize>]) -> Vec<&'a mut [f32]> {
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
fn mm(
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
    if k == 0 {
        if !acc {
            for i in 0..m {
                for j in 0..n {
                    dst[i * drs + j * dcs] = 0.0;
                }
            }
        }
        return;
    }
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

/// `out (m × o) = inp (m × k) · Wᵀ` for a weight `W (o × k)` given also as `wt = Wᵀ (k × o)`.
/// Thin `k` uses the row kernel, otherwise gemm; either way each row depends only on its input row.
fn affine_in(inp: &[f32], w: &[f32], wt: &[f32], out: &mut [f32], k: usize, o: usize) {
    let m = out.len() / o;
    if k <= THIN {
        act::rows_small_times_wide(inp, wt, out, k, false);
    } else {
        mm((m, o, k), out, (o, 1), false, inp, (k, 1), w, (1, k));
    }
}

#[allow(clippy::uninit_vec)]
fn buf(n: usize) -> Vec<f32> {
    // Every caller fully overwrites the buffer before reading it.
    let mut v = Vec::with_capacity(n);
    // SAFETY: f32 has no invalid bit patterns, and the contents are written before being read.
    unsafe { v.set_len(n) };
    v
}

fn data<S: dfdx::shapes::Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Vec<f32> {
    let mut v = buf(t.shape().num_elements());
    t.copy_into(&mut v);
    v
}

/// Row ranges for splitting a batch of `n` rows over the pool (16-row aligned, for gemm's kernels).
fn row_parts(n: usize) -> Vec<std::ops::Range<usize>> {
    let t = pool::threads();
    // Small batches are not worth a fork-join.
    let t = if n < 32 { 1 } else { t };
    pool::ranges(n, t, 16)
}

/// Reads several gradient buffers at once: `(dL/dout, [dL/dparams…])`.
///
/// # Safety of the result
/// The entries must belong to tensors with different ids (distinct heap buffers); the caller
/// must not insert into `grads` while the slices are alive. All entries are allocated first.
macro_rules! grad_slices {
    ($grads:expr, $out:expr; $($t:expr),*) => {{
        $( $grads.try_alloc_for($t)?; )*
        $grads.try_alloc_for($out)?;
        let go: *const [f32] = &$grads.get_or_alloc_mut($out)?[..];
        // SAFETY: distinct tensors have distinct gradient buffers (see above), and the map is
        // not modified while these slices are alive, so the buffers neither move nor alias.
        unsafe {
            (&*go, ( $( &mut *(&mut $grads.get_or_alloc_mut($t)?[..] as *mut [f32]), )* ))
        }
    }};
}

/// `y = act(x Wᵀ + b)` as one dfdx op (`silu = false`: the plain affine layer).
/// `input_grad = false` skips dL/dx.
pub(crate) fn linear_act<const I: usize, const O: usize, T: Tape<f32, Cpu>>(
    x: Tensor<(usize, Const<I>), f32, Cpu, T>,
    lin: &Linear<I, O, f32, Cpu>,
    silu: bool,
    input_grad: bool,
) -> Tensor<(usize, Const<O>), f32, Cpu, T> {
    let n = x.shape().0;
    let t0 = std::time::Instant::now();
    let (x, mut tape) = x.split_tape();
    let train = T::OWNS_TAPE;
    let xb = data(&x);
    let w = data(&lin.weight);
    let b = data(&lin.bias);
    let (thin_in, thin_out) = (I <= THIN, O <= THIN && I > THIN);
    let wt = if thin_in { act::transpose(&w, O, I) } else { Vec::new() }; // I × O

    let parts = row_parts(n);
    pool::DBG[3].fetch_add(t0.elapsed().as_nanos() as usize, std::sync::atomic::Ordering::Relaxed);
    let mut z = buf(n * O); // pre-activation (training) or output
    let (mut y, mut s) = if train && silu { (buf(n * O), buf(n * O)) } else { (Vec::new(), Vec::new()) };
    {
        let zs = split_rows(&mut z, O, &parts);
        let ys = split_rows(&mut y, if train && silu { O } else { 0 }, &parts);
        let ss = split_rows(&mut s, if train && silu { O } else { 0 }, &parts);
        let mut items: Vec<_> = parts.iter().cloned().zip(zs).zip(ys.into_iter().zip(ss)).collect();
        pool::for_each_mut(&mut items, |_, ((rows, z), (y, s))| {
            let xr = &xb[rows.start * I..rows.end * I];
            if thin_in {
                act::rows_small_times_wide(xr, &wt, z, I, false);
            } else if thin_out {
                act::dots(xr, &w, z, O, false);
            } else {
                mm((rows.len(), O, I), z, (O, 1), false, xr, (I, 1), &w, (1, I));
            }
            if !silu {
                act::add_bias(z, &b);
            } else if train {
                act::silu_fwd_train(z, &b, y, s); // z becomes the pre-activation
            } else {
                act::silu_fwd_infer(z, &b);
            }
        });
    }
    if I > THIN && O > THIN { pool::DBG[4].fetch_add(t0.elapsed().as_nanos() as usize, std::sync::atomic::Ordering::Relaxed); }
    let out_data = if train && silu { std::mem::take(&mut y) } else { std::mem::take(&mut z) };
    let out = x.device().tensor_from_vec(out_data, (n, Const::<O>));
    if !train {
        return out.put_tape(tape);
    }

    let (xg, wg, bg, og) = (x.ghost(), lin.weight.ghost(), lin.bias.ghost(), out.ghost());
    tape.add_backward_op(move |grads| {
        if input_grad {
            grads.try_alloc_for(&xg)?;
        }
        let (go, (gw, gb)) = grad_slices!(grads, &og; &wg, &bg);
        // gp = dL/d(pre-activation), built row-parallel together with dL/dx.
        let mut gp = if silu { z } else { go.to_vec() };
        let mut gbs = vec![0.0f32; parts.len() * O];
        let gx: Option<&mut [f32]> = if input_grad {
            let p: *mut [f32] = &mut grads.get_or_alloc_mut(&xg)?[..];
            // SAFETY: `xg` is yet another tensor (distinct buffer); no insertion follows.
            Some(unsafe { &mut *p })
        } else {
            None
        };
        {
            let gps = split_rows(&mut gp, O, &parts);
            let gxs: Vec<Option<&mut [f32]>> = match gx {
                Some(gx) => split_rows(gx, I, &parts).into_iter().map(Some).collect(),
                None => (0..parts.len()).map(|_| None).collect(),
            };
            let mut items: Vec<_> =
                parts.iter().cloned().zip(gps).zip(gbs.chunks_exact_mut(O).zip(gxs)).collect();
            pool::for_each_mut(&mut items, |_, ((rows, gp), (gb, gx))| {
                let gor = &go[rows.start * O..rows.end * O];
                if silu {
                    act::silu_bwd(gp, &s[rows.start * O..rows.end * O], gor, gb);
                } else {
                    act::col_sums(gp, gb);
                }
                if let Some(gx) = gx {
                    if thin_in {
                        act::dots(gp, &wt, gx, I, true);
                    } else if thin_out {
                        act::rows_small_times_wide(gp, &w, gx, O, true);
                    } else {
                        mm((rows.len(), I, O), gx, (I, 1), true, gp, (O, 1), &w, (I, 1));
                    }
                }
            });
        }
        for part in gbs.chunks_exact(O) {
            act::add_into(gb, part);
        }
        // dW += gpᵀ x (a sum over rows): split over the rows of dW instead.
        if thin_in {
            let mut gwt = vec![0.0f32; I * O];
            act::small_t_times_wide(&xb, &gp, &mut gwt, I); // I × O
            for o in 0..O {
                for i in 0..I {
                    gw[o * I + i] += gwt[i * O + o];
                }
            }
        } else if thin_out {
            act::small_t_times_wide(&gp, &xb, gw, O);
        } else {
            let oparts = row_parts(O);
            let mut items: Vec<_> = oparts.iter().cloned().zip(split_rows(gw, I, &oparts)).collect();
            pool::for_each_mut(&mut items, |_, (orows, gw)| {
                mm((orows.len(), I, n), gw, (I, 1), true, &gp[orows.start..], (1, O), &xb, (I, 1));
            });
        }
        Ok(())
    });
    out.put_tape(tape)
}

/// The first layer, `h = silu(W_x x + W_t τ + b)`, as one dfdx op (no gradient for `x` or `τ`).
/// `tau` is the `n × TF` time embedding; the tape comes with `x`.
pub(crate) fn first_layer<const D: usize, const TF: usize, const H: usize, T: Tape<f32, Cpu>>(
    x: Tensor<(usize, Const<D>), f32, Cpu, T>,
    tau: Vec<f32>,
    x_in: &Linear<D, H, f32, Cpu>,
    t_in: &UnbiasedLinear<TF, H, f32, Cpu>,
) -> Tensor<(usize, Const<H>), f32, Cpu, T> {
    let n = x.shape().0;
    assert_eq!(tau.len(), n * TF, "one row of time features per point");
    let (x, mut tape) = x.split_tape();
    let train = T::OWNS_TAPE;
    let xb = data(&x);
    let w = FirstLayer::new(x_in, t_in);
    let parts = row_parts(n);
    let mut z = buf(n * H);
    let (mut y, mut s) = if train { (buf(n * H), buf(n * H)) } else { (Vec::new(), Vec::new()) };
    {
        let width = if train { H } else { 0 };
        let (zs, ys, ss) = (split_rows(&mut z, H, &parts), split_rows(&mut y, width, &parts), split_rows(&mut s, width, &parts));
        let mut items: Vec<_> = parts.iter().cloned().zip(zs).zip(ys.into_iter().zip(ss)).collect();
        pool::for_each_mut(&mut items, |_, ((rows, z), (y, s))| {
            let mut tp = buf(rows.len() * H);
            w.pre(&xb[rows.start * D..rows.end * D], &tau[rows.start * TF..rows.end * TF], z, &mut tp);
            if train {
                act::silu_fwd_train(z, &w.b, y, s);
            } else {
                act::silu_fwd_infer(z, &w.b);
            }
        });
    }
    let out = x.device().tensor_from_vec(if train { std::mem::take(&mut y) } else { std::mem::take(&mut z) }, (n, Const::<H>));
    if !train {
        return out.put_tape(tape);
    }
    let (wxg, bg, wtg, og) = (x_in.weight.ghost(), x_in.bias.ghost(), t_in.weight.ghost(), out.ghost());
    tape.add_backward_op(move |grads| {
        let (go, (gwx, gb, gwt)) = grad_slices!(grads, &og; &wxg, &bg, &wtg);
        let mut gp = z;
        // Per part: dL/d(pre-activation) rows and partial sums for b, W_xᵀ (D × H) and W_tᵀ (TF × H).
        let mut partial = vec![0.0f32; parts.len() * H * (1 + D + TF)];
        {
            let gps = split_rows(&mut gp, H, &parts);
            let mut items: Vec<_> = parts.iter().cloned().zip(gps).zip(partial.chunks_exact_mut(H * (1 + D + TF))).collect();
            pool::for_each_mut(&mut items, |_, ((rows, gp), acc)| {
                let (gbp, rest) = acc.split_at_mut(H);
                let (gwxt, gwtt) = rest.split_at_mut(D * H);
                act::silu_bwd(gp, &s[rows.start * H..rows.end * H], &go[rows.start * H..rows.end * H], gbp);
                act::small_t_times_wide(&xb[rows.start * D..rows.end * D], gp, gwxt, D);
                act::small_t_times_wide(&tau[rows.start * TF..rows.end * TF], gp, gwtt, TF);
            });
        }
        for acc in partial.chunks_exact(H * (1 + D + TF)) {
            let (gbp, rest) = acc.split_at(H);
            let (gwxt, gwtt) = rest.split_at(D * H);
            act::add_into(gb, gbp);
            for j in 0..H {
                for i in 0..D {
                    gwx[j * D + i] += gwxt[i * H + j];
                }
                for i in 0..TF {
                    gwt[j * TF + i] += gwtt[i * H + j];
                }
            }
        }
        Ok(())
    });
    out.put_tape(tape)
}

/// The first layer's weights in the layout of its row kernels.
struct FirstLayer {
    d: usize,
    tf: usize,
    h: usize,
    wx: Vec<f32>,  // H × D
    wxt: Vec<f32>, // D × H
    wt: Vec<f32>,  // H × TF
    wtt: Vec<f32>, // TF × H
    b: Vec<f32>,
}

impl FirstLayer {
    fn new<const D: usize, const TF: usize, const H: usize>(
        x_in: &Linear<D, H, f32, Cpu>,
        t_in: &UnbiasedLinear<TF, H, f32, Cpu>,
    ) -> Self {
        let (wx, wt) = (data(&x_in.weight), data(&t_in.weight));
        FirstLayer {
            d: D,
            tf: TF,
            h: H,
            wxt: act::transpose(&wx, H, D),
            wtt: act::transpose(&wt, H, TF),
            wx,
            wt,
            b: data(&x_in.bias),
        }
    }

    /// The time part `W_t τ` for rows of time features.
    fn time_part(&self, tau: &[f32], out: &mut [f32]) {
        affine_in(tau, &self.wt, &self.wtt, out, self.tf, self.h);
    }

    /// `z = W_x x + W_t τ` (the bias is added by the activation kernel); `tp` is scratch.
    fn pre(&self, x: &[f32], tau: &[f32], z: &mut [f32], tp: &mut [f32]) {
        affine_in(x, &self.wx, &self.wxt, z, self.d, self.h);
        self.time_part(tau, tp);
        act::add_into(z, tp);
    }
}

/// The time input of a tape-free evaluation.
#[derive(Clone, Copy)]
pub(crate) enum Times<'a> {
    /// The same t for every row.
    Same(f64),
    /// One t per row.
    PerRow(&'a [f64]),
}

/// The weights of an SiLU `MlpNet`, copied out once for tape-free evaluation on plain buffers.
pub(crate) struct Frozen {
    first: FirstLayer,
    emb: TimeEmbedding,
    hidden: [(Vec<f32>, Vec<f32>); 2], // (W (H × H), b)
    out_w: Vec<f32>,                   // D × H
    out_b: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Frozen {
    pub(crate) fn new<const D: usize, const H: usize, const TF: usize>(net: &MlpNet<D, H, TF, f32, Cpu>, emb: TimeEmbedding) -> Self {
        let out_w = data(&net.out.weight);
        Frozen {
            first: FirstLayer::new(&net.x_in, &net.t_in),
            emb,
            hidden: [(data(&net.hidden1.weight), data(&net.hidden1.bias)), (data(&net.hidden2.weight), data(&net.hidden2.bias))],
            out_w,
            out_b: data(&net.out.bias),
        }
    }

    /// `out (n × D) = v(x (n × D), t)`, chunked and spread over the worker threads.
    pub(crate) fn eval(&self, x: &[f64], t: Times<'_>, out: &mut [f64]) {
        let (d, tf, h) = (self.first.d, self.first.tf, self.first.h);
        let n = x.len() / d;
        assert_eq!(out.len(), n * d);
        if let Times::PerRow(ts) = t {
            assert_eq!(ts.len(), n);
        }
        // For one shared t, W_t τ(t) is computed once (the same kernel as per row, so the same bits).
        let shared_tp = match t {
            Times::Same(t) => {
                let mut tp = vec![0.0f32; h];
                self.first.time_part(&self.emb.features(&[t], tf), &mut tp);
                Some(tp)
            }
            Times::PerRow(_) => None,
        };
        let mut chunks: Vec<(usize, &mut [f64])> = out.chunks_mut(CHUNK * d).enumerate().collect();
        pool::for_each_mut(&mut chunks, |_, (c, out)| {
            let r0 = *c * CHUNK;
            let m = out.len() / d;
            let xs = &x[r0 * d..(r0 + m) * d];
            SCRATCH.with(|cell| {
                let mut own = Vec::new();
                let mut guard = cell.try_borrow_mut();
                let scratch = match guard.as_mut() {
                    Ok(s) => &mut **s,
                    Err(_) => &mut own,
                };
                let need = 3 * m * h + m * d + m * tf + m * d;
                if scratch.len() < need {
                    scratch.resize(need, 0.0);
                }
                let (h1, rest) = scratch.split_at_mut(m * h);
                let (h2, rest) = rest.split_at_mut(m * h);
                let (tp, rest) = rest.split_at_mut(m * h);
                let (xf, rest) = rest.split_at_mut(m * d);
                let (tau, rest) = rest.split_at_mut(m * tf);
                let vf = &mut rest[..m * d];
                for (a, b) in xf.iter_mut().zip(xs) {
                    *a = *b as f32;
                }
                match (t, &shared_tp) {
                    (Times::PerRow(ts), _) => {
                        tau.copy_from_slice(&self.emb.features(&ts[r0..r0 + m], tf));
                        self.first.pre(xf, tau, h1, tp);
                    }
                    (Times::Same(_), Some(shared)) => {
                        affine_in(xf, &self.first.wx, &self.first.wxt, h1, d, h);
                        act::add_bias(h1, shared);
                    }
                    (Times::Same(_), None) => unreachable!("computed above"),
                }
                act::silu_fwd_infer(h1, &self.first.b);
                let [(w1, b1), (w2, b2)] = &self.hidden;
                mm((m, h, h), h2, (h, 1), false, h1, (h, 1), w1, (1, h));
                act::silu_fwd_infer(h2, b1);
                mm((m, h, h), h1, (h, 1), false, h2, (h, 1), w2, (1, h));
                act::silu_fwd_infer(h1, b2);
                if d <= THIN {
                    act::dots(h1, &self.out_w, vf, d, false);
                } else {
                    mm((m, d, h), vf, (d, 1), false, h1, (h, 1), &self.out_w, (1, h));
                }
                act::add_bias(vf, &self.out_b);
                for (o, v) in out.iter_mut().zip(vf.iter()) {
                    *o = *v as f64;
                }
            });
        });
    }
}
