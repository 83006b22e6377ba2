# Samplers against exact learning coefficients. Every target has a known
# minimum w* = 0; `llcflow results examples/validation.hcl` shows each
# estimate beside lambda_true (the asymptotic λ) and lambda_exact (the
# exact value at this nβ, which an unbiased sampler reproduces within its
# standard error).

# Regular model: K(w) = ½ Σ h_i w_i², d = 10. Exact for every nβ:
# λ̂ = ½ Σ c·h_i / (c·h_i + γ) = 4.5455 at c = 100, γ = 10.
target "quadratic" {
  kind        = "quadratic"
  eigenvalues = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}

# Radial potential (w1² + w2²)²: λ̂ = d/(2k) = 0.5 for every c when γ = 0.
target "radial" {
  kind  = "radial"
  dim   = 2
  power = 2
}

# Normal crossing w1² w2⁴ on [−1, 1]²: λ = 1/4, and 0.2090 at c = 144.76.
target "crossing" {
  kind      = "monomial"
  exponents = [1, 2]
  bounds    = [-1, 1]
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

sampler "mclmc_quadratic" {
  kind       = "mclmc"
  target     = target.quadratic
  n_beta     = 100
  gamma      = 10
  energy_var = 1e-5 # tighter than the default 5e-4, whose bias is about −2 %
  draws      = 4000
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
