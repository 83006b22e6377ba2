package graph

import (
	"fmt"
	"testing"
)

// largeSweep returns 10 nodes per seed: a dataset, an erm and 8 samplers.
func largeSweep(seeds int) []Def {
	defs := make([]Def, 0, 10*seeds)
	for s := 0; s < seeds; s++ {
		seed := float64(s)
		axis := fmt.Sprintf("[seed=%d]", s)
		defs = append(defs,
			Def{Address: "dataset.d" + axis, Type: "dataset", Name: "d", Kind: "teacher_student",
				Version: "teacher_student/1", Axes: []AxisValue{{"seed", seed}},
				Params: map[string]any{"n": 1000.0, "seed": seed, "teacher": map[string]any{
					"widths": []any{4.0, 4.0, 1.0}, "activation": "tanh"}}},
			Def{Address: "erm.fit" + axis, Type: "erm", Name: "fit", Kind: "erm", Version: "erm/1",
				Axes:   []AxisValue{{"seed", seed}},
				Params: map[string]any{"steps": 2000.0, "optimizer": map[string]any{"kind": "adam", "lr": 0.01}},
				Inputs: []InputRef{{Role: "dataset", Address: "dataset.d" + axis}}})
		for k := 0; k < 8; k++ {
			defs = append(defs, Def{
				Address: fmt.Sprintf("sampler.s%d%s", k, axis), Type: "sampler", Name: fmt.Sprintf("s%d", k),
				Kind: "sgld", Version: "sgld/1", Axes: []AxisValue{{"seed", seed}},
				Params: map[string]any{"step_size": 1e-4 * float64(k+1), "steps": 1000.0, "chains": 4.0},
				Inputs: []InputRef{{Role: "erm", Address: "erm.fit" + axis}},
			})
		}
	}
	return defs
}

// BenchmarkBuildAndPlan100k builds and plans a 100,000-node graph against
// an in-memory lookup in which half of the nodes are cached and the rest
// have an earlier run with other parameters.
func BenchmarkBuildAndPlan100k(b *testing.B) {
	defs := largeSweep(10000)
	g, err := Build(defs)
	if err != nil {
		b.Fatal(err)
	}
	look := newFakeLookup()
	for i, n := range g.Nodes {
		prev := prevOf(n)
		if i%2 == 0 {
			look.status[n.Key] = fakeStatus{status: Valid}
		} else {
			prev.Params["steps"] = 1.0
		}
		look.latest[n.Address] = prev
	}
	rerun := []Pattern{mustParse(b, "sampler.s3")}
	b.ResetTimer()

	for i := 0; i < b.N; i++ {
		g, err := Build(defs)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := MakePlan(g, look, PlanOptions{Rerun: rerun}); err != nil {
			b.Fatal(err)
		}
	}
}

func mustParse(b *testing.B, s string) Pattern {
	p, err := ParsePattern(s)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
