// Package scheduler runs the fresh nodes of a plan on an executor, each as
// soon as all its inputs are done, with a bound on how many run at once.
//
// Steps of Apply:
//  1. Report every cached entry (node_cached).
//  2. Count, for each node to run, its inputs that also have to run.
//  3. Start ready nodes (no unfinished inputs) in plan order while fewer
//     than Parallelism run, so no goroutine holds a slot while it waits.
//  4. On completion, release the node's dependents. On failure, stop
//     starting nodes (running ones finish), or with KeepGoing skip only
//     the failed node's transitive dependents.
//
// The scheduler emits events; it never prints.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
)

// Event types, as they appear in `apply --json` output.
const (
	NodeStart    = "node_start"
	NodeProgress = "node_progress"
	NodeDone     = "node_done"
	NodeCached   = "node_cached"
	NodeFailed   = "node_failed"
	NodeSkipped  = "node_skipped"
	NodeRetry    = "node_retry"
)

// Event is one thing that happened to a node.
type Event struct {
	Type    string
	Node    *graph.Node
	Elapsed time.Duration // since Apply started
	// Fraction is the node's progress in [0, 1] (node_progress).
	Fraction float64
	// Message is a status line (node_progress, node_retry), the reason a
	// node was skipped (node_skipped), or why a node that had to run turned
	// out cached (node_cached).
	Message string
	// Err is the failure of a node_failed event, or of the attempt that a
	// node_retry event retries.
	Err error
	// Duration is the node's own wall time (node_done, node_failed).
	Duration time.Duration
	// Attempt is the number of the failed attempt and Delay the wait before
	// the next one (node_retry). Infra is true when the executor lost the
	// node, false when the node itself failed.
	Attempt int
	Delay   time.Duration
	Infra   bool
}

// Options configure Apply.
type Options struct {
	// Executor runs the nodes.
	Executor executors.Executor
	// Store is the absolute path of the store, written into every spec.
	Store string
	// Parallelism bounds the nodes running at once (at least 1).
	Parallelism int
	// Threads bounds the chain goroutines of each node (0: executor's
	// default).
	Threads int
	// KeepGoing lets independent branches continue after a failure.
	KeepGoing bool
	// InfraRetries is how many times a node whose executor failed (an
	// executors.InfraError) is tried again; RetryFailed is the same for
	// failures of the node itself (default 0: never).
	InfraRetries, RetryFailed int
	// RetryDelay is the wait before the first retry; it doubles after
	// each one.
	RetryDelay time.Duration
	// Events receives every event, one at a time.
	Events func(Event)
}

// Result lists what happened to each node that had to run.
type Result struct {
	Done []*graph.Node
	// Cached are the nodes that had a valid run, including those in
	// Elsewhere.
	Cached []*graph.Node
	// Elsewhere are the nodes that another process computed while this
	// apply waited for their lock.
	Elsewhere []*graph.Node
	Failed    []Failure
	Skipped   []*graph.Node
	// Cancelled are the nodes that were running when ctx was cancelled.
	// Their temporary files are gone and they have no run.
	Cancelled []*graph.Node
	// NotStarted are nodes left alone because the apply stopped (first
	// failure without KeepGoing, or cancellation).
	NotStarted []*graph.Node
}

// Failure is a node that failed, with its error.
type Failure struct {
	Node *graph.Node
	Err  error
}

// Spec returns the executor spec of a plan entry.
func Spec(e graph.Entry, storeRoot string, threads int) *executors.Spec {
	n := e.Node
	spec := &executors.Spec{
		FormatVersion: executors.SpecFormatVersion,
		Address:       n.Address, Type: n.Type, Kind: n.Kind, Version: n.Version,
		Key: n.Key, RunID: n.RunID, Params: n.Params, Store: storeRoot,
		Threads: threads, Force: e.Action == graph.ActionForced,
	}
	for _, in := range n.In {
		spec.Inputs = append(spec.Inputs, executors.SpecInput{
			Role: in.Role, Address: in.Node.Address, RunID: in.Node.RunID, Key: in.Node.Key,
		})
	}
	return spec
}

type completion struct {
	index int
	err   error
	took  time.Duration
}

