package models

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/samplers"
)

// Regression is the mean-squared-error potential of an MLP on n data
// points: L_n(w) = (1/(n·out)) Σ_i Σ_j (f_w(x_i)_j − y_ij)². It implements
// samplers.Potential and is safe for concurrent use because its methods only
// read it.
type Regression struct {
	mlp  *MLP
	x, y []float64
	n    int
}

var _ samplers.Potential = (*Regression)(nil)

// NewRegression returns the potential of m on the n rows of x (n ×
// Widths[0], row-major) and y (n × Widths[last]). It keeps x and y without
// copying them, so the caller must not modify them afterwards. The only
// loss is "mse".
func NewRegression(m *MLP, x, y []float64, n int, loss string) (*Regression, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if loss != "mse" {
		return nil, fmt.Errorf("loss %q is not supported, want \"mse\"", loss)
	}
	in, out := m.Widths[0], m.Widths[len(m.Widths)-1]
	if n < 1 {
		return nil, fmt.Errorf("regression needs at least one data point, got n = %d", n)
	}
	if len(x) != n*in {
		return nil, fmt.Errorf("x has length %d, want n·in = %d·%d = %d", len(x), n, in, n*in)
	}
	if len(y) != n*out {
		return nil, fmt.Errorf("y has length %d, want n·out = %d·%d = %d", len(y), n, out, n*out)
	}
	if i := firstNonFinite(x); i >= 0 {
		return nil, fmt.Errorf("x[%d] (row %d) is %v: data must be finite", i, i/in, x[i])
	}
	if i := firstNonFinite(y); i >= 0 {
		return nil, fmt.Errorf("y[%d] (row %d) is %v: data must be finite", i, i/out, y[i])
	}
	mm := *m
	mm.Widths = append([]int(nil), m.Widths...)
	return &Regression{mlp: &mm, x: x, y: y, n: n}, nil
}

func firstNonFinite(a []float64) int {
	for i, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}

// Dim returns d, the number of parameters of the MLP.
func (p *Regression) Dim() int { return p.mlp.NumParams() }

// N returns n, the number of data points.
func (p *Regression) N() int { return p.n }

// MLP returns the model whose loss this is.
func (p *Regression) MLP() *MLP { return p.mlp }

// NewEvaluator returns an evaluator with buffers for blockRows rows, for
// use by one goroutine. Its Loss and LossGrad never allocate.
func (p *Regression) NewEvaluator() samplers.Evaluator {
	return &evaluator{p: p, net: newNetwork(p.mlp)}
}

// evaluator computes L_n and its gradient block by block.
type evaluator struct {
	p   *Regression
	net *network
}

// Loss returns L_n(w). It equals, bit for bit, the loss LossGrad(w, nil, g)
// returns.
func (e *evaluator) Loss(w []float64) float64 {
	return e.run(w, nil, nil)
}

// LossGrad returns the mean squared error over the rows in batch (all rows
// when batch is nil) and writes its gradient into grad. It panics if batch
// is empty but not nil, or if w or grad do not have length Dim().
func (e *evaluator) LossGrad(w []float64, batch []int, grad []float64) float64 {
	if grad == nil {
		panic("models: LossGrad needs a gradient slice")
	}
	return e.run(w, batch, grad)
}

// run computes the loss over batch, and its gradient when grad is not nil.
// With B rows and out outputs, the loss is Σ e²/(B·out) for the residuals
// e = f(x) − y, so ∂L/∂f = 2e/(B·out).
func (e *evaluator) run(w []float64, batch []int, grad []float64) float64 {
	d := e.p.Dim()
	if len(w) != d {
		panic(fmt.Sprintf("models: parameter vector has length %d, want %d", len(w), d))
	}
	rows := e.p.n
	if batch != nil {
		rows = len(batch)
		if rows == 0 {
			panic("models: empty batch")
		}
	}
	if grad != nil {
		if len(grad) != d {
			panic(fmt.Sprintf("models: gradient has length %d, want %d", len(grad), d))
		}
		clear(grad)
		e.net.prepareBackward(w)
	}

	in, out := e.p.mlp.Widths[0], e.p.mlp.Widths[len(e.p.mlp.Widths)-1]
	scale := 1 / float64(rows*out)
	sum := 0.0
	for start := 0; start < rows; start += blockRows {
		count := min(blockRows, rows-start)
		e.gatherInputs(batch, start, count, in)
		e.net.forward(w, count)

		pred := e.net.output(count)
		dz := e.net.grad[:count*out]
		blockSum := 0.0
		for r := 0; r < count; r++ {
			yr := e.targetRow(batch, start+r, out)
			for j, target := range yr {
				residual := pred[r*out+j] - target
				blockSum += float64(residual * residual)
				dz[r*out+j] = float64(2*residual) * scale
			}
		}
		sum += blockSum

		if grad != nil {
			e.net.backward(count, grad)
		}
	}
	return sum * scale
}

// gatherInputs copies the count rows of x starting at batch position start
// into the network's input block.
func (e *evaluator) gatherInputs(batch []int, start, count, in int) {
	dst := e.net.acts[0]
	if batch == nil {
		copy(dst[:count*in], e.p.x[start*in:(start+count)*in])
		return
	}
	for r, i := range batch[start : start+count] {
		copy(dst[r*in:r*in+in], e.p.x[i*in:i*in+in])
	}
}

// targetRow returns the y row at batch position pos.
func (e *evaluator) targetRow(batch []int, pos, out int) []float64 {
	i := pos
	if batch != nil {
		i = batch[pos]
	}
	return e.p.y[i*out : i*out+out]
}
