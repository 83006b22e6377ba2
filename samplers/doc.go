// Package samplers draws from the local posterior of a potential and
// estimates its local learning coefficient (LLC).
//
// Nouns:
//   - potential: L_n(w), the empirical loss of a model on n data points, or
//     an analytic K(w) (see Potential).
//   - w*: the point the posterior is localized at, usually the ERM solution.
//   - chain: one independent Markov chain, started at w* plus small noise,
//     with its own random stream.
//   - draw: one recorded state of a chain after warmup.
//   - nβ: the inverse temperature times n, β = β0 / log n by default.
//
// The local posterior is log π(w) = −nβ·L_n(w) − (γ/2)·‖w − w*‖² −
// (α/2)·‖w‖², with the weight decay α a Gaussian prior at the origin, and
// the estimator is λ̂ = nβ·(E_π[L_n(w)] − L_n(w*)).
//
// The package imports nothing of the pipeline: it knows numbers, not
// nodes or stores.
package samplers
