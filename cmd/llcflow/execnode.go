package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/kinds"
)

// exitCheckpointed is exec-node's exit code after a sampler node saved a
// checkpoint on SIGUSR1; the executor resubmits the node, which resumes.
const exitCheckpointed = 3

type execNodeCmd struct {
	Spec     string `arg:"" help:"Node spec file (JSON) written by the planner." type:"existingfile"`
	Executor string `help:"Executor name recorded in the run's provenance." default:"local"`
}

func (e *execNodeCmd) Help() string {
	return `Runs one node into the store named in the spec, as SLURM jobs and Modal
sandboxes do. SIGUSR1 makes a sampler node save a checkpoint and exit with 3;
running the same spec again resumes from it. SIGINT and SIGTERM cancel the node
and remove its temporary files.

Exit codes: 0 the run is in the store, 1 the node failed (its error is in
STORE/failed/RUN_ID/error.json), 2 usage error, 3 checkpointed.`
}

func (e *execNodeCmd) Run(c *cli) error {
	data, err := os.ReadFile(e.Spec)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	var spec executors.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("parse spec %s: %w", e.Spec, err)}
	}
	if spec.FormatVersion != executors.SpecFormatVersion {
		return &exitError{code: exitFailure, err: fmt.Errorf("spec %s has format version %q; this llcflow reads %q", e.Spec, spec.FormatVersion, executors.SpecFormatVersion)}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stop := make(chan struct{})
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		if _, ok := <-usr1; ok {
			close(stop)
		}
	}()
	defer signal.Stop(usr1)
	err = executors.Execute(ctx, &spec, executors.ExecOptions{Executor: e.Executor, Stop: stop, Extra: schedulerProvenance()})
	switch {
	case err == nil:
		fmt.Fprintf(os.Stderr, "llcflow: %s done (run %s)\n", spec.Address, spec.RunID)
		return nil
	case errors.Is(err, kinds.ErrCheckpointed):
		fmt.Fprintf(os.Stderr, "llcflow: %s saved a checkpoint; run the same spec again to resume\n", spec.Address)
		return &exitError{code: exitCheckpointed}
	}
	return &exitError{code: exitFailure, err: err}
}

// slurmProvenance lists the SLURM job variables recorded in a run's
// provenance, so `llcflow show` can name the job and the node it ran on.
var slurmProvenance = []string{
	"SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
	"SLURM_JOB_PARTITION", "SLURMD_NODENAME", "SLURM_RESTART_COUNT",
}

// schedulerProvenance returns the batch scheduler's description of this
// process, or nil outside a SLURM job.
func schedulerProvenance() map[string]any {
	extra := map[string]any{}
	for _, name := range slurmProvenance {
		if v, ok := os.LookupEnv(name); ok {
			extra[strings.ToLower(name)] = v
		}
	}
	if len(extra) == 0 {
		return nil
	}
	return extra
}
