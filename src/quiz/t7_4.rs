//! The quiz of topic 7.4, implementing Flow Matching (notebook `7.4-implementing-fm`):
//! the training step, the loss and what it can tell, the solvers and the NFE chart.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of topic 7.4.
pub static QUIZ: Quiz = Quiz {
    topic: "7.4",
    title: "Implementing Flow Matching",
    questions: &[
        Question {
            prompt: "Step by hand. In one dimension the field is u_t(x) = t − x. Take one midpoint step of size \
                     h = 0.5 from x = 2 at t = 0. Where does it land?",
            answer: Answer::Number { value: 1.375, tolerance: 0.01 },
            explanation: "First the half Euler step: u_0(2) = 0 − 2 = −2, so x_mid = 2 + 0.25·(−2) = 1.5. Then the \
                          velocity in the middle of the step, in space and time: u_0.25(1.5) = 0.25 − 1.5 = −1.25. \
                          The whole step starts again from x = 2: 2 + 0.5·(−1.25) = 1.375. Euler would land at \
                          2 + 0.5·(−2) = 1; evaluating the second stage at t = 0 instead of t + h/2 gives 1.25; \
                          moving from x_mid instead of x gives 0.875.",
        },
        Question {
            prompt: "Predict the field. The model of this notebook learns, at best, the exact marginal field of the \
                     CondOT path with independent pairs, for the eight Gaussians (centred on the origin). What is \
                     the first coordinate of that exact field u_0 at t = 0 and x = (3, 0)?",
            answer: Answer::Number { value: -3.0, tolerance: 0.01 },
            explanation: "At t = 0 the path is at x_t = x0, and with independent pairs x1 tells nothing about x0. \
                          The marginal field is the average of the conditional velocities x1 − x0 given x_t = x, \
                          so u_0(x) = E[x1] − x = −x for data centred on the origin: (−3, 0) at (3, 0). At \
                          t = 0 the exact arrows point towards the origin, longer the farther out: the blob first \
                          contracts. The field turns quickly: at (3, 0) it changes sign near t ≈ 0.08, when the \
                          posterior starts to favour the mode on the right. The trained model's arrows at t = 0 \
                          point inwards too, but are shorter (about (−0.9, 0.3) at (3, 0)): a small network fed \
                          the raw time smooths out so fast a turn.",
        },
        Question {
            prompt: "Consequence of a change. Sample with a single Euler step (h = 1) using that exact marginal \
                     field. Where do the samples land?",
            answer: Answer::Choice {
                options: &[
                    "Every sample lands on the data mean E[x1] (here the origin): the distribution collapses to a \
                     point.",
                    "Every sample lands on the mode nearest to its starting point.",
                    "The samples stay where they are, because the field is zero at t = 0.",
                    "The samples are distributed exactly like the data, because the field is exact.",
                ],
                correct: &[0],
            },
            explanation: "One Euler step uses only the velocity at t = 0: x + 1·u_0(x) = x + E[x1] − x = E[x1] for \
                          every x. All samples land on the data mean, here the origin, in the empty middle of the \
                          ring. The W2 distance from a point at the origin to the eight Gaussians is \
                          √(25 + 2·√0.1) ≈ 5.06; the trained model's Euler sample at NFE 1 in the chart (about 4.4) \
                          is close to that. The exact field is exact for the ODE, not for one big step: the \
                          velocity changes along the path, which only smaller steps follow.",
        },
        Question {
            prompt: "Compute the floor of the loss. At t = 0 the model sees x_t = x0 alone. For the eight \
                     Gaussians (centres on a circle of radius 5, each component with variance √0.1 ≈ 0.316 per \
                     coordinate), what is the smallest possible mean squared error per coordinate of a prediction \
                     of the target x1 − x0 at t = 0?",
            answer: Answer::Number { value: 12.816, tolerance: 0.02 },
            explanation: "Given x0, the best prediction of x1 − x0 is E[x1] − x0 and what remains is x1 − E[x1], \
                          whose variance per coordinate is that of the data: the centres contribute 5²·½ = 12.5 \
                          (cos² and sin² average to ½ over the eight directions) and each component adds √0.1 ≈ \
                          0.316, so 12.816. The CFM loss averages such floors over all t (it is smaller at larger \
                          t, where x_t says more about x1), which is why the loss curve flattens near 5 and not \
                          near 0: a flat loss is not a failed training.",
        },
        Question {
            prompt: "A solver's error is 0.04 with 8 steps and 0.01 with 16 steps on the same problem. What is its \
                     order?",
            answer: Answer::Number { value: 2.0, tolerance: 0.05 },
            explanation: "An order-p method has error ≈ C·h^p, so doubling the steps divides the error by 2^p. Here \
                          it is divided by 4 = 2², so p = 2 (log₂(0.04/0.01) = 2), like the midpoint or Heun \
                          method. Euler (p = 1) would only halve it, RK4 (p = 4) divide it by 16. Measure such \
                          errors against a reference solution of the same ODE, not against the data: the distance \
                          to the data stops falling once the solver error is below the model's own error.",
        },
        Question {
            prompt: "Read the chart. In the chart of W2 against NFE, the solvers stop improving after a few dozen \
                     evaluations, and their plateau sits inside the grey noise-floor band. What does that say?",
            answer: Answer::Choice {
                options: &[
                    "The solvers have converged to the ODE of the trained field, and what W2 still shows is \
                     sampling noise: with 1 000 points it cannot tell these samples from exact data samples.",
                    "The remaining W2 is the model's error: a better network would lower the plateau.",
                    "Round-off errors grow with the number of steps and cancel the gain.",
                    "The solvers become unstable beyond a few dozen evaluations.",
                ],
                correct: &[0],
            },
            explanation: "Every solver approximates the same ODE, dx/dt = v_θ(x, t); once its own error is small, \
                          all of them give (nearly) the same samples, and W2 to fresh data then measures the model \
                          and the finite samples, not the solver. The band is W2 between two exact draws of the \
                          data (mean ± one standard deviation over pairs of draws): the resolution of the \
                          measurement. A plateau inside it is sampling noise, so the model's error is below what \
                          1 000 points can show (b would need a plateau clearly above the band). One draw is not \
                          enough to decide: between seeds the floor alone ranges over about 0.5–0.8. Round-off in a \
                          few hundred steps of double precision is far below these differences.",
        },
        Question {
            prompt: "Which of these mistakes in train_step give a loss curve that falls and flattens as usual, \
                     while the samples come out wrong?",
            answer: Answer::Choice {
                options: &[
                    "t and 1 − t swapped in the interpolant, with the target x1 − x0 kept.",
                    "The target x0 − x1 instead of x1 − x0.",
                    "model.train_step never called: the loss is computed but no optimiser step is taken.",
                    "One time t drawn for the whole batch instead of one per row.",
                ],
                correct: &[0, 1],
            },
            explanation: "A flipped target makes the model learn −u_t: the regression is exactly as hard, so the \
                          loss falls and flattens at the same level as the right one; sampling then pushes the \
                          noise the wrong way. Swapping t and 1 − t trains a field for the path run backwards, \
                          again a well-posed regression with a normal-looking loss, but sampling from noise at \
                          t = 0 asks it the velocity it learned near the data. Without an optimiser step nothing \
                          is learned and the loss stays flat, which the curve shows. One time per batch is still \
                          an unbiased estimate of the CFM loss, only noisier: the samples are fine. The loss curve \
                          cannot catch a wrong target; samples (or the grader) can.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "Euler, midpoint or adaptive Dopri5: when would you choose which? Give an advantage and a \
                     disadvantage of each.",
            model_answer: "Euler: one evaluation per step and trivial to write, but first order, so an accurate \
                           sample needs many steps; fine for quick previews and for teaching. Midpoint (or Heun): \
                           two evaluations per step, second order, so far fewer steps for the same accuracy; a \
                           good default at a fixed budget of some tens of evaluations. Dopri5: chooses its steps \
                           from a tolerance and reports its own error estimate, so it adapts to curved paths \
                           without a hand-tuned step count; but it costs six or seven evaluations per step, its \
                           NFE is not known in advance, and at loose tolerances it can still spend more than a \
                           fixed-step method that is good enough. With a trained model all of them settle on the \
                           model's own error, so past that point extra evaluations buy nothing.",
        },
        ShortAnswer {
            prompt: "An MLP on (x, t) for two-dimensional toy data, a U-Net for images: what does each assume \
                     about the data, and when would you pick which?",
            model_answer: "The MLP treats the input as a flat vector with no structure between coordinates; it is \
                           small and fast and fits low-dimensional data, where every coordinate interacts with \
                           every other. A U-Net assumes spatial structure: nearby pixels matter together, the same \
                           pattern can appear anywhere (convolutions share weights across positions), and detail \
                           lives at several scales (down- and up-sampling with skip connections). It needs far \
                           more computation but generalises on images where an MLP would need too many \
                           parameters. Both keep the contract (x, t) ↦ v with v shaped like x, and both take the \
                           time through an embedding; the training loop and the solvers do not change.",
        },
    ],
};
