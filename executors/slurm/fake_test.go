package slurm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors"
)

// fakeCluster is a runner that emulates sbatch, sacct, squeue, scancel and
// scontrol in memory, with the output formats recorded in testdata, so the
// executor's decisions can be tested without a cluster.
type fakeCluster struct {
	mu         sync.Mutex
	maxArray   int
	accounting bool
	nextJob    int
	tasks      map[string]*fakeTask // by stateKey
	calls      []fakeCall
	scripts    []string
	// onSubmit runs after each sbatch with the new job id and its tasks.
	onSubmit func(f *fakeCluster, job string, tasks []int)
}

type fakeTask struct {
	state        string
	exit, signal int
	submit, end  time.Time
}

type fakeCall struct {
	name string
	args []string
	at   time.Time
}

func newFakeCluster(maxArray int) *fakeCluster {
	return &fakeCluster{maxArray: maxArray, nextJob: 100, tasks: map[string]*fakeTask{}}
}

var arrayLine = regexp.MustCompile(`(?m)^#SBATCH --array='([^'%]*)`)

func (f *fakeCluster) run(_ context.Context, name string, args ...string) (string, string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{name, args, time.Now()})
	f.mu.Unlock()
	fail := errors.New("exit status 1")

	switch name {
	case "scontrol":
		return fmt.Sprintf("MaxArraySize            = %d\nMinJobAge               = 300 sec\n", f.maxArray), "", nil
	case "sbatch":
		script := args[len(args)-1]
		text, err := os.ReadFile(script)
		if err != nil {
			return "", "sbatch: error: Unable to open file " + script, fail
		}
		tasks := []int{-1}
		if m := arrayLine.FindStringSubmatch(string(text)); m != nil {
			ref, err := parseJobRef("1_[" + m[1] + "]")
			if err != nil {
				return "", err.Error(), fail
			}
			tasks = ref.Tasks
		}
		f.mu.Lock()
		f.nextJob++
		job := fmt.Sprint(f.nextJob)
		f.scripts = append(f.scripts, string(text))
		for _, task := range tasks {
			f.tasks[stateKey(job, task)] = &fakeTask{state: "PENDING", submit: time.Now().Truncate(time.Second)}
		}
		hook := f.onSubmit
		f.mu.Unlock()
		if hook != nil {
			hook(f, job, tasks)
		}
		return job + "\n", "", nil
	case "sacct":
		if !f.accounting {
			return "", "Slurm accounting storage is disabled\n", fail
		}
		return f.rows(args[len(args)-1], true), "", nil
	case "squeue":
		out := f.rows(args[len(args)-1], false)
		if out == "" {
			return "", "slurm_load_jobs error: Invalid job id specified\n", fail
		}
		return out, "", nil
	case "scancel":
		for _, id := range args {
			job, task, _ := strings.Cut(id, "_")
			if task == "" {
				task = "-1"
			}
			f.set(job, mustAtoi(task), "CANCELLED", 0, 15)
		}
		return "", "", nil
	}
	return "", name + ": command not found", fail
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// rows prints the known tasks of the listed jobs as sacct (-P) or squeue
// (-O squeueFormat) would.
func (f *fakeCluster) rows(list string, sacct bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	const layout = "2006-01-02T15:04:05"
	for _, job := range strings.Split(list, ",") {
		for key, t := range f.tasks {
			j, task, _ := strings.Cut(key, "_")
			if j != job {
				continue
			}
			id := job
			if task != "-1" {
				id = job + "_" + task
			}
			end := "Unknown"
			if !t.end.IsZero() {
				end = t.end.Format(layout)
			}
			if sacct {
				fmt.Fprintf(&b, "%s|%s|%d:%d|%s|%s|None\n", id, t.state, t.exit, t.signal, t.submit.Format(layout), end)
			} else {
				fmt.Fprintf(&b, "%s|%s|%d|%s|%s|None\n", id, t.state, t.exit<<8|t.signal, t.submit.Format(layout), end)
			}
		}
	}
	return b.String()
}

