package samplers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/llcflow/llcflow/detmath"
	"github.com/llcflow/llcflow/rng"
)

// SGLD preconditioner names for SGLDConfig.Precond.
const (
	PrecondNone    = "none"
	PrecondRMSprop = "rmsprop"
	PrecondAdam    = "adam"
)

// Defaults of the preconditioning constants. The RMSprop ones are those of
// devinterp's rmsprop_sgld (alpha 0.99, eps 0.1). Adam's decay rates are
// the usual optimizer defaults, and it shares the stabilizer 0.1, because
// an optimizer-style 1e-8 lets G = 1/(√v̂ + δ) explode where the gradient
// vanishes, as it does at w*.
const (
	DefaultRMSpropAlpha = 0.99
	DefaultAdamBeta1    = 0.9
	DefaultAdamBeta2    = 0.999
	DefaultPrecondDelta = 0.1
)

// SGLDConfig configures SGLD. The zero value of every preconditioning
// constant selects its default.
type SGLDConfig struct {
	Common
	// StepSize is ε.
	StepSize float64
	// BatchSize is b, the minibatch size. 0 or b ≥ n means full batch.
	BatchSize int
	// Warmup is the number of steps discarded before recording.
	Warmup int
	// Steps is the number of steps after warmup.
	Steps int
	// EvalEvery records the full-data loss L_n every EvalEvery steps after
	// warmup (0 means 1). Steps must be at least EvalEvery.
	EvalEvery int
	// Precond is "" or "none" (plain SGLD), "rmsprop" or "adam".
	Precond string
	// RMSpropAlpha is α, the decay of RMSprop's average of squared
	// gradients.
	RMSpropAlpha float64
	// AdamBeta1 and AdamBeta2 are β₁ and β₂, Adam's decay rates of the
	// first and second moments.
	AdamBeta1, AdamBeta2 float64
	// PrecondDelta is δ in G = 1/(√V + δ), shared by RMSprop and Adam.
	PrecondDelta float64

	// Stop, when closed, makes every chain stop at its next step boundary
	// and SGLD return an *Interrupted error holding an *SGLDCheckpoint. A
	// nil Stop never stops.
	Stop <-chan struct{}
	// Resume continues the run saved in a checkpoint. The configuration,
	// the potential and w* must be the ones that wrote it.
	Resume *SGLDCheckpoint
}

