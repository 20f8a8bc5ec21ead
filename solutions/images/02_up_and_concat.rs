//! Exercise images.2 · 10 points: the U-Net's skip connection.
//!
//! On the way up, the U-Net's decoder has coarse features `low` (C_low channels of
//! S/2 × S/2) and the encoder's features `skip` of the full resolution (C_skip channels of
//! S × S), kept from the way down. It brings the coarse features back to S × S by nearest-
//! neighbour upsampling and stacks the skip channels behind them: the input of the next block
//! has C_low + C_skip channels.
//!
//! Layout (PyTorch's): C channels of S × S pixels, channel first, each channel row by row, so
//! entry [c, y, x] (channel, row from the top, column from the left) is at `(c·S + y)·S + x`.
//!
//! Example: one coarse channel of 1 × 1 holding 5 and one skip channel of 2 × 2 holding
//! 1, 2, 3, 4 give (5, 5, 5, 5, 1, 2, 3, 4).
//!
//! Grade it: `cargo run --release --bin course -- grade up_and_concat`.

/// The decoder's input `[up(low), skip]`: `c_low + c_skip` channels of `side × side`.
pub fn up_and_concat(low: &[f64], skip: &[f64], c_low: usize, c_skip: usize, side: usize) -> Vec<f64> {
    // BEGIN SOLUTION
    let half = side / 2;
    let mut out = Vec::with_capacity((c_low + c_skip) * side * side);
    // The coarse channels first, each pixel (y, x) reading its coarse pixel (y/2, x/2) …
    for c in 0..c_low {
        for y in 0..side {
            for x in 0..side {
                out.push(low[(c * half + y / 2) * half + x / 2]);
            }
        }
    }
    // … then the skip channels, unchanged: in this layout, concatenating channels is appending.
    out.extend_from_slice(&skip[..c_skip * side * side]);
    out
    // END SOLUTION
}
