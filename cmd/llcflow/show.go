package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

var runIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

type showCmd struct {
	Target  string   `arg:"" help:"A run id (16 hex digits) or a node address such as erm.fit[seed=0]."`
	Paths   []string `arg:"" optional:"" help:"HCL files or directories, to resolve an address (default: the current directory)." type:"path"`
	Var     []string `help:"Set a variable, NAME=VALUE (repeatable)." placeholder:"NAME=VALUE" sep:"none"`
	VarFile []string `help:"Read variable values from an HCL file (repeatable)." placeholder:"FILE" sep:"none" type:"path"`
	Preset  string   `help:"Use the variable values of a preset block."`
}

func (s *showCmd) Help() string {
	return `Prints a run's manifest, provenance, files and result. Example:

  llcflow show 0123456789abcdef
  llcflow show 'sampler.sgld[seed=0]' examples/quick.hcl

Exit codes: 0 success, 1 no valid run (never run, failed, corrupt) or
unreadable, 2 usage error.`
}

func (s *showCmd) Run(c *cli) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	runID, address := s.Target, ""
	if !runIDPattern.MatchString(s.Target) {
		lf := loadFlags{Paths: s.Paths, Var: s.Var, VarFile: s.VarFile, Preset: s.Preset}
		l, err := lf.load(c, false)
		if err != nil {
			return err
		}
		n, err := resolveAddress(l, s.Target)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		runID, address = n.RunID, n.Address
		status, detail, err := st.Status(n.RunID, n.Key)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		if status != graph.Valid {
			// The description goes to stdout, and exit code 1 reports that
			// no valid run exists, as for an unknown run id.
			printNoRun(st, n, status, detail)
			return &exitError{code: exitFailure}
		}
	}
	m, err := st.ReadManifest(runID)
	if err != nil {
		if f, ok, ferr := st.Failure(runID); ferr == nil && ok {
			fmt.Printf("run %s has no valid run; its last attempt failed at stage %s: %s\nlog: %s\n",
				runID, f.Stage, f.Error, st.FailureLog(runID))
			return &exitError{code: exitFailure}
		}
		if _, statErr := os.Stat(st.RunDir(runID)); errors.Is(statErr, fs.ErrNotExist) {
			return &exitError{code: exitFailure, err: fmt.Errorf("run %s is not in the store %s; "+
				"llcflow runs lists the runs, and llcflow plan FILE their addresses", runID, st.Root())}
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("run %s: %w", runID, err)}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	if address != "" {
		fmt.Fprintf(tw, "address\t%s\n", address)
	}
	fmt.Fprintf(tw, "run id\t%s\nkey\t%s\ntype\t%s\nkind\t%s\nversion\t%s\ndirectory\t%s\n",
		m.RunID, m.Key, m.Type, m.Kind, m.Version, st.RunDir(runID))
	for _, in := range m.Inputs {
		fmt.Fprintf(tw, "input %s\t%s\n", in.Role, in.RunID)
	}
	if p, err := st.ReadProvenance(runID); err == nil {
		fmt.Fprintf(tw, "first address\t%s\nexecutor\t%s\nhost\t%s\nstarted\t%s\nwall time\t%.1fs\nllcflow\t%s\n",
			p.Address, p.Executor, p.Host, p.StartedAt.Format("2006-01-02 15:04:05 MST"), p.WallSeconds, p.LLCFlowVersion)
	}
	if p, err := st.ReadProvenance(runID); err == nil {
		keys := make([]string, 0, len(p.Extra))
		for k := range p.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%v\n", strings.ReplaceAll(k, "_", " "), p.Extra[k])
		}
	}
	if data, err := os.ReadFile(filepath.Join(st.Root(), "slurm", "jobs", runID+".json")); err == nil {
		var job map[string]any
		if json.Unmarshal(data, &job) == nil {
			fmt.Fprintf(tw, "slurm job record\t%s\n", filepath.Join(st.Root(), "slurm", "jobs", runID+".json"))
			for _, k := range []string{"job_id", "array_task", "attempt", "submit_time", "log"} {
				if v, ok := job[k]; ok {
					fmt.Fprintf(tw, "slurm %s\t%v\n", strings.ReplaceAll(k, "_", " "), v)
				}
			}
		}
	}
	for _, f := range m.Files {
		fmt.Fprintf(tw, "file\t%s (%d bytes)\n", f.Name, f.Size)
	}
	tw.Flush()
	params, _ := json.MarshalIndent(m.Params, "", "  ")
	fmt.Printf("params:\n%s\n", params)
	var result map[string]any
	if err := st.ReadResult(runID, &result); err == nil {
		data, _ := json.MarshalIndent(result, "", "  ")
		fmt.Printf("result:\n%s\n", data)
	}
	return nil
}

// resolveAddress returns the node with an address, or the only node that
// the address read as a pattern matches. Several matches are an error that
// lists them.
func resolveAddress(l *loaded, target string) (*graph.Node, error) {
	if n := l.graph.Node(target); n != nil {
		return n, nil
	}
	pat, err := graph.ParsePattern(target)
	if err != nil {
		return nil, fmt.Errorf("no node has the address %q; llcflow plan lists the addresses", target)
	}
	var matches []*graph.Node
	for _, n := range l.graph.Nodes {
		if pat.Match(n) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("no node has the address %q; llcflow plan lists the addresses", target)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, n := range matches {
		names[i] = "  " + n.Address
	}
	return nil, fmt.Errorf("%q matches %d nodes; show one of them:\n%s", target, len(matches),
		strings.Join(names, "\n"))
}

// printNoRun explains a node that has no valid run: never run, corrupt or
// failed, with the failure's stage, error and log.
func printNoRun(st *store.Store, n *graph.Node, status graph.RunStatus, detail string) {
	switch status {
	case graph.Missing:
		if c, ok, err := st.Cancellation(n.RunID); err == nil && ok && c.Key == n.Key {
			fmt.Printf("%s (run %s) has no run in %s: its last attempt, started %s, was cancelled at %s "+
				"(%s); llcflow apply runs it again\n", n.Address, n.RunID, st.Root(),
				c.StartedAt.Format(time.RFC3339), c.Time.Format(time.RFC3339), c.Reason)
			return
		}
		fmt.Printf("%s (run %s) has not been run: %s holds no run or failure for its key; "+
			"llcflow apply runs it\n", n.Address, n.RunID, st.Root())
	case graph.Corrupt:
		fmt.Printf("%s (run %s) has a corrupt run in %s, which the next apply recomputes: %s\n",
			n.Address, n.RunID, st.Root(), detail)
	case graph.Failed:
		fmt.Printf("%s (run %s) has no valid run in %s.\n", n.Address, n.RunID, st.Root())
		if f, ok, err := st.Failure(n.RunID); err == nil && ok {
			fmt.Printf("Its last attempt failed at stage %s, %s:\n  %s\nlog: %s\n", f.Stage,
				f.Time.Format(time.RFC3339), strings.ReplaceAll(f.Error, "\n", "\n  "), st.FailureLog(n.RunID))
		}
	}
}
