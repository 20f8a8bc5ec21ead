//! The quiz of topic 7.2, continuous flows and the optimal-transport view (notebook
//! `7.2-continuous-flows-ot`): ResNets as Euler steps, path energy, pairings, what Flow
//! Matching learns of the OT map.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of topic 7.2.
pub static QUIZ: Quiz = Quiz {
    topic: "7.2",
    title: "Continuous flows and optimal transport",
    questions: &[
        Question {
            prompt: "Predict the error. A residual network with K = 16 layers x ← x + (1/K)·f(x, k/K) ends 0.08 \
                     away from the flow of dx/dt = f(x, t) at t = 1. About how far away does the same network with \
                     K = 64 layers end?",
            answer: Answer::Number { value: 0.02, tolerance: 0.003 },
            explanation: "The stack is Euler's method with step 1/K, a first-order method: its error at t = 1 is \
                          about C/K (the slope −1 of the notebook's log-log chart). Four times the layers, a quarter \
                          of the error: 0.08/4 = 0.02. A second-order method would have divided it by 16.",
        },
        Question {
            prompt: "Compute by hand. A particle moves from (0, 0) at t = 0 to (3, 4) at t = 1, stored at t = 0, \
                     0.5 and 1. In the first half it reaches (3, 4) already, and then stays there. What is its path \
                     energy Σ_k ‖Δx_k‖²/Δt_k?",
            answer: Answer::Number { value: 50.0, tolerance: 0.01 },
            explanation: "The first piece moves 5 in half a unit of time: 25/0.5 = 50; the second does not move. \
                          The same trip at constant speed costs 25/1 = 25, which is the least possible (the \
                          straight, constant-speed path is the optimal one): rushing costs energy. Forgetting Δt \
                          gives 25 for both and hides the difference.",
        },
        Question {
            prompt: "Compute the OT cost. On a line, noise points x0 = {0, 1} are paired with data points x1 = \
                     {2, 5}. What is the least mean squared distance (1/n) Σ (x0_i − x1_σ(i))² over pairings σ?",
            answer: Answer::Number { value: 10.0, tolerance: 0.01 },
            explanation: "On a line the optimal pairing keeps the order (exercise 7.2.3): 0 → 2 and 1 → 5 cost \
                          (4 + 16)/2 = 10, while the crossing pairing 0 → 5 and 1 → 2 costs (25 + 1)/2 = 13. \
                          Note that the crossing pairing has the shorter longest trip: squared costs favour \
                          sharing the distance.",
        },
        Question {
            prompt: "Which statements about the exact minibatch OT pairing of the notebook are true?",
            answer: Answer::Choice {
                options: &[
                    "It uses every noise point and every data point of the batch exactly once.",
                    "Its straight lines never cross.",
                    "Two particles moving along its straight lines at constant speed never meet at the same time.",
                    "Its total squared length is W2² of the two batches (times n).",
                ],
                correct: &[0, 2, 3],
            },
            explanation: "The pairing is a permutation, and its cost is the optimum, n·W2² between the batches. \
                          Its segments can still cross (the notebook counts a few), because optimality for \
                          squared costs only gives ⟨x0_i − x0_j, x1_σ(i) − x1_σ(j)⟩ ≥ 0 for every two pairs: one \
                          particle may pass where another has been, but never at the same moment. So the \
                          conditional paths do not collide, and the field OT-CFM regresses has less to average.",
        },
        Question {
            prompt: "Consequence of a change. The Sinkhorn pairing draws each partner from an entropic plan with \
                     regularisation ε. What happens as ε grows very large?",
            answer: Answer::Choice {
                options: &[
                    "The pairing tends to the independent one: every data point is about equally likely for every \
                     noise point.",
                    "The pairing tends to the exact OT permutation.",
                    "The pairing stops using some noise points.",
                    "Sinkhorn stops converging.",
                ],
                correct: &[0],
            },
            explanation: "The plan is π_ij ∝ exp((f_i + g_j − C_ij)/ε). As ε → ∞ the costs stop mattering and the \
                          plan tends to the uniform plan, the independent coupling; as ε → 0 it tends to the exact \
                          OT plan (the notebook's cost gap shrinks with ε). Large ε converges fastest; small ε is \
                          the slow end. Every noise point keeps exactly one partner in our sampler.",
        },
        Question {
            prompt: "Read the result. Between N(0, diag(1, 0.25)) and N(0, [[4, 1.5], [1.5, 1]]) the notebook finds \
                     the exact independent-coupling flow map A ≈ [[1.82, 1.65], [0.41, 1.82]] and the OT map ≈ \
                     [[1.97, 0.64], [0.64, 1.54]]. Which is true?",
            answer: Answer::Choice {
                options: &[
                    "Both maps push the source to the target, but only the OT map has the least transport cost; \
                     the flow map is not optimal because it is not symmetric.",
                    "The flow map is wrong: a Flow Matching model with a perfect fit must reproduce the OT map.",
                    "Both maps have the same transport cost, since both reach the target.",
                    "The OT map does not reach the target, it only approximates it.",
                ],
                correct: &[0],
            },
            explanation: "Both satisfy A Σ0 Aᵀ = Σ1, so both transport the source to the target exactly (the \
                          notebook asserts it). Among linear maps that do, the optimal one is the symmetric \
                          positive definite one (a gradient of a convex function); the flow map of the marginal \
                          field is not symmetric, so its cost E‖Ax − x‖² is larger than W2². Flow Matching with \
                          independent pairs transports, but not optimally, unless the covariances commute (as \
                          from N(0, I)).",
        },
        Question {
            prompt: "Consequence of a change. In the notebook's OT-CFM experiment on those two Gaussians, what \
                     happens to the learned map's distance from the OT map as the batch size grows from 4 to 256?",
            answer: Answer::Choice {
                options: &[
                    "It shrinks: larger batches give pairings closer to the population OT plan.",
                    "It grows: larger batches average over more pairs and blur the map.",
                    "It stays the same: the pairing only changes which pairs are drawn, not the learned field.",
                    "It drops to exactly 0 at batch size 256.",
                ],
                correct: &[0],
            },
            explanation: "A minibatch pairing is optimal for the batch, not for the distributions; with 4 points per \
                          batch the learned map is already closer to the OT map than the independent-coupling flow \
                          (about 0.29 in the notebook, against 0.49) but still far from it. As the batch grows \
                          the minibatch plans approach the population OT plan, and the learned map moves towards \
                          the OT map (about 0.05 at 256). A finite batch and a finite model leave a residual error.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "A normalizing flow and a Flow Matching model both map noise to data by an invertible map. \
                     What does each require of its network, and what does each compute during training?",
            model_answer: "A normalizing flow composes layers that must each be invertible with a tractable \
                           Jacobian determinant (coupling layers, planar or radial maps), because training \
                           maximises the likelihood through the change-of-variables formula, which needs log det \
                           of every layer's Jacobian. Flow Matching learns a velocity field with any network \
                           (an MLP or U-Net on (x, t)); the map is the flow of an ODE, invertible by construction \
                           (run the ODE backwards), and training is a regression on conditional velocities: no \
                           inverse, no determinant and no ODE solve during training. The price is paid at \
                           sampling time (many network evaluations per sample) and for exact likelihoods (a \
                           divergence integrated along the path).",
        },
        ShortAnswer {
            prompt: "When is exact minibatch OT pairing worth its cost in training, and when is independent pairing \
                     enough?",
            model_answer: "OT pairing makes the conditional paths cross less, so the learned field is straighter, \
                           with lower path energy (NPE) and good samples in fewer solver steps; it matters most \
                           when sampling must be cheap (few steps) and when source and target are far apart or \
                           multi-modal. Its cost is an assignment problem per batch (a few milliseconds at 512 \
                           points here, growing like n² to n³) and a bias: the minibatch plan is not the \
                           population plan. In high dimensions with small batches the pairs are nearly \
                           independent anyway, and with many sampling steps I-CFM reaches the same W2, so \
                           independent pairing is the simpler default there.",
        },
    ],
};
