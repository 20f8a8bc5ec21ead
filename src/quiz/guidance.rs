//! The quiz of the guidance notebook (`guidance`): conditioning, label dropout, classifier-free
//! guidance from Bayes' rule, its convention, and what the sweep of w shows.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of the guidance notebook.
pub static QUIZ: Quiz = Quiz {
    topic: "guidance",
    title: "Conditional flows and classifier-free guidance",
    questions: &[
        Question {
            prompt: "Compute by hand. At some (x, t) a conditional model returns v(x, t | ∅) = (2, 1) and \
                     v(x, t | y) = (1, 3). What is the guided velocity at w = 2, with this notebook's convention?",
            answer: Answer::Choice {
                options: &["(0, 5)", "(−1, 7)", "(3, −1)", "(4, 7)"],
                correct: &[0],
            },
            explanation: "(1 − w)·v_uncond + w·v_cond = −1·(2, 1) + 2·(1, 3) = (0, 5). (−1, 7) is \
                          (1 + w)·v_cond − w·v_uncond, Meta's form used with our w: one unit of guidance too much. \
                          (3, −1) swaps the two weights, and (4, 7) adds w·v_cond to v_uncond, with weights that do \
                          not sum to 1. Note the negative weight on the unconditional velocity: for w > 1 the guided \
                          field moves away from where the unconditional flow would go.",
        },
        Question {
            prompt: "Translate a convention. A script written with Meta's flow_matching examples samples with \
                     guidance scale 2, that is (1 + 2)·v_cond − 2·v_uncond. Which w of this notebook gives the \
                     same field?",
            answer: Answer::Number { value: 3.0, tolerance: 1e-9 },
            explanation: "(1 − w)·v_uncond + w·v_cond with w = 3 is 3·v_cond − 2·v_uncond, the same field: our w is \
                          their w′ plus 1. Their w′ = 0 is plain conditional sampling, our w = 1; our w = 0 \
                          (unconditional) is their w′ = −1. Ho & Salimans's (1 + w)·ε(z, c) − w·ε(z) is the same \
                          shift.",
        },
        Question {
            prompt: "Consequence of a change. The conditional model is trained exactly as in the notebook but with \
                     p_uncond = 0 (no label dropout), then sampled at w = 3. What goes wrong?",
            answer: Answer::Choice {
                options: &[
                    "The null label's vector is never trained, so v(x, t | ∅) is whatever the initial weights give, \
                     and the guided field 3·v(x, t | y) − 2·v(x, t | ∅) is pushed around by an untrained velocity.",
                    "Nothing: v(x, t | ∅) is the average of the class velocities whatever the training.",
                    "Training fails with an error, because some rows must carry ∅.",
                    "The samples are exactly those of w = 1, because the unconditional part cancels.",
                ],
                correct: &[0],
            },
            explanation: "Only rows labelled ∅ teach the model its unconditional velocity. With p_uncond = 0 no row \
                          ever is, so the row of the label table for ∅ keeps its random initial values and the \
                          network has never seen it. Guidance then extrapolates along the difference between a \
                          trained and an untrained velocity. The average of the class velocities would be the right \
                          unconditional field (section 1), but nothing makes the network compute it for ∅: that is \
                          what label dropout is for.",
        },
        Question {
            prompt: "Read the figure. In the notebook's sweep of the trained model, about what share of the samples \
                     land in the requested mode at w = 0?",
            answer: Answer::Number { value: 0.125, tolerance: 0.05 },
            explanation: "At w = 0 the guided field is v(x, t | ∅): the label asked for plays no part, and each \
                          sample lands in one of the eight equally likely modes, the requested one with probability \
                          1/8 = 0.125 (the sweep printed about 0.12). At w = 0.5 about half of them do, and from w = 1 \
                          on practically all.",
        },
        Question {
            prompt: "Explain the figure. At w = 3 and w = 5 the samples of each class are not only tighter than at \
                     w = 1, they also lie farther from the origin than the modes' centres (mean radius about 6 \
                     instead of 5), for the exact field as for the trained model. Why?",
            answer: Answer::Choice {
                options: &[
                    "For w > 1 the unconditional velocity enters with the negative weight 1 − w: samples are pushed \
                     away from where the unconditional flow goes, and for a mode on the ring the other classes lie \
                     towards the centre.",
                    "The model is undertrained: a better model would keep the samples on the circle of radius 5.",
                    "25 midpoint steps are too few; with more steps the samples move back to radius 5.",
                    "The data of each class really lies at radius 6; w = 1 underestimates it.",
                ],
                correct: &[0],
            },
            explanation: "ṽ = v(x, t | y) + (w − 1)·(v(x, t | y) − v(x, t | ∅)): beyond w = 1 the field keeps going \
                          along the difference between the class's velocity and the average over all classes. For a \
                          mode on the ring that difference points outwards, away from the other modes. The exact \
                          field does the same, so it is guidance itself, not a training or solver error; and w = 1 \
                          reproduces the class (its W2 is at the floor).",
        },
        Question {
            prompt: "What guidance trades. As w grows from 1 to 5 in the notebook's sweep, which of these happen? \
                     (Choose all that apply.)",
            answer: Answer::Choice {
                options: &[
                    "The mode accuracy stays at (or near) 1.",
                    "The spread ratio (the diversity within a class) falls well below 1.",
                    "The W2 distance to fresh draws of the class grows.",
                    "The samples of a class become more varied.",
                ],
                correct: &[0, 1, 2],
            },
            explanation: "The eight modes are far apart, so conditional sampling (w = 1) already lands in the right \
                          mode; more guidance cannot raise the accuracy, it only concentrates the samples. Their \
                          spread shrinks (the spread ratio drops to about a fifth at w = 3) and they move away from \
                          the class's true distribution, so W2 to the class grows from its floor at w = 1. Diversity \
                          is what guidance spends; on overlapping classes (images) it buys accuracy with it.",
        },
        Question {
            prompt: "Find the wrong step. (a) p(x | y) = p(y | x) p(x) / p(y). (b) Taking ∇ log of both sides: \
                     ∇ log p(x | y) = ∇ log p(y | x) + ∇ log p(x) − ∇ log p(y). (c) ∇ log p(y) = 0, since p(y) \
                     does not depend on x. (d) So the classifier's gradient is ∇ log p(y | x) = ∇ log p(x | y) + \
                     ∇ log p(x), two scores the conditional model knows. Which step is wrong?",
            answer: Answer::Choice { options: &["(a)", "(b)", "(c)", "(d)"], correct: &[3] },
            explanation: "Solving (b) with (c) for the classifier term gives ∇ log p(y | x) = ∇ log p(x | y) − \
                          ∇ log p(x): a difference of the conditional and the unconditional score, not a sum. With \
                          the minus sign, ∇ log p(x) + w·∇ log p(y | x) becomes (1 − w)·∇ log p(x) + w·∇ log p(x | y), \
                          the weights of the guidance formula.",
        },
        Question {
            prompt: "Compute by hand. With label dropout p_uncond = 0.2 and batches of 256 rows, how many rows of a \
                     batch carry the null label, on average?",
            answer: Answer::Number { value: 51.2, tolerance: 0.1 },
            explanation: "Each row loses its label with probability 0.2, independently, so the count is binomial \
                          with mean 256·0.2 = 51.2 (and standard deviation √(256·0.2·0.8) = 6.4). The rows \
                          themselves all stay: the batch still has 256 points and targets.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "Classifier-free guidance needs the gradient of a classifier p(y | x_t) on noisy points. Where \
                     does it come from, and why is no classifier trained?",
            model_answer: "Bayes' rule gives ∇ log p(y | x) = ∇ log p(x | y) − ∇ log p(x): the classifier's gradient \
                           is the difference between the conditional and the unconditional score (or, on an affine \
                           path, velocity). One network trained with label dropout provides both, v(x, t | y) and \
                           v(x, t | ∅), so guidance only needs two evaluations of that network per step. A separate \
                           classifier would have to be trained on noisy x_t at every t, and its gradients can be \
                           poor or adversarial.",
        },
        ShortAnswer {
            prompt: "When would you sample at w = 1 rather than w = 3, and when the other way round?",
            model_answer: "w = 1 samples the class as it is: the right spread, every variant in its proportion, the \
                           smallest W2 to the class. Choose it when the samples must be distributed like the data \
                           (estimating statistics, data augmentation, coverage of rare variants). w > 1 gives more \
                           typical, more clearly recognisable samples at the cost of diversity (and beyond some \
                           point of realism): choose it when each sample must unmistakably belong to its class, as \
                           with images of overlapping or hard classes, and diversity matters less.",
        },
    ],
};
