// Package models implements the multilayer perceptrons (MLPs) whose local
// learning coefficients llcflow estimates. It provides their forward pass
// and a backward pass written by hand, the potential of an MLP on labelled
// data under a regression or classification loss, and full-batch training
// (ERM) with Adam or SGD.
//
// Nouns:
//   - widths: the layer widths of an MLP, input first and output last.
//     [4, 16, 1] is one hidden layer of 16 units.
//   - layer l: the dense map from width l−1 to width l,
//     a_l = σ(W_l·a_{l−1} + b_l), with σ the activation on hidden layers
//     and the identity on the output layer.
//   - parameter vector w: all weights and biases in one flat []float64, laid
//     out layer by layer: W_l (out × in, row-major) then b_l (out) when the
//     MLP has biases. Params names each array and its offset.
//   - loss: the per-example loss ℓ(f(x), y), one of mse (no ½), student_t,
//     cross_entropy and logistic (Loss).
//   - potential: L_n(w), the mean of ℓ over the data (Supervised).
//   - evaluator: the per-goroutine scratch space that computes L_n and its
//     gradient without allocating.
//   - block: the rows of a batch processed together, blockRows at a time.
//   - training state: the weights and optimizer moments after a number of
//     steps, from which training resumes bit for bit (TrainState).
//
// Activations are relu, tanh, gelu and identity. tanh goes through
// detmath.Tanh. gelu is the tanh approximation
// 0.5·z·(1 + tanh(√(2/π)(z + 0.044715z³))), computed in the equal form
// z·s(2u) with s the logistic sigmoid and u = √(2/π)(z + 0.044715z³),
// through detmath.Exp. The losses use detmath.Exp and math.Log, whose
// amd64 assembly uses no fused multiply-add. No function of package math
// that calls math.Exp is used, so results are bit-identical on every amd64
// CPU.
//
// The package imports nothing of the pipeline (no graph, store or dsl).
package models
