//! The five checks of topic 7.3 and the [`CheckReport`] they return.
//!
//! | check | claim |
//! | --- | --- |
//! | [`check_marginalization`] | E\[u_t(x \| z) \| x_t = x\] = u_t(x): a Monte-Carlo average converges like 1/√n |
//! | [`check_continuity`] | ∂_t p_t + ∇·(p_t u_t) = 0 up to an O(h²) finite-difference error |
//! | [`check_fm_cfm_gradients`] | ∇_θ L_FM = ∇_θ L_CFM: the losses differ by a constant |
//! | [`check_bregman`] | with an L1 loss the minimiser is a median, not u_t(x) |
//! | [`check_sampling`], [`check_sampler`] | dx/dt = u_t(x) (or any sampler) from N(0, I) reproduces the data (W2 at the sampling floor) |

use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::marginal::{Marginal, MarginalData};
use crate::metrics;
use crate::numeric::{check_count, check_positive, log_log_slope, normalise_weights, shifted_exp};
use crate::path::Scheduler;
use crate::points::Points;
use crate::solver::{self, Method, TimeGrid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::fmt;

/// The outcome of one check: a headline number, its tolerance, pass/fail and
/// why, plus the numbers behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    /// Which check ran, e.g. `"marginalization trick"`.
    pub name: String,
    /// What the headline number is, e.g. `"log-log slope"`.
    pub figure_name: String,
    /// The headline number.
    pub figure: f64,
    /// The tolerance the headline number was held to (its meaning is in `explanation`).
    pub tolerance: f64,
    /// Other measured numbers, labelled.
    pub details: Vec<(String, f64)>,
    /// An (x, y) series to plot, e.g. (n, error) or (grid spacing, residual).
    pub series: Vec<(f64, f64)>,
    /// True when every criterion of the check held.
    pub passed: bool,
    /// One line: what was compared and why it passed or failed.
    pub explanation: String,
}

impl CheckReport {
    /// The detail called `label`, if any.
    pub fn detail(&self, label: &str) -> Option<f64> {
        self.details.iter().find(|(l, _)| l == label).map(|(_, v)| *v)
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = if self.passed { "PASS" } else { "FAIL" };
        write!(
            f,
            "[{tag}] {}: {} = {:.4e} (tolerance {:.3e})",
            self.name, self.figure_name, self.figure, self.tolerance
        )?;
        if !self.details.is_empty() {
            let d: Vec<String> = self.details.iter().map(|(l, v)| format!("{l} = {v:.3e}")).collect();
            write!(f, "; {}", d.join(", "))?;
        }
        write!(f, "\n       {}", self.explanation)
    }
}

fn one_point(x: &[f64]) -> Points {
    Points::new(1, x.len(), x.to_vec()).expect("a non-empty point")
}

// ---------------------------------------------------------------------------
// 1. The marginalization trick, by Monte Carlo
// ---------------------------------------------------------------------------

/// Settings of [`check_marginalization`].
#[derive(Clone, Debug, PartialEq)]
pub struct MarginalizationSettings {
    /// Seed of every random draw.
    pub seed: u64,
    /// Time t of the check (needs σ_t > 0).
    pub t: f64,
    /// Number of query points x, drawn from p_t.
    pub queries: usize,
    /// Independent Monte-Carlo estimates per query and sample size.
    pub repeats: usize,
    /// Sample sizes n = 2^k for k in `min_log2_n..=max_log2_n`.
    pub min_log2_n: u32,
    /// Largest k (n = 2^k).
    pub max_log2_n: u32,
    /// Allowed distance of the fitted slope from −1/2.
    pub tolerance: f64,
}

impl Default for MarginalizationSettings {
    /// Seed 0, t = 0.5, 4 queries × 32 repeats, n = 2⁶..2¹³, tolerance 0.15.
    fn default() -> Self {
        MarginalizationSettings {
            seed: 0,
            t: 0.5,
            queries: 4,
            repeats: 32,
            min_log2_n: 6,
            max_log2_n: 13,
            tolerance: 0.15,
        }
    }
}

