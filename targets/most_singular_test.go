package targets

import (
	"fmt"
	"math"
	"testing"

	"github.com/llcflow/llcflow/rng"
	"gonum.org/v1/gonum/mat"
)

// genericPoint returns factors like a generic teacher's: W_1 of rank r
// (a product of H_2 × r and r × H_1 normal matrices) and the other factors
// with normal entries, so of full rank.
func genericPoint(l Linear, r *rng.Rand) []float64 {
	w := make([]float64, l.Dim())
	in, hidden := l.Widths[0], l.Widths[1]
	u := make([]float64, hidden*l.Rank)
	v := make([]float64, l.Rank*in)
	r.FillNorm(u)
	r.FillNorm(v)
	for i := 0; i < hidden; i++ {
		for j := 0; j < in; j++ {
			for k := 0; k < l.Rank; k++ {
				w[i*in+j] += u[i*l.Rank+k] * v[k*in+j]
			}
		}
	}
	r.FillNorm(w[hidden*in:])
	return w
}

// factors returns the matrices W_1, …, W_L of w.
func factors(l Linear, w []float64) []*mat.Dense {
	var out []*mat.Dense
	off := 0
	for i := 1; i < len(l.Widths); i++ {
		rows, cols := l.Widths[i], l.Widths[i-1]
		out = append(out, mat.NewDense(rows, cols, w[off:off+rows*cols]))
		off += rows * cols
	}
	return out
}

func product(fs []*mat.Dense) *mat.Dense {
	p := mat.DenseCopyOf(fs[0])
	for _, f := range fs[1:] {
		var next mat.Dense
		next.Mul(f, p)
		p = &next
	}
	return p
}

func numericalRank(m *mat.Dense) int {
	var svd mat.SVD
	svd.Factorize(m, mat.SVDNone)
	sigma := svd.Values(nil)
	rank := 0
	for _, s := range sigma {
		if s > 1e-9*sigma[0] {
			rank++
		}
	}
	return rank
}

func TestMostSingularKeepsProduct(t *testing.T) {
	cases := []Linear{
		{Widths: []int{3, 3, 3}, Rank: 1},
		{Widths: []int{5, 3, 4}, Rank: 2},
		{Widths: []int{3, 3, 3, 3}, Rank: 2},
		{Widths: []int{4, 5, 3, 6, 2}, Rank: 1},
		{Widths: []int{2, 2, 2}, Rank: 0},
	}
	for _, l := range cases {
		t.Run(fmt.Sprint(l.Widths, " r=", l.Rank), func(t *testing.T) {
			w := genericPoint(l, rng.New("most-singular", "test", 0))
			got, err := l.MostSingular(w)
			if err != nil {
				t.Fatal(err)
			}
			want, have := product(factors(l, w)), product(factors(l, got))
			var diff mat.Dense
			diff.Sub(want, have)
			if n := mat.Norm(&diff, 2); n > 1e-12*math.Max(1, mat.Norm(want, 2)) {
				t.Errorf("product changed by %g in the 2-norm", n)
			}
			for i, f := range factors(l, got) {
				if rank := numericalRank(f); rank != l.Rank {
					t.Errorf("W_%d has rank %d, want %d", i+1, rank, l.Rank)
				}
			}
		})
	}
}

// Every factor of the returned point carries the singular values
// σ_k^{1/L} of the product, so ‖W_l‖_F is the same for every l.
func TestMostSingularBalancesFactors(t *testing.T) {
	l := Linear{Widths: []int{4, 5, 3, 6}, Rank: 2}
	got, err := l.MostSingular(genericPoint(l, rng.New("most-singular", "balance", 0)))
	if err != nil {
		t.Fatal(err)
	}
	fs := factors(l, got)
	first := mat.Norm(fs[0], 2)
	for i, f := range fs[1:] {
		if n := mat.Norm(f, 2); math.Abs(n-first) > 1e-12*first {
			t.Errorf("‖W_%d‖_2 = %v, want ‖W_1‖_2 = %v", i+2, n, first)
		}
	}
}

func TestMostSingularRejectsWrongRank(t *testing.T) {
	l := Linear{Widths: []int{3, 3, 3}, Rank: 1}
	w := genericPoint(Linear{Widths: l.Widths, Rank: 2}, rng.New("most-singular", "rank", 0))
	if _, err := l.MostSingular(w); err == nil {
		t.Error("a product of rank 2 passed as rank 1")
	}
	if _, err := l.MostSingular(w[:5]); err == nil {
		t.Error("a short w passed")
	}
}

func TestRootMatchesPow(t *testing.T) {
	for _, x := range []float64{1e-8, 0.3, 1, 2, 1e6} {
		for _, n := range []int{2, 3, 4, 7} {
			got, want := root(x, n), math.Pow(x, 1/float64(n))
			if math.Abs(got-want) > 1e-15*want {
				t.Errorf("root(%g, %d) = %v, want %v", x, n, got, want)
			}
		}
	}
}
