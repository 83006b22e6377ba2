package samplers

import (
	"math"
	"testing"

	"github.com/llcflow/llcflow/diagnostics"
	"github.com/llcflow/llcflow/rng"
)

// runWithLosses returns a Run whose chains recorded the given losses, with
// nβ = 10 and L_n(w*) = 0.5.
func runWithLosses(losses ...[]float64) *Run {
	run := &Run{LossStar: 0.5, NBeta: 10}
	for _, l := range losses {
		run.Chains = append(run.Chains, ChainTrace{Loss: l})
	}
	return run
}

func TestSummarizeSmallRun(t *testing.T) {
	run := runWithLosses([]float64{0.6, 0.7, 0.5, 0.8}, []float64{0.5, 0.9, 0.6, 0.6})
	// λ = 10·(L − 0.5): chain 0 gives 1, 2, 0, 3 and chain 1 gives 0, 4, 1, 1.
	est := Summarize(run)
	if est.Draws != 4 {
		t.Errorf("draws = %d, want 4", est.Draws)
	}
	if math.Abs(est.LLCMean-1.5) > 1e-12 {
		t.Errorf("mean = %v, want 1.5", est.LLCMean)
	}
	for c, want := range []float64{1.5, 1.5} {
		if math.Abs(est.ChainMeans[c]-want) > 1e-12 {
			t.Errorf("chain %d mean = %v, want %v", c, est.ChainMeans[c], want)
		}
	}

	// The same λ as Summarize computes them, which round 10·(0.6 − 0.5) to
	// just below 1.
	llc := make([][]float64, 2)
	for i, ch := range run.Chains {
		for _, loss := range ch.Loss {
			llc[i] = append(llc[i], 10*(loss-0.5))
		}
	}

	// Pooled squared deviations from 1.5: 0.25+0.25+2.25+2.25+2.25+6.25+0.25+0.25 = 14.
	sd := math.Sqrt(14.0 / 7)
	if want := sd / math.Sqrt(diagnostics.ESSBulk(llc)); math.Abs(est.LLCSE-want) > 1e-9 {
		t.Errorf("SE = %v, want sd/√ESS = %v", est.LLCSE, want)
	}
	if got, want := est.ESSBulk, diagnostics.ESSBulk(llc); got != want {
		t.Errorf("bulk ESS = %v, want %v", got, want)
	}
	if got, want := est.ESSTail, diagnostics.ESSTail(llc); got != want || math.IsNaN(got) {
		t.Errorf("tail ESS = %v, want %v", got, want)
	}
	if got, want := est.RHat, diagnostics.RHat(llc); got != want {
		t.Errorf("R̂ = %v, want %v", got, want)
	}
}

func TestSummarizeCutsToShortestChain(t *testing.T) {
	run := runWithLosses([]float64{0.6, 0.7, 0.5, 0.8, 0.9, 5}, []float64{0.5, 0.9, 0.6, 0.6, 0.7})
	est := Summarize(run)
	if est.Draws != 5 {
		t.Errorf("draws = %d, want 5", est.Draws)
	}
	// Chain 0 without its sixth draw: λ = 1, 2, 0, 3, 4.
	if math.Abs(est.ChainMeans[0]-2) > 1e-12 {
		t.Errorf("chain 0 mean = %v, want 2 from its first 5 draws", est.ChainMeans[0])
	}
}

func TestSummarizeWithoutDraws(t *testing.T) {
	for name, run := range map[string]*Run{
		"no chains": runWithLosses(),
		"no draws":  runWithLosses(nil, nil),
	} {
		est := Summarize(run)
		if est.Draws != 0 || !math.IsNaN(est.LLCMean) || !math.IsNaN(est.LLCSE) ||
			!math.IsNaN(est.ESSBulk) || !math.IsNaN(est.RHat) {
			t.Errorf("%s: %+v, want 0 draws and NaN numbers", name, est)
		}
		for c, m := range est.ChainMeans {
			if !math.IsNaN(m) {
				t.Errorf("%s: chain %d mean = %v, want NaN", name, c, m)
			}
		}
	}
}

func TestSummarizeTooFewDraws(t *testing.T) {
	est := Summarize(runWithLosses([]float64{0.6, 0.7, 0.8}))
	if math.Abs(est.LLCMean-2) > 1e-12 {
		t.Errorf("mean = %v, want 2", est.LLCMean)
	}
	if !math.IsNaN(est.LLCSE) || !math.IsNaN(est.ESSBulk) {
		t.Errorf("SE %v and ESS %v from 3 draws, want NaN", est.LLCSE, est.ESSBulk)
	}
}

// For iid draws the SE must be sd/√S for S pooled draws, up to sampling
// error. The sample sd has relative sd 1/√(2S). ESS from a Geyer sum over
// lags −K … K has relative sd √(2(2K + 1)/S), by Bartlett's
// approximation, so √ESS has half that. Together the relative sd of SE is
// √((K + 1)/S). For iid draws every pair sum has sd √(2/S) and mean 0, so
// K > 20 needs 10 positive pair sums in a row, with probability near 2⁻¹⁰.
func TestSummarizeIIDStandardError(t *testing.T) {
	const chains, draws = 4, 5000
	losses := make([][]float64, chains)
	for c := range losses {
		r := rng.New("summarize", "iid", uint64(c))
		losses[c] = make([]float64, draws)
		for i := range losses[c] {
			losses[c][i] = 0.5 + 0.1*r.Norm()
		}
	}
	est := Summarize(runWithLosses(losses...))
	const total = chains * draws
	// λ = 10·(L − 0.5) has sd 1.
	want := 1 / math.Sqrt(total)
	if tol := 4 * want * math.Sqrt(21.0/total); math.Abs(est.LLCSE-want) > tol {
		t.Errorf("SE = %v, want %v ± %v", est.LLCSE, want, tol)
	}
	if math.Abs(est.LLCMean) > 4*want {
		t.Errorf("mean = %v, want 0 ± %v", est.LLCMean, 4*want)
	}
}
