//! Two-dimensional toy distributions: curves and boards with noise.
//!
//! ```text
//! moons:  (cos θ, sin θ) and (1 − cos θ, ½ − sin θ), θ ∈ [0, π];   circles:  ρ (cos θ, sin θ), ρ ∈ {1, factor}
//! checkerboard: uniform on the dark cells;   spirals: (−t cos t, t sin t)/3 rotated per arm;   S-curve: (sin t, sign(t)(cos t − 1))
//! ```

use super::{check_fill, identity, normal, set_label, shuffle_rows, Dataset};
use crate::error::{Error, Result};
use crate::numeric::{check_finite_entries, check_non_negative, check_positive};
use crate::points::Points;
use rand::{Rng, RngCore};
use std::f64::consts::PI;

/// np.linspace(0, stop, m) (endpoint included): θᵢ = stop · i / (m − 1), and [0] for m = 1.
#[inline]
fn linspace_closed(stop: f64, i: usize, m: usize) -> f64 {
    if m <= 1 {
        0.0
    } else {
        stop * i as f64 / (m - 1) as f64
    }
}

/// Fills `out` with two parts laid out as scikit-learn does for moons and circles: ⌊n/2⌋
/// points of part 0, then the other ⌈n/2⌉ of part 1. `point(k, j, m, rng)` gives point j of
/// the m points of part k; the label of a point is its part, and the rows are shuffled last.
fn two_parts(
    out: &mut Points,
    mut labels: Option<&mut [usize]>,
    rng: &mut dyn RngCore,
    point: impl Fn(usize, usize, usize, &mut dyn RngCore) -> [f64; 2],
) {
    let n = out.len();
    let n_out = n / 2;
    for (i, row) in out.rows_mut().enumerate() {
        let (k, j, m) = if i < n_out { (0, i, n_out) } else { (1, i - n_out, n - n_out) };
        row.copy_from_slice(&point(k, j, m, rng));
        set_label(&mut labels, i, k);
    }
    shuffle_rows(out, &mut labels, rng);
}

// ---------------------------------------------------------------------------
// Curves with noise
// ---------------------------------------------------------------------------

/// How the moons are blurred.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MoonNoise {
    /// scikit-learn's `make_moons(noise = s)`: independent N(0, s²) on each coordinate.
    Gaussian(f64),
    /// torchdyn's `generate_moons(noise = w)`, which TorchCFM uses: one
    /// u ~ U[0, 1) per point, and w·u added to *both* coordinates, i.e. a
    /// shift along the diagonal (1, 1).
    SharedUniform(f64),
}

/// Two interleaving half circles (scikit-learn's `make_moons`), scaled and shifted.
///
/// For n points, n_out = ⌊n/2⌋ lie on the outer moon (cos θ, sin θ) and
/// n_in = n − n_out on the inner moon (1 − cos θ, ½ − sin θ), with θ on the
/// even grid np.linspace(0, π, m) of each moon (label 0 = outer, 1 = inner).
/// Then noise ε is added ([`MoonNoise`]), the result is mapped to
/// x = scale · (moon + ε) + shift, and the rows are shuffled.
///
/// [`Moons::torchcfm`] (the default) is TorchCFM's `sample_moons`:
/// torchdyn's moons with noise 0.2, then x ↦ 3x − 1. Note that torchdyn's
/// noise is *not* scikit-learn's Gaussian noise: it is w·u·(1, 1) with
/// u ~ U[0, 1) (see [`MoonNoise::SharedUniform`]). [`Moons::sklearn`] gives
/// the Gaussian version.
///
/// Mean and covariance (limit n → ∞, θ ~ U[0, π]): the unit moons have
/// E = (½, ¼), Var = (¾, 9/16 − 1/π), Cov₁₂ = ⅛ − 1/π; Gaussian noise adds
/// s² I, shared uniform noise adds w/2 · (1, 1) to the mean and
/// w²/12 · [[1, 1], [1, 1]] to the covariance; then E ↦ scale·E + shift and
/// Cov ↦ scale²·Cov.
#[derive(Clone, Debug, PartialEq)]
pub struct Moons {
    noise: MoonNoise,
    scale: f64,
    shift: [f64; 2],
}

