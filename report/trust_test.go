package report

import (
	"slices"
	"strings"
	"testing"
)

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
		family *Family
		expect []string
	}{
		{"healthy", func(*Summary) {}, nil, nil, nil},
		{"rhat", func(s *Summary) { s.RHat = ptr(1.02) }, nil, nil, []string{"rhat"}},
		{"rhat at threshold", func(s *Summary) { s.RHat = ptr(MaxRHat) }, nil, nil, nil},
		{"low bulk ess", func(s *Summary) { s.ESSBulk = ptr(399) }, nil, nil, []string{"low_ess"}},
		{"low tail ess", func(s *Summary) { s.ESSTail = ptr(100) }, nil, nil, []string{"low_ess"}},
		{"divergences", func(s *Summary) { s.Stats = map[string]*float64{"divergences": ptr(1)} }, nil, nil, []string{"divergences"}},
		{"negative", func(s *Summary) { s.LLCMean = ptr(-0.1) }, nil, nil, []string{"negative"}},
		{"sgld low accept", func(s *Summary) {
			s.Kind = "sgld"
			s.Stats = map[string]*float64{"acceptance_rate": ptr(0.7)}
		}, nil, nil, []string{"sgld_accept"}},
		{"sgld good accept", func(s *Summary) {
			s.Kind = "sgld"
			s.Stats = map[string]*float64{"acceptance_rate": ptr(0.92)}
		}, nil, nil, nil},
		{"hmc accept ignored", func(s *Summary) { s.Stats = map[string]*float64{"acceptance_rate": ptr(0.6)} }, nil, nil, nil},
		{"several in order", func(s *Summary) {
			s.RHat, s.LLCMean, s.ESSBulk = ptr(1.2), ptr(-1), ptr(10)
		}, nil, nil, []string{"rhat", "low_ess", "negative"}},
		{"below star", func(s *Summary) {
			s.Kind = "sgld"
			s.ChainStats = []map[string]*float64{{"frac_below_star": ptr(1)}, {"frac_below_star": ptr(0.2)}}
		}, nil, nil, []string{"below_star"}},
		{"below star at threshold", func(s *Summary) {
			s.ChainStats = []map[string]*float64{{"frac_below_star": ptr(MaxFracBelowStar)}}
		}, nil, nil, nil},
		{"not minimum", func(*Summary) {}, nil, &Family{NotMinimum: true, GradNorm: ptr(0.02)}, []string{"not_minimum"}},
		{"minimum", func(*Summary) {}, nil, &Family{GradNorm: ptr(1e-5)}, nil},
		{"warnings already raised", func(s *Summary) {
			s.RHat = ptr(1.3)
			s.Warnings = []string{"R-hat 1.300 exceeds 1.01: the chains disagree, so run more draws or more chains"}
		}, nil, nil, []string{"rhat"}},
		{"warning without a number", func(s *Summary) {
			s.Kind = "mclmc"
			s.Warnings = []string{"energy error per dimension E[ΔE²]/d = 0.00188 is 3.8 times the target 0.0005, " +
				"and the largest 1 % of steps carry 86 % of it: check that the estimate stays within its standard " +
				"error with step_size = 0.228 (half the tuned 0.456) and L = 6.99"}
		}, nil, nil, []string{"energy_var"}},
		{"warning of mclmc/2", func(s *Summary) {
			s.Kind = "mclmc"
			s.Warnings = []string{"energy error variance per dimension 0.00222 is more than 2 times the target 0.0005: " +
				"give a smaller step_size or energy_var"}
		}, nil, nil, []string{"energy_var"}},
		{"off exact", func(s *Summary) {
			s.LLCMean, s.LLCSE, s.LambdaExact = ptr(5.1938), ptr(0.0128), ptr(5)
		}, nil, nil, []string{"off_exact"}},
		{"within 4 SE of exact", func(s *Summary) {
			s.LLCMean, s.LLCSE, s.LambdaExact = ptr(5.05), ptr(0.0128), ptr(5)
		}, nil, nil, nil},
		{"exact without an SE", func(s *Summary) {
			s.LLCMean, s.LambdaExact = ptr(5.1938), ptr(5)
		}, nil, nil, nil},
		{"unknown warnings", func(s *Summary) {
			s.Warnings = []string{"something new", "something else"}
		}, nil, nil, []string{"warning"}},
		{"every source in order", func(s *Summary) {
			s.Kind = "sgld"
			s.RHat, s.LLCMean = ptr(1.37), ptr(-6.35)
			s.ChainStats = []map[string]*float64{{"frac_below_star": ptr(1), "acceptance_rate": ptr(0.62)}}
			s.Warnings = []string{"unheard of", "bulk ESS 3 is below 200 (100 per chain): the standard error is unreliable, so run more draws"}
		}, nil, &Family{NotMinimum: true}, []string{"rhat", "low_ess", "sgld_accept", "below_star", "not_minimum", "negative", "warning"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := healthy()
			c.edit(s)
			got := codes(CheckTrust(s, Derive(s, c.wall, efficiency), c.family))
			if !slices.Equal(got, c.expect) {
				t.Errorf("flags %v, want %v", got, c.expect)
			}
		})
	}
}

