package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
)

// fakeExecutor records the order of runs and fails the addresses in fail.
type fakeExecutor struct {
	mu       sync.Mutex
	order    []string
	fail     map[string]error
	attempts map[string]int
	running  atomic.Int32
	maxSeen  atomic.Int32
	delay    time.Duration
	finished map[string]bool
}

func newFake() *fakeExecutor {
	return &fakeExecutor{fail: map[string]error{}, attempts: map[string]int{}, finished: map[string]bool{}}
}

func (f *fakeExecutor) Name() string { return "fake" }

func (f *fakeExecutor) Run(ctx context.Context, spec *executors.Spec, progress func(executors.Event)) error {
	f.mu.Lock()
	for _, in := range spec.Inputs {
		if !f.finished[in.RunID] {
			f.mu.Unlock()
			return fmt.Errorf("%s started before its input %s finished", spec.Address, in.Address)
		}
	}
	f.order = append(f.order, spec.Address)
	f.attempts[spec.Address]++
	attempt := f.attempts[spec.Address]
	err := f.fail[spec.Address]
	f.mu.Unlock()

	n := f.running.Add(1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		f.running.Add(-1)
		return ctx.Err()
	}
	f.running.Add(-1)
	var infra *executors.InfraError
	if errors.As(err, &infra) && attempt > 1 {
		err = nil // the infrastructure failure happens once
	}
	if err == nil {
		f.mu.Lock()
		f.finished[spec.RunID] = true
		f.mu.Unlock()
	}
	return err
}

// chainGraph builds dataset → erm → sampler chains, one per seed.
func chainGraph(t *testing.T, seeds int) []graph.Entry {
	t.Helper()
	var defs []graph.Def
	for s := 0; s < seeds; s++ {
		suffix := fmt.Sprintf("[seed=%d]", s)
		axes := []graph.AxisValue{{Name: "seed", Value: float64(s)}}
		params := map[string]any{"seed": float64(s)}
		defs = append(defs,
			graph.Def{Address: "dataset.d" + suffix, Type: "dataset", Name: "d", Kind: "k", Version: "k/1", Axes: axes, Params: params},
			graph.Def{Address: "erm.e" + suffix, Type: "erm", Name: "e", Kind: "erm", Version: "erm/1", Axes: axes,
				Params: map[string]any{}, Inputs: []graph.InputRef{{Role: "dataset", Address: "dataset.d" + suffix}}},
			graph.Def{Address: "sampler.s" + suffix, Type: "sampler", Name: "s", Kind: "sgld", Version: "sgld/1", Axes: axes,
				Params: map[string]any{}, Inputs: []graph.InputRef{{Role: "erm", Address: "erm.e" + suffix}}},
		)
	}
	g, err := graph.Build(defs)
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]graph.Entry, len(g.Nodes))
	for i, n := range g.Nodes {
		entries[i] = graph.Entry{Node: n, Action: graph.ActionRun}
	}
	return entries
}

func TestApplyRespectsDependenciesAndLimit(t *testing.T) {
	for _, limit := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("j=%d", limit), func(t *testing.T) {
			entries := chainGraph(t, 4)
			fake := newFake()
			fake.delay = 5 * time.Millisecond
			res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Done) != 12 || len(res.Failed) != 0 || len(res.NotStarted) != 0 {
				t.Fatalf("done %d, failed %v, not started %d; want 12 done", len(res.Done), res.Failed, len(res.NotStarted))
			}
			if got := fake.maxSeen.Load(); got > int32(limit) {
				t.Errorf("%d nodes ran at once, limit %d", got, limit)
			}
			if limit > 1 && fake.maxSeen.Load() < 2 {
				t.Errorf("never more than one node at once with limit %d", limit)
			}
		})
	}
}

func TestApplyStopsAfterFailure(t *testing.T) {
	entries := chainGraph(t, 3)
	fake := newFake()
	fake.fail["dataset.d[seed=0]"] = errors.New("boom")
	res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Node.Address != "dataset.d[seed=0]" {
		t.Fatalf("failed %v, want dataset.d[seed=0]", res.Failed)
	}
	if len(res.Done) != 0 {
		t.Errorf("without keep-going, %d nodes ran after the failure", len(res.Done))
	}
	if len(res.NotStarted) != 8 {
		t.Errorf("not started %d, want 8", len(res.NotStarted))
	}
}

