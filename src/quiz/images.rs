//! The quiz of the "Images and guidance" notebook (`images`): the inductive bias of a U-Net,
//! im2col, the skip connection, and what guidance does on the digits.

use super::{Answer, Question, Quiz, ShortAnswer};

/// The quiz of the images notebook.
pub static QUIZ: Quiz = Quiz {
    topic: "images",
    title: "Images and guidance: a small U-Net on the digits",
    questions: &[
        Question {
            prompt: "Compute by hand. In a U-Net with C = 32 on the 8 × 8 digits, the down-sampling convolution \
                     takes 32 channels of 8 × 8 to 64 channels with a 3 × 3 kernel, stride 2 and padding 1. What is \
                     the shape of its im2col matrix (rows × columns, one row per output pixel)?",
            answer: Answer::Choice { options: &["16 × 288", "64 × 288", "16 × 576", "64 × 9"], correct: &[0] },
            explanation: "The output side is (8 + 2·1 − 3)/2 + 1 = 4 (integer division), so there are 4·4 = 16 \
                          output pixels, one row each. Each row holds the 3 × 3 window of every input channel: \
                          32·9 = 288 numbers. 64 × 288 ignores the stride (8 × 8 outputs); 576 = 64·9 counts the \
                          output channels, which live in the kernel matrix (64 × 288), not in the patches.",
        },
        Question {
            prompt: "Compute by hand. How many trainable numbers (weights and biases) has a 3 × 3 convolution from \
                     1 channel to 32 channels? (A dense layer from the 64 pixels of a digit to 32 feature maps of \
                     8 × 8 would have 64·2048 + 2048 = 133 120.)",
            answer: Answer::Number { value: 320.0, tolerance: 0.5 },
            explanation: "32 kernels of 1·3·3 = 9 weights plus 32 biases: 288 + 32 = 320. The convolution uses the \
                          same nine weights at every position (weight sharing) and only looks at a 3 × 3 \
                          neighbourhood (locality); the dense layer has a separate weight for every pair of input \
                          pixel and output feature, over 400 times as many.",
        },
        Question {
            prompt: "Predict the consequence of a change. Every training image (and every image sampled later) has \
                     its 64 pixels shuffled by one fixed permutation, the same for all images. Which model can fit \
                     the shuffled data exactly as well as the original?",
            answer: Answer::Choice {
                options: &[
                    "An MLP on the flattened pixels: permuting its inputs is the same as permuting the columns of \
                     its first weight matrix, so it loses nothing.",
                    "The U-Net: its convolutions do not care where a pixel sits.",
                    "Both equally: the data carries the same information.",
                    "Neither: the shuffled images are no longer digits.",
                ],
                correct: &[0],
            },
            explanation: "An MLP has no notion of which pixels are neighbours: a fixed permutation of its inputs (and \
                          outputs) is undone by permuting its first and last weight matrices, so the shuffled \
                          problem is exactly as easy for it. The U-Net assumes that neighbouring pixels belong \
                          together (3 × 3 windows, shared weights, halving the resolution): after the shuffle that \
                          assumption is false, and it loses the advantage that made it the better model for images. \
                          That assumption is its inductive bias.",
        },
        Question {
            prompt: "Compute by hand. In the skip connection of the notebook's exercise, one coarse channel of 2 × 2 \
                     holding 1, 2 (top row) and 3, 4 (bottom row) is upsampled to 4 × 4 and one skip channel is \
                     stacked behind it. What is entry [channel 0, row 3, column 0] of the result?",
            answer: Answer::Number { value: 3.0, tolerance: 1e-9 },
            explanation: "Nearest-neighbour upsampling turns every coarse pixel into a 2 × 2 block: output pixel \
                          (3, 0) reads coarse pixel (⌊3/2⌋, ⌊0/2⌋) = (1, 0), which holds 3. Channel 0 is the \
                          upsampled one because the coarse features come first; the skip channel is channel 1.",
        },
        Question {
            prompt: "Read the figure. In the notebook's sweep over w, about what share of the samples does the \
                     classifier assign to the requested digit at w = 0?",
            answer: Answer::Number { value: 0.1, tolerance: 0.05 },
            explanation: "At w = 0 the guided field is v(x, t | ∅): the label asked for plays no part, so a sample \
                          is the requested digit only by chance, one time in ten (the ten digits are about equally \
                          frequent). From w = 1 on the label steers the flow and the share climbs towards 1.",
        },
        Question {
            prompt: "Explain the figure. On the eight Gaussians (guidance notebook), guidance beyond w = 1 bought no \
                     accuracy; on the digits, the class accuracy still rises from w = 1 to w = 2. Why the \
                     difference?",
            answer: Answer::Choice {
                options: &[
                    "The digit classes overlap (a sloppy 4 and 9, 3 and 8 look alike), so conditional samples at \
                     w = 1 include some the classifier reads as another digit; guidance pushes them away from the \
                     other classes. The eight modes are far apart, so w = 1 already hit them.",
                    "The U-Net is a worse model than the MLP, and guidance corrects its errors exactly.",
                    "Images have more dimensions, and guidance always helps more in high dimension.",
                    "The digits were trained without label dropout.",
                ],
                correct: &[0],
            },
            explanation: "Guidance samples, in spirit, from p(x) p(y | x)^w: it moves samples to where the classifier \
                          term p(y | x) is large. Where classes overlap, part of p(x | y) lies where p(y | x) is \
                          small, and guidance trades those ambiguous samples for clear ones. With well-separated \
                          modes p(y | x) is already about 1 on the whole class, so there is nothing to gain, only \
                          diversity to lose.",
        },
    ],
    short_answers: &[
        ShortAnswer {
            prompt: "Name the three things a U-Net assumes about images that an MLP on the flattened pixels does \
                     not, and say for each what it saves.",
            model_answer: "Locality: a pixel's output depends first on its neighbours (3 × 3 windows), so the model \
                           need not learn that distant pixels rarely matter. Weight sharing (translation \
                           equivariance): the same kernel is used at every position, so a stroke detector learned in \
                           one place works everywhere, with far fewer parameters and less data. Multiple scales: \
                           down-sampling lets deeper layers see the whole digit cheaply, and the skip connections \
                           bring back the fine detail of the full-resolution features, so the output is both \
                           globally consistent and sharp.",
        },
        ShortAnswer {
            prompt: "What does the curve of the Fréchet distance against w tell you that the class-accuracy curve \
                     does not, and which w would you pick for each of: a figure of typical digits, synthetic \
                     training data for a classifier?",
            model_answer: "Class accuracy only asks whether a sample looks like its digit; it is happy with a hundred \
                           copies of the same clean 7. The Fréchet distance compares the whole distribution of \
                           features (mean and covariance) with that of real digits, so it also punishes lost \
                           variety: it is smallest near w = 1 and grows with strong guidance. For a figure of \
                           typical, clearly readable digits a larger w (2 or 3) is fine; for synthetic training data \
                           the samples must be distributed like real digits, so choose w near the minimum of the \
                           Fréchet distance.",
        },
    ],
};
