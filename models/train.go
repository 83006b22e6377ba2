package models

import (
	"context"
	"fmt"
	"math"

	"github.com/llcflow/llcflow/samplers"
)

// TrainConfig sets full-batch training. Zero fields other than Steps take
// the defaults that WithDefaults fills in.
type TrainConfig struct {
	// Optimizer is "adam" (default) or "sgd".
	Optimizer string
	// LR is the learning rate (default 0.01).
	LR float64
	// Beta1, Beta2 and Eps are Adam's moment decay rates and denominator
	// offset (defaults 0.9, 0.999 and 1e-8). SGD ignores them.
	Beta1, Beta2, Eps float64
	// WeightDecay is α ≥ 0 of the L2 penalty (α/2)·‖w‖² that training adds
	// to L_n (0, the default, adds none). It enters the gradient of both
	// optimizers as α·w.
	WeightDecay float64
	// Steps is the number of updates, at least 0. It has no default: zero
	// steps evaluate the loss and gradient at the starting weights.
	Steps int
	// LogEvery is the interval in steps between recorded losses (default
	// Steps/100, at least 1). The loss before the first update and after
	// the last one are always recorded.
	LogEvery int
}

// CurvePoint is the full-data loss after Step updates.
type CurvePoint struct {
	Step int
	Loss float64
}

// TrainResult is the outcome of Train.
type TrainResult struct {
	// Curve holds the recorded losses, in step order.
	Curve []CurvePoint
	// FinalLoss is L_n(w*) at the trained weights.
	FinalLoss float64
	// GradNorm is the Euclidean norm of the full-data gradient of the
	// training objective L_n + (α/2)·‖w‖² at the trained weights. A large
	// value means w* is not a minimum.
	GradNorm float64
}

// TrainState is the optimizer state after Step updates. Training resumed
// from it continues bit for bit as the uninterrupted run would.
type TrainState struct {
	Step int
	// W holds the weights w_Step.
	W []float64
	// M and V are Adam's first and second moment estimates, nil for SGD.
	M, V []float64
	// Beta1Pow and Beta2Pow are β1^Step and β2^Step, Adam's bias
	// corrections, kept as running products.
	Beta1Pow, Beta2Pow float64
}

// TrainHooks are the optional callbacks and starting state of Train.
type TrainHooks struct {
	// Progress is called with the steps done out of the total at every
	// recorded step.
	Progress func(done, total int)
	// Record, when not nil, is called with the weights at every step the
	// curve records. w is Train's own and is only valid during the call.
	Record func(step int, w []float64)
	// Resume, when not nil, continues from this state: Train copies
	// Resume.W into w and Adam's moments from Resume, and its first step
	// is Resume.Step.
	Resume *TrainState
	// SaveAt lists the steps at which Save receives the state and the
	// loss L_n at that state. The state's slices are Train's own and are
	// only valid during the call.
	SaveAt []int
	Save   func(state TrainState, loss float64) error
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c TrainConfig) WithDefaults() TrainConfig {
	if c.Optimizer == "" {
		c.Optimizer = "adam"
	}
	if c.LR == 0 {
		c.LR = 0.01
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	if c.LogEvery == 0 {
		c.LogEvery = max(1, c.Steps/100)
	}
	return c
}

func (c TrainConfig) validate() error {
	switch {
	case c.Optimizer != "adam" && c.Optimizer != "sgd":
		return fmt.Errorf("optimizer %q is not supported, want \"adam\" or \"sgd\"", c.Optimizer)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate %v is invalid, want a finite value above 0", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("adam beta1 %v is invalid, want a value in [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("adam beta2 %v is invalid, want a value in [0, 1)", c.Beta2)
	case !(c.Eps > 0):
		return fmt.Errorf("adam eps %v is invalid, want a value above 0", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("weight decay %v is invalid, want a finite value of at least 0", c.WeightDecay)
	case c.Steps < 0:
		return fmt.Errorf("steps %d is invalid, want at least 0", c.Steps)
	case c.LogEvery < 1:
		return fmt.Errorf("log interval %d is invalid, want at least 1", c.LogEvery)
	}
	return nil
}

// cancelCheckEvery is the number of steps between checks of ctx.
const cancelCheckEvery = 8

// Train minimizes the full-data loss of ev, plus the weight-decay penalty,
// from w, updating w in place, and returns the loss curve, the final loss
// and the final gradient norm. The result depends only on ev, w, cfg and
// hooks.Resume, so it is deterministic.
//
// Train returns an error naming the step when the loss becomes NaN or Inf,
// the error of hooks.Save, and ctx.Err() when ctx is cancelled. In every
// case w holds the weights reached at that step.
func Train(ctx context.Context, ev samplers.Evaluator, w []float64, cfg TrainConfig, hooks TrainHooks) (TrainResult, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return TrainResult{}, err
	}
	opt := newOptimizer(cfg, len(w))
	first := 0
	if r := hooks.Resume; r != nil {
		if err := opt.resume(r, w); err != nil {
			return TrainResult{}, err
		}
		first = r.Step
	}
	if first > cfg.Steps {
		return TrainResult{}, fmt.Errorf("resume step %d is after the last step %d", first, cfg.Steps)
	}
	save := make(map[int]bool, len(hooks.SaveAt))
	for _, s := range hooks.SaveAt {
		save[s] = true
	}

	var res TrainResult
	grad := make([]float64, len(w))
	for t := first; t <= cfg.Steps; t++ {
		if (t-first)%cancelCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}

		// loss is L_n(w_t), the loss after t updates.
		loss := ev.LossGrad(w, nil, grad)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return res, fmt.Errorf("training loss is %v at step %d with %s learning rate %g: try a smaller learning rate",
				loss, t, cfg.Optimizer, cfg.LR)
		}
		if alpha := cfg.WeightDecay; alpha > 0 {
			// ∇[L_n + (α/2)‖w‖²] = ∇L_n + α·w.
			for i, wi := range w {
				grad[i] += float64(alpha * wi)
			}
		}
		if t%cfg.LogEvery == 0 || t == first || t == cfg.Steps {
			res.Curve = append(res.Curve, CurvePoint{Step: t, Loss: loss})
			if hooks.Record != nil {
				hooks.Record(t, w)
			}
			if hooks.Progress != nil {
				hooks.Progress(t, cfg.Steps)
			}
		}
		if save[t] && hooks.Save != nil {
			if err := hooks.Save(opt.state(t, w), loss); err != nil {
				return res, err
			}
		}
		if t == cfg.Steps {
			res.FinalLoss = loss
			res.GradNorm = norm(grad)
			break
		}
		opt.step(w, grad)
	}
	return res, nil
}