impl Moons {
    /// Moons with the given noise, then x = `scale` · (moon + ε) + `shift`.
    ///
    /// Errors ([`Error::InvalidParameter`]): a negative or non-finite noise
    /// level, a non-positive or non-finite scale, a non-finite shift.
    pub fn new(noise: MoonNoise, scale: f64, shift: [f64; 2]) -> Result<Self> {
        match noise {
            MoonNoise::Gaussian(s) => check_non_negative("Moons noise standard deviation", s)?,
            MoonNoise::SharedUniform(w) => check_non_negative("Moons uniform noise width", w)?,
        }
        check_positive("Moons scale", scale)?;
        check_finite_entries("Moons shift", &shift)?;
        Ok(Moons { noise, scale, shift })
    }

    /// scikit-learn's `make_moons(noise = noise_std)`: Gaussian noise, no scaling.
    pub fn sklearn(noise_std: f64) -> Result<Self> {
        Moons::new(MoonNoise::Gaussian(noise_std), 1.0, [0.0, 0.0])
    }

    /// TorchCFM's `sample_moons`: shared uniform noise of width 0.2, then x ↦ 3x − 1.
    pub fn torchcfm() -> Self {
        Moons { noise: MoonNoise::SharedUniform(0.2), scale: 3.0, shift: [-1.0, -1.0] }
    }

    /// The noise model.
    pub fn noise(&self) -> MoonNoise {
        self.noise
    }
}

impl Default for Moons {
    /// [`Moons::torchcfm`].
    fn default() -> Self {
        Moons::torchcfm()
    }
}

impl Dataset for Moons {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "moons".into()
    }
    /// Grid θ per moon, outer (cos θ, sin θ) / inner (1 − cos θ, ½ − sin θ),
    /// x = scale · (moon + ε) + shift, then a shuffle.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        two_parts(out, labels, rng, |k, j, m, rng| {
            let t = linspace_closed(PI, j, m);
            let (mut x, mut y) = if k == 0 { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) };
            match self.noise {
                MoonNoise::Gaussian(s) => {
                    x += s * normal(rng);
                    y += s * normal(rng);
                }
                MoonNoise::SharedUniform(w) => {
                    let e = w * rng.gen::<f64>();
                    x += e;
                    y += e;
                }
            }
            [self.scale * x + self.shift[0], self.scale * y + self.shift[1]]
        });
        Ok(())
    }
    /// E(x) = scale · ((½, ¼) + E ε) + shift (limit n → ∞).
    fn mean(&self) -> Option<Vec<f64>> {
        let e = match self.noise {
            MoonNoise::Gaussian(_) => 0.0,
            MoonNoise::SharedUniform(w) => 0.5 * w,
        };
        Some(vec![self.scale * (0.5 + e) + self.shift[0], self.scale * (0.25 + e) + self.shift[1]])
    }
    /// Cov(x) = scale² · ([[¾, ⅛ − 1/π], [⅛ − 1/π, 9/16 − 1/π]] + Cov ε) (limit n → ∞).
    fn covariance(&self) -> Option<Vec<f64>> {
        let (v11, v12, v22) = (0.75, 0.125 - 1.0 / PI, 0.5625 - 1.0 / PI);
        let (n11, n12, n22) = match self.noise {
            MoonNoise::Gaussian(s) => (s * s, 0.0, s * s),
            MoonNoise::SharedUniform(w) => (w * w / 12.0, w * w / 12.0, w * w / 12.0),
        };
        let s2 = self.scale * self.scale;
        Some(vec![s2 * (v11 + n11), s2 * (v12 + n12), s2 * (v12 + n12), s2 * (v22 + n22)])
    }
}

