package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/scheduler"
)

// Event types of `apply --json` that the scheduler does not emit.
const (
	eventPlan    = "plan"
	eventSummary = "summary"
	eventNotice  = "notice"
)

// applyOutput renders an apply for the user in one of three modes: JSON
// event lines on stdout, plain log lines on stderr, or progress bars on a
// terminal (see progressBars) with the log lines printed above them.
type applyOutput struct {
	mu      sync.Mutex
	stdout  io.Writer
	stderr  io.Writer
	json    bool
	bars    *progressBars
	useBars bool
	started time.Time
	nodes   map[string]*nodeTiming
}

// nodeTiming is the start and the last progress line of a running node,
// kept to compute its ETA and to limit progress lines.
type nodeTiming struct {
	start        time.Time
	lastFraction float64
	lastAt       time.Time
}

func newApplyOutput(stdout, stderr *os.File, asJSON bool, mode string) (*applyOutput, error) {
	useBars := false
	switch mode {
	case "bars":
		if asJSON {
			return nil, &exitError{code: exitUsage, err: errors.New("--progress bars cannot be " +
				"combined with --json, which prints events instead; leave one of them out")}
		}
		useBars = true
	case "auto":
		useBars = !asJSON && term.IsTerminal(int(stdout.Fd()))
	}
	return &applyOutput{stdout: stdout, stderr: stderr, json: asJSON, useBars: useBars,
		started: time.Now(), nodes: map[string]*nodeTiming{}}, nil
}

func (o *applyOutput) elapsed() float64 { return time.Since(o.started).Seconds() }

func (o *applyOutput) writeJSON(v map[string]any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"type": eventNotice, "address": nil, "run_id": nil,
			"elapsed_seconds": o.elapsed(), "message": "encode event: " + err.Error()})
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stdout.Write(append(data, '\n'))
}

// logf prints a log line: above the bars, or on stderr.
func (o *applyOutput) logf(format string, args ...any) {
	line := fmt.Sprintf("[%6.1fs] %s\n", o.elapsed(), fmt.Sprintf(format, args...))
	o.mu.Lock()
	bars := o.bars
	o.mu.Unlock()
	if bars != nil && bars.println(line) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	io.WriteString(o.stderr, line)
}

// logWriter returns a writer for a logger of an executor.
func (o *applyOutput) logWriter() io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		o.logf("%s", strings.TrimRight(string(p), "\n"))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// notice reports a sentence from the executor about one node, such as a
// lock takeover.
func (o *applyOutput) notice(address, runID, message string) {
	if o.json {
		o.writeJSON(map[string]any{"type": eventNotice, "address": address, "run_id": runID,
			"elapsed_seconds": o.elapsed(), "message": message})
		return
	}
	o.logf("note    %s", message)
}

