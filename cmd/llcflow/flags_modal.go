package main

import (
	"time"

	"github.com/llcflow/llcflow/executors/modal"
)

// modalFlags are the flags of --backend modal and of pull. A flag that is
// given overrides the same attribute of the `backend "modal"` block; the
// pointer fields stay nil when the flag is absent.
type modalFlags struct {
	ModalApp           *string        `group:"Modal" name:"modal-app" help:"Modal app that owns the sandboxes, created when missing (default: the backend block's, else llc-experiments)."`
	ModalVolume        *string        `group:"Modal" name:"modal-volume" help:"Modal volume mounted at /runs, created when missing (default: the backend block's, else llc-runs)."`
	ModalCPU           *float64       `group:"Modal" name:"modal-cpu" help:"Physical CPU cores requested per node sandbox (0: Modal's default)."`
	ModalMemoryMiB     *int           `group:"Modal" name:"modal-memory-mib" help:"Memory requested per node sandbox, in MiB (0: Modal's default)."`
	ModalTimeout       *time.Duration `group:"Modal" name:"modal-timeout" help:"Lifetime of one attempt at a node, such as 90m (default: 3h); an attempt that runs out is retried."`
	ModalRetries       *int           `group:"Modal" name:"modal-retries" help:"Retries of a node whose sandbox was lost, preempted or timed out (default: 3)."`
	ModalMaxConcurrent *int           `group:"Modal" name:"modal-max-concurrent" help:"Node sandboxes that run at once (0: no bound beyond -j)."`
	ModalEnvironment   *string        `group:"Modal" name:"modal-environment" help:"Modal environment (default: the profile's)."`
	WorkerBinary       *string        `group:"Modal" name:"worker-binary" type:"path" help:"Static linux/amd64 llcflow binary to run in the sandboxes (default: this binary when it is one, else a build of the module in the working directory)."`
}

// options returns the block's options with the given flags on top,
// validated.
func (f *modalFlags) options(block map[string]any) (modal.Options, error) {
	o, err := modal.OptionsFromBlock(block)
	if err != nil {
		return modal.Options{}, err
	}
	setIf(&o.App, f.ModalApp)
	setIf(&o.Volume, f.ModalVolume)
	setIf(&o.CPU, f.ModalCPU)
	setIf(&o.MemoryMiB, f.ModalMemoryMiB)
	setIf(&o.Timeout, f.ModalTimeout)
	setIf(&o.Retries, f.ModalRetries)
	setIf(&o.MaxConcurrent, f.ModalMaxConcurrent)
	setIf(&o.Environment, f.ModalEnvironment)
	setIf(&o.WorkerBinary, f.WorkerBinary)
	if err := o.Validate(); err != nil {
		return modal.Options{}, err
	}
	return o, nil
}