/// Two concentric circles (scikit-learn's `make_circles`), scaled.
///
/// For n points, n_out = ⌊n/2⌋ lie on the unit circle and n_in = n − n_out
/// on the circle of radius `factor`, each at the angles θᵢ = 2π i / m
/// (i = 0..m, m points per circle), label 0 = outer, 1 = inner. Then
/// x = scale · (circle + ε) with ε ~ N(0, noise² I), and the rows are shuffled.
/// The default (factor ½, noise 0.08, scale 3) follows the FFJORD toy data.
///
/// E(x) = 0 and, for large n, Cov(x) = scale² ((1 + factor²)/4 + noise²) I.
#[derive(Clone, Debug, PartialEq)]
pub struct Circles {
    factor: f64,
    noise: f64,
    scale: f64,
}

impl Circles {
    /// Circles of radii 1 and `factor ∈ [0, 1)`, Gaussian noise `noise ≥ 0`, then × `scale > 0`.
    pub fn new(factor: f64, noise: f64, scale: f64) -> Result<Self> {
        if !(factor.is_finite() && (0.0..1.0).contains(&factor)) {
            return Err(Error::invalid("Circles factor", format!("must lie in [0, 1), got {factor}")));
        }
        check_non_negative("Circles noise standard deviation", noise)?;
        check_positive("Circles scale", scale)?;
        Ok(Circles { factor, noise, scale })
    }
}

impl Default for Circles {
    /// factor ½, noise 0.08, scale 3.
    fn default() -> Self {
        Circles { factor: 0.5, noise: 0.08, scale: 3.0 }
    }
}

impl Dataset for Circles {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "circles".into()
    }
    /// x = scale · (ρ (cos θᵢ, sin θᵢ) + ε), ρ ∈ {1, factor}, θᵢ = 2π i / m; then a shuffle.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        two_parts(out, labels, rng, |k, j, m, rng| {
            let r = if k == 0 { 1.0 } else { self.factor };
            let t = 2.0 * PI * j as f64 / m as f64;
            [
                self.scale * (r * t.cos() + self.noise * normal(rng)),
                self.scale * (r * t.sin() + self.noise * normal(rng)),
            ]
        });
        Ok(())
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; 2])
    }
    /// Cov(x) = scale² ((1 + factor²)/4 + noise²) I (limit n → ∞).
    fn covariance(&self) -> Option<Vec<f64>> {
        let v = (1.0 + self.factor * self.factor) / 4.0 + self.noise * self.noise;
        Some(identity(2, self.scale * self.scale * v))
    }
}

/// Uniform distribution on the dark squares of a `cells × cells` board of
/// squares of side `cell_size`, centred at the origin.
///
/// Cell (i, j) (column i, row j, both from 0) covers
/// [(i − c/2) s, (i + 1 − c/2) s) × [(j − c/2) s, (j + 1 − c/2) s) and is dark
/// when i + j is even. A point picks a dark cell uniformly, then a uniform
/// position inside it. The label is the column parity i mod 2 (two classes,
/// each itself a lattice of squares). The default (4 cells of side 2, on
/// [−4, 4]²) is the FFJORD checkerboard.
///
/// With cᵦ the centres of the N dark cells: E(x) = (1/N) Σ cᵦ and
/// Cov(x) = (1/N) Σ (cᵦ − E x)(cᵦ − E x)ᵀ + (s²/12) I.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkerboard {
    cells: usize,
    cell_size: f64,
    dark: Vec<[usize; 2]>,
}

