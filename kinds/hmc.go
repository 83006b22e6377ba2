package kinds

import (
	"context"
	"fmt"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/samplers"
)

func init() {
	register(&Kind{
		Type: "sampler", Name: "hmc", Version: "hmc/2",
		Attrs: append(commonSamplerAttrs(),
			nonNegative(Attr{Name: "step_size", Type: Number, Default: 0.0, Doc: "initial leapfrog step size; 0 finds one, and warmup adapts it"}),
			atLeast(Attr{Name: "leapfrog_steps", Type: Int, Default: 10.0, Doc: "leapfrog steps per transition"}, 1),
			nonNegative(Attr{Name: "warmup", Type: Int, Default: 500.0, Doc: "adaptation transitions, not recorded"}),
			atLeast(Attr{Name: "draws", Type: Int, Default: 1000.0, Doc: "recorded transitions after warmup"}, 1),
			Attr{Name: "target_accept", Type: Number, Default: 0.8, Min: ptr(0), MinExcl: true, Max: ptr(1), Doc: "acceptance rate the step size adapts toward"},
			Attr{Name: "adapt_mass", Type: Bool, Default: true, Doc: "adapt a diagonal mass matrix during warmup"},
			// checkHMC rejects a step_jitter outside [0, 1) with that
			// range, which the schema's inclusive Max could not state.
			Attr{Name: "step_jitter", Type: Number, Optional: true,
				Doc: "j in [0, 1): each recorded transition's step size is drawn from [ε(1 − j), ε(1 + j)]; absent or 0 keeps ε fixed"},
		),
		Check: checkHMC,
		Run:   runHMC,
	})
	register(&Kind{
		Type: "sampler", Name: "mclmc", Version: "mclmc/3",
		Attrs: append(commonSamplerAttrs(),
			Attr{Name: "integrator", Type: String, Default: "mclachlan", Enum: []string{"mclachlan", "leapfrog"}},
			nonNegative(Attr{Name: "L", Type: Number, Default: 0.0, Doc: "momentum decoherence length; 0 tunes it"}),
			nonNegative(Attr{Name: "step_size", Type: Number, Default: 0.0, Doc: "step size ε; 0 tunes it"}),
			positive(Attr{Name: "energy_var", Type: Number, Default: 5e-4, Doc: "tuning target for the energy-error variance per dimension"}),
			atLeast(Attr{Name: "tune_steps", Type: Int, Default: 500.0, Doc: "steps of each tuning stage"}, 20),
			nonNegative(Attr{Name: "warmup", Type: Int, Default: 200.0, Doc: "steps after tuning, not recorded"}),
			atLeast(Attr{Name: "draws", Type: Int, Default: 1000.0, Doc: "recorded steps"}, 1),
		),
		Check: checkMCLMC,
		Run:   runMCLMC,
	})
}

// checkMCLMC checks the sampler's input and the size of its trace.
func checkMCLMC(params map[string]any) []dsl.FieldError {
	if errs := checkSamplerInput(params); errs != nil {
		return errs
	}
	return checkDraws(params)
}

// checkHMC drops step_jitter = 0, so that a node that spells out the
// default keeps the key of one without it, and rejects a jitter outside
// [0, 1): a negative one is no width, and one of 1 or more would allow a
// step size of 0 or below.
func checkHMC(params map[string]any) []dsl.FieldError {
	dropValue(params, "step_jitter", 0.0)
	j, ok := params["step_jitter"].(float64)
	var problem string
	switch {
	case ok && j < 0:
		problem = "is negative"
	case ok && j >= 1:
		problem = "would allow step sizes of 0 or below"
	}
	if problem != "" {
		return []dsl.FieldError{{Attr: "step_jitter", Summary: "Invalid value",
			Detail: fmt.Sprintf("step_jitter = %g %s; use a value in [0, 1), such as 0.9.", j, problem)}}
	}
	if errs := checkSamplerInput(params); errs != nil {
		return errs
	}
	return checkDraws(params)
}

// checkDraws checks the trace size of an HMC or MCLMC sampler, which
// records every one of its draws.
func checkDraws(params map[string]any) []dsl.FieldError {
	chains, _ := params["chains"].(float64)
	draws, _ := params["draws"].(float64)
	return checkTraceSize(int(chains), int(draws), hmcValuesPerDraw, "draws",
		fmt.Sprintf("%d draws", int(draws)))
}

type hmcParams struct {
	samplerParams
	StepSize      float64 `json:"step_size"`
	LeapfrogSteps int     `json:"leapfrog_steps"`
	Warmup        int     `json:"warmup"`
	Draws         int     `json:"draws"`
	TargetAccept  float64 `json:"target_accept"`
	AdaptMass     bool    `json:"adapt_mass"`
	StepJitter    float64 `json:"step_jitter"`
}

