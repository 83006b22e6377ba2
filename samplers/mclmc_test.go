package samplers_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/samplers"
	"github.com/llcflow/llcflow/targets"
)

// MCLMC is unadjusted, so its estimates carry a discretization bias. Both
// integrators are second order, so the bias scales as ε² and, with
// Var[ΔE] ∝ ε⁶, as (E[ΔE²]/d)^{1/3}. At the default 5e-4 it is a few
// percent on the 10-dimensional Gaussian (TestMCLMCBiasAtDefaultEnergyVar
// measures it), so at 1e-6 it is 500^{1/3} ≈ 8 times smaller, under 0.5 %,
// which is below one standard error of these runs. The known-value tests
// run there.
const mclmcTightEnergyVar = 1e-6

func mclmcConfig(c, gamma float64, seed string) samplers.MCLMCConfig {
	cfg := samplers.DefaultMCLMCConfig()
	cfg.NBeta, cfg.Gamma, cfg.Seed, cfg.InitNoise = c, gamma, seed, 0.01
	cfg.Draws = 5000
	return cfg
}

func TestMCLMCKnownValues(t *testing.T) {
	cases := append(tableA(), tableB()...)
	cases = append(cases, knownCase{"monomial (1,2) c=144.76",
		targets.Monomial{Exponents: []int{1, 2}, Lower: -1, Upper: 1}, 144.76, 0,
		targets.ExactMonomial([]int{1, 2}, 144.76, -1, 1)})
	for _, integrator := range []string{"mclachlan", "leapfrog"} {
		for _, tc := range cases {
			t.Run(integrator+" "+tc.name, func(t *testing.T) {
				cfg := mclmcConfig(tc.c, tc.gamma, "mclmc-known-"+tc.name)
				cfg.Integrator = integrator
				cfg.DesiredEnergyVar = mclmcTightEnergyVar
				run, err := samplers.MCLMC(context.Background(), tc.target, tc.target.WStar(), cfg)
				if err != nil {
					t.Fatalf("MCLMC: %v", err)
				}
				t.Logf("L = %.4g, ε = %.4g, E[ΔE²]/d = %.3g", run.Stats["L"],
					run.Stats["step_size"], run.Stats["energy_var"])
				checkWithinSE(t, run, tc.want)
			})
		}
	}
}

func TestMCLMCBiasAtDefaultEnergyVar(t *testing.T) {
	target := targets.Quadratic{H: ones(10)}
	const want = 5.0
	for _, integrator := range []string{"mclachlan", "leapfrog"} {
		cfg := mclmcConfig(100, 0, "mclmc-bias")
		cfg.Integrator = integrator
		cfg.Draws = 20000
		run, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
		if err != nil {
			t.Fatalf("MCLMC %s: %v", integrator, err)
		}
		est := samplers.Summarize(run)
		bias := (est.LLCMean - want) / want
		t.Logf("%s at E[ΔE²]/d target %g: λ̂ = %.4f ± %.4f, bias %+.2f %% ± %.2f %%, "+
			"measured E[ΔE²]/d = %.3g, L = %.4g, ε = %.4g", integrator, cfg.DesiredEnergyVar,
			est.LLCMean, est.LLCSE, 100*bias, 100*est.LLCSE/want, run.Stats["energy_var"],
			run.Stats["L"], run.Stats["step_size"])
		if math.Abs(bias) >= 0.10 {
			t.Errorf("%s: bias %+.2f %% is not below 10 %%", integrator, 100*bias)
		}
	}
}

func TestMCLMCTunesEnergyVariance(t *testing.T) {
	// On a Gaussian, Var[ΔE] ∝ ε⁶ holds closely, so the tuned ε should
	// give a measured E[ΔE²]/d near the target. A factor of 2 either way
	// is a loose bound that still fails when the tuning is off by the
	// orders of magnitude that its starting point ε = √d/4 would give.
	target := targets.Quadratic{H: ones(10)}
	for _, desired := range []float64{5e-4, 1e-5} {
		cfg := mclmcConfig(100, 0, "mclmc-energy-var")
		cfg.DesiredEnergyVar = desired
		run, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
		if err != nil {
			t.Fatalf("MCLMC: %v", err)
		}
		got := run.Stats["energy_var"]
		t.Logf("target %g: measured E[ΔE²]/d = %.3g", desired, got)
		if got < desired/2 || got > 2*desired {
			t.Errorf("target %g: measured E[ΔE²]/d = %.3g, want within a factor 2", desired, got)
		}
	}
}

func TestMCLMCMonomialLong(t *testing.T) {
	if !longTests() {
		t.Skip("set LLCFLOW_LONG=1 to run every row of the normal-crossing table")
	}
	for _, exps := range [][]int{{0, 1}, {1, 1}, {1, 2}, {1, 3}} {
		for _, c := range []float64{144.76, 1e8} {
			t.Run(fmt.Sprintf("%v c=%g", exps, c), func(t *testing.T) {
				target := targets.Monomial{Exponents: exps, Lower: -1, Upper: 1}
				want := targets.ExactMonomial(exps, c, -1, 1)
				cfg := mclmcConfig(c, 0, "mclmc-monomial-long")
				cfg.DesiredEnergyVar = mclmcTightEnergyVar
				cfg.Draws = 20000
				run, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
				if err != nil {
					t.Fatalf("MCLMC: %v", err)
				}
				checkWithinSE(t, run, want)
			})
		}
	}
}

func TestMCLMCReflectsAtBoxWalls(t *testing.T) {
	const d, a = 3, 2.0
	target := linearBox{d: d}
	cfg := mclmcConfig(a, 0, "mclmc-box")
	cfg.InitNoise = 0.3
	cfg.DesiredEnergyVar = mclmcTightEnergyVar
	run, err := samplers.MCLMC(context.Background(), target, make([]float64, d), cfg)
	if err != nil {
		t.Fatalf("MCLMC: %v", err)
	}
	checkLinearBox(t, run, d, a)
}

func TestMCLMCRejectsOneDimension(t *testing.T) {
	target := targets.Radial{D: 1, K: 2}
	_, err := samplers.MCLMC(context.Background(), target, target.WStar(), mclmcConfig(100, 0, "x"))
	if err == nil {
		t.Fatal("MCLMC accepted a one-dimensional potential")
	}
	if !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("error %q does not say that MCLMC needs at least 2 dimensions", err)
	}
}

func TestMCLMCReproducible(t *testing.T) {
	target := targets.Radial{D: 3, K: 2}
	cfg := mclmcConfig(100, 0, "mclmc-repro")
	cfg.TuneSteps, cfg.Warmup, cfg.Draws, cfg.Chains = 100, 50, 300, 3
	cfg.Parallel = 1
	first, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
	if err != nil {
		t.Fatalf("MCLMC: %v", err)
	}
	again, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
	if err != nil {
		t.Fatalf("MCLMC: %v", err)
	}
	cfg.Parallel = 2
	parallel, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
	if err != nil {
		t.Fatalf("MCLMC: %v", err)
	}
	if !reflect.DeepEqual(first, again) {
		t.Error("two runs with the same seed differ")
	}
	if !reflect.DeepEqual(first, parallel) {
		t.Error("Parallel = 1 and Parallel = 2 give different runs")
	}
}

func TestMCLMCWorkCounts(t *testing.T) {
	target := targets.Quadratic{H: ones(4)}
	cases := []struct {
		name        string
		integrator  string
		l, eps      float64
		gradPerStep int
		tuneStages  int
	}{
		{"mclachlan fixed", "mclachlan", 0.3, 0.05, 2, 0},
		{"leapfrog fixed", "leapfrog", 0.3, 0.05, 1, 0},
		{"mclachlan tuned", "mclachlan", 0, 0, 2, 3},
		{"leapfrog tuned", "leapfrog", 0, 0, 1, 3},
		{"leapfrog L given", "leapfrog", 0.3, 0, 1, 2},
		{"leapfrog ε given", "leapfrog", 0, 0.05, 1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mclmcConfig(100, 0, "mclmc-work")
			cfg.Integrator, cfg.L, cfg.StepSize = tc.integrator, tc.l, tc.eps
			cfg.TuneSteps, cfg.Warmup, cfg.Draws, cfg.Chains = 40, 30, 50, 2
			run, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg)
			if err != nil {
				t.Fatalf("MCLMC: %v", err)
			}
			steps := tc.tuneStages*cfg.TuneSteps + cfg.Warmup + cfg.Draws
			want := float64(cfg.Chains * (1 + steps*tc.gradPerStep))
			if run.Work.GradFDE != want {
				t.Errorf("GradFDE = %g, want %g", run.Work.GradFDE, want)
			}
			wantSampling := float64(cfg.Chains * cfg.Draws * tc.gradPerStep)
			if run.Work.GradFDESampling != wantSampling {
				t.Errorf("GradFDESampling = %g, want %g", run.Work.GradFDESampling, wantSampling)
			}
			if tc.l != 0 && run.Stats["L"] != tc.l {
				t.Errorf("L = %g, want the given %g", run.Stats["L"], tc.l)
			}
			if tc.eps != 0 && run.Stats["step_size"] != tc.eps {
				t.Errorf("step size = %g, want the given %g", run.Stats["step_size"], tc.eps)
			}
			for c, chain := range run.Chains {
				if len(chain.Loss) != cfg.Draws || len(chain.Series["energy_error"]) != cfg.Draws {
					t.Errorf("chain %d: %d losses and %d energy errors, want %d", c,
						len(chain.Loss), len(chain.Series["energy_error"]), cfg.Draws)
				}
				if !(chain.Stats["L"] > 0 && chain.Stats["step_size"] > 0) {
					t.Errorf("chain %d: L = %g and ε = %g, want positive values", c,
						chain.Stats["L"], chain.Stats["step_size"])
				}
			}
		})
	}
}