func (o *applyOutput) plan(p *graph.Plan) {
	if o.json {
		var doc map[string]any
		data, err := p.JSON()
		if err == nil && json.Unmarshal(data, &doc) == nil {
			doc["type"] = eventPlan
			doc["address"] = nil
			doc["run_id"] = nil
			doc["elapsed_seconds"] = o.elapsed()
			o.writeJSON(doc)
		}
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	w := bufio.NewWriter(o.stderr)
	printPlan(w, p)
	w.Flush()
}

// start shows the overall bar, in bars mode.
func (o *applyOutput) start(p *graph.Plan) {
	if !o.useBars {
		return
	}
	total := p.Summary.Run + p.Summary.Forced
	if total == 0 {
		return
	}
	bars := newProgressBars(o.stdout, total)
	o.mu.Lock()
	o.bars = bars
	o.mu.Unlock()
}

// close removes the bars. Lines logged after it go to stderr.
func (o *applyOutput) close() {
	o.mu.Lock()
	bars := o.bars
	o.bars = nil
	o.mu.Unlock()
	if bars != nil {
		bars.close()
	}
}

func (o *applyOutput) event(ev scheduler.Event) {
	timing := o.timing(ev)
	if ev.Type == scheduler.NodeProgress && !o.progressDue(ev, timing) {
		return
	}
	if o.json {
		o.writeJSON(o.eventJSON(ev, timing))
		return
	}
	o.mu.Lock()
	bars := o.bars
	o.mu.Unlock()
	if bars != nil {
		bars.event(ev, eta(ev, timing))
		if ev.Type == scheduler.NodeProgress || ev.Type == scheduler.NodeStart {
			return
		}
	}
	o.logEvent(ev, timing)
}

// timing returns the timing of the event's node, starting it on
// node_start.
func (o *applyOutput) timing(ev scheduler.Event) *nodeTiming {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := ev.Node.RunID
	t := o.nodes[id]
	if t == nil || ev.Type == scheduler.NodeStart {
		t = &nodeTiming{start: time.Now()}
		o.nodes[id] = t
	}
	return t
}

// progressDue limits progress output. Log lines start after a node has run
// for 2 seconds, and then come every 10 % or every 5 seconds. JSON events
// come every 1 % or every second, and bars take every update.
func (o *applyOutput) progressDue(ev scheduler.Event, t *nodeTiming) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	step, every, after := 0.1, 5*time.Second, 2*time.Second
	switch {
	case o.bars != nil:
		return true
	case o.json:
		step, every, after = 0.01, time.Second, 0
	}
	if now.Sub(t.start) < after {
		return false
	}
	if ev.Fraction-t.lastFraction >= step || now.Sub(t.lastAt) >= every {
		t.lastFraction, t.lastAt = ev.Fraction, now
		return true
	}
	return false
}

// eta estimates the time left for a running node from its progress so
// far, assuming a constant rate. It is negative when unknown.
func eta(ev scheduler.Event, t *nodeTiming) time.Duration {
	if ev.Type != scheduler.NodeProgress || ev.Fraction <= 0 || ev.Fraction > 1 {
		return -1
	}
	spent := time.Since(t.start)
	return time.Duration(float64(spent) * (1 - ev.Fraction) / ev.Fraction)
}

// eventJSON encodes a scheduler event as one `apply --json` line: type,
// address, run_id and elapsed_seconds, plus what the type needs.
func (o *applyOutput) eventJSON(ev scheduler.Event, t *nodeTiming) map[string]any {
	m := map[string]any{"type": ev.Type, "address": ev.Node.Address, "run_id": ev.Node.RunID,
		"elapsed_seconds": ev.Elapsed.Seconds()}
	switch ev.Type {
	case scheduler.NodeStart:
		m["kind"] = ev.Node.Kind
		if chains, ok := ev.Node.Params["chains"].(float64); ok {
			m["chains"] = chains
		}
	case scheduler.NodeProgress:
		m["fraction"] = ev.Fraction
		m["message"] = ev.Message
		if d := eta(ev, t); d >= 0 {
			m["eta_seconds"] = d.Seconds()
		}
	case scheduler.NodeDone:
		m["duration_seconds"] = ev.Duration.Seconds()
	case scheduler.NodeCached:
		if ev.Message != "" {
			m["message"] = ev.Message
		}
	case scheduler.NodeFailed:
		m["duration_seconds"] = ev.Duration.Seconds()
		m["error"] = ev.Err.Error()
		m["log"] = nullIfEmpty(failureLog(ev.Err))
	case scheduler.NodeSkipped:
		m["message"] = ev.Message
	case scheduler.NodeRetry:
		m["message"] = ev.Message
		m["attempt"] = ev.Attempt
		m["delay_seconds"] = ev.Delay.Seconds()
		m["error"] = ev.Err.Error()
		m["infrastructure"] = ev.Infra
	}
	return m
}

