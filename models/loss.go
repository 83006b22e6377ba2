package models

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/detmath"
)

// Loss is the per-example loss ℓ(f, y) of a Supervised potential, for
// logits or predictions f = f_w(x) and targets y.
//
//   - "mse": (f_j − y_j)², averaged over the n·out elements (no ½).
//   - "student_t": ((ν + 1)/2)·log(1 + (f_j − y_j)²/(ν·s²)), the negative
//     log-likelihood of Student-t noise with ν degrees of freedom and scale
//     s up to a constant, averaged over the n·out elements.
//   - "cross_entropy": log Σ_k exp(f_k) − f_y for an integer label y in
//     [0, out), averaged over the n rows. The model needs out ≥ 2.
//   - "logistic": log(1 + exp(f_j)) − y_j·f_j for labels y_j in {0, 1}, the
//     binary cross-entropy of sigmoid(f_j), averaged over the n·out
//     elements.
type Loss struct {
	// Kind is "mse", "student_t", "cross_entropy" or "logistic".
	Kind string
	// DF is ν and Scale is s of the student_t loss, both above 0. The
	// other kinds ignore them.
	DF, Scale float64
}

func (l Loss) validate() error {
	switch l.Kind {
	case "mse", "cross_entropy", "logistic":
		return nil
	case "student_t":
		if !(l.DF > 0) || math.IsInf(l.DF, 0) {
			return fmt.Errorf("student_t loss degrees of freedom %v is invalid, want a finite value above 0", l.DF)
		}
		if !(l.Scale > 0) || math.IsInf(l.Scale, 0) {
			return fmt.Errorf("student_t loss scale %v is invalid, want a finite value above 0", l.Scale)
		}
		return nil
	}
	return fmt.Errorf("loss %q is not supported, want \"mse\", \"student_t\", \"cross_entropy\" or \"logistic\"", l.Kind)
}

// classifies reports whether the targets are class labels.
func (l Loss) classifies() bool { return l.Kind == "cross_entropy" || l.Kind == "logistic" }

// targetColumns returns the number of y values per row for a model with
// out outputs.
func (l Loss) targetColumns(out int) int {
	if l.Kind == "cross_entropy" {
		return 1
	}
	return out
}

// scale returns the normalization of a batch of rows: 1/rows for
// cross_entropy, 1/(rows·out) for the element-wise losses.
func (l Loss) scale(rows, out int) float64 {
	if l.Kind == "cross_entropy" {
		return 1 / float64(rows)
	}
	return 1 / float64(rows*out)
}

// checkTargets checks that y holds valid labels for the classification
// losses of a model with out outputs.
func (l Loss) checkTargets(y []float64, out int) error {
	switch l.Kind {
	case "cross_entropy":
		if out < 2 {
			return fmt.Errorf("the cross_entropy loss needs at least 2 outputs (one logit per class), the model has %d; use the logistic loss for one output", out)
		}
		for i, v := range y {
			if v != math.Trunc(v) || v < 0 || v >= float64(out) {
				return fmt.Errorf("label y[%d] = %v is invalid for %d classes, want an integer in [0, %d)", i, v, out, out)
			}
		}
	case "logistic":
		for i, v := range y {
			if v != 0 && v != 1 {
				return fmt.Errorf("label y[%d] (row %d) = %v is invalid for the logistic loss, want 0 or 1", i, i/out, v)
			}
		}
	}
	return nil
}

// row adds the loss terms of one row to acc, unscaled, and writes
// scale·∂ℓ/∂f into dz. f and dz have out values; target has
// targetColumns(out).
func (l Loss) row(f, target, dz []float64, scale, acc float64) float64 {
	switch l.Kind {
	case "mse":
		for j, t := range target {
			residual := f[j] - t
			acc += float64(residual * residual)
			dz[j] = float64(2*residual) * scale
		}
	case "student_t":
		// ρ(e) = ((ν + 1)/2)·log(1 + e²/(ν s²)),  ρ'(e) = (ν + 1)·e/(ν s² + e²).
		a := float64(l.DF * l.Scale * l.Scale)
		half := (l.DF + 1) / 2
		for j, t := range target {
			residual := f[j] - t
			q := float64(residual * residual)
			acc += float64(half * math.Log(1+q/a))
			dz[j] = float64(float64((l.DF+1)*residual)/(a+q)) * scale
		}
	case "logistic":
		// ℓ = softplus(f) − y·f,  ℓ' = sigmoid(f) − y.
		for j, t := range target {
			softplus, sigmoid := softplusSigmoid(f[j])
			acc += softplus - float64(t*f[j])
			dz[j] = (sigmoid - t) * scale
		}
	case "cross_entropy":
		acc += softmaxCrossEntropy(f, int(target[0]), dz, scale)
	}
	return acc
}

// softplusSigmoid returns log(1 + eᶠ) and 1/(1 + e⁻ᶠ), computed from
// e^(−|f|) so that neither overflows.
func softplusSigmoid(f float64) (softplus, sigmoid float64) {
	e := detmath.Exp(-math.Abs(f))
	softplus = max(f, 0) + math.Log(1+e)
	if f >= 0 {
		return softplus, 1 / (1 + e)
	}
	return softplus, e / (1 + e)
}

// softmaxCrossEntropy returns log Σ_k exp(f_k) − f_label and writes
// scale·(softmax(f) − onehot(label)) into dz. It subtracts max f before
// exponentiating, so no term overflows.
func softmaxCrossEntropy(f []float64, label int, dz []float64, scale float64) float64 {
	m := f[0]
	for _, v := range f[1:] {
		m = max(m, v)
	}
	sum := 0.0
	for k, v := range f {
		dz[k] = detmath.Exp(v - m)
		sum += dz[k]
	}
	for k := range dz {
		dz[k] = (dz[k] / sum) * scale
	}
	dz[label] -= scale
	return m + math.Log(sum) - f[label]
}

// correct returns how many of a row's predictions match its labels, and
// how many labels the row has.
func (l Loss) correct(f, target []float64) (correct, total int) {
	if l.Kind == "cross_entropy" {
		best := 0
		for k, v := range f {
			if v > f[best] {
				best = k
			}
		}
		if best == int(target[0]) {
			return 1, 1
		}
		return 0, 1
	}
	for j, t := range target {
		if (f[j] > 0) == (t == 1) {
			correct++
		}
	}
	return correct, len(target)
}
