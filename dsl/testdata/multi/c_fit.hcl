model "m" {
  kind   = "mlp"
  widths = [2, 1]
}

erm "fit" {
  dataset = dataset.d
  model   = model.m
}
