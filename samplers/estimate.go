package samplers

import (
	"math"

	"github.com/llcflow/llcflow/diagnostics"
)

// Estimate is the LLC estimate of a Run with its convergence diagnostics.
type Estimate struct {
	// LLCMean is the mean of λ_t = nβ·(L_t − L_n(w*)) over every draw of
	// every chain, and LLCSE its standard error sd/√ESSBulk, with sd the
	// standard deviation of the pooled draws.
	LLCMean, LLCSE float64
	// ChainMeans is the mean of λ_t per chain.
	ChainMeans []float64
	// ESSBulk, ESSTail and RHat are the diagnostics of the λ_t chains (see
	// package diagnostics).
	ESSBulk, ESSTail, RHat float64
	// ESSMean is the ESS of the mean of the λ_t themselves, without rank
	// normalization. It is smaller than ESSBulk when rare excursions carry
	// much of the variance, so sd/√ESSMean is a second, more cautious SE.
	ESSMean float64
	// Draws is the number of draws per chain.
	Draws int
}

// Summarize returns the LLC estimate of run. Chains of unequal length are
// cut to the shortest, so every chain weighs the same. Without draws the
// numbers are NaN, and with fewer than 4 draws per chain the
// diagnostics and LLCSE are NaN.
func Summarize(run *Run) Estimate {
	draws := 0
	if len(run.Chains) > 0 {
		draws = len(run.Chains[0].Loss)
		for _, ch := range run.Chains {
			draws = min(draws, len(ch.Loss))
		}
	}
	est := Estimate{
		LLCMean: math.NaN(), LLCSE: math.NaN(), ESSBulk: math.NaN(), ESSTail: math.NaN(),
		RHat: math.NaN(), ESSMean: math.NaN(), Draws: draws, ChainMeans: make([]float64, len(run.Chains)),
	}
	if draws == 0 {
		for c := range est.ChainMeans {
			est.ChainMeans[c] = math.NaN()
		}
		return est
	}

	llc := make([][]float64, len(run.Chains))
	var sum float64
	for c, ch := range run.Chains {
		llc[c] = make([]float64, draws)
		var chainSum float64
		for i, loss := range ch.Loss[:draws] {
			llc[c][i] = run.NBeta * (loss - run.LossStar)
			chainSum += llc[c][i]
		}
		est.ChainMeans[c] = chainSum / float64(draws)
		sum += chainSum
	}
	total := float64(draws * len(llc))
	est.LLCMean = sum / total

	var sumSq float64
	for _, x := range llc {
		for _, v := range x {
			sumSq += (v - est.LLCMean) * (v - est.LLCMean)
		}
	}
	sd := math.Sqrt(sumSq / (total - 1))

	est.ESSBulk = diagnostics.ESSBulk(llc)
	est.ESSTail = diagnostics.ESSTail(llc)
	est.RHat = diagnostics.RHat(llc)
	est.ESSMean = diagnostics.ESSMean(llc)
	est.LLCSE = sd / math.Sqrt(est.ESSBulk)
	return est
}

// Efficiency is the cost of an estimate per unit of work, where the work
// is counted in FDE or in seconds.
type Efficiency struct {
	// ESSPerWork is ESS_bulk / work.
	ESSPerWork float64
	// WNV is the work-normalized variance SE²·work = (sd²/ESS_bulk)·work:
	// the variance of the estimate that one unit of work would buy. Lower
	// is better, and it does not depend on the run length.
	WNV float64
}

// NewEfficiency returns the efficiency of est for work, such as
// Work.GradFDE (warmup and tuning included) or the wall time in seconds.
// It is NaN when work is not positive or the estimate has no SE.
func NewEfficiency(est Estimate, work float64) Efficiency {
	if !(work > 0) {
		return Efficiency{ESSPerWork: math.NaN(), WNV: math.NaN()}
	}
	return Efficiency{ESSPerWork: est.ESSBulk / work, WNV: est.LLCSE * est.LLCSE * work}
}
