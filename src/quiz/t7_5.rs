//! The quiz of topic 7.5, existing implementations and evaluation (notebook
//! `7.5-existing-implementations`): the libraries' conventions, W2 against the likelihood,
//! the backward ODE, Hutchinson's estimator, and reading a reproduction (seed spread, the moons floor).

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of topic 7.5.
pub static QUIZ: Quiz = Quiz {
    topic: "7.5",
    title: "Existing implementations, and how to evaluate a model",
    questions: &[
        Question {
            prompt: "Compute a likelihood by hand. In one dimension the field v(x, t) = (ln 2)·x carries \
                     p₀ = N(0, 1) at t = 0 to some q₁ at t = 1. What is log q₁(0)?",
            answer: Answer::Number { value: -1.6121, tolerance: 0.005 },
            explanation: "The divergence is the constant ln 2, so ∫₀¹ ∇·v dt = ln 2, and the path through x = 0 \
                          stays at 0, so x₀ = 0: log q₁(0) = log p₀(0) − ln 2 = −½ ln 2π − ln 2 ≈ −0.919 − 0.693 = \
                          −1.612. Check: the flow is x₁ = 2x₀, so q₁ = N(0, 4), whose log-density at 0 is \
                          −½ ln(2π·4) = −1.612. The field stretches space, so density falls; the wrong sign gives \
                          −0.226, a density higher than the source's.",
        },
        Question {
            prompt: "Find the wrong step. A student computes log q₁(x) for a trained model: (a) start at x at \
                     t = 1; (b) solve dx/dt = v(x, t) backwards to t = 0; (c) add up ∫ ∇·v dt along the way; \
                     (d) return log p₀(x₀) + ∫₀¹ ∇·v dt. Which step is wrong?",
            answer: Answer::Choice {
                options: &["(a)", "(b)", "(c)", "(d)"],
                correct: &[3],
            },
            explanation: "Along a path, d/dt log q_t(x_t) = −∇·v, so log q₁(x₁) = log p₀(x₀) − ∫₀¹ ∇·v dt: the \
                          divergence term is subtracted. Where the flow spreads points out (∇·v > 0) the density \
                          falls. Steps (a)–(c) are what the library does: the walk starts at the data because \
                          only p₀ is known, and it runs backwards to find x₀. The sign error is the one the \
                          exercise's checker names first.",
        },
        Question {
            prompt: "Estimate a trace. At one point the Jacobian of a field is J = [[1, 2], [0, 3]] (rows first). \
                     What is Hutchinson's one-probe estimate of the divergence with the Rademacher probe \
                     ε = (1, −1)?",
            answer: Answer::Number { value: 2.0, tolerance: 0.001 },
            explanation: "J ε = (1·1 + 2·(−1), 0·1 + 3·(−1)) = (−1, −3), and εᵀ(J ε) = 1·(−1) + (−1)·(−3) = 2. \
                          The true divergence is tr J = 4. The other sign pattern, ε = (1, 1), gives J ε = (3, 3) \
                          and εᵀ(J ε) = 6; the two patterns are equally likely (with their negatives), so the \
                          estimate averages to (2 + 6)/2 = 4: unbiased, but one probe is off by 2 either way. \
                          ‖J ε‖² = 10 would be the mistake of squaring the product.",
        },
        Question {
            prompt: "Predict the spread. With Rademacher probes, for which fields is Hutchinson's estimate exact \
                     (zero spread) at every point? Choose all that apply.",
            answer: Answer::Choice {
                options: &[
                    "Fields whose coordinates do not interact: each v_a depends on x_a (and t) only.",
                    "Fields that are linear in x.",
                    "Fields whose Jacobian is a diagonal matrix plus an antisymmetric one, such as a rotation \
                     plus a stretch along the axes.",
                    "Fields whose Jacobian is symmetric.",
                ],
                correct: &[0, 2],
            },
            explanation: "εᵀJε = Σ_a J_aa ε_a² + Σ_{a<b} (J_ab + J_ba) ε_a ε_b, and a Rademacher probe has ε_a² = 1, \
                          so the first sum is always tr J; the noise comes only from the off-diagonal part of the \
                          symmetric part (J + Jᵀ)/2. It vanishes when J is diagonal, and also when the off-diagonal \
                          part is antisymmetric (J_ab = −J_ba). Linearity does not help (a linear field with a \
                          symmetric off-diagonal term is as noisy everywhere), nor does a symmetric Jacobian. This \
                          is why the Rademacher line of the notebook's figure lies below the Gaussian one: Gaussian \
                          probes also pay for the diagonal, since ε_a² varies.",
        },
        Question {
            prompt: "Consequence of a change. With Dopri5, a colleague draws a fresh Hutchinson probe at every \
                     evaluation of the field instead of one per solve. What happens?",
            answer: Answer::Choice {
                options: &[
                    "Dopri5 reads the probe noise between its stages as discretisation error and shrinks its \
                     steps until one step's noise is below the tolerance: the NFE grows by orders of magnitude.",
                    "Nothing: the estimate is unbiased either way, so the result and the cost are the same.",
                    "The estimate becomes exact, because the noise averages out over the stages.",
                    "The solve gets cheaper, because fewer probes are kept in memory.",
                ],
                correct: &[0],
            },
            explanation: "An adaptive solver compares two solutions built from the same stage evaluations; with a \
                          fresh probe per evaluation the stages disagree by the probe noise, which does not shrink \
                          like a power of the step. The controller then cuts the step until h times that noise is \
                          below the tolerance. With one probe kept for the whole solve the integrand is a single \
                          smooth function of t, the error estimate measures the discretisation only, and a seed \
                          reproduces the result. (The test suite measures this: fresh probes cost about two hundred \
                          times the evaluations.)",
        },
        Question {
            prompt: "Convert a score. A model of two-dimensional data scores an NLL of 3.90 nats per point on \
                     test data whose entropy is 3.77 nats. What is its gap in bits per dimension?",
            answer: Answer::Number { value: 0.0938, tolerance: 0.002 },
            explanation: "The gap is 3.90 − 3.77 = 0.13 nats per point, an estimate of KL(p ‖ q). A nat is \
                          1/ln 2 ≈ 1.443 bits, and each point has d = 2 dimensions: 0.13/(2 ln 2) ≈ 0.094 bits per \
                          dimension. Image papers report NLL in bits per dimension so that images of different \
                          sizes compare; they cannot report a gap, since the entropy of real images is unknown.",
        },
        Question {
            prompt: "Translate a convention. A diffusers training script for SD3 builds x = (1 − σ)·x_data + σ·ε \
                     and regresses the model onto ε − x_data. In this course's convention (noise at t = 0, \
                     velocity v = dx/dt), which is right?",
            answer: Answer::Choice {
                options: &[
                    "t = 1 − σ, and our velocity is −(ε − x_data) = x_data − ε.",
                    "t = σ, and our velocity is ε − x_data.",
                    "t = 1 − σ, and our velocity is ε − x_data.",
                    "t = σ, and our velocity is x_data − ε.",
                ],
                correct: &[0],
            },
            explanation: "Our straight path is x_t = t·x₁ + (1 − t)·x₀ with data x₁ and noise x₀; matching \
                          coefficients gives t = 1 − σ. Its velocity dx/dt = x₁ − x₀ = x_data − ε, the negative of \
                          diffusers' target, because their σ runs from 1 (noise) down to 0 while our t runs up. A \
                          sampler ported without the sign flip walks away from the data.",
        },
        Question {
            prompt: "Read the evidence. In the notebook the model's W2 to data fell within the spread of the \
                     floor (W2 between two data samples), while its likelihood gap was a few hundredths of a nat \
                     above zero. What follows?",
            answer: Answer::Choice {
                options: &[
                    "At 1 000 points W2 cannot tell this model from the data; the likelihood still resolves \
                     what the model gets wrong, such as density left between the modes.",
                    "The model is perfect: its samples are as close to the data as the data are to themselves.",
                    "W2 is biased towards models, so the floor must be recomputed with more points.",
                    "The likelihood is wrong, since two measures of the same model must agree.",
                ],
                correct: &[0],
            },
            explanation: "W2 at a fixed sample size has a noise floor that varies from draw to draw; a model \
                          within it is indistinguishable by that test, not perfect. The likelihood averages \
                          log-density ratios over thousands of points and resolves small differences, and the \
                          heatmap shows where they are: the model keeps density in the centre, between the modes \
                          and in the tails, where the true mixture has almost none. Different measures answer \
                          different questions; they need not agree.",
        },
        Question {
            prompt: "Read the spread. On moons → eight Gaussians, five seeds of OT-CFM give an NPE between 0.012 \
                     and 0.046 in one library (median 0.042) and between 0.010 and 0.063 in the other (median \
                     0.026). The target asked for at most 1.1 × 0.026 + 0.01 = 0.039. What follows?",
            answer: Answer::Choice {
                options: &[
                    "The medians miss the target, but the two ranges overlap almost entirely: five seeds cannot \
                     tell the libraries apart here, and only a gap larger than the spread would be a finding.",
                    "The first library has a bug in its OT coupling, since its median is 60 % higher.",
                    "The second library is better on this task and should be preferred.",
                    "NPE cannot be measured on this task, since it is below 0.1.",
                ],
                correct: &[0],
            },
            explanation: "A median over five seeds moves a lot when one seed moves: here the two sets of five \
                          interleave (0.010, 0.012, 0.015, 0.021, …), so swapping which seeds each side drew \
                          could reverse the order of the medians. The notebook's box plots show the same for W2: \
                          the gap between two boxes means something only when it is larger than the boxes. The \
                          nearest thing to such a gap in the table, OT-CFM's W2 on moons, closed when both \
                          libraries ran more seeds; and cut into blocks of five seeds, each library misses the \
                          target against itself in more than half of the pairs of blocks.",
        },
        Question {
            prompt: "Find the reason. Two fresh samples of 1 000 TorchCFM moons are about W2 = 0.10 apart, while \
                     moons with scikit-learn's Gaussian noise at the same level 0.2, scaled the same way, lie \
                     much farther apart. Why?",
            answer: Answer::Choice {
                options: &[
                    "TorchCFM's moons (torchdyn's) add one uniform number per point to both coordinates, a shift \
                     along the diagonal, to angles on an even grid: the cloud is nearly one-dimensional, so two \
                     samples of it nearly coincide.",
                    "TorchCFM draws more points per sample, so its empirical W2 is smaller.",
                    "scikit-learn's moons are larger, and W2 grows with the scale.",
                    "TorchCFM computes W2 with the unsquared distance as its cost.",
                ],
                correct: &[0],
            },
            explanation: "Both sides of the notebook's measurement use 1 000 points, the same scale and the same \
                          W2; only the noise differs. Gaussian noise on each coordinate fills a two-dimensional \
                          band around each moon, and two finite samples of a 2-D cloud differ by far more than two \
                          samples of a curve with a little 1-D jitter. A reproduction with scikit-learn's moons \
                          would read every W2 against the wrong floor.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "Exact divergence or Hutchinson's estimator: what does each cost per evaluation of the field, \
                     and when would you use which?",
            model_answer: "The exact divergence needs d Jacobian-vector products (or d backward passes), one per \
                           coordinate, on top of the velocity; it has no noise, so it suits low dimensions and \
                           per-point maps such as the notebook's heatmap. Hutchinson needs one product per probe \
                           whatever d is, and is unbiased, with a standard deviation that falls like k^(−1/2) in \
                           the number of probes k; it suits high dimensions (images) and scores averaged over many \
                           points, where the per-point noise cancels. Keep the probes fixed along each solve, and \
                           prefer Rademacher probes, whose noise comes only from the off-diagonal part of the \
                           Jacobian.",
        },
        ShortAnswer {
            prompt: "Which library would you start from for (a) a study of couplings on two-dimensional toy \
                     tasks, (b) a text-to-image product, (c) a generative model of points on a sphere or of \
                     discrete sequences? Say why, using the functionality table.",
            model_answer: "(a) TorchCFM: its objectives (I-CFM, OT-CFM, Schrödinger bridge, VP) and its OT plan \
                           sampler are exactly the couplings to compare, with 2-D tutorials and the benchmark \
                           protocol of Tong et al. (this crate's `benchmark_2d` runs the same protocol). (b) \
                           diffusers: it \
                           holds pretrained rectified-flow pipelines (SD3, FLUX) with guidance and the flow-matching \
                           schedulers, so one fine-tunes rather than trains from scratch; mind its reversed time \
                           convention. (c) Meta's flow_matching: it is the only one with Riemannian paths and \
                           solvers (sphere, torus) and discrete flow matching (mixture paths, a discrete solver), \
                           and it computes likelihoods; its licence (CC-BY-NC) rules out commercial use.",
        },
        ShortAnswer {
            prompt: "A Flow Matching model was never trained by likelihood. Why can its likelihood still be \
                     computed, and why is that likelihood not used to train it?",
            model_answer: "A trained velocity field defines an invertible flow from the source to the model's \
                           distribution, a continuous normalizing flow, and the instantaneous change of variables \
                           gives its log-density along any path: one backward ODE solve with the divergence. \
                           Training by likelihood would need that solve, and back-propagation through it, at every \
                           step, for every batch: that is what made continuous normalizing flows slow. Flow \
                           Matching regresses the velocity on conditional targets instead, simulation-free, and \
                           leaves the expensive solve to evaluation, where it is done once.",
        },
    ],
};
