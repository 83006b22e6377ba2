package executors

import (
	"context"
)

// Local runs nodes on goroutines of this process.
type Local struct {
	// Threads bounds the chain goroutines of each sampler node, so that
	// parallel nodes times chains do not oversubscribe the CPUs.
	Threads int
	// Options are passed to Execute for every node.
	Options ExecOptions
}

// Name returns "local".
func (l *Local) Name() string { return "local" }

// Run executes the node in this process. It returns an error wrapping
// ErrComputedElsewhere, with the run valid in the store, when another
// process committed the node while Run waited for its lock.
func (l *Local) Run(ctx context.Context, spec *Spec, progress func(Event)) error {
	s := *spec
	if s.Threads == 0 {
		s.Threads = l.Threads
	}
	opts := l.Options
	opts.Executor = "local"
	opts.Progress = progress
	return ExecuteNode(ctx, &s, opts)
}
