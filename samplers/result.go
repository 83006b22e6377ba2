package samplers

// Common holds the settings that every sampler shares.
type Common struct {
	// Chains is the number of independent chains (at least 1).
	Chains int
	// NBeta is nβ, the inverse temperature times n.
	NBeta float64
	// Gamma is γ, the strength of the localization term (γ/2)‖w − w*‖².
	Gamma float64
	// WeightDecay is α, the precision of the Gaussian prior at the origin,
	// which adds (α/2)‖w‖² to −log π. At 0 the samplers skip the term, so
	// their results are bit for bit those of a run without it.
	WeightDecay float64
	// InitNoise is the standard deviation of the Gaussian noise added to
	// w* to start each chain (0 starts every chain at w*).
	InitNoise float64
	// Seed is the node key. Chain c draws from rng.New(Seed, name, c).
	Seed string
	// Parallel bounds the chain goroutines (0 means one per chain).
	Parallel int
	// Progress, when not nil, is called from the chain goroutines with the
	// steps a chain has done out of its total (warmup and tuning
	// included). It must be safe for concurrent use.
	Progress func(chain, done, total int)
}

// ChainTrace is what one chain records after warmup.
type ChainTrace struct {
	// Step is the step index (counted from the first recorded step) of
	// each draw.
	Step []int
	// Loss is the full-data loss L_n at each draw.
	Loss []float64
	// Series holds per-draw sampler signals with the same length as Loss,
	// such as "mala_accept" (SGLD) or "energy_error" (HMC, MCLMC).
	Series map[string][]float64
	// Stats holds chain-level numbers such as "acceptance_rate",
	// "step_size", "divergences".
	Stats map[string]float64
}

// Work counts gradient and loss evaluations in full-data equivalents
// (FDE): a minibatch gradient of size b counts b/n, a full-batch one 1.
type Work struct {
	// GradFDE counts every gradient, warmup and tuning included.
	GradFDE float64 `json:"grad_fde"`
	// GradFDESampling counts the gradients of the recorded steps only.
	GradFDESampling float64 `json:"grad_fde_sampling"`
	// LossEvals counts the full-data loss evaluations of the estimator.
	LossEvals float64 `json:"loss_evals"`
}

// Run is the outcome of a sampler on a potential.
type Run struct {
	// LossStar is L_n(w*).
	LossStar float64
	// NBeta and Gamma are the values the chains used.
	NBeta, Gamma float64
	Chains       []ChainTrace
	Work         Work
	// Stats holds node-level sampler numbers, such as the tuned "L" and
	// "step_size" of MCLMC.
	Stats map[string]float64
}
