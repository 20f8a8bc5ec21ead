//! Topic 7.6: the diffusion room against closed forms: the time dictionary, the VP-SDE's
//! marginals and DDPM, the samplers driven by the exact score of a Gaussian mixture, the
//! loss weight, the conversions, DDIM as Euler, the schedule transform, and ε-training.

use flowmatch::data::{Dataset, EightGaussians, GaussianMixture};
use flowmatch::diffusion::time::{from_ddpm_step, from_diffusion, to_diffusion};
use flowmatch::diffusion::{
    ddim, eps_weight, EpsMatching, Predictor, ProbabilityFlow, ReverseSde, ScheduleTransform, VpSde,
};
use flowmatch::loss::Objective;
use flowmatch::marginal::{check_sampler, Marginal, SamplingSettings};
use flowmatch::nn::{checkpoint, Net};
use flowmatch::path::{AffinePath, CondOT, Prediction, Scheduler, VariancePreserving};
use flowmatch::solver::{euler_maruyama, solve, Method, SdeOptions, TimeGrid};
use flowmatch::train::{Progress, Trainer};
use flowmatch::{pointwise, Error, Points, VectorField};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A small, well-separated two-dimensional mixture with positive-definite covariances.
fn mixture() -> GaussianMixture {
    GaussianMixture::isotropic(
        vec![0.5, 0.3, 0.2],
        vec![vec![-2.0, 0.0], vec![2.0, 1.0], vec![0.0, -2.5]],
        vec![0.3, 0.4, 0.25],
    )
    .unwrap()
}

/// A smooth, nonlinear stand-in for a network: any function of (x, t) will do for identities.
fn fake_net() -> impl VectorField {
    pointwise(|x: &[f64], t: f64| vec![(x[0] * t).sin() + 0.3 * x[1].tanh(), (0.1 * x[0] * x[1]).tanh() - t])
}

