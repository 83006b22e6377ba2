package report

import "math"

// Metrics are the numbers derived from a sampler's summary and its wall
// time. A nil field is unknown.
type Metrics struct {
	// FDE is the sampler's whole work in full-data equivalents of
	// gradient evaluations, warmup and tuning included.
	FDE *float64
	// ESSPerSecond and ESSPerFDE are the bulk ESS of the LLC draws per
	// second of wall time and per FDE.
	ESSPerSecond, ESSPerFDE *float64
	// WNVTime and WNVFDE are the work-normalized variances sd²/ESS × work
	// with the work in seconds or in FDE. Because the standard error is
	// sd/√ESS, they equal SE² × work: lower is better, and they compare
	// samplers at equal cost.
	WNVTime, WNVFDE *float64

	// AcceptanceRate is the mean acceptance over the chains: the
	// Metropolis acceptance of HMC, and for SGLD the MALA acceptance that
	// each step would have had.
	AcceptanceRate *float64
	// StepSize is the (mean tuned) step size ε.
	StepSize *float64
	// Divergences is the number of divergent HMC transitions after
	// warmup, summed over the chains.
	Divergences *float64
	// FracBelowStar is the mean fraction of draws with L_n below L_n(w*),
	// a sign that w* is not a local minimum.
	FracBelowStar *float64
	// EnergyVar is MCLMC's energy-error variance per dimension, and L its
	// momentum decoherence length.
	EnergyVar, L *float64
}

// EfficiencyFunc returns ESS_bulk/work and the work-normalized variance
// SE²·work of an estimate with bulk ESS essBulk and standard error llcSE,
// or NaN for either when it is undefined (work not positive, or an input
// NaN). kinds.Efficiency is the implementation: it calls
// samplers.NewEfficiency, which also computes the ess_per_fde and wnv_fde
// of result.json, so that tables, plots and results agree.
type EfficiencyFunc func(essBulk, llcSE, work float64) (essPerWork, wnv float64)

// Derive computes the metrics of a summary. wallSeconds is the run's wall
// time from its provenance, or nil, and efficiency computes the numbers
// per second and, for a result that lacks them, per FDE.
func Derive(s *Summary, wallSeconds *float64, efficiency EfficiencyFunc) Metrics {
	m := Metrics{FDE: finitePtr(s.Work.GradFDE)}
	wall := finitePtr(wallSeconds)
	ess := valueOrNaN(s.ESSBulk)
	se := valueOrNaN(s.LLCSE)

	perSecond, wnvTime := workEfficiency(efficiency, ess, se, wall)
	m.ESSPerSecond, m.WNVTime = perSecond, wnvTime
	perFDE, wnvFDE := workEfficiency(efficiency, ess, se, m.FDE)
	m.ESSPerFDE = firstKnown(s.ESSPerFDE, perFDE)
	m.WNVFDE = firstKnown(s.WNVFDE, wnvFDE)

	m.AcceptanceRate = statOrChainMean(s, "acceptance_rate")
	m.StepSize = statOrChainMean(s, "step_size")
	m.FracBelowStar = statOrChainMean(s, "frac_below_star")
	m.EnergyVar = statOrChainMean(s, "energy_var")
	m.L = statOrChainMean(s, "L")
	m.Divergences = s.Stat("divergences")
	if m.Divergences == nil {
		if per := s.ChainStat("divergences"); per != nil {
			m.Divergences = num(sumKnown(per))
		}
	}
	return m
}

// workEfficiency returns the efficiency for work, or nils when the work
// is unknown.
func workEfficiency(efficiency EfficiencyFunc, ess, se float64, work *float64) (essPerWork, wnv *float64) {
	if work == nil {
		return nil, nil
	}
	perWork, variance := efficiency(ess, se, *work)
	return num(perWork), num(variance)
}

func valueOrNaN(v *float64) float64 {
	if v := finitePtr(v); v != nil {
		return *v
	}
	return math.NaN()
}

func firstKnown(values ...*float64) *float64 {
	for _, v := range values {
		if v := finitePtr(v); v != nil {
			return v
		}
	}
	return nil
}

// statOrChainMean returns the node-level statistic, or the mean of the
// chains' values when the node has none.
func statOrChainMean(s *Summary, name string) *float64 {
	if v := s.Stat(name); v != nil {
		return v
	}
	per := s.ChainStat(name)
	if per == nil {
		return nil
	}
	var sum float64
	n := 0
	for _, v := range per {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	return num(sum / float64(n))
}

func sumKnown(values []float64) float64 {
	var sum float64
	for _, v := range values {
		if !math.IsNaN(v) {
			sum += v
		}
	}
	return sum
}