func TestMCLMCNaNIsDivergence(t *testing.T) {
	cfg := mclmcConfig(100, 0, "mclmc-nan")
	cfg.Integrator, cfg.L, cfg.StepSize = "leapfrog", 0.3, 0.05
	cfg.Warmup, cfg.Draws, cfg.Chains = 10, 50, 1
	// 1 start gradient and one per leapfrog step: the 16th step (index 15)
	// evaluates gradient number 17.
	pot := nanAfter{Quadratic: targets.Quadratic{H: ones(3)}, limit: 17}
	_, err := samplers.MCLMC(context.Background(), pot, make([]float64, 3), cfg)
	var div *samplers.DivergenceError
	if !errors.As(err, &div) {
		t.Fatalf("got error %v, want a *DivergenceError", err)
	}
	if div.Sampler != "mclmc" || div.Chain != 0 || div.Step != 15 || div.StepSize != 0.05 {
		t.Errorf("got %+v, want sampler mclmc, chain 0, step 15, step size 0.05", *div)
	}
}

func TestMCLMCTuningSurvivesNaN(t *testing.T) {
	// A NaN during tuning undoes the step and caps ε, as BlackJAX does.
	pot := &onceNaN{Quadratic: targets.Quadratic{H: ones(3)}, at: 20}
	cfg := mclmcConfig(100, 0, "mclmc-nan-tune")
	cfg.TuneSteps, cfg.Draws = 50, 100
	cfg.Chains = 1
	run, err := samplers.MCLMC(context.Background(), pot, make([]float64, 3), cfg)
	if err != nil {
		t.Fatalf("MCLMC: %v", err)
	}
	if !(run.Stats["step_size"] > 0) {
		t.Errorf("step size %g, want a positive value", run.Stats["step_size"])
	}
}

func TestMCLMCCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	target := targets.Quadratic{H: ones(3)}
	_, err := samplers.MCLMC(ctx, target, target.WStar(), mclmcConfig(100, 0, "mclmc-cancel"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
}

func TestMCLMCRejectsInvalidConfig(t *testing.T) {
	target := targets.Quadratic{H: ones(2)}
	cases := []struct {
		name   string
		modify func(*samplers.MCLMCConfig)
	}{
		{"unknown integrator", func(c *samplers.MCLMCConfig) { c.Integrator = "verlet" }},
		{"negative L", func(c *samplers.MCLMCConfig) { c.L = -1 }},
		{"NaN step size", func(c *samplers.MCLMCConfig) { c.StepSize = math.NaN() }},
		{"negative energy variance", func(c *samplers.MCLMCConfig) { c.DesiredEnergyVar = -1 }},
		{"too few tune steps", func(c *samplers.MCLMCConfig) { c.TuneSteps = 5 }},
		{"negative warmup", func(c *samplers.MCLMCConfig) { c.Warmup = -1 }},
		{"no draws", func(c *samplers.MCLMCConfig) { c.Draws = 0 }},
		{"no chains", func(c *samplers.MCLMCConfig) { c.Chains = 0 }},
	}
	for _, tc := range cases {
		cfg := mclmcConfig(100, 0, "mclmc-invalid")
		tc.modify(&cfg)
		if _, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg); err == nil {
			t.Errorf("%s: MCLMC returned no error", tc.name)
		}
	}
}

func TestMCLMCStepAllocatesNothing(t *testing.T) {
	target := targets.Quadratic{H: ones(5)}
	measure := func(draws int) float64 {
		cfg := mclmcConfig(100, 0, "mclmc-alloc")
		cfg.Chains, cfg.TuneSteps, cfg.Warmup, cfg.Draws = 1, 50, 50, draws
		return testing.AllocsPerRun(3, func() {
			if _, err := samplers.MCLMC(context.Background(), target, target.WStar(), cfg); err != nil {
				t.Fatalf("MCLMC: %v", err)
			}
		})
	}
	if short, long := measure(100), measure(1000); long > short {
		t.Errorf("1000 draws allocate %g times, 100 draws %g: steps allocate", long, short)
	}
}
