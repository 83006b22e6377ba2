package samplers

import (
	"context"
	"math"
	"testing"
)

// sgldPriorLambda returns E[λ̂] of full-batch SGLD with weight decay α on
// K(w) = ½ Σ h_i (w_i − w*_i)². SGLD is a Gaussian AR(1) there, with
// precision a_i = c·h_i + γ + α, mean m_i = (c·h_i + γ)·w*_i/a_i at every
// ε and stationary variance 1/(a_i(1 − ε·a_i/4)), so
//
//	λ̂ = ½ Σ_i c·h_i·(1/(a_i(1 − ε·a_i/4)) + α²·w*_i²/a_i²).
func sgldPriorLambda(q *quadraticPotential, c, gamma, alpha, eps float64) float64 {
	var lambda float64
	for i, h := range q.h {
		a := c*h + gamma + alpha
		shift := alpha * q.center[i] / a
		lambda += c * h * (1/(a*(1-eps*a/4)) + shift*shift)
	}
	return lambda / 2
}

// Full-batch SGLD with weight decay must match its finite-step formula
// within 4 standard errors, and the band must exclude both the ε → 0
// value and the value with α added to γ, which has the same precision but
// no shift of the mean.
func TestSGLDWeightDecayMatchesTheory(t *testing.T) {
	const alpha = 20.0
	pot := newQuadratic(1, 1, 2, 2)
	for i := range pot.center {
		pot.center[i] = 0.3
	}
	cfg := quadraticConfig("sgld-weight-decay")
	cfg.WeightDecay = alpha
	// 160000 steps make 2 bands narrower than the discretization bias,
	// about 4 % of λ̂ here.
	cfg.Steps, cfg.EvalEvery = 160000, 4
	if sgldLongRun() {
		cfg.Steps *= 10
	}
	c, gamma, eps := cfg.NBeta, cfg.Gamma, cfg.StepSize
	want := sgldPriorLambda(pot, c, gamma, alpha, eps)

	run, err := SGLD(context.Background(), pot, pot.center, cfg)
	if err != nil {
		t.Fatal(err)
	}
	est := Summarize(run)
	t.Logf("λ̂ = %.4f ± %.4f (want %.4f, ESS %.0f)", est.LLCMean, est.LLCSE, want, est.ESSBulk)
	band := 4 * est.LLCSE
	if math.Abs(est.LLCMean-want) > band {
		t.Errorf("λ̂ = %.4f ± %.4f (SE), want %.4f within 4 SE", est.LLCMean, est.LLCSE, want)
	}
	if exact := sgldPriorLambda(pot, c, gamma, alpha, 0); math.Abs(exact-want) <= 2*band {
		t.Errorf("bands of %.4f around %.4f and the ε → 0 value %.4f overlap: the run is too "+
			"short to see the discretization bias", band, want, exact)
	}
	if asGamma := sgldLambda(pot.h, c, gamma+alpha, eps); math.Abs(asGamma-want) <= 2*band {
		t.Errorf("bands of %.4f around %.4f and the γ + α value %.4f overlap", band, want, asGamma)
	}
	if est.RHat > 1.01 {
		t.Errorf("R̂ = %.4f, want ≤ 1.01", est.RHat)
	}
}

// The MALA acceptance must score moves under U(w) = nβ·K(w) +
// (γ/2)(w − w*)² + (α/2)w², here in one dimension with w* = 0.5.
func TestSGLDMALAAcceptanceWithWeightDecay(t *testing.T) {
	const c, gamma, alpha, eps, center, w, wNext = 100.0, 10.0, 30.0, 1e-3, 0.5, 0.45, 0.46
	set := sgldSettings{NBeta: c, Gamma: gamma, WeightDecay: alpha, StepSize: eps,
		Precond: PrecondNone, EvalEvery: 1, Steps: 1, Dim: 1, N: 1}
	pot := newQuadratic(1)
	pot.center[0] = center
	ch := newSGLDChain(&set, pot, []float64{center}, nil, nil, 0, 0)
	ch.w[0], ch.wNext[0] = w, wNext
	ch.batchLoss = ch.eval.LossGrad(ch.w, nil, ch.gradLoss)
	ch.batchLossNext = ch.eval.LossGrad(ch.wNext, nil, ch.gradLossNext)

	u := func(x float64) float64 {
		return (c+gamma)*(x-center)*(x-center)/2 + alpha*x*x/2
	}
	gradU := func(x float64) float64 { return (c+gamma)*(x-center) + alpha*x }
	logQ := func(to, from float64) float64 {
		mean := from - eps/2*gradU(from)
		return -(to - mean) * (to - mean) / (2 * eps)
	}
	logRatio := u(w) - u(wNext) + logQ(w, wNext) - logQ(wNext, w)
	want := math.Min(1, math.Exp(logRatio))
	if got := ch.malaAcceptance(); math.Abs(got-want) > 1e-12 {
		t.Errorf("MALA acceptance = %v, want %v", got, want)
	}
	if want >= 1 || want < 0.5 {
		t.Fatalf("test move has acceptance %v; pick a move with acceptance in [0.5, 1)", want)
	}
}
