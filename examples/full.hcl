# Sampler comparison: SGLD, HMC and MCLMC on one trained MLP (one family:
# the same data and the same w*). Run the quick preset with
#
#   llcflow apply --preset quick examples/full.hcl
#   llcflow results --preset quick examples/full.hcl
#
# and the full preset, which takes longer, with --preset full. The three
# estimates should agree within their combined standard errors plus each
# sampler's bias at its settings.

variable "n_data" {
  type        = number
  default     = 1000
  description = "Number of training points."
}

variable "draws" {
  type        = number
  default     = 2000
  description = "Recorded draws per chain; SGLD takes sgld_thin steps per draw."
}

variable "sgld_step_size" {
  type        = number
  default     = 1e-3
  description = "SGLD step size. The drift scales with nβ = n/log n, so the step must shrink as n grows: about 0.08/nβ keeps the MALA acceptance near 0.8 here."
}

variable "sgld_thin" {
  type        = number
  default     = 10
  description = "SGLD steps per recorded draw. A smaller step needs more steps to mix."
}

variable "warmup" {
  type        = number
  default     = 500
  description = "Discarded warmup transitions per chain."
}

variable "chains" {
  type        = number
  default     = 4
  description = "Chains per sampler."
}

# y = teacher(x) + noise, x ~ N(0, I) in 4 dimensions.
dataset "teacher" {
  kind    = "teacher_student"
  n       = var.n_data
  in_dim  = 4
  teacher = { widths = [4, 4, 1], activation = "tanh" }
  noise   = { kind = "gauss", scale = 0.1 }
  seed    = 0
}

# A wider student than the teacher: 97 parameters.
model "student" {
  kind       = "mlp"
  widths     = [4, 16, 1]
  activation = "tanh"
}

erm "fit" {
  dataset   = dataset.teacher
  model     = model.student
  optimizer = { kind = "adam", lr = 0.01 }
  steps     = 2000
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = var.sgld_step_size
  batch_size = 256
  warmup     = var.warmup * 2
  steps      = var.draws * var.sgld_thin
  eval_every = var.sgld_thin
  chains     = var.chains
  gamma      = 1.0
  beta0      = 1.0
}

sampler "hmc" {
  kind           = "hmc"
  erm            = erm.fit
  leapfrog_steps = 10
  warmup         = var.warmup
  draws          = var.draws
  chains         = var.chains
  gamma          = 1.0
  beta0          = 1.0
}

sampler "mclmc" {
  kind   = "mclmc"
  erm    = erm.fit
  warmup = var.warmup
  draws  = var.draws
  chains = var.chains
  gamma  = 1.0
  beta0  = 1.0
}

# A first look at the three samplers side by side (about 5 s of wall time
# on two cores).
preset "quick" {
  n_data = 500
  draws  = 1000
  warmup = 500
  chains = 4
}

# Ten times the data and four times the draws of quick, for estimates
# whose standard errors are small beside the samplers' differences. nβ
# grows from 80 to 587, so SGLD's step shrinks by the same factor (at
# 1e-3 it overshot to an estimate about 3.6 times HMC's) and it takes four
# times the steps per draw to mix.
preset "full" {
  n_data         = 5000
  draws          = 4000
  warmup         = 1000
  chains         = 4
  sgld_step_size = 1.4e-4
  sgld_thin      = 40
}
