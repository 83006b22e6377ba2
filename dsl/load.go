package dsl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/llcflow/llcflow/graph"
)

// Options are the inputs of Load that come from the command line and the
// environment rather than from the configuration files.
type Options struct {
	// Vars are --var name=value arguments, in command-line order.
	Vars []string
	// VarFiles are --var-file paths, in command-line order.
	VarFiles []string
	// Preset is the --preset name, or "" for none.
	Preset string
	// Environ is the environment in os.Environ form. Its LLCFLOW_VAR_name
	// entries set variables.
	Environ []string
	// Registry validates node blocks. With a nil Registry every kind is
	// accepted, attributes are passed through unchanged, kind is always
	// required and Def.Version is empty.
	Registry Registry
}

// Workflow is a loaded configuration: every node instance after sweep
// expansion, with the sources needed to print diagnostics. When Load also
// returns errors, the workflow contains only the parts that evaluated cleanly.
type Workflow struct {
	// Defs are the node instances of dataset, erm, target and sampler
	// blocks, every input before the nodes that read it. Instances of one
	// block may share their Params map and nested values, so parameters
	// are read-only.
	Defs []graph.Def
	// Axes are the sweep axes in sweep-block order.
	Axes []Axis
	// Backends are the evaluated attributes of each backend block, keyed by
	// its label ("slurm", "modal", "local").
	Backends map[string]map[string]any
	// Files are the parsed configuration and variable files, keyed by the
	// file name used in diagnostic ranges.
	Files map[string]*hcl.File
	// Paths are the configuration files read, sorted. Variable files are in
	// Files but not here.
	Paths []string
}

// Axis is one sweep axis and its values: float64, string or bool.
type Axis struct {
	Name   string
	Values []any
}

// maxInstances bounds the instances of one block, because every instance is
// evaluated and held in memory during expansion.
const maxInstances = 1_000_000

// Load reads the given files and directories (a directory contributes every
// *.hcl file in it, sorted, not recursing), evaluates the configuration with
// the variables from opts and expands the sweep. It reports every problem it
// finds in one pass rather than stopping at the first, and never writes to
// disk.
func Load(paths []string, opts Options) (*Workflow, hcl.Diagnostics) {
	sources, diags := readSources(paths)
	w, more := loadSources(sources, opts)
	diags = append(diags, more...)
	return w, finishDiagnostics(diags, w.Files)
}

// source is one configuration file's name and content.
type source struct {
	filename string
	bytes    []byte
}

func readSources(paths []string) ([]source, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if len(paths) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "No configuration file or directory was given. Pass one or more .hcl files or directories that contain them.",
		})
		return nil, diags
	}
	var names []string
	seen := map[string]bool{}
	add := func(name string) {
		if key := filepath.Clean(name); !seen[key] {
			seen[key] = true
			names = append(names, name)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			diags = append(diags, readError(p, err))
			continue
		}
		if !info.IsDir() {
			add(p)
			continue
		}
		found, err := hclFilesIn(p)
		if err != nil {
			diags = append(diags, readError(p, err))
			continue
		}
		if len(found) == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No configuration files",
				Detail:   fmt.Sprintf("The directory %s contains no .hcl files. Pass a directory that contains the configuration, or the files themselves.", p),
			})
		}
		for _, f := range found {
			add(f)
		}
	}
	sort.Strings(names)
	var sources []source
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, readError(name, err))
			continue
		}
		sources = append(sources, source{filename: name, bytes: b})
	}
	return sources, diags
}

// hclFilesIn lists the regular *.hcl files directly inside dir, sorted.
func hclFilesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		full := filepath.Join(dir, e.Name())
		info, err := os.Stat(full) // follows symbolic links
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		files = append(files, full)
	}
	return files, nil
}

func readError(name string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Cannot read configuration",
		Detail:   fmt.Sprintf("Reading %s failed: %v. Check that the path exists and is readable.", name, err),
	}
}

