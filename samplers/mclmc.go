package samplers

import (
	"context"
	"fmt"
	"math"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/rng"
)

// MCLMCConfig configures MCLMC. DefaultMCLMCConfig returns the recommended
// values.
type MCLMCConfig struct {
	Common
	// Integrator is "leapfrog" (one gradient per step) or "mclachlan"
	// (the minimal-norm integrator, two gradients per step). "" means
	// "mclachlan". It is used for tuning, warmup and the draws.
	Integrator string
	// L is the momentum decoherence length and StepSize the step size ε.
	// 0 tunes the value. When both are given, tuning is skipped.
	L, StepSize float64
	// DesiredEnergyVar is the target of the step size tuning for
	// E[ΔE²]/d, the mean squared energy error per step and dimension.
	// 0 means 5e-4. Smaller values give smaller steps and less bias.
	DesiredEnergyVar float64
	// TuneSteps is the number of steps of each tuning stage. 0 means 500.
	TuneSteps int
	// Warmup is the number of steps after tuning that are not recorded.
	Warmup int
	// Draws is the number of recorded steps per chain.
	Draws int
}

// DefaultMCLMCConfig returns the recommended MCLMC settings: the McLachlan
// integrator, (L, ε) tuned toward E[ΔE²]/d = 5e-4 with 500 steps per
// stage, 200 warmup steps and 1000 draws on 4 chains. NBeta and Seed must
// still be set.
func DefaultMCLMCConfig() MCLMCConfig {
	return MCLMCConfig{
		Common:           Common{Chains: 4},
		Integrator:       "mclachlan",
		DesiredEnergyVar: mclmcDefaultEnergyVar,
		TuneSteps:        mclmcDefaultTuneSteps,
		Warmup:           200,
		Draws:            1000,
	}
}

const (
	mclmcDefaultEnergyVar = 5e-4
	mclmcDefaultTuneSteps = 500
	// mclmcMinTuneSteps keeps the stage-3 ESS estimate meaningful.
	mclmcMinTuneSteps = 20
	// mclmcMcLachlanLambda is λ of the minimal-norm second-order
	// integrator, the value that minimizes the norm of its leading error
	// term and that BlackJAX's isokinetic McLachlan integrator uses.
	mclmcMcLachlanLambda = 0.1931833275037836
)

// Integrators as alternating coefficients, velocity update first: the
// velocity moves for time coefficient·ε, then the position for time
// coefficient·ε, and so on. Both are palindromic, so they are reversible.
var (
	mclmcLeapfrog  = []float64{0.5, 1, 0.5}
	mclmcMcLachlan = []float64{
		mclmcMcLachlanLambda, 0.5, 1 - 2*mclmcMcLachlanLambda, 0.5, mclmcMcLachlanLambda,
	}
)

// MCLMC runs microcanonical Langevin Monte Carlo (Robnik, De Luca,
// Silverstein and Seljak 2023) on the local posterior
//
//	log π(w) = −nβ·L_n(w) − (γ/2)·‖w − w*‖² − (α/2)·‖w‖²,
//
// with a unit-norm velocity u, the isokinetic velocity update, the leapfrog
// or McLachlan integrator and a partial velocity refresh after every step.
// It is unadjusted: there is no Metropolis correction, so its estimates
// carry a bias that shrinks with the energy error.
//
// When L or ε is 0, each chain tunes them in up to three stages of
// cfg.TuneSteps steps, as BlackJAX's mclmc_find_L_and_step_size does
// without preconditioning. Stage 1 sets ε from the energy errors, stage 2
// goes on tuning ε and sets L = √(Σ_i Var w_i), and stage 3 runs with both
// fixed and sets L = 0.4·ε·mean_i(n/ESS_i) from the effective sample sizes
// of the coordinates. A given ε skips stage 1 and the ε updates, and a
// given L skips the L updates and stage 3.
//
// Chain c draws from rng.New(cfg.Seed, "mclmc", c) only, so the result is
// the same bits at every cfg.Parallel. Each chain records, per draw, the
// loss L_n and the series "energy_error" (ΔE of the step), and the stats
// "L", "step_size" and "energy_var" (E[ΔE²]/d over the draws). Run.Stats
// holds their means over the chains. Every gradient counts 1 FDE.
//
// It returns an error when the potential has fewer than 2 dimensions, a
// *DivergenceError when the state becomes NaN or Inf after tuning, and
// ctx's error when ctx is cancelled.
func MCLMC(ctx context.Context, pot Potential, wStar []float64, cfg MCLMCConfig) (*Run, error) {
	coefficients, err := validateMCLMC(pot, wStar, &cfg)
	if err != nil {
		return nil, fmt.Errorf("mclmc: %w", err)
	}
	lower, upper, bounded, err := boxOf(pot, wStar)
	if err != nil {
		return nil, fmt.Errorf("mclmc: %w", err)
	}

	traces := make([]ChainTrace, cfg.Chains)
	work := make([]Work, cfg.Chains)
	err = runChainsBounded(ctx, cfg.Chains, cfg.Parallel, func(ctx context.Context, c int) error {
		chain := newMCLMCChain(pot, wStar, &cfg, coefficients, c)
		if bounded {
			chain.lower, chain.upper = lower, upper
		}
		if err := chain.run(ctx); err != nil {
			return err
		}
		traces[c] = chain.trace
		work[c] = chain.work
		return nil
	})
	if err != nil {
		return nil, err
	}

	run := &Run{
		LossStar: pot.NewEvaluator().Loss(wStar),
		NBeta:    cfg.NBeta,
		Gamma:    cfg.Gamma,
		Chains:   traces,
		Work:     sumWork(work),
		Stats:    map[string]float64{},
	}
	// The draws reuse the loss of each gradient evaluation, so the only
	// loss evaluation of the estimator is L_n(w*).
	run.Work.LossEvals = 1
	for _, name := range []string{"L", "step_size", "energy_var"} {
		var sum float64
		for _, trace := range traces {
			sum += trace.Stats[name]
		}
		run.Stats[name] = sum / float64(cfg.Chains)
	}
	return run, nil
}

