package models

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"testing"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/rng"
)

// referenceForward is a direct per-row implementation of the MLP, written
// independently of the blocked kernels. It returns the output and every
// hidden pre-activation.
func referenceForward(m *MLP, w, x []float64) (out, pre []float64) {
	a := append([]float64(nil), x...)
	offset := 0
	for l := 1; l < len(m.Widths); l++ {
		in, width := m.Widths[l-1], m.Widths[l]
		z := make([]float64, width)
		for o := 0; o < width; o++ {
			for i := 0; i < in; i++ {
				z[o] += w[offset+o*in+i] * a[i]
			}
		}
		offset += in * width
		if m.Bias {
			for o := range z {
				z[o] += w[offset+o]
			}
			offset += width
		}
		if l == len(m.Widths)-1 {
			return z, pre
		}
		pre = append(pre, z...)
		a = make([]float64, width)
		for o, v := range z {
			switch m.Activation {
			case "relu":
				a[o] = math.Max(v, 0)
			case "tanh":
				a[o] = detmath.Tanh(v)
			case "gelu":
				u := geluScale * (v + geluCubic*v*v*v)
				a[o] = 0.5 * v * (1 + detmath.Tanh(u))
			case "identity":
				a[o] = v
			}
		}
	}
	panic("unreachable")
}

// referenceLoss returns the mean squared error over rows (all when nil).
func referenceLoss(m *MLP, w, x, y []float64, n int, rows []int) float64 {
	in, out := m.Widths[0], m.Widths[len(m.Widths)-1]
	if rows == nil {
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
	}
	loss := 0.0
	for _, i := range rows {
		f, _ := referenceForward(m, w, x[i*in:i*in+in])
		for j := range f {
			e := f[j] - y[i*out+j]
			loss += e * e
		}
	}
	return loss / float64(len(rows)*out)
}

// randomParams returns He-initialized weights with biases drawn from
// N(0, 0.1²), so the bias paths carry nonzero values.
func randomParams(m *MLP, r *rng.Rand) []float64 {
	w := make([]float64, m.NumParams())
	if err := m.Init(w, r, "he"); err != nil {
		panic(err)
	}
	for _, p := range m.Params() {
		if len(p.Shape) == 1 {
			for i := p.Offset; i < p.Offset+p.Shape[0]; i++ {
				w[i] = 0.1 * r.Norm()
			}
		}
	}
	return w
}

// newTestRegression builds a regression with standard normal x and y.
func newTestRegression(t *testing.T, widths []int, activation string, bias bool, n int, key string) (*Supervised, []float64) {
	t.Helper()
	m, err := NewMLP(widths, activation, bias)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New(key, "data", 0)
	x := make([]float64, n*widths[0])
	y := make([]float64, n*widths[len(widths)-1])
	r.FillNorm(x)
	r.FillNorm(y)
	reg, err := NewRegression(m, x, y, n, "mse")
	if err != nil {
		t.Fatal(err)
	}
	return reg, randomParams(m, rng.New(key, "params", 0))
}

// TestLossGradMatchesFiniteDifferences compares every gradient coordinate
// with the central difference (L(w + h·e_i) − L(w − h·e_i))/(2h) of the
// reference loss. Its truncation error is O(h²) and its rounding error about
// 1e−16·L/h, both below 1e−8 here, so the tolerance 1e−6·(1 + |g|) leaves
// room for those while any wrong term in the backward pass is O(|g|). For
// relu the pre-activations must keep their signs under the perturbation, so
// the central difference stays on one linear piece.
func TestLossGradMatchesFiniteDifferences(t *testing.T) {
	shapes := [][]int{{3, 5, 2}, {4, 16, 1}, {2, 3, 4, 1}, {1, 1}, {6, 2}}
	for _, act := range []string{"relu", "tanh", "gelu", "identity"} {
		for _, bias := range []bool{true, false} {
			for _, widths := range shapes {
				name := fmt.Sprintf("%s/bias=%v/%v", act, bias, widths)
				t.Run(name, func(t *testing.T) {
					const n = 150 // three blocks of blockRows = 64
					reg, w := newTestRegression(t, widths, act, bias, n, name)
					ev := reg.NewEvaluator()
					batch := make([]int, 70)
					rng.New(name, "batch", 0).Sample(identityPerm(n), len(batch), batch)
					for _, rows := range [][]int{nil, batch} {
						checkGradient(t, reg, ev.LossGrad, w, rows, act == "relu")
					}
				})
			}
		}
	}
}

