# The quick example: the LLC of a small teacher–student MLP, for two data
# seeds. Run it with
#
#   go run ./cmd/llcflow apply examples/quick.hcl
#
# A second apply finds every node cached. Change step_size below and
# `llcflow plan examples/quick.hcl` shows that only the sampler nodes rerun.

variable "n_data" {
  type        = number
  default     = 1000
  description = "Number of training points."
}

sweep {
  seed = [0, 1]
}

# y = teacher(x) + noise, x ~ N(0, I) in 4 dimensions.
dataset "teacher" {
  kind    = "teacher_student"
  n       = var.n_data
  x_dist  = "gauss_iso"
  in_dim  = 4
  teacher = { widths = [4, 4, 1], activation = "tanh" }
  noise   = { kind = "gauss", scale = 0.1 }
  seed    = sweep.seed
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
  step_size  = 1e-3 # MALA acceptance ≈ 0.68; smaller steps mix more slowly
  batch_size = 256
  warmup     = 1000
  steps      = 20000 # 2000 draws per chain: R-hat ≈ 1.007, bulk ESS ≈ 600
  eval_every = 10
  chains     = 4
  gamma      = 1.0
  beta0      = 1.0
}

preset "tiny" {
  n_data = 200
}
