locals {
  n = 64
}
