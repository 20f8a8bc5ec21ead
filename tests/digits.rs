//! The handwritten digits: the shipped file, the fixed split, the pixel scale and the sampler.

use flowmatch::data::{level_to_pixel, pixel_to_level, Dataset, Digits, Split, DIGIT_CLASSES, DIGIT_PIXELS};

#[test]
fn the_split_is_fixed_disjoint_and_covers_the_file() {
    let (train, test, all) = (Digits::train().unwrap(), Digits::test().unwrap(), Digits::split(Split::All).unwrap());
    assert_eq!((train.len(), test.len(), all.len()), (1442, 355, 1797));
    assert_eq!(train.images().dim(), DIGIT_PIXELS);
    // Within each digit, every fifth image (in file order) is a test image.
    let mut seen = [0usize; DIGIT_CLASSES];
    let (mut i_train, mut i_test) = (0, 0);
    for (i, &y) in all.labels().iter().enumerate() {
        let row = all.images().row(i);
        if seen[y] % 5 == 4 {
            assert_eq!((test.labels()[i_test], test.images().row(i_test)), (y, row));
            i_test += 1;
        } else {
            assert_eq!((train.labels()[i_train], train.images().row(i_train)), (y, row));
            i_train += 1;
        }
        seen[y] += 1;
    }
    assert_eq!((i_train, i_test), (train.len(), test.len()));
    // Every digit is in both splits, in the proportion 4 : 1 (to within one image).
    for (c, &count) in seen.iter().enumerate() {
        let (a, b) = (train.of_class(c).unwrap().len(), test.of_class(c).unwrap().len());
        assert_eq!(a + b, count);
        assert_eq!(b, count / 5, "digit {c}");
    }
    // Two loads give the same images.
    assert_eq!(Digits::train().unwrap().images(), train.images());
}

#[test]
fn pixels_follow_the_grey_levels() {
    // The first line of the file: a 0 whose top row is 0 0 5 13 9 1 0 0.
    let all = Digits::split(Split::All).unwrap();
    assert_eq!(all.labels()[0], 0);
    let top: Vec<f64> = [0u8, 0, 5, 13, 9, 1, 0, 0].iter().map(|&v| v as f64 / 8.0 - 1.0).collect();
    assert_eq!(&all.images().row(0)[..8], &top[..]);
    assert!(all.images().as_slice().iter().all(|v| (-1.0..=1.0).contains(v)));
    // Both ends of the scale occur, and levels survive the round trip.
    assert!(all.images().as_slice().contains(&-1.0) && all.images().as_slice().contains(&1.0));
    for v in 0..=16u8 {
        assert_eq!(pixel_to_level(level_to_pixel(v)), v);
    }
    assert_eq!((pixel_to_level(-3.0), pixel_to_level(7.0)), (0, 16));
}

#[test]
fn the_dataset_contract() {
    let train = Digits::train().unwrap();
    assert_eq!((train.dim(), train.num_classes(), train.name()), (64, 10, "digits (train)".to_string()));
    let (x, labels) = train.sample_labeled(500, 3).unwrap();
    assert_eq!((x.len(), x.dim()), (500, 64));
    // Each drawn row is a training image of the drawn label.
    for (row, &y) in x.rows().zip(&labels) {
        let i = (0..train.len()).find(|&i| train.images().row(i) == row).expect("a training image");
        assert_eq!(train.labels()[i], y);
    }
    // Deterministic under a seed, different across seeds; labels take no randomness of their own.
    assert_eq!(train.sample_labeled(500, 3).unwrap(), (x.clone(), labels.clone()));
    assert_eq!(train.sample(500, 3).unwrap(), x);
    assert_ne!(train.sample(500, 4).unwrap(), x);
    // Every class turns up, and a class sampler draws only that class.
    assert!((0..10).all(|c| labels.contains(&c)));
    let sevens = train.sample_class(7, 20, 0).unwrap();
    let pool = train.of_class(7).unwrap();
    assert!(sevens.rows().all(|r| pool.rows().any(|p| p == r)));
    // The mean is the mean of the training images.
    let mean = train.mean().unwrap();
    let direct: f64 = (0..train.len()).map(|i| train.images().row(i)[27]).sum::<f64>() / train.len() as f64;
    assert!((mean[27] - direct).abs() < 1e-12);
}

#[test]
fn per_class_stacks_the_first_k_of_every_digit_in_class_order() {
    let train = Digits::train().unwrap();
    let grid = train.per_class(3).unwrap();
    assert_eq!((grid.len(), grid.dim()), (30, 64));
    for c in 0..10 {
        let first = train.of_class(c).unwrap().head(3);
        for j in 0..3 {
            assert_eq!(grid.row(3 * c + j), first.row(j), "digit {c}, image {j}");
        }
    }
    let smallest = (0..10).map(|c| train.of_class(c).unwrap().len()).min().unwrap();
    assert_eq!(train.per_class(smallest).unwrap().len(), 10 * smallest);
    let e = train.per_class(smallest + 1).unwrap_err().to_string();
    assert!(e.contains("images per digit") && e.contains("pass a k"), "{e}");
    assert!(train.per_class(0).is_err());
}

#[test]
fn bad_requests_are_clear_errors() {
    let test = Digits::test().unwrap();
    let e = test.of_class(10).unwrap_err().to_string();
    assert!(e.contains("digit 10") && e.contains("0 to 9"), "{e}");
    assert!(test.sample(0, 0).is_err());
    assert!(test.sample_class(11, 3, 0).is_err());
}