// set changes a task's state; a terminal state gets an end time of now.
func (f *fakeCluster) set(job string, task int, state string, exit, signal int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[stateKey(job, task)]
	if !ok {
		t = &fakeTask{submit: time.Now().Truncate(time.Second)}
		f.tasks[stateKey(job, task)] = t
	}
	t.state, t.exit, t.signal = state, exit, signal
	if !activeStates[state] {
		t.end = time.Now()
	}
}

func (f *fakeCluster) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.name == name {
			n++
		}
	}
	return n
}

func newFakeExecutor(t *testing.T, f *fakeCluster, o Options, logs *logSink) *Executor {
	t.Helper()
	if logs == nil {
		logs = &logSink{}
	}
	e, err := New(Config{
		Store: t.TempDir(), Binary: "/opt/llcflow/bin/llcflow", Options: o, Logf: logs.logf(t),
		BatchWindow: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		PollMax: 200 * time.Millisecond, LostAfter: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.run = f
	return e
}

// finishRuns returns an onSubmit hook that completes every task and writes
// its run into the store, as exec-node would.
func finishRuns(e *Executor) func(f *fakeCluster, job string, tasks []int) {
	return func(f *fakeCluster, job string, tasks []int) {
		for _, task := range tasks {
			rec := findRecordByTask(e, job, task)
			if rec != "" {
				os.MkdirAll(filepath.Join(e.cfg.Store, rec), 0o755)
			}
			f.set(job, task, "COMPLETED", 0, 0)
		}
	}
}

// findRecordByTask returns the run id whose spec file is task's case in the
// job's script, read from the batch directory the executor just wrote.
func findRecordByTask(e *Executor, job string, task int) string {
	dirs, _ := filepath.Glob(filepath.Join(e.cfg.Store, "slurm", "*", "job.sbatch"))
	for _, script := range dirs {
		text, _ := os.ReadFile(script)
		idx := task
		if idx < 0 {
			idx = 0
		}
		m := regexp.MustCompile(fmt.Sprintf(`(?m)^%d\) exec .* exec-node --executor=slurm '([^']*)'`, idx)).FindStringSubmatch(string(text))
		if m == nil {
			continue
		}
		runID := strings.TrimSuffix(filepath.Base(m[1]), ".json")
		if _, err := os.Stat(filepath.Join(e.cfg.Store, runID)); err == nil {
			continue // finished by an earlier submission
		}
		return runID
	}
	return ""
}

func TestFakeChunksByMaxArraySize(t *testing.T) {
	f := newFakeCluster(2)
	e := newFakeExecutor(t, f, Options{}, nil)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {}
	var specs []*executors.Spec
	for i := range 5 {
		specs = append(specs, testSpec(t, i))
	}
	// Every task of every job completes and writes its run.
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		go func() {
			time.Sleep(100 * time.Millisecond)
			for _, spec := range specs {
				if rec, _ := e.readRecord(spec.RunID); rec != nil && rec.Job == job {
					os.MkdirAll(filepath.Join(e.cfg.Store, spec.RunID), 0o755)
					f.set(job, rec.Task, "COMPLETED", 0, 0)
				}
			}
		}()
	}
	for i, err := range runAll(testContext(t, 10*time.Second), e, specs) {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if got := f.count("sbatch"); got != 3 {
		t.Errorf("5 nodes with MaxArraySize 2 took %d sbatch calls, want 3", got)
	}
	for _, s := range f.scripts {
		m := arrayLine.FindStringSubmatch(s)
		if m == nil || (m[1] != "0-1" && m[1] != "0") {
			t.Errorf("array line %v, want 0-1 or 0 (at most MaxArraySize tasks, indices below it)", m)
		}
	}
	if got := f.count("scontrol"); got != 1 {
		t.Errorf("scontrol ran %d times, want once", got)
	}
}

func TestFakeArraysDisabled(t *testing.T) {
	f := newFakeCluster(0)
	e := newFakeExecutor(t, f, Options{}, nil)
	f.onSubmit = finishRuns(e)
	specs := []*executors.Spec{testSpec(t, 0), testSpec(t, 1)}
	for i, err := range runAll(testContext(t, 10*time.Second), e, specs) {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if got := f.count("sbatch"); got != 2 {
		t.Errorf("2 nodes without arrays took %d sbatch calls, want 2", got)
	}
	for _, s := range f.scripts {
		if strings.Contains(s, "--array") {
			t.Errorf("script has --array although MaxArraySize is 0:\n%s", s)
		}
	}
	rec, err := e.readRecord(specs[0].RunID)
	if err != nil || rec == nil || rec.Task != -1 {
		t.Errorf("record %+v (%v), want array task -1", rec, err)
	}
}

func TestFakeLostJob(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, task := range tasks {
			delete(f.tasks, stateKey(job, task))
		}
	}
	err := e.Run(testContext(t, 10*time.Second), testSpec(t, 0), nil)
	var infra *executors.InfraError
	if !errors.As(err, &infra) {
		t.Fatalf("Run of a vanished job returned %v, want an InfraError", err)
	}
	if !strings.Contains(err.Error(), "unknown to Slurm") {
		t.Errorf("error does not say the job is unknown: %v", err)
	}
}

func TestFakeRetriesExhausted(t *testing.T) {
	f := newFakeCluster(1001)
	logs := &logSink{}
	e := newFakeExecutor(t, f, Options{MaxRetries: 2}, logs)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.set(job, tasks[0], "NODE_FAIL", 0, 0)
	}
	err := e.Run(testContext(t, 10*time.Second), testSpec(t, 0), nil)
	if err == nil || !strings.Contains(err.Error(), "all 2 retries are used") {
		t.Fatalf("Run returned %v, want an error saying the retries are used", err)
	}
	var infra *executors.InfraError
	if errors.As(err, &infra) {
		t.Errorf("exhausted retries returned as InfraError, which the scheduler would retry again: %v", err)
	}
	if got := f.count("sbatch"); got != 3 {
		t.Errorf("%d submissions, want 3 (1 + max_retries 2)", got)
	}
	if !logs.contains("NODE_FAIL; resubmitting (retry 2 of 2)") {
		t.Errorf("no log line for the second retry: %v", logs.lines)
	}
}

func TestFakeNoRetries(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{MaxRetries: -1}, nil)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.set(job, tasks[0], "PREEMPTED", 0, 0)
	}
	if err := e.Run(testContext(t, 10*time.Second), testSpec(t, 0), nil); err == nil {
		t.Fatal("Run returned nil for a preempted job without retries")
	}
	if got := f.count("sbatch"); got != 1 {
		t.Errorf("%d submissions with max_retries = -1, want 1", got)
	}
}