/// Check 1, the marginalization trick: a self-normalised Monte-Carlo average of
/// conditional velocities converges to the marginal velocity `reference` like 1/√n.
///
/// At each query point x (drawn from p_t) it draws z₁..z_n ~ p_data and forms
///
/// ```text
/// û_n(x) = Σᵢ p_t(x | zᵢ) u_t(x | zᵢ) / Σᵢ p_t(x | zᵢ)        (weights in log space)
/// ```
///
/// then measures the root-mean-square error e(n) = RMS ‖û_n(x) − reference(x, t)‖
/// over queries and repeats, for n = 2^k, and fits the slope of ln e against ln n.
/// With the true marginal velocity as reference the error is pure sampling noise
/// and the slope is about −1/2 (the O(1/n) bias of self-normalisation is smaller);
/// against a wrong reference the error levels off at the bias and the slope
/// goes to 0. Passes when |slope + 1/2| ≤ `tolerance`. A reference wrong by
/// less than the error at the largest n (reported) cannot be told apart.
///
/// `series` holds (n, e(n)). Deterministic under `settings.seed`.
///
/// Errors: bad settings ([`Error::ZeroCount`], [`Error::InvalidParameter`],
/// e.g. σ_t = 0), and any error of `reference`.
pub fn check_marginalization<S: Scheduler>(
    marginal: &Marginal<S>,
    reference: &dyn VectorField,
    settings: &MarginalizationSettings,
) -> Result<CheckReport> {
    let st = settings;
    check_count("MarginalizationSettings::queries", st.queries)?;
    check_count("MarginalizationSettings::repeats", st.repeats)?;
    if st.max_log2_n <= st.min_log2_n || st.max_log2_n > 20 {
        return Err(Error::invalid(
            "MarginalizationSettings sample sizes",
            format!(
                "need min_log2_n < max_log2_n ≤ 20 (at least two sizes, at most a million draws), got {}..{}",
                st.min_log2_n, st.max_log2_n
            ),
        ));
    }
    check_positive("MarginalizationSettings::tolerance", st.tolerance)?;
    let c = marginal.scheduler().eval_checked(st.t)?;
    if c.sigma <= 0.0 {
        return Err(Error::invalid(
            "MarginalizationSettings::t",
            format!("σ_t = 0 at t = {}: the conditional paths are point masses; use t < 1", st.t),
        ));
    }
    let d = marginal.dim();
    let mut rng = StdRng::seed_from_u64(st.seed);
    let queries = marginal.sample_marginal(st.queries, st.t, &mut rng)?;
    let refs = reference.eval(&queries, st.t)?;
    refs.check_finite("the reference velocity of check_marginalization")?;
    let (a, b) = (c.d_sigma / c.sigma, c.d_alpha - c.d_sigma / c.sigma * c.alpha);
    let inv2var = 0.5 / (c.sigma * c.sigma);
    let mut series = Vec::new();
    let mut est = vec![0.0; d];
    let mut weights = vec![0.0; 1usize << st.max_log2_n];
    for k in st.min_log2_n..=st.max_log2_n {
        let n = 1usize << k;
        let mut sq = 0.0;
        for (x, r) in queries.rows().zip(refs.rows()) {
            for _ in 0..st.repeats {
                let z = marginal.sample_data(n, &mut rng)?;
                let logw: Vec<f64> = z
                    .rows()
                    .map(|zi| -inv2var * x.iter().zip(zi).map(|(p, q)| (p - c.alpha * q).powi(2)).sum::<f64>())
                    .collect();
                let (_, total) = shifted_exp(&logw, &mut weights[..n]);
                est.iter_mut().for_each(|v| *v = 0.0);
                for (zi, w) in z.rows().zip(&weights[..n]) {
                    for ((e, zj), xj) in est.iter_mut().zip(zi).zip(x) {
                        *e += w * (b * zj + a * xj); // w · u_t(x | zᵢ)
                    }
                }
                sq += est.iter().zip(r).map(|(e, rj)| (e / total - rj).powi(2)).sum::<f64>();
            }
        }
        series.push((n as f64, (sq / (st.queries * st.repeats) as f64).sqrt()));
    }
    let slope = log_log_slope(&series);
    let passed = (slope + 0.5).abs() <= st.tolerance;
    let (n_first, e_first) = series[0];
    let (n_last, e_last) = series[series.len() - 1];
    let explanation = if passed {
        format!(
            "the Monte-Carlo average of u_t(x|z) weighted by p_t(x|z) approaches the reference like n^{slope:.2} \
             (1/√n expected): the marginal velocity is the posterior mean of the conditional velocities"
        )
    } else {
        format!(
            "the error falls like n^{slope:.2}, not n^-0.5 (|slope + 0.5| > {}): the Monte-Carlo estimate of \
             E[u_t(x|z) | x] does not converge to this reference, so the reference is not the marginal velocity",
            st.tolerance
        )
    };
    Ok(CheckReport {
        name: "marginalization trick".into(),
        figure_name: "log-log slope of the Monte-Carlo error".into(),
        figure: slope,
        tolerance: st.tolerance,
        details: vec![
            (format!("error at n = {n_first}"), e_first),
            (format!("error at n = {n_last}"), e_last),
            ("t".into(), st.t),
        ],
        series,
        passed,
        explanation,
    })
}

// ---------------------------------------------------------------------------
// 2. The continuity equation
// ---------------------------------------------------------------------------

/// Settings of [`check_continuity`].
#[derive(Clone, Debug, PartialEq)]
pub struct ContinuitySettings {
    /// Times at which the residual is measured (each needs t ± τ inside [0, 1]).
    pub times: Vec<f64>,
    /// The grid covers [−half_width, half_width]².
    pub half_width: f64,
    /// Grid spacings h, coarse to fine (at least two to measure an order).
    pub spacings: Vec<f64>,
    /// Time step of the central difference in t, as a multiple of h: τ = ratio · h.
    pub time_step_ratio: f64,
    /// Largest allowed relative residual on the finest grid.
    pub tolerance: f64,
    /// Smallest allowed observed order between the two finest grids.
    pub min_order: f64,
}

impl Default for ContinuitySettings {
    /// t ∈ {0.25, 0.5, 0.75}, box [−6, 6]² (covers `EightGaussians::torchcfm`),
    /// h ∈ {0.4, 0.2, 0.1}, τ = h/10, tolerance 0.02, order ≥ 1.5.
    fn default() -> Self {
        ContinuitySettings {
            times: vec![0.25, 0.5, 0.75],
            half_width: 6.0,
            spacings: vec![0.4, 0.2, 0.1],
            time_step_ratio: 0.1,
            tolerance: 0.02,
            min_order: 1.5,
        }
    }
}

