package kinds

import (
	"fmt"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/models"
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

// dataShape is the shape of a dataset: its rows n, the widths in_dim of X
// and out_dim of Y, and the number of classes K of its labels, 0 for
// real-valued Y.
type dataShape struct {
	rows, in, out, classes int
}

// outFor returns the output width that a model trained with loss needs,
// by the rule of modelOutDim: one logit per class for cross_entropy.
func (s dataShape) outFor(loss string) int {
	if loss == "cross_entropy" && s.classes > 0 {
		return s.classes
	}
	return s.out
}

// datasetShape returns the shape of a dataset node: from its parameters
// for the synthetic kinds, and for the file kinds from the files that
// normalization read in this process.
func datasetShape(n *graph.Node) (dataShape, bool) {
	num := func(v any) int { f, _ := v.(float64); return int(f) }
	widths := func(v any) []int {
		list, _ := v.([]any)
		out := make([]int, len(list))
		for i, e := range list {
			out[i] = num(e)
		}
		return out
	}
	teacher, _ := n.Params["teacher"].(map[string]any)
	switch n.Kind {
	case "teacher_student":
		w := widths(teacher["widths"])
		if len(w) < 2 {
			return dataShape{}, false
		}
		return dataShape{rows: num(n.Params["n"]), in: num(n.Params["in_dim"]), out: w[len(w)-1]}, true
	case "teacher_classification":
		w := widths(teacher["widths"])
		if len(w) < 2 {
			return dataShape{}, false
		}
		// Y holds one label per row, of max(2, K) classes for a teacher
		// with K outputs (datasets.Classification.Classes).
		return dataShape{rows: num(n.Params["n"]), in: num(n.Params["in_dim"]), out: 1,
			classes: max(2, w[len(w)-1])}, true
	case "linear_teacher":
		w := widths(n.Params["widths"])
		if len(w) < 2 {
			return dataShape{}, false
		}
		return dataShape{rows: num(n.Params["n"]), in: w[0], out: w[len(w)-1]}, true
	}
	if fileChecks["dataset."+n.Kind] == nil {
		return dataShape{}, false
	}
	key, ok := fileShapeKey(n.Kind, n.Params)
	if !ok {
		return dataShape{}, false
	}
	v, ok := fileShapes.Load(key)
	if !ok {
		return dataShape{}, false
	}
	return v.(dataShape), true
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
// or output dimension, a model or a sampler's chains whose buffers exceed
// maxNodeBytes, saved training states above maxCheckpointBytes, a
// cross_entropy erm on a dataset without class labels, a checkpoint erm
// whose step its training erm cannot give, and a sampler that derives
// nβ = beta0·n/log n from a dataset with fewer than two points. Each
// problem is reported once per block and dataset shape.
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
	// The samplers of a sweep share a few erms and datasets, so each
	// erm's model size and each dataset's shape is worked out once.
	cache := &checkCache{sizes: map[*graph.Node]knownSize{}, shapes: map[*graph.Node]knownShape{}}
	for _, n := range g.Nodes {
		switch n.Type {
		case "erm":
			for _, e := range checkERMNode(n, cache) {
				add(e)
			}
		case "sampler":
			for _, e := range checkSamplerNode(n, cache) {
				add(e)
			}
		}
	}
	return errs
}

// checkERMNode checks an erm against its dataset or training erm. It
// keeps the model size of a training erm in cache for its samplers.
func checkERMNode(n *graph.Node, cache *checkCache) []GraphError {
	if from := input(n, "from"); from != nil {
		if e, bad := checkCheckpointStep(n, from); bad {
			return []GraphError{e}
		}
		return nil
	}
	data := input(n, "dataset")
	if data == nil {
		return nil
	}
	if e, bad := checkClassLabels(n, data); bad {
		return []GraphError{e}
	}

	shape, known := cache.shape(data)
	var errs []GraphError
	if known {
		if e, bad := checkModelFit(n, data, shape); bad {
			errs = append(errs, e)
		}
	}
	size, sizeText, ok := ermModelSize(n, shape, known)
	cache.sizes[n] = knownSize{size, ok}
	if !ok {
		return errs
	}

	if detail := modelTooLarge(size, sizeText); detail != "" {
		return append(errs, GraphError{Address: n.Address, Source: n.Source, Summary: "Model too large", Detail: detail})
	}
	if e, bad := checkCheckpointBytes(n, size); bad {
		errs = append(errs, e)
	}
	return errs
}

// checkCheckpointBytes checks the disk space of the training states that
// a training erm n of the given model size saves.
func checkCheckpointBytes(n *graph.Node, size mlpSize) (GraphError, bool) {
	checkpoints, _ := n.Params["checkpoints"].([]any)
	if len(checkpoints) == 0 {
		return GraphError{}, false
	}
	optimizer, _ := n.Params["optimizer"].(map[string]any)
	kind, _ := optimizer["kind"].(string)
	detail := checkpointTooLarge(size, len(checkpoints), kind)
	if detail == "" {
		return GraphError{}, false
	}
	return GraphError{Address: n.Address, Source: n.Source, Summary: "Checkpoints too large", Detail: detail}, true
}

// checkModelFit checks the first and last widths of an erm's model
// against its dataset.
func checkModelFit(n, data *graph.Node, shape dataShape) (GraphError, bool) {
	model, _ := n.Params["model"].(map[string]any)
	list, _ := model["widths"].([]any)
	if len(list) < 2 {
		return GraphError{}, false
	}
	loss, _ := n.Params["loss"].(string)
	in, out := shape.in, shape.outFor(loss)
	first, _ := list[0].(float64)
	last, _ := list[len(list)-1].(float64)
	if int(first) == in && int(last) == out {
		return GraphError{}, false
	}
	dims := fmt.Sprintf("input dimension %d and output dimension %d", in, out)
	if out != shape.out {
		dims = fmt.Sprintf("input dimension %d and %d classes, one logit each", in, out)
	}
	return GraphError{Address: n.Address, Source: n.Source, Summary: "Model does not fit the dataset",
		Detail: fmt.Sprintf("The model's widths start with %d and end with %d, but %s has %s. Make the first width %d and the last %d.",
			int(first), int(last), data.Address, dims, in, out)}, true
}

// ermModelSize returns the size of a training erm's model with a
// description for messages. A model given by depth needs the dataset's
// shape; without it ok is false.
func ermModelSize(n *graph.Node, shape dataShape, known bool) (size mlpSize, sizeText string, ok bool) {
	model, _ := n.Params["model"].(map[string]any)
	var p mlpParams
	if err := decode(model, &p); err != nil {
		return mlpSize{}, "", false
	}
	if p.Widths != nil {
		s := sizeOfWidths(p.Widths, p.Bias)
		return s, fmt.Sprintf("The model's widths %v give d = %.0f parameters", p.Widths, s.params), true
	}
	loss, _ := n.Params["loss"].(string)
	in, out := shape.in, shape.outFor(loss)
	if !known || p.Depth < 1 || in < 1 || out < 1 {
		return mlpSize{}, "", false
	}
	h := p.Width
	if h == 0 {
		h = models.TargetParams(in, out, p.Depth, p.TargetParams, p.Bias)
	}
	s := sizeOfDepth(in, h, p.Depth, out, p.Bias)
	return s, fmt.Sprintf("The model of %d hidden layers of width %d between widths %d and %d gives d = %.0f parameters",
		p.Depth, h, in, out, s.params), true
}

// checkSamplerNode checks a sampler against its erm or target: the memory
// of its chains and, for a sampler that derives nβ, the dataset's size.
func checkSamplerNode(n *graph.Node, cache *checkCache) []GraphError {
	var errs []GraphError
	if e, bad := checkChainsMemory(n, cache); bad {
		errs = append(errs, e)
	}
	if _, direct := n.Params["n_beta"]; direct {
		return errs
	}
	erm := input(n, "erm")
	if erm == nil {
		return errs
	}
	data := input(erm, "dataset")
	if data == nil {
		return errs
	}
	shape, ok := cache.shape(data)
	if ok && shape.rows < 2 {
		errs = append(errs, GraphError{Address: n.Address, Source: n.Source, Summary: "Cannot derive n_beta",
			Detail: fmt.Sprintf("nβ = beta0·n/log n needs n ≥ 2, but %s has n = %d. Set n_beta directly or use more data points.", data.Address, shape.rows)})
	}
	return errs
}

// checkChainsMemory rejects a sampler whose chains together keep more
// than maxNodeBytes of buffers. A model too large for one chain is
// reported at its model or erm instead.
func checkChainsMemory(n *graph.Node, cache *checkCache) (GraphError, bool) {
	chains, _ := n.Params["chains"].(float64)
	size, ok := samplerInputSize(n, cache)
	perChain := size.bytes()
	reportedAtModel := input(n, "target") == nil && perChain > maxNodeBytes
	if !ok || reportedAtModel || chains*perChain <= maxNodeBytes {
		return GraphError{}, false
	}
	fix := "use a smaller model"
	if t := input(n, "target"); t != nil {
		fix = targetDimFix[t.Kind]
	}
	return GraphError{Address: n.Address, Source: n.Source, Summary: "Sampler too large",
		Detail: fmt.Sprintf("%.0f chains of d = %.0f parameters keep about %d vectors of d float64 each, %s, above %s. Lower chains or %s.",
			chains, size.params, bufferVectors, gib(chains*perChain), nodeLimit, fix)}, true
}

// targetDimFix is the advice, for each target kind, on lowering its
// dimension d.
var targetDimFix = map[string]string{
	"quadratic": "give fewer eigenvalues, one per dimension",
	"monomial":  "give fewer exponents, one per dimension",
	"radial":    "lower the target's dim",
	"linear":    "give the target fewer or narrower widths",
}

// samplerInputSize returns the size of the potential a sampler samples:
// its erm's model, through a checkpoint erm to its training erm, or its
// target's dimension.
func samplerInputSize(n *graph.Node, cache *checkCache) (mlpSize, bool) {
	if t := input(n, "target"); t != nil {
		d, ok := targetDim(t)
		return mlpSize{params: d}, ok
	}
	erm := input(n, "erm")
	if erm == nil {
		return mlpSize{}, false
	}
	if from := input(erm, "from"); from != nil {
		erm = from
	}
	if s, done := cache.sizes[erm]; done {
		return s.size, s.ok
	}
	data := input(erm, "dataset")
	if data == nil {
		return mlpSize{}, false
	}
	shape, known := cache.shape(data)
	size, _, ok := ermModelSize(erm, shape, known)
	cache.sizes[erm] = knownSize{size, ok}
	return size, ok
}

// checkCache holds, for one CheckGraph call, the model size of each
// training erm and the shape of each dataset that a sampler asked for.
type checkCache struct {
	sizes  map[*graph.Node]knownSize
	shapes map[*graph.Node]knownShape
}

type knownSize struct {
	size mlpSize
	ok   bool
}

type knownShape struct {
	shape dataShape
	ok    bool
}

// shape returns datasetShape(data), computed once per dataset.
func (c *checkCache) shape(data *graph.Node) (dataShape, bool) {
	if s, done := c.shapes[data]; done {
		return s.shape, s.ok
	}
	shape, ok := datasetShape(data)
	c.shapes[data] = knownShape{shape, ok}
	return shape, ok
}

// targetDim returns the dimension d of a target node.
func targetDim(t *graph.Node) (float64, bool) {
	count := func(name string) float64 { list, _ := t.Params[name].([]any); return float64(len(list)) }
	switch t.Kind {
	case "quadratic":
		return count("eigenvalues"), true
	case "monomial":
		return count("exponents"), true
	case "radial":
		dim, ok := t.Params["dim"].(float64)
		return dim, ok
	case "linear":
		// The deep linear network has no biases.
		list, _ := t.Params["widths"].([]any)
		widths := make([]int, len(list))
		for i, v := range list {
			f, _ := v.(float64)
			widths[i] = int(f)
		}
		return sizeOfWidths(widths, false).params, true
	}
	return 0, false
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