func TestFakeStaleRecords(t *testing.T) {
	cases := []struct {
		name  string
		known bool // the controller still has the recorded job
	}{
		{"forgotten", false},
		{"ended", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeCluster(1001)
			logs := &logSink{}
			e := newFakeExecutor(t, f, Options{}, logs)
			spec := testSpec(t, 0)
			old := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
			rec := &jobRecord{RunID: spec.RunID, Address: spec.Address, Job: "7", Task: 0,
				Batch: "old", Submitted: old, Log: "/nowhere/7_0.log"}
			if err := e.writeRecord(rec); err != nil {
				t.Fatal(err)
			}
			if c.known {
				f.tasks[stateKey("7", 0)] = &fakeTask{state: "FAILED", exit: 1, submit: old, end: old.Add(time.Minute)}
			}
			f.onSubmit = finishRuns(e)
			if err := e.Run(testContext(t, 10*time.Second), spec, nil); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := f.count("sbatch"); got != 1 {
				t.Errorf("%d submissions, want 1 fresh one", got)
			}
			if !logs.contains("ended before this apply") {
				t.Errorf("no log line about the stale record: %v", logs.lines)
			}
		})
	}
}

// TestFakeRecordedJobCountsAsCached waits for a running job that another
// apply recorded: Run submits nothing and reports the node as computed
// elsewhere once that job's run is in the store.
func TestFakeRecordedJobCountsAsCached(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	spec := testSpec(t, 0)
	rec := &jobRecord{RunID: spec.RunID, Address: spec.Address, Job: "7", Task: 0,
		Batch: "other", Submitted: time.Now().UTC().Truncate(time.Second), Log: "/nowhere/7_0.log"}
	if err := e.writeRecord(rec); err != nil {
		t.Fatal(err)
	}
	f.set("7", 0, "RUNNING", 0, 0)
	go func() {
		time.Sleep(200 * time.Millisecond)
		os.MkdirAll(filepath.Join(e.cfg.Store, spec.RunID), 0o755)
		f.set("7", 0, "COMPLETED", 0, 0)
	}()
	err := e.Run(testContext(t, 10*time.Second), spec, nil)
	if !errors.Is(err, executors.ErrComputedElsewhere) {
		t.Errorf("Run: %v, want executors.ErrComputedElsewhere", err)
	}
	if got := f.count("sbatch"); got != 0 {
		t.Errorf("%d submissions, want none: the recorded job made the run", got)
	}
}

