package models

import (
	"fmt"

	"github.com/llcflow/llcflow/detmath"
)

// activation is a hidden-layer nonlinearity σ.
type activation int

const (
	relu activation = iota
	tanh
	gelu
	identity
)

func parseActivation(name string) (activation, error) {
	switch name {
	case "relu":
		return relu, nil
	case "tanh":
		return tanh, nil
	case "gelu":
		return gelu, nil
	case "identity":
		return identity, nil
	}
	return 0, fmt.Errorf("activation %q is not supported, want relu, tanh, gelu or identity", name)
}

// GELU constants of the tanh approximation: u = geluScale·(z + geluCubic·z³).
const (
	geluScale = 0.7978845608028654 // √(2/π)
	geluCubic = 0.044715
)

// apply writes a = σ(z) elementwise.
func (f activation) apply(z, a []float64) {
	a = a[:len(z)]
	switch f {
	case relu:
		for i, v := range z {
			a[i] = max(v, 0)
		}
	case tanh:
		detmath.TanhSlice(a, z)
	case gelu:
		for i, v := range z {
			a[i] = v * geluSigmoid(v)
		}
	case identity:
		copy(a, z)
	}
}

// backprop multiplies g by σ'(z) elementwise, where a = σ(z).
func (f activation) backprop(z, a, g []float64) {
	z = z[:len(g)]
	a = a[:len(g)]
	switch f {
	case relu:
		for i, v := range z {
			if v <= 0 {
				g[i] = 0
			}
		}
	case tanh:
		// tanh' = 1 − tanh².
		for i, v := range a {
			g[i] *= 1 - float64(v*v)
		}
	case gelu:
		for i, v := range z {
			g[i] *= geluDerivative(v)
		}
	case identity:
	}
}

// geluSigmoid returns s(2u), the logistic sigmoid at twice the tanh
// approximation's argument, so gelu(z) = z·s(2u) = 0.5·z·(1 + tanh u).
func geluSigmoid(z float64) float64 {
	u := float64(geluScale * (z + float64(geluCubic*float64(float64(z*z)*z))))
	return 1 / (1 + detmath.Exp(-2*u))
}

// geluDerivative returns d/dz z·s(2u) = s + z·s·(1 − s)·2u', with
// u' = √(2/π)(1 + 3·0.044715z²).
func geluDerivative(z float64) float64 {
	s := geluSigmoid(z)
	// At saturation s(1 − s) is 0 while u' may be +Inf, which would
	// give 0·Inf = NaN.
	if s == 0 || s == 1 {
		return s
	}
	// Without the outer conversion the compiler rewrites 2·du as du + du and
	// fuses one product into an FMA under GOAMD64=v3.
	du := float64(geluScale * (1 + float64(3*geluCubic*float64(z*z))))
	return s + float64(float64(float64(z*s)*(1-s))*float64(2*du))
}
