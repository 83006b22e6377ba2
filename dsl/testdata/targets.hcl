# Samplers on potentials with a known learning coefficient, swept over
# step sizes written in several number forms.

sweep {
  step = [1e-4, 0.5, -2, 1000]
  dim  = [2, 3]
}

target "quad" {
  kind = "quadratic"
  dim  = sweep.dim
}

target "crossing" {
  kind      = "monomial"
  exponents = [1, 2]
}

sampler "sgld_quad" {
  kind      = "sgld"
  target    = target.quad
  step_size = abs(sweep.step)
}

sampler "hmc_crossing" {
  kind   = "hmc"
  target = target.crossing
  draws  = 4000
}

backend "slurm" {
  partition   = "cpu"
  timeout_min = 60 * 3
  setup       = ["module load go"]
}
