//! Accuracy against compute: W2 to reference data for each solver at several
//! step counts, and the noise floor of that measurement.

use crate::error::{Error, Result};
use crate::field::VectorField;
use crate::points::Points;
use crate::solver::{solve, Method, TimeGrid};

use super::wasserstein::w2;

/// Mean and spread of a set of W2 measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// Arithmetic mean m = (1/k) Σ w_i.
    pub mean: f64,
    /// Sample standard deviation √(Σ (w_i − m)² / (k − 1)); 0 for a single value.
    pub sd: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// Mean, standard deviation and range of `values` (at least one).
    pub fn of(values: &[f64]) -> Result<Spread> {
        if values.is_empty() {
            return Err(Error::invalid("values", "there are none; pass at least one measurement"));
        }
        let k = values.len() as f64;
        let mean = values.iter().sum::<f64>() / k;
        let sd = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt()
        } else {
            0.0
        };
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Ok(Spread { mean, sd, min, max })
    }
}

/// One solver run of a [`nfe_sweep`].
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    /// The solver's name, e.g. `"Midpoint"` or `"Dopri5"`.
    pub method: String,
    /// Steps of the uniform grid (1 for Dopri5, which picks its own).
    pub steps: usize,
    /// The tolerance rtol = atol for Dopri5, `None` for fixed-step methods.
    pub tol: Option<f64>,
    /// Field evaluations the solve used.
    pub nfe: usize,
    /// W2 from the samples to each reference set: its mean and spread.
    pub w2: Spread,
}

/// The result of [`nfe_sweep`]: one row per solver run, and the noise floor.
#[derive(Clone, Debug, PartialEq)]
pub struct NfeSweep {
    /// Fixed-step methods in the order given, each at every step count, then Dopri5 at every tolerance.
    pub rows: Vec<SweepRow>,
    /// W2 between pairs of reference sets: what W2 reads for two exact samples of the data.
    pub floor: Spread,
}

impl NfeSweep {
    /// One (NFE, mean W2) series per method, labelled by its name, in row order.
    pub fn series(&self) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut out: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for r in &self.rows {
            let point = (r.nfe as f64, r.w2.mean);
            match out.last_mut() {
                Some((name, pts)) if *name == r.method => pts.push(point),
                _ => out.push((r.method.clone(), vec![point])),
            }
        }
        out
    }

    /// The rows of one method whose mean W2 has stopped falling: the last `k` rows of that method.
    fn tail(&self, method: &str, k: usize) -> Vec<&SweepRow> {
        let rows: Vec<&SweepRow> = self.rows.iter().filter(|r| r.method == method).collect();
        rows[rows.len().saturating_sub(k)..].to_vec()
    }

    /// Mean W2 over the last `k` runs of every method (their plateau), as a [`Spread`] over methods.
    pub fn plateau(&self, k: usize) -> Result<Spread> {
        let names: Vec<String> = self.series().into_iter().map(|(n, _)| n).collect();
        let means: Vec<f64> = names
            .iter()
            .map(|n| {
                let tail = self.tail(n, k);
                tail.iter().map(|r| r.w2.mean).sum::<f64>() / tail.len().max(1) as f64
            })
            .collect();
        Spread::of(&means)
    }

    /// The table as text: one line per method, `NFE → mean W2 ± sd`, then the floor.
    pub fn table(&self) -> String {
        let mut s = String::new();
        for (name, _) in self.series() {
            let cells: Vec<String> = self
                .rows
                .iter()
                .filter(|r| r.method == name)
                .map(|r| format!("{} → {:.3}±{:.3}", r.nfe, r.w2.mean, r.w2.sd))
                .collect();
            s.push_str(&format!("{name:>9}: {}\n", cells.join(", ")));
        }
        s.push_str(&format!(
            "noise floor: {:.3} ± {:.3} (range {:.3} … {:.3})",
            self.floor.mean, self.floor.sd, self.floor.min, self.floor.max
        ));
        s
    }
}

