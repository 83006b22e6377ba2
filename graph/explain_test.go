package graph

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestExplainChangedParamAndInput(t *testing.T) {
	before := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	look.storeAll(before)

	const erm = "erm.fit[seed=0,width=8]"
	const sgld = "sampler.sgld[seed=0,width=8]"
	after := mustBuild(t, editDefs(erm, func(d *Def) {
		d.Params = map[string]any{
			"optimizer": map[string]any{"kind": "adam", "lr": 0.02},
			"model":     map[string]any{"widths": []any{4.0, 8.0, 1.0}},
		}
	}))
	p := mustPlan(t, after, look, PlanOptions{})
	xs, err := Explain(p, look, mustPattern(t, "sampler.sgld[seed=0,width=8]"))
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 1 || xs[0].Entry.Node.Address != sgld {
		t.Fatalf("Explain returned %d explanations, want one for %s", len(xs), sgld)
	}
	x := xs[0]
	if x.Status != Missing || x.Previous == nil {
		t.Fatalf("status %s, previous %v; want missing with an earlier run", x.Status, x.Previous)
	}
	wantParams := []ParamComparison{
		{Path: "step_size", Old: 1e-4, New: 1e-4, InOld: true, InNew: true},
		{Path: "steps", Old: 1000.0, New: 1000.0, InOld: true, InNew: true},
	}
	if !reflect.DeepEqual(x.Params, wantParams) {
		t.Errorf("params = %+v, want %+v", x.Params, wantParams)
	}
	if len(x.Inputs) != 1 {
		t.Fatalf("inputs = %+v, want one", x.Inputs)
	}
	in := x.Inputs[0]
	if in.Role != "erm" || in.Address != erm || !in.Changed || in.Action != ActionRun ||
		in.OldKey == "" || in.OldKey == in.Key {
		t.Errorf("input = %+v, want erm changed and running", in)
	}

	xs, err = Explain(p, look, mustPattern(t, "erm.fit[seed=0,width=8]"))
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, c := range xs[0].Params {
		if c.Changed {
			changed = append(changed, c.Message())
		}
	}
	if want := []string{"optimizer.lr: 0.01 → 0.02"}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed erm params = %q, want %q", changed, want)
	}
}

func TestExplainAddedRemovedLeaves(t *testing.T) {
	got := compareParams(
		map[string]any{"a": 1.0, "list": []any{1.0, 2.0}, "gone": "x"},
		map[string]any{"a": 1.0, "list": []any{1.0}, "new": true},
	)
	var messages []string
	for _, c := range got {
		messages = append(messages, c.Message())
	}
	want := []string{
		"a: 1 (unchanged)",
		`gone: removed (was "x")`,
		"list[0]: 1 (unchanged)",
		"list[1]: removed (was 2)",
		"new: added with value true",
	}
	if !reflect.DeepEqual(messages, want) {
		t.Errorf("messages = %q, want %q", messages, want)
	}
}

func TestExplainWithoutEarlierRun(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	p := mustPlan(t, g, look, PlanOptions{})
	xs, err := Explain(p, look, mustPattern(t, "target"))
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 1 || xs[0].Previous != nil || len(xs[0].Params) != 0 {
		t.Errorf("explanations = %+v, want one without an earlier run", xs)
	}
	if _, err := Explain(p, look, mustPattern(t, "erm.missing")); err == nil ||
		!strings.Contains(err.Error(), "matches no node") {
		t.Errorf("Explain of an unmatched pattern: %v, want a matches-no-node error", err)
	}
}

func TestCountsByKind(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	look.storeAll(g)
	p := mustPlan(t, g, look, PlanOptions{Rerun: []Pattern{mustPattern(t, "sampler.sgld")}})
	got := p.CountsByKind()
	want := []KindCount{
		{Type: "dataset", Kind: "teacher_student", Summary: Summary{Cached: 2}},
		{Type: "erm", Kind: "erm", Summary: Summary{Cached: 4}},
		{Type: "sampler", Kind: "hmc", Summary: Summary{Cached: 1}},
		{Type: "sampler", Kind: "sgld", Summary: Summary{Forced: 4, Cached: 1}},
		{Type: "target", Kind: "monomial", Summary: Summary{Cached: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CountsByKind = %+v, want %+v", got, want)
	}
}

func TestDescribeParamChanges(t *testing.T) {
	got := DescribeParamChanges(map[string]any{"step_size": 1e-4}, map[string]any{"step_size": 2e-4})
	if want := []string{"step_size changed from 0.0001 to 0.0002"}; !reflect.DeepEqual(got, want) {
		t.Errorf("DescribeParamChanges = %q, want %q", got, want)
	}
}

func TestPlanSharedRunCountedOnce(t *testing.T) {
	defs := []Def{
		{Address: "sampler.a", Type: "sampler", Name: "a", Kind: "sgld", Version: "sgld/1",
			Params: map[string]any{"step_size": 1e-4}},
		{Address: "sampler.b", Type: "sampler", Name: "b", Kind: "sgld", Version: "sgld/1",
			Params: map[string]any{"step_size": 1e-4}},
	}
	g := mustBuild(t, defs)
	look := newFakeLookup()
	p := mustPlan(t, g, look, PlanOptions{})
	if want := (Summary{Run: 1, Shared: 1}); p.Summary != want {
		t.Errorf("Summary = %+v, want %+v", p.Summary, want)
	}
	b := entryOf(t, p, "sampler.b")
	if b.SameRunAs == nil || b.SameRunAs.Address != "sampler.a" || b.Action != ActionRun ||
		b.Reason == nil || b.Reason.Code != ReasonSameRun {
		t.Errorf("sampler.b = %+v, want a run shared with sampler.a", b)
	}

	look.storeAll(g)
	p = mustPlan(t, g, look, PlanOptions{Rerun: []Pattern{mustPattern(t, "sampler.b")}})
	if want := (Summary{Forced: 1, Shared: 1}); p.Summary != want {
		t.Errorf("Summary with sampler.b forced = %+v, want %+v", p.Summary, want)
	}
	if a := entryOf(t, p, "sampler.a"); a.Action != ActionForced {
		t.Errorf("sampler.a action %s, want forced with the address that shares its run", a.Action)
	}
}

func TestBuildParallelKeysMatchSequential(t *testing.T) {
	defs := largeSweep(300) // 3,000 nodes, levels of 300 and 2,400
	g := mustBuild(t, defs)
	for _, n := range g.Nodes {
		inputs := make([]InputKey, len(n.In))
		for i, in := range n.In {
			inputs[i] = InputKey{Role: in.Role, Key: in.Node.Key}
		}
		want, err := ComputeKey(n.Type, n.Kind, n.Version, n.Params, inputs)
		if err != nil {
			t.Fatal(err)
		}
		if n.Key != want {
			t.Fatalf("%s: key %s, want %s", n.Address, n.Key, want)
		}
	}

	bad := largeSweep(300)
	bad[2500].Params = map[string]any{"step_size": math.NaN()}
	_, err := Build(bad)
	if err == nil || !strings.Contains(err.Error(), bad[2500].Address) {
		t.Errorf("Build with a NaN parameter: %v, want an error naming %s", err, bad[2500].Address)
	}
}
