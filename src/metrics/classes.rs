//! Class-aware measures: which class a point looks like, how often a sampler hits the class it
//! was asked for, and how spread out a sample is.
//!
//! ```text
//! k-NN class:  ŷ(x) = the label most common among the k labelled reference points nearest to x
//! accuracy:    (1/n) Σᵢ 1[ŷᵢ = yᵢ]
//! spread:      s(a) = tr Cov(a) = (1/n) Σᵢ ‖aᵢ − ā‖²        (the mean squared distance to the mean)
//! ```
//!
//! With reference points drawn from the data, the k-NN class approximates the Bayes classifier
//! argmax_y p(y | x), so a guided sample "lands in the requested mode" when ŷ equals the label
//! it was generated for. The spread measures diversity: guidance above w = 1 pulls samples
//! towards the most typical points of their class, and the spread ratio s(samples)/s(data)
//! falls below 1.

use crate::error::{Error, Result};
use crate::points::Points;

/// The k-nearest-neighbour class of every row of `x`: the label most common among the `k`
/// rows of `reference` nearest to it (Euclidean); a tie goes to the label whose nearest
/// point is closer.
///
/// Errors: [`Error::ZeroCount`] for k = 0 or no reference points, [`Error::ShapeMismatch`]
/// for dimensions that differ or a wrong number of labels, [`Error::InvalidParameter`] for
/// k above the number of reference points, [`Error::NonFinite`] for NaN/∞.
pub fn knn_classify(reference: &Points, labels: &[usize], x: &Points, k: usize) -> Result<Vec<usize>> {
    if k == 0 {
        return Err(Error::ZeroCount { what: "k, the number of neighbours".into() });
    }
    if reference.is_empty() {
        return Err(Error::ZeroCount { what: "the number of labelled reference points".into() });
    }
    if labels.len() != reference.len() {
        return Err(Error::shape(
            "the labels of the reference points",
            format!("{} labels (one per point)", reference.len()),
            format!("{} labels", labels.len()),
        ));
    }
    if k > reference.len() {
        return Err(Error::invalid(
            "k, the number of neighbours",
            format!("{k} is more than the {} reference points; draw more of them or lower k", reference.len()),
        ));
    }
    if x.dim() != reference.dim() {
        return Err(Error::shape(
            "the points to classify",
            format!("points of dimension {} (as the reference points)", reference.dim()),
            format!("points of dimension {}", x.dim()),
        ));
    }
    reference.check_finite("the reference points")?;
    x.check_finite("the points to classify")?;
    let mut dist: Vec<(f64, usize)> = Vec::with_capacity(reference.len());
    Ok(x.rows()
        .map(|q| {
            dist.clear();
            dist.extend(
                reference.rows().enumerate().map(|(j, r)| (q.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum(), j)),
            );
            dist.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let near = &mut dist[..k];
            near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            // (votes, first rank) per label, in order of first appearance.
            let mut votes: Vec<(usize, usize, usize)> = Vec::new();
            for (rank, &(_, j)) in near.iter().enumerate() {
                match votes.iter_mut().find(|v| v.0 == labels[j]) {
                    Some(v) => v.1 += 1,
                    None => votes.push((labels[j], 1, rank)),
                }
            }
            votes.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2))).expect("k ≥ 1 neighbours").0
        })
        .collect())
}

/// The share of rows whose predicted label equals the wanted one, (1/n) Σᵢ 1[predictedᵢ = wantedᵢ].
///
/// Errors: [`Error::ZeroCount`] for no rows, [`Error::ShapeMismatch`] for lengths that differ.
pub fn accuracy(predicted: &[usize], wanted: &[usize]) -> Result<f64> {
    if predicted.len() != wanted.len() {
        return Err(Error::shape(
            "the labels compared by accuracy",
            format!("{} labels (as many as predicted)", predicted.len()),
            format!("{} labels", wanted.len()),
        ));
    }
    if predicted.is_empty() {
        return Err(Error::ZeroCount { what: "the number of labels compared by accuracy".into() });
    }
    Ok(predicted.iter().zip(wanted).filter(|(a, b)| a == b).count() as f64 / predicted.len() as f64)
}

/// The spread of a sample, s(a) = tr Cov(a) = (1/n) Σᵢ ‖aᵢ − ā‖²: the mean squared distance
/// of its points to their mean (a measure of diversity).
///
/// Errors: [`Error::ZeroCount`] for no points, [`Error::NonFinite`] for NaN/∞.
pub fn spread(a: &Points) -> Result<f64> {
    if a.is_empty() {
        return Err(Error::ZeroCount { what: "the number of points whose spread is measured".into() });
    }
    a.check_finite("the points whose spread is measured")?;
    let mean = a.mean();
    Ok(a.rows().map(|r| r.iter().zip(&mean).map(|(v, m)| (v - m) * (v - m)).sum::<f64>()).sum::<f64>() / a.len() as f64)
}
