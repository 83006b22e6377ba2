package store

import (
	"testing"

	"github.com/llcflow/llcflow/graph"
)

// planDefs returns an erm node and a sampler node that reads it.
func planDefs(stepSize float64) []graph.Def {
	return []graph.Def{
		{Address: "erm.fit", Type: "erm", Name: "fit", Kind: "erm", Version: "erm/1",
			Params: map[string]any{"steps": 100.0}},
		{Address: "sampler.sgld", Type: "sampler", Name: "sgld", Kind: "sgld", Version: "sgld/1",
			Params: map[string]any{"step_size": stepSize},
			Inputs: []graph.InputRef{{Role: "erm", Address: "erm.fit"}}},
	}
}

// commitGraph commits every node of g that has no valid run, as apply
// would.
func commitGraph(t *testing.T, s *Store, g *graph.Graph) {
	t.Helper()
	for _, n := range g.Nodes {
		if status, _, _ := s.Status(n.RunID, n.Key); status == graph.Valid {
			continue
		}
		var inputs []ManifestInput
		for _, in := range n.In {
			inputs = append(inputs, ManifestInput{Role: in.Role, RunID: in.Node.RunID, Key: in.Node.Key})
		}
		commitNode(t, s, Begin{
			Key: n.Key, RunID: n.RunID, Address: n.Address, Type: n.Type, Kind: n.Kind,
			Version: n.Version, Params: n.Params, Inputs: inputs,
		}, 0.5)
	}
}

func TestPlanAgainstStore(t *testing.T) {
	s := newStore(t)
	first, err := graph.Build(planDefs(1e-4))
	if err != nil {
		t.Fatal(err)
	}
	commitGraph(t, s, first)

	p, err := graph.MakePlan(first, s, graph.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != (graph.Summary{Cached: 2}) {
		t.Errorf("Summary after apply = %+v, want 2 cached", p.Summary)
	}

	second, err := graph.Build(planDefs(2e-4))
	if err != nil {
		t.Fatal(err)
	}
	p, err = graph.MakePlan(second, s, graph.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != (graph.Summary{Run: 1, Cached: 1}) {
		t.Errorf("Summary after a change = %+v, want 1 to run and 1 cached", p.Summary)
	}
	e := p.Entries[1]
	if e.Node.Address != "sampler.sgld" || e.Reason == nil {
		t.Fatalf("entry = %+v", e)
	}
	if e.Reason.Code != graph.ReasonParamsChanged ||
		e.Reason.Message != "step_size changed from 0.0001 to 0.0002" {
		t.Errorf("reason = %+v", e.Reason)
	}
}
