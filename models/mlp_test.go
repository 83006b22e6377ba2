package models

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/rng"
)

func TestNewMLPValidates(t *testing.T) {
	cases := []struct {
		name       string
		widths     []int
		activation string
		want       string
	}{
		{"one width", []int{3}, "relu", "at least an input and an output"},
		{"zero width", []int{3, 0, 1}, "relu", "width 1 is 0"},
		{"unknown activation", []int{3, 1}, "sigmoid", `activation "sigmoid"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewMLP(c.widths, c.activation, true)
			if err == nil {
				t.Fatalf("NewMLP(%v, %q) succeeded, want an error", c.widths, c.activation)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestNewMLPCopiesWidths(t *testing.T) {
	widths := []int{2, 3, 1}
	m, err := NewMLP(widths, "tanh", true)
	if err != nil {
		t.Fatal(err)
	}
	widths[1] = 99
	if m.Widths[1] != 3 {
		t.Errorf("Widths[1] = %d after the caller changed its slice, want 3", m.Widths[1])
	}
}

func TestParamsLayout(t *testing.T) {
	m, err := NewMLP([]int{3, 4, 2}, "relu", true)
	if err != nil {
		t.Fatal(err)
	}
	want := []ParamInfo{
		{"layers.0.weight", 0, []int{4, 3}},
		{"layers.0.bias", 12, []int{4}},
		{"layers.1.weight", 16, []int{2, 4}},
		{"layers.1.bias", 24, []int{2}},
	}
	if got := m.Params(); !reflect.DeepEqual(got, want) {
		t.Errorf("Params() = %v, want %v", got, want)
	}
	if got := m.NumParams(); got != 26 {
		t.Errorf("NumParams() = %d, want 26", got)
	}

	noBias, err := NewMLP([]int{3, 4, 2}, "relu", false)
	if err != nil {
		t.Fatal(err)
	}
	wantNoBias := []ParamInfo{
		{"layers.0.weight", 0, []int{4, 3}},
		{"layers.1.weight", 12, []int{2, 4}},
	}
	if got := noBias.Params(); !reflect.DeepEqual(got, wantNoBias) {
		t.Errorf("Params() without bias = %v, want %v", got, wantNoBias)
	}
	if got := noBias.NumParams(); got != 20 {
		t.Errorf("NumParams() without bias = %d, want 20", got)
	}
}

// TestInitMoments checks the sample mean and variance of a large layer's
// weights against the scheme's variance σ², within 4 standard errors: σ/√N
// for the mean and σ²·√(2/(N−1)) for the variance of normal draws.
func TestInitMoments(t *testing.T) {
	const in, out = 300, 200
	cases := []struct {
		scheme   string
		variance float64
	}{
		{"he", 2.0 / in},
		{"xavier", 2.0 / (in + out)},
	}
	for _, c := range cases {
		t.Run(c.scheme, func(t *testing.T) {
			m, err := NewMLP([]int{in, out}, "identity", true)
			if err != nil {
				t.Fatal(err)
			}
			w := make([]float64, m.NumParams())
			for i := range w {
				w[i] = math.NaN()
			}
			if err := m.Init(w, rng.New("init-test", c.scheme, 0), c.scheme); err != nil {
				t.Fatal(err)
			}
			weights := w[:in*out]
			n := float64(len(weights))
			mean, sq := 0.0, 0.0
			for _, v := range weights {
				mean += v
			}
			mean /= n
			for _, v := range weights {
				sq += (v - mean) * (v - mean)
			}
			variance := sq / (n - 1)
			if se := math.Sqrt(c.variance / n); math.Abs(mean) > 4*se {
				t.Errorf("mean = %g, want 0 within 4·SE = %g", mean, 4*se)
			}
			if se := c.variance * math.Sqrt(2/(n-1)); math.Abs(variance-c.variance) > 4*se {
				t.Errorf("variance = %g, want %g within 4·SE = %g", variance, c.variance, 4*se)
			}
			for i, v := range w[in*out:] {
				if v != 0 {
					t.Fatalf("bias[%d] = %v, want 0", i, v)
				}
			}
		})
	}
}

func TestInitErrors(t *testing.T) {
	m, err := NewMLP([]int{2, 1}, "relu", false)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New("k", "s", 0)
	if err := m.Init(make([]float64, 2), r, "lecun"); err == nil || !strings.Contains(err.Error(), `"lecun"`) {
		t.Errorf("Init with scheme lecun: error = %v, want one naming the scheme", err)
	}
	if err := m.Init(make([]float64, 3), r, "he"); err == nil || !strings.Contains(err.Error(), "length 3, want 2") {
		t.Errorf("Init with a wrong length: error = %v, want one naming both lengths", err)
	}
}

func TestTargetParamsIsClosest(t *testing.T) {
	// count is the parameter count from NewMLP, independent of the
	// closed form inside TargetParams.
	count := func(in, out, depth, h int, bias bool) int {
		m, err := NewMLP(widthsFor(in, out, depth, h), "relu", bias)
		if err != nil {
			t.Fatal(err)
		}
		return m.NumParams()
	}
	if got := TargetParams(4, 1, 1, 97, true); got != 16 {
		t.Errorf("TargetParams(4, 1, 1, 97, true) = %d, want 16 (the [4, 16, 1] MLP has 97)", got)
	}
	if got := TargetParams(4, 1, 1, 80, false); got != 16 {
		t.Errorf("TargetParams(4, 1, 1, 80, false) = %d, want 16 (the [4, 16, 1] MLP without biases has 80)", got)
	}
	for _, bias := range []bool{true, false} {
		for _, in := range []int{1, 4, 32} {
			for _, out := range []int{1, 3} {
				for _, depth := range []int{1, 2, 4} {
					for _, target := range []int{1, 10, 97, 1000, 10_000} {
						got := TargetParams(in, out, depth, target, bias)
						best := 1
						for h := 1; h <= target; h++ {
							if abs(count(in, out, depth, h, bias)-target) < abs(count(in, out, depth, best, bias)-target) {
								best = h
							}
						}
						if got != best {
							t.Errorf("TargetParams(%d, %d, %d, %d, %v) = %d (%d params), want %d (%d params)",
								in, out, depth, target, bias, got, count(in, out, depth, got, bias), best, count(in, out, depth, best, bias))
						}
					}
				}
			}
		}
	}
}

func widthsFor(in, out, depth, h int) []int {
	widths := []int{in}
	for range depth {
		widths = append(widths, h)
	}
	return append(widths, out)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestPredictMatchesReference(t *testing.T) {
	m, err := NewMLP([]int{3, 7, 5, 2}, "gelu", true)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New("predict", "w", 0)
	w := randomParams(m, r)
	const n = 150
	x := make([]float64, n*3)
	r.FillNorm(x)
	got, err := m.Predict(w, x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		want, _ := referenceForward(m, w, x[i*3:i*3+3])
		for j := range want {
			if d := math.Abs(got[i*2+j] - want[j]); d > 1e-12*(1+math.Abs(want[j])) {
				t.Errorf("row %d output %d = %v, want %v", i, j, got[i*2+j], want[j])
			}
		}
	}
}

// TestGELUMatchesTanhForm checks z·s(2u) against the textbook form
// 0.5·z·(1 + tanh u) of the tanh approximation.
func TestGELUMatchesTanhForm(t *testing.T) {
	for _, z := range []float64{-30, -5, -1.3, -0.2, 0, 1e-8, 0.4, 2, 7, 40} {
		u := geluScale * (z + geluCubic*z*z*z)
		want := 0.5 * z * (1 + detmath.Tanh(u))
		got := z * geluSigmoid(z)
		if math.Abs(got-want) > 1e-15*(1+math.Abs(want)) {
			t.Errorf("gelu(%v) = %v, want %v", z, got, want)
		}
	}
	for _, z := range []float64{-1e200, -1e10, 1e10, 1e200} {
		if d := geluDerivative(z); math.IsNaN(d) {
			t.Errorf("gelu'(%v) is NaN, want a finite value", z)
		}
	}
}
