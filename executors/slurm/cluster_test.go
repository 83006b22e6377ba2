package slurm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors"
)

// requireCluster skips the test unless a cluster is reachable through
// SLURM_CONF, and fails it instead when LLCFLOW_REQUIRE_SLURM=1.
func requireCluster(t *testing.T) {
	t.Helper()
	var missing string
	if _, err := exec.LookPath("sbatch"); err != nil {
		missing = "sbatch is not on PATH"
	} else if os.Getenv("SLURM_CONF") == "" {
		missing = "SLURM_CONF is not set"
	}
	if missing == "" {
		return
	}
	msg := missing + `: start a one-node cluster with eval "$(.ci/slurm-up.sh DIR)"`
	if os.Getenv("LLCFLOW_REQUIRE_SLURM") == "1" {
		t.Fatal(msg + " (LLCFLOW_REQUIRE_SLURM=1 turns this skip into a failure)")
	}
	t.Skip(msg)
}

// standIn is a store, a stand-in for the llcflow binary and the folder of
// per-run behaviour files that the stand-in sources.
type standIn struct {
	store, binary, behaveDir string
}

// standInScript is a stand-in for `llcflow exec-node SPEC`. It appends its
// job id to BEHAVE/<run_id>.attempts, sources BEHAVE/<run_id>.sh when it
// exists, and then writes the run the way exec-node does: into a temporary
// directory renamed into place.
const standInScript = `#!/bin/bash
set -eu
[ "$1" = exec-node ] && [ "$2" = --executor=slurm ] && [ $# = 3 ] ||
	{ echo "stand-in: want exec-node --executor=slurm SPEC, got $*" >&2; exit 2; }
spec=$3
run_id=$(sed -n 's/^  "run_id": "\(.*\)",\{0,1\}$/\1/p' "$spec")
store=$(sed -n 's/^  "store": "\(.*\)",\{0,1\}$/\1/p' "$spec")
echo "stand-in: run $run_id, job ${SLURM_JOB_ID:-none}, task ${SLURM_ARRAY_TASK_ID:-none}"
echo "${SLURM_JOB_ID:-none}" >> "BEHAVE/$run_id.attempts"
if [ -f "BEHAVE/$run_id.sh" ]; then . "BEHAVE/$run_id.sh"; fi
tmp="$store/.tmp-$run_id"
mkdir -p "$tmp"
echo "result of $run_id" > "$tmp/result.txt"
mv "$tmp" "$store/$run_id"
`

func newStandIn(t *testing.T) *standIn {
	t.Helper()
	dir := t.TempDir()
	s := &standIn{
		store:     filepath.Join(dir, "store"),
		binary:    filepath.Join(dir, "llcflow-stand-in"),
		behaveDir: filepath.Join(dir, "behave"),
	}
	for _, d := range []string{s.store, s.behaveDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.ReplaceAll(standInScript, "BEHAVE", s.behaveDir)
	if err := os.WriteFile(s.binary, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancelTestJobs(t, s.store) })
	return s
}

