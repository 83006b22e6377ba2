package datasets

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/llcflow/llcflow/rng"
)

func linearConfig(n int, widths []int, rank int) LinearTeacher {
	return LinearTeacher{
		N: n, Widths: widths, Rank: rank, Init: "xavier",
		Inputs: Inputs{Dist: "gauss_iso"}, Noise: Noise{Kind: "gauss", Scale: 0},
	}
}

// product returns W_L ⋯ W_1 of a bias-free linear teacher.
func product(widths []int, w []float64) *mat.Dense {
	offset := 0
	var p *mat.Dense
	for l := 1; l < len(widths); l++ {
		in, out := widths[l-1], widths[l]
		layer := mat.NewDense(out, in, append([]float64(nil), w[offset:offset+in*out]...))
		offset += in * out
		if p == nil {
			p = layer
			continue
		}
		var next mat.Dense
		next.Mul(layer, p)
		p = &next
	}
	return p
}

// numericalRank counts the singular values above 1e-10 times the largest.
func numericalRank(t *testing.T, m *mat.Dense) int {
	t.Helper()
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDNone) {
		t.Fatal("SVD did not converge")
	}
	values := svd.Values(nil)
	if len(values) == 0 || values[0] == 0 {
		return 0
	}
	rank := 0
	for _, s := range values {
		if s > 1e-10*values[0] {
			rank++
		}
	}
	return rank
}

func TestLinearTeacherProductRank(t *testing.T) {
	cases := []struct {
		widths []int
		rank   int
	}{
		{[]int{2, 2, 2}, 0}, {[]int{2, 2, 2}, 1}, {[]int{2, 2, 2}, 2},
		{[]int{5, 3, 5}, 2}, {[]int{10, 5, 10}, 3}, {[]int{8, 3, 4}, 3},
		{[]int{3, 3, 3, 3}, 1}, {[]int{10, 10, 10, 10, 10}, 2}, {[]int{4, 6}, 3},
	}
	for _, tc := range cases {
		c := linearConfig(10, tc.widths, tc.rank)
		_, _, w, err := c.Generate(rng.New("rank", "dataset", 0))
		if err != nil {
			t.Fatalf("widths %v rank %d: %v", tc.widths, tc.rank, err)
		}
		d := 0
		for l := 1; l < len(tc.widths); l++ {
			d += tc.widths[l-1] * tc.widths[l]
		}
		if len(w) != d {
			t.Errorf("widths %v: %d teacher parameters, want %d", tc.widths, len(w), d)
			continue
		}
		if got := numericalRank(t, product(tc.widths, w)); got != tc.rank {
			t.Errorf("widths %v: product rank = %d, want %d", tc.widths, got, tc.rank)
		}
	}
}

// TestLinearTeacherTargetsAreProduct checks y = P·x row by row for the
// noise-free teacher, with P the product of its matrices.
func TestLinearTeacherTargetsAreProduct(t *testing.T) {
	widths := []int{5, 3, 4}
	c := linearConfig(70, widths, 2)
	x, y, w, err := c.Generate(rng.New("targets", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 70*5 || len(y) != 70*4 {
		t.Fatalf("len(x), len(y) = %d, %d, want 350, 280", len(x), len(y))
	}
	p := product(widths, w)
	for i := 0; i < c.N; i++ {
		for j := 0; j < 4; j++ {
			want := 0.0
			for k := 0; k < 5; k++ {
				want += p.At(j, k) * x[i*5+k]
			}
			if math.Abs(y[i*4+j]-want) > 1e-12*(1+math.Abs(want)) {
				t.Fatalf("y[%d][%d] = %v, P·x = %v", i, j, y[i*4+j], want)
			}
		}
	}
}

func TestLinearTeacherRankZeroIsZero(t *testing.T) {
	c := linearConfig(20, []int{3, 2, 3}, 0)
	_, y, w, err := c.Generate(rng.New("zero", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range w[:6] {
		if v != 0 {
			t.Errorf("W_1[%d] = %v, want 0 for rank 0", i, v)
		}
	}
	for i, v := range y {
		if v != 0 {
			t.Fatalf("y[%d] = %v, want 0 from a rank-0 teacher without noise", i, v)
		}
	}
}

// TestLinearTeacherNoiseMoments checks the residual y − P·x against
// N(0, σ²) within 4 standard errors: σ/√m for the mean and σ²·√(2/(m−1))
// for the variance of m normal draws.
func TestLinearTeacherNoiseMoments(t *testing.T) {
	widths := []int{3, 2, 3}
	c := linearConfig(5000, widths, 1)
	c.Noise.Scale = 0.5
	x, y, w, err := c.Generate(rng.New("noise", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	p := product(widths, w)
	var residual []float64
	for i := 0; i < c.N; i++ {
		for j := 0; j < 3; j++ {
			f := 0.0
			for k := 0; k < 3; k++ {
				f += p.At(j, k) * x[i*3+k]
			}
			residual = append(residual, y[i*3+j]-f)
		}
	}
	mean, variance := meanVar(residual)
	m := float64(len(residual))
	if se := 0.5 / math.Sqrt(m); math.Abs(mean) > 4*se {
		t.Errorf("noise mean = %.4g, want 0 within %.4g", mean, 4*se)
	}
	if se := 0.25 * math.Sqrt(2/(m-1)); math.Abs(variance-0.25) > 4*se {
		t.Errorf("noise variance = %.4g, want 0.25 within %.4g", variance, 4*se)
	}
}

func TestLinearTeacherIsDeterministic(t *testing.T) {
	c := linearConfig(30, []int{4, 3, 2}, 2)
	_, y1, w1, err := c.Generate(rng.New("det", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	_, y2, w2, err := c.Generate(rng.New("det", "dataset", 0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range w1 {
		if math.Float64bits(w1[i]) != math.Float64bits(w2[i]) {
			t.Fatalf("teacher[%d] = %v then %v from the same stream", i, w1[i], w2[i])
		}
	}
	for i := range y1 {
		if math.Float64bits(y1[i]) != math.Float64bits(y2[i]) {
			t.Fatalf("y[%d] = %v then %v from the same stream", i, y1[i], y2[i])
		}
	}
}

func TestLinearTeacherRejectsInvalidConfig(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*LinearTeacher)
		want   string
	}{
		{"rank above min width", func(c *LinearTeacher) { c.Rank = 3 }, "rank 3 is invalid"},
		{"negative rank", func(c *LinearTeacher) { c.Rank = -1 }, "rank -1 is invalid"},
		{"one width", func(c *LinearTeacher) { c.Widths = []int{3} }, "at least an input and an output width"},
		{"init", func(c *LinearTeacher) { c.Init = "orthogonal" }, `"orthogonal"`},
		{"n", func(c *LinearTeacher) { c.N = 0 }, "n = 0"},
		{"noise", func(c *LinearTeacher) { c.Noise.Scale = math.NaN() }, "noise scale NaN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := linearConfig(10, []int{3, 2, 3}, 1)
			tc.modify(&c)
			_, _, _, err := c.Generate(rng.New("invalid", "dataset", 0))
			if err == nil {
				t.Fatalf("Generate succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
