package graph

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type fakeStatus struct {
	status RunStatus
	detail string
}

// fakeLookup is a store in memory. Runs not in status are Missing, and
// addresses not in latest have no earlier run.
type fakeLookup struct {
	status map[string]fakeStatus // by key
	latest map[string]*PrevRun   // by address
	err    error
}

func newFakeLookup() *fakeLookup {
	return &fakeLookup{status: map[string]fakeStatus{}, latest: map[string]*PrevRun{}}
}

func (f *fakeLookup) Status(runID, key string) (RunStatus, string, error) {
	if f.err != nil {
		return Missing, "", f.err
	}
	if key[:16] != runID {
		return Missing, "", errors.New("run id is not the key prefix")
	}
	s := f.status[key]
	return s.status, s.detail, nil
}

func (f *fakeLookup) Latest(address string) (*PrevRun, bool, error) {
	prev, ok := f.latest[address]
	return prev, ok, nil
}

// storeAll records every node of g as a valid run and as the latest run of
// its address.
func (f *fakeLookup) storeAll(g *Graph) {
	for _, n := range g.Nodes {
		f.status[n.Key] = fakeStatus{status: Valid}
		f.latest[n.Address] = prevOf(n)
	}
}

func prevOf(n *Node) *PrevRun {
	inputs := map[string]string{}
	for _, in := range n.In {
		inputs[in.Role] = in.Node.Key
	}
	params, err := json.Marshal(n.Params)
	if err != nil {
		panic(err)
	}
	var copied map[string]any
	if err := json.Unmarshal(params, &copied); err != nil {
		panic(err)
	}
	return &PrevRun{RunID: n.RunID, Key: n.Key, Version: n.Version, Params: copied, InputKeys: inputs}
}

func mustPlan(t *testing.T, g *Graph, look Lookup, opts PlanOptions) *Plan {
	t.Helper()
	p, err := MakePlan(g, look, opts)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	return p
}

func entryOf(t *testing.T, p *Plan, address string) Entry {
	t.Helper()
	for _, e := range p.Entries {
		if e.Node.Address == address {
			return e
		}
	}
	t.Fatalf("plan has no entry for %s", address)
	return Entry{}
}