// TestFakeReusedJobID gives the new job the id of an old failed job, as a
// controller whose state was wiped does: the old state must be ignored.
func TestFakeReusedJobID(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	spec := testSpec(t, 0)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		old := time.Now().Add(-24 * time.Hour)
		f.mu.Lock()
		f.tasks[stateKey(job, 0)] = &fakeTask{state: "FAILED", exit: 1, submit: old, end: old}
		f.mu.Unlock()
		go func() {
			time.Sleep(200 * time.Millisecond)
			os.MkdirAll(filepath.Join(e.cfg.Store, spec.RunID), 0o755)
		}()
	}
	if err := e.Run(testContext(t, 10*time.Second), spec, nil); err != nil {
		t.Fatalf("Run took the old job's FAILED state for the new job's: %v", err)
	}
}

func TestFakeSacctWhenAccounting(t *testing.T) {
	f := newFakeCluster(1001)
	f.accounting = true
	e := newFakeExecutor(t, f, Options{}, nil)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.set(job, tasks[0], "OUT_OF_MEMORY", 0, 125)
	}
	err := e.Run(testContext(t, 10*time.Second), testSpec(t, 0), nil)
	if err == nil || !strings.Contains(err.Error(), "ran out of memory: raise mem_gb") {
		t.Errorf("Run returned %v, want an out-of-memory failure", err)
	}
	if got := f.count("sacct"); got == 0 {
		t.Error("sacct was never asked although accounting works")
	}
	if got := f.count("squeue"); got != 0 {
		t.Errorf("squeue ran %d times although sacct knew the job", got)
	}
}

func TestFakeCompletedWithoutRun(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.set(job, tasks[0], "COMPLETED", 0, 0)
	}
	err := e.Run(testContext(t, 10*time.Second), testSpec(t, 0), nil)
	if err == nil || !strings.Contains(err.Error(), "shared with the compute nodes") {
		t.Errorf("Run returned %v, want a failure that asks about the shared filesystem", err)
	}
	var infra *executors.InfraError
	if errors.As(err, &infra) {
		t.Errorf("completed job without a run returned as InfraError: %v", err)
	}
}

// TestFakePollBackoff checks that the wait between queries of a job that
// does not change grows from PollInterval up to PollMax.
func TestFakePollBackoff(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	spec := testSpec(t, 0)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.set(job, tasks[0], "RUNNING", 0, 0)
		go func() {
			time.Sleep(1500 * time.Millisecond)
			os.MkdirAll(filepath.Join(e.cfg.Store, spec.RunID), 0o755)
		}()
	}
	if err := e.Run(testContext(t, 10*time.Second), spec, nil); err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for _, c := range f.calls {
		if c.name == "squeue" {
			at = append(at, c.at)
		}
	}
	if len(at) < 4 {
		t.Fatalf("%d squeue calls in 1.5 s, want at least 4", len(at))
	}
	first, last := at[1].Sub(at[0]), at[len(at)-1].Sub(at[len(at)-2])
	if last < 2*first {
		t.Errorf("wait between queries went from %v to %v, want it to grow", first, last)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap > e.cfg.PollMax+150*time.Millisecond {
			t.Errorf("wait %v between queries exceeds PollMax %v", gap, e.cfg.PollMax)
		}
	}
}