// SGLD runs stochastic gradient Langevin dynamics on the local posterior
// of pot at wStar, in devinterp's convention:
//
//	w ← w − (ε/2)·G·(nβ·∇L_b(w) + γ·(w − w*) + α·w) + √(ε·G)·ξ,   ξ ~ N(0, I),
//
// with L_b the mean loss on a minibatch of b distinct data points drawn
// afresh each step, α the weight decay (the term is skipped at α = 0), and G a diagonal preconditioner (G = 1 without one).
// RMSprop (Li, Chen, Carlson, Carin 2016, pSGLD without its Γ correction
// term, as devinterp does) updates, with g = ∇L_b(w),
//
//	V ← α·V + (1 − α)·g²,   G = 1/(√V + δ).
//
// Adam at its k-th step also keeps m ← β₁·m + (1 − β₁)·g, uses
// V̂ = V/(1 − β₂ᵏ) in place of V and puts m̂ = m/(1 − β₁ᵏ) in place of
// ∇L_b(w) in the drift. V and m start at 0.
//
// Chain c draws only from rng.New(cfg.Seed, "sgld", c): its start
// w* + InitNoise·ξ, then per step the noise ξ and the next minibatch. So
// the result is bit-identical at every Parallel value and schedule.
//
// Every EvalEvery steps after warmup a chain records the full-data loss
// L_n(w) and, as series "mala_accept", the probability min(1, e^A) with
// which a Metropolis-adjusted Langevin (MALA) step would have accepted the
// move w → w'. With U(w) = nβ·L_b(w) + (γ/2)·‖w − w*‖² + (α/2)·‖w‖²,
//
//	A = U(w) − U(w') + log q(w | w') − log q(w' | w),
//	q(y | x) = N(y; x − (ε/2)·G·∇U(x), ε·G),
//
// where each U and ∇U is the minibatch value the chain computed anyway at
// that point (its own batch), and G is the preconditioner of the step,
// held fixed in both directions. For Adam the forward mean uses ∇U, not
// the momentum m̂ that moved the chain. The gradient at the final position
// exists only to score the last move.
//
// Chain stats are "acceptance_rate", the mean of the MALA probability
// over every step after warmup (recorded or not), and
// "frac_below_star", the fraction of draws with L_n(w) < L_n(w*).
//
// Work: a minibatch gradient counts b/n FDE. A gradient counts as
// sampling work when it drives a step after warmup or scores the last
// move. LossEvals counts the full-data losses of the draws and of w*.
//
// Errors: an invalid configuration or checkpoint, ctx's error after
// cancellation, a *DivergenceError when w or a loss becomes NaN or Inf
// (every chain is then stopped), and an *Interrupted error after Stop.
// When pot is Bounded, w is folded back into the box after every step.
// NOTE: this folded Euler step is biased near the walls by an amount that
// shrank like √ε in tests on a truncated Gaussian, so bounded targets need
// a smaller ε than the SGLD formula's O(ε) bias alone suggests.
func SGLD(ctx context.Context, pot Potential, wStar []float64, cfg SGLDConfig) (*Run, error) {
	set, err := resolveSGLD(cfg, pot, wStar)
	if err != nil {
		return nil, err
	}
	lower, upper, _, err := boxOf(pot, wStar)
	if err != nil {
		return nil, err
	}
	lossStar := pot.NewEvaluator().Loss(wStar)
	if math.IsNaN(lossStar) || math.IsInf(lossStar, 0) {
		return nil, fmt.Errorf("L_n(w*) = %g: check the ERM result and the data", lossStar)
	}
	if cfg.Resume != nil {
		if err := cfg.Resume.validate(set, wStar, lossStar); err != nil {
			return nil, err
		}
	}

	chains := make([]*sgldChain, set.Chains)
	err = runChainsBounded(ctx, set.Chains, cfg.Parallel, func(ctx context.Context, c int) error {
		ch := newSGLDChain(&set, pot, wStar, lower, upper, lossStar, c)
		if cfg.Resume != nil {
			if err := ch.restore(&cfg.Resume.Chains[c]); err != nil {
				return fmt.Errorf("resume sgld chain %d: %w", c, err)
			}
		} else {
			ch.start()
		}
		chains[c] = ch
		return ch.run(ctx, cfg.Stop, newChainProgress(cfg.Progress, c, set.totalSteps()))
	})
	if err != nil {
		return nil, err
	}

	for _, ch := range chains {
		if ch.step < set.totalSteps() {
			return nil, &Interrupted{Checkpoint: newSGLDCheckpoint(set, wStar, lossStar, chains)}
		}
	}
	return assembleSGLDRun(set, lossStar, chains), nil
}

// sgldSettings is an SGLDConfig with defaults filled in, plus the shape of
// the potential. A checkpoint stores it to reject a resume with another
// configuration.
type sgldSettings struct {
	Seed   string  `json:"seed"`
	Chains int     `json:"chains"`
	NBeta  float64 `json:"n_beta"`
	Gamma  float64 `json:"gamma"`
	// WeightDecay is omitted at 0, so checkpoints written before it existed
	// still match.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	InitNoise   float64 `json:"init_noise"`
	StepSize    float64 `json:"step_size"`
	// BatchSize is 0 for full batch.
	BatchSize int     `json:"batch_size"`
	Warmup    int     `json:"warmup"`
	Steps     int     `json:"steps"`
	EvalEvery int     `json:"eval_every"`
	Precond   string  `json:"precond"`
	Alpha     float64 `json:"rmsprop_alpha"`
	Beta1     float64 `json:"adam_beta1"`
	Beta2     float64 `json:"adam_beta2"`
	Delta     float64 `json:"precond_delta"`
	Dim       int     `json:"dim"`
	N         int     `json:"n"`
}

