package samplers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/llcflow/llcflow/rng"
)

// DivergenceError reports a chain whose position or loss became NaN or
// Inf. Samplers stop every chain when one diverges and return this error.
type DivergenceError struct {
	// Sampler is the sampler's name, such as "sgld".
	Sampler string
	// Chain is the index of the chain that diverged.
	Chain int
	// Step is the 0-based index of the step that produced the non-finite
	// value, counted from the chain's first step (warmup and tuning
	// included).
	Step int
	// StepSize is the step size ε in use at that step.
	StepSize float64
}

func (e *DivergenceError) Error() string {
	name := e.Sampler
	if name == "" {
		name = "sampler"
	}
	return fmt.Sprintf("%s chain %d diverged at step %d with step size %g "+
		"(the position or the loss became NaN or Inf): use a smaller step size",
		name, e.Chain, e.Step, e.StepSize)
}

// Interrupted is returned by a sampler whose Stop channel closed before
// every chain finished. Passing Checkpoint back to the same sampler with
// the same configuration continues the run to the result an uninterrupted
// run would have returned, bit for bit.
type Interrupted struct {
	// Checkpoint is the sampler's own state type (*SGLDCheckpoint for
	// SGLD). It marshals to JSON.
	Checkpoint any
}

func (e *Interrupted) Error() string {
	return "sampler stopped before its last step: resume it from the checkpoint"
}

// validateCommon checks the settings every sampler shares against the
// potential and w*.
func validateCommon(c Common, pot Potential, wStar []float64) error {
	if pot == nil {
		return errors.New("potential is nil: pass the potential to sample")
	}
	d := pot.Dim()
	if d < 1 {
		return fmt.Errorf("potential dimension %d is invalid: it must be at least 1", d)
	}
	if len(wStar) != d {
		return fmt.Errorf("w* has %d coordinates but the potential has dimension %d: "+
			"pass w* of the same model", len(wStar), d)
	}
	if !allFinite(wStar) {
		return errors.New("w* contains NaN or Inf: retrain or check the ERM result")
	}

	if pot.N() < 1 {
		return fmt.Errorf("potential has n = %d data points: it must have at least 1", pot.N())
	}
	if c.Chains < 1 {
		return fmt.Errorf("chains = %d is invalid: run at least 1 chain", c.Chains)
	}
	if !(c.NBeta > 0) || math.IsInf(c.NBeta, 0) {
		return fmt.Errorf("nβ = %g is invalid: it must be positive and finite", c.NBeta)
	}
	if !(c.Gamma >= 0) || math.IsInf(c.Gamma, 0) {
		return fmt.Errorf("γ = %g is invalid: it must be zero or positive and finite", c.Gamma)
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return fmt.Errorf("weight decay α = %g is invalid: it must be zero or positive and finite",
			c.WeightDecay)
	}
	if !(c.InitNoise >= 0) || math.IsInf(c.InitNoise, 0) {
		return fmt.Errorf("init noise = %g is invalid: it must be zero or positive and finite",
			c.InitNoise)
	}
	if c.Parallel < 0 {
		return fmt.Errorf("parallel = %d is invalid: use 0 for one goroutine per chain or a "+
			"positive bound", c.Parallel)
	}
	return nil
}

// boxOf returns the walls of a Bounded potential, or ok = false when the
// potential has none. It rejects walls of the wrong length, non-finite
// walls, walls with lower ≥ upper and a w* outside the box.
func boxOf(pot Potential, wStar []float64) (lower, upper []float64, ok bool, err error) {
	bounded, isBounded := pot.(Bounded)
	if !isBounded {
		return nil, nil, false, nil
	}
	lower, upper = bounded.Bounds()
	d := pot.Dim()
	if len(lower) != d || len(upper) != d {
		return nil, nil, false, fmt.Errorf("potential bounds have %d lower and %d upper walls "+
			"for dimension %d: give one pair per coordinate", len(lower), len(upper), d)
	}
	for i := range lower {
		if !allFinite(lower[i:i+1]) || !allFinite(upper[i:i+1]) || !(lower[i] < upper[i]) {
			return nil, nil, false, fmt.Errorf("potential bounds [%g, %g] of coordinate %d are "+
				"invalid: walls must be finite with lower < upper", lower[i], upper[i], i)
		}
		if wStar[i] < lower[i] || wStar[i] > upper[i] {
			return nil, nil, false, fmt.Errorf("w*[%d] = %g lies outside the box [%g, %g]: "+
				"pass a w* inside the bounds", i, wStar[i], lower[i], upper[i])
		}
	}
	return lower, upper, true, nil
}

