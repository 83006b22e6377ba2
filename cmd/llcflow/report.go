package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/report"
	"github.com/llcflow/llcflow/store"
)

type reportCmd struct {
	loadFlags
	Out         string `help:"Folder to write the report into. It is created if missing, and files in it are replaced." default:"report" type:"path"`
	Parallelism int    `short:"j" help:"Plot nodes drawn at once (default: the number of CPUs)." default:"0"`
	Redraw      bool   `help:"Draw every plot again, replacing cached plot runs."`
}

func (r *reportCmd) Help() string {
	return `Draws the plots of every sampler run that has a result and writes an HTML
report that opens in a browser without network access. Example:

  llcflow apply examples/quick.hcl
  llcflow report examples/quick.hcl      # then open report/index.html

The report folder holds index.html (the plan summary, the results table with
trust flags, the failed nodes and the sweep plots), pages/RUN_ID.html per
sampler run with its plots, plots/ with every PNG and SVG, and results.csv
and results.parquet.

Plots are nodes of their own: a plot node per sampler run and one for the
sweep, keyed on the runs they draw and stored in the store like any other
run, so a second report draws only what changed. Sampler runs are only read.
Exit codes: 0 success, 1 failure (such as a plot that could not be drawn),
2 usage error.`
}

// plotNode is a plot node that the report adds to the graph.
type plotNode struct {
	spec executors.Spec
	// row is the sampler row the node draws, or nil for the sweep node.
	row *resultRow
	// cached is true when the store already holds a valid run of the node.
	cached  bool
	figures []kinds.PlotFigure
	err     error
}

func (r *reportCmd) Run(c *cli) error {
	l, err := r.load(c, false)
	if err != nil {
		return err
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	if err := checkOutsideStore(r.Out, st.Root()); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	plan, err := graph.MakePlan(l.graph, st, graph.PlanOptions{})
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	set := collectResultSet(l, st, nil)
	nodes, err := plotNodes(l, st, set.rows, r.Redraw)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	jobs := r.Parallelism
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	drawPlots(ctx, st, nodes, jobs)
	if err := ctx.Err(); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("interrupted while drawing plots; run report again to finish")}
	}

	w := reportWriter{dir: r.Out, store: st, loaded: l, rows: set.rows, errs: set.errs, pending: set.pending, nodes: nodes,
		sources: l.workflow.Paths, plan: summaryLine(plan.Summary)}
	if len(w.sources) == 0 {
		w.sources = r.Paths
	}
	if err := w.write(); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	drawn, cached, failed := countPlots(nodes)
	fmt.Printf("Wrote %s: %d sampler runs, %d failed nodes; plot nodes: %d drawn, %d cached, %d failed.\n",
		filepath.Join(r.Out, "index.html"), len(set.rows), len(set.errs), drawn, cached, failed)
	if failed > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d plot nodes failed; their errors are in the report's failed nodes", failed)}
	}
	return nil
}

// checkOutsideStore rejects a report folder inside the store, where it
// would look like a run directory.
func checkOutsideStore(out, storeRoot string) error {
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	absStore, err := filepath.Abs(storeRoot)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(absStore, absOut)
	if err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
		return fmt.Errorf("--out %s is inside the store %s; choose a folder outside it", out, storeRoot)
	}
	return nil
}

