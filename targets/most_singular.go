package targets

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// mostSingularRankTol is the relative size σ_{r+1}/σ_1 below which a
// singular value of the product counts as zero. Products of the teacher's
// float64 matrices carry rounding errors near 1e-16·σ_1.
const mostSingularRankTol = 1e-9

// MostSingular returns a point with the same product W_L ⋯ W_1 as w but
// with every factor of rank r, in the layout of Linear: a most singular
// point of the set {W_L ⋯ W_1 = T}, where LambdaRRR and LambdaDLN give the
// local learning coefficient. With T = P Σ Qᵀ the rank-r singular value
// decomposition of the product and S = Σ^{1/L},
//
//	W_1 = [S·Qᵀ; 0],   W_l = [S 0; 0 0] for 1 < l < L,   W_L = [P·S, 0],
//
// zero-padded to each shape, so every factor carries the same singular
// values. One matrix is returned as it is. It returns an error when the
// product of w does not have rank r.
func (l Linear) MostSingular(w []float64) ([]float64, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if len(w) != l.Dim() {
		return nil, fmt.Errorf("linear target: w has %d values, want %d", len(w), l.Dim())
	}
	layers := len(l.Widths) - 1
	if layers == 1 {
		return append([]float64(nil), w...), nil
	}

	in, out := l.Widths[0], l.Widths[layers]
	product := mat.NewDense(l.Widths[1], in, append([]float64(nil), w[:l.Widths[1]*in]...))
	off := l.Widths[1] * in
	for i := 2; i <= layers; i++ {
		rows, cols := l.Widths[i], l.Widths[i-1]
		factor := mat.NewDense(rows, cols, w[off:off+rows*cols])
		var next mat.Dense
		next.Mul(factor, product)
		product = &next
		off += rows * cols
	}

	var svd mat.SVD
	if !svd.Factorize(product, mat.SVDThin) {
		return nil, fmt.Errorf("linear target: the singular value decomposition of the product failed")
	}
	sigma := svd.Values(nil)
	if err := l.checkRank(sigma); err != nil {
		return nil, err
	}
	var p, q mat.Dense
	svd.UTo(&p)
	svd.VTo(&q)

	point := make([]float64, l.Dim())
	off = 0
	for i := 1; i <= layers; i++ {
		rows, cols := l.Widths[i], l.Widths[i-1]
		factor := point[off : off+rows*cols]
		for k := 0; k < l.Rank; k++ {
			s := root(sigma[k], layers)
			switch i {
			case 1:
				for j := 0; j < in; j++ {
					factor[k*cols+j] = s * q.At(j, k)
				}
			case layers:
				for j := 0; j < out; j++ {
					factor[j*cols+k] = p.At(j, k) * s
				}
			default:
				factor[k*cols+k] = s
			}
		}
		off += rows * cols
	}
	return point, nil
}

// checkRank returns an error unless exactly l.Rank of the singular values
// sigma (in decreasing order) are nonzero relative to the largest.
func (l Linear) checkRank(sigma []float64) error {
	largest := 0.0
	if len(sigma) > 0 {
		largest = sigma[0]
	}
	if l.Rank > 0 && !(sigma[l.Rank-1] > mostSingularRankTol*largest) {
		return fmt.Errorf("linear target: the product has rank below %d (σ_%d = %g): give w "+
			"whose product has rank %d", l.Rank, l.Rank, sigma[l.Rank-1], l.Rank)
	}
	if l.Rank < len(sigma) && sigma[l.Rank] > mostSingularRankTol*largest {
		return fmt.Errorf("linear target: the product has rank above %d (σ_%d = %g): give w "+
			"whose product has rank %d", l.Rank, l.Rank+1, sigma[l.Rank], l.Rank)
	}
	return nil
}

// root returns x^{1/n} for x > 0 and n ≥ 2 by Newton's iteration
// y ← ((n − 1)·y + x/y^{n−1})/n, with every operation rounded on its own,
// because math.Pow's last bits depend on the CPU. It starts at
// max(1, x) ≥ x^{1/n}, from where the iterates decrease to the root, and
// stops when they no longer decrease.
func root(x float64, n int) float64 {
	if n == 2 {
		return math.Sqrt(x)
	}
	y := math.Max(1, x)
	for {
		power := 1.0
		for range n - 1 {
			power = float64(power * y)
		}
		next := (float64(float64(n-1)*y) + x/power) / float64(n)
		if !(next < y) {
			return y
		}
		y = next
	}
}
