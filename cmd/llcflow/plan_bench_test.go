package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/scheduler"
	"github.com/llcflow/llcflow/store"
)

// sweepHCL returns a workflow of 10 nodes per seed: a teacher-student
// dataset, an erm and 8 SGLD samplers with different step sizes.
func sweepHCL(seeds int) string {
	var b strings.Builder
	b.WriteString("sweep {\n  seed = [")
	for i := 0; i < seeds; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, i)
	}
	b.WriteString(`]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = 300
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
  noise   = { scale = 0.1 }
  seed    = sweep.seed
}

model "student" {
  kind       = "mlp"
  widths     = [3, 6, 1]
  activation = "tanh"
}

erm "fit" {
  dataset = dataset.teacher
  model   = model.student
  steps   = 300
}
`)
	for k := 0; k < 8; k++ {
		fmt.Fprintf(&b, `
sampler "sgld%d" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = %g
  batch_size = 64
  warmup     = 100
  steps      = 400
  chains     = 2
}
`, k, 1e-4*float64(k+1))
	}
	return b.String()
}

// writeSweep writes sweepHCL(seeds) into dir and returns its path.
func writeSweep(b *testing.B, dir string, seeds int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("sweep%d.hcl", seeds))
	if err := os.WriteFile(path, []byte(sweepHCL(seeds)), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// fakeRuns writes a valid run for every node of g whose index i has
// keep(i) true, without running its kind: a result.json, the manifest that
// lists it, provenance.json and an index line, as Txn.Commit writes them
// but without fsync, so that a store of 100,000 runs takes seconds to set
// up. TestFakeRunsAreValid checks that the store accepts them.
func fakeRuns(tb testing.TB, st *store.Store, g *graph.Graph, keep func(i int) bool) {
	tb.Helper()
	result := []byte(`{"llc_mean": 1}`)
	sum := sha256.Sum256(result)
	var index bytes.Buffer
	now := time.Now().UTC()
	for i, n := range g.Nodes {
		if !keep(i) {
			continue
		}
		m := store.Manifest{FormatVersion: store.ManifestFormatVersion, Key: n.Key, RunID: n.RunID,
			Type: n.Type, Kind: n.Kind, Version: n.Version, Params: n.Params,
			Inputs: []store.ManifestInput{},
			Files:  []store.ManifestFile{{Name: "result.json", Size: int64(len(result)), SHA256: hex.EncodeToString(sum[:])}}}
		for _, in := range n.In {
			m.Inputs = append(m.Inputs, store.ManifestInput{Role: in.Role, RunID: in.Node.RunID, Key: in.Node.Key})
		}
		manifest, err := json.MarshalIndent(&m, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		provenance, err := json.Marshal(store.Provenance{Address: n.Address, Executor: "bench",
			StartedAt: now, FinishedAt: now})
		if err != nil {
			tb.Fatal(err)
		}
		dir := st.RunDir(n.RunID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		for name, data := range map[string][]byte{"result.json": result,
			"manifest.json": append(manifest, '\n'), "provenance.json": provenance} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
		line, _ := json.Marshal(struct {
			Address string    `json:"address"`
			RunID   string    `json:"run_id"`
			Key     string    `json:"key"`
			Time    time.Time `json:"time"`
		}{n.Address, n.RunID, n.Key, now})
		index.Write(append(line, '\n'))
	}
	f, err := os.OpenFile(filepath.Join(st.Root(), "index.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(index.Bytes()); err != nil {
		tb.Fatal(err)
	}
}

// TestFakeRunsAreValid checks the benchmark's shortcut against the store:
// every fake run is valid, verifies, and is the latest run of its address.
func TestFakeRunsAreValid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sweep.hcl")
	if err := os.WriteFile(path, []byte(sweepHCL(2)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cli{Store: filepath.Join(dir, "runs"), NoColor: true}
	l, err := (&loadFlags{Paths: []string{path}}).load(c, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(c.Store)
	if err != nil {
		t.Fatal(err)
	}
	fakeRuns(t, st, l.graph, func(int) bool { return true })
	for _, n := range l.graph.Nodes {
		if status, detail, err := st.Status(n.RunID, n.Key); err != nil || status != graph.Valid {
			t.Errorf("%s: status %s (%s), %v; want valid", n.Address, status, detail, err)
		}
		if err := st.Verify(n.RunID); err != nil {
			t.Errorf("%s: %v", n.Address, err)
		}
		if prev, ok, err := st.Latest(n.Address); err != nil || !ok || prev.Key != n.Key {
			t.Errorf("%s: Latest = %v, %v, %v; want this run", n.Address, prev, ok, err)
		}
	}
}

// BenchmarkPlanSweep loads, builds and plans sweeps of 1,000, 10,000 and
// 100,000 nodes against a real store, as llcflow plan does, and reports the
// heap in use after planning. In the empty store every node is new. In the
// others, every tenth node or every node has a run, so the planner also
// reads those manifests, and the index when some node must run. Run it with
// go test ./cmd/llcflow -run '^$' -bench PlanSweep -benchtime 3x.
func BenchmarkPlanSweep(b *testing.B) {
	for _, seeds := range []int{100, 1000, 10000} {
		for _, every := range []int{0, 10, 1} {
			name := fmt.Sprintf("nodes=%d/store=", 10*seeds)
			switch every {
			case 0:
				name += "empty"
			case 1:
				name += "all-cached"
			default:
				name += "tenth-cached"
			}
			b.Run(name, func(b *testing.B) { benchPlan(b, seeds, every) })
		}
	}
}

// benchPlan plans sweepHCL(seeds) with a run in the store for every
// every-th node, none when every is 0.
func benchPlan(b *testing.B, seeds, every int) {
	dir := b.TempDir()
	path := writeSweep(b, dir, seeds)
	c := &cli{Store: filepath.Join(dir, "runs"), NoColor: true}
	lf := loadFlags{Paths: []string{path}}
	st, err := store.Open(c.Store)
	if err != nil {
		b.Fatal(err)
	}
	if every > 0 {
		l, err := lf.load(c, false)
		if err != nil {
			b.Fatal(err)
		}
		fakeRuns(b, st, l.graph, func(i int) bool { return i%every == 0 })
		// Writing back the new files would otherwise take CPU and disk
		// time from the timed plans.
		syscall.Sync()
	}

	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	var loading, planning time.Duration
	for i := 0; i < b.N; i++ {
		restore := relaxGC() // as llcflow plan does
		start := time.Now()
		l, err := lf.load(c, false)
		if err != nil {
			b.Fatal(err)
		}
		loaded := time.Now()
		fresh, err := store.Open(c.Store)
		if err != nil {
			b.Fatal(err)
		}
		plan, _, err := makePlan(l.graph, fresh, graph.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		loading += loaded.Sub(start)
		planning += time.Since(loaded)
		if got := len(plan.Entries); got != 10*seeds {
			b.Fatalf("plan has %d entries, want %d", got, 10*seeds)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		restore()
	}
	b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
	b.ReportMetric(loading.Seconds()/float64(b.N), "load-s/op")
	b.ReportMetric(planning.Seconds()/float64(b.N), "plan-s/op")
}

// BenchmarkCachedApply5000 applies a sweep of 5,000 nodes whose runs are
// all in the store, as a second llcflow apply does: load, plan, report
// every node cached, index the runs under their addresses and read the
// sampler results for the table. Run it with
// go test ./cmd/llcflow -run '^$' -bench CachedApply -benchtime 5x.
func BenchmarkCachedApply5000(b *testing.B) {
	dir := b.TempDir()
	path := writeSweep(b, dir, 500)
	c := &cli{Store: filepath.Join(dir, "runs"), NoColor: true}
	lf := loadFlags{Paths: []string{path}}
	st, err := store.Open(c.Store)
	if err != nil {
		b.Fatal(err)
	}
	l, err := lf.load(c, false)
	if err != nil {
		b.Fatal(err)
	}
	fakeRuns(b, st, l.graph, func(int) bool { return true })
	syscall.Sync()

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		restore := relaxGC() // as llcflow apply does while it plans
		l, err := lf.load(c, false)
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(c.Store)
		if err != nil {
			b.Fatal(err)
		}
		plan, _, err := makePlan(l.graph, st, graph.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		restore()
		if plan.Summary.Cached != 5000 {
			b.Fatalf("summary %+v, want 5000 cached", plan.Summary)
		}
		res, err := scheduler.Apply(context.Background(), plan.Entries, scheduler.Options{
			Executor: &executors.Local{}, Store: st.Root(), Parallelism: 2,
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := recordCached(st, res.Cached); err != nil {
			b.Fatal(err)
		}
		rows, _ := collectResults(l, st, plan)
		if len(rows) != 4000 {
			b.Fatalf("%d result rows, want 4000", len(rows))
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/apply")
	}
}

// TestWriteSweepStore writes sweepHCL(10000) and a store in which every node
// has a run into the directory named by LLCFLOW_SWEEP_STORE, for timing the
// built binary with llcflow plan --summary --store DIR/runs
// DIR/sweep10000.hcl. It is skipped when the variable is unset.
func TestWriteSweepStore(t *testing.T) {
	dir := os.Getenv("LLCFLOW_SWEEP_STORE")
	if dir == "" {
		t.Skip("set LLCFLOW_SWEEP_STORE to a directory to write the store of 100,000 runs")
	}
	const seeds = 10000
	path := filepath.Join(dir, fmt.Sprintf("sweep%d.hcl", seeds))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(sweepHCL(seeds)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &cli{Store: filepath.Join(dir, "runs"), NoColor: true}
	l, err := (&loadFlags{Paths: []string{path}}).load(c, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(c.Store)
	if err != nil {
		t.Fatal(err)
	}
	fakeRuns(t, st, l.graph, func(int) bool { return true })
}

// BenchmarkPlanSweepStore plans the sweep and store that TestWriteSweepStore
// wrote into LLCFLOW_SWEEP_STORE, without setting them up again, so that a
// profile shows planning alone:
// go test ./cmd/llcflow -run '^$' -bench PlanSweepStore -cpuprofile cpu.out.
func BenchmarkPlanSweepStore(b *testing.B) {
	dir := os.Getenv("LLCFLOW_SWEEP_STORE")
	if dir == "" {
		b.Skip("set LLCFLOW_SWEEP_STORE to the directory that TestWriteSweepStore wrote")
	}
	c := &cli{Store: filepath.Join(dir, "runs"), NoColor: true}
	lf := loadFlags{Paths: []string{filepath.Join(dir, "sweep10000.hcl")}}
	b.ReportAllocs()
	var loading, planning time.Duration
	for i := 0; i < b.N; i++ {
		restore := relaxGC()
		start := time.Now()
		l, err := lf.load(c, false)
		if err != nil {
			b.Fatal(err)
		}
		loaded := time.Now()
		st, err := store.Open(c.Store)
		if err != nil {
			b.Fatal(err)
		}
		plan, _, err := makePlan(l.graph, st, graph.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		loading += loaded.Sub(start)
		planning += time.Since(loaded)
		if plan.Summary.Cached != len(l.graph.Nodes) {
			b.Fatalf("summary %+v, want all %d nodes cached", plan.Summary, len(l.graph.Nodes))
		}
		restore()
	}
	b.ReportMetric(loading.Seconds()/float64(b.N), "load-s/op")
	b.ReportMetric(planning.Seconds()/float64(b.N), "plan-s/op")
}
