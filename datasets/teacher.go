package datasets

import (
	"fmt"

	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

// TeacherStudent describes a regression data set y = teacher(x) + noise.
type TeacherStudent struct {
	// N is the number of data points, at least 1.
	N int
	// InDim is the input dimension. It must equal Teacher.Widths[0].
	InDim int
	// Inputs is the distribution of x.
	Inputs Inputs
	// Teacher is the MLP whose output is the regression function.
	Teacher models.MLP
	// TeacherInit is the teacher's weight scheme, "he" or "xavier". Its
	// biases are zero.
	TeacherInit string
	// Noise is the label noise.
	Noise Noise
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
	x, y, err = sample(r, c.N, c.Inputs, c.Noise, teacher, teacherW)
	if err != nil {
		return nil, nil, nil, err
	}
	return x, y, teacherW, nil
}

func (c TeacherStudent) validate() (*models.MLP, error) {
	if c.N < 1 {
		return nil, fmt.Errorf("teacher-student n = %d is invalid, want at least 1", c.N)
	}
	if err := c.Inputs.validate(c.InDim); err != nil {
		return nil, err
	}
	if err := c.Noise.validate(); err != nil {
		return nil, err
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

// sample draws n inputs, then the noise of every target, after the
// teacher's weights have been drawn from the same stream.
func sample(r *rng.Rand, n int, inputs Inputs, noise Noise, teacher *models.MLP, teacherW []float64) (x, y []float64, err error) {
	x, err = inputs.draw(r, n, teacher.Widths[0])
	if err != nil {
		return nil, nil, err
	}
	y, err = teacher.Predict(teacherW, x, n)
	if err != nil {
		return nil, nil, fmt.Errorf("teacher: %w", err)
	}
	noise.add(r, x, y, n)
	return x, y, nil
}
