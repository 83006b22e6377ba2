package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/llcflow/llcflow/scheduler"
)

// barUnits is the total of a node's bar: its progress fraction in
// thousandths.
const barUnits = 1000

// progressBars draws, on a terminal, an overall bar of the nodes to run
// and one bar per running node with its steps, chains and ETA. Log lines
// are printed above the bars.
//
// The decorators run on mpb's goroutines, which also serve the bar calls,
// so they read only atomics, and no bar method is called with mu held.
type progressBars struct {
	p       *mpb.Progress
	overall *mpb.Bar
	running atomic.Int32
	failed  atomic.Int32

	mu     sync.Mutex
	nodes  map[string]*nodeBar
	closed bool
}

// nodeBar is the bar of one running node and the text after it.
type nodeBar struct {
	bar    *mpb.Bar
	status atomic.Value // string
}

// newProgressBars starts the bars on w. When w is not a terminal
// (--progress bars with redirected output) mpb still redraws every
// refresh, with a fixed width.
func newProgressBars(w io.Writer, total int) *progressBars {
	b := &progressBars{nodes: map[string]*nodeBar{}}
	b.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithAutoRefresh(),
		mpb.WithRefreshRate(150*time.Millisecond))
	b.overall = b.p.AddBar(int64(total),
		mpb.BarPriority(-1), // above the node bars
		mpb.PrependDecorators(
			decor.Name("apply ", decor.WC{C: decor.DindentRight}),
			decor.CountersNoUnit("%d/%d nodes", decor.WC{W: 14, C: decor.DindentRight}),
		),
		mpb.AppendDecorators(
			decor.Percentage(decor.WC{W: 5}),
			decor.Any(func(decor.Statistics) string { return b.overallStatus() }),
		),
	)
	return b
}

func (b *progressBars) overallStatus() string {
	s := fmt.Sprintf("  %d running", b.running.Load())
	if n := b.failed.Load(); n > 0 {
		s += fmt.Sprintf(", %d failed", n)
	}
	return s
}

// println prints a line above the bars. It returns false when the bars
// are closed, and the caller prints the line elsewhere.
func (b *progressBars) println(line string) bool {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return false
	}
	_, err := b.p.Write([]byte(line))
	return err == nil
}

// event updates the bars; eta is the node's estimated time left, negative
// when unknown.
func (b *progressBars) event(ev scheduler.Event, eta time.Duration) {
	b.mu.Lock()
	closed := b.closed
	nb := b.nodes[ev.Node.RunID]
	b.mu.Unlock()
	if closed {
		return
	}
	switch ev.Type {
	case scheduler.NodeStart:
		b.startNode(ev, nb)
	case scheduler.NodeProgress:
		if nb != nil {
			status := ev.Message
			if eta >= 0 {
				status += fmt.Sprintf(", eta %s", eta.Round(time.Second))
			}
			nb.status.Store(status)
			nb.bar.SetCurrent(int64(ev.Fraction * barUnits))
		}
	case scheduler.NodeDone, scheduler.NodeCached:
		b.finishNode(ev.Node.RunID, nb, false)
	case scheduler.NodeFailed:
		b.failed.Add(1)
		b.finishNode(ev.Node.RunID, nb, true)
	case scheduler.NodeSkipped:
		b.overall.Increment()
	}
}

// startNode adds the bar of a node, replacing the bar of an earlier
// attempt.
func (b *progressBars) startNode(ev scheduler.Event, old *nodeBar) {
	if old != nil {
		old.bar.Abort(true)
		b.running.Add(-1)
	}
	chains := ""
	if n, ok := ev.Node.Params["chains"].(float64); ok {
		chains = fmt.Sprintf(" · %g chains", n)
	}
	nb := &nodeBar{}
	nb.status.Store("starting")
	nb.bar = b.p.AddBar(barUnits,
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name("  "+ev.Node.Address+" ", decor.WC{C: decor.DSyncWidthR})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			return "  " + nb.status.Load().(string) + chains
		})),
	)
	b.running.Add(1)
	b.mu.Lock()
	b.nodes[ev.Node.RunID] = nb
	b.mu.Unlock()
}

// finishNode removes a node's bar and counts the node as finished.
func (b *progressBars) finishNode(id string, nb *nodeBar, failed bool) {
	if nb != nil {
		b.mu.Lock()
		delete(b.nodes, id)
		b.mu.Unlock()
		b.running.Add(-1)
		if failed {
			nb.bar.Abort(true)
		} else {
			nb.bar.SetCurrent(barUnits)
		}
	}
	b.overall.Increment()
}

// close aborts the bars that are still running, as after an interruption,
// and waits for the last refresh.
func (b *progressBars) close() {
	b.mu.Lock()
	b.closed = true
	var left []*nodeBar
	for id, nb := range b.nodes {
		left = append(left, nb)
		delete(b.nodes, id)
	}
	b.mu.Unlock()
	for _, nb := range left {
		nb.bar.Abort(true)
	}
	if !b.overall.Completed() {
		b.overall.Abort(false)
	}
	b.p.Wait()
}
