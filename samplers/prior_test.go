package samplers_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/llcflow/llcflow/samplers"
	"github.com/llcflow/llcflow/targets"
)

// Weight-decay tests. On K(w) = ½ Σ h_i (w_i − w*_i)² the local posterior
// with localization γ and weight decay α is Gaussian with precision
// a_i = c·h_i + γ + α and mean m_i = (c·h_i + γ)·w*_i/a_i, so
//
//	λ̂ = c·(E[K] − K(w*)) = ½ Σ_i c·h_i·(1/a_i + α²·w*_i²/a_i²).
//
// At w* = 0 this is ½ Σ c·h_i/(c·h_i + γ + α). With w* ≠ 0 the second
// term distinguishes weight decay from a larger γ.

// shiftedQuadratic is K(w) = ½ Σ h_i (w_i − w*_i)² with n = 1.
type shiftedQuadratic struct{ h, wStar []float64 }

func (q shiftedQuadratic) Dim() int                         { return len(q.h) }
func (q shiftedQuadratic) N() int                           { return 1 }
func (q shiftedQuadratic) NewEvaluator() samplers.Evaluator { return q }

func (q shiftedQuadratic) Loss(w []float64) float64 {
	var k float64
	for i, h := range q.h {
		x := w[i] - q.wStar[i]
		k += h * x * x
	}
	return k / 2
}

func (q shiftedQuadratic) LossGrad(w []float64, _ []int, grad []float64) float64 {
	for i, h := range q.h {
		grad[i] = h * (w[i] - q.wStar[i])
	}
	return q.Loss(w)
}

// priorLambda returns the exact λ̂ above at (c, γ, α).
func priorLambda(q shiftedQuadratic, c, gamma, alpha float64) float64 {
	var lambda float64
	for i, h := range q.h {
		a := c*h + gamma + alpha
		lambda += c * h * (1/a + alpha*alpha*q.wStar[i]*q.wStar[i]/(a*a))
	}
	return lambda / 2
}

// priorCase is a quadratic with its weight decay.
type priorCase struct {
	name  string
	q     shiftedQuadratic
	alpha float64
}

func priorCases() []priorCase {
	return []priorCase{
		{"w*=0 α=20", shiftedQuadratic{h: ones(10), wStar: make([]float64, 10)}, 20},
		{"w*=0.3 α=20", shiftedQuadratic{h: []float64{1, 1, 2, 2}, wStar: constant(4, 0.3)}, 20},
	}
}

func constant(d int, v float64) []float64 {
	x := make([]float64, d)
	for i := range x {
		x[i] = v
	}
	return x
}

const priorC, priorGamma = 100.0, 10.0

// checkPriorCase checks run against the exact λ̂ and, when w* ≠ 0, checks
// that the 4-SE band excludes the value of the same α spent on γ instead.
func checkPriorCase(t *testing.T, tc priorCase, run *samplers.Run) {
	t.Helper()
	want := priorLambda(tc.q, priorC, priorGamma, tc.alpha)
	est := checkWithinSE(t, run, want)
	if tc.q.wStar[0] == 0 {
		return
	}
	// Spending α on γ gives the same precision but keeps the mean at w*.
	asGamma := targets.ExactQuadratic(tc.q.h, priorC, priorGamma+tc.alpha)
	if math.Abs(asGamma-want) <= 8*est.LLCSE {
		t.Errorf("exact %.4f and γ + α value %.4f lie within 8 SE (%.4f): the run cannot "+
			"tell weight decay from localization", want, asGamma, est.LLCSE)
	}
}

func TestHMCWeightDecayKnownValues(t *testing.T) {
	for _, tc := range priorCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hmcConfig(priorC, priorGamma, "hmc-prior-"+tc.name)
			cfg.WeightDecay = tc.alpha
			run, err := samplers.HMC(context.Background(), tc.q, tc.q.wStar, cfg)
			if err != nil {
				t.Fatalf("HMC: %v", err)
			}
			checkPriorCase(t, tc, run)
		})
	}
}

func TestMCLMCWeightDecayKnownValues(t *testing.T) {
	for _, tc := range priorCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mclmcConfig(priorC, priorGamma, "mclmc-prior-"+tc.name)
			cfg.WeightDecay = tc.alpha
			cfg.DesiredEnergyVar = mclmcTightEnergyVar
			run, err := samplers.MCLMC(context.Background(), tc.q, tc.q.wStar, cfg)
			if err != nil {
				t.Fatalf("MCLMC: %v", err)
			}
			checkPriorCase(t, tc, run)
		})
	}
}

func TestWeightDecayRejectsInvalid(t *testing.T) {
	q := shiftedQuadratic{h: ones(2), wStar: make([]float64, 2)}
	for _, alpha := range []float64{-1, math.Inf(1), math.NaN()} {
		t.Run(fmt.Sprint(alpha), func(t *testing.T) {
			hmc := hmcConfig(priorC, priorGamma, "prior-invalid")
			hmc.WeightDecay = alpha
			if _, err := samplers.HMC(context.Background(), q, q.wStar, hmc); err == nil {
				t.Errorf("HMC accepted weight decay %g", alpha)
			}
			mclmc := mclmcConfig(priorC, priorGamma, "prior-invalid")
			mclmc.WeightDecay = alpha
			if _, err := samplers.MCLMC(context.Background(), q, q.wStar, mclmc); err == nil {
				t.Errorf("MCLMC accepted weight decay %g", alpha)
			}
			sgld := samplers.SGLDConfig{
				Common:   samplers.Common{Chains: 1, NBeta: priorC, WeightDecay: alpha, Seed: "x"},
				StepSize: 1e-3, Steps: 10,
			}
			if _, err := samplers.SGLD(context.Background(), q, q.wStar, sgld); err == nil {
				t.Errorf("SGLD accepted weight decay %g", alpha)
			}
		})
	}
}
