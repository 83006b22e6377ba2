package kinds

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/llcflow/llcflow/dsl"
)

// Kind is one implementation of a block type, such as the "sgld" sampler
// or the "teacher_student" dataset.
type Kind struct {
	// Type is the block type: "dataset", "model", "erm", "target", "sampler".
	Type string
	// Name is the value of the block's kind attribute.
	Name string
	// Version is bumped whenever the kind's outputs change for the same
	// parameters and inputs, so that cached runs of the old version rerun.
	Version string
	// Attrs is the schema of the block's attributes.
	Attrs []Attr
	// Check validates relations between attributes after normalization.
	Check func(params map[string]any) []dsl.FieldError
	// Run computes the node's outputs into rc.Dir. It is nil for models,
	// which are not nodes.
	Run func(ctx context.Context, rc *RunContext) error
}

// RunContext is what a running node sees.
type RunContext struct {
	Key, RunID, Address string
	Params              map[string]any
	// Inputs maps each input role to the run directory of that input.
	Inputs map[string]string
	// RunDir returns the directory of any run in the store, for inputs of
	// inputs (a sampler reads the dataset of its erm).
	RunDir func(runID string) string
	// Dir is the (temporary) directory the node writes its outputs to.
	Dir string
	// Log receives the node's human-readable log.
	Log io.Writer
	// Threads bounds the goroutines of one node (0: one per chain).
	Threads int
	// Progress reports the fraction of the node's work done, in [0, 1].
	Progress func(fraction float64, message string)
	// Stop, when closed, asks a sampler node to save a checkpoint into
	// CheckpointDir and return ErrCheckpointed.
	Stop          <-chan struct{}
	CheckpointDir string
}

// ErrCheckpointed is returned by a node that saved a checkpoint because
// Stop was closed. A later run of the same node resumes from it.
var ErrCheckpointed = fmt.Errorf("node stopped after saving a checkpoint")

// decode reads params into a typed struct through encoding/json.
func decode(params map[string]any, v any) error {
	data, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("encode params: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode params: %w", err)
	}
	return nil
}

var registry = map[string]map[string]*Kind{}

func register(k *Kind) {
	// Every whole number reaches a Go int, so none may exceed 2^53.
	k = checkingWholeNumbers(k)
	if registry[k.Type] == nil {
		registry[k.Type] = map[string]*Kind{}
	}
	if _, dup := registry[k.Type][k.Name]; dup {
		panic("kinds: duplicate kind " + k.Type + "." + k.Name)
	}
	registry[k.Type][k.Name] = k
}

// Lookup returns the kind of the given block type and name.
func Lookup(blockType, name string) (*Kind, bool) {
	k, ok := registry[blockType][name]
	return k, ok
}

// All returns every registered kind, sorted by type and name.
func All() []*Kind {
	var out []*Kind
	for _, byName := range registry {
		for _, k := range byName {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Registry implements dsl.Registry over the registered kinds.
type Registry struct{}

// Kinds returns the kind names of a block type, sorted.
func (Registry) Kinds(blockType string) []string {
	var names []string
	for name := range registry[blockType] {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Version returns the implementation version of a kind.
func (Registry) Version(blockType, kind string) string {
	if k, ok := Lookup(blockType, kind); ok {
		return k.Version
	}
	return ""
}

// Normalize checks a block's attributes and fills in defaults.
func (Registry) Normalize(blockType, kind string, attrs map[string]any) (map[string]any, []dsl.FieldError) {
	k, ok := Lookup(blockType, kind)
	if !ok {
		return nil, []dsl.FieldError{{Attr: "kind", Summary: "Unknown kind",
			Detail: fmt.Sprintf("There is no %s kind %q.", blockType, kind)}}
	}
	out, errs := normalizeAttrs(k.Attrs, attrs, "")
	if len(errs) == 0 && k.Check != nil {
		errs = k.Check(out)
	}
	return out, errs
}
