# The LLC along training: train an MLP on a synthetic classification task,
# save its state at ten checkpoints, and estimate the LLC at each with SGLD
# and HMC. Run it with
#
#   llcflow apply examples/training-curve.hcl
#   llcflow results examples/training-curve.hcl
#
# Each results row has the checkpoint as the axis column step; its family
# is the checkpoint erm, whose result.json holds the training loss and
# accuracy at that step, and erm.train's curve.csv holds the whole curve.
#
# The training erm runs once. Each erm.at[step=k] replays training from the
# saved state at or before step k, so adding a step to the sweep (say 300)
# adds its nodes and reruns nothing else; changing a training setting of
# erm.train reruns everything.

variable "n_data" {
  type        = number
  default     = 1000
  description = "Number of training points."
}

variable "steps" {
  type        = number
  default     = 2000
  description = "Full-batch training steps."
}

sweep {
  step = range(200, var.steps + 1, 200)
}

# Three classes drawn from a random teacher's softmax, sharpened by
# logit_scale, so most but not all labels are the teacher's likeliest class.
dataset "classes" {
  kind        = "teacher_classification"
  n           = var.n_data
  in_dim      = 4
  teacher     = { widths = [4, 8, 3], activation = "tanh" }
  labels      = "sample"
  logit_scale = 3
  seed        = 0
}

# A student wider than the teacher: 131 parameters.
model "student" {
  kind       = "mlp"
  widths     = [4, 16, 3]
  activation = "tanh"
}

erm "train" {
  dataset         = dataset.classes
  model           = model.student
  loss            = "cross_entropy"
  optimizer       = { kind = "adam", lr = 0.01 }
  steps           = var.steps
  log_every       = 20
  num_checkpoints = 10 # steps 200, 400, …, 2000
}

erm "at" {
  from       = erm.train
  checkpoint = sweep.step
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.at
  step_size  = 1e-4 # minibatch noise keeps the MALA acceptance near 0.55 at any
  batch_size = 256  # step size; full batches reach 0.9 at twice the time
  warmup     = 1000
  steps      = 20000 # 1000 draws per chain: bulk ESS 540 to 780 per node
  eval_every = 20
  chains     = 4
  gamma      = 100
  beta0      = 1.0
}

sampler "hmc" {
  kind           = "hmc"
  erm            = erm.at
  leapfrog_steps = 10
  warmup         = 500
  draws          = 1000 # bulk ESS 390 to 1940 per node
  chains         = 4
  gamma          = 100
  beta0          = 1.0
}
