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

// addBiasRelu adds b to every row of z (nothing when b is nil) and writes
// a = max(z, 0). Without assembly kernels it is addBiasReluGo.
func addBiasRelu(z, b, a []float64) { addBiasReluGo(z, b, a) }

// reluMask sets g_i to 0 where z_i ≤ 0. Without assembly kernels it is
// reluMaskGo.
func reluMask(g, z []float64) { reluMaskGo(g, z) }

// weightGrad adds Aᵀ·B to C and the sum of A's rows to db (unless db is
// nil). Without assembly kernels it is weightGradGo.
func weightGrad(m, n, k int, a, b, db, c, at, bt []float64) {
	weightGradGo(m, n, k, a, b, db, c, at, bt)
}
