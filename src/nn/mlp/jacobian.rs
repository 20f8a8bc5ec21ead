//! The input Jacobian of the velocity MLP, for exact likelihoods and Hutchinson's estimator.
//!
//! ```text
//! J(x, t) = ∂v_θ(x, t)/∂x,     ∇·v_θ = tr J,     J ε (a Jacobian-vector product)
//! ```
//!
//! The SiLU MLP on the CPU pushes tangents forward through its layers on the fast path
//! (`fused/jvp.rs`): d tangents for the divergence, one per Hutchinson probe. Other
//! activations and devices build the plain dfdx graph and differentiate it in reverse mode,
//! one backward pass per output coordinate (the whole Jacobian, row by row).
//!
//! A conditional model (`Mlp::conditional`) is differentiated at a given label y, its
//! Jacobian J(x, t | y) = ∂v_θ(x, t | y)/∂x, through [`ConditionalDivergence`]: the label
//! vector E[y] shifts the first pre-activation, so J depends on y although E[y] does not
//! depend on x. [`Divergence`] alone takes ∅ for every row, as `velocity(x, t, None)` does;
//! a model without conditioning has no labels and is differentiated as before.

use super::super::device::{dev_err, ModelDevice};
use super::super::fused::{Embed, Tangents};
use super::Mlp;
use crate::error::{Error, Result};
use crate::likelihood::{ConditionalDivergence, Divergence};
use crate::points::Points;
use dfdx::prelude::{Const, Rank0, Tensor, Trace};
use dfdx::tensor::OwnedTape;
use dfdx::tensor_ops::{Backward, SumTo, TryMul};

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Mlp<D, H, TF, Dev> {
    /// Checks the inputs of a Jacobian product: points of dimension D, outputs of their shape.
    fn check_jacobian_io(&self, x: &Points, v: &Points, probes: &[Points], jv: &[Points]) -> Result<()> {
        self.check_x(x)?;
        x.check_same_shape(v, "the velocity buffer of a Jacobian product")?;
        if probes.len() != jv.len() {
            return Err(Error::shape(
                "the Jacobian products of an Mlp",
                format!("one output per probe ({})", probes.len()),
                format!("{} outputs", jv.len()),
            ));
        }
        for (p, o) in probes.iter().zip(jv) {
            x.check_same_shape(p, "a probe (one direction per point)")?;
            x.check_same_shape(o, "the output of a Jacobian product")?;
        }
        Ok(())
    }

    /// v(x, t | y) and the whole Jacobian at every row on the plain dfdx graph (reverse mode, one
    /// backward pass per output coordinate): n × D × D row-major, `[i·D² + a·D + b] = ∂v_a/∂x_b`.
    /// `rows` are the label-table rows of a conditional model (checked), `None` without one.
    fn generic_jacobian(&self, x: &Points, t: f64, rows: Option<&[usize]>) -> Result<(Vec<f32>, Vec<f32>)> {
        self.sync_ids()?;
        let n = x.len();
        let times = vec![t; n];
        let mut jac = vec![0.0f32; n * D * D];
        let mut velocity = Vec::new();
        for a in 0..D {
            let (xs, tau) = self.inputs(x, &times)?;
            let traced = xs.leaky_trace();
            let tau = tau.retaped::<OwnedTape<f32, Dev>>();
            let extra = self.labels.as_ref().zip(rows).map(|(l, rows)| {
                self.dev.tensor_from_vec(l.gather(rows), (n, Const::<H>)).retaped::<OwnedTape<f32, Dev>>()
            });
            let v = self.net.forward_with(traced, tau, extra, self.config.activation).map_err(dev_err)?;
            if a == 0 {
                velocity = v.as_vec();
            }
            // Σ_i v_{i,a}: row i of its gradient is ∂v_a/∂x at point i (rows do not interact).
            let mask: Vec<f32> = (0..n * D).map(|k| if k % D == a { 1.0 } else { 0.0 }).collect();
            let mask: Tensor<(usize, Const<D>), f32, Dev> = self.dev.tensor_from_vec(mask, (n, Const::<D>));
            let total = v.try_mul(mask).map_err(dev_err)?.try_sum::<Rank0, _>().map_err(dev_err)?;
            let grads = total.try_backward().map_err(dev_err)?;
            let g = grads.get(&xs).as_vec();
            for i in 0..n {
                jac[i * D * D + a * D..i * D * D + (a + 1) * D].copy_from_slice(&g[i * D..(i + 1) * D]);
            }
        }
        Ok((velocity, jac))
    }
}

impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Mlp<D, H, TF, Dev> {
    /// v and J ε for every probe at the labels `labels` (see [`Mlp::velocity`]): forward mode on
    /// the fast path, else the plain dfdx graph.
    fn jvp_labelled(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        probes: &[Points],
        v: &mut Points,
        jv: &mut [Points],
    ) -> Result<()> {
        self.check_jacobian_io(x, v, probes, jv)?;
        let n = x.len();
        let rows = self.label_rows(labels, n)?;
        let rows = rows.as_deref();
        if n == 0 {
            return Ok(());
        }
        if probes.is_empty() {
            return self.write_velocity(x, crate::field::Time::Same(t), rows, v);
        }
        let k = probes.len();
        if let Some(frozen) = self.fast() {
            let dirs: Vec<&[f64]> = probes.iter().map(|p| p.as_slice()).collect();
            let mut out = vec![0.0; n * k * D];
            let embed = self.embed(rows);
            frozen.eval_tangents(x.as_slice(), t, embed, Tangents::Probes(&dirs), v.as_mut_slice(), &mut out);
            for (j, o) in jv.iter_mut().enumerate() {
                for i in 0..n {
                    o.row_mut(i).copy_from_slice(&out[(i * k + j) * D..(i * k + j + 1) * D]);
                }
            }
            return Ok(());
        }
        let (vel, jac) = self.generic_jacobian(x, t, rows)?;
        v.as_mut_slice().iter_mut().zip(&vel).for_each(|(o, a)| *o = *a as f64);
        for (e, o) in probes.iter().zip(jv.iter_mut()) {
            for i in 0..n {
                let ji = &jac[i * D * D..(i + 1) * D * D];
                for (a, oa) in o.row_mut(i).iter_mut().enumerate() {
                    *oa = (0..D).map(|b| ji[a * D + b] as f64 * e.row(i)[b]).sum();
                }
            }
        }
        Ok(())
    }

    /// v and tr J at the labels `labels`: D tangents in forward mode on the fast path, else the
    /// plain dfdx graph.
    fn divergence_labelled(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        v: &mut Points,
        div: &mut [f64],
    ) -> Result<()> {
        self.check_jacobian_io(x, v, &[], &[])?;
        let rows = self.label_rows(labels, x.len())?;
        let rows = rows.as_deref();
        if div.len() != x.len() {
            return Err(Error::shape(
                "the divergence buffer of an Mlp",
                format!("one number per point ({})", x.len()),
                format!("{} numbers", div.len()),
            ));
        }
        if x.is_empty() {
            return Ok(());
        }
        if let Some(frozen) = self.fast() {
            frozen.eval_tangents(x.as_slice(), t, self.embed(rows), Tangents::Basis, v.as_mut_slice(), div);
            return Ok(());
        }
        let (vel, jac) = self.generic_jacobian(x, t, rows)?;
        v.as_mut_slice().iter_mut().zip(&vel).for_each(|(o, a)| *o = *a as f64);
        for (i, o) in div.iter_mut().enumerate() {
            *o = (0..D).map(|a| jac[i * D * D + a * D + a] as f64).sum();
        }
        Ok(())
    }

    /// The label vectors of the fast path for the checked table rows of a conditional model.
    fn embed<'a>(&'a self, rows: Option<&'a [usize]>) -> Option<Embed<'a>> {
        self.labels.as_ref().zip(rows).map(|(l, rows)| Embed { table: l.table(), rows })
    }
}

/// The Jacobian at ∅ for every row (a conditional model), or of the model without conditioning.
impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> Divergence for Mlp<D, H, TF, Dev> {
    fn dim(&self) -> usize {
        D
    }

    fn jvp_into(&self, x: &Points, t: f64, probes: &[Points], v: &mut Points, jv: &mut [Points]) -> Result<()> {
        self.jvp_labelled(x, t, None, probes, v, jv)
    }

    fn divergence_into(&self, x: &Points, t: f64, v: &mut Points, div: &mut [f64]) -> Result<()> {
        self.divergence_labelled(x, t, None, v, div)
    }
}