func TestKeepGoingSkipsOnlyDependents(t *testing.T) {
	entries := chainGraph(t, 3)
	fake := newFake()
	fake.fail["erm.e[seed=1]"] = errors.New("boom")
	var mu sync.Mutex
	skippedEvents := 0
	res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 2, KeepGoing: true,
		Events: func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Type == NodeSkipped {
				skippedEvents++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Done) != 7 {
		t.Errorf("done %d, want 7 (the two other chains and dataset.d[seed=1])", len(res.Done))
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Address != "sampler.s[seed=1]" {
		t.Errorf("skipped %v, want sampler.s[seed=1]", res.Skipped)
	}
	if skippedEvents != 1 {
		t.Errorf("%d node_skipped events, want 1", skippedEvents)
	}
}

func TestInfraFailureRetried(t *testing.T) {
	entries := chainGraph(t, 1)
	fake := newFake()
	fake.fail["erm.e[seed=0]"] = &executors.InfraError{Err: errors.New("job lost")}
	var retries atomic.Int32
	res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 1,
		InfraRetries: 2, RetryDelay: time.Millisecond,
		Events: func(ev Event) {
			if ev.Type == NodeRetry {
				retries.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Done) != 3 || retries.Load() != 1 {
		t.Errorf("done %d, retries %d; want 3 done after 1 retry", len(res.Done), retries.Load())
	}
}

func TestNodeFailureNotRetriedByDefault(t *testing.T) {
	entries := chainGraph(t, 1)
	fake := newFake()
	fake.fail["dataset.d[seed=0]"] = errors.New("bad numbers")
	res, _ := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 1,
		InfraRetries: 3, RetryDelay: time.Millisecond})
	if got := fake.attempts["dataset.d[seed=0]"]; got != 1 {
		t.Errorf("node failure tried %d times, want 1", got)
	}
	if len(res.Failed) != 1 {
		t.Errorf("failed %v", res.Failed)
	}
}

func TestCancelStopsRunningNodes(t *testing.T) {
	entries := chainGraph(t, 2)
	fake := newFake()
	fake.delay = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	res, err := Apply(ctx, entries, Options{Executor: fake, Parallelism: 2})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("cancellation took %v", time.Since(start))
	}
	if len(res.Done) != 0 || len(res.Cancelled) != 2 || len(res.NotStarted) != 4 {
		t.Errorf("done %d, cancelled %d, not started %d; want 0, 2 and 4",
			len(res.Done), len(res.Cancelled), len(res.NotStarted))
	}
}

func TestCachedEntriesReported(t *testing.T) {
	entries := chainGraph(t, 1)
	entries[0].Action = graph.ActionCached
	fake := newFake()
	fake.finished[entries[0].Node.RunID] = true
	res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cached) != 1 || len(res.Done) != 2 {
		t.Errorf("cached %d, done %d; want 1 and 2", len(res.Cached), len(res.Done))
	}
}

func TestComputedElsewhereCountsAsCached(t *testing.T) {
	entries := chainGraph(t, 1)
	fake := newFake()
	erm := entries[1].Node
	fake.fail[erm.Address] = fmt.Errorf("%s: %w", erm.Address, executors.ErrComputedElsewhere)
	fake.finished[erm.RunID] = true
	var mu sync.Mutex
	var cachedEvents []Event
	res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 1,
		RetryFailed: 3, RetryDelay: time.Millisecond,
		Events: func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Type == NodeCached {
				cachedEvents = append(cachedEvents, ev)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Done) != 2 || len(res.Failed) != 0 {
		t.Errorf("done %d, failed %v; want the dataset and the sampler done", len(res.Done), res.Failed)
	}
	if len(res.Elsewhere) != 1 || len(res.Cached) != 1 || res.Elsewhere[0] != erm {
		t.Errorf("elsewhere %v, cached %v; want the erm node in both", res.Elsewhere, res.Cached)
	}
	if got := fake.attempts[erm.Address]; got != 1 {
		t.Errorf("a node computed elsewhere was tried %d times, want 1", got)
	}
	if len(cachedEvents) != 1 || cachedEvents[0].Message == "" {
		t.Errorf("node_cached events %+v, want one with a message", cachedEvents)
	}
}

func TestSharedRunComputedOnce(t *testing.T) {
	defs := []graph.Def{
		{Address: "dataset.a", Type: "dataset", Name: "a", Kind: "k", Version: "k/1", Params: map[string]any{}},
		{Address: "dataset.b", Type: "dataset", Name: "b", Kind: "k", Version: "k/1", Params: map[string]any{}},
		{Address: "erm.e", Type: "erm", Name: "e", Kind: "erm", Version: "erm/1", Params: map[string]any{},
			Inputs: []graph.InputRef{{Role: "dataset", Address: "dataset.b"}}},
	}
	g, err := graph.Build(defs)
	if err != nil {
		t.Fatal(err)
	}
	entries := []graph.Entry{
		{Node: g.Node("dataset.a"), Action: graph.ActionRun},
		{Node: g.Node("dataset.b"), Action: graph.ActionRun, SameRunAs: g.Node("dataset.a")},
		{Node: g.Node("erm.e"), Action: graph.ActionRun},
	}
	fake := newFake()
	res, err := Apply(context.Background(), entries, Options{Executor: fake, Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.attempts["dataset.a"] + fake.attempts["dataset.b"]; got != 1 {
		t.Errorf("the shared run was computed %d times, want 1", got)
	}
	if len(res.Done) != 2 || len(res.Cached) != 1 || res.Cached[0].Address != "dataset.b" {
		t.Errorf("done %v, cached %v; want dataset.a and erm.e done, dataset.b cached", res.Done, res.Cached)
	}
	if fake.attempts["erm.e"] != 1 {
		t.Errorf("erm.e, which reads dataset.b, ran %d times, want 1", fake.attempts["erm.e"])
	}
}
