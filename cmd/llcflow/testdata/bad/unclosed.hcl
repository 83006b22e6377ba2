sweep {
  seed = [0, 1]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
  seed    = sweep.seed
