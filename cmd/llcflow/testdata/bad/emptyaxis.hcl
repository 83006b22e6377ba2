sweep {
  seed = []
}
