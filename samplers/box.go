package samplers

import (
	"fmt"
	"math"
)

// Boxed is a Potential restricted to a box with reflecting walls. Every
// sampler reflects at the walls of a Bounded potential, so wrapping a
// potential in a Boxed makes any sampler respect the box. It is safe for
// concurrent use when the wrapped potential is.
type Boxed struct {
	Potential
	lower, upper []float64
}

var _ Bounded = (*Boxed)(nil)

// WithBox returns pot restricted to the box [lower_i, upper_i] in every
// coordinate i. When pot is itself Bounded, the result is the intersection
// of both boxes. The walls must be finite with lower_i < upper_i in the
// intersection, and one pair is needed per coordinate.
func WithBox(pot Potential, lower, upper []float64) (*Boxed, error) {
	d := pot.Dim()
	if len(lower) != d || len(upper) != d {
		return nil, fmt.Errorf("box has %d lower and %d upper walls for dimension %d: give one "+
			"pair per coordinate", len(lower), len(upper), d)
	}
	lo := append([]float64(nil), lower...)
	hi := append([]float64(nil), upper...)
	if inner, ok := pot.(Bounded); ok {
		innerLo, innerHi := inner.Bounds()
		if len(innerLo) != d || len(innerHi) != d {
			return nil, fmt.Errorf("potential bounds have %d lower and %d upper walls for "+
				"dimension %d", len(innerLo), len(innerHi), d)
		}
		for i := range lo {
			lo[i] = math.Max(lo[i], innerLo[i])
			hi[i] = math.Min(hi[i], innerHi[i])
		}
	}
	for i := range lo {
		if !allFinite(lo[i:i+1]) || !allFinite(hi[i:i+1]) || !(lo[i] < hi[i]) {
			return nil, fmt.Errorf("box [%g, %g] of coordinate %d is invalid: walls must be "+
				"finite with lower < upper, also after intersecting with the potential's "+
				"own bounds", lo[i], hi[i], i)
		}
	}
	return &Boxed{Potential: pot, lower: lo, upper: hi}, nil
}

// UniformBox returns the lower and upper walls of the box [lower, upper]^d.
func UniformBox(d int, lower, upper float64) (lo, hi []float64) {
	lo, hi = make([]float64, d), make([]float64, d)
	for i := range lo {
		lo[i], hi[i] = lower, upper
	}
	return lo, hi
}

// Bounds returns the walls of the box.
func (b *Boxed) Bounds() (lower, upper []float64) { return b.lower, b.upper }
