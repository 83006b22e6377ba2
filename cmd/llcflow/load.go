package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/store"
)

// loadFlags are the flags of every command that reads HCL files.
type loadFlags struct {
	Paths   []string `arg:"" optional:"" help:"HCL files or directories of *.hcl files (default: the current directory)."`
	Var     []string `help:"Set a variable, NAME=VALUE (repeatable; the last one wins)." placeholder:"NAME=VALUE" sep:"none"`
	VarFile []string `help:"Read variable values from an HCL file of NAME = VALUE lines (repeatable)." placeholder:"FILE" sep:"none"`
	Preset  string   `help:"Use the variable values of a preset block, such as quick."`
}

// loaded is a parsed workflow and its graph.
type loaded struct {
	workflow *dsl.Workflow
	graph    *graph.Graph
}

// load parses the HCL files, builds the graph and checks the nodes that
// depend on each other, printing diagnostics to stderr, and with asJSON
// also as JSON lines on stdout. Errors come back as exit code 1.
func (f *loadFlags) load(c *cli, asJSON bool) (*loaded, error) {
	paths := f.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	wf, diags := dsl.Load(paths, dsl.Options{
		Vars: f.Var, VarFiles: f.VarFile, Preset: f.Preset,
		Environ: os.Environ(), Registry: kinds.Registry{},
	})
	if !diags.HasErrors() && wf != nil {
		g, err := graph.Build(wf.Defs)
		if err != nil {
			return nil, &exitError{code: exitFailure, err: err}
		}
		diags = append(diags, graphDiagnostics(wf, kinds.CheckGraph(g))...)
		if !diags.HasErrors() {
			printDiagnostics(c, wf, diags, asJSON)
			if len(g.Nodes) == 0 {
				fmt.Fprintf(os.Stderr, "llcflow: warning: %s: no dataset, erm, target or sampler block "+
					"is defined, so there is nothing to plan or run\n", strings.Join(paths, ", "))
			}
			return &loaded{workflow: wf, graph: g}, nil
		}
	}
	printDiagnostics(c, wf, diags, asJSON)
	return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s; nothing was run", describeErrors(diags))}
}

// describeErrors counts the errors and names where they are: in the HCL
// files, or in the variable values that have no source range.
func describeErrors(diags hcl.Diagnostics) string {
	n, inFiles, reading := 0, 0, 0
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		n++
		switch {
		case d.Subject != nil:
			inFiles++
		case readingSummaries[d.Summary]:
			reading++
		}
	}
	// The rest, without a line and not about reading, are variable errors.
	variables := n - inFiles - reading
	where := "in the HCL files"
	switch {
	case reading == n:
		where = "reading the HCL files"
	case variables == n:
		where = "in the variable values (--var, --var-file, --preset or LLCFLOW_VAR_)"
	case variables > 0:
		where = "in the HCL files and the variable values"
	}
	return countNoun(n, "error", "errors") + " " + where
}

// readingSummaries are the summaries of the loader's diagnostics about
// files it could not read, which have no line to point at.
var readingSummaries = map[string]bool{"Cannot read configuration": true, "No configuration files": true}

// graphDiagnostics turns the problems between connected nodes into error
// diagnostics on the line of the block at fault.
func graphDiagnostics(wf *dsl.Workflow, errs []kinds.GraphError) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, e := range errs {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: e.Summary,
			Detail: e.Detail + " (node " + e.Address + ")"}
		if r, ok := sourceLine(wf, e.Source); ok {
			d.Subject = &r
		}
		diags = append(diags, d)
	}
	return diags
}

// sourceLine returns the range of the text on line LINE of a "FILE:LINE"
// source, without its indentation.
func sourceLine(wf *dsl.Workflow, source string) (hcl.Range, bool) {
	i := strings.LastIndexByte(source, ':')
	if i < 0 {
		return hcl.Range{}, false
	}
	name := source[:i]
	line, err := strconv.Atoi(source[i+1:])
	file := wf.Files[name]
	if err != nil || file == nil || line < 1 {
		return hcl.Range{}, false
	}

	src := file.Bytes
	start := 0
	for l := 1; l < line; l++ {
		next := bytes.IndexByte(src[start:], '\n')
		if next < 0 {
			return hcl.Range{}, false
		}
		start += next + 1
	}
	end := start + bytes.IndexByte(src[start:], '\n')
	if end < start {
		end = len(src)
	}

	text := src[start:end]
	indent := len(text) - len(bytes.TrimLeft(text, " \t"))
	trimmed := bytes.TrimRight(text, " \t\r")
	return hcl.Range{Filename: name,
		Start: hcl.Pos{Line: line, Column: indent + 1, Byte: start + indent},
		End:   hcl.Pos{Line: line, Column: len(trimmed) + 1, Byte: start + len(trimmed)},
	}, true
}

func printDiagnostics(c *cli, wf *dsl.Workflow, diags hcl.Diagnostics, asJSON bool) {
	if len(diags) == 0 {
		return
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, d := range dsl.DiagnosticsJSON(diags) {
			_ = enc.Encode(map[string]any{"type": "diagnostic", "address": nil, "run_id": nil,
				"elapsed_seconds": 0, "diagnostic": d})
		}
	}
	var files map[string]*hcl.File
	if wf != nil {
		files = wf.Files
	}
	width := uint(100)
	color := !c.NoColor && term.IsTerminal(int(os.Stderr.Fd()))
	if color {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 0 {
			width = uint(w)
		}
	}
	_ = dsl.WriteDiagnostics(os.Stderr, diags, files, width, color)
}

// openStore opens the store named by --store (or LLCFLOW_STORE).
func (c *cli) openStore() (*store.Store, error) {
	st, err := store.Open(c.Store)
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	return st, nil
}

// makePlan plans the graph against a snapshot of the store, which reads
// the store's directories and index once instead of once per node.
func makePlan(g *graph.Graph, st *store.Store, opts graph.PlanOptions) (*graph.Plan, graph.Lookup, error) {
	snap, err := st.Snapshot()
	if err != nil {
		return nil, nil, err
	}
	plan, err := graph.MakePlan(g, snap, opts)
	return plan, snap, err
}

// planningGCPercent is the GOGC value while a workflow is loaded and
// planned, and planningMemoryLimit the soft memory limit then.
const (
	planningGCPercent   = 400
	planningMemoryLimit = 1 << 30
)

// relaxGC lets the heap grow to five times the live data, up to 1 GiB,
// while a workflow is loaded and planned, which allocates many short-lived
// values: for 100,000 nodes that cut the CPU time by about a quarter, at
// 0.5 GB of memory instead of 0.35 GB. The returned function restores the
// previous settings. GOGC or GOMEMLIMIT in the environment leave the
// settings alone.
func relaxGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	percent := debug.SetGCPercent(planningGCPercent)
	limit := debug.SetMemoryLimit(planningMemoryLimit)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
