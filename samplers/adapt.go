package samplers

import (
	"context"
	"fmt"
	"math"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/diagnostics"
)

// Warmup adaptation. HMC tunes its step size by dual averaging and
// estimates a diagonal mass matrix in Stan's windows. MCLMC tunes (L, ε)
// in three stages. Exponentials go through detmath.Exp, because every
// number here ends up in a step size or L and so in the chain state.

// Dual-averaging constants of Hoffman and Gelman (2014), the values Stan
// uses.
const (
	dualAveragingT0    = 10
	dualAveragingGamma = 0.05
	dualAveragingKappa = 0.75
)

// dualAveraging tunes log ε so that the mean acceptance statistic
// approaches the target δ. After m updates with acceptance statistics α_i
// (Hoffman and Gelman 2014):
//
//	H̄_m      = (1 − 1/(m + t0))·H̄_{m−1} + (δ − α_m)/(m + t0)
//	log ε_m  = μ − (√m/γ)·H̄_m
//	log ε̄_m = m^{−κ}·log ε_m + (1 − m^{−κ})·log ε̄_{m−1}
//
// with μ = log(10·ε0). ε_m is used during warmup and ε̄ afterwards.
type dualAveraging struct {
	delta     float64
	mu        float64
	m         int
	hBar      float64
	logEpsBar float64
}

func newDualAveraging(eps0, delta float64) dualAveraging {
	da := dualAveraging{delta: delta}
	da.restart(eps0)
	return da
}

// restart starts the averages again around μ = log(10·ε0), as Stan does
// after every mass matrix update.
func (da *dualAveraging) restart(eps0 float64) {
	da.mu = math.Log(10 * eps0)
	da.m = 0
	da.hBar = 0
	da.logEpsBar = 0
}

// update records the acceptance statistic of one transition and returns
// the step size ε_m for the next one. A NaN statistic counts as 0.
func (da *dualAveraging) update(acceptStat float64) float64 {
	if !(acceptStat >= 0) {
		acceptStat = 0
	}
	acceptStat = math.Min(acceptStat, 1)
	da.m++
	m := float64(da.m)
	eta := 1 / (m + dualAveragingT0)
	da.hBar = (1-eta)*da.hBar + eta*(da.delta-acceptStat)
	logEps := da.mu - math.Sqrt(m)/dualAveragingGamma*da.hBar
	// m^{−κ} = exp(−κ·log m) through detmath, because math.Pow calls
	// math.Exp.
	weight := detmath.Exp(-dualAveragingKappa * math.Log(m))
	da.logEpsBar = weight*logEps + (1-weight)*da.logEpsBar
	return detmath.Exp(logEps)
}

// final returns ε̄, the step size for sampling. Before any update it
// returns 0.
func (da *dualAveraging) final() float64 {
	if da.m == 0 {
		return 0
	}
	return detmath.Exp(da.logEpsBar)
}

// Stan's default warmup windows for the mass matrix: an initial fast
// buffer, slow windows that double in length, and a terminal fast buffer
// in which only the step size adapts.
const (
	stanInitBuffer = 75
	stanTermBuffer = 50
	stanBaseWindow = 25
	// stanMinWarmup is the shortest warmup with mass matrix adaptation.
	stanMinWarmup = 20
)

// massWindows returns, for a warmup of the given length, the iteration
// where the slow windows start and the last iteration of each slow window,
// counted from 0. The mass matrix is re-estimated after each window end.
//
// As in Stan, a warmup shorter than 20 iterations has no windows. A warmup
// shorter than 75 + 25 + 50 uses 15 % for the initial buffer, 10 % for the
// terminal buffer and the rest for one slow window. Each slow
// window is twice the previous one, and a window that would leave less
// than twice its own length before the terminal buffer extends to it.
func massWindows(warmup int) (start int, ends []int) {
	if warmup < stanMinWarmup {
		return 0, nil
	}
	initBuffer, termBuffer, window := stanInitBuffer, stanTermBuffer, stanBaseWindow
	if initBuffer+window+termBuffer > warmup {
		initBuffer = int(0.15 * float64(warmup))
		termBuffer = int(0.1 * float64(warmup))
		window = warmup - initBuffer - termBuffer
	}
	last := warmup - termBuffer - 1

	end := initBuffer + window - 1
	for {
		ends = append(ends, end)
		if end == last {
			return initBuffer, ends
		}
		window *= 2
		end += window
		if end+2*window >= warmup-termBuffer {
			end = last
		}
	}
}

// welfordVariance accumulates the per-coordinate sample variance of the
// draws in one slow window (Welford's algorithm).
type welfordVariance struct {
	n    int
	mean []float64
	m2   []float64
}

