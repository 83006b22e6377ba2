package datasets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/rng"
)

// Inputs is the distribution of the inputs x. Fields that Dist does not
// use are ignored.
//
//   - "gauss_iso": x ~ N(0, I).
//   - "gauss_aniso": x ~ N(0, Σ) with Σ = diag(1, ρ, ρ², …), ρ = CovDecay.
//   - "mixture": x = μ_c + z with z ~ N(0, I), the component c uniform on
//     Components, and the means μ_k ~ N(0, Spread²·I) drawn first.
//   - "lowdim_manifold": x = A·z with z ~ N(0, I_k), k = LatentDim, and A
//     a dim × k matrix of N(0, 1/k) entries drawn first, so the inputs lie
//     on a random k-dimensional subspace and E‖x‖² = dim.
//   - "heavy_tail": the multivariate Student-t x = z·√(ν/χ²_ν) with
//     z ~ N(0, I) and ν = DF, one χ²_ν per row. Its covariance is
//     ν/(ν − 2)·I for ν > 2 and infinite otherwise.
type Inputs struct {
	// Dist is the distribution, one of the names above.
	Dist string
	// CovDecay is ρ of gauss_aniso, in (0, 1].
	CovDecay float64
	// Components is the number of mixture components, at least 1.
	Components int
	// Spread is the standard deviation of the mixture means, at least 0.
	Spread float64
	// LatentDim is k of lowdim_manifold, in [1, dim].
	LatentDim int
	// DF is ν of heavy_tail, a whole number of at least 1.
	DF int
}

// InputDists lists the values of Inputs.Dist.
var InputDists = []string{"gauss_iso", "gauss_aniso", "mixture", "lowdim_manifold", "heavy_tail"}

func (in Inputs) validate(dim int) error {
	switch in.Dist {
	case "gauss_iso":
	case "gauss_aniso":
		if !(in.CovDecay > 0 && in.CovDecay <= 1) {
			return fmt.Errorf("cov_decay %v is invalid, want a value in (0, 1]", in.CovDecay)
		}
	case "mixture":
		if in.Components < 1 {
			return fmt.Errorf("mixture components %d is invalid, want at least 1", in.Components)
		}
		if !(in.Spread >= 0) || math.IsInf(in.Spread, 0) {
			return fmt.Errorf("mixture spread %v is invalid, want a finite value of at least 0", in.Spread)
		}
	case "lowdim_manifold":
		if in.LatentDim < 1 || in.LatentDim > dim {
			return fmt.Errorf("latent_dim %d is invalid for inputs of dimension %d, want 1 ≤ latent_dim ≤ %d", in.LatentDim, dim, dim)
		}
	case "heavy_tail":
		if in.DF < 1 {
			return fmt.Errorf("heavy_tail df %d is invalid, want a whole number of at least 1", in.DF)
		}
	default:
		return fmt.Errorf("x_dist %q is not supported, want one of %v", in.Dist, InputDists)
	}
	return nil
}

// draw returns n rows of dim inputs, row-major, drawing any distribution
// parameters (means, the subspace) first and then the rows in order.
func (in Inputs) draw(r *rng.Rand, n, dim int) ([]float64, error) {
	if err := in.validate(dim); err != nil {
		return nil, err
	}
	x := make([]float64, n*dim)
	switch in.Dist {
	case "gauss_iso":
		r.FillNorm(x)
	case "gauss_aniso":
		in.drawAniso(r, x, dim)
	case "mixture":
		in.drawMixture(r, x, n, dim)
	case "lowdim_manifold":
		in.drawSubspace(r, x, n, dim)
	case "heavy_tail":
		for i := 0; i < n; i++ {
			row := x[i*dim : i*dim+dim]
			r.FillNorm(row)
			f := math.Sqrt(float64(in.DF) / chiSquare(r, in.DF))
			for j := range row {
				row[j] *= f
			}
		}
	}
	return x, nil
}

// drawAniso writes x_ij = ρ^(j/2)·z_ij, so Var x_ij = ρ^j.
func (in Inputs) drawAniso(r *rng.Rand, x []float64, dim int) {
	sd := make([]float64, dim)
	variance := 1.0
	for j := range sd {
		sd[j] = math.Sqrt(variance)
		variance *= in.CovDecay
	}
	r.FillNorm(x)
	for i, v := range x {
		x[i] = v * sd[i%dim]
	}
}

func (in Inputs) drawMixture(r *rng.Rand, x []float64, n, dim int) {
	means := make([]float64, in.Components*dim)
	r.FillNorm(means)
	for i := range means {
		means[i] *= in.Spread
	}
	for i := 0; i < n; i++ {
		c := r.IntN(in.Components)
		mean := means[c*dim : c*dim+dim]
		row := x[i*dim : i*dim+dim]
		for j := range row {
			row[j] = mean[j] + r.Norm()
		}
	}
}

func (in Inputs) drawSubspace(r *rng.Rand, x []float64, n, dim int) {
	k := in.LatentDim
	a := make([]float64, dim*k)
	r.FillNorm(a)
	sd := 1 / math.Sqrt(float64(k))
	for i := range a {
		a[i] *= sd
	}
	z := make([]float64, k)
	for i := 0; i < n; i++ {
		r.FillNorm(z)
		row := x[i*dim : i*dim+dim]
		for j := range row {
			row[j] = dotRow(a[j*k:j*k+k], z)
		}
	}
}

func dotRow(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += float64(v * b[i])
	}
	return s
}

// chiSquare returns a χ²_ν draw as the sum of ν squared standard normals,
// redrawing the rare exact zero so that callers may divide by it.
func chiSquare(r *rng.Rand, nu int) float64 {
	for {
		s := 0.0
		for range nu {
			z := r.Norm()
			s += float64(z * z)
		}
		if s > 0 {
			return s
		}
	}
}
