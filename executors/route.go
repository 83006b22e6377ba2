package executors

import "context"

// Routed sends each node either to a remote executor or to one in this
// process, as Local decides. Nodes that depend on this process, such as
// file datasets whose paths only the planning process has, run here, and
// the rest go to SLURM or Modal.
type Routed struct {
	Remote Executor
	Here   Executor
	// Local reports whether a node must run in this process.
	Local func(spec *Spec) bool
}

// Name returns the remote executor's name.
func (r *Routed) Name() string { return r.Remote.Name() }

// Run runs the node on Here when Local returns true, else on Remote.
func (r *Routed) Run(ctx context.Context, spec *Spec, progress func(Event)) error {
	if r.Local != nil && r.Local(spec) {
		return r.Here.Run(ctx, spec, progress)
	}
	return r.Remote.Run(ctx, spec, progress)
}

// Close closes the remote executor when it has a Close method.
func (r *Routed) Close() error {
	if c, ok := r.Remote.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
