package models

import (
	"fmt"
	"math"

	"github.com/llcflow/llcflow/samplers"
)

// Supervised is the empirical loss of an MLP on n labelled data points,
// L_n(w) = mean of ℓ(f_w(x_i), y_i) as Loss defines it. It implements
// samplers.Potential and is safe for concurrent use because its methods
// only read it.
type Supervised struct {
	mlp  *MLP
	loss Loss
	x, y []float64
	n    int
}

var _ samplers.Potential = (*Supervised)(nil)

// NewSupervised returns the potential of m under loss on the n rows of x
// (n × Widths[0], row-major) and y: n × Widths[last] for the element-wise
// losses, n class labels for cross_entropy. It keeps x and y without
// copying them, so the caller must not modify them afterwards.
func NewSupervised(m *MLP, x, y []float64, n int, loss Loss) (*Supervised, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if err := loss.validate(); err != nil {
		return nil, err
	}
	in, out := m.Widths[0], m.Widths[len(m.Widths)-1]
	if n < 1 {
		return nil, fmt.Errorf("the empirical loss needs at least one data point, got n = %d", n)
	}
	if len(x) != n*in {
		return nil, fmt.Errorf("x has length %d, want n·in = %d·%d = %d", len(x), n, in, n*in)
	}
	cols := loss.targetColumns(out)
	if len(y) != n*cols {
		return nil, fmt.Errorf("y has length %d, want n·%d = %d·%d = %d for the %s loss", len(y), cols, n, cols, n*cols, loss.Kind)
	}
	if i := firstNonFinite(x); i >= 0 {
		return nil, fmt.Errorf("x[%d] (row %d) is %v: data must be finite", i, i/in, x[i])
	}
	if i := firstNonFinite(y); i >= 0 {
		return nil, fmt.Errorf("y[%d] (row %d) is %v: data must be finite", i, i/cols, y[i])
	}
	if err := loss.checkTargets(y, out); err != nil {
		return nil, err
	}
	mm := *m
	mm.Widths = append([]int(nil), m.Widths...)
	return &Supervised{mlp: &mm, loss: loss, x: x, y: y, n: n}, nil
}

// NewRegression returns the mean-squared-error potential of m, as
// NewSupervised with Loss{Kind: "mse"}. The only accepted loss is "mse".
func NewRegression(m *MLP, x, y []float64, n int, loss string) (*Supervised, error) {
	if loss != "mse" {
		return nil, fmt.Errorf("loss %q is not supported by NewRegression, want \"mse\"", loss)
	}
	return NewSupervised(m, x, y, n, Loss{Kind: "mse"})
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
func (p *Supervised) Dim() int { return p.mlp.NumParams() }

// N returns n, the number of data points.
func (p *Supervised) N() int { return p.n }

// MLP returns the model whose loss this is.
func (p *Supervised) MLP() *MLP { return p.mlp }

// Loss returns the loss function.
func (p *Supervised) Loss() Loss { return p.loss }

// NewEvaluator returns an evaluator with buffers for blockRows rows, for
// use by one goroutine. Its Loss and LossGrad never allocate.
func (p *Supervised) NewEvaluator() samplers.Evaluator {
	return &evaluator{p: p, net: newNetwork(p.mlp)}
}

// Accuracy returns the fraction of correct predictions at w for the
// classification losses: the argmax of the logits against the label for
// cross_entropy, the sign of each logit against its 0/1 label for
// logistic. It returns false for the regression losses.
func (p *Supervised) Accuracy(w []float64) (float64, bool) {
	if !p.loss.classifies() {
		return 0, false
	}
	if len(w) != p.Dim() {
		panic(fmt.Sprintf("models: parameter vector has length %d, want %d", len(w), p.Dim()))
	}
	e := &evaluator{p: p, net: newNetwork(p.mlp)}
	in, out := p.mlp.Widths[0], p.mlp.Widths[len(p.mlp.Widths)-1]
	correct, total := 0, 0
	for start := 0; start < p.n; start += blockRows {
		count := min(blockRows, p.n-start)
		e.gatherInputs(nil, start, count, in)
		e.net.forward(w, count)
		pred := e.net.output(count)
		for r := 0; r < count; r++ {
			c, t := p.loss.correct(pred[r*out:r*out+out], e.targetRow(nil, start+r, out))
			correct += c
			total += t
		}
	}
	return float64(correct) / float64(total), true
}

// evaluator computes L_n and its gradient block by block.
type evaluator struct {
	p   *Supervised
	net *network
}

// Loss returns L_n(w). It equals, bit for bit, the loss LossGrad(w, nil, g)
// returns.
func (e *evaluator) Loss(w []float64) float64 {
	return e.run(w, nil, nil)
}

// LossGrad returns the mean loss over the rows in batch (all rows when
// batch is nil) and writes its gradient into grad. It panics if batch is
// empty but not nil, or if w or grad do not have length Dim().
func (e *evaluator) LossGrad(w []float64, batch []int, grad []float64) float64 {
	if grad == nil {
		panic("models: LossGrad needs a gradient slice")
	}
	return e.run(w, batch, grad)
}

// run computes the loss over batch, and its gradient when grad is not nil.
// Each block's loss terms are summed unscaled, with ∂L/∂f already scaled
// by the loss's normalization (1/(B·out) or 1/B for B rows), and the sum
// is scaled once at the end.
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
	scale := e.p.loss.scale(rows, out)
	sum := 0.0
	for start := 0; start < rows; start += blockRows {
		count := min(blockRows, rows-start)
		e.gatherInputs(batch, start, count, in)
		e.net.forward(w, count)

		pred := e.net.output(count)
		dz := e.net.grad[:count*out]
		blockSum := 0.0
		for r := 0; r < count; r++ {
			target := e.targetRow(batch, start+r, out)
			blockSum = e.p.loss.row(pred[r*out:r*out+out], target, dz[r*out:r*out+out], scale, blockSum)
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

// targetRow returns the y row at batch position pos: out values for the
// element-wise losses, one label for cross_entropy.
func (e *evaluator) targetRow(batch []int, pos, out int) []float64 {
	i := pos
	if batch != nil {
		i = batch[pos]
	}
	cols := e.p.loss.targetColumns(out)
	return e.p.y[i*cols : i*cols+cols]
}
