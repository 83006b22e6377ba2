# The 3/6/6 expansion: the dataset depends on seed, the model on width,
# erm on both through its references, and the sampler through erm.

variable "n_data" {
  type        = number
  default     = 1000
  description = "number of samples"
}

sweep {
  seed  = [0, 1, 2]
  width = [8, 16]
}

locals {
  in_dim = 4
}

dataset "teacher" {
  kind  = "gauss"
  n     = var.n_data
  seed  = sweep.seed
  noise = { kind = "gauss", scale = 0.1 }
}

model "student" {
  kind   = "mlp"
  widths = [local.in_dim, sweep.width, 1]
}

erm "fit" {
  dataset = dataset.teacher
  model   = model.student
  steps   = 2000
}

sampler "sgld" {
  kind      = "sgld"
  erm       = erm.fit
  step_size = 1e-4
}

preset "quick" {
  n_data = 500
}