func (s *sgldSettings) totalSteps() int { return s.Warmup + s.Steps }

// draws returns the number of draws recorded after done steps.
func (s *sgldSettings) draws(done int) int {
	if done <= s.Warmup {
		return 0
	}
	return (done - s.Warmup) / s.EvalEvery
}

// gradFDE returns the full-data equivalents of one gradient.
func (s *sgldSettings) gradFDE() float64 {
	if s.BatchSize == 0 {
		return 1
	}
	return float64(s.BatchSize) / float64(s.N)
}

func resolveSGLD(cfg SGLDConfig, pot Potential, wStar []float64) (sgldSettings, error) {
	if err := validateCommon(cfg.Common, pot, wStar); err != nil {
		return sgldSettings{}, fmt.Errorf("sgld: %w", err)
	}
	set := sgldSettings{
		Seed: cfg.Seed, Chains: cfg.Chains, NBeta: cfg.NBeta, Gamma: cfg.Gamma,
		WeightDecay: cfg.WeightDecay, InitNoise: cfg.InitNoise, StepSize: cfg.StepSize, BatchSize: cfg.BatchSize,
		Warmup: cfg.Warmup, Steps: cfg.Steps, EvalEvery: cfg.EvalEvery, Precond: cfg.Precond,
		Dim: pot.Dim(), N: pot.N(),
	}
	if !(set.StepSize > 0) || math.IsInf(set.StepSize, 0) {
		return set, fmt.Errorf("sgld: step size %g is invalid: it must be positive and finite",
			set.StepSize)
	}
	if set.BatchSize < 0 {
		return set, fmt.Errorf("sgld: batch size %d is invalid: use 0 for full batch or a "+
			"positive size", set.BatchSize)
	}
	if set.BatchSize >= set.N {
		set.BatchSize = 0
	}
	if set.Warmup < 0 {
		return set, fmt.Errorf("sgld: warmup %d is invalid: it must be zero or positive", set.Warmup)
	}
	if set.EvalEvery < 0 {
		return set, fmt.Errorf("sgld: eval_every %d is invalid: use 0 or 1 to record every step",
			set.EvalEvery)
	}
	if set.EvalEvery == 0 {
		set.EvalEvery = 1
	}
	if set.Steps < set.EvalEvery {
		return set, fmt.Errorf("sgld: %d steps record no draw at eval_every %d: use at least "+
			"%d steps", set.Steps, set.EvalEvery, set.EvalEvery)
	}

	switch set.Precond {
	case "", PrecondNone:
		set.Precond = PrecondNone
	case PrecondRMSprop:
		set.Alpha = orDefault(cfg.RMSpropAlpha, DefaultRMSpropAlpha)
		set.Delta = orDefault(cfg.PrecondDelta, DefaultPrecondDelta)
	case PrecondAdam:
		set.Beta1 = orDefault(cfg.AdamBeta1, DefaultAdamBeta1)
		set.Beta2 = orDefault(cfg.AdamBeta2, DefaultAdamBeta2)
		set.Delta = orDefault(cfg.PrecondDelta, DefaultPrecondDelta)
	default:
		return set, fmt.Errorf("sgld: preconditioner %q is unknown: use %q, %q or %q",
			set.Precond, PrecondNone, PrecondRMSprop, PrecondAdam)
	}
	for _, decay := range []struct {
		name  string
		value float64
	}{{"rmsprop alpha", set.Alpha}, {"adam beta1", set.Beta1}, {"adam beta2", set.Beta2}} {
		if !(decay.value >= 0 && decay.value < 1) {
			return set, fmt.Errorf("sgld: %s = %g is invalid: it must lie in (0, 1), "+
				"or be 0 for the default", decay.name, decay.value)
		}
	}
	if set.Precond != PrecondNone && (!(set.Delta > 0) || math.IsInf(set.Delta, 0)) {
		return set, fmt.Errorf("sgld: preconditioner delta %g is invalid: it must be positive "+
			"and finite", set.Delta)
	}
	return set, nil
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// sgldChain is the state of one SGLD chain, with every buffer its steps
// need allocated up front.
type sgldChain struct {
	set      *sgldSettings
	index    int
	eval     Evaluator
	wStar    []float64
	lower    []float64 // nil when the potential has no box
	upper    []float64
	lossStar float64
	r        *rng.Rand

	// step is the number of steps done. w is the position after them,
	// gradLoss = ∇L_b(w) and batchLoss = L_b(w) on batch.
	step      int
	w         []float64
	gradLoss  []float64
	batchLoss float64
	batch     []int // nil for full batch
	perm      []int // permutation that rng.Sample draws batches from

	// The proposal w', its gradient, loss and batch.
	wNext         []float64
	gradLossNext  []float64
	batchLossNext float64
	batchNext     []int

	// Preconditioner: G of the current step, the drift it multiplies, and
	// the state of RMSprop (sqAvg) and Adam (sqAvg, moment, and β₁ᵏ, β₂ᵏ).
	precond  []float64
	drift    []float64
	sqAvg    []float64
	moment   []float64
	beta1Pow float64
	beta2Pow float64
	// noise is the step's ξ, drawn with FillNorm before the update.
	noise []float64

	gradEvals         int
	gradEvalsSampling int
	lossEvals         int
	acceptSum         float64
	acceptSteps       int
	belowStar         int

	drawSteps []int
	drawLoss  []float64
	drawMALA  []float64
}

func newSGLDChain(set *sgldSettings, pot Potential, wStar, lower, upper []float64,
	lossStar float64, index int) *sgldChain {
	d := set.Dim
	draws := set.draws(set.totalSteps())
	ch := &sgldChain{
		set: set, index: index, eval: pot.NewEvaluator(), wStar: wStar,
		lower: lower, upper: upper, lossStar: lossStar,
		r:            rng.New(set.Seed, "sgld", uint64(index)),
		w:            make([]float64, d),
		gradLoss:     make([]float64, d),
		wNext:        make([]float64, d),
		gradLossNext: make([]float64, d),
		precond:      make([]float64, d),
		drift:        make([]float64, d),
		noise:        make([]float64, d),
		beta1Pow:     1,
		beta2Pow:     1,
		drawSteps:    make([]int, 0, draws),
		drawLoss:     make([]float64, 0, draws),
		drawMALA:     make([]float64, 0, draws),
	}
	for i := range ch.precond {
		ch.precond[i] = 1
	}
	if set.BatchSize > 0 {
		ch.batch = make([]int, set.BatchSize)
		ch.batchNext = make([]int, set.BatchSize)
		ch.perm = make([]int, set.N)
		for i := range ch.perm {
			ch.perm[i] = i
		}
	}
	if set.Precond != PrecondNone {
		ch.sqAvg = make([]float64, d)
	}
	if set.Precond == PrecondAdam {
		ch.moment = make([]float64, d)
	}
	return ch
}

// start places the chain at w* + InitNoise·ξ (folded into the box) and
// evaluates its first minibatch gradient.
func (ch *sgldChain) start() {
	startChainAt(ch.w, ch.wStar, ch.set.InitNoise, ch.r)
	if ch.lower != nil {
		reflectIntoBox(ch.w, nil, ch.lower, ch.upper)
	}
	ch.batchLoss = ch.evalBatch(ch.w, ch.batch, ch.gradLoss)
	ch.countGradient(0)
}

// evalBatch draws a new batch into batch (unless full batch) and returns
// L_b(w), writing ∇L_b(w) into grad.
func (ch *sgldChain) evalBatch(w []float64, batch []int, grad []float64) float64 {
	if batch != nil {
		ch.r.Sample(ch.perm, len(batch), batch)
	}
	return ch.eval.LossGrad(w, batch, grad)
}

// countGradient counts one gradient that drives step usedBy (the step
// count at which it is evaluated).
func (ch *sgldChain) countGradient(usedBy int) {
	ch.gradEvals++
	if usedBy >= ch.set.Warmup {
		ch.gradEvalsSampling++
	}
}

// run advances the chain to its last step, stopping early without error
// when stop closes and with ctx's error when ctx is cancelled.
func (ch *sgldChain) run(ctx context.Context, stop <-chan struct{}, progress chainProgress) error {
	if !allFinite(ch.w) || !allFinite(ch.gradLoss) || !isFinite(ch.batchLoss) {
		return ch.divergence(ch.step)
	}
	done := ctx.Done()
	total := ch.set.totalSteps()
	for ch.step < total {
		if isClosed(stop) {
			return nil
		}
		if isClosed(done) {
			return ctx.Err()
		}
		if err := ch.advance(); err != nil {
			return err
		}
		progress.step(ch.step)
	}
	return nil
}

// advance performs one SGLD step, w → w', and records a draw when the
// step is due. It allocates nothing.
func (ch *sgldChain) advance() error {
	set := ch.set
	t := ch.step
	eps := set.StepSize
	ch.updatePreconditioner()

	// w' = w − (ε/2)·G·drift + √(ε·G)·ξ, drift = nβ·∇L_b(w) + γ·(w − w*) + α·w
	// (Adam: nβ·m̂ + γ·(w − w*) + α·w).
	sqrtEps := math.Sqrt(eps)
	ch.r.FillNorm(ch.noise)
	if set.Precond == PrecondNone {
		// G = 1, so (ε/2)·G = ε/2 and √ε·√G = √ε exactly: the same bits
		// as the general loop without a square root per coordinate.
		half := eps / 2
		w, drift, noise := ch.w, ch.drift[:len(ch.w)], ch.noise[:len(ch.w)]
		wNext := ch.wNext[:len(w)]
		for i, wi := range w {
			wNext[i] = wi - half*drift[i] + sqrtEps*noise[i]
		}
	} else {
		for i, wi := range ch.w {
			g := ch.precond[i]
			ch.wNext[i] = wi - eps/2*g*ch.drift[i] + sqrtEps*math.Sqrt(g)*ch.noise[i]
		}
	}
	if ch.lower != nil {
		reflectIntoBox(ch.wNext, nil, ch.lower, ch.upper)
	}
	if !allFinite(ch.wNext) {
		return ch.divergence(t)
	}
	ch.batchLossNext = ch.evalBatch(ch.wNext, ch.batchNext, ch.gradLossNext)
	ch.countGradient(t + 1)
	if !isFinite(ch.batchLossNext) || !allFinite(ch.gradLossNext) {
		return ch.divergence(t)
	}
	accept := ch.malaAcceptance()

	if done := t + 1; done > set.Warmup {
		ch.acceptSum += accept
		ch.acceptSteps++
		if (done-set.Warmup)%set.EvalEvery == 0 {
			loss := ch.eval.Loss(ch.wNext)
			ch.lossEvals++
			if !isFinite(loss) {
				return ch.divergence(t)
			}
			ch.drawSteps = append(ch.drawSteps, done-set.Warmup-1)
			ch.drawLoss = append(ch.drawLoss, loss)
			ch.drawMALA = append(ch.drawMALA, accept)
			if loss < ch.lossStar {
				ch.belowStar++
			}
		}
	}

	ch.w, ch.wNext = ch.wNext, ch.w
	ch.gradLoss, ch.gradLossNext = ch.gradLossNext, ch.gradLoss
	ch.batchLoss = ch.batchLossNext
	ch.batch, ch.batchNext = ch.batchNext, ch.batch
	ch.step = t + 1
	return nil
}

// updatePreconditioner sets G and the drift of the next step from w and
// gradLoss, updating the RMSprop or Adam averages.
func (ch *sgldChain) updatePreconditioner() {
	set := ch.set
	nBeta, gamma := set.NBeta, set.Gamma
	switch set.Precond {
	case PrecondNone:
		for i, g := range ch.gradLoss {
			ch.drift[i] = nBeta*g + gamma*(ch.w[i]-ch.wStar[i])
		}
	case PrecondRMSprop:
		// V ← α·V + (1 − α)·g², G = 1/(√V + δ).
		alpha := set.Alpha
		for i, g := range ch.gradLoss {
			ch.sqAvg[i] = alpha*ch.sqAvg[i] + (1-alpha)*g*g
			ch.precond[i] = 1 / (math.Sqrt(ch.sqAvg[i]) + set.Delta)
			ch.drift[i] = nBeta*g + gamma*(ch.w[i]-ch.wStar[i])
		}
	case PrecondAdam:
		// m ← β₁·m + (1 − β₁)·g, V ← β₂·V + (1 − β₂)·g²,
		// G = 1/(√(V/(1 − β₂ᵏ)) + δ), drift = nβ·m/(1 − β₁ᵏ) + γ·(w − w*).
		beta1, beta2 := set.Beta1, set.Beta2
		ch.beta1Pow *= beta1
		ch.beta2Pow *= beta2
		for i, g := range ch.gradLoss {
			ch.moment[i] = beta1*ch.moment[i] + (1-beta1)*g
			ch.sqAvg[i] = beta2*ch.sqAvg[i] + (1-beta2)*g*g
			mHat := ch.moment[i] / (1 - ch.beta1Pow)
			vHat := ch.sqAvg[i] / (1 - ch.beta2Pow)
			ch.precond[i] = 1 / (math.Sqrt(vHat) + set.Delta)
			ch.drift[i] = nBeta*mHat + gamma*(ch.w[i]-ch.wStar[i])
		}
	}
	if alpha := set.WeightDecay; alpha > 0 {
		addWeightDecay(alpha, ch.w, ch.drift)
	}
}

// malaAcceptance returns min(1, e^A) for the move w → wNext, with A as in
// the SGLD doc.
func (ch *sgldChain) malaAcceptance() float64 {
	set := ch.set
	eps, nBeta, gamma, alpha := set.StepSize, set.NBeta, set.Gamma, set.WeightDecay
	var logQRatio, dist, distNext, norm, normNext float64
	for i, wi := range ch.w {
		wn := ch.wNext[i]
		g := ch.precond[i]
		off, offNext := wi-ch.wStar[i], wn-ch.wStar[i]
		gradU := nBeta*ch.gradLoss[i] + gamma*off
		gradUNext := nBeta*ch.gradLossNext[i] + gamma*offNext
		if alpha > 0 {
			gradU += alpha * wi
			gradUNext += alpha * wn
			norm += wi * wi
			normNext += wn * wn
		}
		forward := wn - wi + eps/2*g*gradU
		backward := wi - wn + eps/2*g*gradUNext
		// log q(w | w') − log q(w' | w) for the i-th coordinate.
		logQRatio += (forward*forward - backward*backward) / (2 * eps * g)
		dist += off * off
		distNext += offNext * offNext
	}
	u := nBeta*ch.batchLoss + gamma/2*dist
	uNext := nBeta*ch.batchLossNext + gamma/2*distNext
	if alpha > 0 {
		u += alpha / 2 * norm
		uNext += alpha / 2 * normNext
	}
	logAccept := u - uNext + logQRatio
	if logAccept >= 0 {
		return 1
	}
	return detmath.Exp(logAccept)
}

func (ch *sgldChain) divergence(step int) error {
	return &DivergenceError{Sampler: "sgld", Chain: ch.index, Step: step, StepSize: ch.set.StepSize}
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// assembleSGLDRun collects finished chains into a Run.
func assembleSGLDRun(set sgldSettings, lossStar float64, chains []*sgldChain) *Run {
	run := &Run{
		LossStar: lossStar,
		NBeta:    set.NBeta,
		Gamma:    set.Gamma,
		Chains:   make([]ChainTrace, len(chains)),
		Stats:    map[string]float64{"step_size": set.StepSize},
	}
	work := make([]Work, len(chains))
	fde := set.gradFDE()
	for c, ch := range chains {
		draws := len(ch.drawLoss)
		run.Chains[c] = ChainTrace{
			Step:   ch.drawSteps,
			Loss:   ch.drawLoss,
			Series: map[string][]float64{"mala_accept": ch.drawMALA},
			Stats: map[string]float64{
				"acceptance_rate": ch.acceptSum / float64(ch.acceptSteps),
				"frac_below_star": float64(ch.belowStar) / float64(draws),
			},
		}
		work[c] = Work{
			GradFDE:         float64(ch.gradEvals) * fde,
			GradFDESampling: float64(ch.gradEvalsSampling) * fde,
			LossEvals:       float64(ch.lossEvals),
		}
	}
	run.Work = sumWork(work)
	// L_n(w*), evaluated once for all chains.
	run.Work.LossEvals++
	return run
}

// sgldCheckpointFormat is the version of the SGLDCheckpoint layout.
const sgldCheckpointFormat = 1

// SGLDCheckpoint is the state of an interrupted SGLD run, complete enough
// to continue it bit for bit. It marshals to JSON without loss, because
// encoding/json writes float64 values in the shortest form that parses
// back to the same bits.
type SGLDCheckpoint struct {
	Format int `json:"format"`
	// Settings is the resolved configuration that wrote the checkpoint.
	Settings sgldSettings     `json:"settings"`
	WStar    []float64        `json:"w_star"`
	LossStar float64          `json:"loss_star"`
	Chains   []SGLDChainState `json:"chains"`
}

// SGLDChainState is one chain of an SGLDCheckpoint at a step boundary.
type SGLDChainState struct {
	// Step is the number of steps done, warmup included.
	Step int `json:"step"`
	// W is the position, GradLoss = ∇L_b(W) and BatchLoss = L_b(W) on
	// Batch, the minibatch already drawn for the next step.
	W         []float64 `json:"w"`
	GradLoss  []float64 `json:"grad_loss"`
	BatchLoss float64   `json:"batch_loss"`
	Batch     []int     `json:"batch,omitempty"`
	// Perm is the permutation that the next minibatch is drawn from.
	Perm []int `json:"perm,omitempty"`
	// RNG is the chain's generator state from rng.Rand.MarshalBinary.
	RNG []byte `json:"rng"`
	// SqAvg, Moment, Beta1Pow and Beta2Pow are the preconditioner's V, m,
	// β₁ᵏ and β₂ᵏ.
	SqAvg    []float64 `json:"sq_avg,omitempty"`
	Moment   []float64 `json:"moment,omitempty"`
	Beta1Pow float64   `json:"beta1_pow"`
	Beta2Pow float64   `json:"beta2_pow"`

	GradEvals         int     `json:"grad_evals"`
	GradEvalsSampling int     `json:"grad_evals_sampling"`
	LossEvals         int     `json:"loss_evals"`
	AcceptSum         float64 `json:"accept_sum"`
	AcceptSteps       int     `json:"accept_steps"`
	BelowStar         int     `json:"below_star"`

	// The draws recorded so far.
	DrawSteps []int     `json:"draw_steps"`
	DrawLoss  []float64 `json:"draw_loss"`
	DrawMALA  []float64 `json:"draw_mala"`
}

func newSGLDCheckpoint(set sgldSettings, wStar []float64, lossStar float64,
	chains []*sgldChain) *SGLDCheckpoint {
	cp := &SGLDCheckpoint{
		Format: sgldCheckpointFormat, Settings: set, WStar: slices.Clone(wStar),
		LossStar: lossStar, Chains: make([]SGLDChainState, len(chains)),
	}
	for c, ch := range chains {
		cp.Chains[c] = ch.save()
	}
	return cp
}

// save copies the chain's state at its current step boundary.
func (ch *sgldChain) save() SGLDChainState {
	state, err := ch.r.MarshalBinary()
	if err != nil {
		// rng.Rand wraps math/rand/v2's PCG, whose MarshalBinary always
		// returns a nil error (Go 1.26 source).
		panic("samplers: marshal rng state: " + err.Error())
	}
	return SGLDChainState{
		Step: ch.step, W: slices.Clone(ch.w), GradLoss: slices.Clone(ch.gradLoss),
		BatchLoss: ch.batchLoss, Batch: slices.Clone(ch.batch), Perm: slices.Clone(ch.perm),
		RNG: state, SqAvg: slices.Clone(ch.sqAvg), Moment: slices.Clone(ch.moment),
		Beta1Pow: ch.beta1Pow, Beta2Pow: ch.beta2Pow,
		GradEvals: ch.gradEvals, GradEvalsSampling: ch.gradEvalsSampling,
		LossEvals: ch.lossEvals, AcceptSum: ch.acceptSum, AcceptSteps: ch.acceptSteps,
		BelowStar: ch.belowStar, DrawSteps: slices.Clone(ch.drawSteps),
		DrawLoss: slices.Clone(ch.drawLoss), DrawMALA: slices.Clone(ch.drawMALA),
	}
}

// restore loads a saved state into a chain built by newSGLDChain, after
// checking that every length matches the settings.
func (ch *sgldChain) restore(s *SGLDChainState) error {
	set := ch.set
	d := set.Dim
	if s.Step < 0 || s.Step > set.totalSteps() {
		return fmt.Errorf("checkpoint step %d lies outside [0, %d]", s.Step, set.totalSteps())
	}

	lengths := []struct {
		name      string
		got, want int
	}{
		{"w", len(s.W), d},
		{"grad_loss", len(s.GradLoss), d},
		{"batch", len(s.Batch), len(ch.batch)},
		{"perm", len(s.Perm), len(ch.perm)},
		{"sq_avg", len(s.SqAvg), len(ch.sqAvg)},
		{"moment", len(s.Moment), len(ch.moment)},
		{"draw_steps", len(s.DrawSteps), set.draws(s.Step)},
		{"draw_loss", len(s.DrawLoss), set.draws(s.Step)},
		{"draw_mala", len(s.DrawMALA), set.draws(s.Step)},
	}
	for _, l := range lengths {
		if l.got != l.want {
			return fmt.Errorf("checkpoint %s has %d values, want %d", l.name, l.got, l.want)
		}
	}

	if err := ch.r.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("restore rng state: %w", err)
	}

	ch.step = s.Step
	copy(ch.w, s.W)
	copy(ch.gradLoss, s.GradLoss)
	ch.batchLoss = s.BatchLoss
	copy(ch.batch, s.Batch)
	copy(ch.perm, s.Perm)
	copy(ch.sqAvg, s.SqAvg)
	copy(ch.moment, s.Moment)
	ch.beta1Pow, ch.beta2Pow = s.Beta1Pow, s.Beta2Pow
	ch.gradEvals, ch.gradEvalsSampling = s.GradEvals, s.GradEvalsSampling
	ch.lossEvals = s.LossEvals
	ch.acceptSum, ch.acceptSteps, ch.belowStar = s.AcceptSum, s.AcceptSteps, s.BelowStar
	ch.drawSteps = append(ch.drawSteps, s.DrawSteps...)
	ch.drawLoss = append(ch.drawLoss, s.DrawLoss...)
	ch.drawMALA = append(ch.drawMALA, s.DrawMALA...)
	return nil
}

// validate checks that the checkpoint was written by the same
// configuration, w* and potential.
func (cp *SGLDCheckpoint) validate(set sgldSettings, wStar []float64, lossStar float64) error {
	if cp.Format != sgldCheckpointFormat {
		return fmt.Errorf("sgld checkpoint format %d is not supported: this version reads "+
			"format %d, so rerun the node from the start", cp.Format, sgldCheckpointFormat)
	}
	if cp.Settings != set {
		return fmt.Errorf("sgld checkpoint was written with settings %+v, not %+v: resume with "+
			"the configuration that wrote it", cp.Settings, set)
	}
	if !slices.Equal(cp.WStar, wStar) {
		return errors.New("sgld checkpoint was written for another w*: resume with the w* " +
			"that wrote it")
	}
	if cp.LossStar != lossStar {
		return fmt.Errorf("sgld checkpoint has L_n(w*) = %v but the potential gives %v: resume "+
			"with the potential that wrote it", cp.LossStar, lossStar)
	}
	if len(cp.Chains) != set.Chains {
		return fmt.Errorf("sgld checkpoint has %d chains, want %d", len(cp.Chains), set.Chains)
	}
	return nil
}
