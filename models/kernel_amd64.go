//go:build amd64 && !purego

package models

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// useSIMD selects the AVX-512 and AVX2 kernels of kernel_amd64.s. They give
// the same bits as the portable code, so the choice changes speed only.
// Tests switch it off to compare the two paths.
var useSIMD = cpu.X86.HasAVX512F && cpu.X86.HasAVX2

// panelWidth is the number of Y rows packed side by side into one panel,
// two AVX-512 registers of float64.
const panelWidth = 16

// kernRows computes groups × 4 rows of 16-column tiles, with element
// (i, p) of X at x[i·xrow + p·xcol] and row p of the panel at
// panel[p·ldp:]. kernPair does the same for two rows.
//
//go:noescape
func kernRows(x *float64, xrow, xcol int, panel *float64, ldp, k int, c *float64, ldc, mask, accumulate, groups int)

//go:noescape
func kernPair(x *float64, xrow, xcol int, panel *float64, ldp, k int, c *float64, ldc, mask, accumulate int)

// dotColumns adds to c[j], for j < n, the dot product of the strided
// vector s with column j of y, in dotGo's order.
//
//go:noescape
func dotColumns(s *float64, lds int, y *float64, ldy, k int, c *float64, n int)

// addRows adds the rows of the rows × n matrix dz to db, in row order.
//
//go:noescape
func addRows(db, dz *float64, rows, n int)

//go:noescape
func dot4(x *float64, xstride int, y *float64, ystride int, k int, out *[4]float64)

//go:noescape
func dot1(x, y *float64, k int) float64

// biasRelu is addBiasRelu on a rows × n block; b is nil without a bias.
//
//go:noescape
func biasRelu(z, b, a *float64, rows, n int)

// reluMask8 is reluMask on n elements.
//
//go:noescape
func reluMask8(grad, z *float64, n int)

// addBiasRelu adds b to every row of z (nothing when b is nil) and writes
// a = max(z, 0), with the bits of addBiasReluGo.
func addBiasRelu(z, b, a []float64) {
	if !useSIMD || len(z) == 0 {
		addBiasReluGo(z, b, a)
		return
	}
	a = a[:len(z)]
	if b == nil {
		biasRelu(&z[0], nil, &a[0], 1, len(z))
		return
	}
	if rows := len(z) / len(b); rows > 0 {
		biasRelu(&z[0], &b[0], &a[0], rows, len(b))
	}
}

// reluMask sets g_i to 0 where z_i ≤ 0, as relu's backprop does, with the
// bits of reluMaskGo.
func reluMask(g, z []float64) {
	if !useSIMD || len(z) == 0 {
		reluMaskGo(g, z)
		return
	}
	g = g[:len(z)]
	reluMask8(&g[0], &z[0], len(z))
}

// panels contains the packed Y panels, one buffer per concurrent gemmNT call.
var panels = sync.Pool{New: func() any { return new([]float64) }}

// gemmNT computes C = X·Yᵀ, or C += X·Yᵀ when accumulate is set, where X is
// m × k, Y is n × k and C is m × n, all row-major and contiguous, with the
// sums of gemmNTGo.
func gemmNT(m, n, k int, x, y, c []float64, accumulate bool) {
	if !useSIMD || k == 0 || m == 0 || n == 0 {
		gemmNTGo(m, n, k, x, y, c, accumulate)
		return
	}
	x, y, c = x[:m*k], y[:n*k], c[:m*n]
	acc := 0
	if accumulate {
		acc = 1
	}

	m2, n4 := m&^1, n&^3
	if m2 > 0 && n4 > 0 {
		gemmTiles(m2, n4, n, k, x, y, c, acc)
	}
	// The elements outside the tiles are dot products (dotGo's order):
	// columns n4..n−1 of rows 0..m2−1, then all of row m2 when m is odd.
	var out [4]float64
	for j := n4; j < n; j++ {
		i := 0
		for ; i+4 <= m2; i += 4 {
			dot4(&x[i*k], k, &y[j*k], 0, k, &out)
			for r, v := range out {
				store(c, (i+r)*n+j, v, accumulate)
			}
		}
		for ; i < m2; i++ {
			store(c, i*n+j, dot1(&x[i*k], &y[j*k], k), accumulate)
		}
	}
	if m2 < m {
		xi, ci := x[m2*k:], c[m2*n:]
		j := 0
		for ; j+4 <= n; j += 4 {
			dot4(&xi[0], 0, &y[j*k], k, k, &out)
			for r, v := range out {
				store(ci, j+r, v, accumulate)
			}
		}
		for ; j < n; j++ {
			store(ci, j, dot1(&xi[0], &y[j*k], k), accumulate)
		}
	}
}

