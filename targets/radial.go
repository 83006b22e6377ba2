package targets

import (
	"fmt"

	"github.com/llcflow/llcflow/samplers"
)

// Radial is the potential K(w) = ‖w‖^{2K} in D dimensions, with minimum
// w* = 0. With a flat prior (γ = 0), c·K(w) follows Gamma(D/(2K), 1) under
// p ∝ exp(−c·K), so λ̂(c) = D/(2K) for every c.
type Radial struct {
	D, K int
}

// Validate returns an error unless D ≥ 1 and K ≥ 1.
func (r Radial) Validate() error {
	if r.D < 1 {
		return fmt.Errorf("radial target: dim = %d is invalid: it must be at least 1", r.D)
	}
	if r.K < 1 {
		return fmt.Errorf("radial target: power k = %d is invalid: it must be at least 1", r.K)
	}
	return nil
}

// Dim returns D.
func (r Radial) Dim() int { return r.D }

// N returns 1: the target has no data points.
func (r Radial) N() int { return 1 }

// WStar returns the origin.
func (r Radial) WStar() []float64 { return make([]float64, r.D) }

// Lambda returns λ = D/(2K), which is also λ̂(c) for every c when γ = 0.
func (r Radial) Lambda() float64 { return float64(r.D) / float64(2*r.K) }

// NewEvaluator returns an evaluator of K and its gradient.
func (r Radial) NewEvaluator() samplers.Evaluator { return radialEvaluator{d: r.D, k: r.K} }

type radialEvaluator struct{ d, k int }

func (e radialEvaluator) Loss(w []float64) float64 {
	checkLen("radial", e.d, w, nil)
	return ipow(squaredNorm(w), e.k)
}

// LossGrad returns K(w) = (‖w‖²)^k and writes ∇K = 2k (‖w‖²)^{k−1} w into
// grad. The batch is ignored.
func (e radialEvaluator) LossGrad(w []float64, _ []int, grad []float64) float64 {
	checkLen("radial", e.d, w, grad)
	r2 := squaredNorm(w)
	scale := 2 * float64(e.k) * ipow(r2, e.k-1)
	for i, wi := range w {
		grad[i] = scale * wi
	}
	return ipow(r2, e.k)
}

func squaredNorm(w []float64) float64 {
	s := 0.0
	for _, wi := range w {
		s += wi * wi
	}
	return s
}