// applyState is the bookkeeping of one Apply: the entries to run (work),
// the graph between them by index, and the state of each.
type applyState struct {
	opts Options
	emit func(Event)
	res  *Result

	work []graph.Entry
	// shared lists, per work index, the other addresses of the same run.
	shared     map[int][]*graph.Node
	remaining  []int   // inputs not yet done, per work index
	dependents [][]int // work indices that read each entry
	state      []nodeState
	ready      []int // pending entries whose inputs are done, ascending
	stopped    bool  // a failure without KeepGoing stopped new starts
}

// Apply runs the entries of a plan whose action is run or forced. It
// returns when every started node has finished. The returned error is ctx's
// error when the apply was cancelled, else nil: node failures are in the
// Result.
func Apply(ctx context.Context, entries []graph.Entry, opts Options) (*Result, error) {
	start := time.Now()
	var emitMu sync.Mutex
	emit := func(ev Event) {
		if opts.Events == nil {
			return
		}
		ev.Elapsed = time.Since(start)
		emitMu.Lock()
		defer emitMu.Unlock()
		opts.Events(ev)
	}
	a := newApplyState(entries, opts, emit)

	limit := max(opts.Parallelism, 1)
	var group errgroup.Group
	group.SetLimit(limit)
	done := make(chan completion, len(a.work))
	running := 0
	for {
		// running counts nodes whose completion is not yet received; the
		// group's own limit only waits for a finished goroutine to return.
		for !a.stopped && ctx.Err() == nil && len(a.ready) > 0 && running < limit {
			i := a.ready[0]
			group.Go(func() error {
				took, err := runWithRetries(ctx, a.work[i], opts, emit)
				done <- completion{index: i, err: err, took: took}
				return nil
			})
			a.ready = a.ready[1:]
			a.state[i] = stateRunning
			running++
		}
		if running == 0 {
			break
		}
		c := <-done
		running--
		a.complete(ctx, c)
	}
	_ = group.Wait()

	for i, s := range a.state {
		if s == statePending {
			a.res.NotStarted = append(a.res.NotStarted, a.work[i].Node)
			a.res.NotStarted = append(a.res.NotStarted, a.shared[i]...)
		}
	}
	return a.res, ctx.Err()
}

// newApplyState reports the cached entries, folds entries that share a run
// into the first of them, and counts for each entry its inputs that also
// have to run.
func newApplyState(entries []graph.Entry, opts Options, emit func(Event)) *applyState {
	a := &applyState{opts: opts, emit: emit, res: &Result{}, shared: map[int][]*graph.Node{}}
	index := make(map[*graph.Node]int)
	for _, e := range entries {
		if e.Action == graph.ActionCached {
			a.res.Cached = append(a.res.Cached, e.Node)
			emit(Event{Type: NodeCached, Node: e.Node})
			continue
		}
		if j, ok := index[e.SameRunAs]; ok && e.SameRunAs != nil {
			index[e.Node] = j
			a.shared[j] = append(a.shared[j], e.Node)
			continue
		}
		index[e.Node] = len(a.work)
		a.work = append(a.work, e)
	}

	a.remaining = make([]int, len(a.work))
	a.dependents = make([][]int, len(a.work))
	a.state = make([]nodeState, len(a.work))
	for i, e := range a.work {
		for _, in := range e.Node.In {
			if j, ok := index[in.Node]; ok {
				a.remaining[i]++
				a.dependents[j] = append(a.dependents[j], i)
			}
		}
	}
	for i := range a.work {
		if a.remaining[i] == 0 {
			a.ready = append(a.ready, i)
		}
	}
	return a
}

// complete records a finished node and releases or skips its dependents.
func (a *applyState) complete(ctx context.Context, c completion) {
	node := a.work[c.index].Node
	switch {
	case c.err == nil || errors.Is(c.err, executors.ErrComputedElsewhere):
		a.state[c.index] = stateDone
		if c.err == nil {
			a.res.Done = append(a.res.Done, node)
			a.emit(Event{Type: NodeDone, Node: node, Duration: c.took})
		} else {
			a.res.Cached = append(a.res.Cached, node)
			a.res.Elsewhere = append(a.res.Elsewhere, node)
			a.emit(Event{Type: NodeCached, Node: node, Duration: c.took,
				Message: "computed by another process while this one waited for its lock"})
		}
		for _, other := range a.shared[c.index] {
			a.res.Cached = append(a.res.Cached, other)
			a.emit(Event{Type: NodeCached, Node: other, Message: "same run as " + node.Address})
		}
		a.release(c.index)
	case ctx.Err() != nil && errors.Is(c.err, ctx.Err()):
		a.state[c.index] = stateCancelled
		a.res.Cancelled = append(a.res.Cancelled, node)
		a.res.NotStarted = append(a.res.NotStarted, a.shared[c.index]...)
	default:
		a.fail(c)
	}
}

