package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
// keep(i) true, without running its kind: a result.json and a manifest
// that lists it, through a store transaction, and records it in the index.
func fakeRuns(b *testing.B, st *store.Store, g *graph.Graph, keep func(i int) bool) {
	b.Helper()
	for i, n := range g.Nodes {
		if !keep(i) {
			continue
		}
		var inputs []store.ManifestInput
		for _, in := range n.In {
			inputs = append(inputs, store.ManifestInput{Role: in.Role, RunID: in.Node.RunID, Key: in.Node.Key})
		}
		txn, err := st.Begin(context.Background(), store.Begin{Key: n.Key, RunID: n.RunID,
			Address: n.Address, Type: n.Type, Kind: n.Kind, Version: n.Version, Params: n.Params,
			Inputs: inputs})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(txn.Dir(), "result.json"), []byte(`{"llc_mean": 1}`), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := txn.Commit(store.Provenance{Executor: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanSweep loads, builds and plans sweeps of 1,000, 10,000 and
// 100,000 nodes against a real store, as llcflow plan does, and reports the
// heap in use after planning. In the empty store every node is new. In the
// other, every tenth node has a run, so the planner also reads those
// manifests and the index. Run it with
// go test ./cmd/llcflow -run '^$' -bench PlanSweep -benchtime 3x.
func BenchmarkPlanSweep(b *testing.B) {
	for _, seeds := range []int{100, 1000, 10000} {
		for _, cached := range []bool{false, true} {
			name := fmt.Sprintf("nodes=%d/store=empty", 10*seeds)
			if cached {
				name = fmt.Sprintf("nodes=%d/store=tenth-cached", 10*seeds)
			}
			b.Run(name, func(b *testing.B) { benchPlan(b, seeds, cached) })
		}
	}
}

func benchPlan(b *testing.B, seeds int, cached bool) {
	dir := b.TempDir()
	path := writeSweep(b, dir, seeds)
	c := &cli{Store: filepath.Join(dir, "runs"), NoColor: true}
	lf := loadFlags{Paths: []string{path}}
	st, err := store.Open(c.Store)
	if err != nil {
		b.Fatal(err)
	}
	if cached {
		l, err := lf.load(c, false)
		if err != nil {
			b.Fatal(err)
		}
		fakeRuns(b, st, l.graph, func(i int) bool { return i%10 == 0 })
	}

	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		restore := relaxGC() // as llcflow plan does
		l, err := lf.load(c, false)
		if err != nil {
			b.Fatal(err)
		}
		fresh, err := store.Open(c.Store)
		if err != nil {
			b.Fatal(err)
		}
		plan, err := graph.MakePlan(l.graph, fresh, graph.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if got := len(plan.Entries); got != 10*seeds {
			b.Fatalf("plan has %d entries, want %d", got, 10*seeds)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		restore()
	}
	b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
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
		plan, err := graph.MakePlan(l.graph, st, graph.PlanOptions{})
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
