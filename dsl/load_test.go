package dsl

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/llcflow/llcflow/graph"
)

// at is the start of a diagnostic's Subject: a file's base name, a line and
// a column. The zero at stands for a diagnostic without a range.
type at struct {
	file      string
	line, col int
}

func (a at) String() string {
	if a.file == "" {
		return "(no range)"
	}
	return fmt.Sprintf("%s:%d:%d", a.file, a.line, a.col)
}

func positionOf(r *hcl.Range) at {
	if r == nil {
		return at{}
	}
	return at{file: filepath.Base(r.Filename), line: r.Start.Line, col: r.Start.Column}
}

// errorPositions returns where each error diagnostic starts, in order.
func errorPositions(diags hcl.Diagnostics) []at {
	var out []at
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, positionOf(d.Subject))
		}
	}
	return out
}

// writeFiles writes name → content into a fresh directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadFiles writes files into a directory and loads it with the fake
// registry. Relative VarFiles are taken from that directory.
func loadFiles(t *testing.T, files map[string]string, opts Options) (*Workflow, hcl.Diagnostics) {
	t.Helper()
	dir := writeFiles(t, files)
	if opts.Registry == nil {
		opts.Registry = fakeRegistry{}
	}
	for i, f := range opts.VarFiles {
		opts.VarFiles[i] = filepath.Join(dir, f)
	}
	return Load([]string{dir}, opts)
}

// mustLoad loads files and fails the test on any error diagnostic.
func mustLoad(t *testing.T, files map[string]string, opts Options) *Workflow {
	t.Helper()
	w, diags := loadFiles(t, files, opts)
	if diags.HasErrors() {
		var b strings.Builder
		WriteDiagnostics(&b, diags, w.Files, 0, false)
		t.Fatalf("unexpected errors:\n%s", b.String())
	}
	return w
}

func defsOfType(w *Workflow, typ string) []graph.Def {
	var out []graph.Def
	for _, d := range w.Defs {
		if d.Type == typ {
			out = append(out, d)
		}
	}
	return out
}

func addresses(defs []graph.Def) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.Address
	}
	return out
}

func findDef(t *testing.T, w *Workflow, address string) graph.Def {
	t.Helper()
	for _, d := range w.Defs {
		if d.Address == address {
			return d
		}
	}
	t.Fatalf("no node %s among %v", address, addresses(w.Defs))
	return graph.Def{}
}

func TestLoadExpandsSweepByDependency(t *testing.T) {
	w, diags := Load([]string{"testdata/sweep.hcl"}, Options{Registry: fakeRegistry{}})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	wantCounts := map[string]int{"dataset": 3, "erm": 6, "sampler": 6, "model": 0}
	for typ, want := range wantCounts {
		if got := len(defsOfType(w, typ)); got != want {
			t.Errorf("%s nodes: got %d, want %d", typ, got, want)
		}
	}
	wantERM := []string{
		"erm.fit[seed=0,width=8]", "erm.fit[seed=0,width=16]",
		"erm.fit[seed=1,width=8]", "erm.fit[seed=1,width=16]",
		"erm.fit[seed=2,width=8]", "erm.fit[seed=2,width=16]",
	}
	if got := addresses(defsOfType(w, "erm")); !slices.Equal(got, wantERM) {
		t.Errorf("erm addresses: got %v, want %v", got, wantERM)
	}
	wantAxes := []Axis{{Name: "seed", Values: []any{0.0, 1.0, 2.0}}, {Name: "width", Values: []any{8.0, 16.0}}}
	if !reflect.DeepEqual(w.Axes, wantAxes) {
		t.Errorf("axes: got %v, want %v", w.Axes, wantAxes)
	}
}