// release makes ready the dependents of a done entry whose inputs are all
// done.
func (a *applyState) release(i int) {
	for _, d := range a.dependents[i] {
		a.remaining[d]--
		if a.remaining[d] == 0 && a.state[d] == statePending {
			a.ready = insertSorted(a.ready, d)
		}
	}
}

// fail records a failed entry. Without KeepGoing it stops new starts;
// with it, it skips the entry's transitive dependents.
func (a *applyState) fail(c completion) {
	node := a.work[c.index].Node
	a.state[c.index] = stateFailed
	a.res.Failed = append(a.res.Failed, Failure{Node: node, Err: c.err})
	a.emit(Event{Type: NodeFailed, Node: node, Err: c.err, Duration: c.took})
	for _, other := range a.shared[c.index] {
		a.res.Skipped = append(a.res.Skipped, other)
		a.emit(Event{Type: NodeSkipped, Node: other,
			Message: fmt.Sprintf("same run as %s, which failed", node.Address)})
	}
	if !a.opts.KeepGoing {
		a.stopped = true
		return
	}
	for _, d := range transitiveDependents(c.index, a.dependents) {
		if a.state[d] != statePending {
			continue
		}
		a.state[d] = stateSkipped
		for _, n := range append([]*graph.Node{a.work[d].Node}, a.shared[d]...) {
			a.res.Skipped = append(a.res.Skipped, n)
			a.emit(Event{Type: NodeSkipped, Node: n,
				Message: fmt.Sprintf("input %s failed", node.Address)})
		}
	}
}

type nodeState int

const (
	statePending nodeState = iota
	stateRunning
	stateDone
	stateFailed
	stateSkipped
	stateCancelled
)

func insertSorted(list []int, v int) []int {
	i := sort.SearchInts(list, v)
	list = append(list, 0)
	copy(list[i+1:], list[i:])
	list[i] = v
	return list
}

func transitiveDependents(i int, dependents [][]int) []int {
	seen := map[int]bool{}
	var out []int
	stack := append([]int(nil), dependents[i]...)
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
		stack = append(stack, dependents[d]...)
	}
	sort.Ints(out)
	return out
}

// runWithRetries runs one node, retrying infrastructure failures and, when
// asked, node failures, with a doubling delay.
func runWithRetries(ctx context.Context, e graph.Entry, opts Options, emit func(Event)) (time.Duration, error) {
	spec := Spec(e, opts.Store, opts.Threads)
	emit(Event{Type: NodeStart, Node: e.Node})
	delay := opts.RetryDelay
	infraLeft, nodeLeft := opts.InfraRetries, opts.RetryFailed
	for attempt := 1; ; attempt++ {
		t0 := time.Now()
		err := opts.Executor.Run(ctx, spec, func(ev executors.Event) {
			emit(Event{Type: NodeProgress, Node: e.Node, Fraction: ev.Fraction, Message: ev.Message})
		})
		took := time.Since(t0)
		if err == nil || ctx.Err() != nil || errors.Is(err, executors.ErrComputedElsewhere) {
			return took, err
		}
		var infra *executors.InfraError
		isInfra := errors.As(err, &infra)
		switch {
		case isInfra && infraLeft > 0:
			infraLeft--
		case !isInfra && nodeLeft > 0:
			nodeLeft--
		default:
			return took, err
		}
		kind := "node failure"
		if isInfra {
			kind = "infrastructure failure"
		}
		emit(Event{Type: NodeRetry, Node: e.Node, Err: err, Attempt: attempt, Delay: delay, Infra: isInfra,
			Message: fmt.Sprintf("attempt %d failed (%s: %v); retrying in %s", attempt, kind, err, delay)})
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return took, ctx.Err()
		}
		delay *= 2
	}
}