/// Check 2, the continuity equation ∂_t p_t + ∇·(p_t u_t) = 0 for the density of
/// `marginal` and the field under test `field`, on a 2-D grid.
///
/// On the nodes x_ij of a grid with spacing h, and with τ = ratio · h,
///
/// ```text
/// R_ij = (p_{t+τ} − p_{t−τ})(x_ij)/(2τ) + (F¹_{i+1,j} − F¹_{i−1,j})/(2h) + (F²_{i,j+1} − F²_{i,j−1})/(2h),
/// F = p_t · field(·, t)
/// ```
///
/// and the relative residual is ‖R‖ / ‖∂_t p‖ (root of sums of squares over all
/// interior nodes and times). For the true marginal velocity R is only the
/// O(h²) truncation error of the central differences, so the relative residual
/// is small and falls by about 4 when h halves (observed order ≈ 2). A wrong
/// field leaves an O(1) residual that does not shrink. Passes when the finest
/// relative residual is ≤ `tolerance` and the last observed order is ≥
/// `min_order`. (The equation fixes u_t only up to a field w with
/// ∇·(p_t w) = 0, so such an addition would not be detected.)
///
/// `series` holds (h, relative residual). Needs 2-D data.
///
/// Errors: [`Error::ShapeMismatch`] for data that is not 2-D; bad settings
/// ([`Error::InvalidParameter`], [`Error::ZeroCount`]), including t ± τ outside
/// [0, 1] or more than 1001 nodes per side; errors of `marginal` and `field`.
pub fn check_continuity<S: Scheduler>(
    marginal: &Marginal<S>,
    field: &dyn VectorField,
    settings: &ContinuitySettings,
) -> Result<CheckReport> {
    let st = settings;
    if marginal.dim() != 2 {
        return Err(Error::shape("check_continuity (a 2-D grid)", "2-D data", format!("{}-D data", marginal.dim())));
    }
    check_count("ContinuitySettings::times", st.times.len())?;
    if st.spacings.len() < 2 {
        return Err(Error::invalid(
            "ContinuitySettings::spacings",
            format!("need at least two grid spacings to measure an order, got {}", st.spacings.len()),
        ));
    }
    check_positive("ContinuitySettings::half_width", st.half_width)?;
    check_positive("ContinuitySettings::time_step_ratio", st.time_step_ratio)?;
    check_positive("ContinuitySettings::tolerance", st.tolerance)?;
    if !st.min_order.is_finite() {
        return Err(Error::invalid("ContinuitySettings::min_order", format!("must be finite, got {}", st.min_order)));
    }
    let mut series = Vec::new();
    for &h in &st.spacings {
        check_positive("a grid spacing of ContinuitySettings", h)?;
        let nodes = (2.0 * st.half_width / h).round() as usize + 1;
        if !(5..=1001).contains(&nodes) {
            return Err(Error::invalid(
                "ContinuitySettings grid",
                format!(
                    "spacing {h} on [−{0}, {0}] gives {nodes} nodes per side; keep it between 5 and 1001",
                    st.half_width
                ),
            ));
        }
        let tau = st.time_step_ratio * h;
        let grid = Points::from_fn(nodes * nodes, 2, |k, j| {
            let idx = if j == 0 { k / nodes } else { k % nodes };
            -st.half_width + h * idx as f64
        });
        let (mut res2, mut dt2) = (0.0, 0.0);
        for &t in &st.times {
            if !(t - tau >= 0.0 && t + tau <= 1.0) {
                return Err(Error::invalid(
                    "ContinuitySettings::times",
                    format!("t = {t} with τ = {tau}: t ± τ must lie in [0, 1]; move t inside or lower time_step_ratio"),
                ));
            }
            let p_minus = marginal.density(&grid, t - tau)?;
            let p_plus = marginal.density(&grid, t + tau)?;
            let p = marginal.density(&grid, t)?;
            let u = field.eval(&grid, t)?;
            let at = |i: usize, j: usize| i * nodes + j;
            let flux = |k: usize, c: usize| p[k] * u.row(k)[c];
            for i in 1..nodes - 1 {
                for j in 1..nodes - 1 {
                    let k = at(i, j);
                    let dtp = (p_plus[k] - p_minus[k]) / (2.0 * tau);
                    let div = (flux(at(i + 1, j), 0) - flux(at(i - 1, j), 0)) / (2.0 * h)
                        + (flux(at(i, j + 1), 1) - flux(at(i, j - 1), 1)) / (2.0 * h);
                    let r = dtp + div;
                    res2 += r * r;
                    dt2 += dtp * dtp;
                }
            }
        }
        let rel = (res2 / dt2).sqrt();
        if !rel.is_finite() {
            return Err(Error::NonFinite {
                what: "the continuity residual".into(),
                detail: format!("‖R‖/‖∂_t p‖ = {rel} at h = {h}; check that the field is finite on the grid"),
            });
        }
        series.push((h, rel));
    }
    let orders: Vec<f64> = series.windows(2).map(|w| (w[0].1 / w[1].1).ln() / (w[0].0 / w[1].0).ln()).collect();
    let last_order = orders[orders.len() - 1];
    let finest = series[series.len() - 1].1;
    let passed = finest <= st.tolerance && last_order >= st.min_order;
    let mut details: Vec<(String, f64)> = series.iter().map(|(h, r)| (format!("residual at h = {h}"), *r)).collect();
    details.push(("observed order".into(), last_order));
    let explanation = if passed {
        format!(
            "∂_t p_t + ∇·(p_t u_t) vanishes up to the finite-difference error, which shrinks like h^{last_order:.2}: \
             this field transports the marginal density"
        )
    } else {
        format!(
            "the residual of ∂_t p_t + ∇·(p_t u_t) is {:.1}% of ∂_t p_t on the finest grid (tolerance {:.1}%) and \
             shrinks like h^{last_order:.2} (need ≥ {}): this field does not transport the marginal density",
            100.0 * finest,
            100.0 * st.tolerance,
            st.min_order
        )
    };
    Ok(CheckReport {
        name: "continuity equation".into(),
        figure_name: "relative residual on the finest grid".into(),
        figure: finest,
        tolerance: st.tolerance,
        details,
        series,
        passed,
        explanation,
    })
}

