//! The quiz of topic 7.1, normalizing flows (notebook `7.1-normalizing-flows`): the change of
//! variables, planar, radial and coupling layers, training by maximum likelihood, and the
//! measured limits that made Flow Matching the better tool.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of topic 7.1.
pub static QUIZ: Quiz = Quiz {
    topic: "7.1",
    title: "Normalizing flows and the change of variables",
    questions: &[
        Question {
            prompt: "Compute by hand. Z ~ N(0, 1) and X = 2Z + 1. What is the density p_X(1)? (Three decimals.)",
            answer: Answer::Number { value: 0.1995, tolerance: 0.001 },
            explanation: "Going back, z = (x − 1)/2 = 0, where p_Z(0) = 1/√(2π) ≈ 0.3989. The map doubles lengths, so \
                          the same probability is spread over twice the length: p_X(1) = p_Z(0)/|dx/dz| = 0.3989/2 ≈ \
                          0.1995. Forgetting the Jacobian factor gives 0.399; multiplying by it instead of dividing \
                          gives 0.798. Indeed X ~ N(1, 4), whose peak is 1/(2√(2π)).",
        },
        Question {
            prompt: "Find the wrong step. A student derives the log-determinant of a planar layer \
                     f(z) = z + u tanh(wᵀz + b). Which step is wrong?",
            answer: Answer::Choice {
                options: &[
                    "The Jacobian is ∂f/∂z = I + u ψᵀ with ψ = tanh'(wᵀz + b) w.",
                    "By the matrix determinant lemma, det(I + u ψᵀ) = 1 + ψᵀu.",
                    "Since tanh' > 0, the determinant 1 + tanh'(wᵀz + b) uᵀw is positive, so log |det| = \
                     ln(1 + tanh'(wᵀz + b) uᵀw) for every u and w.",
                    "The cost of this log-determinant grows linearly with the dimension d.",
                ],
                correct: &[2],
            },
            explanation: "tanh' is positive, but uᵀw can be negative: with uᵀw < −1 the determinant is negative \
                          near the hyperplane wᵀz + b = 0 (where tanh' = 1), and the layer folds the space (the \
                          notebook's folded grid, and the point with three preimages). That is why the layer is \
                          reparametrised so that wᵀû > −1, and why the exercise takes ln of the absolute value. \
                          The other steps are right: a rank-one update of the identity has determinant 1 + ψᵀu, \
                          computed with two dot products, O(d).",
        },
        Question {
            prompt: "Predict the figure. Push z ~ N(0, 1) through the increasing map f(z) = z + 2 tanh(1.5 z), \
                     whose slope is 4 at z = 0 and close to 1 far from it. What does the histogram of x = f(z) \
                     look like?",
            answer: Answer::Choice {
                options: &[
                    "One bump at 0, narrower than the Gaussian, because the map is steepest there.",
                    "Two bumps with a dip at 0: the map stretches the middle of the Gaussian, so the density \
                     there drops by the slope.",
                    "One bump at 0, wider than the Gaussian, with the same shape.",
                    "Roughly uniform on [−3, 3], because tanh saturates.",
                ],
                correct: &[1],
            },
            explanation: "p_X(x) = p_Z(z)/f'(z). At z = 0 the Gaussian is at its peak, 0.399, but the slope 4 \
                          divides it to about 0.1; a little farther out the slope falls back towards 1 while \
                          p_Z is still large, so the density of x has two maxima on either side of a dip at 0. A \
                          monotone map of a unimodal density can be bimodal: the Jacobian factor shapes the \
                          density as much as the base does. The curve without the factor does not match the \
                          histogram and integrates to about 2.4.",
        },
        Question {
            prompt: "Consequence of a change. In an affine coupling layer, the shift t is made to depend on the \
                     whole input, t(z_A, z_B), instead of on z_A alone (the scale still depends on z_A). What \
                     goes wrong?",
            answer: Answer::Choice {
                options: &[
                    "Nothing: the log-determinant is still Σ s, because t does not enter it.",
                    "The Jacobian is no longer triangular: the log-determinant is no longer Σ s and the inverse \
                     needs an equation solved for z_B, since t depends on the unknown z_B.",
                    "Only sampling becomes slower; densities are unchanged.",
                    "The layer becomes a permutation.",
                ],
                correct: &[1],
            },
            explanation: "A coupling layer is cheap because the moved half depends on itself only through an \
                          elementwise scale: ∂x_B/∂z_B = diag(e^s). With t(z_A, z_B) that block becomes \
                          diag(e^s) + ∂t/∂z_B, a full matrix, so the determinant needs a factorisation again; and \
                          inverting x_B = z_B e^s + t(z_A, z_B) means solving for z_B, which may not even have a \
                          unique solution. Both the cheap determinant and the closed-form inverse rely on the \
                          conditioner seeing only the half that does not move.",
        },
        Question {
            prompt: "Compute. A flow of three layers maps x to z. At this point the layers' log |det ∂f_k⁻¹/∂x_k| \
                     are 0.5, −1.2 and 0.3, and the base log-density at z is −2.0. What is log p(x)?",
            answer: Answer::Number { value: -2.4, tolerance: 0.001 },
            explanation: "In the density direction the log-determinants add to the base log-density: \
                          log p(x) = log p_Z(z) + Σ_k log |det ∂f_k⁻¹/∂x_k| = −2.0 + 0.5 − 1.2 + 0.3 = −2.4. \
                          Subtracting them instead (−1.6) would use the forward maps' log-determinants with the \
                          wrong sign: log |det ∂f_k⁻¹| = −log |det ∂f_k|.",
        },
        Question {
            prompt: "Read the timing chart. Forming a general Jacobian and its LU log-determinant took about \
                     20 ms per point at d = 256 in a run where the fitted exponent was 3. About how many \
                     milliseconds would d = 1024 take? (A whole number.)",
            answer: Answer::Number { value: 1280.0, tolerance: 1.0 },
            explanation: "Four times the dimension at exponent 3 costs 4³ = 64 times as much: 20 ms × 64 = \
                          1280 ms per point, per layer. The coupling layer's exponent is about 1, so it would take \
                          four times as long. An image has d ≈ 10⁵: a cubic cost is out of the question, which is \
                          why every practical flow uses layers whose determinant can be read off.",
        },
        Question {
            prompt: "Topology. The trained RealNVP left 3 to 4 % of its samples outside the 3σ discs around the \
                     eight centres, where the true mixture has 1.1 %. Which statement explains it?",
            answer: Answer::Choice {
                options: &[
                    "Training was too short; with enough steps a flow puts exactly zero density between the modes.",
                    "A flow is a continuous bijection of a Gaussian, so its density is positive everywhere and \
                     the image of the connected base is connected: it must keep bridges of mass between the \
                     modes, and thinning them needs ever stronger compression, hence depth.",
                    "The base distribution should be uniform instead of Gaussian; then the modes separate.",
                    "Coupling layers cannot represent more than two modes.",
                ],
                correct: &[1],
            },
            explanation: "A continuous map cannot tear the plane, so the connected support of the Gaussian stays \
                          connected, and a bijection of densities keeps the density positive. The flow can make \
                          the bridges thin by compressing space hard between the modes, which large \
                          log-determinants (many layers, large scales) buy only gradually. The depth figure shows \
                          the same thing per layer kind. Continuous-time flows are bijections too; what they \
                          remove is the structural cost of each layer, not this topological fact.",
        },
        Question {
            prompt: "Read the depth figure. Which kind of layer never separates the eight modes, whatever the \
                     depth from 1 to 8?",
            answer: Answer::Choice {
                options: &["planar", "radial", "affine coupling", "all three separate them by 8 layers"],
                correct: &[1],
            },
            explanation: "A radial layer only moves points along rays from its centre, so it makes rings and blobs \
                          around that centre. Eight of them fit a smooth ring through the modes, which is a good \
                          first approximation of the ring of Gaussians but never has eight separate bumps. Planar \
                          layers add one cut each and carve eight blobs by eight layers; coupling blocks reach the \
                          eight modes by four blocks.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "Why did normalizing flows give way to continuous-time models and Flow Matching for \
                     high-dimensional data?",
            model_answer: "Every flow layer must be invertible with a tractable determinant. A general layer \
                           costs O(d³) per point for its log-determinant, so practical flows use structured \
                           layers that are individually weak; expressiveness then comes only from depth, and a \
                           bijection of one Gaussian must keep bridges between separated modes. Continuous-time \
                           models lift the structural constraint (any network defines an invertible ODE flow, with \
                           traces instead of determinants), and Flow Matching trains them by regression on \
                           conditional velocities, with no likelihood, determinant or ODE solve during training.",
        },
        ShortAnswer {
            prompt: "What do normalizing flows still do better than Flow Matching models?",
            model_answer: "Exact log-likelihood in one pass (no ODE solve, no trace estimator), sampling in one \
                           pass with coupling flows, and an exact, cheap map from data back to the latent: useful \
                           for density evaluation, anomaly scores, variational inference and compression.",
        },
        ShortAnswer {
            prompt: "When would you still choose a coupling flow over a Flow Matching model?",
            model_answer: "In low or moderate dimension, when fast exact densities or one-step sampling matter more \
                           than the best sample quality: a flexible posterior in variational inference, \
                           likelihood-based scoring inside a larger pipeline, or a learned bijection used as a \
                           change of variables.",
        },
    ],
};
