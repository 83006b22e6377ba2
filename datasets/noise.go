package datasets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/rng"
)

// Noise is the distribution of the label noise ε = y − f0(x), with σ =
// Scale and ξ ~ N(0, 1) drawn per element. Fields that Kind does not use
// are ignored.
//
//   - "gauss": ε = σ·ξ.
//   - "hetero": ε = σ·(1 + h·‖x‖/√in_dim)·ξ with h = Hetero, so the noise
//     grows with the input's norm.
//   - "student_t": ε = σ·t with t Student-t distributed with ν = DF
//     degrees of freedom, t = ξ/√(χ²_ν/ν). σ is a scale, not the standard
//     deviation: Var ε = σ²·ν/(ν − 2) for ν > 2.
//   - "outliers": each row is an outlier with probability p = OutlierFrac,
//     and then ε = s·ξ with s = OutlierScale; other rows get σ·ξ.
type Noise struct {
	// Kind is the noise distribution, one of the names above.
	Kind string
	// Scale is σ, at least 0. Zero gives noise-free targets except on
	// outlier rows.
	Scale float64
	// Hetero is h of hetero noise, at least 0.
	Hetero float64
	// DF is ν of student_t noise, a whole number of at least 1.
	DF int
	// OutlierFrac is the outlier probability p, in [0, 1].
	OutlierFrac float64
	// OutlierScale is the standard deviation s of outlier noise, at
	// least 0.
	OutlierScale float64
}

// NoiseKinds lists the values of Noise.Kind.
var NoiseKinds = []string{"gauss", "hetero", "student_t", "outliers"}

func (nz Noise) validate() error {
	nonNegative := func(name string, v float64) error {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %v is invalid, want a finite value of at least 0", name, v)
		}
		return nil
	}
	if err := nonNegative("noise scale", nz.Scale); err != nil {
		return err
	}
	switch nz.Kind {
	case "gauss":
	case "hetero":
		return nonNegative("noise hetero", nz.Hetero)
	case "student_t":
		if nz.DF < 1 {
			return fmt.Errorf("student_t noise df %d is invalid, want a whole number of at least 1", nz.DF)
		}
	case "outliers":
		if !(nz.OutlierFrac >= 0 && nz.OutlierFrac <= 1) {
			return fmt.Errorf("outlier fraction %v is invalid, want a value in [0, 1]", nz.OutlierFrac)
		}
		return nonNegative("outlier scale", nz.OutlierScale)
	default:
		return fmt.Errorf("noise kind %q is not supported, want one of %v", nz.Kind, NoiseKinds)
	}
	return nil
}

// add adds noise to y (n × out) in place, row by row and element by
// element within a row. x (n × in) holds the inputs of the rows.
func (nz Noise) add(r *rng.Rand, x, y []float64, n int) {
	in, out := len(x)/n, len(y)/n
	for i := 0; i < n; i++ {
		row := y[i*out : i*out+out]
		switch nz.Kind {
		case "gauss":
			addScaled(r, row, nz.Scale)
		case "hetero":
			norm := math.Sqrt(dotRow(x[i*in:i*in+in], x[i*in:i*in+in]) / float64(in))
			addScaled(r, row, nz.Scale*(1+nz.Hetero*norm))
		case "student_t":
			for j := range row {
				xi := r.Norm()
				row[j] += nz.Scale * (xi / math.Sqrt(chiSquare(r, nz.DF)/float64(nz.DF)))
			}
		case "outliers":
			s := nz.Scale
			if r.Float64() < nz.OutlierFrac {
				s = nz.OutlierScale
			}
			addScaled(r, row, s)
		}
	}
}

func addScaled(r *rng.Rand, row []float64, s float64) {
	for j := range row {
		row[j] += s * r.Norm()
	}
}