// loader is the state of one Load call.
type loader struct {
	opts  Options
	funcs map[string]function.Function
	diags hcl.Diagnostics

	files  map[string]*hcl.File
	paths  []string
	broken map[string]bool // files with syntax errors, declared but not evaluated

	variables     map[string]*variable
	variableOrder []*variable
	presets       map[string]*preset
	presetOrder   []*preset
	sweepBlock    *hclsyntax.Block
	axes          []*axis
	axisByName    map[string]*axis
	locals        map[string]*item
	blocks        map[string]map[string]*item // block type, then name
	items         []*item                     // locals and node blocks in source order
	backends      map[string]*backend
	backendOrder  []*backend

	varObject      cty.Value
	defs           []graph.Def
	seen           map[string]bool // keys of the diagnostics recorded so far
	normalizeCache map[normalizeKey]normalized
}

func newLoader(opts Options) *loader {
	l := &loader{
		opts:       opts,
		funcs:      functions(),
		files:      map[string]*hcl.File{},
		broken:     map[string]bool{},
		variables:  map[string]*variable{},
		presets:    map[string]*preset{},
		axisByName: map[string]*axis{},
		locals:     map[string]*item{},
		blocks:     map[string]map[string]*item{},
		backends:   map[string]*backend{},
		seen:       map[string]bool{},
	}
	for _, t := range nodeBlockTypes {
		l.blocks[t] = map[string]*item{}
	}
	return l
}

// loadSources runs every phase of Load on files already read.
func loadSources(sources []source, opts Options) (*Workflow, hcl.Diagnostics) {
	l := newLoader(opts)
	for _, s := range sources {
		l.parse(s)
	}
	l.declareAll()
	l.resolveVariables()
	l.collectReferences()
	order := l.sortItems()
	l.evaluateSweep()
	l.computeAxes(order)
	l.evaluateItems(order)
	backends := l.evaluateBackends()
	return l.workflow(backends), l.diags
}

func (l *loader) parse(s source) {
	l.paths = append(l.paths, s.filename)
	file, diags := parseConfig(s.bytes, s.filename)
	l.extend(diags)
	if file == nil {
		l.broken[s.filename] = true
		return
	}
	l.files[s.filename] = file
	if diags.HasErrors() {
		l.broken[s.filename] = true
	}
}

// parseConfig parses HCL native syntax. The parser panics when it detects a
// broken invariant of its own, and that panic becomes an error here because
// Load must not panic on any input.
func parseConfig(src []byte, filename string) (file *hcl.File, diags hcl.Diagnostics) {
	defer func() {
		if r := recover(); r != nil {
			file = nil
			start := hcl.InitialPos
			diags = hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid HCL syntax",
				Detail:   fmt.Sprintf("The HCL parser stopped on this file: %v. Check it for unbalanced brackets, braces or quotes.", r),
				Subject:  &hcl.Range{Filename: filename, Start: start, End: start},
			}}
		}
	}()
	return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
}

func (l *loader) workflow(backends map[string]map[string]any) *Workflow {
	w := &Workflow{
		Defs:     l.defs,
		Backends: backends,
		Files:    l.files,
		Paths:    l.paths,
	}
	for _, a := range l.axes {
		w.Axes = append(w.Axes, Axis{Name: a.name, Values: a.goValues})
	}
	return w
}

// addDiag records a diagnostic unless an identical one is recorded, so that
// an error repeated by every instance of a swept block is reported once.
func (l *loader) addDiag(d *hcl.Diagnostic) {
	key := diagnosticKey(d)
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.diags = append(l.diags, d)
}

func (l *loader) extend(diags hcl.Diagnostics) {
	for _, d := range diags {
		l.addDiag(d)
	}
}

func (l *loader) errorAt(subject hcl.Range, context *hcl.Range, summary, detail string) *hcl.Diagnostic {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  subject.Ptr(),
		Context:  context,
	}
	l.addDiag(d)
	return d
}

// errorNoRange records a problem in a command-line or environment value,
// which has no source range.
func (l *loader) errorNoRange(summary, detail string) {
	l.addDiag(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail})
}

// position returns "FILE:LINE" of a range, for messages and Def.Source.
func position(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}
