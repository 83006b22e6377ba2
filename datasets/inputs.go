package datasets

import (
	"fmt"

	"github.com/llcflow/llcflow/rng"
)

// Inputs is the distribution of the inputs x. Fields that the distribution
// does not use are ignored.
type Inputs struct {
	// Dist is the distribution: "gauss_iso", x ~ N(0, I).
	Dist string
}

// draw returns n rows of dim inputs, row-major.
func (in Inputs) draw(r *rng.Rand, n, dim int) ([]float64, error) {
	x := make([]float64, n*dim)
	switch in.Dist {
	case "gauss_iso":
		// x_ij ~ N(0, 1) independently.
		r.FillNorm(x)
	default:
		return nil, fmt.Errorf("x_dist %q is not implemented, want \"gauss_iso\"", in.Dist)
	}
	return x, nil
}

func (in Inputs) validate() error {
	if in.Dist != "gauss_iso" {
		return fmt.Errorf("x_dist %q is not implemented, want \"gauss_iso\"", in.Dist)
	}
	return nil
}
