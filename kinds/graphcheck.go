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
// or output dimension, a cross_entropy erm on a dataset without class
// labels, a checkpoint erm whose step its training erm cannot give, and a
// sampler that derives nβ = beta0·n/log n from a dataset with fewer than
// two points. Each problem is reported once per block and dataset shape.
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
			if from := input(n, "from"); from != nil {
				if e, bad := checkCheckpointStep(n, from); bad {
					add(e)
				}
				continue
			}
			data := input(n, "dataset")
			if data == nil {
				continue
			}
			if e, bad := checkClassLabels(n, data); bad {
				add(e)
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

// checkCheckpointStep checks the step of a checkpoint erm n against its
// training erm from: the step must lie within the training, and a step
// before the last needs saved training states to replay from.
func checkCheckpointStep(n, from *graph.Node) (GraphError, bool) {
	fail := func(summary, format string, args ...any) (GraphError, bool) {
		return GraphError{Address: n.Address, Source: n.Source, Summary: summary, Detail: fmt.Sprintf(format, args...)}, true
	}
	if _, nested := from.Params["from"]; nested || input(from, "from") != nil {
		return fail("Invalid checkpoint", "%s is itself a checkpoint erm. Set from to the training erm.", from.Address)
	}
	k, ok := n.Params["checkpoint"].(float64)
	steps, hasSteps := from.Params["steps"].(float64)
	if !ok || !hasSteps {
		return GraphError{}, false
	}
	saved, _ := from.Params["checkpoints"].([]any)
	switch {
	case k > steps:
		return fail("Checkpoint after the end of training",
			"checkpoint = %d is after the last training step %d of %s. Use a step from 0 to %d, or train %s longer.",
			int(k), int(steps), from.Address, int(steps), from.Address)
	case k < steps && len(saved) == 0:
		return fail("No saved training state",
			"checkpoint = %d needs saved training states of %s, which sets neither checkpoints nor num_checkpoints. Add checkpoints = [%d] or num_checkpoints to %s.",
			int(k), from.Address, int(k), from.Address)
	}
	return GraphError{}, false
}

// regressionDatasets are the dataset kinds whose Y holds real-valued
// targets and never class labels.
var regressionDatasets = []string{"teacher_student", "linear_teacher"}

// checkClassLabels checks that the dataset of a cross_entropy erm n holds
// class labels: a file dataset needs classes = K.
func checkClassLabels(n, data *graph.Node) (GraphError, bool) {
	if loss, _ := n.Params["loss"].(string); loss != "cross_entropy" {
		return GraphError{}, false
	}
	_, hasClasses := data.Params["classes"]
	switch {
	case contains(regressionDatasets, data.Kind):
		return GraphError{Address: n.Address, Source: n.Source, Summary: "Dataset has no class labels",
			Detail: fmt.Sprintf("The cross_entropy loss needs class labels, but %s (kind %q) has real-valued targets. Use a teacher_classification or file dataset, or another loss.", data.Address, data.Kind)}, true
	case fileChecks["dataset."+data.Kind] != nil && !hasClasses:
		return GraphError{Address: n.Address, Source: n.Source, Summary: "Dataset has no class labels",
			Detail: fmt.Sprintf("The cross_entropy loss needs class labels, but %s sets no classes. In %s, %s.", data.Address, data.Address, classesAdvice)}, true
	}
	return GraphError{}, false
}