func TestFakeCancelBeforeSubmit(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	e.cfg.BatchWindow = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	if err := e.Run(ctx, testSpec(t, 0), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	time.Sleep(1200 * time.Millisecond)
	if got := f.count("sbatch"); got != 0 {
		t.Errorf("a node cancelled inside the batching window was submitted %d times", got)
	}
}

// TestFakeForcedNodeWaitsForNewRun runs a forced node whose old run is in
// the store: Run must submit it and return only once a new run directory
// has replaced the old one.
func TestFakeForcedNodeWaitsForNewRun(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	spec := testSpec(t, 0)
	old := filepath.Join(e.cfg.Store, spec.RunID)
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(testContext(t, 5*time.Second), spec, nil); !errors.Is(err, executors.ErrComputedElsewhere) {
		t.Fatalf("Run on a run in the store: %v, want executors.ErrComputedElsewhere", err)
	}
	if got := f.count("sbatch"); got != 0 {
		t.Fatalf("a cached node was submitted %d times", got)
	}

	spec.Force = true
	replaced := make(chan time.Time, 1)
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		f.set(job, tasks[0], "RUNNING", 0, 0)
		go func() {
			time.Sleep(300 * time.Millisecond)
			tmp := old + ".new"
			os.MkdirAll(tmp, 0o755)
			os.RemoveAll(old)
			os.Rename(tmp, old)
			replaced <- time.Now()
			f.set(job, tasks[0], "COMPLETED", 0, 0)
		}()
	}
	if err := e.Run(testContext(t, 5*time.Second), spec, nil); err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	if got := f.count("sbatch"); got != 1 {
		t.Errorf("forced node submitted %d times, want 1", got)
	}
	select {
	case at := <-replaced:
		if returned.Before(at) {
			t.Errorf("Run returned at %v, before the run was replaced at %v", returned, at)
		}
	default:
		t.Error("Run returned before the run directory was replaced")
	}
}

func TestFakeSpecFileThreadsAndStore(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{CPUs: 3}, nil)
	f.onSubmit = finishRuns(e)
	spec := testSpec(t, 0)
	spec.Threads = 16 // the submitting host's count, meaningless on a compute node
	spec.Store = "/elsewhere"
	if err := e.Run(testContext(t, 10*time.Second), spec, nil); err != nil {
		t.Fatal(err)
	}

	rec, err := e.readRecord(spec.RunID)
	if err != nil || rec == nil {
		t.Fatalf("job record: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(e.cfg.Store, "slurm", rec.Batch, spec.RunID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var written executors.Spec
	if err := json.Unmarshal(data, &written); err != nil {
		t.Fatal(err)
	}

	if written.Threads != 3 {
		t.Errorf("spec file threads = %d, want cpus = 3", written.Threads)
	}
	if written.Store != e.cfg.Store {
		t.Errorf("spec file store = %q, want the executor's %q", written.Store, e.cfg.Store)
	}
	if written.Key != spec.Key || written.Address != spec.Address {
		t.Errorf("spec file changed key or address: %+v", written)
	}
}

// TestFakeForcedIgnoresFinishedJob forces a node whose recorded job wrote
// the present run but is still listed by SLURM as completing. Waiting for
// that job would wait for a run it never writes, so the executor must
// submit a new job.
func TestFakeForcedIgnoresFinishedJob(t *testing.T) {
	f := newFakeCluster(1001)
	e := newFakeExecutor(t, f, Options{}, nil)
	spec := testSpec(t, 0)
	spec.Force = true
	run := filepath.Join(e.cfg.Store, spec.RunID)
	var lastJob string
	f.onSubmit = func(f *fakeCluster, job string, tasks []int) {
		lastJob = job
		f.set(job, tasks[0], "RUNNING", 0, 0)
		go func() {
			time.Sleep(200 * time.Millisecond)
			tmp := run + ".new"
			os.MkdirAll(tmp, 0o755)
			os.RemoveAll(run)
			os.Rename(tmp, run)
			f.set(job, tasks[0], "COMPLETED", 0, 0)
		}()
	}
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}

	if err := e.Run(testContext(t, 5*time.Second), spec, nil); err != nil {
		t.Fatal(err)
	}

	// SLURM still lists the job that wrote the run.
	f.set(lastJob, 0, "RUNNING", 0, 0)
	if err := e.Run(testContext(t, 5*time.Second), spec, nil); err != nil {
		t.Fatalf("second forced run: %v", err)
	}
	if got := f.count("sbatch"); got != 2 {
		t.Errorf("two forced runs submitted %d jobs, want 2", got)
	}
}

