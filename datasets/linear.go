package datasets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

// LinearTeacher describes regression data y = W_L ⋯ W_1 x + noise from a
// deep linear teacher whose matrix product has rank Rank. With two widths
// past the input (three in all) it is the reduced-rank regression teacher
// y = B·A·x; with more it is a deep linear network.
type LinearTeacher struct {
	// N is the number of data points, at least 1.
	N int
	// Widths are H_1 (the input dimension) … H_{L+1} (the output
	// dimension), at least two. W_l is H_{l+1} × H_l.
	Widths []int
	// Rank is the rank r of the product W_L ⋯ W_1, with
	// 0 ≤ r ≤ min_l H_l.
	Rank int
	// Init scales the matrices: "xavier" gives entries of variance
	// 2/(H_l + H_{l+1}), "he" 2/H_l.
	Init string
	// Inputs is the distribution of x.
	Inputs Inputs
	// Noise is the label noise.
	Noise Noise
}

// Teacher returns the bias-free identity MLP with the teacher's widths,
// whose parameter vector is the teacher's W_1, …, W_L.
func (c LinearTeacher) Teacher() (*models.MLP, error) {
	return models.NewMLP(c.Widths, "identity", false)
}

// Generate draws the teacher's matrices, then x row by row, then the noise
// of y row by row, all from r. It returns x (N × H_1), y (N × H_{L+1})
// and the teacher's parameter vector in the layout of Teacher().Params.
//
// W_1 = σ_1·U·Vᵀ/√r, with U (H_2 × r) and V (H_1 × r) of independent
// standard normal entries, so W_1 has rank r and entries of variance σ_1².
// For r = 0, W_1 = 0. W_2, …, W_L have independent N(0, σ_l²) entries and
// full rank almost surely, so the product has rank r almost surely.
func (c LinearTeacher) Generate(r *rng.Rand) (x, y, teacherW []float64, err error) {
	teacher, err := c.validate()
	if err != nil {
		return nil, nil, nil, err
	}

	teacherW = make([]float64, teacher.NumParams())
	for l, p := range teacher.Params() {
		out, in := p.Shape[0], p.Shape[1]
		w := teacherW[p.Offset : p.Offset+out*in]
		sigma := c.scale(in, out)
		if l == 0 {
			c.drawLowRank(r, w, out, in, sigma)
			continue
		}
		for i := range w {
			w[i] = sigma * r.Norm()
		}
	}
	x, y, err = sample(r, c.N, c.Inputs, c.Noise, teacher, teacherW)
	if err != nil {
		return nil, nil, nil, err
	}
	return x, y, teacherW, nil
}

// drawLowRank writes σ·U·Vᵀ/√r into w (out × in, row-major), drawing U
// and then V row by row.
func (c LinearTeacher) drawLowRank(r *rng.Rand, w []float64, out, in int, sigma float64) {
	rank := c.Rank
	if rank == 0 {
		clear(w)
		return
	}
	u := make([]float64, out*rank)
	v := make([]float64, in*rank)
	r.FillNorm(u)
	r.FillNorm(v)
	f := sigma / math.Sqrt(float64(rank))
	for i := 0; i < out; i++ {
		for j := 0; j < in; j++ {
			s := 0.0
			for k := 0; k < rank; k++ {
				s += float64(u[i*rank+k] * v[j*rank+k])
			}
			w[i*in+j] = float64(f * s)
		}
	}
}

// scale returns the standard deviation σ_l of the entries of an out × in
// matrix under c.Init.
func (c LinearTeacher) scale(in, out int) float64 {
	if c.Init == "he" {
		return math.Sqrt(2 / float64(in))
	}
	return math.Sqrt(2 / float64(in+out))
}

func (c LinearTeacher) validate() (*models.MLP, error) {
	if c.N < 1 {
		return nil, fmt.Errorf("linear teacher n = %d is invalid, want at least 1", c.N)
	}
	teacher, err := c.Teacher()
	if err != nil {
		return nil, fmt.Errorf("linear teacher: %w", err)
	}
	if minWidth := minInt(c.Widths); c.Rank < 0 || c.Rank > minWidth {
		return nil, fmt.Errorf("linear teacher rank %d is invalid for widths %v, want 0 ≤ rank ≤ %d (the smallest width)",
			c.Rank, c.Widths, minWidth)
	}
	if c.Init != "he" && c.Init != "xavier" {
		return nil, fmt.Errorf("init scheme %q is not supported, want \"he\" or \"xavier\"", c.Init)
	}
	if err := c.Inputs.validate(c.Widths[0]); err != nil {
		return nil, err
	}
	if err := c.Noise.validate(); err != nil {
		return nil, err
	}
	return teacher, nil
}

func minInt(a []int) int {
	m := a[0]
	for _, v := range a[1:] {
		m = min(m, v)
	}
	return m
}
