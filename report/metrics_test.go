package report

import (
	"math"
	"testing"

	"github.com/llcflow/llcflow/samplers"
)

// efficiency is the EfficiencyFunc that kinds.Efficiency implements,
// written out here because report does not import kinds.
func efficiency(essBulk, llcSE, work float64) (float64, float64) {
	e := samplers.NewEfficiency(samplers.Estimate{ESSBulk: essBulk, LLCSE: llcSE}, work)
	return e.ESSPerWork, e.WNV
}

func ptr(f float64) *float64 { return &f }

func near(got *float64, want float64) bool {
	return got != nil && math.Abs(*got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func TestDeriveFromWallAndWork(t *testing.T) {
	s := &Summary{Kind: "sgld", Chains: 2, ESSBulk: ptr(400), LLCSE: ptr(0.5),
		Work: Work{GradFDE: ptr(800)},
		ChainStats: []map[string]*float64{
			{"acceptance_rate": ptr(0.8), "frac_below_star": ptr(0)},
			{"acceptance_rate": ptr(0.9), "frac_below_star": ptr(0.1)},
		},
	}
	m := Derive(s, ptr(2), efficiency)
	checks := []struct {
		name string
		got  *float64
		want float64
	}{
		{"fde", m.FDE, 800},
		{"ess_per_second", m.ESSPerSecond, 200},
		{"ess_per_fde", m.ESSPerFDE, 0.5},
		{"wnv_time", m.WNVTime, 0.25 * 2},
		{"wnv_fde", m.WNVFDE, 0.25 * 800},
		{"acceptance_rate", m.AcceptanceRate, 0.85},
		{"frac_below_star", m.FracBelowStar, 0.05},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, deref(c.got), c.want)
		}
	}
	if m.Divergences != nil || m.EnergyVar != nil {
		t.Errorf("SGLD has divergences %v and energy_var %v, want nil", m.Divergences, m.EnergyVar)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestDerivePrefersSummaryFields(t *testing.T) {
	s := &Summary{ESSBulk: ptr(400), LLCSE: ptr(0.5), Work: Work{GradFDE: ptr(800)},
		ESSPerFDE: ptr(7), WNVFDE: ptr(3),
		Stats: map[string]*float64{"divergences": ptr(3), "acceptance_rate": ptr(0.7)},
	}
	m := Derive(s, ptr(2), efficiency)
	if !near(m.ESSPerFDE, 7) {
		t.Errorf("ess_per_fde %v, want the summary's 7", deref(m.ESSPerFDE))
	}
	if !near(m.WNVFDE, 3) {
		t.Errorf("wnv_fde %v, want the summary's 3", deref(m.WNVFDE))
	}
	if !near(m.ESSPerSecond, 200) {
		t.Errorf("ess_per_second %v, want 200 computed", deref(m.ESSPerSecond))
	}
	if !near(m.Divergences, 3) || !near(m.AcceptanceRate, 0.7) {
		t.Errorf("divergences %v, acceptance %v, want 3 and 0.7 from stats", deref(m.Divergences), deref(m.AcceptanceRate))
	}
}

func TestDeriveWithoutSE(t *testing.T) {
	m := Derive(&Summary{ESSBulk: ptr(400), Work: Work{GradFDE: ptr(800)}}, ptr(2), efficiency)
	if !near(m.ESSPerSecond, 200) || !near(m.ESSPerFDE, 0.5) {
		t.Errorf("ess_per_second %v, ess_per_fde %v, want 200 and 0.5", deref(m.ESSPerSecond), deref(m.ESSPerFDE))
	}
	if m.WNVTime != nil || m.WNVFDE != nil {
		t.Errorf("wnv_time %v, wnv_fde %v without an SE, want nil", deref(m.WNVTime), deref(m.WNVFDE))
	}
}

func TestDeriveWithoutWallTime(t *testing.T) {
	m := Derive(&Summary{ESSBulk: ptr(400), LLCSE: ptr(0.5)}, nil, efficiency)
	if m.ESSPerSecond != nil || m.WNVTime != nil || m.FDE != nil || m.ESSPerFDE != nil {
		t.Errorf("metrics without wall time or work: %+v, want nil efficiency", m)
	}
}

func TestDeriveSumsChainDivergences(t *testing.T) {
	s := &Summary{ChainStats: []map[string]*float64{{"divergences": ptr(2)}, {"divergences": ptr(5)}}}
	if m := Derive(s, nil, efficiency); !near(m.Divergences, 7) {
		t.Errorf("divergences %v, want 7", deref(m.Divergences))
	}
}