fn max_abs_diff(a: &Points, b: &Points) -> f64 {
    a.as_slice().iter().zip(b.as_slice()).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------
// The time dictionary, the VP-SDE and DDPM
// ---------------------------------------------------------------------------

#[test]
fn the_time_dictionary_maps_data_to_data_and_noise_to_noise() {
    assert_eq!(to_diffusion(1.0), 0.0, "our data end is diffusion's s = 0");
    assert_eq!(to_diffusion(0.0), 1.0, "our noise end is diffusion's s = 1");
    for t in [0.0, 0.125, 0.25, 0.75, 1.0] {
        assert_eq!(from_diffusion(to_diffusion(t)), t);
    }
    assert_eq!(from_ddpm_step(0, 1000).unwrap(), 1.0, "DDPM step 0 is the data");
    assert_eq!(from_ddpm_step(1000, 1000).unwrap(), 0.0, "DDPM step N is the noise");
    assert_eq!(from_ddpm_step(250, 1000).unwrap(), 0.75);
    assert!(matches!(from_ddpm_step(3, 0), Err(Error::ZeroCount { .. })));
    assert!(matches!(from_ddpm_step(11, 10), Err(Error::InvalidParameter { .. })));
    // The scheduler reads β at s = 1 − t: α_t = exp(−½ ∫₀^{1−t} β), checked by quadrature.
    let sde = VpSde::default();
    for t in [0.0, 0.2, 0.5, 0.9] {
        let s = 1.0 - t;
        let k = 20_000;
        let integral: f64 = (0..k).map(|i| sde.beta((i as f64 + 0.5) * s / k as f64) * s / k as f64).sum();
        let alpha = sde.scheduler().eval(t).alpha;
        assert!((alpha - (-0.5 * integral).exp()).abs() < 1e-9, "t = {t}: {alpha}");
        assert_eq!(sde.beta_at(t), sde.beta(s));
    }
    assert_eq!(sde.beta_at(1.0), 0.1, "β_min at the data end");
    assert_eq!(sde.beta_at(0.0), 20.0, "β_max at the noise end");
}

#[test]
fn the_forward_sde_has_the_closed_form_marginals() {
    // Run dx = −½β x ds + √β dW from a fixed data point (our time: from t = 1 down), and
    // compare the empirical mean and variance at diffusion times s with (m x, v).
    let sde = VpSde::default();
    let n = 20_000;
    let x_data = 2.0;
    let drift = |x: &Points, t: f64| sde.forward_drift(x, t);
    let drift = flowmatch::batched(drift);
    for s_end in [0.1, 0.3, 1.0] {
        let grid = TimeGrid::uniform(1.0, from_diffusion(s_end), 400).unwrap();
        let g = |t: f64| sde.beta_at(t).sqrt();
        let x0 = Points::from_fn(n, 1, |_, _| x_data);
        let sol = euler_maruyama(&drift, &g, &x0, &grid, &SdeOptions::seeded(11)).unwrap();
        let xs = sol.final_state.as_slice();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let (m, v) = sde.marginal(s_end).unwrap();
        assert!((mean - m * x_data).abs() < 0.03, "s = {s_end}: mean {mean} vs {}", m * x_data);
        assert!((var - v).abs() < 0.04, "s = {s_end}: variance {var} vs {v}");
    }
    assert!(sde.marginal(1.5).is_err(), "a diffusion time outside [0, 1] is an error");
}

#[test]
fn ddpm_alpha_bars_converge_to_the_vp_path_at_order_one() {
    let sde = VpSde::default();
    let ddpm = sde.ddpm(1000).unwrap();
    assert!((ddpm.betas()[0] - 1e-4).abs() < 1e-15 && (ddpm.betas()[999] - 0.02).abs() < 1e-15, "Ho et al.'s βs");
    assert_eq!(ddpm.alpha_bar(0).unwrap(), 1.0);
    assert!(ddpm.alpha_bar(1001).is_err());
    let err = |steps: usize| {
        let d = sde.ddpm(steps).unwrap();
        (0..=steps)
            .map(|n| {
                let t = d.time(n).unwrap();
                (d.alpha_bar(n).unwrap() - sde.scheduler().eval(t).alpha.powi(2)).abs()
            })
            .fold(0.0, f64::max)
    };
    let errors: Vec<f64> = [250, 500, 1000, 2000].iter().map(|&n| err(n)).collect();
    assert!(errors[2] < 5e-3, "{errors:?}");
    for w in errors.windows(2) {
        let ratio = w[0] / w[1];
        assert!((1.7..2.3).contains(&ratio), "halving the step should halve the error: {errors:?}");
    }
    // Noising in one go matches the chain's formula.
    let x = Points::from_rows(&[[1.0, -1.0]]).unwrap();
    let eps = Points::from_rows(&[[0.5, 0.5]]).unwrap();
    let a = ddpm.alpha_bar(400).unwrap();
    let noised = ddpm.noised(&x, 400, &eps).unwrap();
    assert!((noised.row(0)[0] - (a.sqrt() + 0.5 * (1.0 - a).sqrt())).abs() < 1e-12);
}

#[test]
fn invalid_betas_step_counts_and_states_are_clear_errors() {
    for (b0, b1, needle) in [
        (f64::NAN, 20.0, "finite"),
        (5.0, 1.0, "beta_min < beta_max"),
        (-0.1, 20.0, "beta_min < beta_max"),
        (0.1, 5.0, "Raise beta_max"),
    ] {
        let e = VpSde::new(b0, b1).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }) && e.to_string().contains(needle), "{e}");
    }
    let sde = VpSde::default();
    assert!(matches!(sde.ddpm(0), Err(Error::ZeroCount { .. })));
    let e = sde.ddpm(10).unwrap_err();
    assert!(e.to_string().contains("more than 20 steps"), "{e}");
    assert!(matches!(TimeGrid::uniform(0.0, 1.0, 0), Err(Error::ZeroCount { .. })), "a step count of 0");
    // A non-finite start, and a score that blows the state up, each name the problem.
    let exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    let grid = TimeGrid::uniform(0.0, 1.0, 10).unwrap();
    let mut x0 = Points::randn(4, 2, 0);
    x0.row_mut(2)[1] = f64::NAN;
    let e = ReverseSde::new(exact.score_field(), sde).sample(&x0, &grid, 0).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }) && e.to_string().contains("initial state"), "{e}");
    let wild = pointwise(|x: &[f64], _t| x.iter().map(|v| v * 1e300).collect());
    let e = ReverseSde::new(wild, sde).sample(&Points::randn(4, 2, 0), &grid, 0).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }) && e.to_string().contains("Euler–Maruyama step"), "{e}");
    let e = solve(&ProbabilityFlow::new(wild, sde), &Points::randn(4, 2, 0), &grid, Method::Euler).unwrap_err();
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
    // A learned score is undefined at t = 1 (σ_1 = 0): a method that evaluates there is told so.
    let net = fake_net();
    let model = Predictor::new(&net, sde.scheduler(), Prediction::Noise).unwrap();
    let e = solve(&model, &Points::randn(4, 2, 0), &grid, Method::Heun).unwrap_err();
    assert!(e.to_string().contains("t < 1") || e.to_string().contains("t = 1"), "{e}");
    // A negative noise level is rejected.
    let e = euler_maruyama(&wild, &|_t| -1.0, &Points::randn(2, 2, 0), &grid, &SdeOptions::seeded(0)).unwrap_err();
    assert!(e.to_string().contains("≥ 0"), "{e}");
}

