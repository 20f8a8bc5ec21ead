//! Point sets: arithmetic that reads like the maths, shape mismatches that are never
//! silent, and `Points::randn`.

use flowmatch::data::{Dataset, StandardGaussian};
use flowmatch::Points;

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