// setBehaviour sets the shell lines that the stand-in runs for spec's node.
func (s *standIn) setBehaviour(t *testing.T, spec *executors.Spec, lines string) {
	t.Helper()
	path := filepath.Join(s.behaveDir, spec.RunID+".sh")
	if err := os.WriteFile(path, []byte(lines+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// attempts returns the job ids that ran spec's node, in order.
func (s *standIn) attempts(spec *executors.Spec) []string {
	data, err := os.ReadFile(filepath.Join(s.behaveDir, spec.RunID+".attempts"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data))
}

// cancelTestJobs cancels every job recorded in the store, so that no job
// of a finished test keeps a CPU of the cluster.
func cancelTestJobs(t *testing.T, store string) {
	paths, _ := filepath.Glob(filepath.Join(store, "slurm", "jobs", "*.json"))
	var ids []string
	for _, p := range paths {
		e := &Executor{cfg: Config{Store: store}}
		rec, err := e.readRecord(strings.TrimSuffix(filepath.Base(p), ".json"))
		if err == nil && rec != nil {
			ids = append(ids, rec.taskID())
		}
	}
	if len(ids) > 0 {
		if out, err := exec.Command("scancel", ids...).CombinedOutput(); err != nil {
			t.Logf("cleanup: scancel %v: %v %s", ids, err, out)
		}
	}
}

// testSpec returns a node spec whose run id is unique to the test.
func testSpec(t *testing.T, i int) *executors.Spec {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", t.Name(), i, time.Now().UnixNano())))
	key := hex.EncodeToString(sum[:])
	return &executors.Spec{
		FormatVersion: executors.SpecFormatVersion,
		Address:       fmt.Sprintf("sampler.test[i=%d]", i),
		Type:          "sampler", Kind: "test", Version: "test/1",
		Key: key, RunID: key[:16], Params: map[string]any{"i": float64(i)},
	}
}

// logSink collects the executor's log lines for checks.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(t *testing.T) func(string, ...any) {
	return func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		t.Log(line)
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
	}
}

func (l *logSink) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// testSBATCH are the extra sbatch options of every test job. The test
// cluster lets jobs that ask for it share a core, so that test jobs that
// sleep until Slurm ends them do not hold back the other tests.
var testSBATCH = []string{"--oversubscribe"}

func newClusterExecutor(t *testing.T, s *standIn, o Options, logs *logSink) *Executor {
	t.Helper()
	if logs == nil {
		logs = &logSink{}
	}
	o.ExtraSBATCH = append(o.ExtraSBATCH, testSBATCH...)
	e, err := New(Config{
		Store: s.store, Binary: s.binary, Options: o, Logf: logs.logf(t),
		PollInterval: 250 * time.Millisecond, PollMax: time.Second, LostAfter: 15 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 100 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// squeueState returns the state of one task as squeue prints it, or "".
func squeueState(t *testing.T, id string) string {
	out, err := exec.Command("squeue", "-h", "-t", "all", "-j", id, "-O", "State:0").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out2first(string(out)))
}

func out2first(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// runAll calls Run for every spec at once and returns the errors in order.
func runAll(ctx context.Context, e *Executor, specs []*executors.Spec) []error {
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.Run(ctx, spec, nil)
		}()
	}
	wg.Wait()
	return errs
}

func TestClusterArray(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	e := newClusterExecutor(t, s, Options{TimeoutMin: 5}, nil)
	specs := []*executors.Spec{testSpec(t, 0), testSpec(t, 1), testSpec(t, 2)}

	for i, err := range runAll(testContext(t, 120*time.Second), e, specs) {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	jobs := map[string]bool{}
	for i, spec := range specs {
		if !e.hasResult(spec.RunID) {
			t.Errorf("node %d: no run directory in the store", i)
		}
		rec, err := e.readRecord(spec.RunID)
		if err != nil || rec == nil {
			t.Fatalf("node %d: job record: %v", i, err)
		}
		jobs[rec.Job] = true
		if !fileExists(rec.Log) {
			t.Errorf("node %d: log %s missing", i, rec.Log)
		}
		if got := len(s.attempts(spec)); got != 1 {
			t.Errorf("node %d ran %d times, want 1", i, got)
		}
	}
	if len(jobs) != 1 {
		t.Errorf("the 3 nodes went into %d jobs %v, want one job array", len(jobs), jobs)
	}
	// A second Run of a finished node submits nothing and reports the run
	// as computed elsewhere, that is cached.
	if err := e.Run(testContext(t, 10*time.Second), specs[0], nil); !errors.Is(err, executors.ErrComputedElsewhere) {
		t.Errorf("second Run: %v, want executors.ErrComputedElsewhere", err)
	}
	if got := len(s.attempts(specs[0])); got != 1 {
		t.Errorf("node 0 ran %d times after a second Run, want 1", got)
	}
}

func TestClusterFailureLogTail(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	e := newClusterExecutor(t, s, Options{TimeoutMin: 5}, nil)
	spec := testSpec(t, 0)
	s.setBehaviour(t, spec, `for i in $(seq 1 30); do echo "progress line $i"; done
echo "boom: chain 2 produced NaN" >&2
exit 1`)

	err := e.Run(testContext(t, 120*time.Second), spec, nil)
	if err == nil {
		t.Fatal("Run of a failing node returned nil")
	}
	var infra *executors.InfraError
	if errors.As(err, &infra) {
		t.Errorf("node failure returned as InfraError: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"boom: chain 2 produced NaN", "progress line 30", "exit code 1", "/logs/"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "progress line 5\n") {
		t.Errorf("error has more than the last 20 lines of the log:\n%s", msg)
	}
	if got := len(s.attempts(spec)); got != 1 {
		t.Errorf("failing node ran %d times, want 1 (no retry)", got)
	}
}

// TestClusterTimeoutResubmits lowers the time limit of the running job to
// zero, as an administrator can, so that slurmctld ends it with TIMEOUT
// within its 30 s time-limit check. With LLCFLOW_LONG=1 the job instead
// runs into its real one-minute limit.
func TestClusterTimeoutResubmits(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	long := os.Getenv("LLCFLOW_LONG") == "1"
	s := newStandIn(t)
	logs := &logSink{}
	e := newClusterExecutor(t, s, Options{TimeoutMin: 1, SignalSeconds: -1}, logs)
	if !long {
		e.cfg.Options.TimeoutMin = 5
	}
	spec := testSpec(t, 0)
	attempts := filepath.Join(s.behaveDir, spec.RunID+".attempts")
	s.setBehaviour(t, spec, `if [ "$(wc -l < `+shellQuote(attempts)+`)" -lt 2 ]; then sleep 600; fi`)

	done := make(chan error, 1)
	go func() { done <- e.Run(testContext(t, 150*time.Second), spec, nil) }()
	if !long {
		waitFor(t, 100*time.Second, "the first attempt to start", func() bool { return len(s.attempts(spec)) == 1 })
		rec, err := e.readRecord(spec.RunID)
		if err != nil || rec == nil {
			t.Fatalf("job record: %v", err)
		}
		out, err := exec.Command("scontrol", "update", "JobId="+rec.taskID(), "TimeLimit=0").CombinedOutput()
		if err != nil {
			t.Fatalf("scontrol update %s TimeLimit=0: %v %s", rec.taskID(), err, out)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := s.attempts(spec); len(got) != 2 || got[0] == got[1] {
		t.Errorf("attempts in jobs %v, want two different jobs", got)
	}
	if !logs.contains("TIMEOUT; resubmitting (retry 1 of 3)") {
		t.Errorf("no log line about the resubmission after TIMEOUT: %v", logs.lines)
	}
}

// TestClusterCheckpointResubmits has the stand-in save a "checkpoint" on
// SIGUSR1 and exit with code 3, as exec-node does, 100 s before a 3 min
// time limit: the executor submits a fresh attempt, which finishes. Slurm
// may send the signal up to 60 s earlier than requested (sbatch(1),
// --signal), so the limit leaves 20 s for the stand-in to install its trap.
// With a 1 min limit the signal sometimes came before the trap and killed
// the job.
func TestClusterCheckpointResubmits(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	logs := &logSink{}
	e := newClusterExecutor(t, s, Options{TimeoutMin: 3, SignalSeconds: 100}, logs)
	spec := testSpec(t, 0)
	ckpt := filepath.Join(s.behaveDir, spec.RunID+".checkpoint")
	s.setBehaviour(t, spec, `if [ ! -f `+shellQuote(ckpt)+` ]; then
	trap 'echo "USR1: saving checkpoint"; touch `+shellQuote(ckpt)+`; exit 3' USR1
	sleep 600 & wait
fi`)

	if err := e.Run(testContext(t, 240*time.Second), spec, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !fileExists(ckpt) {
		t.Error("the first attempt did not receive SIGUSR1")
	}
	if got := len(s.attempts(spec)); got != 2 {
		t.Errorf("node ran %d times, want 2", got)
	}
	if !logs.contains("exit code 3 (checkpointed); resubmitting (retry 1 of 3)") {
		t.Errorf("no log line about the resubmission after the checkpoint: %v", logs.lines)
	}
}

func TestClusterScancelOutside(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	e := newClusterExecutor(t, s, Options{TimeoutMin: 5}, nil)
	spec := testSpec(t, 0)
	s.setBehaviour(t, spec, "sleep 600")

	done := make(chan error, 1)
	go func() { done <- e.Run(testContext(t, 120*time.Second), spec, nil) }()
	waitFor(t, 100*time.Second, "the job to start", func() bool { return len(s.attempts(spec)) == 1 })
	rec, err := e.readRecord(spec.RunID)
	if err != nil || rec == nil {
		t.Fatalf("job record: %v", err)
	}
	if out, err := exec.Command("scancel", rec.taskID()).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s: %v %s", rec.taskID(), err, out)
	}
	err = <-done
	if err == nil {
		t.Fatal("Run returned nil after the job was cancelled")
	}
	if !strings.Contains(err.Error(), "cancelled outside llcflow") {
		t.Errorf("error does not say the job was cancelled: %v", err)
	}
	if got := len(s.attempts(spec)); got != 1 {
		t.Errorf("cancelled node ran %d times, want 1 (no retry)", got)
	}
}

func TestClusterContextCancelScancels(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	logs := &logSink{}
	e := newClusterExecutor(t, s, Options{TimeoutMin: 5}, logs)
	spec := testSpec(t, 0)
	s.setBehaviour(t, spec, "sleep 600")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, spec, nil) }()
	waitFor(t, 100*time.Second, "the job to start", func() bool { return len(s.attempts(spec)) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel returned %v, want context.Canceled", err)
	}
	rec, err := e.readRecord(spec.RunID)
	if err != nil || rec == nil {
		t.Fatalf("job record: %v", err)
	}
	waitFor(t, 20*time.Second, "squeue to show the job cancelled", func() bool {
		return squeueState(t, rec.taskID()) == "CANCELLED"
	})
	if !logs.contains("cancelled jobs [" + rec.taskID() + "]") {
		t.Errorf("no log line about the cancellation: %v", logs.lines)
	}
}

// TestClusterArrayThrottle runs 3 nodes with array_parallelism = 1 on a
// node with at least 2 CPUs and checks that their run times do not
// overlap.
func TestClusterArrayThrottle(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	e := newClusterExecutor(t, s, Options{TimeoutMin: 5, ArrayParallelism: 1}, nil)
	var specs []*executors.Spec
	for i := range 3 {
		spec := testSpec(t, i)
		times := filepath.Join(s.behaveDir, spec.RunID+".times")
		s.setBehaviour(t, spec, `date +%s.%N >> `+shellQuote(times)+`; sleep 1; date +%s.%N >> `+shellQuote(times))
		specs = append(specs, spec)
	}
	for i, err := range runAll(testContext(t, 120*time.Second), e, specs) {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}

	type span struct{ start, end float64 }
	var spans []span
	for _, spec := range specs {
		data, err := os.ReadFile(filepath.Join(s.behaveDir, spec.RunID+".times"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(data))
		if len(f) != 2 {
			t.Fatalf("times of %s: %q, want start and end", spec.RunID, data)
		}
		a, _ := strconv.ParseFloat(f[0], 64)
		b, _ := strconv.ParseFloat(f[1], 64)
		spans = append(spans, span{a, b})
	}
	for i := range spans {
		for j := i + 1; j < len(spans); j++ {
			if spans[i].start < spans[j].end && spans[j].start < spans[i].end {
				t.Errorf("tasks %d and %d ran at the same time: %v and %v", i, j, spans[i], spans[j])
			}
		}
	}
	rec, _ := e.readRecord(specs[0].RunID)
	script, err := os.ReadFile(filepath.Join(s.store, "slurm", rec.Batch, "job.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "#SBATCH --array='0-2%1'") {
		t.Errorf("script has no --array='0-2%%1' line:\n%s", script)
	}
}

func TestClusterSecondExecutorWaits(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	s := newStandIn(t)
	first := newClusterExecutor(t, s, Options{TimeoutMin: 5}, nil)
	logs := &logSink{}
	second := newClusterExecutor(t, s, Options{TimeoutMin: 5}, logs)
	spec := testSpec(t, 0)
	s.setBehaviour(t, spec, "sleep 4")

	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(testContext(t, 120*time.Second), spec, nil) }()
	waitFor(t, 100*time.Second, "the job to start", func() bool { return len(s.attempts(spec)) == 1 })
	if e := second.hasResult(spec.RunID); e {
		t.Fatal("the run finished before the second executor started: lengthen the sleep")
	}

	// The second executor only waited for the first one's job, so the
	// node counts as cached for it.
	if err := second.Run(testContext(t, 120*time.Second), spec, nil); !errors.Is(err, executors.ErrComputedElsewhere) {
		t.Errorf("second executor: %v, want executors.ErrComputedElsewhere", err)
	}
	if err := <-firstDone; err != nil {
		t.Errorf("first executor: %v", err)
	}
	if got := len(s.attempts(spec)); got != 1 {
		t.Errorf("node ran %d times, want 1: the second executor submitted it again", got)
	}
	if !logs.contains("waiting for it") {
		t.Errorf("the second executor did not log that it found the job: %v", logs.lines)
	}
}

// TestClusterInjection submits hostile option values to the real cluster:
// an account is accepted by a cluster without accounting, so its job runs,
// and a partition is rejected by sbatch. Neither may create the marker.
func TestClusterInjection(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	for i, field := range []string{"account", "partition"} {
		s := newStandIn(t)
		marker := filepath.Join(s.behaveDir, "MARKER")
		value := "x'$(touch " + marker + ")`touch " + marker + "`;touch " + marker
		o := Options{TimeoutMin: 5}
		if field == "account" {
			o.Account = value
		} else {
			o.Partition = value
		}
		e := newClusterExecutor(t, s, o, nil)
		err := e.Run(testContext(t, 120*time.Second), testSpec(t, i), nil)
		if field == "account" && err != nil {
			t.Errorf("account %q: %v", value, err)
		}
		if field == "partition" && (err == nil || !strings.Contains(err.Error(), "invalid partition")) {
			t.Errorf("partition %q: got %v, want sbatch's invalid partition error", value, err)
		}
		if fileExists(marker) {
			t.Errorf("%s %q ran a command: %s exists", field, value, marker)
		}
	}
}

// resubmitBound bounds the time a second executor takes to submit a node
// again whose recorded job was cancelled while pending. The second
// executor uses the default LostAfter of 2 min, so a pass within this
// bound cannot come from the lost-job timer. The path under test takes one
// state query, one batching window (200 ms) and one sbatch call, which the
// bound leaves 30 s for on a controller loaded by the other cluster tests.
const resubmitBound = 30 * time.Second

// TestClusterCancelledPendingArray submits a held array of two nodes and
// cancels its tasks while they are pending, either by cancelling the
// submitting Run's context or with an outside scancel of both task ids.
// squeue then prints the array as one line without task ids, and only the
// first case leaves the batch's cancelled file. A second executor must
// submit both nodes again within resubmitBound and run them once.
func TestClusterCancelledPendingArray(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	cases := []struct {
		name    string
		outside bool // scancel by the test, as an apply that stopped before marking its jobs
		log     string
	}{
		{"by submitter", false, "was cancelled by the apply that submitted it"},
		{"outside", true, "ended before this apply (CANCELLED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStandIn(t)
			first := newClusterExecutor(t, s, Options{TimeoutMin: 5, ExtraSBATCH: []string{"--hold"}}, nil)
			specs := []*executors.Spec{testSpec(t, 0), testSpec(t, 1)}
			job := cancelHeldArray(t, first, specs, c.outside)

			logs := &logSink{}
			second := newClusterExecutor(t, s, Options{TimeoutMin: 5}, logs)
			second.cfg.LostAfter = DefaultLostAfter
			started := time.Now()
			errs := make(chan []error, 1)
			go func() { errs <- runAll(testContext(t, 150*time.Second), second, specs) }()
			waitFor(t, resubmitBound, "the second executor to submit both nodes again", func() bool {
				for _, spec := range specs {
					if rec, _ := second.readRecord(spec.RunID); rec == nil || rec.Job == job {
						return false
					}
				}
				return true
			})
			t.Logf("second executor submitted both nodes again after %v", time.Since(started).Round(time.Millisecond))

			for i, err := range <-errs {
				if err != nil {
					t.Errorf("second executor, node %d: %v", i, err)
				}
			}
			for i, spec := range specs {
				if got := len(s.attempts(spec)); got != 1 {
					t.Errorf("node %d ran %d times, want 1 (the held job never ran)", i, got)
				}
			}
			if !logs.contains(c.log) {
				t.Errorf("second executor did not log %q: %v", c.log, logs.lines)
			}
		})
	}
}

// cancelHeldArray runs specs on e, whose jobs are held, until their array
// is pending, cancels it and returns its job id once every Run has
// returned and Slurm reports the array cancelled.
func cancelHeldArray(t *testing.T, e *Executor, specs []*executors.Spec, outside bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan []error, 1)
	go func() { errs <- runAll(ctx, e, specs) }()
	var job string
	waitFor(t, 60*time.Second, "both nodes to be submitted as one array", func() bool {
		a, _ := e.readRecord(specs[0].RunID)
		b, _ := e.readRecord(specs[1].RunID)
		if a == nil || b == nil || a.Job != b.Job {
			return false
		}
		job = a.Job
		return true
	})
	if got := squeueState(t, job); got != "PENDING" {
		t.Fatalf("held array %s is %q, want PENDING", job, got)
	}

	if outside {
		ids := []string{job + "_0", job + "_1"}
		if out, err := exec.Command("scancel", ids...).CombinedOutput(); err != nil {
			t.Fatalf("scancel %v: %v %s", ids, err, out)
		}
	} else {
		cancel()
	}
	for i, err := range <-errs {
		switch {
		case outside && (err == nil || !strings.Contains(err.Error(), "cancelled outside llcflow")):
			t.Errorf("first executor, node %d: %v, want a cancelled-outside failure", i, err)
		case !outside && !errors.Is(err, context.Canceled):
			t.Errorf("first executor, node %d: %v, want context.Canceled", i, err)
		}
	}
	waitFor(t, 20*time.Second, "squeue to show the array cancelled, without task ids", func() bool {
		out, err := exec.Command("squeue", "-h", "-t", "all", "-j", job, "-O", "JobArrayID:0|,State:0").Output()
		return err == nil && strings.TrimSpace(string(out)) == job+"|CANCELLED"
	})
	// Slurm prints whole seconds, so a job counts as ended before a Run
	// only when its end time is at least a second earlier.
	time.Sleep(2 * time.Second)
	return job
}