impl Checkerboard {
    /// A board of `cells ≥ 2` squares per side, each of side `cell_size > 0`.
    pub fn new(cells: usize, cell_size: f64) -> Result<Self> {
        if cells < 2 {
            return Err(Error::invalid("Checkerboard cells", format!("must be at least 2 per side, got {cells}")));
        }
        if cells > 4096 {
            return Err(Error::invalid("Checkerboard cells", format!("must be at most 4096 per side, got {cells}")));
        }
        check_positive("Checkerboard cell size", cell_size)?;
        let dark = (0..cells).flat_map(|j| (0..cells).map(move |i| [i, j])).filter(|[i, j]| (i + j) % 2 == 0).collect();
        Ok(Checkerboard { cells, cell_size, dark })
    }

    /// Lower-left corner of cell index `i` along one axis.
    fn corner(&self, i: usize) -> f64 {
        (i as f64 - 0.5 * self.cells as f64) * self.cell_size
    }
}

impl Default for Checkerboard {
    /// 4 × 4 cells of side 2, covering [−4, 4]².
    fn default() -> Self {
        Checkerboard::new(4, 2.0).expect("the default checkerboard is valid")
    }
}

impl Dataset for Checkerboard {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn name(&self) -> String {
        "checkerboard".into()
    }
    /// Dark cell (i, j) uniform, x = corner(i, j) + s (u, v) with u, v ~ U[0, 1); label i mod 2.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        for (n, row) in out.rows_mut().enumerate() {
            let [i, j] = self.dark[rng.gen_range(0..self.dark.len())];
            row[0] = self.corner(i) + self.cell_size * rng.gen::<f64>();
            row[1] = self.corner(j) + self.cell_size * rng.gen::<f64>();
            set_label(&mut labels, n, i % 2);
        }
        Ok(())
    }
    /// E(x) = mean of the dark cells' centres.
    fn mean(&self) -> Option<Vec<f64>> {
        let h = 0.5 * self.cell_size;
        let n = self.dark.len() as f64;
        let mut m = vec![0.0; 2];
        for c in &self.dark {
            m[0] += (self.corner(c[0]) + h) / n;
            m[1] += (self.corner(c[1]) + h) / n;
        }
        Some(m)
    }
    /// Cov(x) = covariance of the dark cells' centres + (s²/12) I.
    fn covariance(&self) -> Option<Vec<f64>> {
        let h = 0.5 * self.cell_size;
        let m = self.mean()?;
        let n = self.dark.len() as f64;
        let w = self.cell_size * self.cell_size / 12.0;
        let mut c = vec![w, 0.0, 0.0, w];
        for cell in &self.dark {
            let p = [self.corner(cell[0]) + h - m[0], self.corner(cell[1]) + h - m[1]];
            for a in 0..2 {
                for b in 0..2 {
                    c[a * 2 + b] += p[a] * p[b] / n;
                }
            }
        }
        Some(c)
    }
}

/// Spiral arms winding out of the origin (the FFJORD "2spirals" shape,
/// generalised to any number of arms, without its uniform jitter).
///
/// A point picks an arm k uniformly (its label) and t = 3π √u with
/// u ~ U[0, 1); the arm-0 curve is (−t cos t, t sin t)/3, rotated by 2πk/K
/// for arm k, plus N(0, noise² I). With two arms, arm 1 is arm 0 mirrored
/// through the origin.
#[derive(Clone, Debug, PartialEq)]
pub struct Spirals {
    arms: usize,
    noise: f64,
    rotations: Vec<[f64; 2]>,
}

impl Spirals {
    /// `arms ≥ 1` arms (at most 64) and Gaussian noise of standard deviation `noise ≥ 0`.
    pub fn new(arms: usize, noise: f64) -> Result<Self> {
        if arms == 0 || arms > 64 {
            return Err(Error::invalid("Spirals arms", format!("must be between 1 and 64, got {arms}")));
        }
        check_non_negative("Spirals noise standard deviation", noise)?;
        let rotations = (0..arms)
            .map(|k| {
                let phi = 2.0 * PI * k as f64 / arms as f64;
                [phi.cos(), phi.sin()]
            })
            .collect();
        Ok(Spirals { arms, noise, rotations })
    }