func newWelfordVariance(d int) welfordVariance {
	return welfordVariance{mean: make([]float64, d), m2: make([]float64, d)}
}

func (v *welfordVariance) add(w []float64) {
	v.n++
	n := float64(v.n)
	for i, x := range w {
		delta := x - v.mean[i]
		v.mean[i] += delta / n
		v.m2[i] += delta * (x - v.mean[i])
	}
}

func (v *welfordVariance) reset() {
	v.n = 0
	clear(v.mean)
	clear(v.m2)
}

// regularizedInto writes Stan's regularized variance estimate
//
//	σ̂²_i = n/(n + 5)·s²_i + 10⁻³·5/(n + 5)
//
// into dst, where s²_i is the sample variance of coordinate i over the n
// draws of the window. The shrinkage toward 10⁻³ keeps a short window from
// producing a degenerate mass matrix. It needs n ≥ 2.
func (v *welfordVariance) regularizedInto(dst []float64) {
	n := float64(v.n)
	for i, m2 := range v.m2 {
		s2 := m2 / (n - 1)
		dst[i] = n/(n+5)*s2 + 1e-3*5/(n+5)
	}
}

// MCLMC tuning constants, the defaults of BlackJAX's
// mclmc_find_L_and_step_size (blackjax.adaptation.mclmc_adaptation).
const (
	// mclmcTrustInEstimate widens the log-normal weight of each step's
	// step size prediction.
	mclmcTrustInEstimate = 1.5
	// mclmcEffectiveSamples sets the decay (n − 1)/(n + 1) of the running
	// averages of the step size predictor.
	mclmcEffectiveSamples = 150
	// mclmcNaNShrink caps ε at this fraction of a step size that produced
	// a NaN or Inf.
	mclmcNaNShrink = 0.8
	// mclmcLFactor scales the ESS-based L of stage 3.
	mclmcLFactor = 0.4
	// mclmcESSMaxCoords bounds the coordinates whose stage-3 trace is kept
	// for the ESS, so the buffer stays at most TuneSteps × 1000 values.
	mclmcESSMaxCoords = 1000
)

// mclmcStepPredictor tunes ε toward a target E[ΔE²]/d from the energy
// error of every step. It uses Var[ΔE] ∝ ε⁶ (Robnik et al. 2023), so each step
// predicts ε_opt from ξ = ΔE²/(d·target) + 10⁻⁸ as ε·ξ^{−1/6}, and the
// predictions are pooled with decaying weights
//
//	w = exp(−½·(log ξ / (6·trust))²)
//	x̄ ← decay·x̄ + w·ξ/ε⁶,   t̄ ← decay·t̄ + w,   ε ← min((x̄/t̄)^{−1/6}, εmax),
//
// so a step far from the target counts less.
type mclmcStepPredictor struct {
	desired  float64
	d        float64
	xAverage float64
	time     float64
	epsMax   float64
}

func newMCLMCStepPredictor(desired float64, d int) mclmcStepPredictor {
	return mclmcStepPredictor{desired: desired, d: float64(d), epsMax: math.Inf(1)}
}

// update returns the next step size after a step of size eps with energy
// error energyChange.
func (p *mclmcStepPredictor) update(eps, energyChange float64) float64 {
	const decay = (mclmcEffectiveSamples - 1.0) / (mclmcEffectiveSamples + 1.0)
	xi := energyChange*energyChange/(p.d*p.desired) + 1e-8
	logXi := math.Log(xi) / (6 * mclmcTrustInEstimate)
	weight := detmath.Exp(-0.5 * logXi * logXi)
	eps3 := eps * eps * eps
	p.xAverage = decay*p.xAverage + weight*xi/(eps3*eps3)
	p.time = decay*p.time + weight
	next := detmath.Exp(-math.Log(p.xAverage/p.time) / 6)
	return math.Min(next, p.epsMax)
}

// mclmcMoments accumulates weighted means and variances of the positions
// (West's weighted form of Welford's algorithm). The variance is the
// weighted population variance Σ w·(x − x̄)² / Σ w.
type mclmcMoments struct {
	total float64
	mean  []float64
	m2    []float64
}

func newMCLMCMoments(d int) mclmcMoments {
	return mclmcMoments{mean: make([]float64, d), m2: make([]float64, d)}
}

func (m *mclmcMoments) add(x []float64, weight float64) {
	if !(weight > 0) {
		return
	}
	m.total += weight
	f := weight / m.total
	for i, v := range x {
		delta := v - m.mean[i]
		m.mean[i] += f * delta
		m.m2[i] += weight * delta * (v - m.mean[i])
	}
}

// totalVariance returns Σ_i Var x_i.
func (m *mclmcMoments) totalVariance() float64 {
	var sum float64
	for _, v := range m.m2 {
		sum += v
	}
	return sum / m.total
}

