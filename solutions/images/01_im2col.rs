//! Exercise images.1 · 20 points: im2col, a convolution as one matrix product.
//!
//! A convolution slides a k × k window over the image. im2col copies every window into one row
//! of a matrix X, so that the whole convolution becomes one matrix product y = W Xᵀ with the
//! kernel W flattened to C_out × (C·k²). Layouts (PyTorch's):
//!
//! * the image `x` holds C channels of H × W pixels: `x[(c·H + y)·W + z]` is channel c, row y
//!   (top first), column z (left first);
//! * the kernel entry (c, i, j) (channel, kernel row, kernel column) is column `(c·k + i)·k + j`;
//! * the output pixel (p, q) (output row, output column) is row `p·W' + q`, where H' × W' is the
//!   size of the output;
//! * the windows start `stride` pixels apart, and the image is surrounded by `pad` rings of zeros.
//!
//! Example: one 3 × 3 channel holding 1, 2, …, 9 row by row, k = 2, stride 1, no padding gives
//! four output pixels, so X is 4 × 4: (1, 2, 4, 5), (2, 3, 5, 6), (4, 5, 7, 8), (5, 6, 8, 9).
//!
//! Grade it: `cargo run --release --bin course -- grade im2col`.

/// The patch matrix X of the image `x` (`channels × height × width` numbers) for a `k × k`
/// kernel with the given stride and zero padding, row by row: H'·W' rows of C·k² numbers.
pub fn im2col(x: &[f64], channels: usize, height: usize, width: usize, k: usize, stride: usize, pad: usize) -> Vec<f64> {
    // BEGIN SOLUTION
    // The output size: windows fit into the padded image H + 2·pad, one every `stride` pixels.
    let out_h = (height + 2 * pad - k) / stride + 1;
    let out_w = (width + 2 * pad - k) / stride + 1;
    let mut cols = Vec::with_capacity(out_h * out_w * channels * k * k);
    for p in 0..out_h {
        for q in 0..out_w {
            for c in 0..channels {
                for i in 0..k {
                    for j in 0..k {
                        // Row and column of the input pixel, in the unpadded image (may fall outside).
                        let y = (stride * p + i) as isize - pad as isize;
                        let z = (stride * q + j) as isize - pad as isize;
                        let inside = y >= 0 && y < height as isize && z >= 0 && z < width as isize;
                        cols.push(if inside { x[(c * height + y as usize) * width + z as usize] } else { 0.0 });
                    }
                }
            }
        }
    }
    cols
    // END SOLUTION
}
