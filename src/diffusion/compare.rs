//! [`Comparison`]: a Flow Matching model and a diffusion model, sampled by every sampler of
//! each at a ladder of NFE, scored by W2 against the same data.
//!
//! ```text
//! for each sampler and each NFE n ∈ {1, 2, 4, 8, 16, 32, 100} it can reach with a uniform grid on [0, 1]:
//!     W2(samples from the same noise x₀, fresh data)        (read against the floor W2(data, data′))
//! Dopri5: one solve per tolerance, at the NFE it chooses
//! ```

use super::predictor::Predictor;
use super::sample::{ddim, ReverseSde};
use super::vp::VpSde;
use crate::error::Result;
use crate::field::VectorField;
use crate::metrics::w2;
use crate::path::Prediction;
use crate::plot::{Figure, Lines};
use crate::points::Points;
use crate::solver::{solve, Method, Solution, TimeGrid};
use std::fmt;

/// The NFE ladder of the comparison.
pub const NFE_LADDER: [usize; 7] = [1, 2, 4, 8, 16, 32, 100];

/// The Dopri5 tolerances of the comparison (rtol = atol).
pub const DOPRI5_TOLERANCES: [f64; 5] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5];

/// One sampler's W2 at the NFE it was run with.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerCurve {
    /// A machine-readable key, e.g. `"fm_euler"`.
    pub key: &'static str,
    /// A label for tables and legends, e.g. `"FM · Euler"`.
    pub label: &'static str,
    /// (NFE, W2) pairs in increasing NFE.
    pub points: Vec<(usize, f64)>,
}

impl SamplerCurve {
    /// The smallest NFE whose W2 is at most `threshold`, if any.
    pub fn nfe_within(&self, threshold: f64) -> Option<usize> {
        self.points.iter().filter(|(_, w)| *w <= threshold).map(|(n, _)| *n).min()
    }

    /// The W2 at the largest NFE this sampler was run with: its own limit, where the
    /// remaining error is the model's rather than the sampler's.
    pub fn limit(&self) -> Option<f64> {
        self.points.iter().max_by_key(|(n, _)| *n).map(|(_, w)| *w)
    }

    /// The smallest NFE within 10 % of the sampler's own [`limit`](Self::limit): how fast the
    /// sampler converges, whatever the model's error.
    pub fn nfe_to_converge(&self) -> Option<usize> {
        self.limit().and_then(|l| self.nfe_within(1.1 * l))
    }

    /// The W2 at exactly `nfe` evaluations, if this sampler was run there.
    pub fn w2_at(&self, nfe: usize) -> Option<f64> {
        self.points.iter().find(|(n, _)| *n == nfe).map(|(_, w)| *w)
    }
}

/// The measured comparison: every sampler's (NFE, W2) curve and the W2 floor.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// W2 between two fresh data samples of the size used: the best any sampler can do.
    pub floor: f64,
    /// The samplers, Flow Matching first.
    pub curves: Vec<SamplerCurve>,
    /// Dopri5's (tolerance, NFE, W2) on the Flow Matching model.
    pub dopri5: Vec<(f64, usize, f64)>,
}

impl Comparison {
    /// Samples `fm` (a velocity field on the CondOT path) by Euler, midpoint and Dopri5, and
    /// `diffusion` (a model read through its path, e.g. an ε-model on the VP path of `sde`)
    /// by the reverse SDE (noise seeded by `noise_seed`), the probability-flow ODE (Euler,
    /// midpoint) and DDIM, all from the same noise `x0`, and scores each result by W2
    /// against `reference`. `floor` is W2 between two fresh data samples of that size.
    ///
    /// Errors: a sampler's or W2's errors (for instance more than 4 096 points).
    pub fn run(
        fm: &dyn VectorField,
        diffusion: &Predictor<'_>,
        sde: VpSde,
        x0: &Points,
        reference: &Points,
        floor: f64,
        noise_seed: u64,
    ) -> Result<Comparison> {
        let grid = |steps: usize| TimeGrid::uniform(0.0, 1.0, steps);
        let score = diffusion.view(Prediction::Score);
        let reverse = ReverseSde::new(score, sde);
        let ladder = |per_step: usize, sample: &dyn Fn(&TimeGrid) -> Result<Solution>| -> Result<Vec<(usize, f64)>> {
            let mut points = Vec::new();
            for nfe in NFE_LADDER.iter().filter(|&&n| n % per_step == 0) {
                let sol = sample(&grid(nfe / per_step)?)?;
                points.push((sol.nfe, w2(&sol.final_state, reference)?));
            }
            Ok(points)
        };
        let curve = |key, label, points| SamplerCurve { key, label, points };
        let mut dopri5 = Vec::new();
        for tol in DOPRI5_TOLERANCES {
            let sol = solve(fm, x0, &grid(1)?, Method::dopri5(tol, tol))?;
            dopri5.push((tol, sol.nfe, w2(&sol.final_state, reference)?));
        }
        let curves = vec![
            curve("fm_euler", "FM · Euler", ladder(1, &|g| solve(fm, x0, g, Method::Euler))?),
            curve("fm_midpoint", "FM · midpoint", ladder(2, &|g| solve(fm, x0, g, Method::Midpoint))?),
            curve("fm_dopri5", "FM · Dopri5", dopri5.iter().map(|d| (d.1, d.2)).collect()),
            curve("diffusion_sde", "diffusion · reverse SDE", ladder(1, &|g| reverse.sample(x0, g, noise_seed))?),
            curve(
                "diffusion_pf_euler",
                "diffusion · PF-ODE Euler",
                ladder(1, &|g| solve(diffusion, x0, g, Method::Euler))?,
            ),
            curve(
                "diffusion_pf_midpoint",
                "diffusion · PF-ODE midpoint",
                ladder(2, &|g| solve(diffusion, x0, g, Method::Midpoint))?,
            ),
            curve("diffusion_ddim", "diffusion · DDIM", ladder(1, &|g| ddim(diffusion, x0, g))?),
        ];
        Ok(Comparison { floor, curves, dopri5 })
    }

