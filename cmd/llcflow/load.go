package main

import (
	"encoding/json"
	"fmt"
	"os"

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

// load parses the HCL files and builds the graph, printing diagnostics to
// stderr (as JSON lines when asJSON). Errors come back as exit code 1.
func (f *loadFlags) load(c *cli, asJSON bool) (*loaded, error) {
	paths := f.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	wf, diags := dsl.Load(paths, dsl.Options{
		Vars: f.Var, VarFiles: f.VarFile, Preset: f.Preset,
		Environ: os.Environ(), Registry: kinds.Registry{},
	})
	if len(diags) > 0 {
		printDiagnostics(c, wf, diags, asJSON)
	}
	if diags.HasErrors() {
		return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s in the HCL files; nothing was run", countErrors(diags))}
	}
	g, err := graph.Build(wf.Defs)
	if err != nil {
		return nil, &exitError{code: exitFailure, err: err}
	}
	return &loaded{workflow: wf, graph: g}, nil
}

func countErrors(diags hcl.Diagnostics) string {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}

func printDiagnostics(c *cli, wf *dsl.Workflow, diags hcl.Diagnostics, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(os.Stderr)
		for _, d := range dsl.DiagnosticsJSON(diags) {
			_ = enc.Encode(map[string]any{"type": "diagnostic", "diagnostic": d})
		}
		return
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
