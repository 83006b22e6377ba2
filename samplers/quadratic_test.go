package samplers

// Test-only potentials with exactly known posteriors.

// quadraticPotential is K(w) = ½ Σ_i h_i (w_i − center_i)² with n = 1, so
// L_b = K for every batch.
type quadraticPotential struct {
	h      []float64
	center []float64
}

// newQuadratic returns the quadratic with curvatures h centred at the
// origin.
func newQuadratic(h ...float64) *quadraticPotential {
	return &quadraticPotential{h: h, center: make([]float64, len(h))}
}

// isotropicQuadratic returns the d-dimensional quadratic with h_i = 1.
func isotropicQuadratic(d int) *quadraticPotential {
	h := make([]float64, d)
	for i := range h {
		h[i] = 1
	}
	return newQuadratic(h...)
}

func (q *quadraticPotential) Dim() int                { return len(q.h) }
func (q *quadraticPotential) N() int                  { return 1 }
func (q *quadraticPotential) NewEvaluator() Evaluator { return quadraticEvaluator{q} }

type quadraticEvaluator struct{ q *quadraticPotential }

func (e quadraticEvaluator) Loss(w []float64) float64 {
	var k float64
	for i, h := range e.q.h {
		x := w[i] - e.q.center[i]
		k += h * x * x
	}
	return k / 2
}

func (e quadraticEvaluator) LossGrad(w []float64, _ []int, grad []float64) float64 {
	for i, h := range e.q.h {
		grad[i] = h * (w[i] - e.q.center[i])
	}
	return e.Loss(w)
}

// boxedQuadratic is a quadraticPotential whose prior is the box
// [lower, upper].
type boxedQuadratic struct {
	*quadraticPotential
	lower, upper []float64
}

func (b *boxedQuadratic) Bounds() (lower, upper []float64) { return b.lower, b.upper }

// meanPotential is L_n(w) = (1/n) Σ_j ½‖w − x_j‖² over n data points x_j,
// whose minibatch gradient w − mean(x_B) carries real minibatch noise. Its
// minimum is the data mean.
type meanPotential struct {
	x [][]float64
	// batches, when not nil, receives a copy of every batch passed to an
	// evaluator. It makes evaluators allocate and is not safe for concurrent
	// chains.
	batches *[][]int
}

func (m *meanPotential) Dim() int                { return len(m.x[0]) }
func (m *meanPotential) N() int                  { return len(m.x) }
func (m *meanPotential) NewEvaluator() Evaluator { return meanEvaluator{m} }

// mean returns the data mean, the minimizer of L_n.
func (m *meanPotential) mean() []float64 {
	mu := make([]float64, m.Dim())
	for _, x := range m.x {
		for i, v := range x {
			mu[i] += v
		}
	}
	for i := range mu {
		mu[i] /= float64(m.N())
	}
	return mu
}

type meanEvaluator struct{ m *meanPotential }

func (e meanEvaluator) Loss(w []float64) float64 {
	var sum float64
	for _, x := range e.m.x {
		for i, v := range x {
			sum += (w[i] - v) * (w[i] - v)
		}
	}
	return sum / (2 * float64(len(e.m.x)))
}

func (e meanEvaluator) LossGrad(w []float64, batch []int, grad []float64) float64 {
	if e.m.batches != nil {
		*e.m.batches = append(*e.m.batches, append([]int(nil), batch...))
	}
	if batch == nil {
		for i := range grad {
			grad[i] = 0
		}
		for _, x := range e.m.x {
			for i, v := range x {
				grad[i] += w[i] - v
			}
		}
		for i := range grad {
			grad[i] /= float64(len(e.m.x))
		}
		return e.Loss(w)
	}
	var sum float64
	for i := range grad {
		grad[i] = 0
	}
	for _, j := range batch {
		for i, v := range e.m.x[j] {
			grad[i] += w[i] - v
			sum += (w[i] - v) * (w[i] - v)
		}
	}
	for i := range grad {
		grad[i] /= float64(len(batch))
	}
	return sum / (2 * float64(len(batch)))
}
