package kinds

import (
	"math"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/samplers"
)

// mclmcRun returns a two-chain run whose energy errors are
// errs, split evenly between the chains.
func mclmcRun(errs []float64, energyVar float64) *samplers.Run {
	run := &samplers.Run{Stats: map[string]float64{"energy_var": energyVar, "step_size": 0.02, "L": 2.5}}
	half := len(errs) / 2
	for _, part := range [][]float64{errs[:half], errs[half:]} {
		run.Chains = append(run.Chains, samplers.ChainTrace{Series: map[string][]float64{"energy_error": part}})
	}
	return run
}

func TestEnergyTailShare(t *testing.T) {
	// 200 draws: 198 errors of 0.1 and 2 of 10 (the largest 1 %), so the
	// tail carries 2·100 / (198·0.01 + 2·100) of Σ ΔE².
	errs := make([]float64, 200)
	for i := range errs {
		errs[i] = 0.1
	}
	errs[17], errs[150] = -10, 10
	got := energyTailShare(mclmcRun(errs, 0))
	want := 200 / (198*0.01 + 200)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("tail share = %.15g, want %.15g", got, want)
	}
	if got := energyTailShare(&samplers.Run{}); got != 0 {
		t.Errorf("tail share without draws = %g, want 0", got)
	}
}

func TestEnergyWarningNamesTheCheck(t *testing.T) {
	errs := make([]float64, 200)
	for i := range errs {
		errs[i] = 0.1
	}
	// The largest 1 % are 10 and one 0.1: (100 + 0.01) / (199·0.01 + 100)
	// = 98 % of Σ ΔE².
	errs[3] = 10
	out := samplerOutput{kind: "mclmc", energyVar: 5e-4}
	warnings := healthWarnings(out, samplers.Estimate{LLCMean: 1, ESSBulk: 1e4, RHat: 1}, mclmcRun(errs, 3e-3))
	if len(warnings) != 1 {
		t.Fatalf("warnings %q, want one", warnings)
	}
	for _, part := range []string{"0.003 is 6.0 times the target 0.0005", "carry 98 %",
		"step_size = 0.01 (half the tuned 0.02) and L = 2.5"} {
		if !strings.Contains(warnings[0], part) {
			t.Errorf("warning %q lacks %q", warnings[0], part)
		}
	}
	calm := healthWarnings(out, samplers.Estimate{LLCMean: 1, ESSBulk: 1e4, RHat: 1}, mclmcRun(errs, 1e-3))
	if len(calm) != 0 {
		t.Errorf("energy_var at twice the target gave warnings %q, want none", calm)
	}
}
