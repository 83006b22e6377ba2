package targets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/samplers"
)

// Quadratic is the regular potential K(w) = ½ Σ h_i w_i² with minimum
// w* = 0. H holds the eigenvalues h_i of the Hessian, all positive.
type Quadratic struct {
	H []float64
}

// Validate returns an error unless H is non-empty with positive, finite
// entries.
func (q Quadratic) Validate() error {
	if len(q.H) == 0 {
		return fmt.Errorf("quadratic target: h is empty: give at least one eigenvalue")
	}
	for i, h := range q.H {
		if !(h > 0) || math.IsInf(h, 0) {
			return fmt.Errorf("quadratic target: h[%d] = %g is invalid: eigenvalues must be positive and finite", i, h)
		}
	}
	return nil
}

// Dim returns the number of eigenvalues.
func (q Quadratic) Dim() int { return len(q.H) }

// N returns 1: the target has no data points.
func (q Quadratic) N() int { return 1 }

// WStar returns the origin.
func (q Quadratic) WStar() []float64 { return make([]float64, len(q.H)) }

// NewEvaluator returns an evaluator of K and its gradient.
func (q Quadratic) NewEvaluator() samplers.Evaluator { return quadraticEvaluator{h: q.H} }

type quadraticEvaluator struct{ h []float64 }

func (e quadraticEvaluator) Loss(w []float64) float64 {
	checkLen("quadratic", len(e.h), w, nil)
	k := 0.0
	for i, h := range e.h {
		k += h * w[i] * w[i]
	}
	return 0.5 * k
}

// LossGrad returns K(w) and writes ∂K/∂w_i = h_i w_i into grad. The batch
// is ignored.
func (e quadraticEvaluator) LossGrad(w []float64, _ []int, grad []float64) float64 {
	checkLen("quadratic", len(e.h), w, grad)
	k := 0.0
	for i, h := range e.h {
		grad[i] = h * w[i]
		k += h * w[i] * w[i]
	}
	return 0.5 * k
}

// ExactQuadratic returns λ̂(c) = ½ Σ c·h_i / (c·h_i + γ) for the quadratic
// potential with eigenvalues h at c = nβ and localization γ. A direction
// with c·h_i = 0 contributes nothing.
func ExactQuadratic(h []float64, c, gamma float64) float64 {
	sum := 0.0
	for _, hi := range h {
		if c*hi == 0 {
			continue
		}
		sum += c * hi / (c*hi + gamma)
	}
	return 0.5 * sum
}

// ExactSGLDQuadratic returns the value that full-batch SGLD with step eps,
// w ← w − (ε/2)∇U(w) + √ε·ξ, converges to on the quadratic potential:
//
//	λ̂_SGLD = ½ Σ c·h_i / (a_i (1 − ε·a_i/4)),   a_i = c·h_i + γ.
//
// The chain's stationary variance in direction i is 1/(a_i(1 − ε a_i/4))
// instead of 1/a_i. It returns +Inf when some ε·a_i ≥ 4, where the chain
// diverges.
func ExactSGLDQuadratic(h []float64, c, gamma, eps float64) float64 {
	sum := 0.0
	for _, hi := range h {
		a := c*hi + gamma
		shrink := 1 - eps*a/4
		if shrink <= 0 {
			return math.Inf(1)
		}
		if c*hi == 0 {
			continue
		}
		sum += c * hi / (a * shrink)
	}
	return 0.5 * sum
}