// ---------------------------------------------------------------------------
// The samplers, driven by the exact score of a Gaussian mixture
// ---------------------------------------------------------------------------

#[test]
fn the_probability_flow_field_is_the_flow_matching_marginal_velocity() {
    let sde = VpSde::default();
    let exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    let pf = ProbabilityFlow::new(exact.score_field(), sde);
    let x = Points::randn(64, 2, 5);
    let x = 3.0 * &x;
    for t in [0.0, 0.05, 0.3, 0.5, 0.8, 0.95, 0.999, 1.0 - 1e-9] {
        let got = pf.eval(&x, t).unwrap();
        let want = exact.velocity(&x, t).unwrap();
        let scale = want.as_slice().iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        assert!(max_abs_diff(&got, &want) <= 1e-6 * scale, "t = {t}: {}", max_abs_diff(&got, &want));
    }
    // Per-row times agree with one time for all rows.
    let ts: Vec<f64> = (0..64).map(|i| 0.99 * i as f64 / 63.0).collect();
    let rows = pf.eval_rows(&x, &ts).unwrap();
    for i in [0, 17, 63] {
        let one = pf.eval(&x.select(&[i]), ts[i]).unwrap();
        assert_eq!(rows.row(i), one.row(0));
    }
}

fn floor_settings() -> SamplingSettings {
    SamplingSettings { n: 400, repeats: 4, seed: 3, ..SamplingSettings::default() }
}

#[test]
fn the_reverse_sde_with_the_exact_score_reaches_the_w2_floor() {
    let sde = VpSde::default();
    let exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    let reverse = ReverseSde::new(exact.score_field(), sde);
    let grid = TimeGrid::uniform(0.0, 1.0, 400).unwrap();
    let sampler = |x0: &Points| reverse.sample(x0, &grid, 9).map(|s| s.final_state);
    let report = check_sampler(&exact, &sampler, &floor_settings()).unwrap();
    assert!(report.passed, "{report}");
    // A wrong sign of the score term (a forward drift) does not sample the data.
    let flipped = ReverseSde::new(pointwise(|x: &[f64], _t| x.iter().map(|v| -v).collect()), sde);
    let wrong = |x0: &Points| flipped.sample(x0, &grid, 9).map(|s| s.final_state);
    assert!(!check_sampler(&exact, &wrong, &floor_settings()).unwrap().passed);
}

#[test]
fn the_probability_flow_ode_with_the_exact_score_reaches_the_w2_floor() {
    let sde = VpSde::default();
    let exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    let pf = ProbabilityFlow::new(exact.score_field(), sde);
    let grid = TimeGrid::uniform(0.0, 1.0, 100).unwrap();
    let sampler = |x0: &Points| solve(&pf, x0, &grid, Method::Midpoint).map(|s| s.final_state);
    let report = check_sampler(&exact, &sampler, &floor_settings()).unwrap();
    assert!(report.passed, "{report}");
    // Halving the score term (the SDE's drift without noise) is not a sampler.
    let sde_drift = ReverseSde::new(exact.score_field(), sde);
    let wrong = |x0: &Points| solve(&sde_drift, x0, &grid, Method::Midpoint).map(|s| s.final_state);
    assert!(!check_sampler(&exact, &wrong, &floor_settings()).unwrap().passed);
}

