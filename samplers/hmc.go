package samplers

import (
	"context"
	"fmt"
	"math"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/rng"
)

// HMCConfig configures HMC. DefaultHMCConfig returns the recommended
// values.
type HMCConfig struct {
	Common
	// StepSize is the initial leapfrog step size ε. 0 starts from a step
	// size found by doubling or halving ε until the acceptance probability
	// of one leapfrog step crosses 0.8 (Stan's heuristic). Without warmup
	// it is the step size of every transition.
	StepSize float64
	// LeapfrogSteps is the number of leapfrog steps per transition.
	LeapfrogSteps int
	// Warmup is the number of adapting transitions before the draws. They
	// are not recorded, and the chain keeps its state at their end.
	Warmup int
	// Draws is the number of recorded transitions per chain.
	Draws int
	// TargetAccept is the mean acceptance statistic that dual averaging
	// aims for during warmup. 0 means 0.8.
	TargetAccept float64
	// AdaptMass turns on the windowed estimate of a diagonal mass matrix
	// during warmup. The zero value leaves the mass matrix at the identity.
	// DefaultHMCConfig turns it on.
	AdaptMass bool
	// StepJitter is j in [0, 1): each recorded transition draws its step
	// size uniformly from [ε(1 − j), ε(1 + j)], independently of the state,
	// so the posterior stays invariant. The shorter steps let a chain pass
	// where ε diverges. 0 keeps ε fixed and draws nothing extra.
	StepJitter float64
}

// DefaultHMCConfig returns the recommended HMC settings: 10 leapfrog steps,
// 500 warmup transitions and 1000 draws on 4 chains, target acceptance
// 0.8, mass matrix adaptation on, and a step size found automatically.
// NBeta and Seed must still be set.
func DefaultHMCConfig() HMCConfig {
	return HMCConfig{
		Common:        Common{Chains: 4},
		LeapfrogSteps: 10,
		Warmup:        500,
		Draws:         1000,
		TargetAccept:  0.8,
		AdaptMass:     true,
	}
}

const (
	// hmcDivergence is the energy error above which a transition counts
	// as divergent, as in Stan.
	hmcDivergence = 1000
	// hmcStepSearchAccept is the one-step acceptance probability at which
	// the step size search stops, as in Stan.
	hmcStepSearchAccept = 0.8
	// hmcMaxStepSize bounds the step size search: a step size that keeps
	// growing past it means the posterior is improper.
	hmcMaxStepSize = 1e7
	// hmcDefaultTargetAccept is the target of dual averaging when
	// TargetAccept is 0.
	hmcDefaultTargetAccept = 0.8
	// hmcMaxNaNStreak is the number of consecutive draws with a NaN energy
	// error after which a chain counts as diverged. Each transition draws
	// a fresh momentum, so a streak this long means that the potential is
	// NaN around the current state, not that one trajectory overflowed.
	hmcMaxNaNStreak = 50
)

// nanStreakAfter returns the length of the run of NaN energy errors that
// ends with energyError.
func nanStreakAfter(streak int, energyError float64) int {
	if math.IsNaN(energyError) {
		return streak + 1
	}
	return 0
}