func mustPattern(t *testing.T, s string) Pattern {
	t.Helper()
	p, err := ParsePattern(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// editDefs returns sweepDefs with edit applied to the def at address.
func editDefs(address string, edit func(*Def)) []Def {
	defs := sweepDefs()
	for i := range defs {
		if defs[i].Address == address {
			edit(&defs[i])
		}
	}
	return defs
}

func TestPlanAllCached(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	look.storeAll(g)
	p := mustPlan(t, g, look, PlanOptions{})

	if want := (Summary{Cached: len(g.Nodes)}); p.Summary != want {
		t.Errorf("Summary = %+v, want %+v", p.Summary, want)
	}
	for i, e := range p.Entries {
		if e.Node != g.Nodes[i] {
			t.Errorf("entry %d is %s, want %s in topological order", i, e.Node.Address, g.Nodes[i].Address)
		}
		if e.Action != ActionCached || e.Reason != nil {
			t.Errorf("%s: action %s, reason %+v; want cached without reason", e.Node.Address, e.Action, e.Reason)
		}
	}
	if p.Targeted {
		t.Error("Targeted is true without targets")
	}
}

func TestPlanReasons(t *testing.T) {
	const sgld = "sampler.sgld[seed=0,width=8]"
	cases := []struct {
		name    string
		defs    []Def
		setup   func(old, cur *Graph, look *fakeLookup)
		address string
		code    string
		message string
		// partial compares message as a substring, for messages that
		// contain run ids.
		partial bool
		changes []Change
	}{
		{
			name: "new",
			defs: sweepDefs(),
			setup: func(_, cur *Graph, look *fakeLookup) {
				delete(look.latest, sgld)
				delete(look.status, cur.Node(sgld).Key)
			},
			address: sgld, code: ReasonNew, message: "no earlier run",
		},
		{
			name: "new after failed attempt",
			defs: sweepDefs(),
			setup: func(_, cur *Graph, look *fakeLookup) {
				delete(look.latest, sgld)
				look.status[cur.Node(sgld).Key] = fakeStatus{Failed,
					"the last attempt failed at 2026-12-04T10:00:00Z in stage sampler: chain 2 diverged"}
			},
			address: sgld, code: ReasonNew,
			message: "the last attempt failed at 2026-12-04T10:00:00Z in stage sampler: chain 2 diverged",
		},
		{
			name: "new after cancelled attempt",
			defs: sweepDefs(),
			setup: func(_, cur *Graph, look *fakeLookup) {
				delete(look.latest, sgld)
				look.status[cur.Node(sgld).Key] = fakeStatus{Missing,
					"the last attempt was cancelled at 2026-12-04T10:00:00Z"}
			},
			address: sgld, code: ReasonNew,
			message: "the last attempt was cancelled at 2026-12-04T10:00:00Z",
		},
		{
			name: "params changed after failed attempt",
			defs: editDefs(sgld, func(d *Def) {
				d.Params = map[string]any{"step_size": 2e-4, "steps": 1000.0}
			}),
			setup: func(_, cur *Graph, look *fakeLookup) {
				look.status[cur.Node(sgld).Key] = fakeStatus{Failed,
					"the last attempt failed at 2026-12-04T10:00:00Z in stage sampler: chain 2 diverged"}
			},
			address: sgld, code: ReasonParamsChanged,
			message: "step_size changed from 0.0001 to 0.0002; " +
				"the last attempt failed at 2026-12-04T10:00:00Z in stage sampler: chain 2 diverged",
			changes: []Change{{Path: "step_size", Old: 1e-4, New: 2e-4}},
		},
		{
			name: "corrupt",
			defs: sweepDefs(),
			setup: func(_, cur *Graph, look *fakeLookup) {
				look.status[cur.Node(sgld).Key] = fakeStatus{Corrupt, "result.json has 3 bytes, manifest records 120"}
			},
			address: sgld, code: ReasonCorrupt,
			message: "is corrupt: result.json has 3 bytes, manifest records 120", partial: true,
		},
		{
			name: "corrupt beats new",
			defs: sweepDefs(),
			setup: func(_, cur *Graph, look *fakeLookup) {
				delete(look.latest, sgld)
				look.status[cur.Node(sgld).Key] = fakeStatus{Corrupt, "manifest.json is missing"}
			},
			address: sgld, code: ReasonCorrupt, message: "manifest.json is missing", partial: true,
		},
		{
			name: "params changed",
			defs: editDefs(sgld, func(d *Def) {
				d.Params = map[string]any{"step_size": 2e-4, "steps": 1000.0}
			}),
			address: sgld, code: ReasonParamsChanged,
			message: "step_size changed from 0.0001 to 0.0002",
			changes: []Change{{Path: "step_size", Old: 1e-4, New: 2e-4}},
		},
		{
			name: "params deep diff",
			defs: editDefs("erm.fit[seed=0,width=8]", func(d *Def) {
				d.Params = map[string]any{
					"optimizer": map[string]any{"kind": "sgd", "momentum": 0.9},
					"model":     map[string]any{"widths": []any{4.0, 9.0, 1.0, 1.0}},
					"steps":     2000.0,
				}
			}),
			address: "erm.fit[seed=0,width=8]", code: ReasonParamsChanged,
			message: `model.widths[1] changed from 8 to 9; model.widths[3] added with value 1; ` +
				`optimizer.kind changed from "adam" to "sgd"; optimizer.lr removed (was 0.01); ` +
				`optimizer.momentum added with value 0.9; steps added with value 2000`,
			changes: []Change{
				{Path: "model.widths[1]", Old: 8.0, New: 9.0},
				{Path: "model.widths[3]", Old: nil, New: 1.0},
				{Path: "optimizer.kind", Old: "adam", New: "sgd"},
				{Path: "optimizer.lr", Old: 0.01, New: nil},
				{Path: "optimizer.momentum", Old: nil, New: 0.9},
				{Path: "steps", Old: nil, New: 2000.0},
			},
		},
		{
			name: "param changes type",
			defs: editDefs(sgld, func(d *Def) {
				d.Params = map[string]any{"step_size": []any{1e-4, 1e-5}, "steps": nil}
			}),
			address: sgld, code: ReasonParamsChanged,
			message: "step_size changed from 0.0001 to [0.0001,1e-05]; steps changed from 1000 to null",
			changes: []Change{
				{Path: "step_size", Old: 1e-4, New: []any{1e-4, 1e-5}},
				{Path: "steps", Old: 1000.0, New: nil},
			},
		},
		{
			name:    "version changed",
			defs:    editDefs(sgld, func(d *Def) { d.Version = "sgld/2" }),
			address: sgld, code: ReasonVersionChanged,
			message: "version changed from sgld/1 to sgld/2",
		},
		{
			name: "version beats params",
			defs: editDefs(sgld, func(d *Def) {
				d.Version = "sgld/2"
				d.Params = map[string]any{"step_size": 1e-4, "steps": 500.0}
			}),
			address: sgld, code: ReasonVersionChanged,
			message: "version changed from sgld/1 to sgld/2; steps changed from 1000 to 500",
			changes: []Change{{Path: "steps", Old: 1000.0, New: 500.0}},
		},
		{
			name: "input changed and will run",
			defs: editDefs("erm.fit[seed=0,width=8]", func(d *Def) {
				d.Params = map[string]any{
					"optimizer": map[string]any{"kind": "adam", "lr": 0.02},
					"model":     map[string]any{"widths": []any{4.0, 8.0, 1.0}},
				}
			}),
			address: sgld, code: ReasonInputChanged,
			message: "input erm (erm.fit[seed=0,width=8]) changed and will run",
		},
		{
			name: "input changed to a cached run",
			defs: editDefs("erm.fit[seed=0,width=8]", func(d *Def) {
				d.Params = map[string]any{"optimizer": map[string]any{"kind": "adam", "lr": 0.02}}
			}),
			setup: func(_, cur *Graph, look *fakeLookup) {
				look.status[cur.Node("erm.fit[seed=0,width=8]").Key] = fakeStatus{status: Valid}
			},
			address: sgld, code: ReasonInputChanged,
			message: "input erm (erm.fit[seed=0,width=8]) changed",
		},
		{
			name: "params beat input",
			defs: editDefs(sgld, func(d *Def) {
				d.Params = map[string]any{"step_size": 1e-4, "steps": 2000.0}
				d.Inputs = []InputRef{{Role: "erm", Address: "erm.fit[seed=1,width=8]"}}
			}),
			address: sgld, code: ReasonParamsChanged,
			message: "steps changed from 1000 to 2000; input erm (erm.fit[seed=1,width=8]) changed",
			changes: []Change{{Path: "steps", Old: 1000.0, New: 2000.0}},
		},
		{
			name: "input added and removed",
			defs: editDefs(sgld, func(d *Def) {
				d.Inputs = []InputRef{{Role: "target", Address: "target.crossing"}}
			}),
			address: sgld, code: ReasonInputChanged,
			message: "input target (target.crossing) added; input erm removed",
		},
		{
			name: "run removed from the store",
			defs: sweepDefs(),
			setup: func(_, cur *Graph, look *fakeLookup) {
				delete(look.status, cur.Node(sgld).Key)
			},
			address: sgld, code: ReasonNew,
			message: "recorded for this address is no longer in the store", partial: true,
		},
		{
			name:    "kind changed",
			defs:    editDefs(sgld, func(d *Def) { d.Kind = "sgld_variant" }),
			address: sgld, code: ReasonNew,
			message: "the type or kind differs from the latest run", partial: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			old := mustBuild(t, sweepDefs())
			look := newFakeLookup()
			look.storeAll(old)
			cur := mustBuild(t, c.defs)
			if c.setup != nil {
				c.setup(old, cur, look)
			}
			p := mustPlan(t, cur, look, PlanOptions{})
			e := entryOf(t, p, c.address)
			if e.Action != ActionRun {
				t.Fatalf("action = %s, want run", e.Action)
			}
			if e.Reason == nil {
				t.Fatal("reason is nil")
			}
			if e.Reason.Code != c.code {
				t.Errorf("code = %s, want %s", e.Reason.Code, c.code)
			}
			if c.partial && !strings.Contains(e.Reason.Message, c.message) {
				t.Errorf("message = %q, want it to contain %q", e.Reason.Message, c.message)
			}
			if !c.partial && e.Reason.Message != c.message {
				t.Errorf("message = %q, want %q", e.Reason.Message, c.message)
			}
			if !reflect.DeepEqual(e.Reason.Changes, c.changes) {
				t.Errorf("changes = %#v, want %#v", e.Reason.Changes, c.changes)
			}
		})
	}
}

func TestPlanNoSkip(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	look.storeAll(g)
	missing := g.Node("sampler.sgld_rms")
	delete(look.status, missing.Key)

	p := mustPlan(t, g, look, PlanOptions{NoSkip: true})
	if want := (Summary{Run: 1, Forced: len(g.Nodes) - 1}); p.Summary != want {
		t.Errorf("Summary = %+v, want %+v", p.Summary, want)
	}
	for _, e := range p.Entries {
		if e.Node == missing {
			if e.Action != ActionRun || e.Reason.Code != ReasonNew {
				t.Errorf("%s: %s %+v, want run with reason new", e.Node.Address, e.Action, e.Reason)
			}
			continue
		}
		if e.Action != ActionForced {
			t.Errorf("%s: action %s, want forced", e.Node.Address, e.Action)
			continue
		}
		if e.Reason.Code != ReasonForced || e.Reason.Message != "forced by --no-skip" {
			t.Errorf("%s: reason %+v, want forced by --no-skip", e.Node.Address, e.Reason)
		}
	}
}

func TestPlanRerun(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	look.storeAll(g)
	p := mustPlan(t, g, look, PlanOptions{Rerun: []Pattern{
		mustPattern(t, "sampler.sgld[seed=1]"), mustPattern(t, "target"),
	}})

	forced := map[string]string{
		"sampler.sgld[seed=1,width=16]": "forced by --rerun sampler.sgld[seed=1]",
		"sampler.sgld[seed=1,width=8]":  "forced by --rerun sampler.sgld[seed=1]",
		"target.crossing":               "forced by --rerun target",
	}
	for _, e := range p.Entries {
		msg, ok := forced[e.Node.Address]
		if !ok {
			if e.Action != ActionCached {
				t.Errorf("%s: action %s, want cached", e.Node.Address, e.Action)
			}
			continue
		}
		if e.Action != ActionForced || e.Reason.Message != msg {
			t.Errorf("%s: %s %+v, want forced with %q", e.Node.Address, e.Action, e.Reason, msg)
		}
	}
	if want := (Summary{Cached: len(g.Nodes) - 3, Forced: 3}); p.Summary != want {
		t.Errorf("Summary = %+v, want %+v", p.Summary, want)
	}
}

func TestPlanTargets(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	p := mustPlan(t, g, look, PlanOptions{Targets: []Pattern{
		mustPattern(t, "sampler.sgld[seed=1,width=8]"), mustPattern(t, "sampler.sgld_rms"),
	}})
	want := []string{
		"dataset.teacher[seed=0]",
		"dataset.teacher[seed=1]",
		"erm.fit[seed=0,width=8]",
		"erm.fit[seed=1,width=8]",
		"sampler.sgld[seed=1,width=8]",
		"sampler.sgld_rms",
	}
	var got []string
	for _, e := range p.Entries {
		got = append(got, e.Node.Address)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targeted entries = %v, want %v", got, want)
	}
	if !p.Targeted {
		t.Error("Targeted is false")
	}
	if p.Summary != (Summary{Run: len(want)}) {
		t.Errorf("Summary = %+v, want %d to run", p.Summary, len(want))
	}
}

func TestPlanPatternMatchesNothing(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	for _, opts := range []PlanOptions{
		{Targets: []Pattern{mustPattern(t, "sampler.nope")}},
		{Rerun: []Pattern{mustPattern(t, "erm.fit[seed=7]")}},
	} {
		_, err := MakePlan(g, newFakeLookup(), opts)
		if err == nil || !strings.Contains(err.Error(), "matches no node") {
			t.Errorf("MakePlan(%+v) error = %v, want one saying the pattern matches no node", opts, err)
		}
	}
}

func TestPlanLookupError(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	look := newFakeLookup()
	look.err = errors.New("permission denied")
	_, err := MakePlan(g, look, PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), "permission denied") ||
		!strings.Contains(err.Error(), g.Nodes[0].Address) {
		t.Errorf("error = %v, want the lookup error with the address", err)
	}
}

