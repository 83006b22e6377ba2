// Package datasets generates the synthetic data sets of llcflow.
//
// Nouns:
//   - teacher: an MLP with random weights that defines the true regression
//     function f0, or the logits of a classification task.
//   - linear teacher: a bias-free product of matrices W_L ⋯ W_1 of a given
//     rank, the truth of reduced-rank regression and deep linear networks.
//   - inputs: the distribution of x (Inputs).
//   - noise: the distribution of y − f0(x) (Noise).
//   - x: the inputs, n rows of in_dim columns, row-major.
//   - y: the targets, n rows of out_dim columns, or one class label per row
//     for classification.
//   - stream: the rng.Rand that all draws come from, so a data set is a
//     function of its parameters and its stream. Each generator draws the
//     teacher first, then the inputs, then the noise or labels.
package datasets