func identityPerm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func checkGradient(t *testing.T, reg *Supervised, lossGrad func([]float64, []int, []float64) float64,
	w []float64, rows []int, kinked bool) {
	t.Helper()
	m := reg.mlp
	grad := make([]float64, len(w))
	loss := lossGrad(w, rows, grad)
	want := referenceLoss(m, w, reg.x, reg.y, reg.n, rows)
	if math.Abs(loss-want) > 1e-12*want {
		t.Errorf("loss (batch of %d) = %v, reference %v", len(rows), loss, want)
	}

	h := 1e-6
	if kinked {
		h = 1e-7
	}
	wp := append([]float64(nil), w...)
	for i := range w {
		wp[i] = w[i] + h
		plus := referenceLoss(m, wp, reg.x, reg.y, reg.n, rows)
		wp[i] = w[i] - h
		minus := referenceLoss(m, wp, reg.x, reg.y, reg.n, rows)
		wp[i] = w[i]
		fd := (plus - minus) / (2 * h)
		if math.Abs(grad[i]-fd) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("grad[%d] (batch of %d) = %.10g, finite difference %.10g", i, len(rows), grad[i], fd)
		}
	}
	if kinked {
		checkSignsKept(t, reg, w, rows, h)
	}
}

// checkSignsKept fails when a perturbation of ±h moves any relu
// pre-activation across 0, which would make the central difference straddle
// a kink. A pre-activation that is exactly 0 and stays so (a unit without
// bias whose inputs are all 0) has relu' = 0 on both sides and passes.
func checkSignsKept(t *testing.T, reg *Supervised, w []float64, rows []int, h float64) {
	t.Helper()
	m := reg.mlp
	in := m.Widths[0]
	if rows == nil {
		rows = identityPerm(reg.n)
	}
	signs := func(w []float64) []bool {
		var s []bool
		for _, r := range rows {
			_, pre := referenceForward(m, w, reg.x[r*in:r*in+in])
			for _, z := range pre {
				s = append(s, z > 0)
			}
		}
		return s
	}
	base := signs(w)
	wp := append([]float64(nil), w...)
	for i := range w {
		for _, delta := range []float64{h, -h} {
			wp[i] = w[i] + delta
			for k, s := range signs(wp) {
				if s != base[k] {
					t.Fatalf("perturbing w[%d] by %g flips relu pre-activation %d: pick another seed", i, delta, k)
				}
			}
		}
		wp[i] = w[i]
	}
}

func TestLossEqualsLossGradLoss(t *testing.T) {
	reg, w := newTestRegression(t, []int{4, 16, 1}, "tanh", true, 200, "loss-bits")
	ev := reg.NewEvaluator()
	grad := make([]float64, len(w))
	withGrad := ev.LossGrad(w, nil, grad)
	if loss := ev.Loss(w); math.Float64bits(loss) != math.Float64bits(withGrad) {
		t.Errorf("Loss = %v, LossGrad loss = %v, want the same bits", loss, withGrad)
	}
	other := reg.NewEvaluator()
	grad2 := make([]float64, len(w))
	if loss := other.LossGrad(w, nil, grad2); math.Float64bits(loss) != math.Float64bits(withGrad) {
		t.Errorf("second evaluator loss = %v, want %v bit for bit", loss, withGrad)
	}
	for i := range grad {
		if math.Float64bits(grad[i]) != math.Float64bits(grad2[i]) {
			t.Fatalf("second evaluator grad[%d] = %v, want %v bit for bit", i, grad2[i], grad[i])
		}
	}
}

