//! The quiz of topic 7.3, the mathematics of Flow Matching (notebook
//! `7.3-fm-mathematics`): conditional paths and velocities, the marginalization
//! trick, FM against CFM, and the numerical checks.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of topic 7.3.
pub static QUIZ: Quiz = Quiz {
    topic: "7.3",
    title: "The mathematics of Flow Matching",
    questions: &[
        Question {
            prompt: "Compute a velocity by hand. In one dimension, the CondOT conditional path towards the data point \
                     z = 3 holds, at t = 0.75, a sample at x = 1.5. What is its conditional velocity u_t(x | z)?",
            answer: Answer::Number { value: 6.0, tolerance: 0.01 },
            explanation: "On the CondOT path a sample is x = t·z + (1 − t)·x0, so the noise it started from is \
                          x0 = (x − t·z)/(1 − t) = (1.5 − 2.25)/0.25 = −3, and the sample moves at the constant \
                          velocity z − x0 = 3 − (−3) = 6. Written as a function of the position, u_t(x | z) = \
                          (z − x)/(1 − t) = 1.5/0.25 = 6: the same number, because both describe one straight path. \
                          Note how the velocity is large although x is only 1.5 away from z: with a quarter of the \
                          time left, the whole remaining distance must be covered.",
        },
        Question {
            prompt: "Pick the wrong step. A student derives the conditional velocity of a Gaussian path \
                     p_t(x | z) = N(α_t z, β_t² I) and its CondOT case. Which step is wrong?",
            answer: Answer::Choice {
                options: &[
                    "A sample of the conditional path is x = α_t z + β_t x0 with x0 ~ N(0, I).",
                    "Holding z and x0 fixed and differentiating in t gives the sample's velocity α̇_t z + β̇_t x0.",
                    "Solving the sample for its noise gives x0 = (x − α_t z)/β_t.",
                    "For CondOT, α_t = t and β_t = 1 − t, so β̇_t/β_t = 1/(1 − t).",
                    "Hence for CondOT u_t(x | z) = (z − x)/(1 − t), which points from x towards z.",
                ],
                correct: &[3],
            },
            explanation: "β_t = 1 − t decreases, so β̇_t = −1 and β̇_t/β_t = −1/(1 − t): the sign is lost in step d. \
                          The other steps are right, and the last line is the correct CondOT velocity, but it does \
                          not follow from step d: with d's ratio the coefficient of x would be +1/(1 − t), a field \
                          that pushes points away from z. A quick test catches such slips: the noise shrinks on the \
                          way to the data, so the coefficient of x in u_t(x | z), which is β̇_t/β_t, must be \
                          negative.",
        },
        Question {
            prompt: "Predict the figure. Section 5 draws 40 paths twice: the straight conditional paths of \
                     independent pairs (left) and the ODE paths of the closed-form marginal field u_t from the \
                     same noise (right). What does the right panel show?",
            answer: Answer::Choice {
                options: &[
                    "The same straight lines as on the left: u_t is the average of the conditional velocities, so \
                     its paths are averages of straight lines and hence straight.",
                    "Curved paths that fan out from the noise and each end in one of the eight modes; two of them \
                     are never at the same point at the same time, because the field has one velocity per (x, t).",
                    "Paths that all end at the centre of the data, because u_t averages over all eight modes.",
                    "Paths that stop halfway, because u_t is zero where the posterior over z is spread evenly.",
                ],
                correct: &[1],
            },
            explanation: "The marginal field is an average of conditional velocities weighted by the posterior over \
                          data points given (x, t). At t = 0 the posterior is the whole data set (the field is \
                          E[x1] − x, one average for everyone); as t grows it concentrates on one mode and the \
                          paths bend towards it, so they are curved, not straight. An ODE with a velocity field that is smooth in x has one velocity \
                          per (x, t), so two particles never meet at the same point at the same time (in a 2-D \
                          picture their traces may still cross at different times). The conditional lines on the \
                          left come from pairs drawn independently, so they can pass through one point at one time \
                          with different velocities. Averaging positions of straight lines would not give the \
                          solution of the averaged field: averaging happens on velocities, at each (x, t).",
        },
        Question {
            prompt: "Choose the consequence of a change. A model is trained with the L1 loss |v_θ(x, t) − \
                     u_t(x | z)| instead of the squared error. At a point (x, t) where the posterior over data \
                     points z is skewed, what does the best possible model predict?",
            answer: Answer::Choice {
                options: &[
                    "The marginal velocity u_t(x), only reached more slowly.",
                    "A (weighted) median of the conditional velocities, which differs from u_t(x), so the learned \
                     field does not generate the path p_t.",
                    "Zero, because the L1 loss has no gradient at its minimum.",
                    "The mean of the conditional velocities again: every loss that is zero for a perfect match has \
                     the mean as its minimiser.",
                ],
                correct: &[1],
            },
            explanation: "The best constant prediction of a random target is its mean under the squared error but \
                          its median under the absolute error. The marginalization trick needs the mean, \
                          u_t(x) = E[u_t(x | z) | x_t = x], and losses whose minimiser is the mean are the Bregman \
                          divergences. Check 4 builds a skewed posterior (largest weight 0.6) where the L1 \
                          minimiser sits 2 away from the mean: a median counts how much weight lies on each side, \
                          not how far away it lies, so a far-off minority of data points moves the mean but not \
                          the median.",
        },
        Question {
            prompt: "Which statements about L_FM(θ) and L_CFM(θ) are true?",
            answer: Answer::Choice {
                options: &[
                    "They have the same gradient with respect to θ.",
                    "They have the same minimum value.",
                    "One term of L_CFM needs only a data point, a noise draw and a time; one term of L_FM needs \
                     the whole data set.",
                    "A perfect model brings L_CFM to zero.",
                    "Their difference does not depend on θ.",
                ],
                correct: &[0, 2, 4],
            },
            explanation: "Expanding both squares, the ‖v_θ‖² terms agree and the cross terms agree because \
                          u_t(x) = E[u_t(x | z) | x]; what is left does not involve θ, so L_FM − L_CFM is a \
                          constant (e) and the gradients are equal (a). The constant is not zero: by Jensen's \
                          inequality E‖u_t(x)‖² ≤ E‖u_t(x | z)‖², so L_CFM is larger by the variance of the \
                          conditional velocities around the marginal one (check 3 prints L_FM − L_CFM ≈ −10 for \
                          the eight Gaussians). So the minima differ (b is false) and even the best model keeps \
                          that variance as its CFM loss (d is false). The target of one CFM term is a closed form \
                          of one pair and one time, while u_t(x) is a posterior average over every data point (c).",
        },
        Question {
            prompt: "Check 1 estimates u_t(x) by a self-normalised Monte Carlo average over n conditional samples, \
                     and its error falls like n^(−1/2). How many times more samples does it need to make its \
                     error ten times smaller?",
            answer: Answer::Number { value: 100.0, tolerance: 0.5 },
            explanation: "With error ∝ n^(−1/2), dividing the error by 10 multiplies n by 10² = 100. The log-log \
                          plot of check 1 shows a slope of about −0.51: between n = 64 and n = 8192 (128 times more \
                          samples) the error fell from 0.74 to 0.060, about 12 times (√128 ≈ 11.3). This is why \
                          the FM loss is impractical as a training objective: a precise target at every point \
                          needs a large sum over the data, at every step.",
        },
        Question {
            prompt: "Check 2 measures the residual of the continuity equation by central differences and prints \
                     residuals 0.112, 0.030 and 0.0076 at grid steps h = 0.4, 0.2 and 0.1. About what residual do \
                     you expect at h = 0.05?",
            answer: Answer::Choice {
                options: &["0.0038", "0.0019", "0.00048", "0: the field is exact"],
                correct: &[1],
            },
            explanation: "Each halving of h divides the residual by about 4 (0.112 → 0.030 → 0.0076; the check \
                          prints an observed order of 1.97), which is what central differences, second order, \
                          give when the field is right. At h = 0.05 expect about 0.0076/4 ≈ 0.0019. It is not 0: \
                          the field is exact, but the derivatives in the check are finite differences. A wrong \
                          field would show a residual that stays large as h shrinks, as the conditional velocity \
                          used as a marginal one does (order ≈ 0).",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "Give two advantages and two disadvantages of training with the CFM loss rather than \
                     maximising the likelihood of a normalizing flow.",
            model_answer: "Advantages: training is simulation-free regression (one data point, one noise draw \
                           and one time per row, a closed-form target, no ODE solve and no Jacobian determinant \
                           while training); any network architecture works, since the field need not be \
                           invertible; the gradients are unbiased for the FM objective and the loss is a stable \
                           least-squares problem. Disadvantages: sampling needs an ODE solve with many network \
                           evaluations (a flow samples in one pass); the exact likelihood needs the divergence of \
                           the field integrated along the path; the loss never reaches zero (its floor is the \
                           variance of the conditional velocities), so its value does not say how good the \
                           samples are, and quality must be measured on samples (W2, MMD, FID).",
        },
        ShortAnswer {
            prompt: "When would you choose the CondOT path (α_t = t, β_t = 1 − t) and when a variance-preserving \
                     path? Say what each costs.",
            model_answer: "CondOT gives straight conditional paths at constant speed, a target as simple as \
                           x1 − x0 and marginal paths that are close to straight, so few solver steps suffice; \
                           it is the default for new models. A variance-preserving path keeps the variance of \
                           x_t near one at every t and matches the forward process of diffusion models, so it \
                           is the choice when reusing diffusion schedules, scores or pretrained networks, or when \
                           the score parametrisation matters (7.6). It costs more curved paths and hence more \
                           solver steps, and its α_0 is small but not exactly 0 (about 0.0066 with the library's \
                           defaults), so p_0 is only approximately the noise.",
        },
    ],
};
