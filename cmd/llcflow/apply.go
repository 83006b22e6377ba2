package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/executors/modal"
	"github.com/llcflow/llcflow/executors/slurm"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/scheduler"
	"github.com/llcflow/llcflow/store"
)

type applyCmd struct {
	loadFlags
	planFlags
	Parallelism int           `short:"j" help:"Nodes run at once (default: the number of CPUs)." default:"0"`
	Threads     int           `help:"Chain goroutines per node (default: CPUs divided by --parallelism, at least 1)." default:"0"`
	Backend     string        `help:"Where nodes run: local, slurm or modal." default:"local" enum:"local,slurm,modal"`
	KeepGoing   bool          `help:"Keep running independent nodes after a failure; dependents of a failed node are skipped."`
	RetryFailed int           `help:"Retry a node that failed by itself this many times (infrastructure failures are retried anyway)." default:"0"`
	LockTimeout time.Duration `help:"How long to wait for another process that is computing the same node." default:"24h"`
	JSON        bool          `name:"json" help:"Print one JSON event per line instead of log lines."`

	Slurm slurmFlags `embed:""`
	Modal modalFlags `embed:""`
}

func (a *applyCmd) Help() string {
	return `Plans like 'llcflow plan', then runs every node marked + or ~, each as soon
as its inputs are done, and ends with a table of LLC estimates. Example:

  llcflow apply examples/quick.hcl
  llcflow apply -j 4 --rerun sampler.sgld examples/quick.hcl

Interrupting (Ctrl-C) cancels the running nodes; completed nodes stay cached.
Exit codes: 0 success, 1 failure (invalid HCL or a failed node), 2 usage error.`
}

func (a *applyCmd) Run(c *cli) error {
	opts, err := a.planFlags.options()
	if err != nil {
		return err
	}
	l, err := a.load(c, a.JSON)
	if err != nil {
		return err
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	plan, err := graph.MakePlan(l.graph, st, opts)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	out := newApplyOutput(os.Stdout, os.Stderr, a.JSON)
	out.plan(plan)

	jobs := a.Parallelism
	switch {
	case jobs > 0:
	case a.Backend == "local":
		jobs = runtime.NumCPU()
	default:
		// Remote nodes use the cluster's CPUs, not this machine's.
		jobs = remoteParallelism
	}
	threads := a.Threads
	if threads <= 0 {
		threads = max(1, runtime.NumCPU()/jobs)
	}
	exec, err := a.executor(l, st, threads, out.logf)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if closer, ok := exec.(io.Closer); ok {
		defer closer.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, runErr := scheduler.Apply(ctx, plan.Entries, scheduler.Options{
		Executor: exec, Store: st.Root(), Parallelism: jobs, Threads: threads,
		KeepGoing: a.KeepGoing, RetryFailed: a.RetryFailed,
		RetryDelay: 10 * time.Second,
		Events:     out.event,
	})
	for _, n := range res.Cached {
		if err := st.Record(n.Address, n.RunID, n.Key); err != nil {
			out.logf("warning: could not index %s under %s: %v", n.RunID, n.Address, err)
		}
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
		return &exitError{code: exitFailure, err: fmt.Errorf("interrupted: %d nodes completed, %d cancelled or not started; run apply again to finish", len(res.Done), len(res.NotStarted))}
	}
	if len(res.Failed) > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}

// executor returns the executor that --backend names.
func (a *applyCmd) executor(l *loaded, st *store.Store, threads int, logf func(string, ...any)) (executors.Executor, error) {
	switch a.Backend {
	case "local":
		return &executors.Local{Threads: threads, Options: executors.ExecOptions{LockTimeout: a.LockTimeout}}, nil
	case "slurm":
		opts, err := a.Slurm.options(l.workflow.Backends["slurm"])
		if err != nil {
			return nil, err
		}
		return slurm.New(slurm.Config{Store: st.Root(), Options: opts, Logf: logf})
	case "modal":
		opts, err := a.Modal.options(l.workflow.Backends["modal"])
		if err != nil {
			return nil, err
		}
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
		return modal.New(opts, logger)
	}
	return nil, fmt.Errorf("--backend %s is not available in this build; use --backend local", a.Backend)
}

// remoteParallelism is the default number of nodes in flight on a SLURM
// cluster or on Modal, where nodes do not share this machine's CPUs.
const remoteParallelism = 256

// applyOutput renders scheduler events as log lines or JSON lines.
type applyOutput struct {
	mu      sync.Mutex
	stdout  io.Writer
	stderr  io.Writer
	json    bool
	started time.Time
	lastPct map[string]float64
	lastAt  map[string]time.Time
	startAt map[string]time.Time
}

func newApplyOutput(stdout, stderr io.Writer, asJSON bool) *applyOutput {
	return &applyOutput{stdout: stdout, stderr: stderr, json: asJSON, started: time.Now(),
		lastPct: map[string]float64{}, lastAt: map[string]time.Time{}, startAt: map[string]time.Time{}}
}

func (o *applyOutput) writeJSON(v map[string]any) {
	data, _ := json.Marshal(v)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stdout.Write(append(data, '\n'))
}

func (o *applyOutput) logf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.stderr, "[%6.1fs] %s\n", time.Since(o.started).Seconds(), fmt.Sprintf(format, args...))
}

