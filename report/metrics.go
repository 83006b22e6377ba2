package report

import (
	"fmt"
	"math"
	"strconv"
)

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

// Derive computes the metrics of a summary. wallSeconds is the run's wall
// time from its provenance, or nil. Numbers that the summary carries
// itself take precedence over the ones computed here.
func Derive(s *Summary, wallSeconds *float64) Metrics {
	m := Metrics{FDE: finitePtr(s.Work.GradFDE)}
	wall := finitePtr(wallSeconds)
	ess := finitePtr(s.ESSBulk)
	se := finitePtr(s.LLCSE)

	m.ESSPerSecond = firstKnown(s.ESSPerSecond, ratio(ess, wall))
	m.ESSPerFDE = firstKnown(s.ESSPerFDE, ratio(ess, m.FDE))
	m.WNVTime = firstKnown(s.WNVTime, squareTimes(se, wall))
	m.WNVFDE = firstKnown(s.WNVFDE, squareTimes(se, m.FDE))

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

func firstKnown(values ...*float64) *float64 {
	for _, v := range values {
		if v := finitePtr(v); v != nil {
			return v
		}
	}
	return nil
}

// ratio returns a/b, or nil when either is unknown or b is not positive.
func ratio(a, b *float64) *float64 {
	if a == nil || b == nil || *b <= 0 {
		return nil
	}
	return num(*a / *b)
}

func squareTimes(se, work *float64) *float64 {
	if se == nil || work == nil {
		return nil
	}
	return num(*se * *se * *work)
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

// Thresholds of the trust flags.
const (
	// MaxRHat is the largest rank-normalized split R̂ that counts as
	// converged (Vehtari et al. 2021).
	MaxRHat = 1.01
	// MinESSPerChain is the smallest bulk and tail ESS per chain that
	// Vehtari et al. 2021 recommend before trusting R̂ and the ESS itself
	// (100 per chain, 400 for four chains).
	MinESSPerChain = 100
	// SGLDTargetAccept is the MALA acceptance that a well-sized SGLD step
	// has in devinterp's convention, and SGLDAcceptTolerance the distance
	// from it beyond which the step size is flagged.
	SGLDTargetAccept    = 0.9
	SGLDAcceptTolerance = 0.1
)

// Flag is a reason to doubt an estimate until it is checked or rerun.
type Flag struct {
	// Code is a short identifier: "rhat", "low_ess", "divergences",
	// "sgld_accept" or "negative".
	Code string `json:"code"`
	// Message states what was measured and what to do.
	Message string `json:"message"`
}

// CheckTrust returns the trust flags of a sampler run, in a fixed order.
func CheckTrust(s *Summary, m Metrics) []Flag {
	var flags []Flag
	if r := finitePtr(s.RHat); r != nil && *r > MaxRHat {
		flags = append(flags, Flag{"rhat", fmt.Sprintf(
			"R̂ = %.3f exceeds %.2f, so the chains disagree; run more draws or more warmup", *r, MaxRHat)})
	}
	if f, ok := lowESS(s); ok {
		flags = append(flags, f)
	}
	if d := m.Divergences; d != nil && *d > 0 {
		flags = append(flags, Flag{"divergences", fmt.Sprintf(
			"%s divergent transitions; lower the step size or raise target_accept", formatCount(*d))})
	}
	if a := m.AcceptanceRate; s.Kind == "sgld" && a != nil && math.Abs(*a-SGLDTargetAccept) > SGLDAcceptTolerance {
		advice := "lower step_size"
		if *a > SGLDTargetAccept {
			advice = "raise step_size"
		}
		flags = append(flags, Flag{"sgld_accept", fmt.Sprintf(
			"MALA acceptance %.2f is far from %.1f; %s", *a, SGLDTargetAccept, advice)})
	}
	if v := finitePtr(s.LLCMean); v != nil && *v < 0 {
		flags = append(flags, Flag{"negative", fmt.Sprintf(
			"the estimate %.4g is negative, which happens when w* is not a local minimum; train longer or raise gamma", *v)})
	}
	return flags
}

func lowESS(s *Summary) (Flag, bool) {
	if s.Chains <= 0 {
		return Flag{}, false
	}
	min := float64(MinESSPerChain * s.Chains)
	for _, e := range []struct {
		name string
		v    *float64
	}{{"bulk", s.ESSBulk}, {"tail", s.ESSTail}} {
		if v := finitePtr(e.v); v != nil && *v < min {
			return Flag{"low_ess", fmt.Sprintf(
				"%s ESS %.0f is below %.0f (%d per chain); run more draws", e.name, *v, min, MinESSPerChain)}, true
		}
	}
	return Flag{}, false
}

func formatCount(f float64) string {
	if f == math.Trunc(f) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}