func TestLoadResolvesInstanceReferences(t *testing.T) {
	w, diags := Load([]string{"testdata/sweep.hcl"}, Options{Registry: fakeRegistry{}})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	fit := findDef(t, w, "erm.fit[seed=1,width=16]")
	wantInputs := []graph.InputRef{{Role: "dataset", Address: "dataset.teacher[seed=1]"}}
	if !reflect.DeepEqual(fit.Inputs, wantInputs) {
		t.Errorf("erm inputs: got %v, want %v", fit.Inputs, wantInputs)
	}
	if _, ok := fit.Params["dataset"]; ok {
		t.Errorf("erm params still hold the dataset reference: %v", fit.Params)
	}
	wantModel := map[string]any{"kind": "mlp", "widths": []any{4.0, 16.0, 1.0}, "activation": "tanh"}
	if !reflect.DeepEqual(fit.Params["model"], wantModel) {
		t.Errorf("inlined model: got %v, want %v", fit.Params["model"], wantModel)
	}
	wantAxes := []graph.AxisValue{{Name: "seed", Value: 1.0}, {Name: "width", Value: 16.0}}
	if !reflect.DeepEqual(fit.Axes, wantAxes) {
		t.Errorf("erm axes: got %v, want %v", fit.Axes, wantAxes)
	}
	if fit.Kind != "adam" || fit.Version != "adam/1" {
		t.Errorf("erm kind and version: got %q %q, want the single kind adam, adam/1", fit.Kind, fit.Version)
	}
	if fit.Source != "testdata/sweep.hcl:31" {
		t.Errorf("erm source: got %q, want testdata/sweep.hcl:31", fit.Source)
	}

	sgld := findDef(t, w, "sampler.sgld[seed=2,width=8]")
	wantInputs = []graph.InputRef{{Role: "erm", Address: "erm.fit[seed=2,width=8]"}}
	if !reflect.DeepEqual(sgld.Inputs, wantInputs) {
		t.Errorf("sampler inputs: got %v, want %v", sgld.Inputs, wantInputs)
	}
	wantParams := map[string]any{"step_size": 1e-4, "chains": 4.0}
	if !reflect.DeepEqual(sgld.Params, wantParams) {
		t.Errorf("sampler params: got %v, want %v", sgld.Params, wantParams)
	}

	data := findDef(t, w, "dataset.teacher[seed=2]")
	if data.Params["seed"] != 2.0 || data.Params["n"] != 1000.0 {
		t.Errorf("dataset params: got %v, want seed 2 and n 1000", data.Params)
	}
}

func TestLoadOrdersInputsFirst(t *testing.T) {
	w, diags := Load([]string{"testdata/sweep.hcl"}, Options{Registry: fakeRegistry{}})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	seen := map[string]bool{}
	for _, d := range w.Defs {
		for _, in := range d.Inputs {
			if !seen[in.Address] {
				t.Errorf("%s comes before its input %s", d.Address, in.Address)
			}
		}
		seen[d.Address] = true
	}
}

func TestLoadModelAxesReachERM(t *testing.T) {
	w := mustLoad(t, map[string]string{"main.hcl": `
sweep {
  act   = ["tanh", "relu"]
  width = [4]
}
dataset "d" {
  kind = "gauss"
  n    = 10
}
model "m" {
  kind       = "mlp"
  widths     = [sweep.width]
  activation = sweep.act
}
erm "fit" {
  dataset = dataset.d
  model   = model.m
}
`}, Options{})
	want := []string{"dataset.d", "erm.fit[act=tanh,width=4]", "erm.fit[act=relu,width=4]"}
	if got := addresses(w.Defs); !slices.Equal(got, want) {
		t.Errorf("addresses: got %v, want %v", got, want)
	}
	relu := findDef(t, w, "erm.fit[act=relu,width=4]")
	if got := relu.Params["model"].(map[string]any)["activation"]; got != "relu" {
		t.Errorf("inlined activation: got %v, want relu", got)
	}
}

func TestAddressFormatting(t *testing.T) {
	tests := []struct {
		value any
		want  string
	}{
		{1000.0, "1000"},
		{1e6, "1000000"},
		{1e-4, "0.0001"},
		{1e-5, "1e-05"},
		{0.5, "0.5"},
		{-2.0, "-2"},
		{-0.25, "-0.25"},
		{0.1, "0.1"},
		{1e21, "1e+21"},
		{true, "true"},
		{false, "false"},
		{"adam", "adam"},
		{"gauss-iso_2", "gauss-iso_2"},
		{"with space", `"with space"`},
		{"2x", `"2x"`},
		{"-x", `"-x"`},
		{"", `""`},
		{"true", `"true"`},
		{`say "hi"`, `"say \"hi\""`},
		{"a\nb\\c", `"a\nb\\c"`},
		{"${x}", `"$${x}"`},
		{"é", `"é"`},
	}
	for _, tt := range tests {
		if got := formatLiteral(tt.value); got != tt.want {
			t.Errorf("formatLiteral(%#v): got %s, want %s", tt.value, got, tt.want)
		}
	}
}

func TestLoadAddressesFromSweepValues(t *testing.T) {
	w := mustLoad(t, map[string]string{"main.hcl": `
sweep {
  label = ["two words", "plain"]
  shift = [-1.5]
  flag  = [true]
}
dataset "d" {
  kind  = "gauss"
  n     = sweep.shift
  label = sweep.flag ? sweep.label : "off"
}
`}, Options{})
	want := []string{
		`dataset.d[label="two words",shift=-1.5,flag=true]`,
		`dataset.d[label=plain,shift=-1.5,flag=true]`,
	}
	if got := addresses(w.Defs); !slices.Equal(got, want) {
		t.Errorf("addresses: got %v, want %v", got, want)
	}
}