/// J(x, t | y) of a conditional model at one label per row (`0..K` or `NULL_LABEL`); a model
/// without conditioning takes `None` only.
impl<const D: usize, const H: usize, const TF: usize, Dev: ModelDevice> ConditionalDivergence for Mlp<D, H, TF, Dev> {
    fn jvp_given_into(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        probes: &[Points],
        v: &mut Points,
        jv: &mut [Points],
    ) -> Result<()> {
        self.jvp_labelled(x, t, labels, probes, v, jv)
    }

    fn divergence_given_into(
        &self,
        x: &Points,
        t: f64,
        labels: Option<&[usize]>,
        v: &mut Points,
        div: &mut [f64],
    ) -> Result<()> {
        self.divergence_labelled(x, t, labels, v, div)
    }
}

#[cfg(test)]
mod tests {
    //! The forward-mode products of the fast path against reverse-mode autograd of the plain
    //! dfdx graph, on the same weights.
    use super::*;
    use crate::nn::config::{MlpConfig, TimeEmbedding};
    use dfdx::tensor::Cpu;

    fn rel(a: &[f64], b: &[f64]) -> f64 {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
        a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs())) / scale
    }

    fn check<const D: usize, const H: usize, const TF: usize>(config: MlpConfig, n: usize, seed: u64) {
        let model = Mlp::<D, H, TF, Cpu>::new(MlpConfig { seed, ..config }).unwrap();
        assert!(model.fast().is_some(), "the SiLU model on the CPU takes the fast path");
        let x = Points::randn(n, D, seed + 1) * 2.0;
        let probes = crate::likelihood::draw_probes(n, D, 3, crate::likelihood::Probe::Gaussian, seed);
        let what = format!("D={D} H={H} TF={TF} n={n}");
        for t in [0.0, 0.37, 1.0] {
            let (vel, jac) = model.generic_jacobian(&x, t, None).unwrap();
            let vel: Vec<f64> = vel.iter().map(|v| *v as f64).collect();
            let (mut v, mut div) = (Points::zeros(n, D), vec![0.0; n]);
            model.divergence_into(&x, t, &mut v, &mut div).unwrap();
            let want: Vec<f64> = (0..n).map(|i| (0..D).map(|a| jac[i * D * D + a * D + a] as f64).sum()).collect();
            assert!(rel(v.as_slice(), &vel) < 1e-5, "{what}: velocity");
            assert!(rel(&div, &want) < 1e-4, "{what}, t = {t}: divergence off by {}", rel(&div, &want));
            let mut jv: Vec<Points> = probes.iter().map(|_| Points::zeros(n, D)).collect();
            model.jvp_into(&x, t, &probes, &mut v, &mut jv).unwrap();
            for (e, got) in probes.iter().zip(&jv) {
                let want: Vec<f64> = (0..n * D)
                    .map(|k| {
                        let (i, a) = (k / D, k % D);
                        (0..D).map(|b| jac[i * D * D + a * D + b] as f64 * e.row(i)[b]).sum()
                    })
                    .collect();
                assert!(
                    rel(got.as_slice(), &want) < 1e-4,
                    "{what}, t = {t}: J ε off by {}",
                    rel(got.as_slice(), &want)
                );
            }
        }
    }

    #[test]
    fn forward_mode_matches_reverse_mode_autograd() {
        check::<2, 64, 1>(MlpConfig::default(), 1100, 0); // several chunks, rows not a multiple of 16
        check::<2, 32, 16>(MlpConfig { time_embedding: TimeEmbedding::fourier(), ..MlpConfig::default() }, 40, 1);
        check::<1, 16, 1>(MlpConfig::default(), 7, 2); // thin hidden layers
        check::<3, 48, 1>(MlpConfig::default(), 300, 3);
        check::<40, 64, 1>(MlpConfig::default(), 50, 4); // wide input and output: gemm in the first and last layers
    }

    /// J(x, t | y) by central differences of v(x, t | y) in each coordinate (f64 steps of a
    /// float32 network: h = 1e-2 keeps rounding near 1e-5 and truncation near 1e-4 relative).
    fn finite_difference_jacobian<const D: usize, const H: usize, const TF: usize>(
        model: &Mlp<D, H, TF, Cpu>,
        x: &Points,
        t: f64,
        labels: &[usize],
    ) -> Vec<f64> {
        let (n, h) = (x.len(), 1e-2);
        let mut jac = vec![0.0; n * D * D];
        for b in 0..D {
            let shifted = |s: f64| Points::from_fn(n, D, |i, j| x.row(i)[j] + if j == b { s } else { 0.0 });
            let up = model.velocity(&shifted(h), t, Some(labels)).unwrap();
            let down = model.velocity(&shifted(-h), t, Some(labels)).unwrap();
            for i in 0..n {
                for a in 0..D {
                    jac[i * D * D + a * D + b] = (up.row(i)[a] - down.row(i)[a]) / (2.0 * h);
                }
            }
        }
        jac
    }

    /// A conditional model at a given label: its Jacobian (every product J e_b, and the
    /// divergence) matches finite differences of v(·, t | y) on the fast path (SiLU) and on the
    /// plain graph (tanh), and differs from the Jacobian at another label, so the label is used.
    fn check_conditional<const D: usize, const H: usize>(config: MlpConfig, classes: usize, n: usize, seed: u64) {
        let model = Mlp::<D, H, 1, Cpu>::conditional(MlpConfig { seed, ..config }, classes).unwrap();
        let x = Points::randn(n, D, seed + 1) * 1.5;
        let basis: Vec<Points> = (0..D).map(|b| Points::from_fn(n, D, |_, j| if j == b { 1.0 } else { 0.0 })).collect();
        let what = format!("D={D} H={H} K={classes} {:?}", config.activation);
        for (t, y) in [(0.2, 0), (0.7, classes - 1), (0.5, crate::field::NULL_LABEL)] {
            let labels = vec![y; n];
            let want = finite_difference_jacobian(&model, &x, t, &labels);
            let (mut v, mut jv) = (Points::zeros(n, D), vec![Points::zeros(n, D); D]);
            model.jvp_given_into(&x, t, Some(&labels), &basis, &mut v, &mut jv).unwrap();
            let vel = model.velocity(&x, t, Some(&labels)).unwrap();
            assert!(rel(v.as_slice(), vel.as_slice()) < 1e-6, "{what}, y = {y}: velocity beside J");
            let got: Vec<f64> = (0..n * D * D).map(|k| jv[k % D].row(k / (D * D))[(k / D) % D]).collect();
            assert!(
                rel(&got, &want) < 2e-3,
                "{what}, t = {t}, y = {y}: J off finite differences by {}",
                rel(&got, &want)
            );
            let mut div = vec![0.0; n];
            model.divergence_given_into(&x, t, Some(&labels), &mut v, &mut div).unwrap();
            let want_div: Vec<f64> = (0..n).map(|i| (0..D).map(|a| want[i * D * D + a * D + a]).sum()).collect();
            assert!(rel(&div, &want_div) < 2e-3, "{what}, y = {y}: divergence off by {}", rel(&div, &want_div));
            // Another label moves the Jacobian by far more than the tolerance.
            let other = vec![if y == 0 { 1 } else { 0 }; n];
            let elsewhere = finite_difference_jacobian(&model, &x, t, &other);
            assert!(rel(&elsewhere, &want) > 2e-2, "{what}: the label should change J ({})", rel(&elsewhere, &want));
        }
        // Without labels a conditional model is at ∅, as its velocity is.
        let (mut v, mut div) = (Points::zeros(n, D), vec![0.0; n]);
        model.divergence_into(&x, 0.5, &mut v, &mut div).unwrap();
        let (mut v_null, mut div_null) = (Points::zeros(n, D), vec![0.0; n]);
        let null = vec![crate::field::NULL_LABEL; n];
        model.divergence_given_into(&x, 0.5, Some(&null), &mut v_null, &mut div_null).unwrap();
        assert_eq!((v.as_slice(), &div), (v_null.as_slice(), &div_null), "{what}: no labels is ∅");
        // A label outside the classes, or labels for an unconditional model: clear errors.
        let bad = vec![classes; n];
        assert!(model.divergence_given_into(&x, 0.5, Some(&bad), &mut v, &mut div).is_err());
        let plain = Mlp::<D, H, 1, Cpu>::new(config).unwrap();
        assert!(plain.divergence_given_into(&x, 0.5, Some(&null), &mut v, &mut div).is_err());
    }

    #[test]
    fn conditional_jacobian_matches_finite_differences_at_a_given_label() {
        check_conditional::<2, 64>(MlpConfig::default(), 8, 600, 5); // fast path, two chunks
        check_conditional::<3, 32>(MlpConfig::default(), 3, 20, 6);
        let tanh = MlpConfig { activation: crate::nn::config::Activation::Tanh, ..MlpConfig::default() };
        check_conditional::<2, 32>(tanh, 4, 25, 7); // plain dfdx graph, reverse mode
    }
}
