package targets

import (
	"math"
	"testing"

	"github.com/llcflow/llcflow/rng"
)

func TestLinearGradientMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []Linear{
		{Widths: []int{3, 2}, Rank: 1},
		{Widths: []int{2, 3, 4}, Rank: 1},
		{Widths: []int{3, 3, 3, 3}, Rank: 2},
		{Widths: []int{2, 4, 1, 3, 2}, Rank: 0},
	} {
		if err := tc.Validate(); err != nil {
			t.Fatalf("%v: Validate: %v", tc, err)
		}
		checkGradient(t, tc, 1.2)
	}
}

func TestLinearMinimumAtWStar(t *testing.T) {
	target := Linear{Widths: []int{3, 4, 2, 3}, Rank: 2}
	w := target.WStar()
	if len(w) != target.Dim() || target.Dim() != 12+8+6 {
		t.Fatalf("w* has %d values, Dim %d, want 26", len(w), target.Dim())
	}
	grad := make([]float64, len(w))
	if k := target.NewEvaluator().LossGrad(w, nil, grad); k != 0 {
		t.Errorf("K(w*) = %g, want 0", k)
	}
	for i, g := range grad {
		if g != 0 {
			t.Errorf("∂K/∂w[%d] at w* = %g, want 0", i, g)
		}
	}
}

// K(w) must equal the mean squared error per output of the product
// against E_r, computed here element by element for a random w.
func TestLinearLossIsFrobeniusError(t *testing.T) {
	target := Linear{Widths: []int{2, 3, 2}, Rank: 1}
	r := rng.New("targets-test", "linear", 0)
	w := make([]float64, target.Dim())
	r.FillNorm(w)
	a, b := w[:6], w[6:] // A is 3 × 2, B is 2 × 3
	var want float64
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			var p float64
			for k := 0; k < 3; k++ {
				p += b[i*3+k] * a[k*2+j]
			}
			if i == j && i < 1 {
				p--
			}
			want += p * p
		}
	}
	want /= 2
	if got := target.NewEvaluator().Loss(w); math.Abs(got-want) > 1e-12*want {
		t.Errorf("K = %.15g, want %.15g", got, want)
	}
}

func TestLinearLambda(t *testing.T) {
	cases := []struct {
		widths []int
		rank   int
		lambda float64
		mult   int
	}{
		{[]int{2, 2, 2}, 1, 2.0, 2},
		{[]int{10, 5, 10}, 3, 32, 1},
		{[]int{3, 3, 3, 3}, 1, 4.0, 0},
		{[]int{4, 3}, 2, 6, 1},
	}
	for _, tc := range cases {
		lambda, mult := Linear{Widths: tc.widths, Rank: tc.rank}.Lambda()
		if lambda != tc.lambda || mult != tc.mult {
			t.Errorf("%v r=%d: λ, m = %g, %d, want %g, %d", tc.widths, tc.rank, lambda, mult,
				tc.lambda, tc.mult)
		}
	}
}

func TestLinearValidateRejects(t *testing.T) {
	for _, tc := range []Linear{
		{Widths: []int{3}, Rank: 0},
		{Widths: []int{3, 0, 2}, Rank: 0},
		{Widths: []int{3, 2, 3}, Rank: 3},
		{Widths: []int{3, 2, 3}, Rank: -1},
	} {
		if err := tc.Validate(); err == nil {
			t.Errorf("Validate accepted %+v", tc)
		}
	}
}
