package graph

import (
	"strings"
	"testing"
)

func axisNode(address string, axes ...AxisValue) *Node {
	typ, name := splitAddress(address)
	return &Node{Def: Def{Address: address, Type: typ, Name: name, Axes: axes}}
}

func TestPatternMatch(t *testing.T) {
	sgld0 := axisNode("sampler.sgld[seed=0]", AxisValue{"seed", 0.0})
	sgld := axisNode("sampler.sgld")
	rms := axisNode("sampler.sgld_rms")
	erm := axisNode(`erm.fit[seed=1,width=16,act="tanh"]`,
		AxisValue{"seed", 1.0}, AxisValue{"width", 16.0}, AxisValue{"act", "tanh"})
	erm2 := axisNode("erm.fit[seed=2,width=16]", AxisValue{"seed", 2.0}, AxisValue{"width", 16.0})
	flagged := axisNode("erm.flag[on=true]", AxisValue{"on", true})
	labelled := axisNode(`erm.label[s="a, b]"]`, AxisValue{"s", "a, b]"})
	// A node without Type and Name is matched through its address.
	bare := &Node{Def: Def{Address: "sampler.sgld[seed=3]", Axes: []AxisValue{{"seed", 3.0}}}}

	cases := []struct {
		pattern string
		node    *Node
		want    bool
	}{
		{"sampler", sgld0, true},
		{"sampler", rms, true},
		{"sampler", erm, false},
		{"sampl", sgld0, false},
		{"sampler.sgld", sgld0, true},
		{"sampler.sgld", sgld, true},
		{"sampler.sgld", rms, false},
		{"sampler.sgld", bare, true},
		{"sampler.sgld_rms", rms, true},
		{"sampler.sgl", sgld, false},
		{"sampler.sgld[seed=0]", sgld0, true},
		{"sampler.sgld[seed=0]", sgld, false},
		{"sampler.sgld[seed=0.0]", sgld0, true},
		{"sampler.sgld[seed=0e0]", sgld0, true},
		{"sampler.sgld[seed=1]", sgld0, false},
		{"erm.fit[seed=1]", erm, true},
		{"erm.fit[seed=1]", erm2, false},
		{"erm.fit[width=16]", erm, true},
		{"erm.fit[width=16]", erm2, true},
		{"erm.fit[width=16,seed=1]", erm, true},
		{"erm.fit[seed=1, width=8]", erm, false},
		{`erm.fit[act="tanh"]`, erm, true},
		{"erm.fit[act=tanh]", erm, true},
		{"erm.fit[act=relu]", erm, false},
		{`erm.fit[seed="1"]`, erm, false},
		{"erm.fit[depth=1]", erm, false},
		{"erm.flag[on=true]", flagged, true},
		{"erm.flag[on=false]", flagged, false},
		{`erm.flag[on="true"]`, flagged, false},
		{`erm.label[s="a, b]"]`, labelled, true},
	}
	for _, c := range cases {
		t.Run(c.pattern+" "+c.node.Address, func(t *testing.T) {
			p, err := ParsePattern(c.pattern)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", c.pattern, err)
			}
			if got := p.Match(c.node); got != c.want {
				t.Errorf("%q.Match(%s) = %v, want %v", c.pattern, c.node.Address, got, c.want)
			}
		})
	}
}

func TestPatternString(t *testing.T) {
	p, err := ParsePattern("erm.fit[seed=1]")
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "erm.fit[seed=1]" {
		t.Errorf("String = %q", p.String())
	}
}

func TestZeroPatternMatchesNothing(t *testing.T) {
	if (Pattern{}).Match(axisNode("sampler.sgld")) {
		t.Error("zero Pattern matched a node")
	}
}

func TestParsePatternErrors(t *testing.T) {
	bad := []string{
		"", ".sgld", "sampler.", "sampler..sgld", "sampler.sgld.x", "sampler[seed=0]",
		"sampler.sgld[", "sampler.sgld[]", "sampler.sgld[seed]", "sampler.sgld[seed=]",
		"sampler.sgld[seed=0", "sampler.sgld[seed=0]x", "sampler.sgld[seed=0,seed=1]",
		`sampler.sgld[s="open]`, "sampler.sgld[seed=1e999]", "sampler.sgld[seed=0x10]",
		"sampler.sgld[seed=a b]", "sampler.sgld[=1]", "sampler.sgld[seed=0;width=1]",
		"sampler.sgld*", "1sampler",
	}
	for _, s := range bad {
		t.Run(s, func(t *testing.T) {
			_, err := ParsePattern(s)
			if err == nil {
				t.Fatalf("ParsePattern(%q) returned no error", s)
			}
			if !strings.Contains(err.Error(), "TYPE.NAME[axis=value,...]") {
				t.Errorf("error %q does not list the accepted forms", err)
			}
		})
	}
}