type mclmcParams struct {
	samplerParams
	Integrator string  `json:"integrator"`
	L          float64 `json:"L"`
	StepSize   float64 `json:"step_size"`
	EnergyVar  float64 `json:"energy_var"`
	TuneSteps  int     `json:"tune_steps"`
	Warmup     int     `json:"warmup"`
	Draws      int     `json:"draws"`
}

// tuningSteps returns the steps that MCLMC spends tuning: stage 1 tunes
// ε, stage 2 goes on with ε and sets L, stage 3 sets L, and a value given
// by hand skips the stages that tune only it.
func (p mclmcParams) tuningSteps() int {
	tuneEps, tuneL := p.StepSize == 0, p.L == 0
	stages := 0
	if tuneEps {
		stages++
	}
	if tuneEps || tuneL {
		stages++
	}
	if tuneL {
		stages++
	}
	return stages * p.TuneSteps
}

// common returns the samplers.Common of a node.
func (p samplerParams) common(rc *RunContext, nBeta float64, totalSteps int) samplers.Common {
	return samplers.Common{
		Chains: p.Chains, NBeta: nBeta, Gamma: p.Gamma, WeightDecay: p.WeightDecay,
		InitNoise: p.InitNoise, Seed: rc.Key, Parallel: rc.Threads,
		Progress: chainProgress(rc, p.Chains, float64(p.Chains*totalSteps)),
	}
}

func runHMC(ctx context.Context, rc *RunContext) error {
	var p hmcParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	in, err := loadSamplerInput(rc, p.samplerParams)
	if err != nil {
		return err
	}
	nBeta, err := p.nBeta(in.n)
	if err != nil {
		return err
	}
	cfg := samplers.HMCConfig{
		Common:   p.common(rc, nBeta, p.Warmup+p.Draws),
		StepSize: p.StepSize, LeapfrogSteps: p.LeapfrogSteps, Warmup: p.Warmup, Draws: p.Draws,
		TargetAccept: p.TargetAccept, AdaptMass: p.AdaptMass, StepJitter: p.StepJitter,
	}
	fmt.Fprintf(rc.Log, "hmc: d = %d, n = %d, nβ = %g, γ = %g, %d chains × %d draws after %d warmup, %d leapfrog steps\n",
		in.d, in.n, nBeta, p.Gamma, p.Chains, p.Draws, p.Warmup, p.LeapfrogSteps)
	if p.StepJitter > 0 {
		fmt.Fprintf(rc.Log, "hmc: step size jittered by ±%g of ε in each recorded transition\n", p.StepJitter)
	}
	logWeightDecay(rc, p.samplerParams)
	run, err := samplers.HMC(ctx, in.pot, in.wStar, cfg)
	if err != nil {
		return err
	}
	out := samplerOutput{kind: "hmc", in: in, bounds: p.Bounds, weightDecay: p.WeightDecay}
	return writeSamplerOutputs(rc, out, run)
}

func runMCLMC(ctx context.Context, rc *RunContext) error {
	var p mclmcParams
	if err := decode(rc.Params, &p); err != nil {
		return err
	}
	in, err := loadSamplerInput(rc, p.samplerParams)
	if err != nil {
		return err
	}
	if in.d < 2 {
		return fmt.Errorf("mclmc needs at least 2 parameters, the potential has d = %d; use hmc or sgld", in.d)
	}
	nBeta, err := p.nBeta(in.n)
	if err != nil {
		return err
	}
	cfg := samplers.MCLMCConfig{
		Common:     p.common(rc, nBeta, p.tuningSteps()+p.Warmup+p.Draws),
		Integrator: p.Integrator, L: p.L, StepSize: p.StepSize,
		DesiredEnergyVar: p.EnergyVar, TuneSteps: p.TuneSteps, Warmup: p.Warmup, Draws: p.Draws,
	}
	fmt.Fprintf(rc.Log, "mclmc: d = %d, n = %d, nβ = %g, γ = %g, %s integrator, %d chains × %d draws\n",
		in.d, in.n, nBeta, p.Gamma, p.Integrator, p.Chains, p.Draws)
	logWeightDecay(rc, p.samplerParams)
	run, err := samplers.MCLMC(ctx, in.pot, in.wStar, cfg)
	if err != nil {
		return err
	}
	out := samplerOutput{kind: "mclmc", in: in, bounds: p.Bounds, weightDecay: p.WeightDecay}
	if p.StepSize == 0 {
		out.energyVar = p.EnergyVar
	}
	return writeSamplerOutputs(rc, out, run)
}