func (o *applyOutput) plan(p *graph.Plan) {
	if o.json {
		var doc map[string]any
		data, err := p.JSON()
		if err == nil && json.Unmarshal(data, &doc) == nil {
			doc["type"] = "plan"
			doc["elapsed_seconds"] = time.Since(o.started).Seconds()
			o.writeJSON(doc)
		}
		return
	}
	o.mu.Lock()
	printPlan(o.stderr, p)
	o.mu.Unlock()
}

func (o *applyOutput) event(ev scheduler.Event) {
	if ev.Type == scheduler.NodeStart {
		o.mu.Lock()
		o.startAt[ev.Node.RunID] = time.Now()
		o.mu.Unlock()
	}
	if ev.Type == scheduler.NodeProgress && !o.progressDue(ev) {
		return
	}
	if o.json {
		m := map[string]any{"type": ev.Type, "address": ev.Node.Address, "run_id": ev.Node.RunID,
			"elapsed_seconds": ev.Elapsed.Seconds()}
		switch ev.Type {
		case scheduler.NodeProgress:
			m["fraction"] = ev.Fraction
			m["message"] = ev.Message
		case scheduler.NodeDone:
			m["duration_seconds"] = ev.Duration.Seconds()
		case scheduler.NodeFailed:
			m["duration_seconds"] = ev.Duration.Seconds()
			m["error"] = ev.Err.Error()
			if log := failureLog(ev.Err); log != "" {
				m["log"] = log
			}
		case scheduler.NodeSkipped, scheduler.NodeRetry:
			m["message"] = ev.Message
		}
		o.writeJSON(m)
		return
	}
	switch ev.Type {
	case scheduler.NodeStart:
		o.logf("start   %s (run %s)", ev.Node.Address, ev.Node.RunID)
	case scheduler.NodeProgress:
		o.logf("        %s: %3.0f%% %s", ev.Node.Address, 100*ev.Fraction, ev.Message)
	case scheduler.NodeDone:
		o.logf("done    %s in %.1fs", ev.Node.Address, ev.Duration.Seconds())
	case scheduler.NodeFailed:
		msg := fmt.Sprintf("failed  %s: %v", ev.Node.Address, ev.Err)
		if log := failureLog(ev.Err); log != "" {
			msg += "\n        log: " + log
		}
		o.logf("%s", msg)
	case scheduler.NodeSkipped:
		o.logf("skipped %s: %s", ev.Node.Address, ev.Message)
	case scheduler.NodeRetry:
		o.logf("retry   %s: %s", ev.Node.Address, ev.Message)
	}
}

// progressDue limits progress output to nodes that have run for 2 seconds,
// and then to one line per node every 10 % or every 5 seconds.
func (o *applyOutput) progressDue(ev scheduler.Event) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := ev.Node.RunID
	if time.Since(o.startAt[id]) < 2*time.Second {
		return false
	}
	if ev.Fraction-o.lastPct[id] >= 0.1 || time.Since(o.lastAt[id]) >= 5*time.Second {
		o.lastPct[id], o.lastAt[id] = ev.Fraction, time.Now()
		return true
	}
	return false
}

func failureLog(err error) string {
	var ne *executors.NodeError
	if errors.As(err, &ne) {
		return ne.Log
	}
	return ""
}

func (o *applyOutput) summary(res *scheduler.Result, runErr error) {
	if o.json {
		o.writeJSON(map[string]any{"type": "summary", "elapsed_seconds": time.Since(o.started).Seconds(),
			"done": len(res.Done), "cached": len(res.Cached), "failed": len(res.Failed),
			"skipped": len(res.Skipped), "not_started": len(res.NotStarted), "interrupted": runErr != nil})
		return
	}
	parts := []string{fmt.Sprintf("%d done", len(res.Done)), fmt.Sprintf("%d cached", len(res.Cached))}
	if n := len(res.Failed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n))
	}
	if n := len(res.Skipped); n > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", n))
	}
	if n := len(res.NotStarted); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not started", n))
	}
	o.logf("Apply: %s.", strings.Join(parts, ", "))
	for _, f := range res.Failed {
		line := fmt.Sprintf("error: %s: %v", f.Node.Address, f.Err)
		if log := failureLog(f.Err); log != "" {
			line += " (log: " + log + ")"
		}
		o.logf("%s", line)
	}
}