// validateMCLMC checks cfg, fills in its defaults and returns the
// integrator's coefficients.
func validateMCLMC(pot Potential, wStar []float64, cfg *MCLMCConfig) ([]float64, error) {
	if err := validateCommon(cfg.Common, pot, wStar); err != nil {
		return nil, err
	}

	if d := pot.Dim(); d < 2 {
		return nil, fmt.Errorf("potential dimension %d is too small: MCLMC needs at least 2, "+
			"because a unit velocity in one dimension can only flip sign and the isokinetic "+
			"update divides by d − 1; use HMC instead", d)
	}
	var coefficients []float64
	switch cfg.Integrator {
	case "", "mclachlan":
		cfg.Integrator = "mclachlan"
		coefficients = mclmcMcLachlan
	case "leapfrog":
		coefficients = mclmcLeapfrog
	default:
		return nil, fmt.Errorf("integrator %q is unknown: use \"mclachlan\" or \"leapfrog\"",
			cfg.Integrator)
	}

	if !(cfg.L >= 0) || math.IsInf(cfg.L, 0) {
		return nil, fmt.Errorf("L = %g is invalid: give a positive length, or 0 to tune it", cfg.L)
	}
	if !(cfg.StepSize >= 0) || math.IsInf(cfg.StepSize, 0) {
		return nil, fmt.Errorf("step size %g is invalid: give a positive ε, or 0 to tune it",
			cfg.StepSize)
	}
	if cfg.DesiredEnergyVar == 0 {
		cfg.DesiredEnergyVar = mclmcDefaultEnergyVar
	}
	if !(cfg.DesiredEnergyVar > 0) || math.IsInf(cfg.DesiredEnergyVar, 0) {
		return nil, fmt.Errorf("desired energy variance %g is invalid: it must be positive, "+
			"such as 5e-4", cfg.DesiredEnergyVar)
	}

	if cfg.TuneSteps == 0 {
		cfg.TuneSteps = mclmcDefaultTuneSteps
	}
	if cfg.TuneSteps < mclmcMinTuneSteps {
		return nil, fmt.Errorf("tune steps = %d is invalid: use at least %d per stage",
			cfg.TuneSteps, mclmcMinTuneSteps)
	}
	if cfg.Warmup < 0 {
		return nil, fmt.Errorf("warmup = %d is invalid: it must be 0 or more", cfg.Warmup)
	}
	if cfg.Draws < 1 {
		return nil, fmt.Errorf("draws = %d is invalid: record at least 1 draw", cfg.Draws)
	}
	return coefficients, nil
}

// mclmcChain is the state and the buffers of one MCLMC chain. Nothing is
// allocated per step after newMCLMCChain, except at the end of stage 3.
type mclmcChain struct {
	eval         Evaluator
	cfg          *MCLMCConfig
	coefficients []float64
	index        int
	r            *rng.Rand
	wStar        []float64
	lower, upper []float64

	// Current state: position, unit velocity, gradient of U, loss L_n and
	// U = nβ·L_n + (γ/2)‖w − w*‖² + (α/2)‖w‖².
	w, velocity, grad []float64
	loss, energy      float64
	// Copy of the state before a tuning step, restored when the step
	// produces a NaN or Inf.
	wSaved, velocitySaved, gradSaved []float64
	lossSaved, energySaved           float64
	noise                            []float64

	L, eps float64
	step   int // steps done, tuning included
	trace  ChainTrace
	work   Work
}

