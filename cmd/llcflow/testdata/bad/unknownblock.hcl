sweep {
  seed = [0, 1]
}

widget "w" {
  kind = "x"
}
