//! The quiz of topic 7.6, Flow Matching against diffusion (notebook `7.6-fm-vs-diffusion`):
//! the time dictionary, the conversions, the loss weight, the samplers and the measured table.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of topic 7.6.
pub static QUIZ: Quiz = Quiz {
    topic: "7.6",
    title: "Flow Matching against diffusion",
    questions: &[
        Question {
            prompt: "Convert by hand. On the CondOT path (α_t = t, σ_t = 1 − t) at t = 0.5, a network predicts the \
                     noise ε̂ = (2, 0) at the point x = (1, 1). What is the first coordinate of the velocity this \
                     prediction implies?",
            answer: Answer::Number { value: -2.0, tolerance: 0.01 },
            explanation: "The prediction fixes the data point it came from: x = α x̂₁ + σ ε̂ gives x̂₁ = (x − σ ε̂)/α = \
                          ((1 − 0.5·2)/0.5, (1 − 0)/0.5) = (0, 2). The velocity of the path through x̂₁ and ε̂ is \
                          α̇ x̂₁ + σ̇ ε̂, which on CondOT is x̂₁ − ε̂ = (−2, 2). Forgetting σ̇ gives 0 for the first \
                          coordinate and flipping the sign of the noise term gives 6: check each step against the \
                          CondOT special case x̂₁ − ε̂.",
        },
        Question {
            prompt: "Use the time dictionary. A diffusion paper's DDPM with N = 1000 steps evaluates its network at \
                     step n = 250 (step 0 is the data). At which time t of this course (noise at t = 0, data at \
                     t = 1) is that?",
            answer: Answer::Number { value: 0.75, tolerance: 0.001 },
            explanation: "DDPM step n sits at diffusion time s = n/N = 0.25, with the data at s = 0. This course runs \
                          time the other way, t = 1 − s, so t = 0.75: three quarters of the way from the noise to \
                          the data, where the signal already dominates. Answering 0.25 reads the step as if both \
                          conventions put the data at the same end; the library's `path::time::from_ddpm_step` \
                          holds the one conversion.",
        },
        Question {
            prompt: "Find the wrong step. A student shows that the probability-flow ODE of the VP diffusion is the \
                     Flow Matching marginal velocity of the VP path, starting from \
                     u_t(x) = (α̇/α) x + σ (α̇σ/α − σ̇) ∇log p_t(x). Which step is wrong?",
            answer: Answer::Choice {
                options: &[
                    "The VP path keeps α_t² + σ_t² = 1 at every t.",
                    "Differentiating that identity gives σ̇ = −α α̇/σ.",
                    "With α_t = exp(−½ T(1 − t)), α̇/α = ½ β(1 − t).",
                    "So σ (α̇σ/α − σ̇) = α̇σ²/α − α α̇ = α̇ (σ² − α²)/α.",
                    "Hence u_t(x) = ½ β(1 − t) (x + ∇log p_t(x)).",
                ],
                correct: &[3],
            },
            explanation: "With σ̇ = −α α̇/σ, the term −σ σ̇ is +α α̇, not −α α̇: the right sum is α̇σ²/α + α α̇ = \
                          α̇ (σ² + α²)/α = α̇/α = ½ β(1 − t), the same coefficient as the one of x. That is why the \
                          two coefficients agree and the field is ½β (x + ∇log p_t), the probability flow of Song \
                          et al. (2021). The last line is right but does not follow from step d: with d's \
                          difference of squares the score term would vanish at t where α = σ. The notebook checks \
                          the final identity on the exact eight-Gaussian score to about 10⁻¹⁴.",
        },
        Question {
            prompt: "Explain the table. With one model evaluation (NFE = 1), DDIM lands much farther from the data \
                     than one Euler step of the same model's probability-flow ODE. Why?",
            answer: Answer::Choice {
                options: &[
                    "DDIM is a second-order method, and a second-order method overshoots when it takes one step.",
                    "Its only step starts at t = 0, where α_0 ≈ 0.0066: the clean point x̂₁ = (x − σ ε̂)/α_0 \
                     multiplies every error of the model's ε̂ by about 150, and the step lands on that x̂₁.",
                    "DDIM adds fresh noise at every step, and one step adds all of it at once.",
                    "DDIM evaluates the score at t = 1, where the score of the data is infinite.",
                ],
                correct: &[1],
            },
            explanation: "One DDIM step from t = 0 to t = 1 denoises once and keeps the result: x' = α_1 x̂₁ + σ_1 ε̂ = \
                          x̂₁. On the VP path the start is almost pure noise (α_0 = e^{−(β_min + β_max)/4} ≈ 0.0066), \
                          so x̂₁ divides the model's residual noise error by α_0. One Euler step of the probability \
                          flow instead moves the noise by its velocity at t = 0, which is small there (about \
                          α̇_0 x̂₁ with α̇_0 ≈ 0.07), so it lands near the starting Gaussian: poor, but not blown up. DDIM is first \
                          order (it is Euler's method in the CondOT clock), deterministic, and never evaluates at \
                          t = 1.",
        },
        Question {
            prompt: "Consequence of a change. You train the ε-model on the CondOT path instead of the VP path. Read \
                     as a weighted velocity loss, which times does its loss now neglect most?",
            answer: Answer::Choice {
                options: &[
                    "The times near the noise (t → 0): the weight is t², so velocity errors there cost almost \
                     nothing.",
                    "The times near the data (t → 1), where σ_t → 0.",
                    "None: on CondOT the ε-loss and the velocity loss weigh every time alike.",
                    "The middle of the path, where the signal-to-noise ratio is 1.",
                ],
                correct: &[0],
            },
            explanation: "The ε-loss is w(t)·‖v̂ − (α̇ x₁ + σ̇ x₀)‖² with w(t) = α_t²/(α_t σ̇_t − σ_t α̇_t)². On CondOT \
                          the denominator is (−t − (1 − t))² = 1, so w(t) = t²: the figure of section 2 falls to \
                          zero at t = 0. Near the noise the ε-target is almost the input itself (x_t ≈ x₀), so \
                          predicting ε is easy while the velocity it implies can be far off. The VP weight, by \
                          contrast, stays between about 0.01 and 0.1 and vanishes only in the last moments before \
                          the data.",
        },
        Question {
            prompt: "Choose all that apply. Which statements hold for the models of this notebook?",
            answer: Answer::Choice {
                options: &[
                    "The diffusion model has a sampler that gives bit-identical samples from the same noise.",
                    "The Flow Matching model can only be sampled by an ODE solver.",
                    "Two runs of the reverse SDE with the same seed give the same samples.",
                    "For a network flexible enough to fit any function, the ε-loss and the CFM loss have \
                     different minimisers.",
                    "One DDIM step on the VP path equals one Euler step of the same model re-timed to CondOT.",
                ],
                correct: &[0, 2, 4],
            },
            explanation: "(a) The probability-flow ODE and DDIM are deterministic; section 4 asserts bit-identical \
                          samples. (b) is the over-simplification the notebook corrects: re-timed to the VP clock \
                          and read as a score, the Flow Matching model drives the reverse SDE and still produces \
                          the data. (c) The SDE's noise has its own seed: same seed, same samples; another seed, \
                          others. (d) The two losses differ only by a positive weight w(t) per time, so a model \
                          that can be exact at every t minimises both by the same field; the weight matters only \
                          for a finite network. (e) Section 3 checks it to about 10⁻¹⁵.",
        },
        Question {
            prompt: "Predict the figure. Section 3 draws 200 paths three ways from the same noise: the Flow \
                     Matching ODE, the diffusion model's probability-flow ODE, and its reverse SDE. What do the \
                     three panels show?",
            answer: Answer::Choice {
                options: &[
                    "Three sets of straight lines: every sampler of a Gaussian path moves points in straight \
                     lines.",
                    "Nearly straight Flow Matching paths; probability-flow paths that end in the same clusters \
                     but bend more; jagged SDE paths that wander before settling in the clusters.",
                    "Curved Flow Matching paths and straight probability-flow paths, because the VP path is the \
                     optimal-transport path.",
                    "SDE paths that end spread evenly over the plane, because the noise never stops.",
                ],
                correct: &[1],
            },
            explanation: "Flow Matching on CondOT regresses straight conditional paths, and the learned marginal \
                          paths stay close to straight (straightness about 3 in the notebook, against about 13 for \
                          the probability flow). The VP probability flow moves little while α_t is tiny and turns \
                          late, so its paths bend. The reverse SDE adds noise of size √(β h) per step; its drift \
                          pulls harder than the noise pushes as t → 1 (and the last step adds none), so its paths \
                          end in the clusters after a random walk.",
        },
        Question {
            prompt: "Compute a weight. On the VP path (β_min = 0.1, β_max = 20) the ε-loss weighs velocity errors by \
                     w(t) = 4σ_t²/β(1 − t)². What is w at the noise end, t = 0, where σ_0 ≈ 1?",
            answer: Answer::Number { value: 0.01, tolerance: 0.001 },
            explanation: "At t = 0 the rate is read at diffusion time s = 1, β(1) = β_max = 20, and σ_0² = 1 − α_0² ≈ \
                          1, so w(0) = 4/400 = 0.01: the left end of the VP curve in the weight figure. Reading β at \
                          s = t instead gives β_min = 0.1 and w = 400, a weight that would make the noise end \
                          dominate the loss.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "When would you choose a diffusion model (ε-prediction on the VP path, sampled by the reverse \
                     SDE) over a Flow Matching model, and when not? Tie each reason to something you measured.",
            model_answer: "Choose the diffusion set-up when a good pretrained ε-model exists (it can be sampled \
                           deterministically or re-timed without retraining), or when sample quality at a generous \
                           budget matters more than speed: the reverse SDE ended below its own model's ODE in five \
                           of six runs of the README, because its noise corrects part of the model's error. Do not \
                           choose it for few-step sampling: at NFE ≤ 4 the SDE was the worst sampler in every run, \
                           while Flow Matching's midpoint solver reached its limit by about 8 evaluations and had \
                           the lowest W2 at NFE = 8. For training from scratch the choice matters little: the two \
                           objectives are one regression with a different weight over time, trained by the same \
                           trainer at the same cost per step.",
        },
        ShortAnswer {
            prompt: "\"Diffusion models are stochastic, Flow Matching models are deterministic.\" Correct this \
                     statement using two results of this notebook.",
            model_answer: "Stochastic or deterministic is a property of the sampler, not of the model. The \
                           diffusion model has deterministic samplers, the probability-flow ODE and DDIM, which \
                           gave bit-identical samples from the same noise; its probability-flow field is exactly \
                           the Flow Matching marginal velocity of the VP path (checked to about 10⁻¹⁴). Conversely \
                           the Flow Matching model, re-timed to the VP clock and read as a score, drove the reverse \
                           SDE and still produced the eight clusters. Both models are Gaussian-path models in two \
                           parametrisations; each can be sampled either way.",
        },
        ShortAnswer {
            prompt: "A colleague finds that DDIM needs about twice as many steps as Flow Matching's Euler sampler to \
                     reach its limit, and concludes that diffusion models sample slowly. What else could explain \
                     the gap, and how would you test it?",
            model_answer: "DDIM is Euler's method in the CondOT clock, on the grid of CondOT times that match the \
                           VP times' signal-to-noise ratios. A uniform grid in VP time is very uneven in that \
                           clock: the first steps are tiny and the last one covers CondOT times from about 0.7 to \
                           1 at 8 steps, and the first step divides the model's ε error by α_0 ≈ 0.0066. So the \
                           grid, not the model, may be the cause. Tests: sample the same ε-model with its \
                           probability-flow ODE on the same grid (it converged about as fast as Flow Matching); \
                           run DDIM on a grid uniform in CondOT time or in log-SNR; or re-time the Flow Matching \
                           model to the VP clock and sample it with DDIM on the uniform VP grid: if it slows down \
                           too, the grid is to blame.",
        },
    ],
};