func TestPlanJSON(t *testing.T) {
	defs := []Def{
		{Address: "erm.fit", Type: "erm", Name: "fit", Kind: "erm", Version: "erm/1"},
		{Address: "sampler.sgld[seed=0]", Type: "sampler", Name: "sgld", Kind: "sgld", Version: "sgld/1",
			Params: map[string]any{"step_size": 2e-4},
			Inputs: []InputRef{{Role: "erm", Address: "erm.fit"}}},
	}
	g := mustBuild(t, defs)
	look := newFakeLookup()
	look.storeAll(g)
	look.latest["sampler.sgld[seed=0]"].Params = map[string]any{"step_size": 1e-4}
	delete(look.status, g.Node("sampler.sgld[seed=0]").Key)

	p := mustPlan(t, g, look, PlanOptions{Targets: []Pattern{mustPattern(t, "sampler")}})
	data, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("JSON is not valid: %v\n%s", err, data)
	}
	wantText := `{"format_version": "1",
	 "summary": {"run": 1, "cached": 1, "forced": 0},
	 "targeted": true,
	 "nodes": [
	   {"address": "erm.fit", "type": "erm", "kind": "erm", "run_id": "` + g.Node("erm.fit").RunID + `",
	    "action": "cached", "reason": null},
	   {"address": "sampler.sgld[seed=0]", "type": "sampler", "kind": "sgld",
	    "run_id": "` + g.Node("sampler.sgld[seed=0]").RunID + `", "action": "run",
	    "reason": {"code": "params_changed",
	               "message": "step_size changed from 0.0001 to 0.0002",
	               "changes": [{"path": "step_size", "old": 0.0001, "new": 0.0002}]}}]}`
	var want any
	if err := json.Unmarshal([]byte(wantText), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON =\n%s\nwant\n%s", data, wantText)
	}
	if !strings.Contains(string(data), `"old": 0.0001`) {
		t.Errorf("JSON does not write 0.0001 in plain form:\n%s", data)
	}
}

func TestPlanJSONEmpty(t *testing.T) {
	p := mustPlan(t, mustBuild(t, nil), newFakeLookup(), PlanOptions{})
	data, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if nodes, ok := doc["nodes"].([]any); !ok || len(nodes) != 0 {
		t.Errorf("nodes = %#v, want []", doc["nodes"])
	}
	if _, ok := doc["targeted"]; ok {
		t.Error("targeted is present without targets")
	}
}
