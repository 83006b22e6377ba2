package graph

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Lookup is the planner's view of the store. Its methods must be safe for
// concurrent use, because the planner looks up many nodes at once.
type Lookup interface {
	// Status reports whether a valid run with exactly this key is in the
	// store. The detail explains a Corrupt status, such as which file is
	// missing. For Failed, and for Missing after a cancelled attempt, it is
	// a clause about the last attempt, such as "the last attempt was
	// cancelled at 2026-12-04T17:00:00Z", which the planner puts in the
	// reason. It is empty for a Missing node without such a record.
	Status(runID, key string) (status RunStatus, detail string, err error)
	// Latest returns the most recent earlier run recorded for this
	// address. The boolean is false when there is none.
	Latest(address string) (prev *PrevRun, ok bool, err error)
}

// RunStatus is the state of a run id in the store.
type RunStatus int

const (
	// Missing means there is neither a run nor a failed attempt. The last
	// attempt may have been cancelled.
	Missing RunStatus = iota
	// Valid means a run with this key is present and passes validation.
	Valid
	// Corrupt means a run directory is present but fails validation, or
	// holds a different key under the same run id.
	Corrupt
	// Failed means there is no valid run and the last attempt failed.
	Failed
)

// String returns the lower-case name of the status.
func (s RunStatus) String() string {
	switch s {
	case Missing:
		return "missing"
	case Valid:
		return "valid"
	case Corrupt:
		return "corrupt"
	case Failed:
		return "failed"
	default:
		return fmt.Sprintf("RunStatus(%d)", int(s))
	}
}

// PrevRun is an earlier run recorded for an address, which the planner
// compares with the node to explain why it must run.
type PrevRun struct {
	RunID   string
	Key     string
	Version string
	Params  map[string]any
	// InputKeys maps each input role to the key of that input.
	InputKeys map[string]string
}

// PlanOptions select which nodes a plan covers and which it recomputes.
type PlanOptions struct {
	// NoSkip forces every node that has a valid run (--no-skip).
	NoSkip bool
	// Rerun forces the nodes with a valid run that match any pattern
	// (--rerun). Every pattern must match at least one node of the graph.
	Rerun []Pattern
	// Targets, when not empty, restrict the plan to the nodes that match a
	// pattern and all their transitive inputs (--target). Every pattern
	// must match at least one node of the graph.
	Targets []Pattern
}

// Action is what apply does with a node.
type Action string

const (
	// ActionRun computes a node that has no valid run.
	ActionRun Action = "run"
	// ActionCached reuses the node's valid run.
	ActionCached Action = "cached"
	// ActionForced recomputes a node that has a valid run, because of
	// --no-skip or --rerun.
	ActionForced Action = "forced"
)

// Reason codes of a Reason.
const (
	ReasonForced         = "forced"
	ReasonCorrupt        = "corrupt"
	ReasonNew            = "new"
	ReasonVersionChanged = "version_changed"
	ReasonParamsChanged  = "params_changed"
	ReasonInputChanged   = "input_changed"
	// ReasonSameRun marks an entry whose run another address computes.
	ReasonSameRun = "same_run"
)

// Plan is the action for every node that apply would touch.
type Plan struct {
	// Entries are in the topological order of the graph.
	Entries []Entry
	Summary Summary
	// Targeted is true when PlanOptions.Targets restricted the plan.
	Targeted bool
}

// Entry is the plan for one node.
type Entry struct {
	Node   *Node
	Action Action
	// Reason is nil for cached nodes.
	Reason *Reason
	// SameRunAs is the node of the first entry with the same key, when an
	// earlier address of the plan already has this node's run; nil
	// otherwise. Such an entry has the action of that first entry, and apply
	// computes the run once.
	SameRunAs *Node
}

// Reason explains why a node runs or is forced.
type Reason struct {
	// Code is one of the Reason constants.
	Code string `json:"code"`
	// Message is a sentence for the user, such as "step_size changed from
	// 0.0001 to 0.0002".
	Message string `json:"message"`
	// Changes are the changed parameter leaves, in path order.
	Changes []Change `json:"changes,omitempty"`
}

