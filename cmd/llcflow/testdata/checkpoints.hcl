# A small checkpoint sweep: training runs once, and each erm.at[step=k]
# replays it to step k. The axis is named step, not checkpoint, as in
# examples/training-curve.hcl.

sweep {
  step = [20, 60]
}

dataset "classes" {
  kind        = "teacher_classification"
  n           = 100
  in_dim      = 2
  teacher     = { widths = [2, 3, 3], activation = "tanh" }
  labels      = "sample"
  logit_scale = 3
  seed        = 0
}

model "student" {
  kind       = "mlp"
  widths     = [2, 4, 3]
  activation = "tanh"
}

erm "train" {
  dataset         = dataset.classes
  model           = model.student
  loss            = "cross_entropy"
  optimizer       = { kind = "adam", lr = 0.01 }
  steps           = 60
  log_every       = 10
  num_checkpoints = 3
}

erm "at" {
  from       = erm.train
  checkpoint = sweep.step
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.at
  step_size  = 1e-4
  warmup     = 20
  steps      = 200
  eval_every = 10
  chains     = 2
  gamma      = 100
  beta0      = 1.0
}

sampler "hmc" {
  kind           = "hmc"
  erm            = erm.at
  leapfrog_steps = 5
  warmup         = 20
  draws          = 40
  chains         = 2
  gamma          = 100
  beta0          = 1.0
}
