package datasets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/rng"
)

// Noise is the distribution of the label noise y − f0(x). Fields that the
// kind does not use are ignored.
type Noise struct {
	// Kind is "gauss": y_ij = f0(x_i)_j + σ·ξ_ij with ξ_ij ~ N(0, 1).
	Kind string
	// Scale is σ, at least 0. Zero gives noise-free targets.
	Scale float64
}

func (nz Noise) validate() error {
	if nz.Kind != "gauss" {
		return fmt.Errorf("noise kind %q is not implemented, want \"gauss\"", nz.Kind)
	}
	if !(nz.Scale >= 0) || math.IsInf(nz.Scale, 0) {
		return fmt.Errorf("noise scale %v is invalid, want a finite value of at least 0", nz.Scale)
	}
	return nil
}

// add adds noise to y in place, element by element in row-major order.
func (nz Noise) add(r *rng.Rand, y []float64) {
	for i := range y {
		y[i] += nz.Scale * r.Norm()
	}
}