/// Samples `field` from `x0` with each method at each step count (and adaptive
/// Dopri5 at each tolerance), and measures the 2-Wasserstein distance from the
/// samples to every reference set.
///
/// Each run reports the mean and spread of W2(samples, r_j) over the reference
/// sets r_1, …, r_k. The noise floor is the spread of W2(r_i, r_j) over all
/// pairs i < j: the distance two exact samples of the data show, so a solver
/// whose W2 sits on the floor (within its band) is as good as this measurement
/// can tell, and a plateau above it is the model's own error.
///
/// Errors: fewer than two reference sets, an empty step list, and any error of
/// the solver or of [`w2`] (e.g. sets of different sizes).
pub fn nfe_sweep<F>(
    field: &F,
    x0: &Points,
    references: &[Points],
    methods: &[Method],
    steps: &[usize],
    tolerances: &[f64],
) -> Result<NfeSweep>
where
    F: VectorField + ?Sized,
{
    if references.len() < 2 {
        return Err(Error::invalid(
            "references",
            format!("{} set(s) given; pass at least two independent draws of the data", references.len()),
        ));
    }
    if steps.is_empty() && tolerances.is_empty() {
        return Err(Error::invalid("steps", "no step counts and no tolerances; pass at least one"));
    }
    let measure = |samples: &Points| -> Result<Spread> {
        let d: Vec<f64> = references.iter().map(|r| w2(samples, r)).collect::<Result<_>>()?;
        Spread::of(&d)
    };
    let mut rows = Vec::new();
    for method in methods {
        for &k in steps {
            let sol = solve(field, x0, &TimeGrid::uniform(0.0, 1.0, k)?, *method)?;
            rows.push(SweepRow {
                method: method.name().to_string(),
                steps: k,
                tol: None,
                nfe: sol.nfe,
                w2: measure(&sol.final_state)?,
            });
        }
    }
    for &tol in tolerances {
        let sol = solve(field, x0, &TimeGrid::uniform(0.0, 1.0, 1)?, Method::dopri5(tol, tol))?;
        rows.push(SweepRow {
            method: "Dopri5".to_string(),
            steps: 1,
            tol: Some(tol),
            nfe: sol.nfe,
            w2: measure(&sol.final_state)?,
        });
    }
    let mut pairs = Vec::new();
    for i in 0..references.len() {
        for j in i + 1..references.len() {
            pairs.push(w2(&references[i], &references[j])?);
        }
    }
    Ok(NfeSweep { rows, floor: Spread::of(&pairs)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shifted(n: usize, seed: u64, dx: f64) -> Points {
        let p = Points::randn(n, 2, seed);
        Points::from_fn(n, 2, |i, j| p.row(i)[j] + if j == 0 { dx } else { 0.0 })
    }

    #[test]
    fn spread_is_mean_and_sample_sd() {
        let s = Spread::of(&[1.0, 2.0, 3.0]).unwrap();
        assert!((s.mean - 2.0).abs() < 1e-12 && (s.sd - 1.0).abs() < 1e-12);
        assert_eq!((s.min, s.max), (1.0, 3.0));
        assert!(Spread::of(&[]).is_err());
    }

    #[test]
    fn exact_field_reaches_floor_and_a_translation_shows() {
        // u_t(x) = (c, 0): the flow translates noise by c. References: noise shifted by c.
        let c = 2.0;
        let field = crate::field::pointwise(move |_x: &[f64], _t: f64| vec![c, 0.0]);
        let refs: Vec<Points> = (10..14).map(|s| shifted(300, s, c)).collect();
        let x0 = Points::randn(300, 2, 1);
        let sweep = nfe_sweep(&field, &x0, &refs, &[Method::Euler, Method::Midpoint], &[1, 4], &[1e-3]).unwrap();
        assert_eq!(sweep.rows.len(), 5);
        assert_eq!(sweep.series().len(), 3);
        // Every solver is exact for a constant field: all sit on the floor.
        let plateau = sweep.plateau(1).unwrap();
        assert!((plateau.mean - sweep.floor.mean).abs() < 2.0 * sweep.floor.sd + 0.02, "{}", sweep.table());
        // A field that moves only half way sits far above the floor.
        let half = crate::field::pointwise(move |_x: &[f64], _t: f64| vec![c / 2.0, 0.0]);
        let off = nfe_sweep(&half, &x0, &refs, &[Method::Euler], &[4], &[]).unwrap();
        assert!(off.rows[0].w2.mean > sweep.floor.mean + 0.8, "{}", off.table());
        assert!(nfe_sweep(&field, &x0, &refs[..1], &[Method::Euler], &[1], &[]).is_err());
    }
}
