//! The Flow Matching variants of `loss::CfmMethod` against their closed forms: each target is
//! the time derivative of its conditional path, x_t has mean μ_t and variance s_t², FM refuses a
//! non-Gaussian source, and the names round-trip.

use flowmatch::data::{Moons, StandardGaussian};
use flowmatch::loss::CfmMethod;
use flowmatch::nn::Net;
use flowmatch::path::{validate_endpoints, CondOT, LipmanOT, PathNoise, Scheduler};
use flowmatch::train::Trainer;
use flowmatch::{Error, Points};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::f64::consts::FRAC_PI_2;

const SIGMA: f64 = 0.1;

/// The methods with a path of their own (sinkhorn/sbcfm-sinkhorn share the paths of icfm/sbcfm).
const METHODS: [CfmMethod; 4] = [CfmMethod::Icfm, CfmMethod::SbCfm, CfmMethod::Fm, CfmMethod::VpCfm];

/// μ_t for one coordinate, written from the papers' formulas (not from the library).
fn mu(method: CfmMethod, x0: f64, x1: f64, t: f64) -> f64 {
    match method {
        CfmMethod::Icfm | CfmMethod::SbCfm => t * x1 + (1.0 - t) * x0,
        // FM's x₀ is the noise: its mean given x₁ is t x₁.
        CfmMethod::Fm => t * x1,
        CfmMethod::VpCfm => (FRAC_PI_2 * t).cos() * x0 + (FRAC_PI_2 * t).sin() * x1,
        _ => unreachable!(),
    }
}

/// The standard deviation s_t of x_t around μ_t.
fn std(method: CfmMethod, t: f64) -> f64 {
    match method {
        CfmMethod::Icfm | CfmMethod::VpCfm => SIGMA,
        CfmMethod::SbCfm => SIGMA * (t * (1.0 - t)).sqrt(),
        CfmMethod::Fm => 1.0 - (1.0 - SIGMA) * t,
        _ => unreachable!(),
    }
}

fn pairs() -> (Points, Points) {
    let x0 = Points::from_rows(&[[0.3, -1.2], [1.5, 0.4], [-0.7, 2.0]]).unwrap();
    let x1 = Points::from_rows(&[[2.0, 1.0], [-1.0, 3.0], [0.5, -2.5]]).unwrap();
    (x0, x1)
}

#[test]
fn every_target_is_the_time_derivative_of_its_conditional_path() {
    let (x0, x1) = pairs();
    let h = 1e-6;
    for method in METHODS {
        let cfm = method.cfm(SIGMA).unwrap();
        for t in [0.05, 0.3, 0.5, 0.77, 0.95] {
            // The same seed draws the same ε at every time, so x_t(t ± h) lie on one path.
            let at = |s: f64| cfm.batch_at(&x0, &x1, &[s; 3], None, &mut StdRng::seed_from_u64(7)).unwrap();
            let (lo, mid, hi) = (at(t - h), at(t), at(t + h));
            for i in 0..3 {
                for k in 0..2 {
                    let fd = (hi.x_t.row(i)[k] - lo.x_t.row(i)[k]) / (2.0 * h);
                    let target = mid.target.row(i)[k];
                    assert!(
                        (fd - target).abs() < 1e-5 * (1.0 + target.abs()),
                        "{}: at t = {t}, row {i}, the target {target} is not d x_t/dt = {fd}",
                        method.name()
                    );
                }
            }
        }
    }
}

#[test]
fn x_t_has_mean_mu_t_and_variance_s_t_squared() {
    let n = 40_000;
    let (a, b) = ([0.8, -0.5], [-1.5, 2.0]);
    for method in METHODS {
        let cfm = method.cfm(SIGMA).unwrap();
        let mut rng = StdRng::seed_from_u64(11);
        // FM's randomness is x₀ ~ N(0, I) itself; the others add ε around a fixed pair.
        let x0 = if method == CfmMethod::Fm {
            flowmatch::data::Dataset::sample(&StandardGaussian::new(2).unwrap(), n, 3).unwrap()
        } else {
            Points::from_fn(n, 2, |_, k| a[k])
        };
        let x1 = Points::from_fn(n, 2, |_, k| b[k]);
        for t in [0.2, 0.5, 0.9] {
            let s = cfm.batch_at(&x0, &x1, &[t; 1][..].repeat(n), None, &mut rng).unwrap();
            for k in 0..2 {
                let col: Vec<f64> = (0..n).map(|i| s.x_t.row(i)[k]).collect();
                let m = col.iter().sum::<f64>() / n as f64;
                let v = col.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
                let (m_want, s_want) = (mu(method, a[k], b[k], t), std(method, t));
                // Five standard errors of the mean and of the variance.
                let se_m = 5.0 * s_want / (n as f64).sqrt();
                let se_v = 5.0 * s_want * s_want * (2.0 / n as f64).sqrt();
                assert!((m - m_want).abs() < se_m, "{} at t = {t}: mean {m}, want μ_t = {m_want}", method.name());
                assert!(
                    (v - s_want * s_want).abs() < se_v,
                    "{} at t = {t}: variance {v}, want s_t² = {}",
                    method.name(),
                    s_want * s_want
                );
            }
        }
    }
}

