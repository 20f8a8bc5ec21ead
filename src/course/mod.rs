//! Course tooling that is not grading: the student and instructor copies of the notebooks.
//!
//! ```text
//! notebooks/source/<name>.ipynb  ──course sync──▶  notebooks/<name>.ipynb            (student: solutions → todo!())
//!                                                  notebooks/solutions/<name>.ipynb  (instructor: markers removed)
//! ```
//!
//! The `course` binary (`src/bin/course/`) is the only place that starts
//! processes or talks to Jupyter; this module only transforms notebook JSON, so
//! the tests can check the committed copies without running anything.

pub mod notebook;