// startChainAt writes w* + initNoise·ξ into w, with ξ ~ N(0, I) the first
// len(w) normal variates of r. Every sampler starts its chains this way.
func startChainAt(w, wStar []float64, initNoise float64, r *rng.Rand) {
	for i := range w {
		w[i] = wStar[i] + initNoise*r.Norm()
	}
}

// reflectIntoBox folds every coordinate of w back into [lower[i],
// upper[i]] by mirror reflection at the walls, as often as the overshoot
// requires. When v is not nil, v[i] changes sign for every coordinate that
// was reflected an odd number of times, so a velocity or momentum keeps
// pointing along the reflected path. A NaN or Inf coordinate comes out
// NaN, for the divergence check to catch.
func reflectIntoBox(w, v, lower, upper []float64) {
	for i, x := range w {
		lo, hi := lower[i], upper[i]
		if x >= lo && x <= hi {
			continue
		}
		width := hi - lo
		// k counts the walls crossed: the path from lo to x is folded at
		// lo + j·width for every integer j, and an odd k lands on a
		// descending segment.
		k := math.Floor((x - lo) / width)
		y := x - lo - k*width
		if math.Mod(k, 2) != 0 {
			y = width - y
			if v != nil {
				v[i] = -v[i]
			}
		}
		w[i] = math.Min(math.Max(lo+y, lo), hi)
		if math.IsNaN(k) || math.IsInf(k, 0) {
			w[i] = math.NaN()
		}
	}
}

// allFinite reports whether no element of x is NaN or Inf.
func allFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// isClosed reports, without blocking, whether ch is closed. A nil channel
// is never closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// chainProgress calls a Common.Progress function about every 1 % of a
// chain's steps, and at its last step.
type chainProgress struct {
	report func(chain, done, total int)
	chain  int
	total  int
	stride int
}

func newChainProgress(report func(chain, done, total int), chain, total int) chainProgress {
	return chainProgress{report: report, chain: chain, total: total, stride: max(1, total/100)}
}

// step reports done steps out of the total when done is a multiple of the
// stride or the last step.
func (p chainProgress) step(done int) {
	if p.report == nil {
		return
	}
	if done%p.stride == 0 || done == p.total {
		p.report(p.chain, done, p.total)
	}
}

// runChainsBounded calls run(ctx, c) for every chain c in [0, chains) on
// at most parallel goroutines (0 means one per chain). The first error
// cancels the context passed to the other chains, and chains not yet
// started are skipped. It returns, in this order of preference, the error
// of the lowest-numbered chain that failed with an error other than a
// context error, the parent context's error, or nil.
func runChainsBounded(ctx context.Context, chains, parallel int,
	run func(ctx context.Context, chain int) error) error {
	if parallel <= 0 || parallel > chains {
		parallel = chains
	}
	chainCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	errs := make([]error, chains)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chains || chainCtx.Err() != nil {
					return
				}
				if err := run(chainCtx, c); err != nil {
					errs[c] = err
					cancel()
				}
			}
		}()
	}
	wg.Wait()

	for _, err := range errs {
		if err != nil && !isContextError(err) {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// newChainTrace returns a ChainTrace with room for draws records and one
// empty per-draw series for each name.
func newChainTrace(draws int, series ...string) ChainTrace {
	trace := ChainTrace{
		Step:   make([]int, 0, draws),
		Loss:   make([]float64, 0, draws),
		Series: make(map[string][]float64, len(series)),
		Stats:  map[string]float64{},
	}
	for _, name := range series {
		trace.Series[name] = make([]float64, 0, draws)
	}
	return trace
}

// sumWork adds per-chain work counters in chain order, so the floating
// point sum does not depend on which chain finished first.
func sumWork(perChain []Work) Work {
	var total Work
	for _, w := range perChain {
		total.GradFDE += w.GradFDE
		total.GradFDESampling += w.GradFDESampling
		total.LossEvals += w.LossEvals
	}
	return total
}