func newMCLMCChain(pot Potential, wStar []float64, cfg *MCLMCConfig, coefficients []float64, c int) *mclmcChain {
	d := pot.Dim()
	return &mclmcChain{
		eval: pot.NewEvaluator(), cfg: cfg, coefficients: coefficients, index: c,
		r:     rng.New(cfg.Seed, "mclmc", uint64(c)),
		wStar: wStar,
		w:     make([]float64, d), velocity: make([]float64, d), grad: make([]float64, d),
		wSaved: make([]float64, d), velocitySaved: make([]float64, d), gradSaved: make([]float64, d),
		noise: make([]float64, d),
		trace: newChainTrace(cfg.Draws, "energy_error"),
	}
}

// potentialGrad evaluates U(w) = nβ·L_n(w) + (γ/2)‖w − w*‖² + (α/2)‖w‖² at
// the current position, writes ∇U into c.grad and counts one FDE.
func (c *mclmcChain) potentialGrad(sampling bool) {
	loss := c.eval.LossGrad(c.w, nil, c.grad)
	c.work.GradFDE++
	if sampling {
		c.work.GradFDESampling++
	}
	nBeta, gamma := c.cfg.NBeta, c.cfg.Gamma
	var dist2 float64
	for i, g := range c.grad {
		dw := c.w[i] - c.wStar[i]
		c.grad[i] = nBeta*g + gamma*dw
		dist2 += dw * dw
	}
	c.loss, c.energy = loss, nBeta*loss+gamma/2*dist2
	if alpha := c.cfg.WeightDecay; alpha > 0 {
		c.energy += addWeightDecay(alpha, c.w, c.grad)
	}
}

func (c *mclmcChain) run(ctx context.Context) error {
	cfg := c.cfg
	startChainAt(c.w, c.wStar, cfg.InitNoise, c.r)
	if c.lower != nil {
		reflectIntoBox(c.w, nil, c.lower, c.upper)
	}
	c.potentialGrad(false)
	if !allFinite(c.w) || !allFinite(c.grad) || math.IsNaN(c.energy) || math.IsInf(c.energy, 0) {
		return fmt.Errorf("mclmc chain %d: the loss or its gradient is NaN or Inf at the start "+
			"point: check w* and init noise %g", c.index, cfg.InitNoise)
	}
	c.r.FillNorm(c.velocity)
	mclmcNormalize(c.velocity)

	tuneSteps := c.tuningSteps()
	progress := newChainProgress(cfg.Progress, c.index, tuneSteps+cfg.Warmup+cfg.Draws)
	if err := c.tune(ctx, progress); err != nil {
		return err
	}
	return c.sample(ctx, progress, tuneSteps)
}

// tuningSteps returns the number of tuning steps that the configuration
// implies.
func (c *mclmcChain) tuningSteps() int {
	tuneEps, tuneL := c.cfg.StepSize == 0, c.cfg.L == 0
	n := 0
	if tuneEps {
		n += c.cfg.TuneSteps // stage 1
	}
	if tuneEps || tuneL {
		n += c.cfg.TuneSteps // stage 2
	}
	if tuneL {
		n += c.cfg.TuneSteps // stage 3
	}
	return n
}

// sample runs the warmup steps and records the draws with fixed (L, ε).
func (c *mclmcChain) sample(ctx context.Context, progress chainProgress, done int) error {
	cfg := c.cfg
	for it := 0; it < cfg.Warmup; it++ {
		if err := pollContextEvery16(ctx, it); err != nil {
			return err
		}
		if _, err := c.checkedStep(false); err != nil {
			return err
		}
		progress.step(done + it + 1)
	}
	done += cfg.Warmup

	energyErrors := c.trace.Series["energy_error"]
	var sumSquares float64
	for it := 0; it < cfg.Draws; it++ {
		if err := pollContextEvery16(ctx, it); err != nil {
			return err
		}
		energyChange, err := c.checkedStep(true)
		if err != nil {
			return err
		}
		sumSquares += energyChange * energyChange
		c.trace.Step = append(c.trace.Step, it)
		c.trace.Loss = append(c.trace.Loss, c.loss)
		energyErrors = append(energyErrors, energyChange)
		progress.step(done + it + 1)
	}
	c.trace.Series["energy_error"] = energyErrors
	c.trace.Stats["L"] = c.L
	c.trace.Stats["step_size"] = c.eps
	c.trace.Stats["energy_var"] = sumSquares / float64(cfg.Draws) / float64(len(c.w))
	return nil
}

