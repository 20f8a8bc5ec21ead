//! One error type for the whole crate.
//!
//! Every message says what was wrong and what to do about it, so that a
//! learner who passes bad input sees a sentence, not a panic deep inside a
//! numerical library.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in `flowmatch`.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A time grid that is empty, has one point, is not strictly monotone or
    /// holds a non-finite time.
    TimeGrid { reason: String },
    /// A count that must be positive was zero (steps, samples, batch size).
    ZeroCount { what: String },
    /// A NaN or infinite value where finite numbers are required.
    NonFinite { what: String, detail: String },
    /// Tolerances for an adaptive solver that are negative, NaN or both zero.
    Tolerance { rtol: f64, atol: f64 },
    /// Two arrays whose shapes must agree do not.
    ShapeMismatch { what: String, expected: String, got: String },
    /// A request above a documented size limit.
    SizeLimit { what: String, size: usize, limit: usize, hint: String },
    /// A parameter outside its valid range (scheduler, dataset, trainer...).
    InvalidParameter { what: String, reason: String },
    /// A numerical method could not finish (step size underflow, too many steps).
    SolverFailed { reason: String },
    /// Training produced a NaN or infinite loss.
    NonFiniteLoss { step: usize, value: f64 },
    /// Reading or writing a file failed.
    Io { path: String, reason: String },
    /// A checkpoint exists but cannot be used (corrupt, wrong shape, wrong config).
    Checkpoint { path: String, reason: String },
    /// Drawing a figure failed.
    Plot { reason: String },
    /// An iterative method (Sinkhorn, ...) stopped before reaching its tolerance.
    NotConverged { what: String, reason: String },
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParameter { what: what.into(), reason: reason.into() }
    }

    /// Shorthand for [`Error::ShapeMismatch`].
    pub fn shape(what: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::ShapeMismatch { what: what.into(), expected: expected.into(), got: got.into() }
    }

    /// Shorthand for [`Error::Io`] from a `std::io::Error`.
    pub fn io(path: impl AsRef<std::path::Path>, err: impl fmt::Display) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), reason: err.to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TimeGrid { reason } => write!(
                f,
                "invalid time grid: {reason}. A grid needs at least two finite times that strictly \
                 increase (forward in time) or strictly decrease (backward); \
                 TimeGrid::uniform(t0, t1, steps) builds one"
            ),
            Error::ZeroCount { what } => {
                write!(f, "{what} must be at least 1, got 0. Pass a positive count")
            }
            Error::NonFinite { what, detail } => write!(
                f,
                "{what} contains a NaN or infinite value ({detail}). Check the inputs for \
                 overflow or a division by zero before calling again"
            ),
            Error::Tolerance { rtol, atol } => write!(
                f,
                "invalid tolerances rtol = {rtol}, atol = {atol}: both must be finite and \
                 non-negative and at least one must be positive (typical: rtol = 1e-5, atol = 1e-5)"
            ),
            Error::ShapeMismatch { what, expected, got } => {
                write!(f, "shape mismatch in {what}: expected {expected}, got {got}")
            }
            Error::SizeLimit { what, size, limit, hint } => {
                write!(f, "{what}: size {size} is above the limit of {limit}. {hint}")
            }
            Error::InvalidParameter { what, reason } => write!(f, "{what} is not valid: {reason}"),
            Error::SolverFailed { reason } => write!(f, "the ODE solver could not finish: {reason}"),
            Error::NonFiniteLoss { step, value } => write!(
                f,
                "training stopped at step {step}: the loss became {value}. Lower the learning \
                 rate, check the data for NaN or infinite values, or clip the time away from \
                 the endpoints of a scheduler that is singular there"
            ),
            Error::Io { path, reason } => write!(f, "could not access '{path}': {reason}"),
            Error::Checkpoint { path, reason } => write!(f, "checkpoint '{path}' cannot be used: {reason}"),
            Error::Plot { reason } => write!(f, "could not draw the figure: {reason}"),
            Error::NotConverged { what, reason } => write!(f, "{what} did not converge: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