func (o *applyOutput) logEvent(ev scheduler.Event, t *nodeTiming) {
	n := ev.Node
	switch ev.Type {
	case scheduler.NodeStart:
		o.logf("start   %s (run %s)", n.Address, n.RunID)
	case scheduler.NodeProgress:
		line := fmt.Sprintf("        %s: %3.0f%% %s", n.Address, 100*ev.Fraction, ev.Message)
		if d := eta(ev, t); d >= 0 {
			line += fmt.Sprintf(", about %s left", d.Round(time.Second))
		}
		o.logf("%s", line)
	case scheduler.NodeDone:
		o.logf("done    %s in %.1fs", n.Address, ev.Duration.Seconds())
	case scheduler.NodeCached:
		if ev.Message != "" {
			o.logf("cached  %s: %s", n.Address, ev.Message)
		}
	case scheduler.NodeFailed:
		msg := fmt.Sprintf("failed  %s: %v", n.Address, ev.Err)
		if log := failureLog(ev.Err); log != "" {
			msg += "\n        log: " + log
		}
		o.logf("%s", msg)
	case scheduler.NodeSkipped:
		o.logf("skipped %s: %s", n.Address, ev.Message)
	case scheduler.NodeRetry:
		o.logf("retry   %s: %s", n.Address, ev.Message)
	}
}

func failureLog(err error) string {
	var ne *executors.NodeError
	if errors.As(err, &ne) {
		return ne.Log
	}
	return ""
}

// summary prints the counts and the root causes of the failures, each with
// its error and log. Skipped nodes are counted but not listed as causes.
func (o *applyOutput) summary(res *scheduler.Result, runErr error) {
	if o.json {
		failures := make([]map[string]any, len(res.Failed))
		for i, f := range res.Failed {
			failures[i] = map[string]any{"address": f.Node.Address, "run_id": f.Node.RunID,
				"error": f.Err.Error(), "log": nullIfEmpty(failureLog(f.Err))}
		}
		o.writeJSON(map[string]any{"type": eventSummary, "address": nil, "run_id": nil,
			"elapsed_seconds": o.elapsed(),
			"done":            len(res.Done), "cached": len(res.Cached), "failed": len(res.Failed),
			"skipped": len(res.Skipped), "cancelled": len(res.Cancelled),
			"not_started": len(res.NotStarted), "computed_elsewhere": len(res.Elsewhere),
			"interrupted": runErr != nil, "failures": failures})
		return
	}
	o.logf("Apply: %s.", summaryCounts(res))
	if len(res.Failed) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed", countNoun(len(res.Failed), "node", "nodes"))
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(&b, " (%s skipped)", countNoun(n, "dependent was", "dependents were"))
	}
	b.WriteString(":")
	for _, f := range res.Failed {
		fmt.Fprintf(&b, "\n  %s: %v", f.Node.Address, rootMessage(f))
		if log := failureLog(f.Err); log != "" {
			fmt.Fprintf(&b, "\n    log: %s", log)
		}
	}
	o.logf("%s", b.String())
}

// rootMessage returns a failure's error without the address and run id
// that executors.NodeError puts in front, since the summary names them.
func rootMessage(f scheduler.Failure) string {
	var ne *executors.NodeError
	if errors.As(f.Err, &ne) && ne.Address == f.Node.Address {
		return ne.Err.Error()
	}
	return f.Err.Error()
}

func summaryCounts(res *scheduler.Result) string {
	parts := []string{fmt.Sprintf("%d done", len(res.Done)), fmt.Sprintf("%d cached", len(res.Cached))}
	if n := len(res.Elsewhere); n > 0 {
		parts[1] += fmt.Sprintf(" (%d computed by another process)", n)
	}
	for _, c := range []struct {
		n    int
		what string
	}{
		{len(res.Failed), "failed"}, {len(res.Skipped), "skipped"},
		{len(res.Cancelled), "cancelled"}, {len(res.NotStarted), "not started"},
	} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(parts, ", ")
}

// listAddresses returns up to limit addresses, with "and N more".
func listAddresses(nodes []*graph.Node, limit int) string {
	var names []string
	for i, n := range nodes {
		if i == limit {
			names = append(names, fmt.Sprintf("and %d more", len(nodes)-limit))
			break
		}
		names = append(names, n.Address)
	}
	return strings.Join(names, ", ")
}

// nullIfEmpty returns nil for "", so that JSON shows null.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// countNoun returns "1 node" or "2 nodes".
func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
