package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sweepDefs returns a small swept spec: a dataset per seed, an erm per
// (seed, width), an sgld sampler per erm, one sgld_rms sampler and a
// target with its own sampler. The defs are listed out of order on
// purpose.
func sweepDefs() []Def {
	var defs []Def
	defs = append(defs, Def{
		Address: "sampler.hmc_crossing", Type: "sampler", Name: "hmc_crossing", Kind: "hmc",
		Version: "hmc/1", Params: map[string]any{"n_beta": 144.76, "draws": 4000.0},
		Inputs: []InputRef{{Role: "target", Address: "target.crossing"}},
	})
	for _, seed := range []float64{1, 0} {
		for _, width := range []float64{16, 8} {
			axes := fmt.Sprintf("[seed=%g,width=%g]", seed, width)
			defs = append(defs, Def{
				Address: "sampler.sgld" + axes, Type: "sampler", Name: "sgld", Kind: "sgld",
				Version: "sgld/1",
				Axes:    []AxisValue{{Name: "seed", Value: seed}, {Name: "width", Value: width}},
				Params:  map[string]any{"step_size": 1e-4, "steps": 1000.0},
				Inputs:  []InputRef{{Role: "erm", Address: "erm.fit" + axes}},
			}, Def{
				Address: "erm.fit" + axes, Type: "erm", Name: "fit", Kind: "erm", Version: "erm/1",
				Axes: []AxisValue{{Name: "seed", Value: seed}, {Name: "width", Value: width}},
				Params: map[string]any{
					"optimizer": map[string]any{"kind": "adam", "lr": 0.01},
					"model":     map[string]any{"widths": []any{4.0, width, 1.0}},
				},
				Inputs: []InputRef{{Role: "dataset", Address: fmt.Sprintf("dataset.teacher[seed=%g]", seed)}},
			})
		}
		defs = append(defs, Def{
			Address: fmt.Sprintf("dataset.teacher[seed=%g]", seed), Type: "dataset", Name: "teacher",
			Kind: "teacher_student", Version: "teacher_student/1",
			Axes:   []AxisValue{{Name: "seed", Value: seed}},
			Params: map[string]any{"n": 1000.0, "seed": seed},
		})
	}
	defs = append(defs, Def{
		Address: "sampler.sgld_rms", Type: "sampler", Name: "sgld_rms", Kind: "sgld", Version: "sgld/1",
		Params: map[string]any{"step_size": 1e-4, "precondition": "rmsprop"},
		Inputs: []InputRef{{Role: "erm", Address: "erm.fit[seed=0,width=8]"}},
	}, Def{
		Address: "target.crossing", Type: "target", Name: "crossing", Kind: "monomial",
		Version: "monomial/1", Params: map[string]any{"exponents": []any{1.0, 2.0}},
	})
	return defs
}

func mustBuild(t *testing.T, defs []Def) *Graph {
	t.Helper()
	g, err := Build(defs)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return g
}

func addresses(nodes []*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Address
	}
	return out
}