#[test]
fn ode_samples_are_bit_identical_and_sde_samples_follow_their_seed() {
    let sde = VpSde::default();
    let exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    let x0 = Points::randn(200, 2, 1);
    let grid = TimeGrid::uniform(0.0, 1.0, 30).unwrap();
    let pf = ProbabilityFlow::new(exact.score_field(), sde);
    let a = solve(&pf, &x0, &grid, Method::Midpoint).unwrap().final_state;
    let b = solve(&pf, &x0, &grid, Method::Midpoint).unwrap().final_state;
    assert_eq!(a.as_slice(), b.as_slice(), "the ODE is deterministic");
    let reverse = ReverseSde::new(exact.score_field(), sde);
    let s1 = reverse.sample(&x0, &grid, 1).unwrap().final_state;
    let s1_again = reverse.sample(&x0, &grid, 1).unwrap().final_state;
    let s2 = reverse.sample(&x0, &grid, 2).unwrap().final_state;
    assert_eq!(s1.as_slice(), s1_again.as_slice(), "one seed, one set of samples");
    assert!(max_abs_diff(&s1, &s2) > 0.1, "other seeds, other samples");
    assert!(max_abs_diff(&s1, &a) > 0.1, "the SDE is not the ODE");
    // DDIM is deterministic too.
    let net = fake_net();
    let model = Predictor::new(&net, sde.scheduler(), Prediction::Noise).unwrap();
    let d1 = ddim(&model, &x0, &grid).unwrap();
    let d2 = ddim(&model, &x0, &grid).unwrap();
    assert_eq!(d1.final_state.as_slice(), d2.final_state.as_slice());
    assert_eq!((d1.nfe, s1.len()), (30, 200));
}

#[test]
fn euler_maruyama_has_weak_order_one_on_an_ornstein_uhlenbeck_process() {
    // dX = −θ X dt + σ dW, X(0) = x₀: E[X_T²] = x₀² e^{−2θT} + σ²/(2θ) (1 − e^{−2θT}).
    let (theta, sigma, x_start, big_t): (f64, f64, f64, f64) = (1.0, 0.5, 2.0, 1.0);
    let exact = x_start * x_start * (-2.0 * theta * big_t).exp()
        + sigma * sigma / (2.0 * theta) * (1.0 - (-2.0 * theta * big_t).exp());
    let drift = pointwise(move |x: &[f64], _t| vec![-theta * x[0]]);
    let n = 400_000;
    let x0 = Points::from_fn(n, 1, |_, _| x_start);
    let steps = [4usize, 8, 16, 32];
    let errors: Vec<f64> = steps
        .iter()
        .map(|&k| {
            let grid = TimeGrid::uniform(0.0, big_t, k).unwrap();
            let sol = euler_maruyama(&drift, &|_t| sigma, &x0, &grid, &SdeOptions::seeded(k as u64)).unwrap();
            assert_eq!(sol.nfe, k);
            let m2 = sol.final_state.as_slice().iter().map(|v| v * v).sum::<f64>() / n as f64;
            (m2 - exact).abs()
        })
        .collect();
    let series: Vec<(f64, f64)> = steps.iter().zip(&errors).map(|(&k, &e)| (big_t / k as f64, e)).collect();
    let slope = flowmatch::numeric::log_log_slope(&series);
    assert!((0.9..1.1).contains(&slope), "weak order {slope} (errors {errors:?})");
}

// ---------------------------------------------------------------------------
// Training: the ε-loss and its weight; the trainer
// ---------------------------------------------------------------------------

