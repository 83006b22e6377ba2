package slurm

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/scheduler"
	"github.com/llcflow/llcflow/store"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// TestMain raises the default of -parallel from GOMAXPROCS to 8, because
// the cluster tests spend their time waiting for slurmctld rather than
// computing, and removes the llcflow binary that the tests built.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "8")
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildLLCFlow builds the llcflow command once per test process.
func buildLLCFlow(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "llcflow-slurm-test-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "llcflow")
		cmd := exec.Command("go", "build", "-o", builtBin, "github.com/llcflow/llcflow/cmd/llcflow")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build llcflow: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// applyLocal runs `llcflow apply` with the local backend into store.
func applyLocal(t *testing.T, bin, store string, args ...string) {
	t.Helper()
	args = append([]string{"--store", store, "apply"}, args...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("llcflow %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// deterministicFiles returns, for every run in the store, its files other
// than provenance.json and log.txt, which record times and hosts.
func deterministicFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || store.CheckRunID(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(root, e.Name())
		runFiles, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range runFiles {
			if f.Name() == "provenance.json" || f.Name() == "log.txt" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()+"/"+f.Name()] = data
		}
	}
	return files
}

// compareStores checks that two stores hold the same runs with the same
// bytes.
func compareStores(t *testing.T, want, got string) {
	t.Helper()
	wantFiles, gotFiles := deterministicFiles(t, want), deterministicFiles(t, got)
	if len(wantFiles) == 0 {
		t.Fatalf("store %s has no runs", want)
	}
	var names []string
	for name := range wantFiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		g, ok := gotFiles[name]
		if !ok {
			t.Errorf("%s is missing from %s", name, got)
			continue
		}
		if !bytes.Equal(g, wantFiles[name]) {
			t.Errorf("%s differs between %s and %s", name, want, got)
		}
	}
	for name := range gotFiles {
		if _, ok := wantFiles[name]; !ok {
			t.Errorf("%s is in %s but not in %s", name, got, want)
		}
	}
}

// planSweep plans the HCL file with the given variables and target
// patterns against a new store.
func planSweep(t *testing.T, hcl string, vars []string, targets ...string) (*store.Store, *graph.Plan) {
	t.Helper()
	wf, diags := dsl.Load([]string{hcl}, dsl.Options{Vars: vars, Registry: kinds.Registry{}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	g, err := graph.Build(wf.Defs)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "slurm"))
	if err != nil {
		t.Fatal(err)
	}
	var opts graph.PlanOptions
	for _, target := range targets {
		p, err := graph.ParsePattern(target)
		if err != nil {
			t.Fatal(err)
		}
		opts.Targets = append(opts.Targets, p)
	}
	plan, err := graph.MakePlan(g, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st, plan
}

// applySlurm runs the plan through the scheduler with this executor and
// the real llcflow binary, and checks that every node is done.
func applySlurm(t *testing.T, bin string, st *store.Store, plan *graph.Plan, o Options, logs *logSink) {
	t.Helper()
	o.ExtraSBATCH = append(o.ExtraSBATCH, testSBATCH...)
	e, err := New(Config{
		Store: st.Root(), Binary: bin, Options: o, Logf: logs.logf(t),
		PollInterval: 250 * time.Millisecond, PollMax: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancelTestJobs(t, st.Root()) })
	res, err := scheduler.Apply(testContext(t, 150*time.Second), plan.Entries, scheduler.Options{
		Executor: e, Store: st.Root(), Parallelism: 4, Threads: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Failed {
		t.Errorf("%s failed: %v", f.Node.Address, f.Err)
	}
	if len(res.Done) != len(plan.Entries) {
		t.Errorf("%d of %d nodes done", len(res.Done), len(plan.Entries))
	}
}

// TestClusterEndToEnd applies a small sweep with the local backend, then
// runs the same plan on the cluster, and compares run ids and bytes.
func TestClusterEndToEnd(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	bin := buildLLCFlow(t)
	hcl := filepath.Join("testdata", "sweep.hcl")
	local := filepath.Join(t.TempDir(), "local")
	applyLocal(t, bin, local, hcl)

	st, plan := planSweep(t, hcl, nil)
	applySlurm(t, bin, st, plan, Options{TimeoutMin: 5, CPUs: 1}, &logSink{})
	compareStores(t, local, st.Root())

	// The runs record that SLURM ran them.
	for _, entry := range plan.Entries {
		data, err := os.ReadFile(filepath.Join(st.Root(), entry.Node.RunID, "provenance.json"))
		if err != nil {
			t.Fatal(err)
		}
		var prov struct {
			Executor string `json:"executor"`
		}
		if err := json.Unmarshal(data, &prov); err != nil {
			t.Fatal(err)
		}
		if prov.Executor != "slurm" {
			t.Errorf("%s: provenance executor %q, want slurm", entry.Node.Address, prov.Executor)
		}
	}
}

// TestClusterCheckpointEndToEnd runs one SGLD node of several seconds and,
// 2 s after its job starts, sends SIGUSR1 to the batch step the way
// --signal=B:USR1 does (slurmctld sends that one only from a check it
// runs every 30 s, too late for a short test). exec-node saves a
// checkpoint and exits with code 3, the executor resubmits the node, and
// the resumed run must have the bytes of an uninterrupted local run.
func TestClusterCheckpointEndToEnd(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	bin := buildLLCFlow(t)
	hcl := filepath.Join("testdata", "sweep.hcl")
	// 400,000 steps take about 6 s locally on a 2-core AVX-512 machine,
	// so the job is still running when the signal comes 2 s after it
	// started. At 100,000 steps the job ended first.
	vars := []string{"sgld_steps=400000"}
	target := "sampler.sgld[seed=0]"
	local := filepath.Join(t.TempDir(), "local")
	applyLocal(t, bin, local, "--var", vars[0], "--target", target, hcl)

	st, plan := planSweep(t, hcl, vars, target)
	var sampler string
	for _, entry := range plan.Entries {
		if entry.Node.Type == "sampler" {
			sampler = entry.Node.RunID
		}
	}
	signalled := make(chan error, 1)
	go func() {
		signalled <- signalWhenRunning(st.Root(), sampler, 2*time.Second, 80*time.Second)
	}()

	logs := &logSink{}
	applySlurm(t, bin, st, plan, Options{TimeoutMin: 5, CPUs: 1}, logs)
	if err := <-signalled; err != nil {
		t.Fatal(err)
	}
	if !logs.contains("exit code 3 (checkpointed); resubmitting") {
		t.Errorf("the sampler was not checkpointed and resubmitted: %v", logs.lines)
	}
	compareStores(t, local, st.Root())
}

// signalWhenRunning waits until the run's recorded job is RUNNING, waits
// delay more, and sends SIGUSR1 to its batch step.
func signalWhenRunning(store, runID string, delay, timeout time.Duration) error {
	e := &Executor{cfg: Config{Store: store}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		rec, _ := e.readRecord(runID)
		if rec != nil {
			out, _ := exec.Command("squeue", "-h", "-t", "all", "-j", rec.taskID(), "-O", "State:0").Output()
			if strings.TrimSpace(string(out)) == "RUNNING" {
				time.Sleep(delay)
				out, err := exec.Command("scancel", "--batch", "--signal=USR1", rec.taskID()).CombinedOutput()
				if err != nil {
					return fmt.Errorf("scancel --signal=USR1 %s: %v %s", rec.taskID(), err, out)
				}
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("job of run %s not running within %v", runID, timeout)
}

// TestClusterApplyBackend runs `llcflow apply --backend slurm` and
// compares its store with a local apply.
func TestClusterApplyBackend(t *testing.T) {
	requireCluster(t)
	t.Parallel()
	bin := buildLLCFlow(t)
	hcl := filepath.Join("testdata", "sweep.hcl")
	local := filepath.Join(t.TempDir(), "local")
	applyLocal(t, bin, local, hcl)

	remote := filepath.Join(t.TempDir(), "slurm")
	t.Cleanup(func() { cancelTestJobs(t, remote) })
	cmd := exec.Command(bin, "--store", remote, "apply", "--backend", "slurm", "--timeout-min", "5",
		"--sbatch-line="+testSBATCH[0], hcl)
	out, err := cmd.CombinedOutput()
	if err != nil && (strings.Contains(string(out), "not available in this build") ||
		strings.Contains(string(out), "unknown flag --timeout-min")) {
		t.Skip("llcflow apply does not offer --backend slurm with its flags in this build")
	}
	if err != nil {
		t.Fatalf("llcflow apply --backend slurm: %v\n%s", err, out)
	}
	compareStores(t, local, remote)

	// A forced rerun replaces the sampler runs: new provenance, same bytes.
	before := provenanceStarts(t, remote)
	cmd = exec.Command(bin, "--store", remote, "apply", "--backend", "slurm", "--timeout-min", "5",
		"--sbatch-line="+testSBATCH[0], "--rerun", "sampler.sgld", hcl)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("llcflow apply --backend slurm --rerun sampler.sgld: %v\n%s", err, out)
	}
	after := provenanceStarts(t, remote)
	rerun := 0
	for runID, start := range after {
		if start != before[runID] {
			rerun++
		}
	}
	if rerun != 2 {
		t.Errorf("%d runs have a new provenance after --rerun sampler.sgld, want the 2 sampler runs", rerun)
	}
	compareStores(t, local, remote)
}

// provenanceStarts returns the started_at of every run in the store.
func provenanceStarts(t *testing.T, root string) map[string]string {
	t.Helper()
	starts := map[string]string{}
	paths, err := filepath.Glob(filepath.Join(root, "*", "provenance.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var prov struct {
			StartedAt string `json:"started_at"`
		}
		if err := json.Unmarshal(data, &prov); err != nil {
			t.Fatal(err)
		}
		starts[filepath.Base(filepath.Dir(p))] = prov.StartedAt
	}
	return starts
}