// plotNodes returns a sampler plot node per row and, when there are rows,
// one sweep plot node, with their keys computed from their params and the
// keys of the sampler runs they draw.
func plotNodes(l *loaded, st *store.Store, rows []resultRow, redraw bool) ([]*plotNode, error) {
	var nodes []*plotNode
	for i := range rows {
		row := &rows[i]
		n := row.node
		params := map[string]any{"label": n.Address}
		inputs := []executors.SpecInput{{Role: "sampler", Address: n.Address, RunID: n.RunID, Key: n.Key}}
		pn, err := newPlotNode(st, "plot."+n.Address, "sampler", params, inputs, redraw)
		if err != nil {
			return nil, err
		}
		pn.row = row
		nodes = append(nodes, pn)
	}
	if len(rows) == 0 {
		return nodes, nil
	}
	axes := []any{}
	for _, a := range axisNames(l, rows) {
		axes = append(axes, a)
	}
	runs := make([]any, len(rows))
	inputs := make([]executors.SpecInput, len(rows))
	for i, row := range rows {
		n := row.node
		axisValues := map[string]any{}
		for k, v := range row.Axes {
			axisValues[k] = v
		}
		runs[i] = map[string]any{
			"address": n.Address, "sampler": n.Name, "family": familyAddress(n),
			"axes": axisValues, "wall_seconds": row.WallSeconds,
		}
		inputs[i] = executors.SpecInput{Role: n.Address, Address: n.Address, RunID: n.RunID, Key: n.Key}
	}
	sweep, err := newPlotNode(st, "plot.sweep", "sweep", map[string]any{"axes": axes, "runs": runs}, inputs, redraw)
	if err != nil {
		return nil, err
	}
	return append(nodes, sweep), nil
}

// familyAddress returns the address of the erm or target node a sampler
// reads, or "".
func familyAddress(n *graph.Node) string {
	for _, in := range n.In {
		if in.Role == "erm" || in.Role == "target" {
			return in.Node.Address
		}
	}
	return ""
}

func newPlotNode(st *store.Store, address, kind string, params map[string]any, inputs []executors.SpecInput, redraw bool) (*plotNode, error) {
	k, ok := kinds.Lookup("plot", kind)
	if !ok {
		return nil, fmt.Errorf("this llcflow binary has no plot kind %q; rebuild it", kind)
	}
	keys := make([]graph.InputKey, len(inputs))
	for i, in := range inputs {
		keys[i] = graph.InputKey{Role: in.Role, Key: in.Key}
	}
	key, err := graph.ComputeKey("plot", kind, k.Version, params, keys)
	if err != nil {
		return nil, fmt.Errorf("plot node %s: %w", address, err)
	}
	runID := graph.RunIDOf(key)
	status, _, err := st.Status(runID, key)
	if err != nil {
		return nil, fmt.Errorf("check plot node %s (run %s): %w", address, runID, err)
	}
	return &plotNode{
		spec: executors.Spec{
			FormatVersion: executors.SpecFormatVersion, Address: address,
			Type: "plot", Kind: kind, Version: k.Version, Key: key, RunID: runID,
			Params: params, Inputs: inputs, Store: st.Root(), Threads: 1, Force: redraw,
		},
		cached: status == graph.Valid && !redraw,
	}, nil
}

// drawPlots runs the plot nodes that are not cached, at most jobs at once,
// and reads the figures of every node. A failed node does not stop the
// others, and its error is kept in the node.
func drawPlots(ctx context.Context, st *store.Store, nodes []*plotNode, jobs int) {
	var group errgroup.Group
	group.SetLimit(jobs)
	for _, pn := range nodes {
		group.Go(func() error {
			if !pn.cached {
				pn.err = executors.Execute(ctx, &pn.spec, executors.ExecOptions{Executor: "local"})
			}
			if pn.err == nil {
				_, pn.figures, pn.err = kinds.ReadPlotResult(st.RunDir(pn.spec.RunID))
			}
			return nil
		})
	}
	_ = group.Wait()
}

func countPlots(nodes []*plotNode) (drawn, cached, failed int) {
	for _, pn := range nodes {
		switch {
		case pn.err != nil:
			failed++
		case pn.cached:
			cached++
		default:
			drawn++
		}
	}
	return drawn, cached, failed
}

// reportWriter writes the report folder.
type reportWriter struct {
	dir     string
	store   *store.Store
	loaded  *loaded
	rows    []resultRow
	errs    []errorRow
	pending []pendingRow
	nodes   []*plotNode
	sources []string
	plan    string
}

// Folders of the report, relative to its index.html.
const (
	reportPlotsDir = "plots"
	reportPagesDir = "pages"
)

