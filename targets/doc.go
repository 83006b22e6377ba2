// Package targets provides analytic potentials K(w) with a known minimum w*
// and a known learning coefficient, for validating samplers and the LLC
// estimator.
//
// Nouns:
//   - target: a samplers.Potential whose loss is an analytic K(w). N() is 1
//     and minibatches are ignored, so c = nβ plays the role of n·β.
//   - w*: the minimum of K, the origin for every target here.
//   - λ: the learning coefficient, the limit of λ̂(c) as c grows.
//   - λ̂(c): the finite-c value c·(E_p[K] − K(w*)) under
//     p(w) ∝ exp(−c·K(w) − (γ/2)‖w‖²)·prior(w), which an unbiased sampler
//     reproduces within Monte Carlo error.
//
// The Exact* functions return λ̂(c), in closed form or by quadrature. The
// Lambda* functions return λ and its multiplicity m for singular models
// whose λ is known in closed form: normal crossings, reduced-rank
// regression (Aoyagi and Watanabe 2005) and deep linear networks (Aoyagi
// 2024).
//
// Losses and gradients use plain arithmetic only (no math.Exp or math.Pow),
// so they give the same bits on every amd64 CPU.
package targets

import "github.com/llcflow/llcflow/samplers"

// Target is a potential with a known minimum.
type Target interface {
	samplers.Potential
	// WStar returns the minimum w* of K, a fresh slice of length Dim().
	WStar() []float64
	// Validate returns an error when the target's fields are invalid.
	Validate() error
}

// checkLen panics when a caller passes slices whose lengths do not match
// the target's dimension.
func checkLen(name string, d int, w, grad []float64) {
	if len(w) != d || (grad != nil && len(grad) != d) {
		panic("targets: " + name + ": w and grad must have length Dim()")
	}
}

// ipow returns x^n for n ≥ 0 by repeated squaring.
func ipow(x float64, n int) float64 {
	result := 1.0
	for n > 0 {
		if n&1 == 1 {
			result *= x
		}
		x *= x
		n >>= 1
	}
	return result
}
