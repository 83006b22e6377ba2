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
	res := &Result{}
	index := make(map[*graph.Node]int)
	var work []graph.Entry
	// shared lists, per work index, the other addresses of the same run.
	shared := map[int][]*graph.Node{}
	for _, e := range entries {
		if e.Action == graph.ActionCached {
			res.Cached = append(res.Cached, e.Node)
			emit(Event{Type: NodeCached, Node: e.Node})
			continue
		}
		if j, ok := index[e.SameRunAs]; ok && e.SameRunAs != nil {
			index[e.Node] = j
			shared[j] = append(shared[j], e.Node)
			continue
		}
		index[e.Node] = len(work)
		work = append(work, e)
	}
	remaining := make([]int, len(work))
	dependents := make([][]int, len(work))
	for i, e := range work {
		for _, in := range e.Node.In {
			if j, ok := index[in.Node]; ok {
				remaining[i]++
				dependents[j] = append(dependents[j], i)
			}
		}
	}
	var ready []int
	for i := range work {
		if remaining[i] == 0 {
			ready = append(ready, i)
		}
	}
	limit := max(opts.Parallelism, 1)
	var group errgroup.Group
	group.SetLimit(limit)
	done := make(chan completion, len(work))
	state := make([]nodeState, len(work))
	running, stopped := 0, false
	for {
		// running counts nodes whose completion is not yet received; the
		// group's own limit only waits for a finished goroutine to return.
		for !stopped && ctx.Err() == nil && len(ready) > 0 && running < limit {
			i := ready[0]
			group.Go(func() error {
				took, err := runWithRetries(ctx, work[i], opts, emit)
				done <- completion{index: i, err: err, took: took}
				return nil
			})
			ready = ready[1:]
			state[i] = stateRunning
			running++
		}
		if running == 0 {
			break
		}
		c := <-done
		running--
		node := work[c.index].Node
		switch {
		case c.err == nil || errors.Is(c.err, executors.ErrComputedElsewhere):
			state[c.index] = stateDone
			if c.err == nil {
				res.Done = append(res.Done, node)
				emit(Event{Type: NodeDone, Node: node, Duration: c.took})
			} else {
				res.Cached = append(res.Cached, node)
				res.Elsewhere = append(res.Elsewhere, node)
				emit(Event{Type: NodeCached, Node: node, Duration: c.took,
					Message: "computed by another process while this one waited for its lock"})
			}
			for _, other := range shared[c.index] {
				res.Cached = append(res.Cached, other)
				emit(Event{Type: NodeCached, Node: other, Message: "same run as " + node.Address})
			}
			for _, d := range dependents[c.index] {
				remaining[d]--
				if remaining[d] == 0 && state[d] == statePending {
					ready = insertSorted(ready, d)
				}
			}
		case ctx.Err() != nil && errors.Is(c.err, ctx.Err()):
			state[c.index] = stateCancelled
			res.Cancelled = append(res.Cancelled, node)
			res.NotStarted = append(res.NotStarted, shared[c.index]...)
		default:
			state[c.index] = stateFailed
			res.Failed = append(res.Failed, Failure{Node: node, Err: c.err})
			emit(Event{Type: NodeFailed, Node: node, Err: c.err, Duration: c.took})
			for _, other := range shared[c.index] {
				res.Skipped = append(res.Skipped, other)
				emit(Event{Type: NodeSkipped, Node: other,
					Message: fmt.Sprintf("same run as %s, which failed", node.Address)})
			}
			if !opts.KeepGoing {
				stopped = true
				continue
			}
			for _, d := range transitiveDependents(c.index, dependents) {
				if state[d] == statePending {
					state[d] = stateSkipped
					for _, n := range append([]*graph.Node{work[d].Node}, shared[d]...) {
						res.Skipped = append(res.Skipped, n)
						emit(Event{Type: NodeSkipped, Node: n,
							Message: fmt.Sprintf("input %s failed", node.Address)})
					}
				}
			}
		}
	}
	_ = group.Wait()
	for i, s := range state {
		if s == statePending {
			res.NotStarted = append(res.NotStarted, work[i].Node)
			res.NotStarted = append(res.NotStarted, shared[i]...)
		}
	}
	return res, ctx.Err()
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
