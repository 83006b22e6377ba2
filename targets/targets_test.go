package targets

import (
	"math"
	"testing"

	"github.com/llcflow/llcflow/rng"
)

// checkGradient compares LossGrad with central finite differences of Loss
// at random points, and checks that LossGrad returns Loss.
func checkGradient(t *testing.T, target Target, scale float64) {
	t.Helper()
	d := target.Dim()
	eval := target.NewEvaluator()
	r := rng.New("targets-test", "gradient", 0)
	w := make([]float64, d)
	grad := make([]float64, d)
	const h = 1e-6
	for trial := 0; trial < 20; trial++ {
		for i := range w {
			w[i] = scale * (2*r.Float64() - 1)
		}
		loss := eval.LossGrad(w, nil, grad)
		if got, want := loss, eval.Loss(w); got != want {
			t.Fatalf("LossGrad returned %g, Loss %g at w = %v", got, want, w)
		}
		for i := range w {
			saved := w[i]
			w[i] = saved + h
			up := eval.Loss(w)
			w[i] = saved - h
			down := eval.Loss(w)
			w[i] = saved
			fd := (up - down) / (2 * h)
			if math.Abs(grad[i]-fd) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("∂K/∂w[%d] at %v: got %.10g, finite difference %.10g", i, w, grad[i], fd)
			}
		}
	}
}

func TestGradientsMatchFiniteDifferences(t *testing.T) {
	cases := []struct {
		name   string
		target Target
	}{
		{"quadratic", Quadratic{H: []float64{1, 2.5, 0.1}}},
		{"radial k=1", Radial{D: 3, K: 1}},
		{"radial k=2", Radial{D: 2, K: 2}},
		{"radial k=3", Radial{D: 4, K: 3}},
		{"monomial (1,2)", Monomial{Exponents: []int{1, 2}, Lower: -1, Upper: 1}},
		{"monomial (0,3,1)", Monomial{Exponents: []int{0, 3, 1}, Lower: -1, Upper: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.target.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkGradient(t, tc.target, 1.2)
		})
	}
}

func TestMonomialGradientAtZeroCoordinate(t *testing.T) {
	eval := Monomial{Exponents: []int{1, 2}, Lower: -1, Upper: 1}.NewEvaluator()
	grad := make([]float64, 2)
	loss := eval.LossGrad([]float64{0, 0.5}, nil, grad)
	if loss != 0 {
		t.Errorf("K(0, 0.5) = %g, want 0", loss)
	}
	// ∂K/∂w1 = 2·w1·w2⁴ = 0 and ∂K/∂w2 = 4·w1²·w2³ = 0 at w1 = 0.
	if grad[0] != 0 || grad[1] != 0 {
		t.Errorf("∇K(0, 0.5) = %v, want [0 0]", grad)
	}
	eval.LossGrad([]float64{0.5, 0}, nil, grad)
	if grad[0] != 0 || grad[1] != 0 {
		t.Errorf("∇K(0.5, 0) = %v, want [0 0]", grad)
	}
}

func TestExactQuadraticTableA(t *testing.T) {
	ones := func(d int) []float64 {
		h := make([]float64, d)
		for i := range h {
			h[i] = 1
		}
		return h
	}
	cases := []struct {
		name            string
		d               int
		c, gamma, eps   float64
		want, tolerance float64
	}{
		{"d=10 gamma=0", 10, 100, 0, 0, 5, 1e-12},
		{"d=10 gamma=10", 10, 100, 10, 0, 4.5455, 5e-5},
		{"d=10 sgld", 10, 100, 10, 1e-3, 4.6740, 5e-5},
		{"d=2 sgld", 2, 100, 10, 1e-3, 0.93480, 5e-6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got float64
			if tc.eps == 0 {
				got = ExactQuadratic(ones(tc.d), tc.c, tc.gamma)
			} else {
				got = ExactSGLDQuadratic(ones(tc.d), tc.c, tc.gamma, tc.eps)
			}
			if math.Abs(got-tc.want) > tc.tolerance {
				t.Errorf("got %.6f, want %.6f ± %g", got, tc.want, tc.tolerance)
			}
		})
	}
}

func TestExactSGLDQuadraticUnstable(t *testing.T) {
	// ε·a = 0.05·100 = 5 ≥ 4, so the chain diverges.
	if got := ExactSGLDQuadratic([]float64{1}, 100, 0, 0.05); !math.IsInf(got, 1) {
		t.Errorf("got %g, want +Inf", got)
	}
}

