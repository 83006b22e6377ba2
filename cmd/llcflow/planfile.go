package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
	"github.com/llcflow/llcflow/store"
)

// savedPlanFormat identifies a file written by `llcflow plan --out`.
const savedPlanFormat = "llcflow-plan/1"

// savedPlan is a plan written by `plan --out`, with everything needed to
// plan again and tell whether the result is the same: the load options,
// the hashes of the files read, the store, and every node's key and action.
type savedPlan struct {
	Format         string    `json:"format"`
	CreatedAt      time.Time `json:"created_at"`
	LLCFlowVersion string    `json:"llcflow_version"`
	// WorkDir is the directory that relative paths are relative to.
	WorkDir string   `json:"work_dir"`
	Paths   []string `json:"paths"`
	Vars    []string `json:"vars,omitempty"`
	VarFile []string `json:"var_files,omitempty"`
	Preset  string   `json:"preset,omitempty"`
	// Environ are the LLCFLOW_VAR_ variables at planning time, which the
	// apply of the plan uses instead of its own.
	Environ []string       `json:"environ,omitempty"`
	Store   string         `json:"store"`
	NoSkip  bool           `json:"no_skip,omitempty"`
	Rerun   []string       `json:"rerun,omitempty"`
	Target  []string       `json:"target,omitempty"`
	Files   []savedFile    `json:"files"`
	Summary graph.Summary  `json:"summary"`
	Nodes   []savedPlanned `json:"nodes"`
}

// savedFile is one file that planning read, with its SHA-256.
type savedFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// savedPlanned is one node of a saved plan.
type savedPlanned struct {
	Address string         `json:"address"`
	Key     string         `json:"key"`
	Action  graph.Action   `json:"action"`
	Params  map[string]any `json:"params"`
}

// newSavedPlan records a plan made from the load flags and plan flags.
func newSavedPlan(l *loaded, st *store.Store, lf loadFlags, pf planFlags, p *graph.Plan) (*savedPlan, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("save plan: %w", err)
	}
	paths := lf.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	sp := &savedPlan{
		Format: savedPlanFormat, CreatedAt: time.Now().UTC(), LLCFlowVersion: executors.Version,
		WorkDir: wd, Paths: paths, Vars: lf.Var, VarFile: lf.VarFile, Preset: lf.Preset,
		Environ: varEnviron(os.Environ()), Store: st.Root(),
		NoSkip: pf.NoSkip, Rerun: pf.Rerun, Target: pf.Target, Summary: p.Summary,
	}
	sp.Files, err = hashFiles(wd, append(slices.Clone(l.workflow.Paths), lf.VarFile...))
	if err != nil {
		return nil, fmt.Errorf("save plan: %w", err)
	}
	for _, e := range p.Entries {
		sp.Nodes = append(sp.Nodes, savedPlanned{Address: e.Node.Address, Key: e.Node.Key,
			Action: e.Action, Params: e.Node.Params})
	}
	return sp, nil
}

// varEnviron returns the LLCFLOW_VAR_ entries of an environment, sorted.
func varEnviron(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "LLCFLOW_VAR_") {
			out = append(out, kv)
		}
	}
	sort.Strings(out)
	return out
}

