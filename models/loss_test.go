package models

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/rng"
)

// referenceObjective is an independent per-row implementation of the
// losses, on referenceForward and the math package.
func referenceObjective(m *MLP, loss Loss, w, x, y []float64, n int, rows []int) float64 {
	in, out := m.Widths[0], m.Widths[len(m.Widths)-1]
	cols := out
	if loss.Kind == "cross_entropy" {
		cols = 1
	}
	if rows == nil {
		rows = identityPerm(n)
	}
	total := 0.0
	for _, i := range rows {
		f, _ := referenceForward(m, w, x[i*in:i*in+in])
		t := y[i*cols : i*cols+cols]
		switch loss.Kind {
		case "mse":
			for j := range f {
				total += (f[j] - t[j]) * (f[j] - t[j])
			}
		case "student_t":
			for j := range f {
				e := f[j] - t[j]
				total += (loss.DF + 1) / 2 * math.Log(1+e*e/(loss.DF*loss.Scale*loss.Scale))
			}
		case "logistic":
			for j := range f {
				p := 1 / (1 + math.Exp(-f[j]))
				total -= t[j]*math.Log(p) + (1-t[j])*math.Log(1-p)
			}
		case "cross_entropy":
			z := 0.0
			for _, v := range f {
				z += math.Exp(v)
			}
			total += math.Log(z) - f[int(t[0])]
		}
	}
	if loss.Kind == "cross_entropy" {
		return total / float64(len(rows))
	}
	return total / float64(len(rows)*out)
}

// newTestSupervised builds a potential with standard normal x and targets
// that suit the loss: normal values, 0/1 labels or class labels.
func newTestSupervised(t *testing.T, widths []int, activation string, loss Loss, n int, key string) (*Supervised, []float64) {
	t.Helper()
	m, err := NewMLP(widths, activation, true)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New(key, "data", 0)
	out := widths[len(widths)-1]
	x := make([]float64, n*widths[0])
	r.FillNorm(x)
	var y []float64
	switch loss.Kind {
	case "cross_entropy":
		y = make([]float64, n)
		for i := range y {
			y[i] = float64(r.IntN(out))
		}
	case "logistic":
		y = make([]float64, n*out)
		for i := range y {
			y[i] = float64(r.IntN(2))
		}
	default:
		y = make([]float64, n*out)
		r.FillNorm(y)
	}
	p, err := NewSupervised(m, x, y, n, loss)
	if err != nil {
		t.Fatal(err)
	}
	return p, randomParams(m, rng.New(key, "params", 0))
}

var testLosses = []Loss{
	{Kind: "student_t", DF: 3, Scale: 0.7},
	{Kind: "logistic"},
	{Kind: "cross_entropy"},
}

// TestLossesMatchFiniteDifferences compares every gradient coordinate of
// each loss with the central difference of the reference objective, with
// the tolerance argued at TestLossGradMatchesFiniteDifferences, and the
// loss itself with the reference within 1e-12 relative.
func TestLossesMatchFiniteDifferences(t *testing.T) {
	shapes := [][]int{{3, 5, 2}, {4, 6, 3}, {2, 3, 4, 1}, {5, 4}}
	for _, loss := range testLosses {
		for _, act := range []string{"tanh", "gelu"} {
			for _, widths := range shapes {
				if loss.Kind == "cross_entropy" && widths[len(widths)-1] < 2 {
					continue
				}
				name := fmt.Sprintf("%s/%s/%v", loss.Kind, act, widths)
				t.Run(name, func(t *testing.T) {
					const n = 150
					p, w := newTestSupervised(t, widths, act, loss, n, name)
					ev := p.NewEvaluator()
					batch := make([]int, 70)
					rng.New(name, "batch", 0).Sample(identityPerm(n), len(batch), batch)
					for _, rows := range [][]int{nil, batch} {
						checkObjectiveGradient(t, p, ev.LossGrad, w, rows)
					}
				})
			}
		}
	}
}

func checkObjectiveGradient(t *testing.T, p *Supervised, lossGrad func([]float64, []int, []float64) float64, w []float64, rows []int) {
	t.Helper()
	grad := make([]float64, len(w))
	loss := lossGrad(w, rows, grad)
	want := referenceObjective(p.mlp, p.loss, w, p.x, p.y, p.n, rows)
	if math.Abs(loss-want) > 1e-12*math.Abs(want) {
		t.Errorf("loss (batch of %d) = %v, reference %v", len(rows), loss, want)
	}
	const h = 1e-6
	wp := append([]float64(nil), w...)
	for i := range w {
		wp[i] = w[i] + h
		plus := referenceObjective(p.mlp, p.loss, wp, p.x, p.y, p.n, rows)
		wp[i] = w[i] - h
		minus := referenceObjective(p.mlp, p.loss, wp, p.x, p.y, p.n, rows)
		wp[i] = w[i]
		fd := (plus - minus) / (2 * h)
		if math.Abs(grad[i]-fd) > 1e-6*(1+math.Abs(fd)) {
			t.Errorf("grad[%d] (batch of %d) = %.10g, finite difference %.10g", i, len(rows), grad[i], fd)
		}
	}
}

