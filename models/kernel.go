package models

// The dense products below are written as C = X·Yᵀ over contiguous rows
// (gemmNT), so every inner loop is a dot product of two unit-stride slices.
// Each output element sums its k terms in increasing index order within
// fixed accumulators, so the result does not depend on the CPU. Products
// are wrapped in float64 conversions so the compiler cannot fuse them with
// the following addition.

// gemmNTGo is the portable gemmNT: it computes C = X·Yᵀ, or C += X·Yᵀ when
// accumulate is set, where X is m × k, Y is n × k and C is m × n, all
// row-major and contiguous. It works on 2 × 4 tiles of C, keeping eight
// accumulators in registers. This fixes the order of every sum:
//
//   - C[i][j] with i < m − m mod 2 and j < n − n mod 4 (a tile element) is
//     ((x_i0·y_j0 + x_i1·y_j1) + x_i2·y_j2) + …, one sum from p = 0 up,
//     starting at +0.
//   - Every other element is dotGo(x_i, y_j).
//
// The SIMD kernels reproduce this order exactly.
func gemmNTGo(m, n, k int, x, y, c []float64, accumulate bool) {
	i := 0
	for ; i+2 <= m; i += 2 {
		x0 := x[i*k : i*k+k]
		x1 := x[(i+1)*k : (i+1)*k+k]
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			tile2x4(x0, x1, y[j*k:(j+4)*k], k, c0[j:j+4], c1[j:j+4], accumulate)
		}
		for ; j < n; j++ {
			yj := y[j*k : j*k+k]
			store(c0, j, dotGo(x0, yj), accumulate)
			store(c1, j, dotGo(x1, yj), accumulate)
		}
	}
	for ; i < m; i++ {
		xi := x[i*k : i*k+k]
		ci := c[i*n : i*n+n]
		for j := 0; j < n; j++ {
			store(ci, j, dotGo(xi, y[j*k:j*k+k]), accumulate)
		}
	}
}

func store(c []float64, j int, v float64, accumulate bool) {
	if accumulate {
		c[j] += v
	} else {
		c[j] = v
	}
}

// tile2x4 computes the 2 × 4 tile x_r·y_jᵀ for r = 0, 1 and j = 0..3, where
// y holds the four rows of length k back to back.
func tile2x4(x0, x1, y []float64, k int, c0, c1 []float64, accumulate bool) {
	x1 = x1[:len(x0)]
	y0 := y[0:k:k]
	y1 := y[k : 2*k : 2*k]
	y2 := y[2*k : 3*k : 3*k]
	y3 := y[3*k : 4*k : 4*k]
	y0, y1, y2, y3 = y0[:len(x0)], y1[:len(x0)], y2[:len(x0)], y3[:len(x0)]

	var s00, s01, s02, s03, s10, s11, s12, s13 float64
	for p, a := range x0 {
		b := x1[p]
		s00 += float64(a * y0[p])
		s01 += float64(a * y1[p])
		s02 += float64(a * y2[p])
		s03 += float64(a * y3[p])
		s10 += float64(b * y0[p])
		s11 += float64(b * y1[p])
		s12 += float64(b * y2[p])
		s13 += float64(b * y3[p])
	}

	c0 = c0[:4]
	c1 = c1[:4]
	if accumulate {
		c0[0] += s00
		c0[1] += s01
		c0[2] += s02
		c0[3] += s03
		c1[0] += s10
		c1[1] += s11
		c1[2] += s12
		c1[3] += s13
		return
	}
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
}

// dotGo returns Σ_p x[p]·y[p] with four accumulators s0..s3 over p mod 4,
// the p past the last multiple of 4 added to s0, and the four added as
// (s0 + s1) + (s2 + s3).
func dotGo(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	p := 0
	for ; p+4 <= len(x); p += 4 {
		s0 += float64(x[p] * y[p])
		s1 += float64(x[p+1] * y[p+1])
		s2 += float64(x[p+2] * y[p+2])
		s3 += float64(x[p+3] * y[p+3])
	}
	for ; p < len(x); p++ {
		s0 += float64(x[p] * y[p])
	}
	return (s0 + s1) + (s2 + s3)
}

// dotStrided returns dotGo of the k elements x[p·xs] and y[p·ys].
func dotStrided(x []float64, xs int, y []float64, ys, k int) float64 {
	var s0, s1, s2, s3 float64
	p := 0
	for ; p+4 <= k; p += 4 {
		s0 += float64(x[p*xs] * y[p*ys])
		s1 += float64(x[(p+1)*xs] * y[(p+1)*ys])
		s2 += float64(x[(p+2)*xs] * y[(p+2)*ys])
		s3 += float64(x[(p+3)*xs] * y[(p+3)*ys])
	}
	for ; p < k; p++ {
		s0 += float64(x[p*xs] * y[p*ys])
	}
	return (s0 + s1) + (s2 + s3)
}

// transpose writes the n × m matrix aᵀ into t, for a m × n row-major.
func transpose(m, n int, a, t []float64) {
	for i := 0; i < m; i++ {
		row := a[i*n : i*n+n]
		for j, v := range row {
			t[j*m+i] = v
		}
	}
}