// ---------------------------------------------------------------------------
// 3. FM and CFM have the same gradients
// ---------------------------------------------------------------------------

/// Settings of [`check_fm_cfm_gradients`].
#[derive(Clone, Debug, PartialEq)]
pub struct GradientSettings {
    /// Seed of every random draw.
    pub seed: u64,
    /// Batch sizes B, small to large; each uses fresh draws.
    pub batch_sizes: Vec<usize>,
    /// Number of random parameter values θ compared.
    pub num_thetas: usize,
    /// Standard deviation of the entries of θ.
    pub theta_scale: f64,
    /// Largest allowed spread (max − min)/|mean| of L_FM − L_CFM over θ at the largest batch.
    pub spread_tolerance: f64,
    /// Smallest allowed gradient cosine similarity (over θ) at the largest batch.
    pub cosine_tolerance: f64,
}

impl Default for GradientSettings {
    /// Seed 0, B ∈ {64, 1024, 16384}, 8 values of θ with N(0, 1) entries,
    /// spread ≤ 0.1, cosine ≥ 0.99.
    fn default() -> Self {
        GradientSettings {
            seed: 0,
            batch_sizes: vec![64, 1024, 16384],
            num_thetas: 8,
            theta_scale: 1.0,
            spread_tolerance: 0.1,
            cosine_tolerance: 0.99,
        }
    }
}

/// Polynomial features of (x/s, t): [1, x̃_a, x̃_a x̃_b (a ≤ b)] ⊗ [1, t, t²].
fn features(x: &[f64], t: f64, scale: f64, out: &mut Vec<f64>) {
    out.clear();
    for tp in [1.0, t, t * t] {
        out.push(tp);
        out.extend(x.iter().map(|xa| tp * xa / scale));
        for (a, xa) in x.iter().enumerate() {
            out.extend(x[a..].iter().map(|xb| tp * xa * xb / (scale * scale)));
        }
    }
}

