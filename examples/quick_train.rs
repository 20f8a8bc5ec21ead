use flowmatch::data::EightGaussians;
use flowmatch::model::{Mlp, MlpConfig, VelocityModel};
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::Trainer;
use flowmatch::{Dataset, Points};

fn main() -> flowmatch::Result<()> {
    let mut model = Mlp::<2, 64>::new(MlpConfig::default())?;
    let trainer = Trainer::new(EightGaussians::torchcfm()).steps(2000).batch_size(256).seed(1);
    let report = trainer.train(&mut model)?;
    println!("first {:.3} last {:.3} {:.0} steps/s", report.losses[0], report.final_loss(100), report.steps_per_second());
    let x0 = flowmatch::data::StandardGaussian::new(2)?.sample(1000, 7)?;
    let sol = solve(&model, &x0, &TimeGrid::uniform(0.0, 1.0, 20)?, &Method::Euler)?;
    let m = sol.final_state.mean();
    let c = sol.final_state.covariance();
    println!("mean {m:?} cov {c:?} (target cov diag {:.2})", 12.5 + 0.1f64.sqrt());
    let _: &dyn VelocityModel = &model;
    let _ = Points::zeros(1, 2);
    Ok(())
}
