# A block name that reads like a path is rejected before anything runs.
dataset "../../etc" {
  kind    = "teacher_student"
  n       = 100
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
}