/// Check 3, FM and CFM have the same gradients, on a model linear in its parameters.
///
/// The model is v_θ(x, t) = θᵀ φ(x, t) with fixed polynomial features
/// φ = [1, x̃_a, x̃_a x̃_b] ⊗ [1, t, t²] (x̃ = x / s, s the data scale) and θ a
/// J × d matrix, so both losses and their gradients are exact in f64. On one
/// batch of draws tᵢ ~ U[0, 1), x₁ ~ p_data, x₀ ~ N(0, I), xᵢ = α x₁ + σ x₀:
///
/// ```text
/// L_FM(θ)  = (1/B) Σᵢ ‖v_θ(xᵢ, tᵢ) − target(xᵢ, tᵢ)‖²     (target: the marginal velocity under test)
/// L_CFM(θ) = (1/B) Σᵢ ‖v_θ(xᵢ, tᵢ) − (α̇ x₁ + σ̇ x₀)ᵢ‖²   (the conditional velocity cᵢ)
/// ∇L(θ)    = (2/B) Σᵢ φᵢ (v_θ(xᵢ, tᵢ) − targetᵢ)ᵀ
/// ```
///
/// Expanding the squares, L_FM − L_CFM = (1/B) Σ (‖uᵢ‖² − ‖cᵢ‖²) − 2 ⟨θ, b⟩ with
/// b = (1/B) Σ φᵢ (uᵢ − cᵢ)ᵀ, and ∇L_FM − ∇L_CFM = −2b at every θ. Because
/// u_t(x) = E[c | x_t = x], b has mean zero: in expectation the difference is a
/// constant (−E‖c − u‖², the conditional variance) and the gradients are
/// equal. With a finite batch b is only of size O(1/√B), so the check is
/// honest about it: it reports, for each batch size, the spread
/// (max − min)/|mean| of L_FM − L_CFM over `num_thetas` random θ and the
/// smallest cosine similarity between the two gradients, and passes when, at
/// the largest batch, the spread is ≤ `spread_tolerance`, the cosine is ≥
/// `cosine_tolerance`, and 1 − cosine is smaller than at the smallest batch.
/// A wrong target (one that is not E[c | x]) leaves b with a non-zero mean,
/// so the spread and the gradient gap do not shrink.
///
/// The headline figure is the smallest cosine at the largest batch; `series`
/// holds (B, 1 − smallest cosine). Deterministic under `settings.seed`.
///
/// Errors: bad settings ([`Error::ZeroCount`], [`Error::InvalidParameter`]),
/// a batch above 1 048 576 ([`Error::SizeLimit`]), errors of `target`.
pub fn check_fm_cfm_gradients<S: Scheduler>(
    marginal: &Marginal<S>,
    target: &dyn VectorField,
    settings: &GradientSettings,
) -> Result<CheckReport> {
    let st = settings;
    check_count("GradientSettings::batch_sizes", st.batch_sizes.len())?;
    if st.num_thetas < 2 {
        return Err(Error::invalid(
            "GradientSettings::num_thetas",
            format!("need at least 2 parameter values to compare L_FM − L_CFM across θ, got {}", st.num_thetas),
        ));
    }
    check_positive("GradientSettings::theta_scale", st.theta_scale)?;
    check_positive("GradientSettings::spread_tolerance", st.spread_tolerance)?;
    if !(st.cosine_tolerance.is_finite() && st.cosine_tolerance <= 1.0) {
        return Err(Error::invalid("GradientSettings::cosine_tolerance", "must be a finite number ≤ 1"));
    }
    for &b in &st.batch_sizes {
        check_count("a batch size of GradientSettings", b)?;
        if b > 1 << 20 {
            return Err(Error::SizeLimit {
                what: "a batch size of GradientSettings".into(),
                size: b,
                limit: 1 << 20,
                hint: "Use smaller batches; 16384 already shows the effect".into(),
            });
        }
    }
    let d = marginal.dim();
    let mut rng = StdRng::seed_from_u64(st.seed);
    // Fixed feature scale: the root-mean-square coordinate of the data.
    let pilot = marginal.sample_data(4096, &mut rng)?;
    let scale = (pilot.as_slice().iter().map(|v| v * v).sum::<f64>() / pilot.as_slice().len() as f64).sqrt().max(1.0);
    let mut phi = Vec::new();
    features(&vec![0.0; d], 0.0, scale, &mut phi);
    let j_count = phi.len();
    let thetas: Vec<Vec<f64>> = (0..st.num_thetas)
        .map(|_| (0..j_count * d).map(|_| st.theta_scale * rng.sample::<f64, _>(StandardNormal)).collect())
        .collect();
    let mut series = Vec::new();
    let mut details = Vec::new();
    let (mut first_gap, mut last_gap, mut last_spread, mut last_cos) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    for (bi, &bsz) in st.batch_sizes.iter().enumerate() {
        let ts: Vec<f64> = (0..bsz).map(|_| rng.gen::<f64>()).collect();
        let x1 = marginal.sample_data(bsz, &mut rng)?;
        let x0 = Points::from_fn(bsz, d, |_, _| rng.sample(StandardNormal));
        let ps = marginal.path().sample_pairs(x0, x1, &ts, None)?;
        // Features, marginal targets u and conditional targets c.
        let mut feats = vec![0.0; bsz * j_count];
        for i in 0..bsz {
            features(ps.x_t.row(i), ts[i], scale, &mut phi);
            feats[i * j_count..(i + 1) * j_count].copy_from_slice(&phi);
        }
        let u = target.eval_rows(&ps.x_t, &ts)?;
        u.check_finite("the target velocity of check_fm_cfm_gradients")?;
        let c = &ps.target;
        let mut diffs = Vec::with_capacity(st.num_thetas);
        let mut min_cos = f64::INFINITY;
        let mut v = vec![0.0; d];
        for theta in &thetas {
            let (mut l_fm, mut l_cfm) = (0.0, 0.0);
            let mut g_fm = vec![0.0; j_count * d];
            let mut g_cfm = vec![0.0; j_count * d];
            for i in 0..bsz {
                let f = &feats[i * j_count..(i + 1) * j_count];
                v.iter_mut().for_each(|a| *a = 0.0);
                for (fj, th) in f.iter().zip(theta.chunks_exact(d)) {
                    for (va, ta) in v.iter_mut().zip(th) {
                        *va += fj * ta;
                    }
                }
                let (ui, ci) = (u.row(i), c.row(i));
                for a in 0..d {
                    let (eu, ec) = (v[a] - ui[a], v[a] - ci[a]);
                    l_fm += eu * eu;
                    l_cfm += ec * ec;
                    for (j, fj) in f.iter().enumerate() {
                        g_fm[j * d + a] += fj * eu;
                        g_cfm[j * d + a] += fj * ec;
                    }
                }
            }
            let nb = bsz as f64;
            diffs.push((l_fm - l_cfm) / nb);
            let dot: f64 = g_fm.iter().zip(&g_cfm).map(|(p, q)| p * q).sum();
            let nf: f64 = g_fm.iter().map(|p| p * p).sum::<f64>().sqrt();
            let nc: f64 = g_cfm.iter().map(|p| p * p).sum::<f64>().sqrt();
            min_cos = min_cos.min(dot / (nf * nc));
        }
        let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
        let (lo, hi) = diffs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
        let spread = (hi - lo) / mean.abs();
        details.push((format!("B = {bsz}: L_FM − L_CFM"), mean));
        details.push((format!("B = {bsz}: spread/size"), spread));
        details.push((format!("B = {bsz}: min cosine"), min_cos));
        series.push((bsz as f64, 1.0 - min_cos));
        if bi == 0 {
            first_gap = 1.0 - min_cos;
        }
        last_gap = 1.0 - min_cos;
        last_spread = spread;
        last_cos = min_cos;
    }
    let improves = st.batch_sizes.len() == 1 || last_gap < first_gap;
    let passed = last_cos >= st.cosine_tolerance && last_spread <= st.spread_tolerance && improves;
    let explanation = if passed {
        format!(
            "L_FM − L_CFM is the same number at {} random θ up to {:.1}% and the gradients agree (cosine {:.5}); \
             the gap is a zero-mean O(1/√B) batch effect that shrinks as B grows",
            st.num_thetas,
            100.0 * last_spread,
            last_cos
        )
    } else {
        format!(
            "at the largest batch L_FM − L_CFM varies by {:.1}% across θ (tolerance {:.1}%) and the gradient cosine \
             is {:.5} (need ≥ {}{}): the FM target is not the posterior mean of the conditional velocities",
            100.0 * last_spread,
            100.0 * st.spread_tolerance,
            last_cos,
            st.cosine_tolerance,
            if improves { "" } else { ", and it does not improve with the batch size" }
        )
    };
    Ok(CheckReport {
        name: "FM and CFM gradients".into(),
        figure_name: "smallest gradient cosine at the largest batch".into(),
        figure: last_cos,
        tolerance: st.cosine_tolerance,
        details,
        series,
        passed,
        explanation,
    })
}

