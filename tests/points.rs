//! Point sets and the time convention: arithmetic that reads like the maths, shape
//! mismatches that are never silent, `Points::randn`, and `Time` for fields and models.

use flowmatch::data::{Dataset, StandardGaussian};
use flowmatch::nn::Net;
use flowmatch::path::{AffinePath, CondOT};
use flowmatch::{batched, pointwise, Error, Model, Points, Time, VectorField};

fn p(rows: &[[f64; 2]]) -> Points {
    Points::from_rows(rows).unwrap()
}

#[test]
fn arithmetic_is_row_by_row() {
    let a = p(&[[1.0, 2.0], [3.0, 4.0]]);
    let b = p(&[[0.5, -1.0], [2.0, 0.0]]);
    assert_eq!(&a + &b, p(&[[1.5, 1.0], [5.0, 4.0]]));
    assert_eq!(&a - &b, p(&[[0.5, 3.0], [1.0, 4.0]]));
    assert_eq!(2.0 * &a, p(&[[2.0, 4.0], [6.0, 8.0]]));
    assert_eq!(&a * 0.5, p(&[[0.5, 1.0], [1.5, 2.0]]));
    assert_eq!(-&a, p(&[[-1.0, -2.0], [-3.0, -4.0]]));
    // By value, and mixed.
    assert_eq!(a.clone() + b.clone(), &a + &b);
    assert_eq!(a.clone() - &b, &a - &b);
    assert_eq!(&a + 3.0 * &b, a.plus_scaled(3.0, &b));
    let mut c = a.clone();
    c += &b;
    c -= 2.0 * &b;
    c *= 2.0;
    assert_eq!(c, 2.0 * (&a - &b));
    // One weight per row: x_t = t ⊙ x₁ + (1 − t) ⊙ x₀.
    assert_eq!(a.scale_rows(&[2.0, -1.0]), p(&[[2.0, 4.0], [-3.0, -4.0]]));
    // An Euler step written like the maths is the same numbers as `plus_scaled`.
    let (x, u, h) = (a.clone(), b.clone(), 0.1);
    assert_eq!(&x + h * &u, x.plus_scaled(h, &u));
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("a shape mismatch must panic");
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

#[test]
fn a_shape_mismatch_panics_naming_both_shapes_in_every_build() {
    let a = Points::zeros(3, 2);
    let b = Points::zeros(2, 2);
    for msg in [
        panic_message(|| drop(&Points::zeros(3, 2) + &Points::zeros(2, 2))),
        panic_message(|| drop(&Points::zeros(3, 2) - &Points::zeros(3, 1))),
        panic_message(move || {
            let mut a = a;
            a.add_scaled(1.0, &b);
        }),
        panic_message(|| drop(Points::zeros(4, 2).plus_scaled(0.5, &Points::zeros(2, 4)))),
    ] {
        assert!(msg.contains("shape mismatch") && msg.contains("left side has"), "{msg}");
        assert!(msg.matches("points of dimension").count() == 2, "both shapes: {msg}");
    }
    let msg = panic_message(|| drop(Points::zeros(3, 2).scale_rows(&[1.0, 2.0])));
    assert!(msg.contains("3 points but 2 weights"), "{msg}");
    let msg = panic_message(|| drop(&Points::zeros(3, 2) + &Points::zeros(2, 2)));
    assert!(msg.contains("3 points of dimension 2") && msg.contains("2 points of dimension 2"), "{msg}");
}

#[test]
fn randn_is_the_standard_gaussian_under_the_same_seed() {
    let x = Points::randn(500, 3, 42);
    assert_eq!(x.shape(), (500, 3));
    assert_eq!(x, StandardGaussian::new(3).unwrap().sample(500, 42).unwrap());
    assert_ne!(x, Points::randn(500, 3, 43));
    let m = x.mean();
    assert!(m.iter().all(|v| v.abs() < 0.15), "{m:?}");
}

#[test]
fn rand_is_uniform_on_the_unit_cube_and_seeded() {
    let u = Points::rand(2000, 2, 7);
    assert_eq!(u.shape(), (2000, 2));
    assert!(u.as_slice().iter().all(|v| (0.0..1.0).contains(v)));
    assert_eq!(u, Points::rand(2000, 2, 7));
    assert_ne!(u, Points::rand(2000, 2, 8));
    let m = u.mean();
    assert!(m.iter().all(|v| (v - 0.5).abs() < 0.03), "{m:?}");
    // The largest gap of the sorted first coordinate is small: no part of [0, 1) is left out.
    let mut first: Vec<f64> = u.rows().map(|r| r[0]).collect();
    first.sort_by(f64::total_cmp);
    assert!(first.windows(2).all(|w| w[1] - w[0] < 0.02) && first[0] < 0.02 && first[1999] > 0.98);
}

#[test]
fn time_is_one_for_all_rows_or_one_per_row() {
    let t = [0.1, 0.2, 0.3];
    assert_eq!(Time::from(0.5).rows(3, "t").unwrap(), Time::Same(0.5));
    assert_eq!(Time::from(&t).rows(3, "t").unwrap(), Time::PerRow(&t));
    assert_eq!(Time::from(&t[..1]).rows(3, "t").unwrap(), Time::Same(0.1));
    assert_eq!(Time::from(&vec![0.7; 3]).to_vec(3, "t").unwrap(), vec![0.7; 3]);
    let e = Time::from(&t[..2]).rows(3, "the model input").unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }) && e.to_string().contains("3 times (one per row)"), "{e}");
    assert_eq!((Time::Same(0.4).at(2), Time::PerRow(&t).at(2)), (0.4, 0.3));
}

