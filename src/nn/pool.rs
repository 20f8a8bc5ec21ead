//! A std-only fork-join pool with a fixed number of persistent workers.
//!
//! A job is `tasks` independent calls `f(0..tasks)`. The calling thread and the workers claim
//! task indices from a shared counter, so when a worker is slow to wake (a busy machine) the
//! caller simply runs the remaining tasks itself. Which thread runs a task never changes what
//! the task computes.
//!
//! ```text
//! run(tasks, f):  f(0), f(1), …, f(tasks − 1), each exactly once, on the caller and the workers
//! ```

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
        keep_freed_memory();
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

/// Asks glibc to keep freed memory in the heap instead of handing it back to the kernel.
///
/// glibc returns large freed blocks (`munmap`) and the top of the heap (trimming) eagerly. In a
/// process with worker threads each return makes the kernel interrupt the other cores to flush
/// their address translations, and the next step faults the same pages in again. A U-Net
/// training step allocates and frees about a hundred megabytes of activations (dfdx gives every
/// op a fresh output), and on two cores those returns cost 40 % of the step (30 against 51
/// steps per second). Raising glibc's mmap threshold to its maximum (32 MiB) and its trim
/// threshold to 1 GiB keeps the memory for the next step. `FLOWMATCH_KEEP_FREED=0` leaves
/// glibc's defaults (for measuring the difference). Other platforms are left as they are.
fn keep_freed_memory() {
    if std::env::var("FLOWMATCH_KEEP_FREED").is_ok_and(|v| v.trim() == "0") {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        // SAFETY: mallopt only changes glibc's allocation thresholds; it is safe to call at any time.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// How many parts work is split into (the configured thread count; fixed per process).
pub(crate) fn threads() -> usize {
    pool().threads
}

/// Claims and runs tasks of the current job until none is left.
fn claim_and_run(sh: &Shared) {
    loop {
        let i = sh.next.fetch_add(1, Ordering::AcqRel);
        if i >= sh.tasks.load(Ordering::Acquire) {
            return;
        }
        // SAFETY: see `Shared`: a claimed index means the job is published and still alive.
        let f = unsafe { &*(*sh.job.get()).expect("a job is published before its tasks can be claimed") };
        if catch_unwind(AssertUnwindSafe(|| f(i))).is_err() {
            sh.panicked.store(true, Ordering::SeqCst);
        }
        sh.done.fetch_add(1, Ordering::AcqRel);
    }
}

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
        claim_and_run(sh);
    }
}

/// Calls `f(i)` for every `i` in `0..tasks`, on the pool's threads when it is free and
/// serially otherwise (nested calls, or another thread using it). Either way each `f(i)`
/// does the same work, so results do not depend on which thread ran it.
pub(crate) fn run(tasks: usize, f: &(dyn Fn(usize) + Sync)) {
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
    claim_and_run(sh);
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
