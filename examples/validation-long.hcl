# Every row of the validation tables (A–E) with every sampler that
# applies, including the c = 1e8 normal crossings and MCLMC at its default
# energy-variance target. It takes under a minute on two cores:
#
#   llcflow apply examples/validation-long.hcl
#   llcflow results examples/validation-long.hcl
#
# Sampler names read SAMPLER_TABLE_CASE. Rows named *_default run MCLMC at
# its default target 5e-4 and measure its bias; the other MCLMC rows run
# at 1e-6 (1e-5 in table D), where the bias is below one standard error.
# docs/VALIDATION.md lists the measured table.

# A. Quadratic K = ½‖w‖², d = 10 and d = 2.

target "quad10" {
  kind        = "quadratic"
  eigenvalues = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}

target "quad2" {
  kind        = "quadratic"
  eigenvalues = [1, 1]
}

sampler "hmc_a_quad10_g0" {
  kind           = "hmc"
  target         = target.quad10
  n_beta         = 100
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_a_quad10_g0" {
  kind       = "mclmc"
  target     = target.quad10
  n_beta     = 100
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_a_quad10_g10" {
  kind           = "hmc"
  target         = target.quad10
  n_beta         = 100
  gamma          = 10
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_a_quad10_g10" {
  kind       = "mclmc"
  target     = target.quad10
  n_beta     = 100
  gamma      = 10
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "sgld_a_quad10_g10" {
  kind       = "sgld"
  target     = target.quad10
  n_beta     = 100
  gamma      = 10
  step_size  = 0.001
  warmup     = 1000
  steps      = 400000
  eval_every = 10
  init_noise = 0
}

sampler "sgld_a_quad2_g10" {
  kind       = "sgld"
  target     = target.quad2
  n_beta     = 100
  gamma      = 10
  step_size  = 0.001
  warmup     = 1000
  steps      = 1600000
  eval_every = 10
  init_noise = 0
}

sampler "mclmc_a_quad10_mclachlan_default" {
  kind       = "mclmc"
  target     = target.quad10
  n_beta     = 100
  gamma      = 0
  integrator = "mclachlan"
  draws      = 20000
  init_noise = 0
}

sampler "mclmc_a_quad10_leapfrog_default" {
  kind       = "mclmc"
  target     = target.quad10
  n_beta     = 100
  gamma      = 0
  integrator = "leapfrog"
  draws      = 20000
  init_noise = 0
}

# B. Radial K = ‖w‖^(2k), flat prior: λ̂ = d/(2k) for every c.

target "radial_d2_k2" {
  kind  = "radial"
  dim   = 2
  power = 2
}

target "radial_d2_k4" {
  kind  = "radial"
  dim   = 2
  power = 4
}

target "radial_d1_k2" {
  kind  = "radial"
  dim   = 1
  power = 2
}

sampler "hmc_b_radial_d2_k2" {
  kind           = "hmc"
  target         = target.radial_d2_k2
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_b_radial_d2_k2" {
  kind       = "mclmc"
  target     = target.radial_d2_k2
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_b_radial_d2_k4" {
  kind           = "hmc"
  target         = target.radial_d2_k4
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_b_radial_d2_k4" {
  kind       = "mclmc"
  target     = target.radial_d2_k4
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_b_radial_d1_k2" {
  kind           = "hmc"
  target         = target.radial_d1_k2
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_b_radial_d2_k2_default" {
  kind       = "mclmc"
  target     = target.radial_d2_k2
  n_beta     = 144.76
  gamma      = 0
  draws      = 20000
  init_noise = 0
}

# C. Normal crossings K = w1^(2a)·w2^(2b) on [−1, 1]², at c = 144.76 and
# c = 1e8. At 1e8 the posterior lies in arms along the axes whose widths
# span four orders of magnitude, so HMC aims at acceptance 0.99, runs
# trajectories of 1000 leapfrog steps that cross the box, and jitters the
# step size by ±90 % so that a chain can leave an arm's narrow end.

target "crossing_01" {
  kind      = "monomial"
  exponents = [0, 1]
  bounds    = [-1, 1]
}

sampler "hmc_c_01_n1000" {
  kind           = "hmc"
  target         = target.crossing_01
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_c_01_n1000" {
  kind       = "mclmc"
  target     = target.crossing_01
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_c_01_c1e8" {
  kind           = "hmc"
  target         = target.crossing_01
  n_beta         = 1e8
  gamma          = 0
  leapfrog_steps = 1000
  target_accept  = 0.99
  step_jitter    = 0.9
  warmup         = 2000
  draws          = 20000
  init_noise     = 0
}

sampler "mclmc_c_01_c1e8" {
  kind       = "mclmc"
  target     = target.crossing_01
  n_beta     = 1e8
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

target "crossing_11" {
  kind      = "monomial"
  exponents = [1, 1]
  bounds    = [-1, 1]
}

sampler "hmc_c_11_n1000" {
  kind           = "hmc"
  target         = target.crossing_11
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_c_11_n1000" {
  kind       = "mclmc"
  target     = target.crossing_11
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_c_11_c1e8" {
  kind           = "hmc"
  target         = target.crossing_11
  n_beta         = 1e8
  gamma          = 0
  leapfrog_steps = 1000
  target_accept  = 0.99
  step_jitter    = 0.9
  warmup         = 2000
  draws          = 20000
  init_noise     = 0
}

sampler "mclmc_c_11_c1e8" {
  kind       = "mclmc"
  target     = target.crossing_11
  n_beta     = 1e8
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

target "crossing_12" {
  kind      = "monomial"
  exponents = [1, 2]
  bounds    = [-1, 1]
}

sampler "hmc_c_12_n1000" {
  kind           = "hmc"
  target         = target.crossing_12
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_c_12_n1000" {
  kind       = "mclmc"
  target     = target.crossing_12
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_c_12_c1e8" {
  kind           = "hmc"
  target         = target.crossing_12
  n_beta         = 1e8
  gamma          = 0
  leapfrog_steps = 1000
  target_accept  = 0.99
  step_jitter    = 0.9
  warmup         = 2000
  draws          = 20000
  init_noise     = 0
}

sampler "mclmc_c_12_c1e8" {
  kind       = "mclmc"
  target     = target.crossing_12
  n_beta     = 1e8
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

target "crossing_13" {
  kind      = "monomial"
  exponents = [1, 3]
  bounds    = [-1, 1]
}

sampler "hmc_c_13_n1000" {
  kind           = "hmc"
  target         = target.crossing_13
  n_beta         = 144.76
  gamma          = 0
  leapfrog_steps = 3
  warmup         = 1000
  draws          = 10000
  init_noise     = 0
}

sampler "mclmc_c_13_n1000" {
  kind       = "mclmc"
  target     = target.crossing_13
  n_beta     = 144.76
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "hmc_c_13_c1e8" {
  kind           = "hmc"
  target         = target.crossing_13
  n_beta         = 1e8
  gamma          = 0
  leapfrog_steps = 1000
  target_accept  = 0.99
  step_jitter    = 0.9
  warmup         = 2000
  draws          = 20000
  init_noise     = 0
}

sampler "mclmc_c_13_c1e8" {
  kind       = "mclmc"
  target     = target.crossing_13
  n_beta     = 1e8
  gamma      = 0
  energy_var = 1e-06
  draws      = 20000
  init_noise = 0
}

sampler "mclmc_c_12_n1000_default" {
  kind       = "mclmc"
  target     = target.crossing_12
  n_beta     = 144.76
  gamma      = 0
  draws      = 20000
  init_noise = 0
}

# D. Reduced-rank regression (M, H, N, r) at nβ = 1e4 and E. deep linear
# networks at nβ = 1e6, with γ = 1, the population loss at a most singular
# point. A product of L matrices makes the local posterior about
# nβ^(-1/(2L)) wide, as wide as the localization at nβ = 1e4, so the deep
# rows need the larger nβ, and HMC needs long trajectories (64 leapfrog
# steps) to move along their flat directions.

target "linear_2_2_2_r0" {
  kind   = "linear"
  widths = [2, 2, 2]
  rank   = 0
}

sampler "hmc_d_2_2_2_r0" {
  kind           = "hmc"
  target         = target.linear_2_2_2_r0
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_2_2_2_r0" {
  kind       = "mclmc"
  target     = target.linear_2_2_2_r0
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_2_2_2_r1" {
  kind   = "linear"
  widths = [2, 2, 2]
  rank   = 1
}

sampler "hmc_d_2_2_2_r1" {
  kind           = "hmc"
  target         = target.linear_2_2_2_r1
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_2_2_2_r1" {
  kind       = "mclmc"
  target     = target.linear_2_2_2_r1
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_2_2_2_r2" {
  kind   = "linear"
  widths = [2, 2, 2]
  rank   = 2
}

sampler "hmc_d_2_2_2_r2" {
  kind           = "hmc"
  target         = target.linear_2_2_2_r2
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_2_2_2_r2" {
  kind       = "mclmc"
  target     = target.linear_2_2_2_r2
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_3_3_3_r1" {
  kind   = "linear"
  widths = [3, 3, 3]
  rank   = 1
}

sampler "hmc_d_3_3_3_r1" {
  kind           = "hmc"
  target         = target.linear_3_3_3_r1
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_3_3_3_r1" {
  kind       = "mclmc"
  target     = target.linear_3_3_3_r1
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_5_3_5_r0" {
  kind   = "linear"
  widths = [5, 3, 5]
  rank   = 0
}

sampler "hmc_d_5_3_5_r0" {
  kind           = "hmc"
  target         = target.linear_5_3_5_r0
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_5_3_5_r0" {
  kind       = "mclmc"
  target     = target.linear_5_3_5_r0
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_5_4_5_r0" {
  kind   = "linear"
  widths = [5, 4, 5]
  rank   = 0
}

sampler "hmc_d_5_4_5_r0" {
  kind           = "hmc"
  target         = target.linear_5_4_5_r0
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_5_4_5_r0" {
  kind       = "mclmc"
  target     = target.linear_5_4_5_r0
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_4_3_8_r0" {
  kind   = "linear"
  widths = [4, 3, 8]
  rank   = 0
}

sampler "hmc_d_4_3_8_r0" {
  kind           = "hmc"
  target         = target.linear_4_3_8_r0
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_4_3_8_r0" {
  kind       = "mclmc"
  target     = target.linear_4_3_8_r0
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_8_3_4_r0" {
  kind   = "linear"
  widths = [8, 3, 4]
  rank   = 0
}

sampler "hmc_d_8_3_4_r0" {
  kind           = "hmc"
  target         = target.linear_8_3_4_r0
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_8_3_4_r0" {
  kind       = "mclmc"
  target     = target.linear_8_3_4_r0
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_3_8_4_r0" {
  kind   = "linear"
  widths = [3, 8, 4]
  rank   = 0
}

sampler "hmc_d_3_8_4_r0" {
  kind           = "hmc"
  target         = target.linear_3_8_4_r0
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_3_8_4_r0" {
  kind       = "mclmc"
  target     = target.linear_3_8_4_r0
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_10_5_10_r3" {
  kind   = "linear"
  widths = [10, 5, 10]
  rank   = 3
}

sampler "hmc_d_10_5_10_r3" {
  kind           = "hmc"
  target         = target.linear_10_5_10_r3
  n_beta         = 1e4
  gamma          = 1
  leapfrog_steps = 8
  target_accept  = 0.95
  draws          = 4000
}

sampler "mclmc_d_10_5_10_r3" {
  kind       = "mclmc"
  target     = target.linear_10_5_10_r3
  n_beta     = 1e4
  gamma      = 1
  energy_var = 1e-05
  draws      = 10000
}

target "linear_3_3_3_3_r0" {
  kind   = "linear"
  widths = [3, 3, 3, 3]
  rank   = 0
}

sampler "hmc_e_3_3_3_3_r0" {
  kind           = "hmc"
  target         = target.linear_3_3_3_3_r0
  n_beta         = 1e6
  gamma          = 1
  leapfrog_steps = 64
  target_accept  = 0.95
  warmup         = 2000
  draws          = 2000
  chains         = 8
}

sampler "mclmc_e_3_3_3_3_r0" {
  kind       = "mclmc"
  target     = target.linear_3_3_3_3_r0
  n_beta     = 1e6
  gamma      = 1
  energy_var = 1e-06
  draws      = 20000
}

target "linear_3_3_3_3_r1" {
  kind   = "linear"
  widths = [3, 3, 3, 3]
  rank   = 1
}

sampler "hmc_e_3_3_3_3_r1" {
  kind           = "hmc"
  target         = target.linear_3_3_3_3_r1
  n_beta         = 1e6
  gamma          = 1
  leapfrog_steps = 64
  target_accept  = 0.95
  warmup         = 2000
  draws          = 2000
  chains         = 8
}

sampler "mclmc_e_3_3_3_3_r1" {
  kind       = "mclmc"
  target     = target.linear_3_3_3_3_r1
  n_beta     = 1e6
  gamma      = 1
  energy_var = 1e-06
  draws      = 20000
}

target "linear_3_3_3_3_r2" {
  kind   = "linear"
  widths = [3, 3, 3, 3]
  rank   = 2
}

sampler "hmc_e_3_3_3_3_r2" {
  kind           = "hmc"
  target         = target.linear_3_3_3_3_r2
  n_beta         = 1e6
  gamma          = 1
  leapfrog_steps = 64
  target_accept  = 0.95
  warmup         = 2000
  draws          = 2000
  chains         = 8
}

sampler "mclmc_e_3_3_3_3_r2" {
  kind       = "mclmc"
  target     = target.linear_3_3_3_3_r2
  n_beta     = 1e6
  gamma      = 1
  energy_var = 1e-06
  draws      = 20000
}

target "linear_5_5_5_5_5_5_r0" {
  kind   = "linear"
  widths = [5, 5, 5, 5, 5, 5]
  rank   = 0
}

sampler "hmc_e_5_5_5_5_5_5_r0" {
  kind           = "hmc"
  target         = target.linear_5_5_5_5_5_5_r0
  n_beta         = 1e6
  gamma          = 1
  leapfrog_steps = 64
  target_accept  = 0.95
  warmup         = 2000
  draws          = 2000
  chains         = 8
}

sampler "mclmc_e_5_5_5_5_5_5_r0" {
  kind       = "mclmc"
  target     = target.linear_5_5_5_5_5_5_r0
  n_beta     = 1e6
  gamma      = 1
  energy_var = 1e-06
  draws      = 20000
}

target "linear_10_10_10_10_10_r2" {
  kind   = "linear"
  widths = [10, 10, 10, 10, 10]
  rank   = 2
}

sampler "hmc_e_10_10_10_10_10_r2" {
  kind           = "hmc"
  target         = target.linear_10_10_10_10_10_r2
  n_beta         = 1e6
  gamma          = 1
  leapfrog_steps = 64
  target_accept  = 0.95
  warmup         = 2000
  draws          = 2000
  chains         = 8
}

sampler "mclmc_e_10_10_10_10_10_r2" {
  kind       = "mclmc"
  target     = target.linear_10_10_10_10_10_r2
  n_beta     = 1e6
  gamma      = 1
  energy_var = 1e-06
  draws      = 20000
}
