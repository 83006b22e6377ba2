// Package datasets generates the synthetic data sets of llcflow.
//
// Nouns:
//   - teacher: an MLP with random weights that defines the true regression
//     function f0.
//   - x: the inputs, n rows of in_dim columns, row-major.
//   - y: the targets y = f0(x) + noise, n rows of out_dim columns.
//   - stream: the rng.Rand that all draws come from, so a data set is a
//     function of its parameters and its stream.
package datasets