// TestFakeCancelledPendingArray finds the records of two tasks of an
// array that an earlier apply cancelled while it was pending. squeue
// prints such an array as one line without task ids, which must count as
// the end of both tasks. LostAfter is longer than the test's deadline, so
// only that line can end the wait.
func TestFakeCancelledPendingArray(t *testing.T) {
	f := newFakeCluster(1001)
	logs := &logSink{}
	e := newFakeExecutor(t, f, Options{}, logs)
	e.cfg.LostAfter = time.Minute
	specs := []*executors.Spec{testSpec(t, 0), testSpec(t, 1)}
	submitted := time.Now().Add(-10 * time.Second).UTC().Truncate(time.Second)
	for i, spec := range specs {
		rec := &jobRecord{RunID: spec.RunID, Address: spec.Address, Job: "7", Task: i,
			Batch: "earlier", Submitted: submitted, Log: fmt.Sprintf("/nowhere/7_%d.log", i)}
		if err := e.writeRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	f.tasks[stateKey("7", -1)] = &fakeTask{state: "CANCELLED", submit: submitted, end: time.Now().Add(-5 * time.Second)}
	f.onSubmit = finishRuns(e)

	for i, err := range runAll(testContext(t, 5*time.Second), e, specs) {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	if got := f.count("sbatch"); got != 1 {
		t.Errorf("%d submissions, want 1 array for both nodes", got)
	}
	if !logs.contains("7_0 ended before this apply (CANCELLED") || !logs.contains("7_1 ended before this apply (CANCELLED") {
		t.Errorf("no log lines about the cancelled tasks 7_0 and 7_1: %v", logs.lines)
	}
}

// holdScancel is a fake cluster whose scancel succeeds but leaves the jobs
// as they are, so a test decides when Slurm reports them cancelled.
type holdScancel struct{ *fakeCluster }

func (h holdScancel) run(ctx context.Context, name string, args ...string) (string, string, error) {
	if name == "scancel" {
		h.mu.Lock()
		h.calls = append(h.calls, fakeCall{name, args, time.Now()})
		h.mu.Unlock()
		return "", "", nil
	}
	return h.fakeCluster.run(ctx, name, args...)
}

// newFakeExecutorOn returns a second executor on the store of first, as a
// second apply on the same store is.
func newFakeExecutorOn(t *testing.T, first *Executor, r runner, logs *logSink) *Executor {
	t.Helper()
	e, err := New(Config{
		Store: first.cfg.Store, Binary: first.cfg.Binary, Logf: logs.logf(t),
		BatchWindow: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		PollMax: 200 * time.Millisecond, LostAfter: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.run = r
	return e
}

// cancelPending runs specs on e until their jobs are submitted, then
// cancels the context and waits for every Run to return.
func cancelPending(t *testing.T, e *Executor, f *fakeCluster, specs []*executors.Spec) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan []error, 1)
	go func() { errs <- runAll(ctx, e, specs) }()
	waitFor(t, 5*time.Second, "the jobs to be submitted", func() bool {
		for _, spec := range specs {
			if rec, _ := e.readRecord(spec.RunID); rec == nil {
				return false
			}
		}
		return true
	})
	cancel()
	for i, err := range <-errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("node %d: Run after cancel returned %v, want context.Canceled", i, err)
		}
	}
	if got := f.count("scancel"); got != 1 {
		t.Errorf("%d scancel calls, want 1 for both tasks", got)
	}
}