// ---------------------------------------------------------------------------
// 4. The theorem needs a Bregman divergence
// ---------------------------------------------------------------------------

/// The weighted median of `values`: a minimiser of v ↦ Σ_k w_k |v − values_k|.
///
/// It is the smallest value at which the cumulative weight (values sorted
/// increasingly) reaches half the total.
///
/// Errors: [`Error::ShapeMismatch`] for different lengths, [`Error::ZeroCount`]
/// for no values, [`Error::InvalidParameter`] for negative, non-finite or
/// all-zero weights or a non-finite value.
pub fn weighted_median(values: &[f64], weights: &[f64]) -> Result<f64> {
    let w = check_weighted(values, weights, "weighted_median")?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut acc = 0.0;
    for &k in &order {
        acc += w[k];
        if acc >= 0.5 {
            return Ok(values[k]);
        }
    }
    Ok(values[order[order.len() - 1]])
}

/// The weighted mean Σ_k w_k values_k / Σ_k w_k: the minimiser of v ↦ Σ_k w_k (v − values_k)².
///
/// Errors: as [`weighted_median`].
pub fn weighted_mean(values: &[f64], weights: &[f64]) -> Result<f64> {
    let w = check_weighted(values, weights, "weighted_mean")?;
    Ok(values.iter().zip(&w).map(|(v, w)| v * w).sum())
}

/// Normalised weights after checking both lists.
fn check_weighted(values: &[f64], weights: &[f64], what: &str) -> Result<Vec<f64>> {
    if values.len() != weights.len() {
        return Err(Error::shape(
            format!("the weights of {what}"),
            format!("{} weights (one per value)", values.len()),
            format!("{} weights", weights.len()),
        ));
    }
    check_count(&format!("the number of values of {what}"), values.len())?;
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!("the values of {what}"), format!("value {k} is {}", values[k])));
    }
    normalise_weights(weights, &format!("the weights of {what}"))
}

/// A rule that returns a minimiser of v ↦ Σ_k w_k ℓ(v, values_k) from `(values, weights)`,
/// e.g. [`weighted_median`] (ℓ = |·|) or [`weighted_mean`] (ℓ = (·)²).
pub type Minimiser = dyn Fn(&[f64], &[f64]) -> Result<f64>;

/// Settings of [`check_bregman`].
#[derive(Clone, Debug, PartialEq)]
pub struct BregmanSettings {
    /// The query point x.
    pub x: Vec<f64>,
    /// The time t (needs σ_t > 0).
    pub t: f64,
    /// Smallest gap max_j |median_j − u_t(x)_j| for the example to count as visible.
    pub min_gap: f64,
}

impl Default for BregmanSettings {
    /// x = (0.4, 0.4), t = 0.2, gap ≥ 0.5: made for [`skewed_example`], where the
    /// posterior puts 0.6 on one point and 0.4 on the other.
    fn default() -> Self {
        BregmanSettings { x: vec![0.4, 0.4], t: 0.2, min_gap: 0.5 }
    }
}

/// A small data set where the L1 and L2 minimisers differ visibly: z₁ = (0, 0)
/// with weight 0.6 and z₂ = (4, 4) with weight 0.4, on the CondOT path.
///
/// At x = (0.4, 0.4), t = 0.2 the point x is equally far from α_t z₁ = (0, 0)
/// and α_t z₂ = (0.8, 0.8), so the posterior is the prior (0.6, 0.4); the conditional
/// velocities are (z − x)/(1 − t) = (−0.5, −0.5) and (4.5, 4.5): the median is
/// −0.5 per coordinate, the mean (the marginal velocity) 1.5.
pub fn skewed_example() -> Result<Marginal<crate::path::CondOT>> {
    let z = Points::from_rows(&[[0.0, 0.0], [4.0, 4.0]])?;
    Marginal::from_weighted_points(&z, &[0.6, 0.4], crate::path::CondOT)
}

