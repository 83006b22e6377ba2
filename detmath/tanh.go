package detmath

import (
	"math"
	"math/big"
)

// tanhTerms is the number of Taylor terms Tanh uses for |x| < tanhSmall.
// At |x| = 0.55 the first omitted term is below 2^−56 of the result.
const tanhTerms = 20

// tanhSmall is the bound on |x| between the Taylor series and
// 1 − 2/(e^{2|x|} + 1). Above it tanh(|x|) ≥ 0.5, so the subtraction loses
// no relative precision.
const tanhSmall = 0.55

// tanhTiny is the bound on |x| below which tanh(x) rounds to x, because
// x³/3 < 2^−56·|x| there.
const tanhTiny = 0x1p-28

// tanhOne is the bound on |x| above which tanh(x) rounds to ±1, because
// 2/(e^{2|x|} + 1) < 2^−54 there.
const tanhOne = 20.0

// tanhCoef[i] is a_{i+1} in tanh x = Σ_{k≥0} a_k x^{2k+1}, a_0 = 1.
var tanhCoef [tanhTerms - 1]float64

func init() {
	// tanh' = 1 − tanh² gives (2k+1)·a_k = −Σ_{i+j=k−1} a_i·a_j for k ≥ 1,
	// solved in exact rational arithmetic.
	a := make([]*big.Rat, tanhTerms)
	a[0] = big.NewRat(1, 1)
	for k := 1; k < tanhTerms; k++ {
		sum := new(big.Rat)
		for i := 0; i <= k-1; i++ {
			sum.Add(sum, new(big.Rat).Mul(a[i], a[k-1-i]))
		}
		a[k] = sum.Neg(sum).Quo(sum, big.NewRat(int64(2*k+1), 1))
	}
	for k := 1; k < tanhTerms; k++ {
		tanhCoef[k-1], _ = a[k].Float64()
	}
}

// Tanh returns the hyperbolic tangent of x. Special cases are Tanh(±0) = ±0,
// Tanh(±Inf) = ±1 and Tanh(NaN) = NaN.
func Tanh(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case x != x, ax < tanhTiny:
		// Returning x itself keeps the sign of ±0.
		return x
	case ax < tanhSmall:
		return tanhSeries(x)
	case ax > tanhOne:
		return math.Copysign(1, x)
	}
	t := 1 - float64(2/float64(Exp(2*ax)+1))
	return math.Copysign(t, x)
}

// tanhSeries sums the Taylor series x + x³·P(x²), P evaluated by Horner's
// rule from the smallest coefficient up.
func tanhSeries(x float64) float64 {
	z := float64(x * x)
	p := tanhCoef[len(tanhCoef)-1]
	for i := len(tanhCoef) - 2; i >= 0; i-- {
		p = tanhCoef[i] + float64(z*p)
	}
	return x + float64(float64(x*z)*p)
}
