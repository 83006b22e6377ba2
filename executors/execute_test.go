package executors_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/scheduler"
	"github.com/llcflow/llcflow/store"
)

// resumeHCL is an SGLD node of about 1.5 s (2 cores) on an analytic target,
// long enough to be stopped part way.
const resumeHCL = `
target "quadratic" {
  kind        = "quadratic"
  eigenvalues = [1, 1]
}

sampler "sgld" {
  kind       = "sgld"
  target     = target.quadratic
  n_beta     = 100
  gamma      = 10
  step_size  = 1e-3
  warmup     = 100
  steps      = 8000000
  eval_every = 100
  chains     = 1
  init_noise = 0
}
`

// planResume returns the store and the specs of the target and the
// sampler node of resumeHCL.
func planResume(t *testing.T) (*store.Store, *executors.Spec, *executors.Spec) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "resume.hcl")
	if err := os.WriteFile(path, []byte(resumeHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, diags := dsl.Load([]string{path}, dsl.Options{Registry: kinds.Registry{}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	g, err := graph.Build(wf.Defs)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := graph.MakePlan(g, st, graph.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var target, sampler *executors.Spec
	for _, e := range plan.Entries {
		spec := scheduler.Spec(e, st.Root(), 1)
		switch e.Node.Type {
		case "target":
			target = spec
		case "sampler":
			sampler = spec
		}
	}
	if target == nil || sampler == nil {
		t.Fatalf("plan has no target or no sampler node: %v", plan.Entries)
	}
	return st, target, sampler
}

func TestResumedWallSecondsCoverAttempts(t *testing.T) {
	st, target, sampler := planResume(t)
	ctx := context.Background()
	if err := executors.Execute(ctx, target, executors.ExecOptions{Executor: "local"}); err != nil {
		t.Fatal(err)
	}

	// Closing Stop is what exec-node does on SIGUSR1.
	const firstAttempt = 300 * time.Millisecond
	stop := make(chan struct{})
	timer := time.AfterFunc(firstAttempt, func() { close(stop) })
	defer timer.Stop()
	err := executors.Execute(ctx, sampler, executors.ExecOptions{Executor: "slurm", Stop: stop,
		Extra: map[string]any{"slurm_job_id": "1"}})
	if !errors.Is(err, kinds.ErrCheckpointed) {
		t.Fatalf("first attempt: %v, want kinds.ErrCheckpointed (raise steps if the node finished first)", err)
	}
	earlier, err := kinds.CheckpointAttempts(st.CheckpointDir(sampler.RunID), sampler.Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(earlier) != 1 || earlier[0] < firstAttempt.Seconds() {
		t.Fatalf("checkpoint attempt seconds %v, want one attempt of at least %v", earlier, firstAttempt.Seconds())
	}

	// The attempt is timed with the monotonic clock, so it must fit in the
	// span that this test measures around it the same way. The recorded
	// started_at and finished_at are wall-clock times, which a slewed
	// clock moves apart from it (by 5 ms per second on one machine).
	beforeSecond := time.Now()
	if err := executors.Execute(ctx, sampler, executors.ExecOptions{Executor: "slurm",
		Extra: map[string]any{"slurm_job_id": "2"}}); err != nil {
		t.Fatal(err)
	}
	outer := time.Since(beforeSecond).Seconds()
	prov, err := st.ReadProvenance(sampler.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if got := prov.Extra["attempts"]; got != 2.0 {
		t.Errorf("provenance attempts %v, want 2", got)
	}
	if got := prov.Extra["slurm_job_id"]; got != "2" {
		t.Errorf("provenance slurm_job_id %v, want the last attempt's 2", got)
	}
	seconds, ok := prov.Extra["attempt_seconds"].([]any)
	if !ok || len(seconds) != 2 {
		t.Fatalf("provenance attempt_seconds %v, want two values", prov.Extra["attempt_seconds"])
	}
	if seconds[0] != earlier[0] {
		t.Errorf("first attempt %v s in provenance, want the checkpoint's %v s", seconds[0], earlier[0])
	}
	if last := seconds[1].(float64); !(last > 0 && last <= outer) {
		t.Errorf("last attempt %v s, want a positive time within the %v s around the call", last, outer)
	}
	if !prov.FinishedAt.After(prov.StartedAt) {
		t.Errorf("finished_at %v is not after started_at %v", prov.FinishedAt, prov.StartedAt)
	}
	if want := earlier[0] + seconds[1].(float64); math.Abs(prov.WallSeconds-want) > 1e-9 {
		t.Errorf("wall_seconds %v, want the sum of the attempts %v", prov.WallSeconds, want)
	}
	if _, err := os.Stat(st.CheckpointDir(sampler.RunID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint directory left after the commit: %v", err)
	}
}

func TestFreshRunHasNoAttempts(t *testing.T) {
	st, target, _ := planResume(t)
	if err := executors.Execute(context.Background(), target, executors.ExecOptions{Executor: "local"}); err != nil {
		t.Fatal(err)
	}
	prov, err := st.ReadProvenance(target.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := prov.Extra["attempts"]; ok {
		t.Errorf("provenance of a run without a checkpoint has attempts %v", prov.Extra["attempts"])
	}
	if !(prov.WallSeconds > 0) {
		t.Errorf("wall_seconds %v, want a positive time", prov.WallSeconds)
	}
}
