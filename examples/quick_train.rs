use flowmatch::data::{Dataset, EightGaussians, StandardGaussian};
use flowmatch::model::Net;
use flowmatch::solver::{solve, Method, TimeGrid};
use flowmatch::train::{Progress, Trainer};

fn main() -> flowmatch::Result<()> {
    let mut model = Net::mlp(2, 64)?;
    let r = Trainer::new(EightGaussians::torchcfm()).steps(3000).progress(Progress::Off).train(&mut model)?;
    println!("train {:.2}s", r.seconds);
    let x0 = StandardGaussian::new(2)?.sample(1000, 1)?;
    let t = std::time::Instant::now();
    let s = solve(&model, &x0, &TimeGrid::uniform(0.0, 1.0, 50)?, &Method::Midpoint)?;
    println!("sample {:.3}s nfe {}", t.elapsed().as_secs_f64(), s.nfe);
    Ok(())
}
