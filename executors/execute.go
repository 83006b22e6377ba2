package executors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/store"
)

// Version is the llcflow version recorded in every run's provenance. The
// command line sets it from the build.
var Version = "dev"

// ExecOptions tune Execute.
type ExecOptions struct {
	// Executor names where the node runs, for provenance: "local",
	// "slurm", "modal".
	Executor string
	// Extra is free-form provenance, such as the SLURM job id.
	Extra map[string]any
	// LockTimeout bounds the wait for another process that holds the
	// node's lock (0: the store's default).
	LockTimeout time.Duration
	// Progress receives the node's progress reports.
	Progress func(Event)
	// Stop, when closed, asks a sampler node to checkpoint and return
	// kinds.ErrCheckpointed.
	Stop <-chan struct{}
	// Notify, when not nil, receives sentences about the node's lock: that
	// Execute waits for another process that holds it, or took over one
	// that a killed process left.
	Notify func(address, runID, message string)
}

// ErrComputedElsewhere is returned, wrapped, by ExecuteNode and by the
// Local executor when another process committed the node while this one
// waited for its lock. The run is then valid in the store.
var ErrComputedElsewhere = errors.New("another process computed the node while this one waited for its lock")

// NodeError is a failure of the node itself (its code or its numbers), as
// opposed to a failure of the executor. Log is the path of the node's log.
type NodeError struct {
	Address string
	RunID   string
	Stage   string
	Log     string
	Err     error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("%s (run %s): %v", e.Address, e.RunID, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// Execute runs one node in this process and leaves a validated run
// directory in the store. It is what `llcflow exec-node` runs on a remote
// worker. It returns nil as well when another process computed the node
// while this one waited for its lock.
func Execute(ctx context.Context, spec *Spec, opts ExecOptions) error {
	err := ExecuteNode(ctx, spec, opts)
	if errors.Is(err, ErrComputedElsewhere) {
		return nil
	}
	return err
}

// ExecuteNode is Execute, except that it returns an error wrapping
// ErrComputedElsewhere when another process committed the node while this
// one waited for its lock.
//
// Steps:
//  1. Check that this binary implements the spec's kind version.
//  2. Open the store at spec.Store and check that every input has a valid
//     run.
//  3. Take the node's lock.
//  4. Run the kind into a temporary directory.
//  5. Commit the run, or record the failure.
func ExecuteNode(ctx context.Context, spec *Spec, opts ExecOptions) error {
	kind, ok := kinds.Lookup(spec.Type, spec.Kind)
	if !ok || kind.Run == nil {
		return fmt.Errorf("this llcflow binary has no %s kind %q; rebuild it from the same source as the planner", spec.Type, spec.Kind)
	}
	if kind.Version != spec.Version {
		return fmt.Errorf("this llcflow binary implements %s, but the node was planned with %s; run the same llcflow build on the planner and the workers", kind.Version, spec.Version)
	}
	st, err := store.Open(spec.Store)
	if err != nil {
		return err
	}
	inputs := make(map[string]string, len(spec.Inputs))
	var manifestInputs []store.ManifestInput
	for _, in := range spec.Inputs {
		status, detail, err := st.Status(in.RunID, in.Key)
		if err != nil {
			return fmt.Errorf("check input %s (%s): %w", in.Address, in.RunID, err)
		}
		if status != graph.Valid {
			if detail == "" {
				detail = "it has no run there; it may have been removed by llcflow gc or by hand"
			}
			return fmt.Errorf("input %s (run %s) has no valid run in the store %s (%s): %s; "+
				"apply again to recompute it", in.Address, in.RunID, st.Root(), status, detail)
		}
		inputs[in.Role] = st.RunDir(in.RunID)
		manifestInputs = append(manifestInputs, store.ManifestInput{Role: in.Role, RunID: in.RunID, Key: in.Key})
	}
	txn, err := st.Begin(ctx, store.Begin{
		Key: spec.Key, RunID: spec.RunID, Address: spec.Address,
		Type: spec.Type, Kind: spec.Kind, Version: spec.Version,
		Params: spec.Params, Inputs: manifestInputs,
		LockTimeout: opts.LockTimeout, Force: spec.Force, Notify: notifier(spec, opts.Notify),
	})
	if errors.Is(err, store.ErrCached) {
		return fmt.Errorf("%s (run %s): %w", spec.Address, spec.RunID, ErrComputedElsewhere)
	}
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	prov := store.Provenance{
		Address: spec.Address, Executor: opts.Executor, Host: host, PID: os.Getpid(),
		LLCFlowVersion: Version, GoVersion: runtime.Version(), Extra: opts.Extra,
	}
	// A node resumed from a checkpoint adds the wall time of the attempts
	// that saved it, so that efficiency per second covers the whole run.
	// An unreadable checkpoint is ignored here because the kind fails on
	// it with the same error, which is then recorded as the node's.
	earlier, _ := kinds.CheckpointAttempts(st.CheckpointDir(spec.RunID), spec.Key)
	start := time.Now()
	prov.StartedAt = start
	rc := &kinds.RunContext{
		Key: spec.Key, RunID: spec.RunID, Address: spec.Address,
		Params: spec.Params, Inputs: inputs, RunDir: st.RunDir,
		Dir: txn.Dir(), Log: txn.Log(), Threads: spec.Threads,
		Stop: opts.Stop, CheckpointDir: st.CheckpointDir(spec.RunID),
	}
	if opts.Progress != nil {
		rc.Progress = func(fraction float64, message string) {
			opts.Progress(Event{RunID: spec.RunID, Fraction: fraction, Message: message})
		}
	}
	fmt.Fprintf(rc.Log, "llcflow %s: %s (run %s, %s) on %s, started %s\n",
		Version, spec.Address, spec.RunID, spec.Version, host, start.UTC().Format(time.RFC3339))
	runErr := kind.Run(ctx, rc)
	prov.FinishedAt = time.Now()
	attempt := prov.FinishedAt.Sub(start).Seconds()
	prov.WallSeconds = attempt
	if len(earlier) > 0 {
		prov.Extra = withAttempts(opts.Extra, earlier, attempt)
		for _, seconds := range earlier {
			prov.WallSeconds += seconds
		}
	}
	switch {
	case runErr == nil:
		if err := txn.Commit(prov); err != nil {
			return &NodeError{Address: spec.Address, RunID: spec.RunID, Stage: "commit", Err: err}
		}
		// A checkpoint is only needed until the run is committed.
		_ = os.RemoveAll(rc.CheckpointDir)
		return nil
	case ctx.Err() != nil:
		_ = txn.Abort()
		return ctx.Err()
	case errors.Is(runErr, kinds.ErrCheckpointed):
		_ = txn.Abort()
		if err := kinds.AddCheckpointAttempt(rc.CheckpointDir, spec.Key, attempt); err != nil {
			return fmt.Errorf("%w (and recording the attempt's wall time failed: %v)", runErr, err)
		}
		return runErr
	default:
		fmt.Fprintf(rc.Log, "error: %v\n", runErr)
		logPath := ""
		if ferr := txn.Fail(spec.Type, runErr, prov); ferr != nil {
			runErr = fmt.Errorf("%w (and recording the failure failed: %v)", runErr, ferr)
		} else {
			logPath = st.FailureLog(spec.RunID)
		}
		return &NodeError{Address: spec.Address, RunID: spec.RunID, Stage: spec.Type, Log: logPath, Err: runErr}
	}
}

// withAttempts returns a copy of extra with "attempts", the number of
// attempts of a node resumed from a checkpoint, and "attempt_seconds",
// the wall seconds of each, oldest first and the last one included.
func withAttempts(extra map[string]any, earlier []float64, last float64) map[string]any {
	out := make(map[string]any, len(extra)+2)
	for k, v := range extra {
		out[k] = v
	}
	seconds := append(append([]float64{}, earlier...), last)
	out["attempts"] = len(seconds)
	out["attempt_seconds"] = seconds
	return out
}

// notifier adapts ExecOptions.Notify to the store's callback.
func notifier(spec *Spec, notify func(address, runID, message string)) func(string) {
	if notify == nil {
		return nil
	}
	return func(message string) { notify(spec.Address, spec.RunID, message) }
}