func (w *reportWriter) write() error {
	for _, sub := range []string{"", reportPlotsDir, reportPagesDir} {
		if err := os.MkdirAll(filepath.Join(w.dir, sub), 0o755); err != nil {
			return fmt.Errorf("create report folder: %w", err)
		}
	}
	for _, pn := range w.nodes {
		if err := w.copyFigures(pn); err != nil {
			return err
		}
	}
	if err := w.writeTables(); err != nil {
		return err
	}
	for _, pn := range w.nodes {
		if pn.row != nil {
			if err := w.writeRunPage(pn); err != nil {
				return err
			}
		}
	}
	return w.writeIndex()
}

// copyFigures copies a plot node's images into plots/RUN_ID/.
func (w *reportWriter) copyFigures(pn *plotNode) error {
	if pn.err != nil || len(pn.figures) == 0 {
		return nil
	}
	dst := filepath.Join(w.dir, reportPlotsDir, pn.spec.RunID)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	src := w.store.RunDir(pn.spec.RunID)
	for _, f := range pn.figures {
		for _, name := range []string{f.PNG, f.SVG} {
			data, err := os.ReadFile(filepath.Join(src, name))
			if err != nil {
				return fmt.Errorf("read plot %s of run %s: %w", name, pn.spec.RunID, err)
			}
			if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
				return fmt.Errorf("copy plot %s: %w", name, err)
			}
		}
	}
	return nil
}

func (w *reportWriter) writeTables() error {
	for _, format := range []string{"csv", "parquet"} {
		var buf bytes.Buffer
		if err := writeResults(&buf, format, w.loaded, resultSet{rows: w.rows, errs: w.errs}); err != nil {
			return fmt.Errorf("write results.%s: %w", format, err)
		}
		if err := os.WriteFile(filepath.Join(w.dir, "results."+format), buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write results.%s: %w", format, err)
		}
	}
	return nil
}

// figuresOf returns a plot node's figures with image paths relative to a
// page in the folder prefix ("" for index.html, "../" for run pages).
func figuresOf(pn *plotNode, prefix string) []report.PageFigure {
	var out []report.PageFigure
	for _, f := range pn.figures {
		base := prefix + reportPlotsDir + "/" + pn.spec.RunID + "/"
		out = append(out, report.PageFigure{Title: f.Title, Caption: f.Caption, PNG: base + f.PNG, SVG: base + f.SVG})
	}
	return out
}

func runPageName(runID string) string {
	return reportPagesDir + "/" + runID + ".html"
}

