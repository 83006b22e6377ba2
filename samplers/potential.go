package samplers

// Potential is the empirical loss L_n of a model on its data, or an
// analytic potential K(w) with a known minimum. Samplers target the local
// posterior
//
//	log π(w) = −nβ·L_n(w) − (γ/2)·‖w − w*‖² − (α/2)·‖w‖²,
//
// where α is the weight decay, a Gaussian prior at the origin (0 by
// default).
//
// A Potential is shared read-only by the chains of a sampler, so its
// methods must be safe for concurrent use. Per-chain scratch space lives in
// the Evaluator that NewEvaluator returns.
type Potential interface {
	// Dim returns d, the number of parameters.
	Dim() int
	// N returns n, the number of data points. Analytic potentials return 1
	// and ignore batches.
	N() int
	// NewEvaluator returns an Evaluator with its own buffers, for use by
	// one goroutine.
	NewEvaluator() Evaluator
}

// Evaluator computes losses and gradients of a Potential. It is not safe
// for concurrent use.
type Evaluator interface {
	// Loss returns the full-data loss L_n(w).
	Loss(w []float64) float64
	// LossGrad returns the mean loss over the data points in batch (all of
	// them when batch is nil) and writes its gradient with respect to w
	// into grad, which has length Dim().
	LossGrad(w []float64, batch []int, grad []float64) float64
}

// Bounded is implemented by potentials whose prior is a box, such as the
// normal-crossing targets on [−1, 1]². Samplers reflect at the box walls.
type Bounded interface {
	// Bounds returns the lower and upper wall of each coordinate.
	Bounds() (lower, upper []float64)
}
