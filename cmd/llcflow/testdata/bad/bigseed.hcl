# Two seeds that a 64-bit float cannot tell apart.
sweep {
  seed = [9007199254740992, 9007199254740993]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
  seed    = sweep.seed
}