/// Check 4, the theorem needs a Bregman divergence: with the L1 loss
/// E‖v − u_t(x | z)‖₁ the best v at a point x is a coordinate-wise weighted
/// **median** of the conditional velocities, not their mean u_t(x).
///
/// For point data the posterior is discrete (weights π_k(x) on the conditional
/// velocities u_k = u_t(x | z_k)), so everything is exact:
///
/// ```text
/// L2 objective:  Σ_k π_k (v − u_k,j)²  is minimised by Σ_k π_k u_k,j = u_t(x)_j      (the marginal velocity)
/// L1 objective:  Σ_k π_k |v − u_k,j|   is minimised by a weighted median of u_k,j
/// ```
///
/// `l1_minimiser(values, weights)` is the rule under test for one coordinate
/// (pass [`weighted_median`]). The check verifies that (1) its value attains
/// the exact minimum of the L1 objective (a piecewise-linear convex function is
/// smallest at one of the u_k,j, so min_k of the objective there is exact),
/// (2) the weighted mean of the u_k equals the closed-form marginal velocity
/// and is the L2 minimiser, and (3) the gap max_j |l1_minimiser_j − u_t(x)_j|
/// is at least `min_gap`: so a loss that is not a Bregman divergence trains
/// towards a different field. Passing [`weighted_mean`] as the L1 minimiser fails (1).
///
/// Errors: [`Error::InvalidParameter`] for mixture data (use point data, e.g.
/// a sample of the mixture) or σ_t = 0; errors of `l1_minimiser`.
pub fn check_bregman<S: Scheduler>(
    marginal: &Marginal<S>,
    l1_minimiser: &Minimiser,
    settings: &BregmanSettings,
) -> Result<CheckReport> {
    let st = settings;
    if !matches!(marginal.data(), MarginalData::Points { .. }) {
        return Err(Error::invalid(
            "the data of check_bregman",
            "is a Gaussian mixture; this check needs point data (a discrete posterior): \
             build the Marginal with Marginal::from_points, e.g. from a sample of the mixture",
        ));
    }
    check_positive("BregmanSettings::min_gap", st.min_gap)?;
    let post = marginal.posterior(&st.x, st.t)?;
    let u = marginal.velocity(&one_point(&st.x), st.t)?;
    let d = marginal.dim();
    let (mut gap, mut l1_excess, mut l2_error) = (0.0_f64, 0.0_f64, 0.0_f64);
    for j in 0..d {
        let vals = post.velocities.column(j);
        let scale = vals.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        let l1 = |v: f64| vals.iter().zip(&post.weights).map(|(a, w)| w * (v - a).abs()).sum::<f64>();
        let cand = l1_minimiser(&vals, &post.weights)?;
        let best = vals.iter().map(|&v| l1(v)).fold(f64::INFINITY, f64::min);
        l1_excess = l1_excess.max((l1(cand) - best) / scale);
        let mean = weighted_mean(&vals, &post.weights)?;
        l2_error = l2_error.max((mean - u.row(0)[j]).abs() / scale);
        gap = gap.max((cand - u.row(0)[j]).abs());
    }
    let tol_exact = 1e-9;
    let (minimises, mean_ok, visible) = (l1_excess <= tol_exact, l2_error <= tol_exact, gap >= st.min_gap);
    let passed = minimises && mean_ok && visible;
    let explanation = if passed {
        format!(
            "the L1 minimiser (a weighted median of the conditional velocities) sits {gap:.3} away from the marginal \
             velocity (the L2 minimiser, their weighted mean): only Bregman losses such as ‖·‖² recover u_t(x)"
        )
    } else if !minimises {
        format!(
            "the candidate does not minimise the L1 objective (it exceeds the minimum by {l1_excess:.3e} relative): \
             the L1 minimiser is a weighted median, not the mean"
        )
    } else if !mean_ok {
        format!("the weighted mean of the conditional velocities misses the closed-form u_t(x) by {l2_error:.3e}")
    } else {
        format!(
            "the L1 minimiser is only {gap:.3e} from the marginal velocity (need ≥ {}): choose x and t where the \
             posterior over the data points is skewed",
            st.min_gap
        )
    };
    Ok(CheckReport {
        name: "Bregman divergence".into(),
        figure_name: "gap between the L1 minimiser and u_t(x)".into(),
        figure: gap,
        tolerance: st.min_gap,
        details: vec![
            ("L1 excess of the candidate".into(), l1_excess),
            ("L2 minimiser − u_t(x)".into(), l2_error),
            ("largest posterior weight".into(), post.weights.iter().copied().fold(0.0, f64::max)),
        ],
        series: Vec::new(),
        passed,
        explanation,
    })
}

// ---------------------------------------------------------------------------
// 5. Sampling the true field reproduces the data
// ---------------------------------------------------------------------------

/// Settings of [`check_sampling`].
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingSettings {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of points on each side of one W2 (≤ 4096).
    pub n: usize,
    /// Number of independent W2 comparisons averaged on each side.
    pub repeats: usize,
    /// Grid steps of the solver from t = 0 to `t_end`.
    pub steps: usize,
    /// ODE method.
    pub method: Method,
    /// Final time: 1 for mixtures; use 1 − ε (e.g. 0.999) for point data, whose
    /// marginal velocity is undefined at t = 1.
    pub t_end: f64,
    /// Largest allowed ratio mean W2(samples, data) / mean W2(data, data′).
    pub ratio_tolerance: f64,
}

impl Default for SamplingSettings {
    /// Seed 0, 8 repeats of n = 250 points, 40 RK4 steps to t = 1, ratio ≤ 1.5.
    fn default() -> Self {
        SamplingSettings {
            seed: 0,
            n: 250,
            repeats: 8,
            steps: 40,
            method: Method::Rk4,
            t_end: 1.0,
            ratio_tolerance: 1.5,
        }
    }
}

