sweep {
  seed = [1, 2]
}

dataset "d" {
  kind = "gauss"
  n    = local.n
  seed = sweep.seed
}