// gemmTiles computes the tile elements C[i][j], i < m2, j < n4, with one
// sum from p = 0 up each. It packs panelWidth rows of Y at a time as
// panel[p·panelWidth + jj] = Y[j0+jj][p], so that one vector load gives
// the p-th terms of 16 outputs, and runs kernRows down the rows.
func gemmTiles(m2, n4, n, k int, x, y, c []float64, acc int) {
	buf := panels.Get().(*[]float64)
	if cap(*buf) < k*panelWidth {
		*buf = make([]float64, k*panelWidth)
	}
	panel := (*buf)[:k*panelWidth]

	for j0 := 0; j0 < n4; j0 += panelWidth {
		w := min(panelWidth, n4-j0)
		for jj := 0; jj < w; jj++ {
			row := y[(j0+jj)*k : (j0+jj+1)*k]
			for p, v := range row {
				panel[p*panelWidth+jj] = v
			}
		}
		mask := 1<<w - 1
		groups := m2 / 4
		if groups > 0 {
			kernRows(&x[0], k, 1, &panel[0], panelWidth, k, &c[j0], n, mask, acc, groups)
		}
		if i := 4 * groups; i < m2 {
			kernPair(&x[i*k], k, 1, &panel[0], panelWidth, k, &c[i*n+j0], n, mask, acc)
		}
	}
	panels.Put(buf)
}

// weightGrad adds Aᵀ·B to C, where A is k × m, B is k × n and C is m × n,
// all row-major and contiguous, and adds the sum of A's rows to db unless
// db is nil. Every element gets the sum of gemmNT(m, n, k, Aᵀ, Bᵀ, C,
// true) and db that of transposeGrad, so the bits match the portable path,
// which transposes A and B into at and bt. The kernels read A and B in
// place: the tiles broadcast A's elements down its columns and use the
// rows of B as the packed panel, so nothing is transposed or packed.
func weightGrad(m, n, k int, a, b, db, c, at, bt []float64) {
	if !useSIMD || k == 0 || m == 0 || n == 0 {
		weightGradGo(m, n, k, a, b, db, c, at, bt)
		return
	}
	a, b, c = a[:k*m], b[:k*n], c[:m*n]
	if db != nil {
		addRows(&db[:m][0], &a[0], k, m)
	}

	m2, n4 := m&^1, n&^3
	if tileCost(n4, m2) < tileCost(m2, n4) && n4*m2 <= len(at) {
		weightGradTilesSwapped(m2, n4, m, n, k, a, b, c, at[:n4*m2])
	} else {
		for j0 := 0; j0 < n4; j0 += panelWidth {
			mask := 1<<min(panelWidth, n4-j0) - 1
			groups := m2 / 4
			if groups > 0 {
				kernRows(&a[0], 1, m, &b[j0], n, k, &c[j0], n, mask, 1, groups)
			}
			if i := 4 * groups; i < m2 {
				kernPair(&a[i], 1, m, &b[j0], n, k, &c[i*n+j0], n, mask, 1)
			}
		}
	}
	// The elements outside the tiles, in dotGo's order: columns n4..n−1
	// of rows 0..m2−1, then all of row m2 when m is odd.
	for j := n4; j < n; j++ {
		for i := 0; i < m2; i++ {
			c[i*n+j] += dotStrided(a[i:], m, b[j:], n, k)
		}
	}
	if m2 < m {
		dotColumns(&a[m2], m, &b[0], n, k, &c[m2*n], n)
	}
}

// tileCost returns the number of kernel passes over k that the tiles of
// a rows × cols block take: groups of four rows times panels of 16
// columns.
func tileCost(rows, cols int) int {
	return (rows + 3) / 4 * ((cols + panelWidth - 1) / panelWidth)
}

// weightGradTilesSwapped adds the tile elements (i < m2, j < n4) of Aᵀ·B
// to C by computing the n4 × m2 block of Bᵀ·A into t and adding its
// transpose. Each element is the same sum from p = 0 up, so this only
// changes which dimension fills the vector lanes: for a narrow B, such as
// the 4 inputs of a 4-16-1 MLP, the 16 lanes then run along A's rows.
func weightGradTilesSwapped(m2, n4, m, n, k int, a, b, c, t []float64) {
	for i0 := 0; i0 < m2; i0 += panelWidth {
		mask := 1<<min(panelWidth, m2-i0) - 1
		kernRows(&b[0], 1, n, &a[i0], m, k, &t[i0], m2, mask, 0, n4/4)
	}
	for j := 0; j < n4; j++ {
		tj := t[j*m2 : j*m2+m2]
		for i, v := range tj {
			c[i*n+j] += v
		}
	}
}