/// Check 5, sampling the field under test reproduces the data.
///
/// Draws x₀ ~ N(0, I) (`repeats` × n points), solves dx/dt = field(x, t) from
/// t = 0 to `t_end` in one batch, and compares each block of n results with n
/// fresh data points by the exact W2 distance. Two finite samples of the
/// *same* distribution are not at W2 = 0, so the yardstick is the
/// sampling-noise floor: the W2 between two other fresh data samples of the
/// same size. Both sides are averaged over `repeats` independent draws,
///
/// ```text
/// ratio = mean_r W2(ODE samples_r, data_r) / mean_r W2(data′_r, data″_r)       (≈ 1 for the true field)
/// ```
///
/// A single W2 between samples of a few hundred points fluctuates by tens of
/// percent (for a mixture, the number of points per component varies from draw
/// to draw), which is why both sides are averages and the tolerance is 1.5
/// rather than 1. Passes when ratio ≤ `ratio_tolerance`. A field whose ODE
/// blows up (NaN/∞) fails with ratio = ∞. `series` holds (r, W2 of repeat r).
/// Deterministic under `settings.seed`.
///
/// Errors: bad settings ([`Error::ZeroCount`], [`Error::InvalidParameter`],
/// [`Error::SizeLimit`] for n > 4096 or more than 100 000 points in all), and
/// errors of the field other than a blow-up.
pub fn check_sampling<S: Scheduler>(
    marginal: &Marginal<S>,
    field: &dyn VectorField,
    settings: &SamplingSettings,
) -> Result<CheckReport> {
    let st = settings;
    check_count("SamplingSettings::steps", st.steps)?;
    if !(st.t_end > 0.0 && st.t_end <= 1.0) {
        return Err(Error::invalid("SamplingSettings::t_end", format!("must lie in (0, 1], got {}", st.t_end)));
    }
    let grid = TimeGrid::uniform(0.0, st.t_end, st.steps)?;
    let ode = |x0: &Points| solver::solve(field, x0, &grid, st.method).map(|sol| sol.final_state);
    check_sampler(marginal, &ode, settings)
}

/// Check 5 for any sampler: `sampler` maps noise x₀ ~ N(0, I) (`repeats` × n
/// rows) to samples, which are compared with fresh data exactly as in
/// [`check_sampling`]. Use it for samplers that are not an ODE solve of one
/// field: a reverse SDE, DDIM, a schedule-transformed model. Of the settings it
/// uses `seed`, `n`, `repeats` and `ratio_tolerance`.
///
/// A sampler that fails with [`Error::NonFinite`] or [`Error::SolverFailed`]
/// (a blow-up) fails the check with ratio = ∞; its other errors are returned.
///
/// Errors: bad settings, as [`check_sampling`].
pub fn check_sampler<S: Scheduler>(
    marginal: &Marginal<S>,
    sampler: &dyn Fn(&Points) -> Result<Points>,
    settings: &SamplingSettings,
) -> Result<CheckReport> {
    let st = settings;
    check_count("SamplingSettings::n", st.n)?;
    check_count("SamplingSettings::repeats", st.repeats)?;
    check_positive("SamplingSettings::ratio_tolerance", st.ratio_tolerance)?;
    if st.n > metrics::W2_MAX_POINTS {
        return Err(Error::SizeLimit {
            what: "SamplingSettings::n".into(),
            size: st.n,
            limit: metrics::W2_MAX_POINTS,
            hint: "the exact W2 is limited to this many points; use a smaller n or more repeats".into(),
        });
    }
    let total = st.n.saturating_mul(st.repeats);
    if total > 100_000 {
        return Err(Error::SizeLimit {
            what: "SamplingSettings n × repeats".into(),
            size: total,
            limit: 100_000,
            hint: "lower n or repeats".into(),
        });
    }
    let d = marginal.dim();
    let mut rng = StdRng::seed_from_u64(st.seed);
    let x0 = Points::from_fn(total, d, |_, _| rng.sample(StandardNormal));
    let solved = match sampler(&x0) {
        Ok(x1) if x1.shape() == x0.shape() => Ok(x1),
        Ok(x1) => {
            return Err(Error::shape(
                "the samples of the sampler under test",
                format!("{:?} (the shape of the noise it was given)", x0.shape()),
                format!("{:?}", x1.shape()),
            ))
        }
        Err(e @ (Error::NonFinite { .. } | Error::SolverFailed { .. })) => Err(e),
        Err(e) => return Err(e),
    };
    let (mut w2_sum, mut floor_sum) = (0.0, 0.0);
    let mut series = Vec::with_capacity(st.repeats);
    for r in 0..st.repeats {
        let data = marginal.sample_data(st.n, &mut rng)?;
        let data_a = marginal.sample_data(st.n, &mut rng)?;
        let data_b = marginal.sample_data(st.n, &mut rng)?;
        floor_sum += metrics::w2(&data_a, &data_b)?;
        if let Ok(x1) = &solved {
            let idx: Vec<usize> = (r * st.n..(r + 1) * st.n).collect();
            let w = metrics::w2(&x1.select(&idx), &data)?;
            w2_sum += w;
            series.push((r as f64, w));
        }
    }
    let reps = st.repeats as f64;
    let floor = floor_sum / reps;
    let w2 = if solved.is_ok() { w2_sum / reps } else { f64::INFINITY };
    let ratio = w2 / floor;
    let passed = ratio <= st.ratio_tolerance;
    let explanation = match (&solved, passed) {
        (Err(e), _) => format!("the sampler did not reach the data end: {e}"),
        (Ok(_), true) => format!(
            "the samples are as close to the data (mean W2 {w2:.3}) as two fresh data samples are to each \
             other (mean W2 {floor:.3}): this sampler carries N(0, I) to the data"
        ),
        (Ok(_), false) => format!(
            "the samples are at mean W2 {w2:.3} from the data, {ratio:.2}× the sampling floor {floor:.3} \
             (tolerance {}×): this sampler does not carry N(0, I) to the data",
            st.ratio_tolerance
        ),
    };
    Ok(CheckReport {
        name: "sampling the field".into(),
        figure_name: "W2(samples, data) / W2(data, data′)".into(),
        figure: ratio,
        tolerance: st.ratio_tolerance,
        details: vec![("mean W2(samples, data)".into(), w2), ("mean W2(data, data′) floor".into(), floor)],
        series,
        passed,
        explanation,
    })
}