func (w *reportWriter) writeRunPage(pn *plotNode) error {
	r := pn.row
	page := &report.RunPage{
		Title: r.Address, Index: "../index.html", Flags: r.Flags,
		Facts:   runFacts(r),
		Figures: figuresOf(pn, "../"),
	}
	var buf bytes.Buffer
	if err := report.WriteRunPage(&buf, page); err != nil {
		return fmt.Errorf("write the page of %s: %w", r.Address, err)
	}
	path := filepath.Join(w.dir, filepath.FromSlash(runPageName(r.RunID)))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// runFacts lists the numbers of one run for its page.
func runFacts(r *resultRow) []report.Fact {
	facts := []report.Fact{
		{Name: "run id", Value: r.RunID},
		{Name: "sampler", Value: r.Sampler + " (" + r.Kind + ")"},
		{Name: "family", Value: r.FamilyID},
		{Name: "d, n", Value: fmt.Sprintf("%d, %d", r.D, r.N)},
		{Name: "nβ, γ", Value: general(r.NBeta) + ", " + general(r.Gamma)},
		{Name: "chains × draws", Value: fmt.Sprintf("%d × %d", r.Chains, r.Draws)},
		{Name: "LLC", Value: fixed(r.LLCMean, 4) + " ± " + fixed(r.LLCSE, 4)},
	}
	if r.LambdaTrue != nil || r.LambdaExact != nil {
		facts = append(facts, report.Fact{Name: "λ exact, λ", Value: general(r.LambdaExact) + ", " + general(r.LambdaTrue)})
	}
	for _, f := range []struct {
		name  string
		value any
	}{
		{"ESS bulk", r.ESSBulk}, {"ESS tail", r.ESSTail}, {"R̂", r.RHat},
		{"acceptance", r.AcceptanceRate}, {"step size", r.StepSize}, {"divergences", r.Divergences},
		{"fraction below L_n(w*)", r.FracBelowStar}, {"energy variance", r.EnergyVar}, {"L", r.L},
		{"wall seconds", r.WallSeconds}, {"FDE", r.FDE}, {"ESS per second", r.ESSPerSecond},
		{"ESS per FDE", r.ESSPerFDE}, {"WNV (time)", r.WNVTime}, {"WNV (FDE)", r.WNVFDE},
		{"checkpoint step", r.CheckpointStep}, {"training loss at w*", r.FinalLoss}, {"training accuracy at w*", r.Accuracy},
	} {
		if f.value != nil {
			facts = append(facts, report.Fact{Name: f.name, Value: general(f.value)})
		}
	}
	return facts
}

// general formats a nullable number with 4 significant digits, or "-".
func general(v any) string {
	f, ok := v.(float64)
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

func (w *reportWriter) writeIndex() error {
	page := &report.Page{
		Title: "llcflow report", Sources: w.sources, Plan: w.plan,
		Downloads: []report.Link{{Text: "results.csv", Href: "results.csv"}, {Text: "results.parquet", Href: "results.parquet"}},
	}
	drawn, cached, failed := countPlots(w.nodes)
	page.Plots = fmt.Sprintf("Plot nodes: %d drawn, %d cached, %d failed.", drawn, cached, failed)
	page.Columns, page.Rows = w.pageTable()
	page.Legend = flagLegend(w.rows)
	if n := len(w.pending); n > 0 {
		page.Notes = append(page.Notes, pendingSentence(n)+"; llcflow results lists them.")
	}
	for _, e := range w.errs {
		page.Errors = append(page.Errors, report.PageError{Address: e.Address, Stage: e.Stage, Error: e.Error, Log: e.LogPath})
	}
	for _, pn := range w.nodes {
		switch {
		case pn.err != nil:
			page.Errors = append(page.Errors, plotError(pn))
		case pn.row == nil:
			page.Figures = append(page.Figures, figuresOf(pn, "")...)
		}
	}
	var buf bytes.Buffer
	if err := report.WriteIndex(&buf, page); err != nil {
		return fmt.Errorf("write index.html: %w", err)
	}
	return os.WriteFile(filepath.Join(w.dir, "index.html"), buf.Bytes(), 0o644)
}

func plotError(pn *plotNode) report.PageError {
	e := report.PageError{Address: pn.spec.Address, Stage: "plot", Error: pn.err.Error()}
	var ne *executors.NodeError
	if errors.As(pn.err, &ne) {
		e.Log = ne.Log
	}
	return e
}

// pageTable returns the columns after the address and the rows of the
// results table on index.html.
func (w *reportWriter) pageTable() ([]string, []report.PageRow) {
	axes := differingAxes(w.loaded, w.rows)
	known := knownLambda(w.rows)
	values := []string{"llc", "se"}
	if known {
		values = append(values, "lambda_exact", "lambda_true")
	}
	values = append(values, "ess_bulk", "ess_tail", "r_hat", "acceptance", "divergences", "ess/s", "wall")
	cols := append([]string{"address"}, axisHeaders(axes, append([]string{"address", "flags"}, values...))...)
	cols = append(cols, values...)
	var rows []report.PageRow
	for _, r := range w.rows {
		var cells []string
		for _, a := range axes {
			cells = append(cells, formatAny(r.Axes[a]))
		}
		cells = append(cells, fixed(r.LLCMean, 3), fixed(r.LLCSE, 3))
		if known {
			cells = append(cells, fixed(r.LambdaExact, 4), fixed(r.LambdaTrue, 4))
		}
		cells = append(cells, fixed(r.ESSBulk, 0), fixed(r.ESSTail, 0), fixed(r.RHat, 3),
			fixed(r.AcceptanceRate, 2), general(r.Divergences), general(r.ESSPerSecond), formatWall(r.WallSeconds))
		rows = append(rows, report.PageRow{Address: r.Address, Link: runPageName(r.RunID), Cells: cells, Flags: r.Flags})
	}
	return cols, rows
}
