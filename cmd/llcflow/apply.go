package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/executors/modal"
	"github.com/llcflow/llcflow/executors/slurm"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/scheduler"
	"github.com/llcflow/llcflow/store"
)

type applyCmd struct {
	loadFlags
	planFlags
	Parallelism  int           `short:"j" help:"Nodes run at once (default: the number of CPUs)." default:"0"`
	Threads      int           `help:"Chain goroutines per node (default: CPUs divided by --parallelism, at least 1)." default:"0"`
	Backend      string        `help:"Where nodes run: local, slurm or modal." default:"local" enum:"local,slurm,modal"`
	KeepGoing    bool          `help:"Keep running independent nodes after a failure; dependents of a failed node are skipped."`
	RetryFailed  int           `help:"Retry a node that failed by itself this many times (default: never)." default:"0"`
	InfraRetries int           `help:"Retry a node whose executor lost it (a lost job or sandbox) this many times." default:"3"`
	RetryDelay   time.Duration `help:"Wait before the first retry; it doubles after each one." default:"10s"`
	LockTimeout  time.Duration `help:"How long to wait for another process that is computing the same node." default:"24h"`
	JSON         bool          `name:"json" help:"Print one JSON event per line on standard output instead of log lines."`
	Progress     string        `help:"Progress display: auto (bars when standard output is a terminal), bars or lines." default:"auto" enum:"auto,bars,lines"`

	Slurm slurmFlags `embed:""`
	Modal modalFlags `embed:""`
}

func (a *applyCmd) Help() string {
	return `Plans like 'llcflow plan', then runs every node marked + or ~, each as soon
as its inputs are done, and ends with a table of LLC estimates. Given one
file saved by 'llcflow plan --out', it runs exactly that plan, and rejects it
when the HCL files or the store changed since. Examples:

  llcflow apply examples/quick.hcl
  llcflow apply -j 4 --rerun sampler.sgld examples/quick.hcl
  llcflow plan --out quick.plan examples/quick.hcl && llcflow apply quick.plan

A second apply on the same store waits for the nodes that the first one is
computing (at most --lock-timeout) and computes each node once. A lock left
by a killed process is taken over with a message.

Interrupting (Ctrl-C) cancels the running nodes and removes their temporary
files; completed nodes stay cached, and the next apply finishes the rest.
Exit codes: 0 success, 1 failure (invalid HCL, a stale saved plan, a failed
node or an interruption), 2 usage error.`
}