// checkedStep runs one step with the current (L, ε) and returns its energy
// error, or a *DivergenceError when the state or the energy error became
// NaN or Inf.
func (c *mclmcChain) checkedStep(sampling bool) (float64, error) {
	step := c.step
	energyChange := c.integrate(sampling)
	if !c.finite(energyChange) {
		return 0, &DivergenceError{Sampler: "mclmc", Chain: c.index, Step: step, StepSize: c.eps}
	}
	c.refresh()
	return energyChange, nil
}

func (c *mclmcChain) finite(energyChange float64) bool {
	return !math.IsNaN(energyChange) && !math.IsInf(energyChange, 0) &&
		allFinite(c.w) && allFinite(c.velocity)
}

// integrate advances the state by one integrator step of size ε and
// returns the energy error ΔE = ΔK + ΔU, where ΔK sums the kinetic energy
// changes of the velocity updates.
func (c *mclmcChain) integrate(sampling bool) float64 {
	c.step++
	energyBefore := c.energy
	var kineticChange float64
	for k, coefficient := range c.coefficients {
		if k%2 == 0 {
			kineticChange += c.updateVelocity(coefficient * c.eps)
			continue
		}
		c.updatePosition(coefficient * c.eps)
		c.potentialGrad(sampling)
	}
	return kineticChange + c.energy - energyBefore
}

// updatePosition moves w by t·u and reflects it at the box walls, flipping
// the velocity components that hit a wall.
func (c *mclmcChain) updatePosition(t float64) {
	for i, u := range c.velocity {
		c.w[i] += t * u
	}
	if c.lower != nil {
		reflectIntoBox(c.w, c.velocity, c.lower, c.upper)
	}
}

// updateVelocity applies the isokinetic velocity update for time t. With
// e = −∇U/‖∇U‖, δ = t·‖∇U‖/(d − 1) and ζ = e^{−δ}, the energy-conserving
// update of Robnik et al. (2023) is
//
//	u ← normalize(e·(1 − ζ)(1 + ζ + (u·e)(1 − ζ)) + 2ζ·u),
//
// and the kinetic energy changes by
//
//	ΔK = (d − 1)·(δ − log 2 + log(1 + u·e + (1 − u·e)ζ²)).
//
// It returns ΔK. A zero gradient leaves u unchanged.
func (c *mclmcChain) updateVelocity(t float64) float64 {
	var gradNorm2 float64
	for _, g := range c.grad {
		gradNorm2 += g * g
	}
	gradNorm := math.Sqrt(gradNorm2)
	if gradNorm == 0 {
		return 0
	}
	var ue float64
	for i, g := range c.grad {
		ue -= c.velocity[i] * g
	}
	ue /= gradNorm
	dm1 := float64(len(c.w) - 1)
	delta := t * gradNorm / dm1
	zeta := detmath.Exp(-delta)

	alongE := (1 - zeta) * (1 + zeta + ue*(1-zeta)) / gradNorm
	for i, g := range c.grad {
		c.velocity[i] = 2*zeta*c.velocity[i] - alongE*g
	}
	mclmcNormalize(c.velocity)
	return dm1 * (delta - math.Ln2 + math.Log(1+ue+(1-ue)*zeta*zeta))
}

// refresh partially refreshes the velocity after a step, the Langevin-like
// noise that turns MCHMC into MCLMC:
//
//	u ← (u + ν·z)/‖u + ν·z‖,   z ~ N(0, I),   ν = √((e^{2ε/L} − 1)/d),
//
// which decorrelates the velocity over a length of about L.
func (c *mclmcChain) refresh() {
	d := float64(len(c.w))
	nu := math.Sqrt((detmath.Exp(2*c.eps/c.L) - 1) / d)
	c.r.FillNorm(c.noise)
	for i, z := range c.noise {
		c.velocity[i] += nu * z
	}
	mclmcNormalize(c.velocity)
}

// save copies the state, and restore brings the copy back.
func (c *mclmcChain) save() {
	copy(c.wSaved, c.w)
	copy(c.velocitySaved, c.velocity)
	copy(c.gradSaved, c.grad)
	c.lossSaved, c.energySaved = c.loss, c.energy
}

func (c *mclmcChain) restore() {
	copy(c.w, c.wSaved)
	copy(c.velocity, c.velocitySaved)
	copy(c.grad, c.gradSaved)
	c.loss, c.energy = c.lossSaved, c.energySaved
}

// mclmcNormalize scales x to unit Euclidean norm.
func mclmcNormalize(x []float64) {
	var s float64
	for _, v := range x {
		s += v * v
	}
	inv := 1 / math.Sqrt(s)
	for i := range x {
		x[i] *= inv
	}
}
