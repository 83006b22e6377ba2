// Package layering holds a test that keeps the import directions between
// llcflow's packages as documented: numerics know nothing of the pipeline,
// the pipeline knows nothing of the command line.
package layering

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/llcflow/llcflow/"

// allowed lists, for each package, the project packages it may import.
// Numerical packages import only each other; the pipeline packages sit
// above them; cmd/llcflow wires everything.
var allowed = map[string][]string{
	"rng":         {},
	"detmath":     {},
	"npy":         {},
	"diagnostics": {},
	"samplers":    {"rng", "detmath", "diagnostics"},
	"targets":     {"samplers", "detmath"},
	"models":      {"rng", "detmath", "samplers"},
	"datasets":    {"models", "rng", "detmath"},
	"graph":       {},
	"dsl":         {"graph"},
	"store":       {"graph"},
	"report":      {"diagnostics", "graph"},
	"kinds":       {"dsl", "graph", "models", "datasets", "samplers", "targets", "diagnostics", "npy", "rng", "detmath", "report"},
	"executors":   {"kinds", "store", "graph"},
	"scheduler":   {"executors", "graph"},
}

func TestImportDirections(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for pkg, ok := range allowed {
		permitted := map[string]bool{pkg: true}
		for _, p := range ok {
			permitted[p] = true
		}
		dir := filepath.Join(root, pkg)
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			continue // not written yet
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Errorf("parse %s: %v", file, err)
				continue
			}
			for _, imp := range f.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(path, module) {
					continue
				}
				target := strings.SplitN(strings.TrimPrefix(path, module), "/", 2)[0]
				if !permitted[target] {
					rel, _ := filepath.Rel(root, file)
					t.Errorf("%s imports %s; package %s may import only %v", rel, path, pkg, ok)
				}
			}
		}
	}
}

func TestEveryPackageListed(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	skip := map[string]bool{"cmd": true, "internal": true, "examples": true, "docs": true}
	for _, e := range entries {
		if !e.IsDir() || skip[e.Name()] || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(root, e.Name(), "*.go"))
		if len(files) == 0 {
			continue
		}
		if _, ok := allowed[e.Name()]; !ok {
			t.Errorf("package %s has no entry in the import rules; add one with the packages it may import", e.Name())
		}
	}
}