// precedenceSources are the ways to set a variable, lowest precedence
// first. Each sets n to its own index plus one.
var precedenceSources = []string{"default", "preset", "environment", "var-file", "var"}

func precedenceCase(t *testing.T, enabled []int) (map[string]string, Options) {
	t.Helper()
	defaultLine := ""
	opts := Options{}
	files := map[string]string{}
	preset := ""
	for _, s := range enabled {
		value := s + 1
		switch precedenceSources[s] {
		case "default":
			defaultLine = fmt.Sprintf("default = %d", value)
		case "preset":
			preset = fmt.Sprintf("n = %d", value)
			opts.Preset = "p"
		case "environment":
			opts.Environ = []string{"HOME=/nowhere", fmt.Sprintf("LLCFLOW_VAR_n=%d", value)}
		case "var-file":
			files["set.vars"] = fmt.Sprintf("n = %d\n", value)
			opts.VarFiles = []string{"set.vars"}
		case "var":
			opts.Vars = []string{fmt.Sprintf("n=%d", value)}
		}
	}
	files["main.hcl"] = fmt.Sprintf(`
variable "n" {
  type = number
  %s
}
preset "p" {
  %s
}
dataset "d" {
  kind = "gauss"
  n    = var.n
}
`, defaultLine, preset)
	return files, opts
}

func TestVariablePrecedencePairs(t *testing.T) {
	for low := range precedenceSources {
		for high := low + 1; high < len(precedenceSources); high++ {
			name := precedenceSources[low] + " under " + precedenceSources[high]
			t.Run(name, func(t *testing.T) {
				files, opts := precedenceCase(t, []int{low, high})
				w := mustLoad(t, files, opts)
				got := findDef(t, w, "dataset.d").Params["n"]
				if want := float64(high + 1); got != want {
					t.Errorf("n: got %v, want %v from the %s", got, want, precedenceSources[high])
				}
			})
		}
	}
}

