dataset "d" {
  kind    = "teacher_student"
  in_dim  = 2
  teacher = { widths = [2, 1] }
}

model "m" {
  kind   = "mlp"
  widths = [2, 1]
}

erm "fit" {
  dataset = dataset.d
  model   = model.m
}

sampler "sgld" {
  kind      = "sgld"
  erm       = erm.fit
  step_size = "fast"
}
