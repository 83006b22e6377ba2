package models

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/rng"
)

// teacherStudent returns a regression on y = teacher(x) + σ·ξ with x and ξ
// standard normal, and the teacher's weights.
func teacherStudent(t *testing.T, teacher *MLP, n int, sigma float64, key string) (x, y, teacherW []float64) {
	t.Helper()
	r := rng.New(key, "teacher-student", 0)
	teacherW = make([]float64, teacher.NumParams())
	if err := teacher.Init(teacherW, r, "he"); err != nil {
		t.Fatal(err)
	}
	x = make([]float64, n*teacher.Widths[0])
	r.FillNorm(x)
	y, err := teacher.Predict(teacherW, x, n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range y {
		y[i] += sigma * r.Norm()
	}
	return x, y, teacherW
}

// TestTrainAdamReachesNoiseFloor fits a student of the teacher's shape. The
// teacher's own loss L_n(w0) is the realized noise floor, near σ². A
// minimizer w* satisfies L_n(w*) ≤ L_n(w0), and for a regular model
// E[L_n(w0) − L_n(w*)] = σ²·d/n with standard deviation σ²·√(2d)/n, so
// L_n(w*) must lie in [L_n(w0) − σ²(d + 4√(2d))/n, L_n(w0)]. The upper end
// gets a 1% allowance because Adam with a fixed step ends near, not at, w*.
func TestTrainAdamReachesNoiseFloor(t *testing.T) {
	const n, sigma = 500, 0.1
	teacher, err := NewMLP([]int{2, 4, 1}, "tanh", true)
	if err != nil {
		t.Fatal(err)
	}
	x, y, teacherW := teacherStudent(t, teacher, n, sigma, "adam-fit")
	reg, err := NewRegression(teacher, x, y, n, "mse")
	if err != nil {
		t.Fatal(err)
	}
	floor := reg.NewEvaluator().Loss(teacherW)

	w := make([]float64, reg.Dim())
	if err := teacher.Init(w, rng.New("adam-fit", "student", 0), "he"); err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := Train(context.Background(), reg.NewEvaluator(), w, TrainConfig{Steps: 3000, LogEvery: 100},
		TrainHooks{Progress: func(done, total int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("noise floor %.6g, final loss %.6g, gradient norm %.3g", floor, res.FinalLoss, res.GradNorm)
	d := float64(reg.Dim())
	lower := floor - sigma*sigma*(d+4*math.Sqrt(2*d))/n
	upper := floor * 1.01
	if res.FinalLoss < lower || res.FinalLoss > upper {
		t.Errorf("final loss = %.6g, want within [%.6g, %.6g] around the noise floor %.6g",
			res.FinalLoss, lower, upper, floor)
	}
	if res.Curve[0].Loss < 2*floor {
		t.Errorf("initial loss = %.4g is already near the floor %.4g: the test would not show fitting",
			res.Curve[0].Loss, floor)
	}
	if got := len(res.Curve); got != 31 {
		t.Errorf("curve has %d points, want 31 (steps 0, 100, ..., 3000)", got)
	}
	if last := res.Curve[len(res.Curve)-1]; last.Step != 3000 || last.Loss != res.FinalLoss {
		t.Errorf("last curve point = %+v, want step 3000 with the final loss %v", last, res.FinalLoss)
	}
	if calls != len(res.Curve) {
		t.Errorf("progress called %d times, want once per curve point (%d)", calls, len(res.Curve))
	}
	if res.GradNorm > 1e-2 {
		t.Errorf("gradient norm at w* = %g, want below 1e-2", res.GradNorm)
	}
}

// TestTrainSGDMatchesClosedForm trains a linear model y = βᵀx + c with SGD.
// For L(w) = ½wᵀHw − qᵀw + const, with H = (2/n)X̃ᵀX̃ and q = (2/n)X̃ᵀy,
// gradient descent gives w_t = w* + (I − ηH)^t (w_0 − w*), w* = H⁻¹q.
func TestTrainSGDMatchesClosedForm(t *testing.T) {
	const n, in, steps, lr = 200, 3, 300, 0.1
	m, err := NewMLP([]int{in, 1}, "identity", true)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New("sgd-linear", "data", 0)
	x := make([]float64, n*in)
	r.FillNorm(x)
	y := make([]float64, n)
	for i := range y {
		y[i] = 1.5*x[i*in] - 0.7*x[i*in+1] + 0.2*x[i*in+2] + 0.5 + 0.3*r.Norm()
	}
	reg, err := NewRegression(m, x, y, n, "mse")
	if err != nil {
		t.Fatal(err)
	}

	// The parameter order is (W_11, W_12, W_13, b), so X̃ appends a 1.
	const d = in + 1
	var h [d][d]float64
	var q [d]float64
	for i := 0; i < n; i++ {
		row := [d]float64{x[i*in], x[i*in+1], x[i*in+2], 1}
		for a := range d {
			q[a] += 2 * row[a] * y[i] / n
			for b := range d {
				h[a][b] += 2 * row[a] * row[b] / n
			}
		}
	}
	wStar := solve(h, q)

	w0 := []float64{0.3, -0.2, 0.1, 0}
	want := append([]float64(nil), w0...)
	for range steps {
		var next [d]float64
		for a := range d {
			g := -q[a]
			for b := range d {
				g += h[a][b] * want[b]
			}
			next[a] = want[a] - lr*g
		}
		copy(want, next[:])
	}

	w := append([]float64(nil), w0...)
	res, err := Train(context.Background(), reg.NewEvaluator(), w,
		TrainConfig{Optimizer: "sgd", LR: lr, Steps: steps}, TrainHooks{})
	if err != nil {
		t.Fatal(err)
	}
	for a := range d {
		if math.Abs(w[a]-want[a]) > 1e-12 {
			t.Errorf("w[%d] = %.15g, closed form %.15g", a, w[a], want[a])
		}
		// The contraction (1 − η·h_min)^300 is far below 1e-9 here.
		if math.Abs(w[a]-wStar[a]) > 1e-9 {
			t.Errorf("w[%d] = %.15g, least-squares solution %.15g", a, w[a], wStar[a])
		}
	}
	if res.GradNorm > 1e-8 {
		t.Errorf("gradient norm = %g, want below 1e-8 at the least-squares solution", res.GradNorm)
	}
}

// solve returns the solution of a·x = b by Gaussian elimination with
// partial pivoting.
func solve(a [4][4]float64, b [4]float64) [4]float64 {
	const n = 4
	for col := 0; col < n; col++ {
		pivot := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[pivot][col]) {
				pivot = r
			}
		}
		a[col], a[pivot] = a[pivot], a[col]
		b[col], b[pivot] = b[pivot], b[col]
		for r := col + 1; r < n; r++ {
			f := a[r][col] / a[col][col]
			for c := col; c < n; c++ {
				a[r][c] -= f * a[col][c]
			}
			b[r] -= f * b[col]
		}
	}
	var x [4]float64
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for c := r + 1; c < n; c++ {
			s -= a[r][c] * x[c]
		}
		x[r] = s / a[r][r]
	}
	return x
}

func TestTrainIsDeterministic(t *testing.T) {
	reg, w0 := newTestRegression(t, []int{3, 8, 1}, "gelu", true, 100, "train-bits")
	run := func() []float64 {
		w := append([]float64(nil), w0...)
		if _, err := Train(context.Background(), reg.NewEvaluator(), w, TrainConfig{Steps: 50}, TrainHooks{}); err != nil {
			t.Fatal(err)
		}
		return w
	}
	a, b := run(), run()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("w[%d] = %v then %v, want the same bits", i, a[i], b[i])
		}
	}
}

