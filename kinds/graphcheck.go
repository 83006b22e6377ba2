package kinds

import (
	"fmt"

	"github.com/llcflow/llcflow/graph"
)

// GraphError is a problem between nodes that no single block shows, such
// as a model whose widths do not fit its dataset. Source is the "FILE:LINE"
// of the block at fault.
type GraphError struct {
	Address string
	Source  string
	Summary string
	Detail  string
}

// datasetShape returns (n, in_dim, out_dim) of a dataset node from its
// parameters, for the dataset kinds whose shape the parameters fix.
func datasetShape(n *graph.Node) (rows, in, out int, ok bool) {
	num := func(v any) int { f, _ := v.(float64); return int(f) }
	widths := func(v any) []int {
		list, _ := v.([]any)
		out := make([]int, len(list))
		for i, e := range list {
			out[i] = num(e)
		}
		return out
	}
	switch n.Kind {
	case "teacher_student":
		teacher, _ := n.Params["teacher"].(map[string]any)
		w := widths(teacher["widths"])
		if len(w) < 2 {
			return 0, 0, 0, false
		}
		return num(n.Params["n"]), num(n.Params["in_dim"]), w[len(w)-1], true
	case "linear_teacher":
		w := widths(n.Params["widths"])
		if len(w) < 2 {
			return 0, 0, 0, false
		}
		return num(n.Params["n"]), w[0], w[len(w)-1], true
	}
	return 0, 0, 0, false
}

func input(n *graph.Node, role string) *graph.Node {
	for _, in := range n.In {
		if in.Role == role {
			return in.Node
		}
	}
	return nil
}

// CheckGraph finds the problems between connected nodes before anything
// runs: a model whose first or last width differs from its dataset's input
// or output dimension, and a sampler that derives nβ = beta0·n/log n from a
// dataset with fewer than two points. Each problem is reported once per
// block and dataset shape.
func CheckGraph(g *graph.Graph) []GraphError {
	var errs []GraphError
	seen := map[string]bool{}
	add := func(e GraphError) {
		key := e.Source + "\x00" + e.Detail
		if !seen[key] {
			seen[key] = true
			errs = append(errs, e)
		}
	}
	for _, n := range g.Nodes {
		switch n.Type {
		case "erm":
			data := input(n, "dataset")
			if data == nil {
				continue
			}
			_, in, out, ok := datasetShape(data)
			model, _ := n.Params["model"].(map[string]any)
			list, _ := model["widths"].([]any)
			if !ok || len(list) < 2 {
				continue
			}
			first, _ := list[0].(float64)
			last, _ := list[len(list)-1].(float64)
			if int(first) != in || int(last) != out {
				add(GraphError{Address: n.Address, Source: n.Source, Summary: "Model does not fit the dataset",
					Detail: fmt.Sprintf("The model's widths start with %d and end with %d, but %s has input dimension %d and output dimension %d. Make the first width %d and the last %d.",
						int(first), int(last), data.Address, in, out, in, out)})
			}
		case "sampler":
			if _, direct := n.Params["n_beta"]; direct {
				continue
			}
			erm := input(n, "erm")
			if erm == nil {
				continue
			}
			data := input(erm, "dataset")
			if data == nil {
				continue
			}
			rows, _, _, ok := datasetShape(data)
			if ok && rows < 2 {
				add(GraphError{Address: n.Address, Source: n.Source, Summary: "Cannot derive n_beta",
					Detail: fmt.Sprintf("nβ = beta0·n/log n needs n ≥ 2, but %s has n = %d. Set n_beta directly or use more data points.", data.Address, rows)})
			}
		}
	}
	return errs
}