// TestLossesStableForLargeLogits checks that logits of ±800, where exp
// overflows, give finite losses and gradients with the limiting values.
func TestLossesStableForLargeLogits(t *testing.T) {
	m, err := NewMLP([]int{1, 2}, "identity", true)
	if err != nil {
		t.Fatal(err)
	}
	// f = (800·x, −800·x) at x = 1: weights [800, −800], biases 0.
	w := []float64{800, -800, 0, 0}
	x := []float64{1}
	ce, err := NewSupervised(m, x, []float64{1}, 1, Loss{Kind: "cross_entropy"})
	if err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, 4)
	if got := ce.NewEvaluator().LossGrad(w, nil, grad); got != 1600 {
		t.Errorf("cross_entropy loss = %v, want 1600 (the label's logit is 1600 below the other)", got)
	}
	if grad[0] != 1 || grad[1] != -1 {
		t.Errorf("cross_entropy weight gradient = %v, want [1 −1]", grad[:2])
	}
	logit, err := NewSupervised(m, x, []float64{0, 0}, 1, Loss{Kind: "logistic"})
	if err != nil {
		t.Fatal(err)
	}
	if got := logit.NewEvaluator().LossGrad(w, nil, grad); got != 400 {
		t.Errorf("logistic loss = %v, want 400 (softplus(800)/2)", got)
	}
	if grad[0] != 0.5 || grad[1] != 0 {
		t.Errorf("logistic weight gradient = %v, want [0.5 0]", grad[:2])
	}
}

func TestAccuracy(t *testing.T) {
	m, err := NewMLP([]int{1, 3}, "identity", false)
	if err != nil {
		t.Fatal(err)
	}
	// f = (x, 2x, −x): class 1 wins for x > 0, class 2 for x < 0.
	w := []float64{1, 2, -1}
	x := []float64{1, -1, 2, -3, 0.5}
	y := []float64{1, 2, 0, 2, 1}
	p, err := NewSupervised(m, x, y, 5, Loss{Kind: "cross_entropy"})
	if err != nil {
		t.Fatal(err)
	}
	if acc, ok := p.Accuracy(w); !ok || acc != 0.8 {
		t.Errorf("cross_entropy accuracy = %v, %v, want 0.8, true", acc, ok)
	}

	m1, err := NewMLP([]int{1, 1}, "identity", false)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := NewSupervised(m1, []float64{1, -1, 2, -2}, []float64{1, 0, 0, 0}, 4, Loss{Kind: "logistic"})
	if err != nil {
		t.Fatal(err)
	}
	if acc, ok := p1.Accuracy([]float64{1}); !ok || acc != 0.75 {
		t.Errorf("logistic accuracy = %v, %v, want 0.75, true", acc, ok)
	}
	reg, err := NewSupervised(m1, []float64{1}, []float64{1}, 1, Loss{Kind: "mse"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Accuracy([]float64{1}); ok {
		t.Error("mse accuracy reported, want none for a regression loss")
	}
}

func TestNewSupervisedRejectsBadLabels(t *testing.T) {
	m3, err := NewMLP([]int{1, 3}, "identity", true)
	if err != nil {
		t.Fatal(err)
	}
	m1, err := NewMLP([]int{1, 1}, "identity", true)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		m    *MLP
		y    []float64
		loss Loss
		want string
	}{
		{"label too large", m3, []float64{0, 3}, Loss{Kind: "cross_entropy"}, "y[1] = 3 is invalid for 3 classes"},
		{"fractional label", m3, []float64{0.5, 1}, Loss{Kind: "cross_entropy"}, "y[0] = 0.5"},
		{"one output", m1, []float64{0, 0}, Loss{Kind: "cross_entropy"}, "at least 2 outputs"},
		{"logistic label 2", m1, []float64{0, 2}, Loss{Kind: "logistic"}, "y[1] (row 1) = 2"},
		{"student df", m1, []float64{0, 0}, Loss{Kind: "student_t", DF: 0, Scale: 1}, "degrees of freedom 0"},
		{"student scale", m1, []float64{0, 0}, Loss{Kind: "student_t", DF: 1, Scale: -1}, "scale -1"},
		{"unknown", m1, []float64{0, 0}, Loss{Kind: "huber"}, `"huber" is not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSupervised(tc.m, []float64{1, 2}, tc.y, 2, tc.loss)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLossesAllocateNothing(t *testing.T) {
	for _, loss := range testLosses {
		p, w := newTestSupervised(t, []int{4, 8, 3}, "tanh", loss, 200, "allocs-"+loss.Kind)
		ev := p.NewEvaluator()
		grad := make([]float64, len(w))
		if allocs := testing.AllocsPerRun(10, func() { ev.LossGrad(w, nil, grad) }); allocs != 0 {
			t.Errorf("%s: %v allocations per LossGrad, want 0", loss.Kind, allocs)
		}
		if a, b := ev.Loss(w), ev.LossGrad(w, nil, grad); math.Float64bits(a) != math.Float64bits(b) {
			t.Errorf("%s: Loss = %v, LossGrad loss = %v, want the same bits", loss.Kind, a, b)
		}
	}
}