// hashFiles returns the SHA-256 of each file, sorted by path. Relative
// paths are read relative to dir.
func hashFiles(dir string, paths []string) ([]savedFile, error) {
	var out []savedFile
	for _, p := range paths {
		sum, err := hashFile(absolute(dir, p))
		if err != nil {
			return nil, err
		}
		out = append(out, savedFile{Path: p, SHA256: sum})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func hashFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func absolute(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// write saves the plan to path atomically.
func (sp *savedPlan) write(path string) error {
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	perm := os.FileMode(0o644)
	if err := writeFileAtomic(path, append(data, '\n'), perm); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// readSavedPlan returns the plan saved in path, or nil when path is not a
// saved plan (a directory, an HCL file or any other file).
func readSavedPlan(path string) (*savedPlan, error) {
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || strings.HasSuffix(path, ".hcl") {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil
	}
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("{")) || !bytes.Contains(trimmed, []byte(`"format"`)) {
		return nil, nil
	}
	var sp savedPlan
	if err := json.Unmarshal(trimmed, &sp); err != nil {
		return nil, &exitError{code: exitFailure, err: fmt.Errorf("read saved plan %s: %w", path, err)}
	}
	if sp.Format != savedPlanFormat {
		return nil, &exitError{code: exitFailure, err: fmt.Errorf("%s has format %q; this llcflow "+
			"reads saved plans of format %q, so run llcflow plan --out again", path, sp.Format, savedPlanFormat)}
	}
	return &sp, nil
}

// replan loads the HCL files as the plan recorded them, plans them against
// the store and returns the new plan when it equals the saved one: the
// same nodes with the same keys and actions. A plan that differs is stale,
// and the error lists what changed, files included. A file that changed
// without changing any node, such as by a comment, only gets a note.
func (sp *savedPlan) replan(c *cli, st *store.Store, path string, asJSON bool) (*loaded, *graph.Plan, error) {
	if st.Root() != sp.Store {
		return nil, nil, &exitError{code: exitFailure, err: fmt.Errorf("the saved plan %s was made for "+
			"the store %s, but this apply uses %s; pass --store %s or plan again", path, sp.Store,
			st.Root(), sp.Store)}
	}
	var changes []string
	changes = append(changes, sp.fileChanges()...)

	l, plan, err := sp.plan(c, st, asJSON)
	if err != nil {
		if len(changes) > 0 {
			err = fmt.Errorf("%w (%s)", err, strings.Join(changes, "; "))
		}
		return nil, nil, staleError(path, []string{err.Error()})
	}
	changes = append(changes, sp.addedFiles(l.workflow.Paths)...)
	nodes := sp.nodeChanges(plan)
	if len(nodes) > 0 {
		return nil, nil, staleError(path, append(changes, nodes...))
	}
	if len(changes) > 0 {
		fmt.Fprintf(os.Stderr, "llcflow: note: %s since the plan %s was saved, but no node changed, "+
			"so the plan still applies\n", strings.Join(changes, "; "), path)
	}
	return l, plan, nil
}

// plan loads and plans with the recorded options.
func (sp *savedPlan) plan(c *cli, st *store.Store, asJSON bool) (*loaded, *graph.Plan, error) {
	paths := make([]string, len(sp.Paths))
	for i, p := range sp.Paths {
		paths[i] = absolute(sp.WorkDir, p)
	}
	varFiles := make([]string, len(sp.VarFile))
	for i, p := range sp.VarFile {
		varFiles[i] = absolute(sp.WorkDir, p)
	}

	wf, diags := dsl.Load(paths, dsl.Options{
		Vars: sp.Vars, VarFiles: varFiles, Preset: sp.Preset,
		Environ: sp.Environ, Registry: kinds.Registry{},
	})
	if diags.HasErrors() {
		printDiagnostics(c, wf, diags, asJSON)
		return nil, nil, fmt.Errorf("the HCL files no longer load (%s)", describeErrors(diags))
	}
	g, err := graph.Build(wf.Defs)
	if err != nil {
		return nil, nil, err
	}

	pf := planFlags{NoSkip: sp.NoSkip, Rerun: sp.Rerun, Target: sp.Target}
	opts, err := pf.options()
	if err != nil {
		return nil, nil, err
	}
	plan, _, err := makePlan(g, st, opts)
	if err != nil {
		return nil, nil, err
	}
	return &loaded{workflow: wf, graph: g}, plan, nil
}

// fileChanges lists the recorded files whose contents changed or that are
// gone.
func (sp *savedPlan) fileChanges() []string {
	var out []string
	for _, f := range sp.Files {
		sum, err := hashFile(absolute(sp.WorkDir, f.Path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, fmt.Sprintf("%s was removed", f.Path))
		case err != nil:
			out = append(out, fmt.Sprintf("%s cannot be read: %v", f.Path, err))
		case sum != f.SHA256:
			out = append(out, fmt.Sprintf("%s changed", f.Path))
		}
	}
	return out
}

// addedFiles lists the configuration files that planning reads now but did
// not read when the plan was saved.
func (sp *savedPlan) addedFiles(paths []string) []string {
	known := map[string]bool{}
	for _, f := range sp.Files {
		known[absolute(sp.WorkDir, f.Path)] = true
	}
	var out []string
	for _, p := range paths {
		if !known[absolute(sp.WorkDir, p)] {
			out = append(out, fmt.Sprintf("%s was added", p))
		}
	}
	return out
}

// nodeChanges lists the differences between the saved nodes and a new
// plan: nodes added or removed, keys changed (with the parameters that
// changed), and actions changed because the store changed.
func (sp *savedPlan) nodeChanges(p *graph.Plan) []string {
	current := make(map[string]graph.Entry, len(p.Entries))
	for _, e := range p.Entries {
		current[e.Node.Address] = e
	}
	var out []string
	saved := make(map[string]bool, len(sp.Nodes))
	for _, n := range sp.Nodes {
		saved[n.Address] = true
		e, ok := current[n.Address]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s is no longer in the workflow", n.Address))
		case e.Node.Key != n.Key:
			what := strings.Join(graph.DescribeParamChanges(n.Params, e.Node.Params), ", ")
			if what == "" {
				what = "its inputs or version changed"
			}
			out = append(out, fmt.Sprintf("%s has a new key: %s", n.Address, what))
		case e.Action != n.Action:
			out = append(out, fmt.Sprintf("%s was planned as %s but is now %s%s; the store changed",
				n.Address, n.Action, e.Action, reasonSuffix(e)))
		}
	}
	for _, e := range p.Entries {
		if !saved[e.Node.Address] {
			out = append(out, fmt.Sprintf("%s was added to the workflow", e.Node.Address))
		}
	}
	return out
}

func reasonSuffix(e graph.Entry) string {
	if e.Reason == nil {
		return ""
	}
	return " (" + e.Reason.Message + ")"
}

// staleError lists up to 10 changes that make a saved plan stale.
func staleError(path string, changes []string) error {
	const limit = 10
	shown := changes
	more := ""
	if len(shown) > limit {
		more = fmt.Sprintf("\n  and %d more", len(shown)-limit)
		shown = shown[:limit]
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("the saved plan %s is stale, so nothing was run:\n  %s%s\n"+
		"run llcflow plan --out %s again and review the new plan", path, strings.Join(shown, "\n  "), more, path)}
}

func joinSorted(list []string) string {
	sort.Strings(list)
	return strings.Join(list, ", ")
}
