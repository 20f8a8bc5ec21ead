//! Exercise images.2: the U-Net's skip connection, upsample the coarse features and stack the
//! encoder's features of the same resolution behind them.
//!
//! Images are C × S × S numbers, channel first, each channel row by row (PyTorch's layout):
//!
//! ```text
//! up(low)[c, y, x]        = low[c, ⌊y/2⌋, ⌊x/2⌋]                 nearest neighbour, S/2 × S/2 → S × S
//! out[c, y, x]            = up(low)[c, y, x]        c < C_low      the decoder's features first,
//! out[C_low + c, y, x]    = skip[c, y, x]           c < C_skip     then the encoder's (concatenation)
//! ```
//!
//! This is the input of the U-Net's last block, `[up(u₂), s₁]` in [`crate::nn::UNet`]'s docs.
//! The student writes `fn up_and_concat(low, skip, c_low, c_skip, side) -> Vec<f64>`.

use super::text::{self};
use super::{Checker, Exercise, Hints};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Duration;

/// The function the student writes, as the checker takes it.
pub type StudentFn = dyn Fn(&[f64], &[f64], usize, usize, usize) -> Vec<f64> + Sync;

/// Exercise images.2: `up_and_concat`, 10 points.
pub static EXERCISE: Checker<StudentFn> = Checker::new(
    Exercise {
        title: "The U-Net's skip connection: upsample the coarse features, then concatenate the skip",
        points: 10,
        time_limit: Duration::from_secs(10),
        hints: Hints {
            concept: "the decoder first brings the coarse features back to full resolution, each coarse pixel \
                becoming a 2 × 2 block of equal values (nearest neighbour), and then stacks the encoder's features \
                behind them as extra channels: nothing is added, the channel count grows, and each channel stays \
                one whole S × S image, row by row.",
            formula: "out[c, y, x] = low[c, ⌊y/2⌋, ⌊x/2⌋] for c < C_low; out[C_low + c, y, x] = skip[c, y, x]; \
                an entry [c, y, x] of an S × S image is at (c·S + y)·S + x",
        },
        ..super::registered::up_and_concat
    },
    compare,
);

/// How a (right or wrong) answer is built: the reference has every flag off.
#[derive(Clone, Copy, Default)]
struct Variant {
    skip_first: bool,
    channels_last: bool,
    tiled: bool,
    transposed_up: bool,
    zeros_between: bool,
}

/// The concatenation `[up(low), skip]` built the way `v` says (the reference for the default).
fn reference(low: &[f64], skip: &[f64], c_low: usize, c_skip: usize, side: usize, v: Variant) -> Vec<f64> {
    let (half, px) = (side / 2, side * side);
    let channels = c_low + c_skip;
    let mut out = vec![0.0; channels * px];
    let up = |c: usize, y: usize, x: usize| -> f64 {
        if v.zeros_between && (y % 2 == 1 || x % 2 == 1) {
            return 0.0;
        }
        let (yy, xx) = if v.tiled { (y % half, x % half) } else { (y / 2, x / 2) };
        let (yy, xx) = if v.transposed_up { (xx, yy) } else { (yy, xx) };
        low[(c * half + yy) * half + xx]
    };
    for ch in 0..channels {
        for y in 0..side {
            for x in 0..side {
                let value = if v.skip_first {
                    if ch < c_skip {
                        skip[(ch * side + y) * side + x]
                    } else {
                        up(ch - c_skip, y, x)
                    }
                } else if ch < c_low {
                    up(ch, y, x)
                } else {
                    skip[((ch - c_low) * side + y) * side + x]
                };
                let at = if v.channels_last { (y * side + x) * channels + ch } else { (ch * side + y) * side + x };
                out[at] = value;
            }
        }
    }
    out
}

/// Compares `f` with the reference on the calling thread (no guard).
fn compare(f: &StudentFn) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(0x5C1B_0002);
    // (C_low, C_skip, S): different channel counts first, so that order and sums show at once.
    for (c_low, c_skip, side) in [(2, 1, 4), (1, 3, 6), (1, 1, 2), (3, 2, 8), (2, 2, 4)] {
        let half = side / 2;
        let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let (low, skip) = (draw(c_low * half * half), draw(c_skip * side * side));
        let context = format!(
            "For {c_low} coarse channel(s) of {half} × {half} and {c_skip} skip channel(s) of {side} × {side},"
        );
        let got = f(&low, &skip, c_low, c_skip, side);
        let px = side * side;
        let want = reference(&low, &skip, c_low, c_skip, side, Variant::default());
        if got.len() != want.len() {
            let why = if got.len() == c_low.max(c_skip) * px || got.len() == c_low.min(c_skip) * px {
                Some(
                    "that is the size of one input alone: a U-Net's skip connection concatenates the two along the \
                     channels instead of adding them",
                )
            } else if got.len() == c_low * half * half + c_skip * px {
                Some("the coarse features are still at half resolution: upsample them before stacking")
            } else {
                None
            };
            return Err(format!(
                "{context} your output had {} numbers; expected {} channels of {side} × {side} = {}{}.",
                got.len(),
                c_low + c_skip,
                want.len(),
                text::remark(why)
            ));
        }
        if let Some(at) = (0..want.len()).find(|&m| !text::close(got[m], want[m], 1e-12)) {
            let suspect = |v: Variant| reference(&low, &skip, c_low, c_skip, side, v);
            let suspects = [
                (
                    "the order is swapped: the upsampled coarse features come first and the skip channels after \
                     them",
                    suspect(Variant { skip_first: true, ..Variant::default() }),
                ),
                (
                    "your channels are interleaved pixel by pixel (channels last): each channel must stay one whole \
                     image, row by row, one after the other",
                    suspect(Variant { channels_last: true, ..Variant::default() }),
                ),
                (
                    "your upsampling tiles the coarse image (repeats it side by side) instead of blowing each coarse \
                     pixel up into a 2 × 2 block",
                    suspect(Variant { tiled: true, ..Variant::default() }),
                ),
                (
                    "your upsampled image is transposed: the output row must come from the coarse row and the output \
                     column from the coarse column",
                    suspect(Variant { transposed_up: true, ..Variant::default() }),
                ),
                (
                    "your upsampling puts each coarse pixel in one corner of its 2 × 2 block and zeros in the other \
                     three: nearest neighbour fills the whole block with it",
                    suspect(Variant { zeros_between: true, ..Variant::default() }),
                ),
            ];
            let side_sq = side * side;
            let (ch, y, x) = (at / side_sq, (at % side_sq) / side, at % side);
            return Err(format!(
                "{context} entry [channel {ch}, row {y}, column {x}] of your output was {}; expected {}{}.",
                text::num(got[at]),
                text::num(want[at]),
                text::remark(text::diagnose(&got, &suspects, 1e-12))
            ));
        }
    }
    Ok(())
}
