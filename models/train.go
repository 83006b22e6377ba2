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
	// GradNorm is ‖∇L_n(w*)‖, the Euclidean norm of the full-data gradient
	// at the trained weights. A large value means w* is not a minimum.
	GradNorm float64
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
	case c.Steps < 0:
		return fmt.Errorf("steps %d is invalid, want at least 0", c.Steps)
	case c.LogEvery < 1:
		return fmt.Errorf("log interval %d is invalid, want at least 1", c.LogEvery)
	}
	return nil
}

// cancelCheckEvery is the number of steps between checks of ctx.
const cancelCheckEvery = 8

// Train minimizes the full-data loss of ev from w, updating w in place, and
// returns the loss curve, the final loss and the final gradient norm.
// progress, when not nil, is called with the steps done out of the total at
// every recorded step. The result depends only on ev, w and cfg, so it is
// deterministic.
//
// Train returns an error naming the step when the loss becomes NaN or Inf,
// and ctx.Err() when ctx is cancelled. In both cases w holds the weights
// reached at that step.
func Train(ctx context.Context, ev samplers.Evaluator, w []float64, cfg TrainConfig,
	progress func(done, total int)) (TrainResult, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return TrainResult{}, err
	}

	var res TrainResult
	grad := make([]float64, len(w))
	opt := newOptimizer(cfg, len(w))
	for t := 0; t <= cfg.Steps; t++ {
		if t%cancelCheckEvery == 0 {
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
		if t%cfg.LogEvery == 0 || t == cfg.Steps {
			res.Curve = append(res.Curve, CurvePoint{Step: t, Loss: loss})
			if progress != nil {
				progress(t, cfg.Steps)
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