// HMC runs Hamiltonian Monte Carlo on the local posterior
//
//	log π(w) = −nβ·L_n(w) − (γ/2)·‖w − w*‖² − (α/2)·‖w‖²
//
// with full-batch gradients, a leapfrog integrator with a diagonal mass
// matrix and a Metropolis correction. During warmup the step size is tuned
// by dual averaging toward cfg.TargetAccept and, when cfg.AdaptMass is
// set, the inverse mass matrix is estimated from the variances of the
// draws in Stan's doubling windows. A transition whose energy error
// exceeds 1000 counts as divergent and is rejected.
//
// Chain c draws from rng.New(cfg.Seed, "hmc", c) only, so the result is
// the same bits at every cfg.Parallel. Each chain records, per draw, the
// loss L_n and the series "energy_error" (H(proposal) − H(current)), and
// the stats "acceptance_rate" (mean acceptance statistic of the draws),
// "step_size", "divergences" and "warmup_divergences". Every gradient
// counts 1 FDE.
//
// A trajectory whose energy error is NaN, as when it overflowed on a
// potential that grows fast, is a rejected divergent transition. It
// returns a *DivergenceError when 50 draws in a row of one chain have a
// NaN energy error, and ctx's error when ctx is cancelled.
func HMC(ctx context.Context, pot Potential, wStar []float64, cfg HMCConfig) (*Run, error) {
	if err := validateHMC(pot, wStar, &cfg); err != nil {
		return nil, fmt.Errorf("hmc: %w", err)
	}
	lower, upper, bounded, err := boxOf(pot, wStar)
	if err != nil {
		return nil, fmt.Errorf("hmc: %w", err)
	}

	traces := make([]ChainTrace, cfg.Chains)
	work := make([]Work, cfg.Chains)
	err = runChainsBounded(ctx, cfg.Chains, cfg.Parallel, func(ctx context.Context, c int) error {
		chain := newHMCChain(pot, wStar, &cfg, c)
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
		Stats:    map[string]float64{"leapfrog_steps": float64(cfg.LeapfrogSteps)},
	}
	// The draws reuse the loss that each gradient evaluation returns, so
	// the only loss evaluation of the estimator is L_n(w*).
	run.Work.LossEvals = 1
	var stepSize, accept, divergences float64
	for _, trace := range traces {
		stepSize += trace.Stats["step_size"]
		accept += trace.Stats["acceptance_rate"]
		divergences += trace.Stats["divergences"]
	}
	run.Stats["step_size"] = stepSize / float64(cfg.Chains)
	run.Stats["acceptance_rate"] = accept / float64(cfg.Chains)
	run.Stats["divergences"] = divergences
	return run, nil
}

// validateHMC checks cfg and fills in the default target acceptance.
func validateHMC(pot Potential, wStar []float64, cfg *HMCConfig) error {
	if err := validateCommon(cfg.Common, pot, wStar); err != nil {
		return err
	}
	if !(cfg.StepSize >= 0) || math.IsInf(cfg.StepSize, 0) {
		return fmt.Errorf("step size %g is invalid: give a positive ε, or 0 to find one", cfg.StepSize)
	}
	if cfg.LeapfrogSteps < 1 {
		return fmt.Errorf("leapfrog steps = %d is invalid: use at least 1", cfg.LeapfrogSteps)
	}
	if cfg.Warmup < 0 {
		return fmt.Errorf("warmup = %d is invalid: it must be 0 or more", cfg.Warmup)
	}
	if cfg.Draws < 1 {
		return fmt.Errorf("draws = %d is invalid: record at least 1 draw", cfg.Draws)
	}
	if !(cfg.StepJitter >= 0 && cfg.StepJitter < 1) {
		return fmt.Errorf("step jitter %g is invalid: it must lie in [0, 1), such as 0.9", cfg.StepJitter)
	}
	if cfg.TargetAccept == 0 {
		cfg.TargetAccept = hmcDefaultTargetAccept
	}
	if !(cfg.TargetAccept > 0 && cfg.TargetAccept < 1) {
		return fmt.Errorf("target acceptance %g is invalid: it must lie in (0, 1), such as 0.8",
			cfg.TargetAccept)
	}
	return nil
}

// hmcChain is the state and the buffers of one HMC chain. Nothing is
// allocated after newHMCChain.
type hmcChain struct {
	pot   Potential
	eval  Evaluator
	cfg   *HMCConfig
	index int
	r     *rng.Rand
	wStar []float64
	// lower and upper are the box walls, nil when the potential is not
	// Bounded.
	lower, upper []float64

	// Current state: position, gradient of U, loss L_n and U.
	w, grad []float64
	loss, u float64
	// Proposal buffers.
	wProp, gradProp, p []float64
	lossProp, uProp    float64
	// invMass is the diagonal inverse mass matrix M⁻¹ and sqrtMass holds
	// √M_i, the scale of the momentum draws.
	invMass, sqrtMass []float64

	eps   float64
	step  int // transitions done, warmup included
	trace ChainTrace
	work  Work
}

func newHMCChain(pot Potential, wStar []float64, cfg *HMCConfig, c int) *hmcChain {
	d := pot.Dim()
	chain := &hmcChain{
		pot: pot, eval: pot.NewEvaluator(), cfg: cfg, index: c,
		r:     rng.New(cfg.Seed, "hmc", uint64(c)),
		wStar: wStar,
		w:     make([]float64, d), grad: make([]float64, d),
		wProp: make([]float64, d), gradProp: make([]float64, d), p: make([]float64, d),
		invMass: make([]float64, d), sqrtMass: make([]float64, d),
		trace: newChainTrace(cfg.Draws, "energy_error"),
	}
	for i := range chain.invMass {
		chain.invMass[i], chain.sqrtMass[i] = 1, 1
	}
	return chain
}

// potentialGrad evaluates U(w) = nβ·L_n(w) + (γ/2)‖w − w*‖² + (α/2)‖w‖²
// and writes ∇U into grad. It returns L_n(w) and U(w) and counts one FDE.
func (c *hmcChain) potentialGrad(w, grad []float64, sampling bool) (loss, u float64) {
	loss = c.eval.LossGrad(w, nil, grad)
	c.work.GradFDE++
	if sampling {
		c.work.GradFDESampling++
	}
	nBeta, gamma := c.cfg.NBeta, c.cfg.Gamma
	var dist2 float64
	for i, g := range grad {
		dw := w[i] - c.wStar[i]
		grad[i] = nBeta*g + gamma*dw
		dist2 += dw * dw
	}
	u = nBeta*loss + gamma/2*dist2
	if alpha := c.cfg.WeightDecay; alpha > 0 {
		u += addWeightDecay(alpha, w, grad)
	}
	return loss, u
}

func (c *hmcChain) run(ctx context.Context) error {
	cfg := c.cfg
	startChainAt(c.w, c.wStar, cfg.InitNoise, c.r)
	if c.lower != nil {
		reflectIntoBox(c.w, nil, c.lower, c.upper)
	}
	c.loss, c.u = c.potentialGrad(c.w, c.grad, false)
	if !allFinite(c.w) || !allFinite(c.grad) || math.IsNaN(c.u) || math.IsInf(c.u, 0) {
		return fmt.Errorf("hmc chain %d: the loss or its gradient is NaN or Inf at the start "+
			"point: check w* and init noise %g", c.index, cfg.InitNoise)
	}

	c.eps = cfg.StepSize
	if c.eps == 0 {
		c.eps = 1
		if err := c.searchStepSize(); err != nil {
			return err
		}
	}
	progress := newChainProgress(cfg.Progress, c.index, cfg.Warmup+cfg.Draws)
	if err := c.warmup(ctx, progress); err != nil {
		return err
	}
	return c.sample(ctx, progress)
}

// warmup runs cfg.Warmup adapting transitions: dual averaging of the step
// size throughout, and the mass matrix re-estimated at the end of each slow
// window, after which the step size search and dual averaging start again.
func (c *hmcChain) warmup(ctx context.Context, progress chainProgress) error {
	cfg := c.cfg
	if cfg.Warmup == 0 {
		return nil
	}
	da := newDualAveraging(c.eps, cfg.TargetAccept)
	var windowStart int
	var windowEnds []int
	if cfg.AdaptMass {
		windowStart, windowEnds = massWindows(cfg.Warmup)
	}
	variance := newWelfordVariance(0)
	if len(windowEnds) > 0 {
		variance = newWelfordVariance(len(c.w))
	}

	divergences := 0
	for it := 0; it < cfg.Warmup; it++ {
		if err := pollContextEvery16(ctx, it); err != nil {
			return err
		}
		acceptStat, divergent, _, err := c.transition(false)
		if err != nil {
			return err
		}
		if divergent {
			divergences++
		}
		c.eps = da.update(acceptStat)

		if len(windowEnds) > 0 && it >= windowStart {
			variance.add(c.w)
			if it == windowEnds[0] {
				windowEnds = windowEnds[1:]
				c.updateMass(&variance)
				if err := c.searchStepSize(); err != nil {
					return err
				}
				da.restart(c.eps)
			}
		}
		progress.step(it + 1)
	}
	c.eps = da.final()
	c.trace.Stats["warmup_divergences"] = float64(divergences)
	return nil
}

// updateMass sets M⁻¹ to the regularized variances of the window's draws
// and starts a new window.
func (c *hmcChain) updateMass(variance *welfordVariance) {
	variance.regularizedInto(c.invMass)
	for i, v := range c.invMass {
		c.sqrtMass[i] = 1 / math.Sqrt(v)
	}
	variance.reset()
}

func (c *hmcChain) sample(ctx context.Context, progress chainProgress) error {
	cfg := c.cfg
	energyErrors := c.trace.Series["energy_error"]
	var acceptSum float64
	divergences := 0
	nanStreak := 0
	for it := 0; it < cfg.Draws; it++ {
		if err := pollContextEvery16(ctx, it); err != nil {
			return err
		}
		step := c.step
		acceptStat, divergent, energyError, err := c.transition(true)
		if err != nil {
			return err
		}

		acceptSum += acceptStat
		if divergent {
			divergences++
		}
		nanStreak = nanStreakAfter(nanStreak, energyError)
		if nanStreak == hmcMaxNaNStreak {
			return &DivergenceError{Sampler: "hmc", Chain: c.index,
				Step: step - hmcMaxNaNStreak + 1, StepSize: c.eps}
		}

		c.trace.Step = append(c.trace.Step, it)
		c.trace.Loss = append(c.trace.Loss, c.loss)
		energyErrors = append(energyErrors, energyError)
		progress.step(cfg.Warmup + it + 1)
	}
	c.trace.Series["energy_error"] = energyErrors
	c.trace.Stats["acceptance_rate"] = acceptSum / float64(cfg.Draws)
	c.trace.Stats["step_size"] = c.eps
	c.trace.Stats["divergences"] = float64(divergences)
	if _, ok := c.trace.Stats["warmup_divergences"]; !ok {
		c.trace.Stats["warmup_divergences"] = 0
	}
	return nil
}

// transition draws a momentum p ~ N(0, M), runs the leapfrog trajectory
// and accepts the proposal with probability min(1, exp(−ΔH)). It returns
// that acceptance statistic, whether the transition diverged (ΔH > 1000 or
// not a number, as when the trajectory overflowed; such a proposal is
// rejected, as in Stan) and ΔH.
func (c *hmcChain) transition(sampling bool) (acceptStat float64, divergent bool, energyError float64, err error) {
	for i, s := range c.sqrtMass {
		c.p[i] = s * c.r.Norm()
	}
	h0 := c.u + c.kinetic()
	eps := c.eps
	if j := c.cfg.StepJitter; sampling && j > 0 {
		eps *= 1 + j*(2*c.r.Float64()-1)
	}
	c.leapfrog(eps, c.cfg.LeapfrogSteps, sampling)
	energyError = c.uProp + c.kinetic() - h0
	uniform := c.r.Float64()
	c.step++

	if math.IsNaN(energyError) {
		return 0, true, energyError, nil
	}
	if energyError > hmcDivergence {
		// +Inf when the loss overflowed. It is recorded as MaxFloat64 so that
		// the series stays finite.
		return 0, true, math.Min(energyError, math.MaxFloat64), nil
	}
	acceptStat = math.Min(1, detmath.Exp(-energyError))
	if uniform < acceptStat {
		c.w, c.wProp = c.wProp, c.w
		c.grad, c.gradProp = c.gradProp, c.grad
		c.loss, c.u = c.lossProp, c.uProp
	}
	return acceptStat, false, energyError, nil
}

// leapfrog integrates Hamilton's equations for H(w, p) = U(w) + ½ pᵀM⁻¹p
// from the current state with n steps of size ε into the proposal buffers:
//
//	p ← p − (ε/2)·∇U(w)
//	w ← w + ε·M⁻¹p        (reflected at the box walls, flipping p_i)
//	p ← p − (ε/2)·∇U(w)
func (c *hmcChain) leapfrog(eps float64, n int, sampling bool) {
	copy(c.wProp, c.w)
	copy(c.gradProp, c.grad)
	half := eps / 2
	for s := 0; s < n; s++ {
		for i, g := range c.gradProp {
			c.p[i] -= half * g
		}
		for i, p := range c.p {
			c.wProp[i] += eps * c.invMass[i] * p
		}
		if c.lower != nil {
			reflectIntoBox(c.wProp, c.p, c.lower, c.upper)
		}
		c.lossProp, c.uProp = c.potentialGrad(c.wProp, c.gradProp, sampling)
		for i, g := range c.gradProp {
			c.p[i] -= half * g
		}
	}
}

func (c *hmcChain) kinetic() float64 {
	var k float64
	for i, p := range c.p {
		k += c.invMass[i] * p * p
	}
	return k / 2
}

// searchStepSize doubles or halves c.eps until the acceptance probability
// of a single leapfrog step from the current state, with a fresh momentum
// each time, crosses 0.8 (Stan's heuristic). The state is left unchanged.
func (c *hmcChain) searchStepSize() error {
	threshold := math.Log(hmcStepSearchAccept)
	direction := 0
	for {
		for i, s := range c.sqrtMass {
			c.p[i] = s * c.r.Norm()
		}
		h0 := c.u + c.kinetic()
		c.leapfrog(c.eps, 1, false)
		deltaH := h0 - (c.uProp + c.kinetic())
		if math.IsNaN(deltaH) {
			deltaH = math.Inf(-1)
		}
		if direction == 0 {
			direction = -1
			if deltaH > threshold {
				direction = 1
			}
		}
		if (direction == 1 && !(deltaH > threshold)) || (direction == -1 && !(deltaH < threshold)) {
			return nil
		}
		if direction == 1 {
			c.eps *= 2
		} else {
			c.eps /= 2
		}
		if c.eps > hmcMaxStepSize {
			return fmt.Errorf("hmc chain %d: the step size search grew ε past %g, so the "+
				"posterior looks improper: set γ > 0 or give a bounded potential", c.index, hmcMaxStepSize)
		}
		if c.eps == 0 {
			return fmt.Errorf("hmc chain %d: the step size search shrank ε to 0: the gradient "+
				"is not finite near the start point, check the potential", c.index)
		}
	}
}

// pollContextEvery16 returns ctx's error when it is a multiple of 16, so
// that a cancelled run stops within 16 iterations without taking the
// context's lock on every one.
func pollContextEvery16(ctx context.Context, it int) error {
	if it%16 != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return nil
}