func (a *applyCmd) Run(c *cli) error {
	restoreGC := relaxGC()
	l, plan, st, storeLock, err := a.planForApply(c)
	restoreGC()
	if err != nil {
		return err
	}
	defer storeLock.Release()
	out, err := newApplyOutput(os.Stdout, os.Stderr, a.JSON, a.Progress)
	if err != nil {
		return err
	}
	out.plan(plan)

	jobs, threads := a.parallelism()
	exec, err := a.executor(l, st, threads, out)
	if err != nil {
		out.close()
		return &exitError{code: exitFailure, err: err}
	}
	if closer, ok := exec.(io.Closer); ok {
		defer closer.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out.start(plan)
	res, runErr := scheduler.Apply(ctx, plan.Entries, scheduler.Options{
		Executor: exec, Store: st.Root(), Parallelism: jobs, Threads: threads,
		KeepGoing: a.KeepGoing, RetryFailed: a.RetryFailed, InfraRetries: a.InfraRetries,
		RetryDelay: a.RetryDelay,
		Events:     out.event,
	})
	out.close()
	stop()

	if err := recordCached(st, res.Cached); err != nil {
		out.logf("warning: could not index every cached run under its address: %v", err)
	}
	out.summary(res, runErr)
	if !a.JSON {
		rows, _ := collectResults(l, st, plan)
		if len(rows) > 0 {
			fmt.Fprintln(os.Stdout)
			printResultsTable(os.Stdout, l, rows)
		}
	}
	if runErr != nil {
		return &exitError{code: exitFailure, err: interruptedError(res)}
	}
	if len(res.Failed) > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}

// planForApply loads the HCL files and plans them, or loads a saved plan
// and checks that it is still current. It returns the store with the
// shared lock that keeps gc out until the apply ends. The lock is taken
// after the files load, so that invalid files leave no store behind, and
// before planning, so that the runs the plan finds cached stay in place.
func (a *applyCmd) planForApply(c *cli) (*loaded, *graph.Plan, *store.Store, *store.StoreLock, error) {
	st, err := c.openStore()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	saved, path, err := a.savedPlan()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if saved != nil {
		l, plan, err := saved.replan(c, st, path, a.JSON)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		lock, err := lockForApply(st, a.LockTimeout)
		return l, plan, st, lock, err
	}

	opts, err := a.planFlags.options()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	l, err := a.load(c, a.JSON)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	lock, err := lockForApply(st, a.LockTimeout)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	plan, _, err := makePlan(l.graph, st, opts)
	if err != nil {
		lock.Release()
		return nil, nil, nil, nil, &exitError{code: exitFailure, err: err}
	}
	return l, plan, st, lock, nil
}

// lockForApply takes the store's shared lock, waiting up to timeout for a
// running gc, which holds it exclusively for seconds.
func lockForApply(st *store.Store, timeout time.Duration) (*store.StoreLock, error) {
	deadline := time.Now().Add(timeout)
	told := false
	for {
		lock, err := st.LockShared()
		if err == nil {
			return lock, nil
		}
		if !errors.Is(err, store.ErrInUse) {
			return nil, &exitError{code: exitFailure, err: err}
		}
		if time.Now().After(deadline) {
			return nil, &exitError{code: exitFailure, err: fmt.Errorf("llcflow gc held the store %s "+
				"for longer than --lock-timeout %s; wait for it to finish and apply again", st.Root(), timeout)}
		}
		if !told {
			fmt.Fprintf(os.Stderr, "llcflow: waiting for llcflow gc to finish with the store %s\n", st.Root())
			told = true
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// savedPlan returns the saved plan when the only path is a plan file,
// after rejecting the flags that a saved plan fixes.
func (a *applyCmd) savedPlan() (*savedPlan, string, error) {
	if len(a.Paths) != 1 {
		return nil, "", nil
	}
	saved, err := readSavedPlan(a.Paths[0])
	if err != nil || saved == nil {
		return nil, "", err
	}
	var fixed []string
	for flag, given := range map[string]bool{
		"--no-skip": a.NoSkip, "--rerun": len(a.Rerun) > 0, "--target": len(a.Target) > 0,
		"--var": len(a.Var) > 0, "--var-file": len(a.VarFile) > 0, "--preset": a.Preset != "",
	} {
		if given {
			fixed = append(fixed, flag)
		}
	}
	if len(fixed) > 0 {
		return nil, "", &exitError{code: exitUsage, err: fmt.Errorf("%s cannot be combined with the saved plan %s, "+
			"which records its own; run llcflow plan --out again with them", joinSorted(fixed), a.Paths[0])}
	}
	return saved, a.Paths[0], nil
}

// parallelism returns the number of nodes in flight and the chain
// goroutines per node.
func (a *applyCmd) parallelism() (jobs, threads int) {
	jobs = a.Parallelism
	switch {
	case jobs > 0:
	case a.Backend == "local":
		jobs = runtime.NumCPU()
	default:
		// Remote nodes use the cluster's CPUs, not this machine's.
		jobs = remoteParallelism
	}
	threads = a.Threads
	if threads <= 0 {
		threads = max(1, runtime.NumCPU()/jobs)
	}
	return jobs, threads
}

// executor returns the executor that --backend names.
func (a *applyCmd) executor(l *loaded, st *store.Store, threads int, out *applyOutput) (executors.Executor, error) {
	local := &executors.Local{Threads: threads, Options: executors.ExecOptions{
		LockTimeout: a.LockTimeout, Notify: out.notice,
	}}
	if a.Backend == "local" {
		return local, nil
	}
	remote, err := a.remoteExecutor(l, st, out)
	if err != nil {
		return nil, err
	}
	// Nodes that read files named in the HCL run here, where those paths
	// are known. Their runs reach the cluster through the shared store, and
	// Modal through the volume uploads of their dependents.
	return &executors.Routed{Remote: remote, Here: local, Local: func(s *executors.Spec) bool {
		return kinds.RunsLocally(s.Type, s.Kind, s.Params)
	}}, nil
}

// remoteExecutor returns the SLURM or Modal executor.
func (a *applyCmd) remoteExecutor(l *loaded, st *store.Store, out *applyOutput) (executors.Executor, error) {
	switch a.Backend {
	case "slurm":
		opts, err := a.Slurm.options(l.workflow.Backends["slurm"])
		if err != nil {
			return nil, err
		}
		return slurm.New(slurm.Config{Store: st.Root(), Options: opts, Logf: out.logf})
	case "modal":
		opts, err := a.Modal.options(l.workflow.Backends["modal"])
		if err != nil {
			return nil, err
		}
		logger := slog.New(slog.NewTextHandler(out.logWriter(), &slog.HandlerOptions{Level: slog.LevelInfo}))
		return modal.New(opts, logger)
	}
	return nil, fmt.Errorf("--backend %s is not available in this build; use --backend local", a.Backend)
}

// remoteParallelism is the default number of nodes in flight on a SLURM
// cluster or on Modal, where nodes do not share this machine's CPUs.
const remoteParallelism = 256

// recordCached indexes every cached node under its current address, so
// that a later plan compares a changed node with this run.
func recordCached(st *store.Store, nodes []*graph.Node) error {
	refs := make([]store.RunRef, len(nodes))
	for i, n := range nodes {
		refs[i] = store.RunRef{Address: n.Address, RunID: n.RunID, Key: n.Key}
	}
	return st.RecordAll(refs)
}

// interruptedError describes what an interrupted apply completed and left.
func interruptedError(res *scheduler.Result) error {
	msg := fmt.Sprintf("interrupted: %s completed and stored", countNoun(len(res.Done), "node", "nodes"))
	if n := len(res.Cancelled); n > 0 {
		msg += fmt.Sprintf("; %s cancelled while running (%s), with temporary files removed",
			countNoun(n, "node", "nodes"), listAddresses(res.Cancelled, 3))
	}
	if n := len(res.NotStarted); n > 0 {
		msg += fmt.Sprintf("; %s did not start", countNoun(n, "node", "nodes"))
	}
	return fmt.Errorf("%s; run apply again to finish", msg)
}

// Validate rejects negative counts and durations before anything runs;
// kong calls it after parsing.
func (a *applyCmd) Validate() error {
	for _, c := range []struct {
		flag  string
		value int64
		zero  string
	}{
		{"--parallelism (-j)", int64(a.Parallelism), "0 for the number of CPUs"},
		{"--threads", int64(a.Threads), "0 for CPUs divided by --parallelism"},
		{"--retry-failed", int64(a.RetryFailed), "0 to never retry"},
		{"--infra-retries", int64(a.InfraRetries), "0 to never retry"},
		{"--retry-delay", int64(a.RetryDelay), "0s to retry at once"},
		{"--lock-timeout", int64(a.LockTimeout), "a duration such as 30m"},
	} {
		if c.value < 0 {
			return fmt.Errorf("%s must not be negative; give a positive value or %s", c.flag, c.zero)
		}
	}
	return nil
}