#[test]
fn the_eps_loss_is_the_velocity_loss_weighted_by_w() {
    let data = EightGaussians::torchcfm();
    let mut rng = StdRng::seed_from_u64(4);
    for scheduler in [Box::new(VariancePreserving::default()) as Box<dyn Scheduler>, Box::new(CondOT)] {
        let name = scheduler.name();
        let objective = EpsMatching::new(EightGaussians::torchcfm()).scheduler(scheduler).unwrap();
        let x0 = Points::randn(256, 2, 8);
        let (x1, _) = data.sample_labeled_with(256, &mut rng).unwrap();
        let t: Vec<f64> = (0..256).map(|i| 0.02 + 0.96 * i as f64 / 255.0).collect();
        let batch = objective.batch_at(x0.clone(), x1.clone(), &t, None).unwrap();
        assert_eq!(batch.target, x0, "the ε target is the noise");
        let net = fake_net();
        let eps_hat = net.eval_rows(&batch.x_t, &t).unwrap();
        let eps_loss = flowmatch::loss::mse(&eps_hat, &batch.target).unwrap();
        let path = AffinePath::new(objective.path().scheduler()).unwrap();
        let v_hat = path.convert(&batch.x_t, &t, &eps_hat, Prediction::Noise, Prediction::Velocity).unwrap();
        let u = path.sample(&x0, &x1, &t).unwrap().target;
        let weighted: f64 = (0..256)
            .map(|i| {
                let e: f64 = v_hat.row(i).iter().zip(u.row(i)).map(|(a, b)| (a - b).powi(2)).sum();
                objective.weight(t[i]).unwrap() * e
            })
            .sum::<f64>()
            / (256.0 * 2.0);
        assert!((eps_loss - weighted).abs() < 1e-10 * eps_loss, "{name}: {eps_loss} vs {weighted}");
        // The unweighted velocity loss is another number: the weight matters.
        let plain = flowmatch::loss::mse(&v_hat, &u).unwrap();
        assert!((plain - eps_loss).abs() > 0.1 * eps_loss, "{name}");
    }
    // The closed forms of the docs: 4σ²/β(1 − t)² on VP, t² on CondOT.
    let sde = VpSde::default();
    for t in [0.1, 0.5, 0.9] {
        let c = sde.scheduler().eval(t);
        let want = (2.0 * c.sigma / sde.beta_at(t)).powi(2);
        assert!((eps_weight(&c).unwrap() - want).abs() < 1e-12 * want);
        assert!((eps_weight(&CondOT.eval(t)).unwrap() - t * t).abs() < 1e-14);
    }
}

fn eps_trainer(steps: usize, seed: u64) -> Trainer {
    Trainer::for_objective(EpsMatching::new(EightGaussians::torchcfm()))
        .steps(steps)
        .batch_size(128)
        .seed(seed)
        .progress(Progress::Off)
}

