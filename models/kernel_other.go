//go:build !amd64 || purego

package models

// useSIMD is false where no assembly kernel exists.
var useSIMD = false

// gemmNT computes C = X·Yᵀ, or C += X·Yᵀ when accumulate is set, where X is
// m × k, Y is n × k and C is m × n, all row-major and contiguous. Without
// assembly kernels it is gemmNTGo.
func gemmNT(m, n, k int, x, y, c []float64, accumulate bool) {
	gemmNTGo(m, n, k, x, y, c, accumulate)
}