func TestBuildTopologicalOrder(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	want := []string{
		"dataset.teacher[seed=0]",
		"dataset.teacher[seed=1]",
		// Axis values compare as numbers: 8 before 16.
		"erm.fit[seed=0,width=8]",
		"erm.fit[seed=0,width=16]",
		"erm.fit[seed=1,width=8]",
		"erm.fit[seed=1,width=16]",
		"sampler.sgld[seed=0,width=8]",
		"sampler.sgld[seed=0,width=16]",
		"sampler.sgld[seed=1,width=8]",
		"sampler.sgld[seed=1,width=16]",
		"sampler.sgld_rms",
		"target.crossing",
		"sampler.hmc_crossing",
	}
	if got := addresses(g.Nodes); !slices.Equal(got, want) {
		t.Errorf("order =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuildOrderIndependentOfInput(t *testing.T) {
	defs := sweepDefs()
	want := addresses(mustBuild(t, defs).Nodes)
	slices.Reverse(defs)
	if got := addresses(mustBuild(t, defs).Nodes); !slices.Equal(got, want) {
		t.Errorf("order changed when the defs were reversed:\n%v\nwant\n%v", got, want)
	}
}

func TestBuildResolvesInputs(t *testing.T) {
	g := mustBuild(t, sweepDefs())
	n := g.Node("sampler.sgld[seed=1,width=8]")
	if n == nil {
		t.Fatal("Node returned nil for a defined address")
	}
	if len(n.In) != 1 || n.In[0].Role != "erm" || n.In[0].Node != g.Node("erm.fit[seed=1,width=8]") {
		t.Errorf("In = %+v, want the erm.fit[seed=1,width=8] node as role erm", n.In)
	}
	if g.Node("sampler.nope") != nil {
		t.Error("Node returned a node for an undefined address")
	}
	for _, n := range g.Nodes {
		if len(n.Key) != 64 || n.RunID != n.Key[:16] {
			t.Errorf("%s: key %q, run id %q", n.Address, n.Key, n.RunID)
		}
	}
}

func TestBuildSortsInputsByRole(t *testing.T) {
	defs := []Def{
		{Address: "a.x", Type: "a", Kind: "k", Version: "k/1"},
		{Address: "b.y", Type: "b", Kind: "k", Version: "k/1"},
		{Address: "c.z", Type: "c", Kind: "k", Version: "k/1", Inputs: []InputRef{
			{Role: "zeta", Address: "a.x"}, {Role: "alpha", Address: "b.y"},
		}},
	}
	n := mustBuild(t, defs).Node("c.z")
	if n.In[0].Role != "alpha" || n.In[1].Role != "zeta" {
		t.Errorf("roles = %s, %s; want alpha, zeta", n.In[0].Role, n.In[1].Role)
	}
}

func TestBuildRenameKeepsKeys(t *testing.T) {
	before := mustBuild(t, sweepDefs())
	renamed := sweepDefs()
	rename := strings.NewReplacer("erm.fit", "erm.train", "dataset.teacher", "dataset.data")
	for i := range renamed {
		renamed[i].Address = rename.Replace(renamed[i].Address)
		renamed[i].Name += "_renamed"
		renamed[i].Source = "other.hcl:99"
		for j := range renamed[i].Inputs {
			renamed[i].Inputs[j].Address = rename.Replace(renamed[i].Inputs[j].Address)
		}
	}
	after := mustBuild(t, renamed)
	for _, n := range before.Nodes {
		m := after.Node(rename.Replace(n.Address))
		if m == nil {
			t.Fatalf("renamed graph lacks %s", rename.Replace(n.Address))
		}
		if m.Key != n.Key {
			t.Errorf("%s: key %s changed to %s by renaming", n.Address, n.Key, m.Key)
		}
	}
}

func TestBuildInputKeyPropagates(t *testing.T) {
	before := mustBuild(t, sweepDefs())
	defs := sweepDefs()
	for i := range defs {
		if defs[i].Address == "dataset.teacher[seed=0]" {
			defs[i].Params = map[string]any{"n": 2000.0, "seed": 0.0}
		}
	}
	after := mustBuild(t, defs)

	changed := []string{
		"dataset.teacher[seed=0]", "erm.fit[seed=0,width=8]", "sampler.sgld[seed=0,width=8]",
		"sampler.sgld_rms",
	}
	unchanged := []string{"dataset.teacher[seed=1]", "sampler.sgld[seed=1,width=8]", "sampler.hmc_crossing"}
	for _, a := range changed {
		if before.Node(a).Key == after.Node(a).Key {
			t.Errorf("%s kept its key after its dataset changed", a)
		}
	}
	for _, a := range unchanged {
		if before.Node(a).Key != after.Node(a).Key {
			t.Errorf("%s changed its key although its inputs did not", a)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	base := func() []Def {
		return []Def{
			{Address: "dataset.d", Type: "dataset", Kind: "k", Version: "k/1", Source: "main.hcl:1"},
			{Address: "erm.fit[seed=0]", Type: "erm", Kind: "erm", Version: "erm/1", Source: "main.hcl:5",
				Inputs: []InputRef{{Role: "dataset", Address: "dataset.d"}}},
		}
	}
	cases := []struct {
		name   string
		mutate func([]Def) []Def
		want   []string
	}{
		{"missing input", func(d []Def) []Def {
			return append(d, Def{Address: "sampler.s", Type: "sampler", Kind: "sgld", Version: "sgld/1",
				Source: "main.hcl:9", Inputs: []InputRef{{Role: "erm", Address: "erm.fit"}}})
		}, []string{"sampler.s (main.hcl:9)", `"erm"`, "erm.fit,", "not defined", "erm.fit[seed=0]"}},
		{"duplicate address", func(d []Def) []Def {
			return append(d, Def{Address: "dataset.d", Type: "dataset", Kind: "k", Version: "k/1",
				Source: "other.hcl:2"})
		}, []string{"dataset.d", "twice", "main.hcl:1", "other.hcl:2"}},
		{"duplicate role", func(d []Def) []Def {
			d[1].Inputs = append(d[1].Inputs, InputRef{Role: "dataset", Address: "dataset.d"})
			return d
		}, []string{"erm.fit[seed=0]", `role "dataset"`}},
		{"empty role", func(d []Def) []Def {
			d[1].Inputs[0].Role = ""
			return d
		}, []string{"erm.fit[seed=0]", "empty role"}},
		{"no version", func(d []Def) []Def {
			d[0].Version = ""
			return d
		}, []string{"dataset.d", "version"}},
		{"no kind", func(d []Def) []Def {
			d[0].Kind = ""
			return d
		}, []string{"dataset.d", "kind"}},
		{"no address", func(d []Def) []Def {
			d[0].Address = ""
			return d
		}, []string{"main.hcl:1", "empty address"}},
		{"bad param", func(d []Def) []Def {
			d[0].Params = map[string]any{"n": 3}
			return d
		}, []string{"dataset.d", "params.n", "int"}},
		{"cycle", func(d []Def) []Def {
			d[0].Inputs = []InputRef{{Role: "erm", Address: "erm.fit[seed=0]"}}
			return d
		}, []string{"cycle", "dataset.d (main.hcl:1) -> erm.fit[seed=0] (main.hcl:5) -> dataset.d (main.hcl:1)"}},
		{"self cycle", func(d []Def) []Def {
			d[0].Inputs = []InputRef{{Role: "self", Address: "dataset.d"}}
			return d
		}, []string{"cycle", "dataset.d (main.hcl:1) -> dataset.d (main.hcl:1)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(c.mutate(base()))
			if err == nil {
				t.Fatal("Build returned no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestBuildCycleBehindAcyclicPart(t *testing.T) {
	defs := []Def{
		{Address: "a.root", Type: "a", Kind: "k", Version: "k/1"},
		{Address: "b.x", Type: "b", Kind: "k", Version: "k/1",
			Inputs: []InputRef{{Role: "r", Address: "a.root"}, {Role: "s", Address: "c.y"}}},
		{Address: "c.y", Type: "c", Kind: "k", Version: "k/1",
			Inputs: []InputRef{{Role: "r", Address: "d.z"}}},
		{Address: "d.z", Type: "d", Kind: "k", Version: "k/1",
			Inputs: []InputRef{{Role: "r", Address: "c.y"}}},
	}
	_, err := Build(defs)
	if err == nil {
		t.Fatal("Build returned no error")
	}
	if want := "c.y -> d.z -> c.y"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

// TestTopologicalOrderRandom compares topologicalOrder on random acyclic
// graphs with the definition of its order: repeatedly take the ready node
// with the smallest address.
func TestTopologicalOrderRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	for trial := 0; trial < 50; trial++ {
		nodes := make([]*Node, 1+rng.IntN(60))
		for i := range nodes {
			n := &Node{Def: Def{Address: fmt.Sprintf("node.n%d", rng.IntN(1000)*100+i)}}
			// Inputs only from earlier nodes keep the graph acyclic.
			for j := 0; j < i && len(n.In) < 3; j++ {
				if rng.IntN(4) == 0 {
					n.In = append(n.In, Input{Role: fmt.Sprint("r", j), Node: nodes[j]})
				}
			}
			nodes[i] = n
		}
		rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })

		got, err := topologicalOrder(nodes)
		if err != nil {
			t.Fatal(err)
		}
		want := smallestFirstOrder(nodes)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d: position %d is %s, want %s", trial, i, got[i].Address, want[i].Address)
			}
		}
	}
}

// smallestFirstOrder orders nodes by taking, at each step, the node with
// the smallest address whose inputs are all placed.
func smallestFirstOrder(nodes []*Node) []*Node {
	placed := map[*Node]bool{}
	var order []*Node
	for len(order) < len(nodes) {
		var next *Node
		for _, n := range nodes {
			if placed[n] {
				continue
			}
			ready := true
			for _, in := range n.In {
				ready = ready && placed[in.Node]
			}
			if ready && (next == nil || n.Address < next.Address) {
				next = n
			}
		}
		placed[next] = true
		order = append(order, next)
	}
	return order
}