func TestVariableRepeatedSourcesLastWins(t *testing.T) {
	files := map[string]string{
		"main.hcl": `
variable "n" {
  type = number
}
dataset "d" {
  kind = "gauss"
  n    = var.n
}
`,
		"one.vars": "n = 1\n",
		"two.vars": "n = 2\n",
	}
	tests := []struct {
		name string
		opts Options
		want float64
	}{
		{"var files in order", Options{VarFiles: []string{"two.vars", "one.vars"}}, 1},
		{"vars in order", Options{Vars: []string{"n=3", "n=4"}}, 4},
		{"var after var files", Options{VarFiles: []string{"one.vars"}, Vars: []string{"n=5"}}, 5},
		{"later environment entry", Options{Environ: []string{"LLCFLOW_VAR_n=6", "LLCFLOW_VAR_n=7"}}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustLoad(t, files, tt.opts)
			if got := findDef(t, w, "dataset.d").Params["n"]; got != tt.want {
				t.Errorf("n: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVariableCollectionTypes(t *testing.T) {
	files := map[string]string{"main.hcl": `
variable "widths" {
  type = list(number)
}
variable "name" {
  type    = string
  default = "x"
}
model "m" {
  kind       = "mlp"
  widths     = var.widths
  activation = var.name
}
dataset "d" {
  kind = "gauss"
  n    = 1
}
erm "fit" {
  dataset = dataset.d
  model   = model.m
}
`}
	tests := []struct {
		name string
		opts Options
		want []any
	}{
		{"var", Options{Vars: []string{"widths=[4, 8, 1]"}}, []any{4.0, 8.0, 1.0}},
		{"environment", Options{Environ: []string{"LLCFLOW_VAR_widths=[2]"}}, []any{2.0}},
		{"string converts", Options{Vars: []string{`widths=["3"]`}}, []any{3.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustLoad(t, files, tt.opts)
			model := findDef(t, w, "erm.fit").Params["model"].(map[string]any)
			if !reflect.DeepEqual(model["widths"], tt.want) {
				t.Errorf("widths: got %v, want %v", model["widths"], tt.want)
			}
		})
	}
	t.Run("string variable keeps brackets", func(t *testing.T) {
		w := mustLoad(t, files, Options{Vars: []string{"widths=[1]", "name=[not a list]"}})
		model := findDef(t, w, "erm.fit").Params["model"].(map[string]any)
		if got := model["activation"]; got != "[not a list]" {
			t.Errorf("activation: got %v, want the raw string", got)
		}
	})
}

func TestEnvironmentIgnoresUndeclared(t *testing.T) {
	_, diags := loadFiles(t, map[string]string{"main.hcl": `
dataset "d" {
  kind = "gauss"
  n    = 1
}
`}, Options{Environ: []string{"LLCFLOW_VAR_unknown=1", "LLCFLOW_VAR_=2", "LLCFLOW_VAR_x"}})
	if len(diags) != 0 {
		t.Errorf("got %d diagnostics for undeclared environment variables, want 0: %v", len(diags), diags)
	}
}

func TestLoadDirectory(t *testing.T) {
	w, diags := Load([]string{"testdata/multi"}, Options{Registry: fakeRegistry{}})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	wantPaths := []string{
		filepath.Join("testdata", "multi", "a_data.hcl"),
		filepath.Join("testdata", "multi", "b_locals.hcl"),
		filepath.Join("testdata", "multi", "c_fit.hcl"),
	}
	if !slices.Equal(w.Paths, wantPaths) {
		t.Errorf("paths: got %v, want %v", w.Paths, wantPaths)
	}
	want := []string{"dataset.d[seed=1]", "dataset.d[seed=2]", "erm.fit[seed=1]", "erm.fit[seed=2]"}
	if got := addresses(w.Defs); !slices.Equal(got, want) {
		t.Errorf("addresses: got %v, want %v", got, want)
	}
	if got := findDef(t, w, "dataset.d[seed=2]").Params["n"]; got != 64.0 {
		t.Errorf("n from the local in another file: got %v, want 64", got)
	}
}

func TestLoadTargetsAndBackends(t *testing.T) {
	w, diags := Load([]string{"testdata/targets.hcl"}, Options{Registry: fakeRegistry{}})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	quad := defsOfType(w, "sampler")
	wantAddresses := []string{
		"sampler.sgld_quad[step=0.0001,dim=2]", "sampler.sgld_quad[step=0.0001,dim=3]",
		"sampler.sgld_quad[step=0.5,dim=2]", "sampler.sgld_quad[step=0.5,dim=3]",
		"sampler.sgld_quad[step=-2,dim=2]", "sampler.sgld_quad[step=-2,dim=3]",
		"sampler.sgld_quad[step=1000,dim=2]", "sampler.sgld_quad[step=1000,dim=3]",
		"sampler.hmc_crossing",
	}
	if got := addresses(quad); !slices.Equal(got, wantAddresses) {
		t.Errorf("sampler addresses: got %v, want %v", got, wantAddresses)
	}
	s := findDef(t, w, "sampler.sgld_quad[step=-2,dim=3]")
	if s.Params["step_size"] != 2.0 {
		t.Errorf("step_size: got %v, want 2", s.Params["step_size"])
	}
	wantInputs := []graph.InputRef{{Role: "target", Address: "target.quad[dim=3]"}}
	if !reflect.DeepEqual(s.Inputs, wantInputs) {
		t.Errorf("inputs: got %v, want %v", s.Inputs, wantInputs)
	}
	wantSlurm := map[string]any{"partition": "cpu", "timeout_min": 180.0, "setup": []any{"module load go"}}
	if !reflect.DeepEqual(w.Backends["slurm"], wantSlurm) {
		t.Errorf("slurm backend: got %v, want %v", w.Backends["slurm"], wantSlurm)
	}
}

func TestBackendUsesVariablesAndLocals(t *testing.T) {
	w := mustLoad(t, map[string]string{"main.hcl": `
variable "hours" {
  default = 2
}
locals {
  minutes = var.hours * 60
}
backend "slurm" {
  timeout_min = local.minutes
  account     = "lab-${var.hours}"
}
`}, Options{})
	want := map[string]any{"timeout_min": 120.0, "account": "lab-2"}
	if !reflect.DeepEqual(w.Backends["slurm"], want) {
		t.Errorf("slurm backend: got %v, want %v", w.Backends["slurm"], want)
	}
}

func TestLoadWithoutRegistryPassesAttributes(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.hcl": `
dataset "d" {
  kind  = "anything"
  extra = [1, "a"]
}
`})
	w, diags := Load([]string{dir}, Options{})
	if diags.HasErrors() {
		t.Fatalf("unexpected errors: %v", diags)
	}
	d := findDef(t, w, "dataset.d")
	if d.Kind != "anything" || !reflect.DeepEqual(d.Params["extra"], []any{1.0, "a"}) {
		t.Errorf("def: got kind %q params %v", d.Kind, d.Params)
	}
}
