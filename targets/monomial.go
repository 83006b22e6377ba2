package targets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/samplers"
)

// Monomial is the normal-crossing potential K(w) = Π_j w_j^{2k_j} with a
// uniform prior on the box [Lower, Upper]^d, where k_j = Exponents[j] and
// d = len(Exponents). K attains its minimum 0 on the axes, and WStar
// returns the origin. Samplers must reflect at the box walls, so Monomial
// implements samplers.Bounded.
type Monomial struct {
	Exponents    []int
	Lower, Upper float64
}

var _ samplers.Bounded = Monomial{}

// Validate returns an error unless the exponents are non-negative with at
// least one positive, and Lower ≤ 0 ≤ Upper with Lower < Upper.
func (m Monomial) Validate() error {
	if len(m.Exponents) == 0 {
		return fmt.Errorf("monomial target: exponents is empty: give one exponent per coordinate")
	}
	positive := false
	for j, k := range m.Exponents {
		if k < 0 {
			return fmt.Errorf("monomial target: exponents[%d] = %d is invalid: exponents must be non-negative", j, k)
		}
		positive = positive || k > 0
	}
	if !positive {
		return fmt.Errorf("monomial target: every exponent is 0, so K is constant: make at least one positive")
	}
	return checkBox(m.Lower, m.Upper)
}

func checkBox(lower, upper float64) error {
	if math.IsNaN(lower) || math.IsNaN(upper) || math.IsInf(lower, 0) || math.IsInf(upper, 0) {
		return fmt.Errorf("monomial target: bounds [%g, %g] are invalid: they must be finite", lower, upper)
	}
	if !(lower <= 0 && 0 <= upper && lower < upper) {
		return fmt.Errorf("monomial target: bounds [%g, %g] are invalid: they must satisfy lower ≤ 0 ≤ upper and lower < upper", lower, upper)
	}
	return nil
}

// Dim returns the number of exponents.
func (m Monomial) Dim() int { return len(m.Exponents) }

// N returns 1: the target has no data points.
func (m Monomial) N() int { return 1 }

// WStar returns the origin.
func (m Monomial) WStar() []float64 { return make([]float64, len(m.Exponents)) }

// Bounds returns the box walls, Lower and Upper in every coordinate.
func (m Monomial) Bounds() (lower, upper []float64) {
	lower = make([]float64, len(m.Exponents))
	upper = make([]float64, len(m.Exponents))
	for j := range lower {
		lower[j], upper[j] = m.Lower, m.Upper
	}
	return lower, upper
}

// Lambda returns λ and its multiplicity m for the uniform prior, as
// LambdaMonomial does.
func (m Monomial) Lambda() (lambda float64, mult int) { return LambdaMonomial(m.Exponents) }

// NewEvaluator returns an evaluator of K and its gradient.
func (m Monomial) NewEvaluator() samplers.Evaluator {
	return &monomialEvaluator{k: m.Exponents, factor: make([]float64, len(m.Exponents))}
}

type monomialEvaluator struct {
	k []int
	// factor holds w_j^{2k_j} during LossGrad.
	factor []float64
}

func (e *monomialEvaluator) Loss(w []float64) float64 {
	checkLen("monomial", len(e.k), w, nil)
	product := 1.0
	for j, k := range e.k {
		product *= ipow(w[j], 2*k)
	}
	return product
}

// LossGrad returns K(w) and writes
//
//	∂K/∂w_j = 2k_j w_j^{2k_j − 1} Π_{i≠j} w_i^{2k_i}
//
// into grad, with the products over i ≠ j formed from prefix and suffix
// products so that no division by a zero coordinate occurs. The batch is
// ignored.
func (e *monomialEvaluator) LossGrad(w []float64, _ []int, grad []float64) float64 {
	checkLen("monomial", len(e.k), w, grad)
	for j, k := range e.k {
		e.factor[j] = ipow(w[j], 2*k)
	}

	// grad[j] first holds Π_{i<j} factor_i, then is multiplied by
	// Π_{i>j} factor_i on the way back.
	prefix := 1.0
	for j := range e.k {
		grad[j] = prefix
		prefix *= e.factor[j]
	}
	suffix := 1.0
	for j := len(e.k) - 1; j >= 0; j-- {
		k := e.k[j]
		if k == 0 {
			grad[j] = 0
		} else {
			grad[j] *= suffix * 2 * float64(k) * ipow(w[j], 2*k-1)
		}
		suffix *= e.factor[j]
	}
	return prefix
}

// LambdaMonomial returns the learning coefficient λ = 1/(2·max k_j) of
// K = Π_j w_j^{2k_j} under a prior that is positive and smooth at the
// origin (such as a uniform box around it), and its multiplicity m, the
// number of exponents equal to the maximum. It panics if no exponent is
// positive.
func LambdaMonomial(exponents []int) (lambda float64, mult int) {
	maxK := 0
	for _, k := range exponents {
		switch {
		case k > maxK:
			maxK, mult = k, 1
		case k == maxK && k > 0:
			mult++
		}
	}
	if maxK == 0 {
		panic("targets: LambdaMonomial needs a positive exponent")
	}
	return 1 / float64(2*maxK), mult
}