#[test]
fn eps_matching_trains_through_the_one_trainer() {
    let objective = EpsMatching::new(EightGaussians::torchcfm());
    assert!(objective.name().contains("ε-matching"), "{}", objective.name());
    assert_eq!(objective.dim(), 2);
    let mut a = Net::mlp(2, 32).unwrap();
    let mut b = Net::mlp(2, 32).unwrap();
    let ra = eps_trainer(300, 5).train(&mut a).unwrap();
    let rb = eps_trainer(300, 5).train(&mut b).unwrap();
    assert_eq!(ra.losses, rb.losses, "bit-identical under one seed");
    let probe = Points::randn(16, 2, 3);
    assert_eq!(a.eval(&probe, 0.4).unwrap(), b.eval(&probe, 0.4).unwrap());
    let head: f64 = ra.losses[..30].iter().sum::<f64>() / 30.0;
    assert!(ra.final_loss(30) < 0.8 * head, "the ε-loss falls: {head} → {}", ra.final_loss(30));
    // A checkpoint records the objective, and reloads to the same predictions.
    let dir = std::env::temp_dir().join(format!("flowmatch-diffusion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("eps.safetensors");
    let mut c = Net::mlp(2, 32).unwrap();
    eps_trainer(20, 1).checkpoint_every(10, &path).train(&mut c).unwrap();
    let meta = checkpoint::read_meta(&path).unwrap();
    assert!(meta.training.unwrap().to_string().contains("ε-matching"));
    let reloaded = Net::load(&path).unwrap();
    assert_eq!(reloaded.eval(&probe, 0.3).unwrap(), c.eval(&probe, 0.3).unwrap());
    // A diverging run stops with the step named, before the bad update.
    let mut d = Net::mlp(2, 32).unwrap();
    match eps_trainer(200, 0).lr(1e12).train(&mut d) {
        Err(Error::NonFiniteLoss { step, .. }) => assert_eq!(d.steps_trained(), step - 1),
        other => panic!("expected NonFiniteLoss, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Conversions, DDIM and the schedule transform
// ---------------------------------------------------------------------------

#[test]
fn a_predictor_reads_one_model_as_every_prediction() {
    let sde = VpSde::default();
    let exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    // The exact velocity, read through the VP path, has the exact score and denoiser.
    let model = Predictor::new(&exact, sde.scheduler(), Prediction::Velocity).unwrap();
    let x = 2.0 * &Points::randn(32, 2, 2);
    for t in [0.1, 0.5, 0.9] {
        let score = model.predict(&x, t, Prediction::Score).unwrap();
        assert!(max_abs_diff(&score, &exact.score(&x, t).unwrap()) < 1e-7, "score at t = {t}");
        let data = model.predict(&x, t, Prediction::Data).unwrap();
        assert!(max_abs_diff(&data, &exact.posterior_mean(&x, t).unwrap()) < 1e-7, "x̂₁ at t = {t}");
        assert_eq!(model.view(Prediction::Score).eval(&x, t).unwrap(), score);
    }
    // ε → velocity → ε comes back, and a Predictor is a field (its velocity).
    let net = fake_net();
    let eps_model = Predictor::new(&net, sde.scheduler(), Prediction::Noise).unwrap();
    let v = eps_model.eval(&x, 0.6).unwrap();
    let back = eps_model.path().convert(&x, 0.6, &v, Prediction::Velocity, Prediction::Noise).unwrap();
    assert!(max_abs_diff(&back, &net.eval(&x, 0.6).unwrap()) < 1e-10);
    assert!(format!("{eps_model:?}").contains("noise"));
}

#[test]
fn a_ddim_step_is_an_euler_step_of_the_condot_ode_on_the_snr_matched_grid() {
    let sde = VpSde::default();
    let net = fake_net();
    let eps_model = Predictor::new(&net, sde.scheduler(), Prediction::Noise).unwrap();
    let as_condot = ScheduleTransform::new(&eps_model, sde.scheduler(), CondOT).unwrap();
    let x = 2.0 * &Points::randn(50, 2, 6);
    for (t, t_next) in [(0.0, 0.1), (0.3, 0.45), (0.7, 0.72), (0.9, 1.0)] {
        let step = ddim(&eps_model, &x, &TimeGrid::new(vec![t, t_next]).unwrap()).unwrap();
        assert_eq!(step.nfe, 1);
        // The matched CondOT times r = α/(α + σ) and scales α + σ.
        let (c, c_next) = (sde.scheduler().eval(t), sde.scheduler().eval(t_next));
        let (r, r_next) = (c.alpha / (c.alpha + c.sigma), c_next.alpha / (c_next.alpha + c_next.sigma));
        let (s, s_next) = (c.alpha + c.sigma, c_next.alpha + c_next.sigma);
        let x_bar = (1.0 / s) * &x;
        let euler = solve(&as_condot, &x_bar, &TimeGrid::new(vec![r, r_next]).unwrap(), Method::Euler).unwrap();
        let back = s_next * &euler.final_state;
        let scale = back.as_slice().iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        assert!(max_abs_diff(&step.final_state, &back) < 1e-8 * scale, "t = {t} → {t_next}");
        let m = as_condot.matched(r).unwrap();
        assert!((m.t - t).abs() < 1e-10, "the SNR-matched time of r = {r} is t = {t}, got {}", m.t);
    }
    // On CondOT itself a DDIM step is an Euler step of the model's velocity.
    let condot_model = Predictor::new(&net, CondOT, Prediction::Noise).unwrap();
    let grid = TimeGrid::new(vec![0.2, 0.5, 0.9]).unwrap();
    let d = ddim(&condot_model, &x, &grid).unwrap().final_state;
    let e = solve(&condot_model, &x, &grid, Method::Euler).unwrap().final_state;
    assert!(max_abs_diff(&d, &e) < 1e-10);
    let e = ddim(&condot_model, &x, &TimeGrid::uniform(0.0, 1.0, 4).unwrap()).unwrap_err();
    assert!(e.to_string().contains("α_t = 0"), "{e}");
}

#[test]
fn the_schedule_transformed_condot_field_generates_the_vp_marginals() {
    let vp = VariancePreserving::default();
    let condot_exact = Marginal::from_mixture(&mixture(), CondOT).unwrap();
    let vp_exact = Marginal::from_mixture(&mixture(), vp).unwrap();
    let transformed = ScheduleTransform::new(&condot_exact, CondOT, vp).unwrap();
    let x = 2.5 * &Points::randn(48, 2, 12);
    for r in [0.0, 0.1, 0.4, 0.7, 0.95, 0.999] {
        let got = transformed.eval(&x, r).unwrap();
        let want = vp_exact.velocity(&x, r).unwrap();
        let scale = want.as_slice().iter().fold(1.0_f64, |m, v| m.max(v.abs()));
        assert!(max_abs_diff(&got, &want) < 1e-7 * scale, "r = {r}: {}", max_abs_diff(&got, &want));
    }
    // And back: the VP field, re-timed to CondOT, is CondOT's marginal velocity.
    let back = ScheduleTransform::new(&vp_exact, vp, CondOT).unwrap();
    for r in [0.05, 0.5, 0.9] {
        let d = max_abs_diff(&back.eval(&x, r).unwrap(), &condot_exact.velocity(&x, r).unwrap());
        assert!(d < 1e-6, "r = {r}: {d}");
    }
    // Sampling the transformed field reproduces the data.
    let grid = TimeGrid::uniform(0.0, 1.0, 100).unwrap();
    let sampler = |x0: &Points| solve(&transformed, x0, &grid, Method::Midpoint).map(|s| s.final_state);
    assert!(check_sampler(&vp_exact, &sampler, &floor_settings()).unwrap().passed);
    // Outside the trained path's SNR range, and at the data end, the transform says why.
    let e = back.matched(0.001).unwrap_err();
    assert!(e.to_string().contains("outside the range"), "{e}");
    let e = transformed.matched(1.0).unwrap_err();
    assert!(e.to_string().contains("σ̄_r = 0"), "{e}");
}

#[test]
fn a_flow_matching_model_samples_stochastically_through_the_bridge() {
    // The exact CondOT field, re-timed to VP and read as a score, drives the VP reverse SDE.
    let sde = VpSde::default();
    let condot_exact = Marginal::from_mixture(&mixture(), CondOT).unwrap();
    let vp_exact = Marginal::from_mixture(&mixture(), sde.scheduler()).unwrap();
    let on_vp = ScheduleTransform::new(&condot_exact, CondOT, sde.scheduler()).unwrap();
    let model = Predictor::new(&on_vp, sde.scheduler(), Prediction::Velocity).unwrap();
    let reverse = ReverseSde::new(model.view(Prediction::Score), sde);
    let grid = TimeGrid::uniform(0.0, 1.0, 400).unwrap();
    let sampler = |x0: &Points| reverse.sample(x0, &grid, 4).map(|s| s.final_state);
    let report = check_sampler(&vp_exact, &sampler, &floor_settings()).unwrap();
    assert!(report.passed, "{report}");
}

// ---------------------------------------------------------------------------
// The measured comparison
// ---------------------------------------------------------------------------

#[test]
fn the_comparison_runs_every_sampler_on_its_nfe_ladder() {
    use flowmatch::diffusion::{Comparison, NFE_LADDER};
    let sde = VpSde::default();
    let data = mixture();
    let fm = Marginal::from_mixture(&data, CondOT).unwrap();
    let vp = Marginal::from_mixture(&data, sde.scheduler()).unwrap();
    let diffusion = Predictor::new(&vp, sde.scheduler(), Prediction::Velocity).unwrap();
    let x0 = Points::randn(500, 2, 21);
    let reference = data.sample(500, 22).unwrap();
    let floor = flowmatch::metrics::w2(&data.sample(500, 23).unwrap(), &reference).unwrap();
    let table = Comparison::run(&fm, &diffusion, sde, &x0, &reference, floor, 24).unwrap();
    assert_eq!(table.curves.len(), 7);
    for c in &table.curves {
        let nfes: Vec<usize> = c.points.iter().map(|p| p.0).collect();
        let want: Vec<usize> = match c.key {
            "fm_dopri5" => table.dopri5.iter().map(|d| d.1).collect(),
            "fm_midpoint" | "diffusion_pf_midpoint" => NFE_LADDER.iter().copied().filter(|n| n % 2 == 0).collect(),
            _ => NFE_LADDER.to_vec(),
        };
        assert_eq!(nfes, want, "{}", c.key);
        // The exact fields leave only the solver's error: every sampler ends at the floor.
        let limit = c.limit().unwrap();
        assert!(limit < 1.5 * floor, "{}: W2 {limit} at its largest NFE, floor {floor}", c.key);
        assert!(c.nfe_to_converge().is_some() && c.nfe_within(1.5 * floor).is_some(), "{}", c.key);
    }
    // One Euler step of the exact CondOT field lands every point on the data mean: far from the data.
    assert!(table.curve("fm_euler").unwrap().w2_at(1).unwrap() > 3.0 * floor);
    let text = table.to_string();
    for c in &table.curves {
        assert!(text.contains(c.label), "{text}");
    }
    let summary = table.summary();
    assert!(summary.lines().all(|l| l.split_once(": ").is_some()), "{summary}");
    assert_eq!(summary.lines().count(), 1 + 4 * 7);
    assert!(summary.contains("fm_midpoint_w2_nfe8: ") && summary.contains("fm_dopri5_w2_nfe8: -"), "{summary}");
    table.figure().unwrap();
}

// ---------------------------------------------------------------------------
// The quiz of 7.6: the numbers its keys and explanations quote
// ---------------------------------------------------------------------------

#[test]
fn the_numbers_of_the_7_6_quiz_hold() {
    use flowmatch::quiz::{self, Answer};
    let key = |n: usize| match quiz::find("7.6").unwrap().questions[n - 1].answer {
        Answer::Number { value, .. } => value,
        Answer::Choice { .. } => panic!("question {n} is not numeric"),
    };
    // q1: ε̂ = (2, 0) at x = (1, 1), CondOT, t = 0.5 → v = (−2, 2); without σ̇ 0, with the sign flipped 6.
    let path = AffinePath::new(CondOT).unwrap();
    let v = path.convert_point(&[1.0, 1.0], 0.5, &[2.0, 0.0], Prediction::Noise, Prediction::Velocity).unwrap();
    assert!((v[0] - key(1)).abs() < 1e-12 && (v[1] - 2.0).abs() < 1e-12, "{v:?}");
    let c = CondOT.eval(0.5);
    let (cx, ce) = (c.d_alpha / c.alpha, c.d_sigma - c.d_alpha * c.sigma / c.alpha);
    assert_eq!((cx * 1.0 - c.d_alpha * c.sigma / c.alpha * 2.0, cx * 1.0 - ce * 2.0), (0.0, 6.0));
    // q2: DDPM step 250 of 1000 is t = 0.75.
    assert_eq!(from_ddpm_step(250, 1000).unwrap(), key(2));
    // q4: one DDIM step from t = 0 divides the ε error by α_0 ≈ 0.0066, about 150; α̇_0 ≈ 0.07.
    let start = VpSde::default().scheduler().eval(0.0);
    assert!((start.alpha - 0.0066).abs() < 1e-4 && (1.0 / start.alpha - 150.0).abs() < 5.0);
    assert!((start.d_alpha - 0.07).abs() < 0.005);
    // q8: w(0) = 4σ_0²/β_max² ≈ 0.01; with β read at s = t instead, 4/β_min² = 400.
    let w0 = eps_weight(&start).unwrap();
    assert!((w0 - key(8)).abs() < 1e-3 && (w0 - 0.01).abs() < 1e-5, "{w0}");
    assert!((4.0 * start.sigma.powi(2) / VpSde::default().beta(0.0).powi(2) - 400.0).abs() < 0.1);
}