#[test]
fn the_bridge_target_is_finite_at_the_ends_and_adds_the_torchcfm_term() {
    let (x0, x1) = pairs();
    let cfm = CfmMethod::SbCfm.cfm(SIGMA).unwrap();
    for t in [0.0, 1.0] {
        let s = cfm.batch_at(&x0, &x1, &[t; 3], None, &mut StdRng::seed_from_u64(1)).unwrap();
        assert!(s.target.as_slice().iter().all(|v| v.is_finite()), "SB-CFM target at t = {t} is not finite");
    }
    // Inside: target = x₁ − x₀ + (1 − 2t)/(2t(1 − t)) (x_t − μ_t), TorchCFM's formula.
    let t = 0.2;
    let s = cfm.batch_at(&x0, &x1, &[t; 3], None, &mut StdRng::seed_from_u64(1)).unwrap();
    for i in 0..3 {
        for k in 0..2 {
            let mu_t = t * x1.row(i)[k] + (1.0 - t) * x0.row(i)[k];
            let want = x1.row(i)[k] - x0.row(i)[k] + (1.0 - 2.0 * t) / (2.0 * t * (1.0 - t)) * (s.x_t.row(i)[k] - mu_t);
            assert!((s.target.row(i)[k] - want).abs() < 1e-12, "row {i}: {} vs {want}", s.target.row(i)[k]);
        }
    }
    assert!(PathNoise::Bridge(0.0).validate().is_err(), "a bridge needs σ > 0");
}

#[test]
fn fm_refuses_a_moons_source_with_a_message_naming_the_fix() {
    let mut model = Net::mlp(2, 32).unwrap();
    let trainer = Trainer::new(Moons::torchcfm()).source(Moons::torchcfm()).method(CfmMethod::Fm, SIGMA).steps(2);
    let e = trainer.train(&mut model).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::InvalidParameter { .. }), "{e:?}");
    assert!(msg.contains("moons") && msg.contains("N(0, I)"), "the message should name the source and the fix: {msg}");
    // From N(0, I) it trains.
    let trainer = Trainer::new(Moons::torchcfm()).method(CfmMethod::Fm, SIGMA).steps(2);
    trainer.train(&mut model).unwrap();
}

#[test]
fn lipman_ot_ends_at_sigma_min_and_the_check_knows_it() {
    let s = LipmanOT::new(0.1).unwrap();
    validate_endpoints(&s).unwrap();
    assert!((s.eval(1.0).sigma - s.terminal_sigma()).abs() < 1e-15 && s.terminal_sigma() == 0.1);
    assert_eq!(CondOT.terminal_sigma(), 0.0);
    for bad in [-0.1, 1.0, f64::NAN] {
        assert!(LipmanOT::new(bad).is_err(), "σ_min = {bad} must be refused");
    }
}

#[test]
fn method_names_round_trip_and_unknown_names_list_the_choices() {
    for name in CfmMethod::NAMES {
        let m = CfmMethod::from_name(name).unwrap();
        assert_eq!(m.name(), *name);
        m.cfm(SIGMA).unwrap();
        m.coupling(SIGMA).unwrap();
    }
    let e = CfmMethod::from_name("rectified").unwrap_err().to_string();
    assert!(e.contains("sbcfm") && e.contains("vpcfm") && e.contains("fm"), "{e}");
    assert!(CfmMethod::SbCfmSinkhorn.coupling(0.0).is_err(), "ε = 2σ² = 0 must be refused");
    // The SB-CFM variants and FM describe their own paths.
    assert!(CfmMethod::SbCfm.cfm(SIGMA).unwrap().describe().contains("bridge"));
    assert!(CfmMethod::Fm.cfm(SIGMA).unwrap().describe().contains("LipmanOT"));
    assert!(CfmMethod::VpCfm.cfm(SIGMA).unwrap().describe().contains("Cosine"));
}