func TestCheckTrustMessages(t *testing.T) {
	s := &Summary{Kind: "hmc", Chains: 2, RHat: ptr(1.0), ESSBulk: ptr(800), ESSTail: ptr(800), LLCMean: ptr(1),
		Warnings: []string{"first new warning", "second new warning"}}
	flags := CheckTrust(s, Derive(s, nil, efficiency), &Family{NotMinimum: true, GradNorm: ptr(0.0205)})
	if len(flags) != 2 {
		t.Fatalf("flags %+v, want not_minimum and warning", flags)
	}
	if !strings.Contains(flags[0].Message, "0.0205") {
		t.Errorf("not_minimum message %q lacks the gradient norm 0.0205", flags[0].Message)
	}
	if want := "first new warning; second new warning"; flags[1].Message != want {
		t.Errorf("warning message %q, want %q", flags[1].Message, want)
	}
}

func TestEveryFlagCodeHasMeaning(t *testing.T) {
	for _, code := range FlagCodes() {
		if FlagMeaning(code) == "" {
			t.Errorf("flag code %q has no meaning", code)
		}
	}
	if FlagMeaning("no_such_flag") != "" {
		t.Errorf("an unknown code has meaning %q, want \"\"", FlagMeaning("no_such_flag"))
	}
}

func TestSGLDAcceptMessageByBatch(t *testing.T) {
	n := 1000
	minibatch, full := 256.0, 1000.0
	cases := []struct {
		name     string
		batch    *float64
		want     []string
		unwanted string
	}{
		{"minibatch", &minibatch, []string{"Minibatch noise (batches of 256 of the 1000 points)", "too large",
			"a tenth of step_size"}, "; lower step_size"},
		{"full batch", &full, []string{"full-batch run; lower step_size"}, "inibatch"},
		{"unknown batch", nil, []string{"in a full-batch run, lower step_size", "minibatch noise", "a tenth of step_size"}, ""},
	}
	for _, c := range cases {
		s := &Summary{Kind: "sgld", N: n, BatchSize: c.batch}
		got := sgldAcceptMessage(s, 0.55)
		for _, want := range c.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s: message %q lacks %q", c.name, got, want)
			}
		}
		if c.unwanted != "" && strings.Contains(got, c.unwanted) {
			t.Errorf("%s: message %q contains %q", c.name, got, c.unwanted)
		}
	}
}

func TestRHatAdviceMatchesWarning(t *testing.T) {
	flags := CheckTrust(&Summary{RHat: ptr(1.05)}, Metrics{}, nil)
	if len(flags) != 1 || !strings.Contains(flags[0].Message, "run more draws or more chains") {
		t.Errorf("flags %v, want one rhat flag advising more draws or more chains as the sampler warning does", flags)
	}
	if !strings.Contains(FlagMeaning("rhat"), "run more draws or more chains") {
		t.Errorf("rhat legend %q gives other advice than the sampler warning", FlagMeaning("rhat"))
	}
}

func TestNotMinimumAdviceFitsSteps(t *testing.T) {
	zero, some := 0.0, 500.0
	cases := []struct {
		name   string
		family Family
		want   string
	}{
		{"trained", Family{Steps: &some, Init: "weights"}, "Train longer"},
		{"steps unknown", Family{}, "Train longer"},
		{"weights file", Family{Steps: &zero, Init: "weights"}, "set steps to train from the file's weights, or check the file"},
		{"teacher", Family{Steps: &zero, Init: "teacher"}, "set steps to train from the teacher's weights"},
		{"checkpoint 0", Family{Steps: &zero, Init: "model", Checkpoint: &zero}, "Train longer"},
	}
	for _, c := range cases {
		c.family.NotMinimum = true
		flag := notMinimumFlag(&c.family)
		if !strings.Contains(flag.Message, c.want) {
			t.Errorf("%s: message %q, want it to contain %q", c.name, flag.Message, c.want)
		}
		if c.family.Steps != nil && *c.family.Steps == 0 && c.family.Checkpoint == nil && strings.Contains(flag.Message, "Train longer") {
			t.Errorf("%s: message %q says to train longer, but nothing was trained", c.name, flag.Message)
		}
	}
}
