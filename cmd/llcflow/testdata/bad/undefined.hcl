sampler "sgld" {
  kind = "sgld"
  erm  = erm.missing
}
