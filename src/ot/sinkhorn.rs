//! Entropic optimal transport by Sinkhorn's iterations, in the log domain.
//!
//! ```text
//! π^ε = argmin_π Σ_ij π_ij C_ij + ε Σ_ij π_ij (ln π_ij − 1)   subject to  π 1 = a,  πᵀ 1 = b
//! π_ij = exp((f_i + g_j − C_ij) / ε)
//! f_i ← ε ln a_i − ε LSE_j((g_j − C_ij) / ε),     g_j ← ε ln b_j − ε LSE_i((f_i − C_ij) / ε)
//! ```
//!
//! Each half step makes one marginal exact; the loop stops when the other is
//! within the tolerance (‖π 1 − a‖₁ ≤ tol). The potentials f, g live in the
//! log domain and the kernel is taken relative to them, with scalings near 1
//! absorbed into f, g by an exact log-sum-exp step whenever they drift
//! (Schmitzer 2019): every number stays finite for small ε, where the plain
//! kernel e^{−C/ε} underflows to 0/0, and an iteration is still just two
//! matrix–vector products.

use crate::error::{Error, Result};
use crate::numeric::{check_positive, log_sum_exp, sq_dist};
use crate::points::Points;
use rand::{Rng, RngCore};

/// The settings of [`sinkhorn`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SinkhornSettings {
    /// The entropic regularisation ε, in the units of the cost (squared distance). As ε → 0
    /// the plan approaches an exact optimal plan; the larger ε, the more the plan blurs.
    pub epsilon: f64,
    /// Stop when ‖π 1 − a‖₁ ≤ tolerance (the column marginal is exact after every iteration).
    pub tolerance: f64,
    /// Give up with [`Error::NotConverged`] after this many iterations.
    pub max_iterations: usize,
}

impl Default for SinkhornSettings {
    /// ε = 0.05, tolerance 10⁻⁶, at most 10 000 iterations.
    fn default() -> Self {
        SinkhornSettings { epsilon: 0.05, tolerance: 1e-6, max_iterations: 10_000 }
    }
}

impl SinkhornSettings {
    /// The default settings with regularisation `epsilon`.
    pub fn epsilon(epsilon: f64) -> Self {
        SinkhornSettings { epsilon, ..Default::default() }
    }

    /// Errors unless ε and the tolerance are finite and > 0 and at least one iteration is allowed.
    pub fn validate(&self) -> Result<()> {
        check_positive("Sinkhorn regularisation epsilon", self.epsilon)?;
        check_positive("Sinkhorn tolerance", self.tolerance)?;
        if self.max_iterations == 0 {
            return Err(Error::ZeroCount { what: "the Sinkhorn iteration limit".into() });
        }
        Ok(())
    }
}

/// An entropic transport plan between uniform weights on n and m points.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkhornPlan {
    n: usize,
    m: usize,
    plan: Vec<f64>,
    /// Transport cost Σ_ij π_ij C_ij.
    pub cost: f64,
    /// Iterations taken.
    pub iterations: usize,
    /// ‖π 1 − a‖₁ + ‖πᵀ 1 − b‖₁ of the returned plan.
    pub marginal_error: f64,
}

impl SinkhornPlan {
    /// The plan π, row-major n × m; it sums to 1, rows to 1/n, columns to 1/m.
    pub fn plan(&self) -> &[f64] {
        &self.plan
    }

    /// (n, m): the number of source and target points.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.m)
    }

    /// Row sums Σ_j π_ij (each ≈ 1/n).
    pub fn row_sums(&self) -> Vec<f64> {
        self.plan.chunks_exact(self.m).map(|r| r.iter().sum()).collect()
    }

    /// Column sums Σ_i π_ij (each ≈ 1/m).
    pub fn column_sums(&self) -> Vec<f64> {
        let mut s = vec![0.0; self.m];
        for r in self.plan.chunks_exact(self.m) {
            for (c, p) in s.iter_mut().zip(r) {
                *c += p;
            }
        }
        s
    }

    /// For every source point i, a partner j drawn from row i of the plan, π_ij / Σ_k π_ik.
    ///
    /// Every source point is used exactly once; the targets are drawn **with
    /// replacement**, so a target point can be paired twice or not at all (the
    /// target marginal holds on average, not in each draw).
    pub fn sample_partners(&self, rng: &mut dyn RngCore) -> Vec<usize> {
        self.plan
            .chunks_exact(self.m)
            .map(|r| {
                let total: f64 = r.iter().sum();
                let mut u = rng.gen::<f64>() * total;
                for (j, p) in r.iter().enumerate() {
                    u -= p;
                    if u < 0.0 {
                        return j;
                    }
                }
                // Rounding left a sliver at the end: the last column with mass.
                r.iter().rposition(|&p| p > 0.0).unwrap_or(self.m - 1)
            })
            .collect()
    }
}

/// Largest n·m that [`sinkhorn`] accepts (the plan is stored densely).
pub const SINKHORN_MAX_ENTRIES: usize = 1 << 24;

