variable "n" {
  type    = number
  default = "many"
}

datset "typo" {
}

dataset "a" {
  kind = "gaus"
}

dataset "a" {
  kind = "gauss"
  n    = 1
}

sampler "s" {
  kind      = "hmc"
  target    = target.missing
  draws     = sampler.s
}
