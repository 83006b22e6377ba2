package datasets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

// TeacherStudent describes a regression data set y = teacher(x) + noise.
type TeacherStudent struct {
	// N is the number of data points, at least 1.
	N int
	// InDim is the input dimension. It must equal Teacher.Widths[0].
	InDim int
	// XDist is the input distribution. Only "gauss_iso", x ~ N(0, I), is
	// implemented.
	XDist string
	// Teacher is the MLP whose output is the regression function.
	Teacher models.MLP
	// TeacherInit is the teacher's weight scheme, "he" or "xavier". Its
	// biases are zero.
	TeacherInit string
	// NoiseKind is the noise distribution. Only "gauss" is implemented.
	NoiseKind string
	// NoiseScale is the noise standard deviation σ, at least 0.
	NoiseScale float64
}

// Generate draws the teacher's weights, then x row by row, then the noise
// of y row by row, all from r. It returns x (N × InDim), y (N × out) and
// the teacher's parameter vector, laid out as models.MLP.Params describes.
func (c TeacherStudent) Generate(r *rng.Rand) (x, y, teacherW []float64, err error) {
	teacher, err := c.validate()
	if err != nil {
		return nil, nil, nil, err
	}

	teacherW = make([]float64, teacher.NumParams())
	if err := teacher.Init(teacherW, r, c.TeacherInit); err != nil {
		return nil, nil, nil, fmt.Errorf("teacher: %w", err)
	}

	// gauss_iso: x_ij ~ N(0, 1) independently.
	x = make([]float64, c.N*c.InDim)
	r.FillNorm(x)

	y, err = teacher.Predict(teacherW, x, c.N)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("teacher: %w", err)
	}
	// gauss: y_ij = f0(x_i)_j + σ·ξ_ij with ξ_ij ~ N(0, 1).
	for i := range y {
		y[i] += c.NoiseScale * r.Norm()
	}
	return x, y, teacherW, nil
}

func (c TeacherStudent) validate() (*models.MLP, error) {
	if c.N < 1 {
		return nil, fmt.Errorf("teacher-student n = %d is invalid, want at least 1", c.N)
	}
	if c.XDist != "gauss_iso" {
		return nil, fmt.Errorf("x_dist %q is not implemented, want \"gauss_iso\"", c.XDist)
	}
	if c.NoiseKind != "gauss" {
		return nil, fmt.Errorf("noise kind %q is not implemented, want \"gauss\"", c.NoiseKind)
	}
	if !(c.NoiseScale >= 0) || math.IsInf(c.NoiseScale, 0) {
		return nil, fmt.Errorf("noise scale %v is invalid, want a finite value of at least 0", c.NoiseScale)
	}
	teacher, err := models.NewMLP(c.Teacher.Widths, c.Teacher.Activation, c.Teacher.Bias)
	if err != nil {
		return nil, fmt.Errorf("teacher: %w", err)
	}
	if c.InDim != teacher.Widths[0] {
		return nil, fmt.Errorf("teacher widths %v start with %d but in_dim is %d: the first width is the input dimension",
			teacher.Widths, teacher.Widths[0], c.InDim)
	}
	return teacher, nil
}
