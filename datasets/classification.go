package datasets

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/models"
	"github.com/llcflow/llcflow/rng"
)

// Classification describes a teacher–student classification data set:
// labels from the logits s·f0(x) of a teacher MLP, with s = LogitScale.
// A teacher with K ≥ 2 outputs gives class labels in [0, K) for the
// cross_entropy loss, one output gives 0/1 labels for the logistic loss.
type Classification struct {
	// N is the number of data points, at least 1.
	N int
	// InDim is the input dimension. It must equal Teacher.Widths[0].
	InDim int
	// Inputs is the distribution of x.
	Inputs Inputs
	// Teacher is the MLP whose outputs are the logits.
	Teacher models.MLP
	// TeacherInit is the teacher's weight scheme, "he" or "xavier".
	TeacherInit string
	// Labels is "sample", which draws each label from the teacher's
	// softmax (or sigmoid) probabilities so the teacher is the true
	// conditional distribution, or "argmax", which takes the most likely
	// class and gives separable, noise-free labels.
	Labels string
	// LogitScale s multiplies the teacher's logits, above 0. Larger values
	// make sampled labels less noisy.
	LogitScale float64
}

// Classes returns the number of classes, 2 for a one-output teacher.
func (c Classification) Classes() int {
	return max(2, c.Teacher.Widths[len(c.Teacher.Widths)-1])
}

// Generate draws the teacher's weights, then x row by row, then one label
// per row, all from r. It returns x (N × InDim), the labels y (N, as
// float64) and the teacher's parameter vector.
func (c Classification) Generate(r *rng.Rand) (x, y, teacherW []float64, err error) {
	teacher, err := c.validate()
	if err != nil {
		return nil, nil, nil, err
	}
	teacherW = make([]float64, teacher.NumParams())
	if err := teacher.Init(teacherW, r, c.TeacherInit); err != nil {
		return nil, nil, nil, fmt.Errorf("teacher: %w", err)
	}
	x, err = c.Inputs.draw(r, c.N, c.InDim)
	if err != nil {
		return nil, nil, nil, err
	}
	logits, err := teacher.Predict(teacherW, x, c.N)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("teacher: %w", err)
	}
	out := teacher.Widths[len(teacher.Widths)-1]
	y = make([]float64, c.N)
	probs := make([]float64, max(out, 2))
	for i := range y {
		c.probabilities(logits[i*out:i*out+out], probs)
		y[i] = float64(c.label(r, probs))
	}
	return x, y, teacherW, nil
}

// probabilities writes softmax(s·f) into p, or (1 − σ(s·f), σ(s·f)) for
// one logit.
func (c Classification) probabilities(f, p []float64) {
	if len(f) == 1 {
		p[1] = 1 / (1 + detmath.Exp(-c.LogitScale*f[0]))
		p[0] = 1 - p[1]
		return
	}
	m := math.Inf(-1)
	for _, v := range f {
		m = max(m, c.LogitScale*v)
	}
	sum := 0.0
	for k, v := range f {
		p[k] = detmath.Exp(c.LogitScale*v - m)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

// label returns the most likely class for "argmax", or a class drawn from
// p by one uniform variate for "sample".
func (c Classification) label(r *rng.Rand, p []float64) int {
	if c.Labels == "argmax" {
		best := 0
		for k, v := range p {
			if v > p[best] {
				best = k
			}
		}
		return best
	}
	u := r.Float64()
	cumulative := 0.0
	for k, v := range p {
		cumulative += v
		if u < cumulative {
			return k
		}
	}
	return len(p) - 1
}

func (c Classification) validate() (*models.MLP, error) {
	if c.N < 1 {
		return nil, fmt.Errorf("classification n = %d is invalid, want at least 1", c.N)
	}
	if err := c.Inputs.validate(c.InDim); err != nil {
		return nil, err
	}
	if c.Labels != "sample" && c.Labels != "argmax" {
		return nil, fmt.Errorf("labels %q is not supported, want \"sample\" or \"argmax\"", c.Labels)
	}
	if !(c.LogitScale > 0) || math.IsInf(c.LogitScale, 0) {
		return nil, fmt.Errorf("logit scale %v is invalid, want a finite value above 0", c.LogitScale)
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