func TestExactMonomialTableC(t *testing.T) {
	cases := []struct {
		exponents []int
		c         float64
		want      float64
	}{
		{[]int{0, 1}, 144.76, 0.5000},
		{[]int{1, 1}, 144.76, 0.3559},
		{[]int{1, 2}, 144.76, 0.2090},
		{[]int{1, 3}, 144.76, 0.1451},
		{[]int{0, 1}, 1e8, 0.5000},
		{[]int{1, 1}, 1e8, 0.4509},
		{[]int{1, 2}, 1e8, 0.2488},
		{[]int{1, 3}, 1e8, 0.1664},
	}
	for _, tc := range cases {
		got := ExactMonomial(tc.exponents, tc.c, -1, 1)
		// The table gives four decimals.
		if math.Abs(got-tc.want) > 5e-5 {
			t.Errorf("ExactMonomial(%v, %g): got %.6f, want %.4f", tc.exponents, tc.c, got, tc.want)
		}
	}
}

// bruteMonomial2D returns λ̂(c) for K = w1^{2a} w2^{2b} on [lo, hi]² by the
// midpoint rule on an n × n grid in w, a method independent of the
// log-space quadrature.
func bruteMonomial2D(a, b int, c, lo, hi float64, n int) float64 {
	step := (hi - lo) / float64(n)
	var num, den float64
	for i := 0; i < n; i++ {
		x := lo + (float64(i)+0.5)*step
		fx := ipow(x, 2*a)
		for j := 0; j < n; j++ {
			y := lo + (float64(j)+0.5)*step
			k := fx * ipow(y, 2*b)
			p := math.Exp(-c * k)
			num += k * p
			den += p
		}
	}
	return c * num / den
}

func TestExactMonomialMatchesBruteForce(t *testing.T) {
	cases := []struct {
		a, b   int
		c      float64
		lo, hi float64
	}{
		{1, 1, 3, -1, 1},
		{1, 2, 10, -1, 1},
		{1, 2, 10, -0.5, 1},
		{2, 1, 20, 0, 1.5},
		{1, 3, 5, -2, 0},
	}
	for _, tc := range cases {
		got := ExactMonomial([]int{tc.a, tc.b}, tc.c, tc.lo, tc.hi)
		want := bruteMonomial2D(tc.a, tc.b, tc.c, tc.lo, tc.hi, 1500)
		if math.Abs(got-want) > 1e-5 {
			t.Errorf("(%d,%d) c=%g on [%g,%g]: quadrature %.7f, midpoint rule %.7f", tc.a, tc.b, tc.c, tc.lo, tc.hi, got, want)
		}
	}
}

func TestExactMonomialApproachesLambda(t *testing.T) {
	// λ̂(c) ≈ λ − (m − 1)/log c from below, so at c = 1e12 the (1,2) value
	// (m = 1) is within 1 % of λ = 1/4, and the three-exponent value
	// (1,1,1) (λ = 1/2, m = 3) is below λ.
	if got := ExactMonomial([]int{1, 2}, 1e12, -1, 1); math.Abs(got-0.25) > 0.0025 {
		t.Errorf("(1,2) at c = 1e12: got %.5f, want 0.25 within 1 %%", got)
	}
	if got := ExactMonomial([]int{1, 1, 1}, 1e6, -1, 1); !(got < 0.5 && got > 0.1) {
		t.Errorf("(1,1,1) at c = 1e6: got %.5f, want a value in (0.1, 0.5)", got)
	}
}

func TestLambdaMonomial(t *testing.T) {
	cases := []struct {
		exponents []int
		lambda    float64
		mult      int
	}{
		{[]int{0, 1}, 0.5, 1},
		{[]int{1, 1}, 0.5, 2},
		{[]int{1, 2}, 0.25, 1},
		{[]int{1, 3}, 1.0 / 6, 1},
		{[]int{3, 1, 3}, 1.0 / 6, 2},
	}
	for _, tc := range cases {
		lambda, mult := LambdaMonomial(tc.exponents)
		if lambda != tc.lambda {
			t.Errorf("LambdaMonomial(%v): λ = %g, want %g", tc.exponents, lambda, tc.lambda)
		}
		if mult != tc.mult {
			t.Errorf("LambdaMonomial(%v): m = %d, want %d", tc.exponents, mult, tc.mult)
		}
	}
}

func TestLambdaRRRTableD(t *testing.T) {
	cases := []struct {
		M, H, N, r int
		lambda     float64
	}{
		{2, 2, 2, 0, 1.5},
		{2, 2, 2, 1, 2.0},
		{2, 2, 2, 2, 2.0},
		{3, 3, 3, 1, 4.0},
		{5, 3, 5, 0, 6.5},
		{5, 4, 5, 0, 8.0},
		{4, 3, 8, 0, 6.0},
		{8, 3, 4, 0, 6.0},
		{3, 8, 4, 0, 6.0},
		{10, 5, 10, 3, 32},
	}
	for _, tc := range cases {
		got, _ := LambdaRRR(tc.M, tc.H, tc.N, tc.r)
		if got != tc.lambda {
			t.Errorf("LambdaRRR(M=%d, H=%d, N=%d, r=%d) = %g, want %g", tc.M, tc.H, tc.N, tc.r, got, tc.lambda)
		}
		// λ of a singular model never exceeds half the parameter count.
		if half := float64(tc.H*(tc.M+tc.N)) / 2; got > half {
			t.Errorf("LambdaRRR(M=%d, H=%d, N=%d, r=%d) = %g exceeds d/2 = %g", tc.M, tc.H, tc.N, tc.r, got, half)
		}
	}
}