// TestFakeCancelMarksJobs cancels an apply while its array is pending. The
// fake Slurm then lists no line for the tasks, as real Slurm does for a
// task cancelled while pending after other tasks of its array started.
// So only the batch's cancelled file lets a second executor submit both
// nodes again before the test's deadline.
func TestFakeCancelMarksJobs(t *testing.T) {
	f := newFakeCluster(1001)
	first := newFakeExecutor(t, f, Options{}, nil)
	specs := []*executors.Spec{testSpec(t, 0), testSpec(t, 1)}
	cancelPending(t, first, f, specs)

	rec, err := first.readRecord(specs[0].RunID)
	if err != nil || rec == nil {
		t.Fatalf("job record: %v", err)
	}
	data, err := os.ReadFile(first.cancelledPath(rec.Batch))
	if err != nil {
		t.Fatalf("cancelled file of batch %s: %v", rec.Batch, err)
	}
	got := strings.Fields(string(data))
	slices.Sort(got)
	if want := []string{rec.Job + "_0", rec.Job + "_1"}; !slices.Equal(got, want) {
		t.Errorf("cancelled file lists %v, want %v", got, want)
	}

	f.mu.Lock()
	clear(f.tasks)
	f.mu.Unlock()
	logs := &logSink{}
	second := newFakeExecutorOn(t, first, f, logs)
	f.onSubmit = finishRuns(second)
	for i, err := range runAll(testContext(t, 5*time.Second), second, specs) {
		if err != nil {
			t.Errorf("second executor, node %d: %v", i, err)
		}
	}
	if got := f.count("sbatch"); got != 2 {
		t.Errorf("%d submissions, want 2: the cancelled array and one fresh array", got)
	}
	if !logs.contains("was cancelled by the apply that submitted it") {
		t.Errorf("second executor did not log why it submitted again: %v", logs.lines)
	}
}

// TestFakeWaiterResubmitsCancelledJob has a second executor wait for the
// first one's pending job, then cancels the first. The second must submit
// the node itself, not fail it as cancelled outside llcflow.
func TestFakeWaiterResubmitsCancelledJob(t *testing.T) {
	f := newFakeCluster(1001)
	first := newFakeExecutor(t, f, Options{}, nil)
	first.run = holdScancel{f}
	spec := testSpec(t, 0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(ctx, spec, nil) }()
	waitFor(t, 5*time.Second, "the first executor's job record", func() bool {
		rec, _ := first.readRecord(spec.RunID)
		return rec != nil
	})

	logs := &logSink{}
	second := newFakeExecutorOn(t, first, f, logs)
	secondDone := make(chan error, 1)
	go func() { secondDone <- second.Run(testContext(t, 5*time.Second), spec, nil) }()
	waitFor(t, 5*time.Second, "the second executor to find the job", func() bool {
		return logs.contains("waiting for it")
	})
	cancel()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("first executor: %v, want context.Canceled", err)
	}

	// Slurm reports the job cancelled only after its submitter marked it.
	rec, err := first.readRecord(spec.RunID)
	if err != nil || rec == nil {
		t.Fatalf("job record: %v", err)
	}
	f.onSubmit = finishRuns(second)
	f.set(rec.Job, rec.Task, "CANCELLED", 0, 15)
	if err := <-secondDone; err != nil {
		t.Fatalf("second executor: %v", err)
	}
	if got := f.count("sbatch"); got != 2 {
		t.Errorf("%d submissions, want 2", got)
	}
	if !logs.contains(rec.taskID() + " was cancelled by the apply that submitted it; submitting it again") {
		t.Errorf("second executor did not log why it submitted again: %v", logs.lines)
	}
}