// tune sets c.L and c.eps: the configured values, or the tuned ones when
// a value is 0 (see MCLMC). It starts from L = √d and ε = √d/4, as
// BlackJAX does.
func (c *mclmcChain) tune(ctx context.Context, progress chainProgress) error {
	cfg := c.cfg
	d := len(c.w)
	tuneEps, tuneL := cfg.StepSize == 0, cfg.L == 0
	c.L, c.eps = cfg.L, cfg.StepSize
	if tuneL {
		c.L = math.Sqrt(float64(d))
	}
	if tuneEps {
		c.eps = 0.25 * math.Sqrt(float64(d))
	}
	if !tuneEps && !tuneL {
		return nil
	}

	var predictor *mclmcStepPredictor
	if tuneEps {
		p := newMCLMCStepPredictor(cfg.DesiredEnergyVar, d)
		predictor = &p
	}
	done := 0
	runStage := func(moments *mclmcMoments) error {
		for it := 0; it < cfg.TuneSteps; it++ {
			if err := pollContextEvery16(ctx, it); err != nil {
				return err
			}
			if err := c.tuningStep(predictor, moments); err != nil {
				return err
			}
			done++
			progress.step(done)
		}
		return nil
	}

	// Stage 1: ε only.
	if tuneEps {
		if err := runStage(nil); err != nil {
			return err
		}
	}
	// Stage 2: ε goes on adapting while the positions give L = √(Σ Var w_i).
	var moments *mclmcMoments
	if tuneL {
		m := newMCLMCMoments(d)
		moments = &m
	}
	if err := runStage(moments); err != nil {
		return err
	}
	if !(c.eps > 0) || math.IsInf(c.eps, 0) {
		return fmt.Errorf("mclmc chain %d: step size tuning ended at ε = %g: give step_size "+
			"by hand or check the potential", c.index, c.eps)
	}
	if !tuneL {
		return nil
	}
	if l := math.Sqrt(moments.totalVariance()); l > 0 && !math.IsInf(l, 0) {
		c.L = l
	}
	// Stage 3: L from the effective sample sizes at fixed (L, ε).
	return c.tuneLFromESS(ctx, progress, done)
}

// tuningStep runs one step of stages 1 and 2. With a predictor, a step
// whose state becomes NaN or Inf is undone, ε is capped at 0.8 of its
// value, and the step counts with ΔE = 0, as in BlackJAX; without one, it
// is a divergence. moments, when not nil, receives the new position with
// weight ε.
func (c *mclmcChain) tuningStep(predictor *mclmcStepPredictor, moments *mclmcMoments) error {
	if predictor == nil {
		if _, err := c.checkedStep(false); err != nil {
			return err
		}
		if moments != nil {
			moments.add(c.w, c.eps)
		}
		return nil
	}

	c.save()
	energyChange := c.integrate(false)
	success := c.finite(energyChange)
	if success {
		c.refresh()
	} else {
		c.restore()
		predictor.epsMax = mclmcNaNShrink * c.eps
		energyChange = 0
	}
	c.eps = predictor.update(c.eps, energyChange)
	if success && moments != nil {
		moments.add(c.w, c.eps)
	}
	return nil
}

// tuneLFromESS runs cfg.TuneSteps steps with fixed (L, ε) and sets
//
//	L = 0.4·ε·mean_i(n / ESS_i)
//
// from the effective sample size of each coordinate's trace (at most
// mclmcESSMaxCoords evenly spaced coordinates), the number of steps per
// effective sample times the distance of a step.
func (c *mclmcChain) tuneLFromESS(ctx context.Context, progress chainProgress, done int) error {
	n := c.cfg.TuneSteps
	d := len(c.w)
	stride := (d + mclmcESSMaxCoords - 1) / mclmcESSMaxCoords
	traces := make([][]float64, 0, (d+stride-1)/stride)
	for i := 0; i < d; i += stride {
		traces = append(traces, make([]float64, n))
	}

	for it := 0; it < n; it++ {
		if err := pollContextEvery16(ctx, it); err != nil {
			return err
		}
		if _, err := c.checkedStep(false); err != nil {
			return err
		}
		for k := range traces {
			traces[k][it] = c.w[k*stride]
		}
		progress.step(done + it + 1)
	}

	var sum float64
	count := 0
	for _, trace := range traces {
		ess := diagnostics.ESSMean([][]float64{trace})
		if ess > 0 && !math.IsInf(ess, 0) {
			sum += float64(n) / ess
			count++
		}
	}
	if count > 0 {
		c.L = mclmcLFactor * c.eps * sum / float64(count)
	}
	return nil
}
