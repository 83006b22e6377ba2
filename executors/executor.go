package executors

import (
	"context"
)

// SpecFormatVersion is the version of the node spec file format.
const SpecFormatVersion = "1"

// Spec is everything a worker needs to run one node: it is written as JSON
// to a spec file that `llcflow exec-node SPEC` reads on the worker.
type Spec struct {
	FormatVersion string         `json:"format_version"`
	Address       string         `json:"address"`
	Type          string         `json:"type"`
	Kind          string         `json:"kind"`
	Version       string         `json:"version"`
	Key           string         `json:"key"`
	RunID         string         `json:"run_id"`
	Params        map[string]any `json:"params"`
	Inputs        []SpecInput    `json:"inputs"`
	// Store is the absolute path of the store on the worker.
	Store string `json:"store"`
	// Threads bounds the chain goroutines of a sampler node (0: one per
	// CPU of the worker).
	Threads int `json:"threads,omitempty"`
	// Force recomputes the node even when a valid run exists (--no-skip,
	// --rerun) and replaces that run.
	Force bool `json:"force,omitempty"`
}

// SpecInput is one input of a node: its role and the run it reads.
type SpecInput struct {
	Role    string `json:"role"`
	Address string `json:"address"`
	RunID   string `json:"run_id"`
	Key     string `json:"key"`
}

// Event is a progress report from a running node.
type Event struct {
	RunID string
	// Fraction is the share of the node's work done, in [0, 1].
	Fraction float64
	// Message is a short status line, such as "chain 2: 400/1200 steps".
	Message string
}

// Executor runs nodes somewhere: in this process, as SLURM jobs, or in
// Modal sandboxes.
//
// The scheduler calls Run from one goroutine per node, only after every
// input of the node has a valid run in the store, and never twice
// concurrently for the same run id within one apply. Run returns nil only
// when a validated run directory for spec.RunID exists in the store.
// Cancelling ctx stops the node and removes its temporary files; Run then
// returns ctx's error. Errors wrapped in *InfraError are transient failures
// of the executor (a lost job, a preempted sandbox) that the caller may
// retry; every other error is a failure of the node itself.
type Executor interface {
	Name() string
	Run(ctx context.Context, spec *Spec, progress func(Event)) error
}

// InfraError marks a failure of the infrastructure rather than the node.
type InfraError struct {
	Err error
}

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }
