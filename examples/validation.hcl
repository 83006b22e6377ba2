# Samplers against known learning coefficients: one fast case of each
# table (A–E) with every sampler that applies. Run it with
#
#   llcflow apply examples/validation.hcl
#   llcflow results examples/validation.hcl
#
# results shows each estimate beside lambda_exact (the exact value at this
# nβ, which an unbiased sampler reproduces within its standard error) and
# lambda_true (the asymptotic λ). examples/validation-long.hcl runs every
# row of every table, including the c = 1e8 normal crossings.

# A. Regular model: K(w) = ½ Σ h_i w_i², d = 10. Exact for every nβ:
# λ̂ = ½ Σ c·h_i / (c·h_i + γ) = 4.5455 at c = 100, γ = 10.
target "quadratic" {
  kind        = "quadratic"
  eigenvalues = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}

# The same in d = 2, for SGLD's finite-step value 0.93480.
target "quadratic_2d" {
  kind        = "quadratic"
  eigenvalues = [1, 1]
}

# B. Radial potential (w1² + w2²)²: λ̂ = d/(2k) = 0.5 for every c when
# γ = 0.
target "radial" {
  kind  = "radial"
  dim   = 2
  power = 2
}

# B. w⁴ in one dimension: λ̂ = 0.25. MCLMC needs d ≥ 2, so only HMC runs
# it.
target "radial_1d" {
  kind  = "radial"
  dim   = 1
  power = 2
}

# C. Normal crossing w1² w2⁴ on [−1, 1]²: λ = 1/4, and 0.2090 at
# c = 144.76 (n = 1000).
target "crossing" {
  kind      = "monomial"
  exponents = [1, 2]
  bounds    = [-1, 1]
}

# D. Reduced-rank regression (M, H, N) = (3, 3, 3), true rank 1: λ = 4,
# multiplicity 1. The population loss at a most singular point of the
# true set, where the local learning coefficient is Aoyagi and Watanabe's.
target "rrr" {
  kind   = "linear"
  widths = [3, 3, 3]
  rank   = 1
}

# E. Deep linear network with widths [3, 3, 3, 3], true rank 2: λ = 4.5,
# at nβ = 1e6: with three matrices the local posterior at nβ = 1e4 is as
# wide as the localization, and the estimate depends on γ.
target "dln" {
  kind   = "linear"
  widths = [3, 3, 3, 3]
  rank   = 2
}

# D through data and training: noise-free data from a full-rank linear
# teacher with widths [2, 2, 2], w* = the teacher. At full rank every
# point of the true set is alike, so λ = 2 holds at w*.
dataset "rrr_full_rank" {
  kind   = "linear_teacher"
  n      = 200
  widths = [2, 2, 2]
  rank   = 2
}

model "rrr_full_rank" {
  kind       = "mlp"
  widths     = [2, 2, 2]
  activation = "identity"
  bias       = false
}

erm "rrr_full_rank" {
  dataset = dataset.rrr_full_rank
  model   = model.rrr_full_rank
  init    = "teacher"
  steps   = 0
}

sampler "hmc_quadratic" {
  kind           = "hmc"
  target         = target.quadratic
  n_beta         = 100
  gamma          = 10
  leapfrog_steps = 3
  warmup         = 500
  draws          = 4000
  chains         = 4
  init_noise     = 0
}

sampler "mclmc_quadratic" {
  kind       = "mclmc"
  target     = target.quadratic
  n_beta     = 100
  gamma      = 10
  energy_var = 1e-5 # tighter than the default 5e-4; see docs/VALIDATION.md for its bias
  draws      = 4000
  chains     = 4
  init_noise = 0
}

sampler "sgld_quadratic" {
  kind       = "sgld"
  target     = target.quadratic
  n_beta     = 100
  gamma      = 10
  step_size  = 1e-3 # exact value with SGLD's step-size bias: 4.6740
  warmup     = 1000
  steps      = 40000
  eval_every = 10
  chains     = 4
  init_noise = 0
}

sampler "sgld_quadratic_2d" {
  kind       = "sgld"
  target     = target.quadratic_2d
  n_beta     = 100
  gamma      = 10
  step_size  = 1e-3 # exact value with SGLD's step-size bias: 0.93480
  warmup     = 1000
  steps      = 160000
  eval_every = 10
  chains     = 4
  init_noise = 0
}

sampler "hmc_radial" {
  kind           = "hmc"
  target         = target.radial
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 500
  draws          = 4000
  chains         = 4
  init_noise     = 0
}

sampler "mclmc_radial" {
  kind       = "mclmc"
  target     = target.radial
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-5
  draws      = 4000
  chains     = 4
  init_noise = 0
}

sampler "hmc_radial_1d" {
  kind           = "hmc"
  target         = target.radial_1d
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 500
  draws          = 4000
  chains         = 4
  init_noise     = 0
}

sampler "hmc_crossing" {
  kind           = "hmc"
  target         = target.crossing
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 500
  draws          = 4000
  chains         = 4
  init_noise     = 0
}

sampler "mclmc_crossing" {
  kind       = "mclmc"
  target     = target.crossing
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-5
  draws      = 4000
  chains     = 4
  init_noise = 0
}

# Tables D and E at nβ = 1e4 with γ = 1. The estimate approaches λ from
# below by about (m − 1)/log nβ. HMC aims at acceptance 0.95, because at
# 0.8 it diverges in hundreds of transitions on these singular targets.
sampler "hmc_rrr" {
  kind           = "hmc"
  target         = target.rrr
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_rrr" {
  kind       = "mclmc"
  target     = target.rrr
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-5
  draws      = 10000
}

sampler "hmc_dln" {
  kind           = "hmc"
  target         = target.dln
  n_beta         = 1e6
  gamma          = 1
  leapfrog_steps = 64
  target_accept  = 0.95
  warmup         = 2000
  draws          = 2000
  chains         = 8
}

sampler "mclmc_dln" {
  kind       = "mclmc"
  target     = target.dln
  n_beta     = 1e6
  gamma      = 1
  energy_var = 1e-6
  draws      = 20000
}

sampler "hmc_rrr_data" {
  kind           = "hmc"
  erm            = erm.rrr_full_rank
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_rrr_data" {
  kind       = "mclmc"
  erm        = erm.rrr_full_rank
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-5
  draws      = 10000
}
