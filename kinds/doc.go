// Package kinds implements the node kinds of llcflow: what each block kind
// accepts (its schema and defaults), its implementation version, and how it
// turns parameters and input runs into output files.
//
// Nouns:
//   - kind: one implementation of a block type, such as the "sgld" sampler.
//   - version: "sgld/2"; bumped whenever the outputs of the same parameters
//     change, so cached runs of the old version rerun.
//   - run directory: where a node writes its outputs; every kind writes a
//     result.json with its summary beside its data files.
//   - family: the erm or target run that a sampler reads. Its run id is
//     the sampler's family_id.
//
// Output files by block type:
//   - dataset: x.npy (n × in_dim), y.npy (n × out_dim), teacher.npy.
//   - erm: weights.npy (w*), curve.csv (step,loss and, for classification,
//     accuracy), result.json with the
//     dataset's run id, the model, the final loss and gradient norm, and
//     not_minimum, true when the gradient norm at w* is too large for w*
//     to be a minimum.
//   - target: result.json with the target kind, its params, d, lambda (λ,
//     null when unknown) and multiplicity (m, 0 when unknown). A target has
//     no data, so a sampler on it has n = 1 and needs n_beta.
//   - sampler: trace.csv and result.json, described below.
//   - plot (added by `llcflow report`, not an HCL block): NAME.png and
//     NAME.svg per figure and a result.json that lists them.
//
// Target kinds: quadratic (K = ½ Σ h_i w_i²), radial (K = ‖w‖^(2k)),
// monomial (K = Π w_j^(2k_j) on a box) and linear. The linear target is
// the population loss ‖W_L ⋯ W_1 − T‖²_F / H_{L+1} of a deep linear network
// without biases, with widths H_1 (input) … H_{L+1} (output), against a
// teacher T of the given rank r, at w* = (E_r, …, E_r). Its λ is the
// reduced-rank regression value (Aoyagi and Watanabe 2005) with m known for
// three widths, the deep linear network value (Aoyagi 2024) with m unknown
// for more, and d/2 with m = 1 for two widths.
//
// A sampler's trace.csv has one row per chain and draw, chain by chain.
// Its columns are chain, draw (from 0), step, loss (the full-data L_n), llc
// (nβ·(L_n − L_n(w*))) and the per-draw series in name order. The series
// are mala_accept for SGLD (the MALA acceptance probability of the step
// that produced the draw) and energy_error for HMC and MCLMC. step counts
// sampling steps after warmup from 0. SGLD records every eval_every-th step
// and HMC and MCLMC every transition. Numbers use the shortest form that
// parses back to the same float64.
//
// A sampler's result.json holds only numbers that are the same on every
// run of the node (a number that is not finite is null):
//   - kind, family_id, d, n, n_beta (nβ), gamma (γ), chains, draws (per
//     chain), loss_star (L_n(w*)).
//   - llc_mean and llc_se = sd/√ess_bulk, chain_means, ess_bulk, ess_tail
//     and rhat (rank-normalized split R̂) of the per-draw LLC; ess_mean,
//     the ESS of the plain mean, and llc_se_mean = sd/√ess_mean, a more
//     cautious standard error.
//   - lambda_true (λ of a target, or of an erm whose teacher and model
//     make it known), lambda_multiplicity (m, or null), and lambda_exact,
//     the exact value at this nβ and γ, which quadratic targets have (with
//     the step-size bias for SGLD without preconditioning), radial ones at
//     γ = 0, and monomial ones at γ = 0 with at most three nonzero
//     exponents. A sampler with bounds has no lambda_exact, and the linear
//     target never has one.
//   - work: grad_fde (gradients in full-data equivalents, a minibatch of b
//     counting b/n, warmup and tuning included), grad_fde_sampling (the
//     recorded steps only) and loss_evals (full-data loss evaluations of
//     the estimator). ess_per_fde and wnv_fde (llc_se²·grad_fde) divide by
//     grad_fde, and the _sampling variants by grad_fde_sampling.
//   - bounds, the [lower, upper] box, when the sampler has one.
//   - stats, the node-level numbers: step_size for every sampler (the
//     mean over chains for HMC and MCLMC); acceptance_rate (mean),
//     divergences (sum over chains) and leapfrog_steps for HMC; L and
//     energy_var (means) for MCLMC.
//   - chain_stats, per chain: acceptance_rate and frac_below_star (the
//     fraction of draws with L_n below L_n(w*)) for SGLD; acceptance_rate,
//     divergences, step_size and warmup_divergences for HMC; L, step_size
//     and energy_var (E[ΔE²]/d) for MCLMC.
//   - warnings, the health checks the run failed, in words: R̂ above 1.01,
//     bulk ESS below 100 per chain, divergences after warmup, an MCLMC
//     energy-error variance above twice its tuning target (when step_size
//     is tuned), and a negative estimate.
//
// Numbers that depend on time are not in result.json, because the wall
// time is provenance: ESS per second is ess_bulk/wall_seconds and the
// work-normalized variance by time llc_se²·wall_seconds, with wall_seconds
// from provenance.json. Efficiency computes both with
// samplers.NewEfficiency, the formula of ess_per_fde and wnv_fde.
//
// Model blocks are not nodes: the DSL inlines their parameters into the erm
// blocks that refer to them.
package kinds