    /// Number of arms K.
    pub fn arms(&self) -> usize {
        self.arms
    }
}

impl Default for Spirals {
    /// Two arms, noise 0.1.
    fn default() -> Self {
        Spirals::new(2, 0.1).expect("the default spirals are valid")
    }
}

impl Dataset for Spirals {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        self.arms
    }
    fn name(&self) -> String {
        "spirals".into()
    }
    /// k uniform, t = 3π√u, x = R(2πk/K) (−t cos t, t sin t)/3 + ε; label k.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        for (i, row) in out.rows_mut().enumerate() {
            let k = rng.gen_range(0..self.arms);
            let t = 3.0 * PI * rng.gen::<f64>().sqrt();
            let (a, b) = (-t * t.cos() / 3.0, t * t.sin() / 3.0);
            let [c, s] = self.rotations[k];
            row[0] = c * a - s * b + self.noise * normal(rng);
            row[1] = s * a + c * b + self.noise * normal(rng);
            set_label(&mut labels, i, k);
        }
        Ok(())
    }
}

/// A two-dimensional S: scikit-learn's 3-D `make_s_curve` seen along its flat axis.
///
/// t = 3π(u − ½) with u ~ U[0, 1), the curve is (sin t, sign(t)(cos t − 1)),
/// and x = scale · (curve + ε) with ε ~ N(0, noise² I). It spans about
/// [−1, 1] × [−2, 2] before scaling. One class.
///
/// E(x) = 0 and Cov(x) = scale² ([[½, −1/(3π)], [−1/(3π), 3/2 + 4/(3π)]] + noise² I)
/// (from E sin² t = ½, E cos t = −2/(3π), E sin t · sign(t)(cos t − 1) = −1/(3π)).
#[derive(Clone, Debug, PartialEq)]
pub struct SCurve {
    noise: f64,
    scale: f64,
}

impl SCurve {
    /// Gaussian noise `noise ≥ 0` (in curve units), then × `scale > 0`.
    pub fn new(noise: f64, scale: f64) -> Result<Self> {
        check_non_negative("SCurve noise standard deviation", noise)?;
        check_positive("SCurve scale", scale)?;
        Ok(SCurve { noise, scale })
    }
}

impl Default for SCurve {
    /// noise 0.1, scale 1.
    fn default() -> Self {
        SCurve { noise: 0.1, scale: 1.0 }
    }
}

impl Dataset for SCurve {
    fn dim(&self) -> usize {
        2
    }
    fn num_classes(&self) -> usize {
        1
    }
    fn name(&self) -> String {
        "scurve".into()
    }
    /// t = 3π(u − ½), x = scale · ((sin t, sign(t)(cos t − 1)) + ε); labels 0.
    fn fill(&self, out: &mut Points, labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(2, out, &labels)?;
        for row in out.rows_mut() {
            let t = 3.0 * PI * (rng.gen::<f64>() - 0.5);
            row[0] = self.scale * (t.sin() + self.noise * normal(rng));
            row[1] = self.scale * (t.signum() * (t.cos() - 1.0) + self.noise * normal(rng));
        }
        if let Some(l) = labels {
            l.fill(0);
        }
        Ok(())
    }
    /// E(x) = 0.
    fn mean(&self) -> Option<Vec<f64>> {
        Some(vec![0.0; 2])
    }
    /// Cov(x) = scale² ([[½, −1/(3π)], [−1/(3π), 3/2 + 4/(3π)]] + noise² I).
    fn covariance(&self) -> Option<Vec<f64>> {
        let s2 = self.scale * self.scale;
        let n2 = self.noise * self.noise;
        let c12 = -1.0 / (3.0 * PI);
        Some(vec![s2 * (0.5 + n2), s2 * c12, s2 * c12, s2 * (1.5 + 4.0 / (3.0 * PI) + n2)])
    }
}