func TestLambdaRRRMultiplicity(t *testing.T) {
	cases := []struct {
		M, H, N, r int
		mult       int
	}{
		{2, 2, 2, 0, 1}, // case 1, M + H + N + r = 6 is even
		{2, 2, 2, 1, 2}, // case 1, 7 is odd
		{4, 3, 8, 0, 1}, // case 2
		{8, 3, 4, 0, 1}, // case 3
		{3, 8, 4, 0, 1}, // case 4
	}
	for _, tc := range cases {
		if _, got := LambdaRRR(tc.M, tc.H, tc.N, tc.r); got != tc.mult {
			t.Errorf("LambdaRRR(M=%d, H=%d, N=%d, r=%d): m = %d, want %d", tc.M, tc.H, tc.N, tc.r, got, tc.mult)
		}
	}
}

func TestLambdaDLNTableE(t *testing.T) {
	cases := []struct {
		widths []int
		r      int
		lambda float64
	}{
		{[]int{2, 2, 2}, 0, 1.5},
		{[]int{3, 3, 3, 3}, 0, 3.0},
		{[]int{3, 3, 3, 3}, 1, 4.0},
		{[]int{3, 3, 3, 3}, 2, 4.5},
		{[]int{5, 5, 5, 5, 5, 5}, 0, 7.5},
		{[]int{10, 10, 10, 10, 10}, 2, 38},
	}
	for _, tc := range cases {
		got := LambdaDLN(tc.widths, tc.r)
		if math.Abs(got-tc.lambda) > 1e-12 {
			t.Errorf("LambdaDLN(%v, r=%d) = %g, want %g", tc.widths, tc.r, got, tc.lambda)
		}
	}
}

func TestLambdaDLNTwoMatricesEqualsRRR(t *testing.T) {
	for M := 1; M <= 6; M++ {
		for H := 1; H <= 6; H++ {
			for N := 1; N <= 6; N++ {
				for r := 0; r <= min(M, H, N); r++ {
					rrr, _ := LambdaRRR(M, H, N, r)
					dln := LambdaDLN([]int{M, H, N}, r)
					if math.Abs(rrr-dln) > 1e-12 {
						t.Errorf("M=%d H=%d N=%d r=%d: LambdaRRR = %g, LambdaDLN = %g", M, H, N, r, rrr, dln)
					}
				}
			}
		}
	}
}

func TestLambdaDLNOneMatrixIsRegular(t *testing.T) {
	// A single matrix is a regular model: λ = d/2 whatever the rank.
	for r := 0; r <= 3; r++ {
		if got := LambdaDLN([]int{3, 4}, r); got != 6 {
			t.Errorf("LambdaDLN([3 4], r=%d) = %g, want 6", r, got)
		}
	}
}

func TestValidateRejectsBadFields(t *testing.T) {
	cases := []struct {
		name   string
		target Target
	}{
		{"quadratic empty", Quadratic{}},
		{"quadratic zero eigenvalue", Quadratic{H: []float64{1, 0}}},
		{"quadratic NaN eigenvalue", Quadratic{H: []float64{math.NaN()}}},
		{"radial zero dim", Radial{D: 0, K: 1}},
		{"radial zero power", Radial{D: 2, K: 0}},
		{"monomial empty", Monomial{Lower: -1, Upper: 1}},
		{"monomial negative exponent", Monomial{Exponents: []int{1, -1}, Lower: -1, Upper: 1}},
		{"monomial all zero", Monomial{Exponents: []int{0, 0}, Lower: -1, Upper: 1}},
		{"monomial box excludes origin", Monomial{Exponents: []int{1, 1}, Lower: 0.5, Upper: 1}},
		{"monomial empty box", Monomial{Exponents: []int{1, 1}, Lower: 0, Upper: 0}},
	}
	for _, tc := range cases {
		if err := tc.target.Validate(); err == nil {
			t.Errorf("%s: Validate returned nil, want an error", tc.name)
		}
	}
}

func TestMonomialBounds(t *testing.T) {
	lower, upper := Monomial{Exponents: []int{1, 2}, Lower: -1, Upper: 2}.Bounds()
	for j := range lower {
		if lower[j] != -1 || upper[j] != 2 {
			t.Errorf("coordinate %d: bounds [%g, %g], want [-1, 2]", j, lower[j], upper[j])
		}
	}
}
