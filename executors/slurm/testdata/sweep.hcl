# A small sweep run locally and on SLURM: 2 datasets, 2 erm, 2 sampler nodes.
variable "n_data" {
  type    = number
  default = 300
}

variable "sgld_steps" {
  type    = number
  default = 400
}

sweep {
  seed = [0, 1]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = var.n_data
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
  noise   = { scale = 0.1 }
  seed    = sweep.seed
}

model "student" {
  kind       = "mlp"
  widths     = [3, 6, 1]
  activation = "tanh"
}

erm "fit" {
  dataset = dataset.teacher
  model   = model.student
  steps   = 300
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = 1e-4
  batch_size = 64
  warmup     = 100
  steps      = var.sgld_steps
  eval_every = 5
  chains     = 2
}