func TestLossGradAllocatesNothing(t *testing.T) {
	reg, w := newTestRegression(t, []int{4, 16, 8, 1}, "gelu", true, 300, "allocs")
	ev := reg.NewEvaluator()
	grad := make([]float64, len(w))
	batch := []int{5, 17, 3, 299, 0, 42, 42, 100}
	cases := map[string]func(){
		"full batch": func() { ev.LossGrad(w, nil, grad) },
		"minibatch":  func() { ev.LossGrad(w, batch, grad) },
		"loss":       func() { ev.Loss(w) },
	}
	for name, f := range cases {
		if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
	}
}

func TestNewRegressionValidates(t *testing.T) {
	m, err := NewMLP([]int{2, 1}, "identity", true)
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{1, 2, 3, 4}
	y := []float64{1, 2}
	cases := []struct {
		name string
		x, y []float64
		n    int
		loss string
	}{
		{"loss", x, y, 2, "huber"},
		{"x length", x[:3], y, 2, "mse"},
		{"y length", x, y[:1], 2, "mse"},
		{"no data", nil, nil, 0, "mse"},
		{"NaN in x", []float64{1, math.NaN(), 3, 4}, y, 2, "mse"},
		{"Inf in y", x, []float64{1, math.Inf(1)}, 2, "mse"},
	}
	for _, c := range cases {
		if _, err := NewRegression(m, c.x, c.y, c.n, c.loss); err == nil {
			t.Errorf("%s: NewRegression succeeded, want an error", c.name)
		}
	}
}

// TestLossGradPinned pins the bits of a loss and gradient for each
// activation. It fails when a change to the kernels, the block size, the
// compiler or a build flag such as GOAMD64=v3 changes any result. Its data
// come from integer formulas, not from rng, so only this package's
// arithmetic is pinned.
func TestLossGradPinned(t *testing.T) {
	want := map[string]string{
		"relu":     "c1898233636aa983d609ba5caf19772879285d6084ce36f9990150c76aca6663",
		"tanh":     "95535e73f2ab9523108989edbdc9d6e269a867510e0fcf2f734d96dd90a67576",
		"gelu":     "92081bf092bb05fa4aafc9c93a65aa51da647b89837ecb87965db65f8a50e00e",
		"identity": "c40b7918c17ae2c9a351f5bda387f24d47b59caf05e08dc516669e0dce17721d",
	}
	for _, act := range []string{"relu", "tanh", "gelu", "identity"} {
		reg, w := newPinnedRegression(t, []int{5, 9, 7, 2}, act, 150)
		grad := make([]float64, len(w))
		h := sha256.New()
		var buf [8]byte
		for _, v := range append([]float64{reg.NewEvaluator().LossGrad(w, nil, grad)}, grad...) {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			h.Write(buf[:])
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want[act] {
			t.Errorf("%s digest = %s, want %s", act, got, want[act])
		}
	}
}

// newPinnedRegression builds a regression whose data and weights are exact
// functions of their indices, with values in [−1, 1).
func newPinnedRegression(t *testing.T, widths []int, activation string, n int) (*Supervised, []float64) {
	t.Helper()
	m, err := NewMLP(widths, activation, true)
	if err != nil {
		t.Fatal(err)
	}
	fill := func(a []float64, prime int) {
		for i := range a {
			a[i] = float64((i*prime)%1000)/500 - 1
		}
	}
	x := make([]float64, n*widths[0])
	y := make([]float64, n*widths[len(widths)-1])
	w := make([]float64, m.NumParams())
	fill(x, 7919)
	fill(y, 104729)
	fill(w, 1299709)
	reg, err := NewRegression(m, x, y, n, "mse")
	if err != nil {
		t.Fatal(err)
	}
	return reg, w
}