// Change is one parameter leaf that differs from the earlier run. Old is
// nil for an added parameter and New is nil for a removed one.
type Change struct {
	// Path names the leaf, such as "step_size", "optimizer.lr" or
	// "teacher.widths[1]".
	Path string `json:"path"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
}

// Summary counts the distinct runs of a plan by action. Entries that share
// the run of an earlier entry are counted in Shared only.
type Summary struct {
	Run    int `json:"run"`
	Cached int `json:"cached"`
	Forced int `json:"forced"`
	Shared int `json:"shared,omitempty"`
}

// MakePlan decides the action for every node of g, in topological order.
//
// A node with a valid run is cached, unless NoSkip or a Rerun pattern
// forces it. Every other node runs, with the most specific reason: a
// corrupt run under its key, no earlier run of its address, or the
// differences from the latest earlier run of its address. A version change
// takes precedence over parameter changes, and both over input changes,
// but the message lists all of them.
func MakePlan(g *Graph, look Lookup, opts PlanOptions) (*Plan, error) {
	if err := checkPatternsMatch(g, "--rerun", opts.Rerun); err != nil {
		return nil, err
	}
	if err := checkPatternsMatch(g, "--target", opts.Targets); err != nil {
		return nil, err
	}
	included := targetClosure(g, opts.Targets)

	p := &Plan{Entries: make([]Entry, 0, len(g.Nodes)), Targeted: len(opts.Targets) > 0}
	var nodes []*Node
	for _, n := range g.Nodes {
		if included == nil || included[n] {
			nodes = append(nodes, n)
		}
	}
	statuses := lookupStatuses(nodes, look)
	actions := make(map[*Node]Action, len(nodes))
	firstByKey := make(map[string]int, len(nodes))
	for i, n := range nodes {
		e, err := planNode(n, statuses[i], look, opts, actions)
		if err != nil {
			return nil, err
		}
		if first, ok := firstByKey[n.Key]; ok {
			e = p.shareRun(first, e)
		} else {
			firstByKey[n.Key] = len(p.Entries)
		}
		actions[n] = e.Action
		p.Entries = append(p.Entries, e)
	}
	p.count()
	return p, nil
}

// nodeStatus is the result of Lookup.Status for one node.
type nodeStatus struct {
	status RunStatus
	detail string
	err    error
}

// statusWorkers is the number of goroutines per CPU that look up statuses:
// a lookup mostly waits for file system calls, so more goroutines than
// CPUs keep the CPUs busy.
const statusWorkers = 4

// lookupStatuses calls look.Status for every node, on several goroutines
// when there are many nodes, and returns the results in node order.
func lookupStatuses(nodes []*Node, look Lookup) []nodeStatus {
	out := make([]nodeStatus, len(nodes))
	workers := min(statusWorkers*runtime.GOMAXPROCS(0), len(nodes)/parallelKeysMin+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(nodes) {
					return
				}
				n := nodes[i]
				s, d, err := look.Status(n.RunID, n.Key)
				out[i] = nodeStatus{status: s, detail: d, err: err}
			}
		}()
	}
	wg.Wait()
	return out
}

// shareRun returns e, whose key equals that of the entry at index first,
// as an entry that shares that entry's run. A forced duplicate forces the
// first entry too, because both name one run.
func (p *Plan) shareRun(first int, e Entry) Entry {
	primary := &p.Entries[first]
	if e.Action == ActionForced && primary.Action == ActionCached {
		primary.Action, primary.Reason = ActionForced, e.Reason
	}
	reason := &Reason{Code: ReasonSameRun,
		Message: "same run as " + primary.Node.Address + ", which computes it once"}
	if primary.Action == ActionCached {
		reason = nil
	}
	return Entry{Node: e.Node, Action: primary.Action, Reason: reason, SameRunAs: primary.Node}
}

// count fills in the summary.
func (p *Plan) count() {
	p.Summary = Summary{}
	for _, e := range p.Entries {
		switch {
		case e.SameRunAs != nil:
			p.Summary.Shared++
		case e.Action == ActionRun:
			p.Summary.Run++
		case e.Action == ActionCached:
			p.Summary.Cached++
		case e.Action == ActionForced:
			p.Summary.Forced++
		}
	}
}

func checkPatternsMatch(g *Graph, flag string, patterns []Pattern) error {
	for _, pat := range patterns {
		matched := false
		for _, n := range g.Nodes {
			if pat.Match(n) {
				matched = true
				break
			}
		}
		if !matched {
			return fmt.Errorf("%s pattern %q matches no node; run llcflow plan to list the addresses",
				flag, pat.String())
		}
	}
	return nil
}

// targetClosure returns the nodes that match a target and their transitive
// inputs, or nil when there are no targets.
func targetClosure(g *Graph, targets []Pattern) map[*Node]bool {
	if len(targets) == 0 {
		return nil
	}
	included := map[*Node]bool{}
	var stack []*Node
	for _, n := range g.Nodes {
		for _, pat := range targets {
			if pat.Match(n) {
				stack = append(stack, n)
				break
			}
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if included[n] {
			continue
		}
		included[n] = true
		for _, in := range n.In {
			stack = append(stack, in.Node)
		}
	}
	return included
}

func planNode(n *Node, st nodeStatus, look Lookup, opts PlanOptions, actions map[*Node]Action) (Entry, error) {
	status, detail, err := st.status, st.detail, st.err
	if err != nil {
		return Entry{}, fmt.Errorf("plan %s: check run %s: %w", n.Address, n.RunID, err)
	}
	if status == Valid {
		if flag := forcingFlag(n, opts); flag != "" {
			return Entry{Node: n, Action: ActionForced,
				Reason: &Reason{Code: ReasonForced, Message: "forced by " + flag}}, nil
		}
		return Entry{Node: n, Action: ActionCached}, nil
	}

	reason, err := explainRun(n, status, detail, look, actions)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Node: n, Action: ActionRun, Reason: reason}, nil
}

// forcingFlag returns the flag that forces n, or "".
func forcingFlag(n *Node, opts PlanOptions) string {
	if opts.NoSkip {
		return "--no-skip"
	}
	for _, pat := range opts.Rerun {
		if pat.Match(n) {
			return "--rerun " + pat.String()
		}
	}
	return ""
}

// explainRun returns the reason that a node without a valid run must run.
func explainRun(n *Node, status RunStatus, detail string, look Lookup,
	actions map[*Node]Action) (*Reason, error) {
	if status == Corrupt {
		return &Reason{Code: ReasonCorrupt,
			Message: fmt.Sprintf("the stored run %s is corrupt: %s", n.RunID, detail)}, nil
	}
	// The detail of a Failed or Missing node describes how its last
	// attempt ended, which is more specific than "no earlier run".
	attempt := detail

	prev, ok, err := look.Latest(n.Address)
	if err != nil {
		return nil, fmt.Errorf("plan %s: read earlier runs: %w", n.Address, err)
	}
	if !ok {
		if attempt == "" {
			attempt = "no earlier run"
		}
		return &Reason{Code: ReasonNew, Message: attempt}, nil
	}

	r := &Reason{}
	var parts []string
	if prev.Version != n.Version {
		r.Code = ReasonVersionChanged
		parts = append(parts, fmt.Sprintf("version changed from %s to %s", prev.Version, n.Version))
	}
	changes := diffParams(prev.Params, n.Params)
	if len(changes) > 0 {
		if r.Code == "" {
			r.Code = ReasonParamsChanged
		}
		for _, c := range changes {
			r.Changes = append(r.Changes, c.Change)
			parts = append(parts, c.message())
		}
	}
	if inputs := describeInputChanges(n, prev, actions); len(inputs) > 0 {
		if r.Code == "" {
			r.Code = ReasonInputChanged
		}
		parts = append(parts, inputs...)
	}

	if r.Code == "" {
		r.Code = ReasonNew
		parts = append(parts, unchangedMessage(n, prev))
	}
	if attempt != "" {
		parts = append(parts, attempt)
	}
	r.Message = strings.Join(parts, "; ")
	return r, nil
}

// unchangedMessage explains a node that must run although its version,
// parameters and input keys equal those of the latest earlier run.
func unchangedMessage(n *Node, prev *PrevRun) string {
	if prev.Key == n.Key {
		return fmt.Sprintf("the run %s recorded for this address is no longer in the store", prev.RunID)
	}
	return fmt.Sprintf("the type or kind differs from the latest run %s of this address", prev.RunID)
}

// describeInputChanges lists the inputs whose keys differ from the earlier
// run, in role order, followed by the roles the node no longer has.
func describeInputChanges(n *Node, prev *PrevRun, actions map[*Node]Action) []string {
	var messages []string
	current := make(map[string]bool, len(n.In))
	for _, in := range n.In {
		current[in.Role] = true
		old, had := prev.InputKeys[in.Role]
		if had && old == in.Node.Key {
			continue
		}
		verb := "changed"
		if !had {
			verb = "added"
		}
		msg := fmt.Sprintf("input %s (%s) %s", in.Role, in.Node.Address, verb)
		if a := actions[in.Node]; a == ActionRun || a == ActionForced {
			msg += " and will run"
		}
		messages = append(messages, msg)
	}

	var removed []string
	for role := range prev.InputKeys {
		if !current[role] {
			removed = append(removed, role)
		}
	}
	slices.Sort(removed)
	for _, role := range removed {
		messages = append(messages, fmt.Sprintf("input %s removed", role))
	}
	return messages
}
