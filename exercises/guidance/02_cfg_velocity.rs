//! Exercise guidance.2 · 10 points: the classifier-free guidance combination.
//!
//! Bayes' rule turns the score of the class-sharpened density p(x) p(y | x)^w into the
//! unconditional score plus w times the difference of the conditional and unconditional
//! scores; on an affine path the velocities combine the same way. Our convention: w = 0 is
//! the unconditional velocity, w = 1 the conditional one, w > 1 guides.
//!
//! Grade it: `cargo run --release --bin course -- grade cfg_velocity`.

/// The guided velocity at one point, from the unconditional velocity `v_uncond`, the
/// conditional velocity `v_cond` and the guidance scale `w`.
///
/// Return one number per coordinate. Example: for v_uncond = (1, 0), v_cond = (0, 2) and
/// w = 3 the guided velocity is (−2, 6).
pub fn cfg_velocity(v_uncond: &[f64], v_cond: &[f64], w: f64) -> Vec<f64> {
    todo!()
}