func TestTrainReportsDivergence(t *testing.T) {
	reg, w := newTestRegression(t, []int{3, 1}, "identity", true, 50, "diverge")
	_, err := Train(context.Background(), reg.NewEvaluator(), w,
		TrainConfig{Optimizer: "sgd", LR: 100, Steps: 2000}, TrainHooks{})
	if err == nil {
		t.Fatal("Train with lr 100 succeeded, want a divergence error")
	}
	for _, want := range []string{"at step", "smaller learning rate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to contain %q", err, want)
		}
	}
}

func TestTrainHonoursCancellation(t *testing.T) {
	reg, w := newTestRegression(t, []int{3, 4, 1}, "tanh", true, 50, "cancel")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train(ctx, reg.NewEvaluator(), w, TrainConfig{Steps: 1_000_000},
		TrainHooks{Progress: func(done, total int) {
			if done >= 100 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestTrainConfigValidates(t *testing.T) {
	reg, w := newTestRegression(t, []int{2, 1}, "identity", true, 10, "config")
	cases := []TrainConfig{
		{Optimizer: "rmsprop"},
		{LR: -1},
		{LR: math.Inf(1)},
		{Beta1: 1},
		{Beta2: 1.5},
		{Eps: -1},
		{Steps: -1},
		{LogEvery: -5},
	}
	for _, cfg := range cases {
		if _, err := Train(context.Background(), reg.NewEvaluator(), w, cfg, TrainHooks{}); err == nil {
			t.Errorf("Train(%+v) succeeded, want a validation error", cfg)
		}
	}
	got := TrainConfig{}.WithDefaults()
	want := TrainConfig{Optimizer: "adam", LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Steps: 0, LogEvery: 1}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}
