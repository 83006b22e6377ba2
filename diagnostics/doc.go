// Package diagnostics computes convergence diagnostics of Markov chain
// Monte Carlo draws: the rank-normalized split R̂, the bulk and tail
// effective sample sizes (ESS) of Vehtari, Gelman, Simpson, Carpenter and
// Bürkner, "Rank-normalization, folding, and localization: an improved R̂
// for assessing convergence of MCMC", Bayesian Analysis 16(2), 2021, the
// plain ESS of the mean, and autocorrelations.
//
// Nouns:
//   - chain: the draws of one Markov chain, in order.
//   - draws: a [][]float64 indexed [chain][draw]. Every chain must have
//     the same length; functions panic otherwise.
//   - split chain: the first or the second half of a chain. Every R̂ and
//     ESS here is computed on split chains, so a single chain still gets
//     a between-chain comparison. The middle draw of an odd-length chain
//     is dropped.
//   - rank normalization: replacing each draw by Φ⁻¹((r − 3/8)/(S + 1/4)),
//     with r its rank among all S draws (ties get their average rank), so
//     R̂ and ESS work for heavy tails and are invariant to monotone
//     transforms.
//   - folding: replacing each draw by its distance |x − median| to the
//     pooled median, so R̂ sees chains that differ in scale.
//   - ESS: the number of independent draws with the same variance of the
//     mean, S/τ, with τ = 1 + 2 Σ_t ρ_t estimated by Geyer's initial
//     monotone sequence on the multi-chain autocorrelations ρ_t.
//
// Edge cases, the same for every function: an empty input, chains with
// fewer than 4 draws (split chains with fewer than 2), any NaN or Inf
// draw, and draws that are all equal give NaN. Chains that are each
// constant but differ from one another give R̂ = +Inf.
package diagnostics
