sweep {
  seed = [0, 1]
}

sweep {
  width = [4, 8]
}