    /// The curve with this key.
    pub fn curve(&self, key: &str) -> Option<&SamplerCurve> {
        self.curves.iter().find(|c| c.key == key)
    }

    /// W2 against NFE for every sampler (log–log axes), with the floor as a flat line.
    ///
    /// Errors: as [`Lines::build`].
    pub fn figure(&self) -> Result<Figure> {
        let xy: Vec<Vec<(f64, f64)>> =
            self.curves.iter().map(|c| c.points.iter().map(|&(n, w)| (n as f64, w)).collect()).collect();
        let floor = [(1.0, self.floor), (100.0, self.floor)];
        let lines = self.curves.iter().zip(&xy).fold(Lines::new(), |l, (c, p)| l.series(c.label, p));
        lines
            .series("floor W2(data, data′)", &floor)
            .log_x(true)
            .log_y(true)
            .x_label("NFE (model evaluations)")
            .y_label("W2 to fresh data")
            .title("sample quality against cost")
            .build()
    }

    /// The machine-readable summary: `w2_floor`, and per sampler the smallest NFE within
    /// 1.5× the floor (`none` when no NFE gets there), the W2 at NFE = 8 (`-` when the
    /// sampler has no run there), its own limit (W2 at its largest NFE) and the smallest NFE
    /// within 10 % of that limit, one `key: value` line each.
    pub fn summary(&self) -> String {
        let mut out = format!("w2_floor: {:.4}\n", self.floor);
        for c in &self.curves {
            let within = c.nfe_within(1.5 * self.floor).map_or("none".to_string(), |n| n.to_string());
            let at8 = c.w2_at(8).map_or("-".to_string(), |w| format!("{w:.4}"));
            let limit = c.limit().map_or("-".to_string(), |w| format!("{w:.4}"));
            let converge = c.nfe_to_converge().map_or("-".to_string(), |n| n.to_string());
            out += &format!("{}_nfe_within_1.5x_floor: {within}\n{}_w2_nfe8: {at8}\n", c.key, c.key);
            out += &format!("{}_w2_limit: {limit}\n{}_nfe_within_10pct_of_limit: {converge}\n", c.key, c.key);
        }
        out
    }
}

impl fmt::Display for Comparison {
    /// The table: one row per sampler, one column per NFE of the ladder (Dopri5: W2@NFE per tolerance).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<30}", "W2 at NFE →")?;
        for n in NFE_LADDER {
            write!(f, "{n:>7}")?;
        }
        writeln!(f)?;
        for c in &self.curves {
            write!(f, "{:<30}", c.label)?;
            if c.key == "fm_dopri5" {
                for (tol, n, w) in &self.dopri5 {
                    write!(f, "  {w:.3}@{n} (tol {tol:.0e})")?;
                }
            } else {
                for n in NFE_LADDER {
                    match c.w2_at(n) {
                        Some(w) => write!(f, "{w:>7.3}")?,
                        None => write!(f, "{:>7}", "-")?,
                    }
                }
            }
            writeln!(f)?;
        }
        write!(f, "{:<30}{:>7.3}   (1.5× floor = {:.3})", "floor W2(data, data′)", self.floor, 1.5 * self.floor)
    }
}