/// The entropic optimal plan between the uniform empirical measures on `a` and
/// `b` under the squared Euclidean cost C_ij = ‖x_i − y_j‖², by log-domain
/// Sinkhorn iterations (see the module formulas).
///
/// The marginals of the returned plan are checked: their ℓ₁ error is at most
/// `settings.tolerance`, otherwise the call fails with [`Error::NotConverged`]
/// (raise ε or `max_iterations`). Each iteration costs 2·n·m exponentials.
///
/// Errors: empty sets, different dimensions, NaN/inf points, invalid settings,
/// more than [`SINKHORN_MAX_ENTRIES`] plan entries, no convergence.
pub fn sinkhorn(a: &Points, b: &Points, settings: &SinkhornSettings) -> Result<SinkhornPlan> {
    super::check_pair(a, b, "sinkhorn")?;
    settings.validate()?;
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > SINKHORN_MAX_ENTRIES {
        return Err(Error::SizeLimit {
            what: format!("sinkhorn between {n} and {m} points (the plan has n·m entries)"),
            size: n.saturating_mul(m),
            limit: SINKHORN_MAX_ENTRIES,
            hint: "Use smaller batches".into(),
        });
    }
    // Centring changes C_ij by a term of i plus a term of j, which the
    // potentials absorb: the plan is the same, the numbers smaller.
    let (ma, mb) = (a.mean(), b.mean());
    let ac = Points::from_fn(n, a.dim(), |i, k| a.row(i)[k] - ma[k]);
    let bc = Points::from_fn(m, b.dim(), |j, k| b.row(j)[k] - mb[k]);
    let mut cost = vec![0.0; n * m];
    for (i, out) in cost.chunks_exact_mut(m).enumerate() {
        for (j, o) in out.iter_mut().enumerate() {
            *o = sq_dist(ac.row(i), bc.row(j));
        }
    }
    if let Some(k) = cost.iter().position(|c| !c.is_finite()) {
        return Err(super::overflow(k / m, k % m));
    }
    let mut plan = sinkhorn_on(&cost, n, m, settings)?;
    plan.cost = plan.plan.iter().enumerate().map(|(k, p)| p * sq_dist(a.row(k / m), b.row(k % m))).sum();
    Ok(plan)
}

/// Sinkhorn on a validated n × m cost matrix (uniform marginals), stabilised in
/// the log domain and warm-started by ε-scaling.
///
/// Plain Sinkhorn converges slowly when ε is small against the costs (its rate
/// degrades like e^{−max C/ε}). So the potentials are first solved roughly for
/// ε₀ = max(ε, range of C), then for ε₀/4, ε₀/16, … down to ε, each stage
/// starting from the last one's potentials (Schmitzer 2019); only the last stage
/// must meet the tolerance. Every stage is [`scaling_stage`].
fn sinkhorn_on(cost: &[f64], n: usize, m: usize, s: &SinkhornSettings) -> Result<SinkhornPlan> {
    let eps = s.epsilon;
    // Start from the c-transforms of 0: every row and column of the kernel then holds a 1.
    let mut f: Vec<f64> = cost.chunks_exact(m).map(|r| r.iter().copied().fold(f64::INFINITY, f64::min)).collect();
    let mut g = vec![f64::INFINITY; m];
    for (i, r) in cost.chunks_exact(m).enumerate() {
        for (gj, c) in g.iter_mut().zip(r) {
            *gj = gj.min(c - f[i]);
        }
    }
    let range =
        cost.iter().copied().fold(f64::NEG_INFINITY, f64::max) - cost.iter().copied().fold(f64::INFINITY, f64::min);
    let mut stage_eps = range.max(eps);
    let mut iterations = 0;
    loop {
        let last = stage_eps <= eps;
        let (tol, budget) = if last {
            (s.tolerance, s.max_iterations.saturating_sub(iterations).max(1))
        } else {
            (s.tolerance.max(1e-3), STAGE_ITERATIONS)
        };
        let stage = scaling_stage(cost, n, m, stage_eps, tol, budget, &mut f, &mut g);
        iterations += stage.iterations;
        if last {
            let plan: Vec<f64> =
                stage.kernel.iter().enumerate().map(|(k, kk)| stage.u[k / m] * kk * stage.v[k % m]).collect();
            return check_plan(plan, n, m, iterations, stage.error, s);
        }
        absorb(&mut f, &mut g, &stage.u, &stage.v, stage_eps);
        stage_eps = (stage_eps / 4.0).max(eps);
    }
}

/// Iterations allowed to each warm-up stage of the ε-scaling (they need not converge).
const STAGE_ITERATIONS: usize = 200;

/// What one stage leaves: π_ij = u_i K_ij v_j.
struct Stage {
    kernel: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
    error: f64,
    iterations: usize,
}

/// f ← f + ε ln u, g ← g + ε ln v: the scalings moved into the potentials.
fn absorb(f: &mut [f64], g: &mut [f64], u: &[f64], v: &[f64], eps: f64) {
    for (fi, ui) in f.iter_mut().zip(u) {
        *fi += eps * ui.ln();
    }
    for (gj, vj) in g.iter_mut().zip(v) {
        *gj += eps * vj.ln();
    }
}

