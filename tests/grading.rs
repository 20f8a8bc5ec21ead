//! The graded exercises: every checker passes the reference solutions in
//! `solutions/`, reports the untouched stubs in `exercises/` as "not yet
//! solved", and fails every typical wrong answer in `tests/fixtures/wrong/`.
//! Also: panics, `todo!()` and endless loops in student code, the score table,
//! the `course grade` command, and the notebook student/instructor generator.

use flowmatch::course::notebook::{self, Audience};
use flowmatch::grade::{self, Guarded, Outcome, Verdict};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Compiles every file of the registry (`flowmatch::for_each_exercise!`): the reference
/// solutions (`sol::<name>`), the stubs students start from (`stub::<name>`) and the typical
/// wrong answers (`wrong::<name>`, one module per exercise), and writes the tests and the
/// helpers that go over all of them.
macro_rules! exercise_files {
    ($($topic:literal $number:literal $name:ident $file:literal;)*) => {
        /// The reference solutions.
        #[path = "../solutions"]
        mod sol {
            $(#[allow(unused_variables, dead_code, clippy::type_complexity)] #[path = $file] pub mod $name;)*
        }

        /// The stubs students start from.
        #[path = "../exercises"]
        mod stub {
            $(#[allow(unused_variables, unused_imports, dead_code, clippy::type_complexity)] #[path = $file] pub mod $name;)*
        }

        /// Typical wrong answers, one module per exercise.
        #[path = "fixtures/wrong"]
        mod wrong {
            $(#[allow(unused_variables, dead_code, clippy::type_complexity)] #[path = $file] pub mod $name;)*
        }

        /// Grades every solution (or stub) with the library's checkers, in course order.
        fn grade_all(solutions: bool) -> Vec<Verdict> {
            vec![$(if solutions {
                grade::$name::EXERCISE.grade(&sol::$name::$name)
            } else {
                grade::$name::EXERCISE.grade(&stub::$name::$name)
            }),*]
        }

        /// Every exercise's wrong answers, graded: (exercise, [(answer, verdict)]).
        fn grade_wrong_answers() -> Vec<(&'static str, Vec<(&'static str, Verdict)>)> {
            vec![$((
                stringify!($name),
                wrong::$name::ALL.iter().map(|(name, f)| (*name, grade::$name::EXERCISE.grade(f))).collect(),
            )),*]
        }

        /// (name, number, topic, file) of every exercise, as the registry lists them.
        const REGISTRY: &[(&str, usize, &str, &str)] = &[$((stringify!($name), $number, $topic, $file)),*];

        /// Every exercise's wrong answers' failure reasons: (exercise, [reason]).
        fn wrong_answer_reasons() -> Vec<(&'static grade::Exercise, Vec<String>)> {
            vec![$((
                &grade::$name::EXERCISE.exercise,
                wrong::$name::ALL
                    .iter()
                    .filter_map(|(_, f)| match grade::$name::EXERCISE.grade(f).outcome {
                        Outcome::Failed { reason } => Some(reason),
                        _ => None,
                    })
                    .collect(),
            )),*]
        }
    };
}

flowmatch::for_each_exercise!(exercise_files);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// Solutions, stubs, wrong answers
// ---------------------------------------------------------------------------

#[test]
fn every_solution_passes_with_full_points() {
    let verdicts = grade_all(true);
    for v in &verdicts {
        assert!(v.passed(), "the reference solution of {} fails its checker:\n{v}", v.exercise.name);
        assert_eq!(v.points(), v.exercise.points);
    }
    let names: Vec<&str> = verdicts.iter().map(|v| v.exercise.name).collect();
    let expected: Vec<&str> = grade::EXERCISES.iter().map(|e| e.name).collect();
    assert_eq!(names, expected);
    assert_eq!(verdicts.iter().map(Verdict::points).sum::<u32>(), grade::max_total());
}

#[test]
fn every_untouched_stub_is_not_yet_solved() {
    for v in grade_all(false) {
        assert_eq!(
            v.outcome,
            Outcome::NotSolved,
            "{} no longer fails as an untouched stub: exercises/ must hold the stubs (solutions go in solutions/; \
             students grade with `course grade`, this test is for the course maintainers)",
            v.exercise.file
        );
        assert_eq!(v.points(), 0);
        let text = v.to_string();
        assert!(text.contains("not yet solved"), "{text}");
        assert!(!text.contains("panicked at"), "{text}");
    }
}

/// Asserts that every named wrong answer fails with a message saying what came back and what was expected.
fn assert_all_fail(exercise: &str, verdicts: Vec<(&str, Verdict)>) {
    assert!(verdicts.len() >= 5, "{exercise}: keep at least five typical wrong answers");
    for (name, v) in verdicts {
        match &v.outcome {
            Outcome::Failed { reason } => {
                println!("{exercise}/{name}: {reason}");
                assert!(
                    reason.contains("expected") || reason.contains("must"),
                    "{exercise}/{name}: the message should say what was expected: {reason}"
                );
                assert!(!reason.contains("panicked at"));
            }
            other => panic!("{exercise}/{name}: a typical wrong answer must fail its checker, got {other:?}"),
        }
        assert_eq!(v.points(), 0);
    }
}

#[test]
fn every_wrong_answer_fails() {
    let all = grade_wrong_answers();
    assert_eq!(all.len(), grade::EXERCISES.len());
    for (exercise, verdicts) in all {
        assert_all_fail(exercise, verdicts);
    }
}

/// The reason of a failed verdict (panics otherwise).
fn reason(v: &Verdict) -> &str {
    match &v.outcome {
        Outcome::Failed { reason } => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn hints_show_the_input_what_came_back_and_what_was_expected() {
    let v = grade::interpolant::EXERCISE.grade(&wrong::interpolant::swapped_t);
    assert_eq!(
        reason(&v),
        "For x0 = (0, 0), x1 = (2, 2) and t = 0.25, your x_t was (1.5, 1.5); expected (0.5, 0.5) (t and 1 − t are \
         swapped: your path starts at the data and ends at the noise)."
    );
    let v = grade::condot_velocity::EXERCISE.grade(&wrong::condot_velocity::flipped_sign);
    assert_eq!(
        reason(&v),
        "For x0 = (0, 0), x1 = (2, 2) and t = 0.25, your velocity was (-2, -2); expected (2, 2) (the sign is \
         flipped: your velocity points from the data to the noise)."
    );
    let v = grade::condot_velocity::EXERCISE.grade(&wrong::condot_velocity::divides_by_one_minus_t);
    assert!(reason(&v).contains("t = 1,") && reason(&v).contains("NaN"), "{}", reason(&v));
    // Each typical mistake is named: (the verdict, words its reason must hold).
    let named = [
        (grade::cfm_loss::EXERCISE.grade(&wrong::cfm_loss::sum), "not their mean"),
        (grade::euler_step::EXERCISE.grade(&wrong::euler_step::missing_h), "the step size h is missing"),
        (grade::midpoint_step::EXERCISE.grade(&wrong::midpoint_step::second_stage_at_t), "used the start time t"),
        (grade::train_step::EXERCISE.grade(&wrong::train_step::flipped_target), "sign of the target is flipped"),
        (grade::train_step::EXERCISE.grade(&wrong::train_step::swapped_t), "t and 1 − t are swapped"),
        (grade::train_step::EXERCISE.grade(&wrong::train_step::two_steps), "took 2 optimiser steps"),
        (grade::sample_euler::EXERCISE.grade(&wrong::sample_euler::end_times), "at its end"),
    ];
    for (v, words) in &named {
        assert!(reason(v).contains(words), "{}", reason(v));
    }
    let v = grade::gaussian_velocity::EXERCISE.grade(&wrong::gaussian_velocity::dropped_ratio_in_z);
    assert!(reason(&v).contains("the coefficient of z is just α̇"), "{}", reason(&v));
    // A failed verdict prints the reason and the concept hint, and says how to ask for the formula.
    let text = v.to_string();
    assert!(text.contains("FAIL, 0/10 points") && text.contains("Hint: the velocity must be a function of"), "{text}");
    assert!(text.contains("check_with_hint!(gaussian_velocity, 2)") && !text.contains("Formula:"), "{text}");
}

/// Every typical mistake of topic 7.2 fails with its own diagnosis.
#[test]
fn the_mistakes_of_7_2_are_named() {
    use grade::{ot_pairing::EXERCISE as ot, path_energy::EXERCISE as pe, sort_pairing::EXERCISE as sort};
    use wrong::{ot_pairing as o, path_energy as p, sort_pairing as s};
    let named = [
        (ot.grade(&o::nearest_with_replacement), "expected a permutation"),
        (ot.grade(&o::sampled_with_replacement), "expected a permutation"),
        (ot.grade(&o::greedy_nearest), "that is the greedy pairing"),
        (ot.grade(&o::plain_distance), "optimal for the plain distance"),
        (ot.grade(&o::inverse), "that is the inverse permutation"),
        (ot.grade(&o::as_drawn), "the independent coupling"),
        (pe.grade(&p::missing_dt), "the time steps are missing"),
        (pe.grade(&p::times_dt), "multiplied by the time step instead of dividing"),
        (pe.grade(&p::sum_over_particles), "the sum over the particles"),
        (pe.grade(&p::endpoints_only), "only uses the first and last states"),
        (pe.grade(&p::uniform_steps_assumed), "you assumed equal steps"),
        (pe.grade(&p::not_squared), "the displacements are not squared"),
        (sort.grade(&s::ranks_x1_only), "the ranking of x1 alone"),
        (sort.grade(&s::inverse), "the inverse permutation"),
        (sort.grade(&s::reversed), "reverses the order"),
        (sort.grade(&s::as_drawn), "the pairing as drawn"),
        (sort.grade(&s::nearest), "a data point is used more than once"),
    ];
    for (v, words) in &named {
        assert!(reason(v).contains(words), "{words}: {}", reason(v));
    }
}

/// Every typical mistake of topic 7.6 fails with its own diagnosis.
#[test]
fn the_mistakes_of_7_6_are_named() {
    let named = [
        (grade::eps_to_velocity::EXERCISE.grade(&wrong::eps_to_velocity::missing_d_sigma), "σ̇ is missing"),
        (grade::eps_to_velocity::EXERCISE.grade(&wrong::eps_to_velocity::flipped_sign), "sign of the ε̂ term"),
        (
            grade::eps_to_velocity::EXERCISE.grade(&wrong::eps_to_velocity::data_and_noise_swapped),
            "data and noise are swapped",
        ),
        (grade::eps_to_velocity::EXERCISE.grade(&wrong::eps_to_velocity::returns_x1), "not yet its velocity"),
        (grade::eps_to_velocity::EXERCISE.grade(&wrong::eps_to_velocity::not_divided_by_alpha), "not divided by α"),
        (grade::reverse_sde_step::EXERCISE.grade(&wrong::reverse_sde_step::missing_sqrt_h), "√h is missing"),
        (grade::reverse_sde_step::EXERCISE.grade(&wrong::reverse_sde_step::g_not_squared), "g² = β"),
        (grade::reverse_sde_step::EXERCISE.grade(&wrong::reverse_sde_step::flipped_drift), "drift's sign is flipped"),
        (grade::reverse_sde_step::EXERCISE.grade(&wrong::reverse_sde_step::pf_ode_score_term), "probability-flow"),
        (grade::reverse_sde_step::EXERCISE.grade(&wrong::reverse_sde_step::beta_at_wrong_time), "diffusion time 1 − t"),
        (grade::reverse_sde_step::EXERCISE.grade(&wrong::reverse_sde_step::noise_times_h), "by h instead of √h"),
        (grade::ddim_step::EXERCISE.grade(&wrong::ddim_step::old_sigma), "current noise weight"),
        (grade::ddim_step::EXERCISE.grade(&wrong::ddim_step::not_divided_by_alpha), "not divided by α"),
        (grade::ddim_step::EXERCISE.grade(&wrong::ddim_step::jumps_to_data), "clean point itself"),
        (grade::ddim_step::EXERCISE.grade(&wrong::ddim_step::swapped_weights), "weights of data and noise are swapped"),
        (grade::ddim_step::EXERCISE.grade(&wrong::ddim_step::added_noise), "taken out of x"),
    ];
    for (v, words) in &named {
        assert!(reason(v).contains(words), "{}", reason(v));
    }
}

/// Every typical mistake of the images notebook's exercises (im2col, the skip connection) fails
/// with its own diagnosis.
#[test]
fn the_mistakes_of_the_images_exercises_are_named() {
    use grade::{im2col::EXERCISE as im2col, up_and_concat::EXERCISE as skip};
    use wrong::{im2col as w, up_and_concat as u};
    let named = [
        (im2col.grade(&w::kernel_axes_swapped), "you swapped the two kernel axes"),
        (im2col.grade(&w::padding_off_by_one), "the padding is off by one"),
        (im2col.grade(&w::rows_and_columns_transposed), "your matrix is transposed"),
        (im2col.grade(&w::channel_order_wrong), "the channel order within a row is wrong"),
        (im2col.grade(&w::stride_ignored), "the number of rows of stride 1"),
        (im2col.grade(&w::stride_ignored_in_reads), "the stride is ignored when reading"),
        (im2col.grade(&w::edge_pixels_not_zeros), "replicate padding"),
        (im2col.grade(&w::no_padding), "the size without padding"),
        (skip.grade(&u::skip_first), "the order is swapped"),
        (skip.grade(&u::channels_last), "interleaved pixel by pixel"),
        (skip.grade(&u::added_not_concatenated), "concatenates the two along the channels"),
        (skip.grade(&u::tiled_upsampling), "tiles the coarse image"),
        (skip.grade(&u::transposed_upsampling), "your upsampled image is transposed"),
        (skip.grade(&u::zeros_between), "zeros in the other three"),
        (skip.grade(&u::not_upsampled), "still at half resolution"),
    ];
    for (v, words) in &named {
        assert!(reason(v).contains(words), "{}", reason(v));
    }
}

/// Every typical mistake of the training loop (7.4.3) fails with its own diagnosis.
#[test]
fn the_mistakes_of_the_training_loop_are_named() {
    use grade::train_loop::EXERCISE as loop_;
    use wrong::train_loop as w;
    let named = [
        (loop_.grade(&w::one_time_per_batch), "shares one time"),
        (loop_.grade(&w::fixed_half_time), "times were never drawn"),
        (loop_.grade(&w::squared_time), "not uniform on [0, 1]"),
        (loop_.grade(&w::same_noise_every_step), "same noise batch was used again"),
        (loop_.grade(&w::target_of_another_row), "it is the target of row"),
        (loop_.grade(&w::data_as_target), "the data point itself"),
        (loop_.grade(&w::flipped_target), "sign of the target is flipped"),
        (loop_.grade(&w::no_step), "never took an optimiser step"),
        (loop_.grade(&w::noise_not_from_source), "not a point that `source` drew"),
        (loop_.grade(&w::ignores_seed), "different seeds drew exactly the same batches"),
    ];
    for (v, words) in &named {
        assert!(reason(v).contains(words), "{words}: {}", reason(v));
    }
}

/// The Gaussian-target check of 7.4.3 separates a correct loop from broken ones on its own:
/// the reference loop meets the tolerance, loops that never draw t, regress onto the data or
/// never step do not, whatever the recording model says.
#[test]
fn the_trained_field_of_the_training_loop_tells_right_from_wrong() {
    use grade::train_loop::{field_error, FIELD_TOLERANCE};
    let right = field_error(&sol::train_loop::train_loop).unwrap();
    println!("reference loop: relative field error {right:.4} (tolerance {FIELD_TOLERANCE})");
    assert!(right < 0.5 * FIELD_TOLERANCE, "the reference loop should pass with room to spare: {right}");
    for (name, f) in [
        ("fixed_half_time", wrong::train_loop::fixed_half_time as wrong::train_loop::Answer),
        ("data_as_target", wrong::train_loop::data_as_target),
        ("no_step", wrong::train_loop::no_step),
        ("flipped_target", wrong::train_loop::flipped_target),
    ] {
        let err = field_error(&f).unwrap();
        println!("{name}: relative field error {err:.4}");
        assert!(err > 2.0 * FIELD_TOLERANCE, "{name} should miss the exact field by far: {err}");
    }
    // The Kolmogorov–Smirnov pieces against hand-worked values.
    assert!((grade::train_loop::ks_uniform(&[0.5]) - 0.5).abs() < 1e-15);
    assert!((grade::train_loop::ks_uniform(&[0.1, 0.6]) - 0.4).abs() < 1e-15);
    assert!((grade::train_loop::kolmogorov_p(1.3581) - 0.05).abs() < 1e-3);
    assert!((grade::train_loop::kolmogorov_p(1.9495) - 0.001).abs() < 1e-4);
}

#[test]
fn checkers_accept_closures_and_small_rounding_differences() {
    // Same maths, different operation order: x0 + t·(x1 − x0).
    let v = grade::interpolant::EXERCISE.grade(&|x0: &[f64], x1: &[f64], t: f64| -> Vec<f64> {
        x0.iter().zip(x1).map(|(a, b)| a + t * (b - a)).collect()
    });
    assert!(v.passed(), "{v}");
    // `compare` runs on the calling thread (no guard); it tries many inputs.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let counting = |x0: &[f64], x1: &[f64], t: f64| {
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sol::interpolant::interpolant(x0, x1, t)
    };
    assert_eq!(grade::interpolant::EXERCISE.compare(&counting), Ok(()));
    let calls = CALLS.load(std::sync::atomic::Ordering::Relaxed);
    assert!(calls > 30, "{calls} calls");
    // The library's own CFM loss.
    let v =
        grade::cfm_loss::EXERCISE.grade(&|pred: &flowmatch::Points, x0: &flowmatch::Points, x1: &flowmatch::Points| {
            flowmatch::loss::mse(pred, &(x1 - x0)).unwrap()
        });
    assert!(v.passed(), "{v}");
    // The library's own solver.
    let v =
        grade::sample_euler::EXERCISE.grade(&|f: &dyn flowmatch::VectorField, x0: &flowmatch::Points, steps: usize| {
            let grid = flowmatch::TimeGrid::uniform(0.0, 1.0, steps).unwrap();
            flowmatch::solver::solve(f, x0, &grid, flowmatch::solver::Method::Euler).unwrap().final_state
        });
    assert!(v.passed(), "{v}");
}

// ---------------------------------------------------------------------------
// Guarding student code: panics, todo!(), endless loops
// ---------------------------------------------------------------------------

fn indexes_out_of_bounds(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64> {
    (0..=x0.len()).map(|j| t * x1[j] + (1.0 - t) * x0[j]).collect()
}

fn todo_with_message(_x0: &[f64], _x1: &[f64], _t: f64) -> Vec<f64> {
    todo!("write the interpolant")
}

fn hangs(_x0: &[f64], _x1: &[f64], _t: f64) -> Vec<f64> {
    loop {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn panics_with_marker_text(_x0: &[f64], _x1: &[f64], _t: f64) -> Vec<f64> {
    panic!("thread 'main' panicked at src/lib.rs:1:1")
}

#[test]
fn a_panic_is_reported_with_its_message_and_place() {
    let v = grade::interpolant::EXERCISE.grade(&indexes_out_of_bounds);
    match &v.outcome {
        Outcome::Panicked { message, location } => {
            assert!(message.contains("index out of bounds"), "{message}");
            assert!(location.as_deref().is_some_and(|l| l.contains("grading.rs")), "{location:?}");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    let text = v.to_string();
    assert!(text.contains("FAIL (panic)") && text.contains("index out of bounds"), "{text}");
    assert!(!text.contains("panicked at"), "{text}");
    // A message that itself holds Rust's panic-report words is defused.
    let v = grade::interpolant::EXERCISE.grade(&panics_with_marker_text);
    assert!(!v.to_string().contains("panicked at"), "{v}");
    assert!(!grade::report(&[v], 1).contains("panicked at"));
}

#[test]
fn todo_with_a_message_is_still_not_yet_solved() {
    assert_eq!(grade::interpolant::EXERCISE.grade(&todo_with_message).outcome, Outcome::NotSolved);
}

#[test]
fn an_endless_loop_times_out_and_grading_goes_on() {
    let start = Instant::now();
    let v = grade::interpolant::EXERCISE.grade_within(Duration::from_millis(300), &hangs);
    assert_eq!(v.outcome, Outcome::TimedOut { limit: Duration::from_millis(300) });
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(v.to_string().contains("did not return within 0.3 s"), "{v}");
    // The abandoned thread keeps sleeping; the next exercise is graded as usual.
    assert!(grade::condot_velocity::EXERCISE.grade(&sol::condot_velocity::condot_velocity).passed());
}

#[test]
fn run_guarded_returns_values_panics_and_timeouts() {
    assert_eq!(grade::run_guarded(Duration::from_secs(5), || 6 * 7), Guarded::Returned(42));
    match grade::run_guarded(Duration::from_secs(5), || -> u8 { std::panic::panic_any(17_i32) }) {
        Guarded::Panicked { message, .. } => assert!(message.contains("not text"), "{message}"),
        other => panic!("{other:?}"),
    }
    let r = grade::run_guarded(Duration::from_millis(100), || loop {
        std::thread::sleep(Duration::from_millis(20));
    });
    assert_eq!(r, Guarded::<()>::TimedOut);
}

/// Run by [`student_panics_print_nothing`] in a child process; does nothing on its own.
#[test]
#[ignore = "helper: run by student_panics_print_nothing in a child process"]
fn quiet_panic_child() {
    let a = grade::interpolant::EXERCISE.check(&indexes_out_of_bounds);
    let b = grade::interpolant::EXERCISE.check(&todo_with_message);
    assert!(matches!(a.outcome, Outcome::Panicked { .. }));
    assert_eq!(b.outcome, Outcome::NotSolved);
    println!("CHILD DONE");
}

#[test]
fn student_panics_print_nothing() {
    // Notebook runners fail a cell whose output holds Rust's panic report, so the
    // check functions must print their verdict and nothing else, on stdout or stderr.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["quiet_panic_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("CHILD DONE"), "the child test did not run:\n{stdout}");
    assert!(stdout.contains("FAIL (panic)") && stdout.contains("not yet solved"), "{stdout}");
    assert!(!stdout.contains("panicked at") && !stderr.contains("panicked at"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

// ---------------------------------------------------------------------------
// The exercise list, the files, the score table and the command
// ---------------------------------------------------------------------------

/// The source notebook of a topic: `notebooks/source/<topic>-*.ipynb`, or `<topic>.ipynb` for a
/// topic named by its notebook (`guidance`).
fn topic_notebook(topic: &str) -> PathBuf {
    let dir = repo().join("notebooks/source");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(&format!("{topic}-")) || name == format!("{topic}.ipynb")
        })
        .collect();
    assert_eq!(found.len(), 1, "one source notebook per topic {topic} in {}: {found:?}", dir.display());
    found.pop().unwrap()
}

#[test]
fn exercises_are_numbered_within_their_topic_named_and_findable() {
    assert_eq!(grade::EXERCISES.len(), REGISTRY.len());
    let mut previous: Option<(&str, usize)> = None;
    let mut seen_topics: Vec<&str> = Vec::new();
    for (e, &(name, number, topic, file)) in grade::EXERCISES.iter().zip(REGISTRY) {
        assert_eq!((e.name, e.number, e.topic), (name, number, topic), "the registry gives each exercise its place");
        assert_eq!(e.id, format!("{topic}.{number}"));
        // Numbers count 1, 2, 3 … within a topic; a topic's exercises sit together.
        match previous {
            Some((t, n)) if t == topic => assert_eq!(number, n + 1, "{}: numbers count up within topic {topic}", e.id),
            _ => {
                assert_eq!(number, 1, "{}: the first exercise of topic {topic} is number 1", e.id);
                assert!(!seen_topics.contains(&topic), "the exercises of topic {topic} are not listed together");
                seen_topics.push(topic);
            }
        }
        previous = Some((topic, number));
        assert_eq!(e.file, format!("exercises/{file}"));
        assert!(repo().join(e.file).is_file(), "{} is missing", e.file);
        let stem = format!("{:02}_{}", e.number, e.name);
        assert_eq!(e.file, format!("exercises/{}/{stem}.rs", e.topic), "exercises/<topic>/NN_name.rs");
        for query in
            [e.name.to_string(), e.id.to_string(), stem.clone(), format!("{}/{stem}.rs", e.topic), e.file.into()]
        {
            assert_eq!(grade::find(&query), Some(*e), "{query}");
        }
        // The topic is a notebook, and its exercise cell checks the function with this checker.
        let source = std::fs::read_to_string(topic_notebook(e.topic)).unwrap();
        assert!(source.contains(&format!("check!({})", e.name)), "notebook {} has no check!({})", e.topic, e.name);
        assert!(!e.hints.concept.is_empty() && !e.hints.formula.is_empty() && !e.title.is_empty() && e.points > 0);
    }
    assert_eq!(grade::find("EULER_STEP.rs").map(|e| e.id), Some("7.4.4"));
    assert_eq!(grade::find("03_train_loop").map(|e| e.id), Some("7.4.3"));
    assert_eq!(grade::find(" 7.4.4 ").map(|e| e.name), Some("euler_step"));
    assert_eq!(grade::find("nope"), None);
    // A bare number is ambiguous once topics number their own exercises.
    assert_eq!(grade::find("2"), None);
    assert_eq!(grade::find("7.4.99"), None);
    assert_eq!(grade::max_total(), grade::EXERCISES.iter().map(|e| e.points).sum::<u32>());
    assert_eq!(grade::train_step::EXERCISE.points, 20);
}

/// The right-hand sides of the `lhs = rhs` equations of a formula hint, without spaces: each
/// runs to the next `;`, `, ` or `. ` outside brackets (a sentence or a list goes on after it).
/// Short ones (under five characters, such as `0`) are left out: they are not a formula.
fn formula_parts(formula: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for (i, _) in formula.match_indices(" = ") {
        let rhs = &formula[i + 3..];
        let (mut depth, mut end) = (0i32, rhs.len());
        let chars: Vec<(usize, char)> = rhs.char_indices().collect();
        for (k, &(at, c)) in chars.iter().enumerate() {
            let next = chars.get(k + 1).map(|&(_, n)| n);
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ';' if depth <= 0 => {
                    end = at;
                    break;
                }
                ',' | '.' if depth <= 0 && next == Some(' ') => {
                    end = at;
                    break;
                }
                _ => {}
            }
        }
        let part: String = rhs[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if part.chars().count() >= 5 {
            parts.push(part);
        }
    }
    parts
}

/// `text` without whitespace, so a formula broken over lines is still found.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn level_one_hints_titles_and_first_failures_never_hand_out_the_formula() {
    // The extraction finds what it must (so this test can fail).
    assert_eq!(formula_parts("x_t = t·x1 + (1 − t)·x0, coordinate by coordinate"), vec!["t·x1+(1−t)·x0"]);
    assert_eq!(formula_parts("a = f(x, y); b = 0; c = g(x, z). More"), vec!["f(x,y)", "g(x,z)"]);
    for e in grade::EXERCISES {
        let parts = formula_parts(e.hints.formula);
        assert!(!parts.is_empty(), "{}: the formula hint has no `lhs = rhs` equation: {}", e.id, e.hints.formula);
        let level1 = e.hint(1).unwrap();
        let level2 = e.hint(2).unwrap();
        for part in &parts {
            assert!(squeezed(&level2).contains(part.as_str()), "{}: level 2 shows the formula", e.id);
            for (what, text) in [("the level-1 hint", level1.as_str()), ("the title", e.title)] {
                assert!(!squeezed(text).contains(part.as_str()), "{}: {what} gives away `{part}`: {text}", e.id);
            }
        }
        assert!(level1.contains(&format!("check_with_hint!({}, 2)", e.name)) && level1.contains("--hint 2"));
        assert_eq!(e.hint(0), None);
    }
    // A first failure (the message of every typical wrong answer) names the mistake, not the formula.
    for (e, reasons) in wrong_answer_reasons() {
        assert!(!reasons.is_empty());
        for reason in reasons {
            for part in formula_parts(e.hints.formula) {
                assert!(
                    !squeezed(&reason).contains(part.as_str()),
                    "{}: a failure gives away `{part}`: {reason}",
                    e.id
                );
            }
        }
    }
}

#[test]
fn hint_levels_follow_the_verdict() {
    let failed = grade::euler_step::EXERCISE.grade(&wrong::euler_step::at_end_time);
    let stub = grade::euler_step::EXERCISE.grade(&stub::euler_step::euler_step);
    let passed = grade::euler_step::EXERCISE.grade(&sol::euler_step::euler_step);
    let formula = grade::euler_step::EXERCISE.hints.formula;
    let concept = grade::euler_step::EXERCISE.hints.concept;
    // Level 1 (check!): the concept after a failed attempt only.
    assert!(failed.render(1).contains(concept) && !failed.render(1).contains(formula));
    assert_eq!(failed.render(1), failed.to_string());
    assert!(!stub.render(1).contains("Hint:"), "no hint before a first attempt");
    // Level 2 (check_with_hint!, --hint 2): concept and formula, asked for, also before a first attempt.
    for v in [&failed, &stub] {
        let text = v.render(2);
        assert!(text.contains(concept) && text.contains(&format!("Formula: {formula}")), "{text}");
    }
    // Never on a pass; level 0 never.
    for level in 0..=3 {
        assert!(!passed.render(level).contains("Hint:"));
    }
    assert!(!failed.render(0).contains("Hint:") && failed.render(0).contains("What happened"));
    // The score table takes the level too.
    let table = grade::report(&[failed.clone(), stub.clone()], 2);
    assert_eq!(table.matches(formula).count(), 2, "{table}");
    assert!(!grade::report(&[failed, stub], 1).contains(formula));
}

/// Every file below `dir` whose name ends in `.{ext}`, leaving out hidden folders (Jupyter's
/// checkpoints) and `executed/` (the copies `course execute` writes, which git ignores).
fn files_below(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() && (name.starts_with('.') || name == "executed") {
            continue;
        }
        if p.is_dir() {
            out.extend(files_below(&p, ext));
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_exercise_file_is_registered() {
    let registered: Vec<&str> = REGISTRY.iter().map(|r| r.3).collect();
    for folder in ["exercises", "solutions", "tests/fixtures/wrong"] {
        let root = repo().join(folder);
        let files = files_below(&root, "rs");
        let mut rel: Vec<String> =
            files.iter().map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/")).collect();
        rel.sort();
        let mut want: Vec<String> = registered.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(rel, want, "{folder}/ must hold exactly the files of the registry (for_each_exercise!)");
    }
}

#[test]
fn exercise_files_are_the_solutions_with_the_solutions_taken_out() {
    for e in grade::EXERCISES {
        let solution_path = repo().join(e.file.replacen("exercises/", "solutions/", 1));
        let solution = std::fs::read_to_string(&solution_path).unwrap();
        let stub = std::fs::read_to_string(repo().join(e.file)).unwrap();
        assert!(solution.contains(&format!("pub fn {}(", e.name)), "{}", solution_path.display());
        assert!(solution.contains(notebook::BEGIN_MARKER));
        assert_eq!(
            notebook::strip_solutions(&solution, Audience::Student).unwrap(),
            stub,
            "{} is not solutions/ with its solution regions replaced by todo!()",
            e.file
        );
    }
}

/// A pass, a failure and an untouched stub.
fn three_verdicts() -> Vec<Verdict> {
    vec![
        grade::interpolant::EXERCISE.grade(&sol::interpolant::interpolant),
        grade::condot_velocity::EXERCISE.grade(&wrong::condot_velocity::flipped_sign),
        grade::train_step::EXERCISE.grade(&stub::train_step::train_step),
    ]
}

#[test]
fn the_score_table_lists_points_and_failures() {
    let verdicts = three_verdicts();
    let table = grade::report(&verdicts, 1);
    println!("{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("exercise") && lines[0].contains("points") && lines[0].contains("result"));
    assert!(lines[1].contains("interpolant") && lines[1].contains("10/10") && lines[1].ends_with("pass"));
    assert!(lines[2].contains("condot_velocity") && lines[2].contains("0/10") && lines[2].ends_with("FAIL"));
    assert!(lines[3].contains("train_step") && lines[3].contains("0/20") && lines[3].ends_with("not yet solved"));
    assert!(lines[4].contains("total") && lines[4].contains("10/40"));
    assert!(table.contains("your velocity was (-2, -2); expected (2, 2)"));
    assert!(table.contains(&format!("Hint: {}", grade::condot_velocity::EXERCISE.hints.concept)));
    // No hint before the student has tried.
    assert!(!table.contains(grade::train_step::EXERCISE.hints.concept));
    assert!(lines[1].starts_with("7.3.1") && lines[3].starts_with("7.4.2"), "{table}");
}

#[test]
fn course_grade_on_the_stubs_exits_non_zero_with_a_table() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_course")).arg("grade").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let is_row = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        grade::EXERCISES.iter().any(|e| words.len() > 2 && words[0] == e.id && words[1] == e.name)
    };
    let rows = stdout.lines().filter(|l| is_row(l));
    assert_eq!(rows.filter(|l| l.trim_end().ends_with("not yet solved")).count(), grade::EXERCISES.len(), "{stdout}");
    assert!(stdout.contains(&format!("0/{}", grade::max_total())), "{stdout}");
    assert!(!stdout.contains("panicked at") && !String::from_utf8_lossy(&out.stderr).contains("panicked at"));

    for query in ["7.3.2", "condot_velocity"] {
        let one = course(&["grade", query]);
        let stdout = String::from_utf8_lossy(&one.stdout);
        assert_eq!(one.status.code(), Some(1));
        assert!(
            stdout.contains("condot_velocity") && !stdout.contains("interpolant") && stdout.contains("0/10"),
            "{stdout}"
        );
        // No hint before a first attempt, unless asked for: --hint 2 gives the formula.
        assert!(!stdout.contains("Hint:"), "{stdout}");
        let asked = String::from_utf8_lossy(&course(&["grade", query, "--hint", "2"]).stdout).to_string();
        assert!(asked.contains(grade::condot_velocity::EXERCISE.hints.formula), "{asked}");
    }

    let bad = course(&["grade", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no exercise `nope`"));
    let bare = course(&["grade", "2"]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bare.stderr).contains("numbered within their topic"));
    for level in
        [&["grade", "--hint", "3"][..], &["grade", "--hint"], &["grade", "--hint=x"], &["grade", "--frobnicate"]]
    {
        let out = course(level);
        assert_eq!(out.status.code(), Some(2), "{level:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

/// Runs the `course` binary with `args`, stdin closed.
fn course(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_course"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn course_grade_list_shows_topic_number_name_and_points() {
    let out = course(&["grade", "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for e in grade::EXERCISES {
        let line = stdout.lines().find(|l| l.split_whitespace().any(|w| w == e.name)).expect(e.name);
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[..5], [e.id, e.topic, &e.number.to_string(), e.name, &e.points.to_string()], "{line}");
    }
}

#[test]
fn course_grade_json_is_one_gradebook_document() {
    let out = course(&["grade", "--json"]);
    assert_eq!(out.status.code(), Some(1), "the stubs do not pass");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let book = grade::Gradebook::from_json(&stdout).unwrap_or_else(|e| panic!("{e}:\n{stdout}"));
    assert_eq!(book.version, 1);
    assert_eq!(book.items.len(), grade::EXERCISES.len());
    for (item, e) in book.items.iter().zip(grade::EXERCISES) {
        assert_eq!((item.name.as_str(), item.topic.as_str()), (e.name, e.topic));
        assert_eq!((item.earned, item.possible, item.verdict.as_str()), (0, e.points, "not yet solved"));
    }
    assert_eq!((book.earned, book.possible), (0, grade::max_total()));
    // Exactly the documented fields, and nothing but the document on stdout.
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["earned", "items", "possible", "version"]);
    let mut item_keys: Vec<&String> = value["items"][0].as_object().unwrap().keys().collect();
    item_keys.sort();
    assert_eq!(item_keys, ["earned", "name", "possible", "topic", "verdict"]);
}

#[test]
fn verdicts_become_gradebook_items() {
    let mut verdicts = three_verdicts();
    verdicts.push(grade::interpolant::EXERCISE.grade(&indexes_out_of_bounds));
    verdicts.push(grade::interpolant::EXERCISE.grade_within(Duration::from_millis(100), &hangs));
    let book = grade::gradebook(&verdicts);
    let keys: Vec<&str> = book.items.iter().map(|i| i.verdict.as_str()).collect();
    assert_eq!(keys, ["pass", "fail", "not yet solved", "panic", "timed out"]);
    assert_eq!((book.earned, book.possible), (10, 60));
    assert_eq!(grade::Gradebook::from_json(&book.to_json()), Ok(book));
}

// ---------------------------------------------------------------------------
// Notebooks: student and instructor copies from one source
// ---------------------------------------------------------------------------

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo().join("tests/fixtures/notebook").join(name)).unwrap()
}

fn cells(text: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["cells"].as_array().unwrap().clone()
}

fn source(cell: &serde_json::Value) -> String {
    cell["source"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect()
}

#[test]
fn strip_solutions_replaces_or_keeps_regions() {
    let code = "fn f() -> u32 {\n    // BEGIN SOLUTION\n    let a = 40;\n    a + 2\n    // END SOLUTION\n}";
    assert_eq!(notebook::strip_solutions(code, Audience::Student).unwrap(), "fn f() -> u32 {\n    todo!()\n}");
    assert_eq!(
        notebook::strip_solutions(code, Audience::Instructor).unwrap(),
        "fn f() -> u32 {\n    let a = 40;\n    a + 2\n}"
    );
    // A given placeholder, an empty one, and a last line without a newline.
    let code = "  // BEGIN SOLUTION: let n = todo!();\n  let n = 3;\n  // END SOLUTION\n// BEGIN SOLUTION:\nfn helper() {}\n// END SOLUTION";
    assert_eq!(notebook::strip_solutions(code, Audience::Student).unwrap(), "  let n = todo!();\n");
    assert_eq!(notebook::strip_solutions(code, Audience::Instructor).unwrap(), "  let n = 3;\nfn helper() {}\n");
    // Code without markers is unchanged.
    let plain = "let x = 1;\n// a comment about the solution\n";
    assert_eq!(notebook::strip_solutions(plain, Audience::Student).unwrap(), plain);
}

#[test]
fn bad_markers_are_errors_that_name_the_line() {
    let cases = [
        ("// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION\n", "line 2", "do not nest"),
        ("x\n// END SOLUTION\n", "line 2", "without"),
        ("x\n// BEGIN SOLUTION\ny\n", "line 2", "no `// END SOLUTION`"),
        ("let a = 1; // BEGIN SOLUTION\n", "line 1", "not one"),
        ("//BEGIN SOLUTIONS\n", "line 1", "not one"),
    ];
    for (code, line, words) in cases {
        for audience in [Audience::Student, Audience::Instructor] {
            let msg = notebook::strip_solutions(code, audience).unwrap_err().to_string();
            assert!(msg.contains(line) && msg.contains(words), "{code:?}: {msg}");
        }
    }
    // `//BEGIN SOLUTION` without the space is accepted as a marker.
    assert_eq!(
        notebook::strip_solutions("//BEGIN SOLUTION\nx\n//END SOLUTION\n", Audience::Student).unwrap(),
        "todo!()\n"
    );
}

#[test]
fn the_fixture_notebook_gives_the_committed_copies() {
    let src = fixture("source.ipynb");
    let student = notebook::render(&src, Audience::Student).unwrap();
    let instructor = notebook::render(&src, Audience::Instructor).unwrap();
    if std::env::var_os("FLOWMATCH_BLESS").is_some() {
        // Regenerate the expected copies after a deliberate change (then read the diff!).
        let dir = repo().join("tests/fixtures/notebook");
        std::fs::write(dir.join("student.ipynb"), &student).unwrap();
        std::fs::write(dir.join("instructor.ipynb"), &instructor).unwrap();
    }
    assert_eq!(student, fixture("student.ipynb"), "tests/fixtures/notebook/student.ipynb differs");
    assert_eq!(instructor, fixture("instructor.ipynb"), "tests/fixtures/notebook/instructor.ipynb differs");
}

#[test]
fn the_student_copy_has_no_solutions_and_no_outputs() {
    let student = notebook::render(&fixture("source.ipynb"), Audience::Student).unwrap();
    assert!(!student.contains("SOLUTION") && !student.contains("t * b + (1.0 - t) * a"));
    assert!(!student.contains("weighted average with weights") && !student.contains("assert_eq!(steps, 30)"));
    assert!(!student.contains("fn helper"));
    let cells = cells(&student);
    assert_eq!(cells.len(), 6, "the two cells tagged `solution` are dropped");
    assert_eq!(source(&cells[1]), ":dep flowmatch = { path = \"..\" }\nuse flowmatch::prelude::*;");
    assert_eq!(source(&cells[3]), "fn interpolant(x0: &[f64], x1: &[f64], t: f64) -> Vec<f64> {\n    todo!()\n}");
    assert_eq!(
        source(&cells[5]),
        "let steps: usize = {\n    todo!(\"choose a number of steps\")\n};\nprintln!(\"{steps}\");"
    );
    for c in cells.iter().filter(|c| c["cell_type"] == "code") {
        assert_eq!(c["outputs"], serde_json::json!([]));
        assert!(c["execution_count"].is_null());
        assert!(c["metadata"].get("execution").is_none());
    }
    assert!(student.ends_with("}\n") && student.starts_with("{\n \"cells\": [\n"));
}

#[test]
fn the_instructor_copy_keeps_solutions_without_markers() {
    let instructor = notebook::render(&fixture("source.ipynb"), Audience::Instructor).unwrap();
    assert!(!instructor.contains("SOLUTION"));
    let cells = cells(&instructor);
    assert_eq!(cells.len(), 8);
    assert_eq!(source(&cells[1]), ":dep flowmatch = { path = \"..\" }\nuse flowmatch::prelude::*;");
    assert!(source(&cells[3]).contains("    x0.iter().zip(x1).map(|(a, b)| t * b + (1.0 - t) * a).collect()\n}"));
    assert!(source(&cells[4]).starts_with("**Solution.**"));
    assert!(source(&cells[6]).starts_with("fn helper() -> usize {"));
    assert!(cells.iter().filter(|c| c["cell_type"] == "code").all(|c| c["outputs"] == serde_json::json!([])));
    // Rendering a generated copy again changes nothing.
    assert_eq!(notebook::render(&instructor, Audience::Instructor).unwrap(), instructor);
    let student = notebook::render(&fixture("source.ipynb"), Audience::Student).unwrap();
    assert_eq!(notebook::render(&student, Audience::Student).unwrap(), student);
}

#[test]
fn the_crate_path_is_set_for_each_copy_whatever_the_source_says() {
    let src = fixture("source.ipynb");
    let usual = src.replace("path = \\\"../..\\\"", "path = \\\"..\\\"");
    assert_ne!(usual, src);
    for audience in [Audience::Student, Audience::Instructor] {
        assert_eq!(notebook::render(&usual, audience).unwrap(), notebook::render(&src, audience).unwrap());
    }
    // Other crates and absolute paths are left alone.
    let other = src.replace(
        ":dep flowmatch = { path = \\\"../..\\\" }",
        ":dep other = { path = \\\"../..\\\" }\\n:dep flowmatch = { path = \\\"/opt/flowmatch\\\" }",
    );
    let student = notebook::render(&other, Audience::Student).unwrap();
    assert!(student.contains(":dep other = { path = \\\"../..\\\" }"), "{student}");
    assert!(student.contains(":dep flowmatch = { path = \\\"/opt/flowmatch\\\" }"), "{student}");
}

#[test]
fn bad_notebooks_are_errors() {
    assert!(notebook::render("not json", Audience::Student).unwrap_err().to_string().contains("not valid JSON"));
    assert!(notebook::render("{\"nbformat\": 4}", Audience::Student).unwrap_err().to_string().contains("`cells`"));
    let src = fixture("source.ipynb").replacen("    // END SOLUTION\\n", "    // the end\\n", 1);
    let msg = notebook::render(&src, Audience::Student).unwrap_err().to_string();
    assert!(msg.contains("cell 4") && msg.contains("line 2"), "{msg}");
}

/// A fresh, empty folder under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowmatch-grading-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn write_check_and_orphans_on_a_notebooks_folder() {
    let dir = scratch("sync");
    assert!(notebook::generate(&dir).unwrap().is_empty(), "no source/ folder: nothing to generate");
    std::fs::create_dir_all(dir.join("source")).unwrap();
    std::fs::write(dir.join("source/lesson.ipynb"), fixture("source.ipynb")).unwrap();
    std::fs::write(dir.join("unrelated.ipynb"), "{}").unwrap();
    assert_eq!(
        notebook::out_of_date(&dir).unwrap(),
        vec![dir.join("lesson.ipynb"), dir.join("solutions/lesson.ipynb")]
    );
    assert_eq!(notebook::write(&dir).unwrap().len(), 2);
    assert!(notebook::out_of_date(&dir).unwrap().is_empty());
    assert!(notebook::write(&dir).unwrap().is_empty(), "nothing to rewrite");
    assert_eq!(std::fs::read_to_string(dir.join("lesson.ipynb")).unwrap(), fixture("student.ipynb"));
    assert_eq!(notebook::orphans(&dir).unwrap(), vec![dir.join("unrelated.ipynb")]);
    // Editing a generated copy by hand is drift.
    std::fs::write(dir.join("solutions/lesson.ipynb"), "{}").unwrap();
    assert_eq!(notebook::out_of_date(&dir).unwrap(), vec![dir.join("solutions/lesson.ipynb")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_committed_notebooks_match_their_sources() {
    let dir = repo().join("notebooks");
    let stale = notebook::out_of_date(&dir).unwrap();
    assert!(
        stale.is_empty(),
        "these notebooks differ from what notebooks/source/ gives: {stale:?}; run \
         `cargo run --release --bin course -- sync` (edit notebooks/source/, not the copies)"
    );
}

#[test]
fn every_notebook_starts_with_the_same_short_cell() {
    // The course kernel runs in notebooks/, so one first cell serves every folder below it.
    const SETUP: &str = ":dep flowmatch = { path = \"..\" }\nuse flowmatch::prelude::*;";
    let found = files_below(&repo().join("notebooks"), "ipynb");
    assert!(found.len() >= 5, "expected the course notebooks, found {found:?}");
    for p in found {
        let nb: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let first = nb["cells"].as_array().unwrap().iter().find(|c| c["cell_type"] == "code").expect("a code cell");
        assert_eq!(source(first).trim(), SETUP, "first code cell of {}", p.display());
    }
}