// optimizer applies one update w ← w − Δ(∇L_n(w)).
type optimizer struct {
	cfg TrainConfig
	// m and v are Adam's first and second moment estimates.
	m, v []float64
	// beta1Pow and beta2Pow are β1^t and β2^t for the bias corrections,
	// kept as running products.
	beta1Pow, beta2Pow float64
}

func newOptimizer(cfg TrainConfig, d int) *optimizer {
	o := &optimizer{cfg: cfg, beta1Pow: 1, beta2Pow: 1}
	if cfg.Optimizer == "adam" {
		o.m = make([]float64, d)
		o.v = make([]float64, d)
	}
	return o
}

// state returns the optimizer state after t updates, sharing w and the
// moment slices.
func (o *optimizer) state(t int, w []float64) TrainState {
	return TrainState{Step: t, W: w, M: o.m, V: o.v, Beta1Pow: o.beta1Pow, Beta2Pow: o.beta2Pow}
}

// resume copies a saved state into w and the optimizer.
func (o *optimizer) resume(s *TrainState, w []float64) error {
	if len(s.W) != len(w) {
		return fmt.Errorf("resume state has %d weights, the model has %d", len(s.W), len(w))
	}
	if s.Step < 0 {
		return fmt.Errorf("resume step %d is invalid, want at least 0", s.Step)
	}
	copy(w, s.W)
	if o.cfg.Optimizer != "adam" {
		return nil
	}
	if len(s.M) != len(w) || len(s.V) != len(w) {
		return fmt.Errorf("resume state has Adam moments of lengths %d and %d, want %d", len(s.M), len(s.V), len(w))
	}
	copy(o.m, s.M)
	copy(o.v, s.V)
	o.beta1Pow, o.beta2Pow = s.Beta1Pow, s.Beta2Pow
	return nil
}

func (o *optimizer) step(w, g []float64) {
	lr := o.cfg.LR
	if o.cfg.Optimizer == "sgd" {
		// w ← w − η·g
		for i, gi := range g {
			w[i] -= float64(lr * gi)
		}
		return
	}

	// Adam (Kingma and Ba 2015, Algorithm 1):
	//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,
	//   m̂ = m/(1 − β1^t),  v̂ = v/(1 − β2^t),  w ← w − η·m̂/(√v̂ + ε).
	b1, b2, eps := o.cfg.Beta1, o.cfg.Beta2, o.cfg.Eps
	o.beta1Pow *= b1
	o.beta2Pow *= b2
	c1 := 1 - o.beta1Pow
	c2 := 1 - o.beta2Pow
	for i, gi := range g {
		o.m[i] = float64(b1*o.m[i]) + float64((1-b1)*gi)
		o.v[i] = float64(b2*o.v[i]) + float64(float64((1-b2)*gi)*gi)
		mHat := o.m[i] / c1
		vHat := o.v[i] / c2
		w[i] -= float64(lr*mHat) / (math.Sqrt(vHat) + eps)
	}
}

func norm(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += float64(v * v)
	}
	return math.Sqrt(s)
}
