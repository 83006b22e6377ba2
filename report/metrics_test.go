package report

import (
	"math"
	"slices"
	"testing"
)

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
	m := Derive(s, ptr(2))
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
		ESSPerSecond: ptr(7), WNVTime: ptr(3),
		Stats: map[string]*float64{"divergences": ptr(3), "acceptance_rate": ptr(0.7)},
	}
	m := Derive(s, ptr(2))
	if !near(m.ESSPerSecond, 7) || !near(m.WNVTime, 3) {
		t.Errorf("ess_per_second %v and wnv_time %v, want the summary's 7 and 3", deref(m.ESSPerSecond), deref(m.WNVTime))
	}
	if !near(m.ESSPerFDE, 0.5) {
		t.Errorf("ess_per_fde %v, want 0.5 computed", deref(m.ESSPerFDE))
	}
	if !near(m.Divergences, 3) || !near(m.AcceptanceRate, 0.7) {
		t.Errorf("divergences %v, acceptance %v, want 3 and 0.7 from stats", deref(m.Divergences), deref(m.AcceptanceRate))
	}
}

func TestDeriveWithoutWallTime(t *testing.T) {
	m := Derive(&Summary{ESSBulk: ptr(400), LLCSE: ptr(0.5)}, nil)
	if m.ESSPerSecond != nil || m.WNVTime != nil || m.FDE != nil || m.ESSPerFDE != nil {
		t.Errorf("metrics without wall time or work: %+v, want nil efficiency", m)
	}
}

func TestDeriveSumsChainDivergences(t *testing.T) {
	s := &Summary{ChainStats: []map[string]*float64{{"divergences": ptr(2)}, {"divergences": ptr(5)}}}
	if m := Derive(s, nil); !near(m.Divergences, 7) {
		t.Errorf("divergences %v, want 7", deref(m.Divergences))
	}
}

func codes(flags []Flag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.Code)
	}
	return out
}

func TestCheckTrust(t *testing.T) {
	healthy := func() *Summary {
		return &Summary{Kind: "hmc", Chains: 4, RHat: ptr(1.001), ESSBulk: ptr(800), ESSTail: ptr(700), LLCMean: ptr(2)}
	}
	cases := []struct {
		name   string
		edit   func(*Summary)
		wall   *float64
		expect []string
	}{
		{"healthy", func(*Summary) {}, nil, nil},
		{"rhat", func(s *Summary) { s.RHat = ptr(1.02) }, nil, []string{"rhat"}},
		{"rhat at threshold", func(s *Summary) { s.RHat = ptr(MaxRHat) }, nil, nil},
		{"low bulk ess", func(s *Summary) { s.ESSBulk = ptr(399) }, nil, []string{"low_ess"}},
		{"low tail ess", func(s *Summary) { s.ESSTail = ptr(100) }, nil, []string{"low_ess"}},
		{"divergences", func(s *Summary) { s.Stats = map[string]*float64{"divergences": ptr(1)} }, nil, []string{"divergences"}},
		{"negative", func(s *Summary) { s.LLCMean = ptr(-0.1) }, nil, []string{"negative"}},
		{"sgld low accept", func(s *Summary) {
			s.Kind = "sgld"
			s.Stats = map[string]*float64{"acceptance_rate": ptr(0.7)}
		}, nil, []string{"sgld_accept"}},
		{"sgld good accept", func(s *Summary) {
			s.Kind = "sgld"
			s.Stats = map[string]*float64{"acceptance_rate": ptr(0.92)}
		}, nil, nil},
		{"hmc accept ignored", func(s *Summary) { s.Stats = map[string]*float64{"acceptance_rate": ptr(0.6)} }, nil, nil},
		{"several in order", func(s *Summary) {
			s.RHat, s.LLCMean, s.ESSBulk = ptr(1.2), ptr(-1), ptr(10)
		}, nil, []string{"rhat", "low_ess", "negative"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := healthy()
			c.edit(s)
			got := codes(CheckTrust(s, Derive(s, c.wall)))
			if !slices.Equal(got, c.expect) {
				t.Errorf("flags %v, want %v", got, c.expect)
			}
		})
	}
}
