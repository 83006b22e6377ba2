package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Explanation is the full comparison of a planned node with the store and
// with the most recent earlier run of its address, for plan --explain.
type Explanation struct {
	Entry Entry
	// Status is the state of the node's key in the store, with the detail
	// of a Corrupt or Failed status or of a cancelled attempt.
	Status       RunStatus
	StatusDetail string
	// Previous is the latest earlier run of the address, or nil when the
	// store has none.
	Previous *PrevRun
	// Params lists every parameter leaf of the node and of the earlier run,
	// in path order. It is empty when there is no earlier run.
	Params []ParamComparison
	// Inputs lists the node's inputs, in role order, followed by the roles
	// that only the earlier run had.
	Inputs []InputComparison
}

// ParamComparison is one parameter leaf of a node beside the same leaf of
// the earlier run.
type ParamComparison struct {
	Path string `json:"path"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
	// InOld and InNew tell whether the leaf exists on each side.
	InOld bool `json:"in_old"`
	InNew bool `json:"in_new"`
	// Changed is true when the leaf differs or exists on one side only.
	Changed bool `json:"changed"`
}

// Message describes the leaf for a reader: "step_size: 0.0001 → 0.0002",
// "seed: 3 (unchanged)", "lr: added with value 0.01".
func (c ParamComparison) Message() string {
	switch {
	case !c.InOld:
		return fmt.Sprintf("%s: added with value %s", c.Path, formatValue(c.New))
	case !c.InNew:
		return fmt.Sprintf("%s: removed (was %s)", c.Path, formatValue(c.Old))
	case c.Changed:
		return fmt.Sprintf("%s: %s → %s", c.Path, formatValue(c.Old), formatValue(c.New))
	default:
		return fmt.Sprintf("%s: %s (unchanged)", c.Path, formatValue(c.New))
	}
}

// InputComparison is one input role of a node beside the same role of the
// earlier run.
type InputComparison struct {
	Role string `json:"role"`
	// Address, Key and Action describe the node's input now; they are empty
	// for a role that only the earlier run had.
	Address string `json:"address,omitempty"`
	Key     string `json:"key,omitempty"`
	Action  Action `json:"action,omitempty"`
	// OldKey is the key of this role's input in the earlier run, "" when
	// the earlier run had no such input or there is no earlier run.
	OldKey  string `json:"old_key,omitempty"`
	Changed bool   `json:"changed"`
}

// Explain compares every entry of p whose node matches pat with the store
// and with the latest earlier run of its address. It returns an error when
// pat matches no entry of the plan.
func Explain(p *Plan, look Lookup, pat Pattern) ([]Explanation, error) {
	actions := make(map[*Node]Action, len(p.Entries))
	for _, e := range p.Entries {
		actions[e.Node] = e.Action
	}
	var out []Explanation
	for _, e := range p.Entries {
		if !pat.Match(e.Node) {
			continue
		}
		x, err := explainEntry(e, look, actions)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--explain pattern %q matches no node of the plan; "+
			"run llcflow plan to list the addresses", pat.String())
	}
	return out, nil
}

func explainEntry(e Entry, look Lookup, actions map[*Node]Action) (Explanation, error) {
	n := e.Node
	x := Explanation{Entry: e}
	var err error
	x.Status, x.StatusDetail, err = look.Status(n.RunID, n.Key)
	if err != nil {
		return x, fmt.Errorf("explain %s: check run %s: %w", n.Address, n.RunID, err)
	}
	prev, ok, err := look.Latest(n.Address)
	if err != nil {
		return x, fmt.Errorf("explain %s: read earlier runs: %w", n.Address, err)
	}
	if ok {
		x.Previous = prev
		x.Params = compareParams(prev.Params, n.Params)
	}
	x.Inputs = compareInputs(n, x.Previous, actions)
	return x, nil
}

// compareParams lists every leaf of both parameter maps in path order,
// walking maps key by key and lists index by index.
func compareParams(old, new map[string]any) []ParamComparison {
	var out []ParamComparison
	compareMaps("", old, new, &out)
	return out
}

func compareValues(path string, old, new any, out *[]ParamComparison) {
	switch o := old.(type) {
	case map[string]any:
		if n, ok := new.(map[string]any); ok {
			compareMaps(path, o, n, out)
			return
		}
	case []any:
		if n, ok := new.([]any); ok {
			compareLists(path, o, n, out)
			return
		}
	}
	*out = append(*out, ParamComparison{Path: path, Old: old, New: new, InOld: true, InNew: true,
		Changed: !sameLeaf(old, new)})
}

func compareMaps(path string, old, new map[string]any, out *[]ParamComparison) {
	keys := make([]string, 0, len(old)+len(new))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range new {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		o, inOld := old[k]
		n, inNew := new[k]
		p := keyPath(path, k)
		switch {
		case !inOld:
			*out = append(*out, ParamComparison{Path: p, New: n, InNew: true, Changed: true})
		case !inNew:
			*out = append(*out, ParamComparison{Path: p, Old: o, InOld: true, Changed: true})
		default:
			compareValues(p, o, n, out)
		}
	}
}

func compareLists(path string, old, new []any, out *[]ParamComparison) {
	for i := 0; i < max(len(old), len(new)); i++ {
		p := indexPath(path, i)
		switch {
		case i >= len(old):
			*out = append(*out, ParamComparison{Path: p, New: new[i], InNew: true, Changed: true})
		case i >= len(new):
			*out = append(*out, ParamComparison{Path: p, Old: old[i], InOld: true, Changed: true})
		default:
			compareValues(p, old[i], new[i], out)
		}
	}
}

func compareInputs(n *Node, prev *PrevRun, actions map[*Node]Action) []InputComparison {
	var out []InputComparison
	current := make(map[string]bool, len(n.In))
	for _, in := range n.In {
		current[in.Role] = true
		c := InputComparison{Role: in.Role, Address: in.Node.Address, Key: in.Node.Key,
			Action: actions[in.Node]}
		if prev != nil {
			c.OldKey = prev.InputKeys[in.Role]
			c.Changed = c.OldKey != in.Node.Key
		}
		out = append(out, c)
	}
	if prev == nil {
		return out
	}
	var removed []string
	for role := range prev.InputKeys {
		if !current[role] {
			removed = append(removed, role)
		}
	}
	slices.Sort(removed)
	for _, role := range removed {
		out = append(out, InputComparison{Role: role, OldKey: prev.InputKeys[role], Changed: true})
	}
	return out
}

// DescribeParamChanges returns one sentence per parameter leaf that
// differs between two parameter maps, in path order, such as "step_size
// changed from 0.0001 to 0.0002".
func DescribeParamChanges(old, new map[string]any) []string {
	changes := diffParams(old, new)
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.message()
	}
	return out
}

// KindCount is the number of plan entries of one type and kind by action.
type KindCount struct {
	Type string `json:"type"`
	Kind string `json:"kind"`
	Summary
}

// CountsByKind returns the summary of the plan per type and kind, sorted by
// type and then kind.
func (p *Plan) CountsByKind() []KindCount {
	index := map[[2]string]int{}
	var out []KindCount
	for _, e := range p.Entries {
		k := [2]string{e.Node.Type, e.Node.Kind}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, KindCount{Type: k[0], Kind: k[1]})
		}
		switch e.Action {
		case ActionRun:
			out[i].Run++
		case ActionCached:
			out[i].Cached++
		case ActionForced:
			out[i].Forced++
		}
	}
	slices.SortFunc(out, func(a, b KindCount) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return out
}