#[test]
fn fields_take_one_time_or_one_per_row() {
    let x = p(&[[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]);
    let t = [0.0, 0.5, 1.0];
    let f = pointwise(|x: &[f64], t| vec![t * x[0], t * x[1]]);
    let g = batched(|x: &Points, t| t * x);
    for field in [&f as &dyn VectorField, &g] {
        assert_eq!(field.eval(&x, 0.5).unwrap(), 0.5 * &x);
        let rows = field.eval_rows(&x, &t).unwrap();
        for (i, ti) in t.iter().enumerate() {
            assert_eq!(rows.row(i), (*ti * &x.select(&[i])).row(0));
        }
        assert!(matches!(field.eval_rows(&x, &t[..2]), Err(Error::ShapeMismatch { .. })));
    }
}

#[test]
fn paths_take_one_time_or_one_per_row() {
    let path = AffinePath::new(CondOT).unwrap();
    let (x0, x1) = (Points::randn(16, 2, 3), Points::randn(16, 2, 4));
    let one = path.sample(&x0, &x1, 0.25).unwrap();
    assert_eq!(one.t, vec![0.25; 16]);
    assert_eq!(one.x_t, 0.25 * &x1 + 0.75 * &x0);
    assert_eq!(one.target, &x1 - &x0);
    assert_eq!((&one.x0, &one.x1, &one.labels), (&x0, &x1, &None));
    let ts: Vec<f64> = (0..16).map(|i| i as f64 / 15.0).collect();
    let per_row = path.sample(&x0, &x1, &ts).unwrap();
    assert_eq!(per_row.t, ts);
    assert_eq!(per_row.x_t, x1.scale_rows(&ts) + x0.scale_rows(&ts.iter().map(|t| 1.0 - t).collect::<Vec<_>>()));
}

#[test]
fn models_take_one_time_or_one_per_row() {
    let net = Net::mlp(2, 32).unwrap();
    let x = Points::randn(16, 2, 3);
    let same = net.velocity(&x, 0.25, None).unwrap();
    assert_eq!(same, net.eval(&x, 0.25).unwrap());
    assert_eq!(same, net.velocity(&x, &vec![0.25; 16], None).unwrap());
    assert_eq!(same, Model::velocity(&net, &x, Time::Same(0.25), None).unwrap());
    let ts: Vec<f64> = (0..16).map(|i| i as f64 / 15.0).collect();
    assert_eq!(net.velocity(&x, &ts, None).unwrap(), net.eval_rows(&x, &ts).unwrap());
}