/// Sinkhorn iterations at one ε, until the row error is ≤ `tol` or `budget` iterations.
///
/// The plan is kept as π_ij = u_i K_ij v_j with K_ij = exp((f_i + g_j − C_ij)/ε):
/// log-domain potentials f, g and scalings u, v near 1. An iteration is two
/// matrix–vector products (u ← a / K v, v ← b / Kᵀ u), no exponentials. When a
/// scaling leaves [10⁻¹³, 10¹³] (or a row or column of K underflows) the last
/// good scalings are absorbed into the potentials, followed by one exact
/// log-sum-exp update of f and g, and K is rebuilt.
#[allow(clippy::too_many_arguments)]
fn scaling_stage(
    cost: &[f64],
    n: usize,
    m: usize,
    eps: f64,
    tol: f64,
    budget: usize,
    f: &mut [f64],
    g: &mut [f64],
) -> Stage {
    let (a, b) = (1.0 / n as f64, 1.0 / m as f64);
    let build = |kernel: &mut [f64], f: &[f64], g: &[f64]| {
        for (i, (kr, cr)) in kernel.chunks_exact_mut(m).zip(cost.chunks_exact(m)).enumerate() {
            for ((k, c), gj) in kr.iter_mut().zip(cr).zip(g) {
                *k = ((f[i] + gj - c) / eps).exp();
            }
        }
    };
    let mut kernel = vec![0.0; n * m];
    build(&mut kernel, f, g);
    let (mut u, mut v) = (vec![1.0; n], vec![1.0; m]);
    let (mut u_old, mut v_old) = (u.clone(), v.clone());
    let (mut kv, mut ktu) = (vec![0.0; n], vec![0.0; m]);
    let mut scratch = vec![0.0; n.max(m)];
    let mut error = f64::INFINITY;
    let mut iterations = 0;
    const BOUND: f64 = 1e13;
    while iterations < budget {
        iterations += 1;
        for (o, kr) in kv.iter_mut().zip(kernel.chunks_exact(m)) {
            *o = kr.iter().zip(&v).map(|(k, vj)| k * vj).sum();
        }
        // The row sums of the current plan are u_i (K v)_i; its column sums are exact.
        error = u.iter().zip(&kv).map(|(ui, k)| (ui * k - a).abs()).sum();
        if error <= tol {
            break;
        }
        u_old.copy_from_slice(&u);
        v_old.copy_from_slice(&v);
        let mut ok = kv.iter().all(|&k| k > 1e-280);
        if ok {
            for (ui, k) in u.iter_mut().zip(&kv) {
                *ui = a / k;
            }
            ktu.fill(0.0);
            for (kr, ui) in kernel.chunks_exact(m).zip(&u) {
                for (o, k) in ktu.iter_mut().zip(kr) {
                    *o += k * ui;
                }
            }
            ok = ktu.iter().all(|&k| k > 1e-280);
            if ok {
                for (vj, k) in v.iter_mut().zip(&ktu) {
                    *vj = b / k;
                }
                ok = u.iter().chain(&v).all(|&x| x < BOUND && x > 1.0 / BOUND);
            }
        }
        if !ok {
            absorb(f, g, &u_old, &v_old, eps);
            for i in 0..n {
                let row = &mut scratch[..m];
                for ((r, gj), c) in row.iter_mut().zip(g.iter()).zip(&cost[i * m..(i + 1) * m]) {
                    *r = (gj - c) / eps;
                }
                f[i] = eps * (a.ln() - log_sum_exp(row));
            }
            for j in 0..m {
                let col = &mut scratch[..n];
                for (i, r) in col.iter_mut().enumerate() {
                    *r = (f[i] - cost[i * m + j]) / eps;
                }
                g[j] = eps * (b.ln() - log_sum_exp(col));
            }
            u.fill(1.0);
            v.fill(1.0);
            build(&mut kernel, f, g);
        }
    }
    Stage { kernel, u, v, error, iterations }
}

/// Wraps the plan, checking its marginals directly.
fn check_plan(
    plan: Vec<f64>,
    n: usize,
    m: usize,
    iterations: usize,
    error: f64,
    s: &SinkhornSettings,
) -> Result<SinkhornPlan> {
    let eps = s.epsilon;
    let mut out = SinkhornPlan { n, m, plan, cost: 0.0, iterations, marginal_error: 0.0 };
    let rows: f64 = out.row_sums().iter().map(|r| (r - 1.0 / n as f64).abs()).sum();
    let cols: f64 = out.column_sums().iter().map(|c| (c - 1.0 / m as f64).abs()).sum();
    out.marginal_error = rows + cols;
    if out.marginal_error.is_nan() || out.marginal_error > 1.01 * s.tolerance + 1e-12 {
        return Err(Error::NotConverged {
            what: format!("sinkhorn with ε = {eps}"),
            reason: format!(
                "after {iterations} iterations the marginals are off by {:.3e} (ℓ₁; last row error {error:.3e}) \
                 against a tolerance of {:.1e}. Raise ε (the smaller ε, the slower Sinkhorn converges), \
                 raise max_iterations, or loosen the tolerance",
                out.marginal_error, s.tolerance
            ),
        });
    }
    Ok(out)
}
