package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

type gcCmd struct {
	Keep      []string `help:"HCL file or directory whose nodes' runs are kept, with their inputs (repeatable)." placeholder:"FILE" sep:"none" type:"path"`
	Var       []string `help:"Set a variable of the --keep workflows, NAME=VALUE (repeatable)." placeholder:"NAME=VALUE" sep:"none"`
	VarFile   []string `help:"Read variable values of the --keep workflows from an HCL file (repeatable)." placeholder:"FILE" sep:"none" type:"path"`
	Preset    string   `help:"Use the variable values of a preset block of the --keep workflows."`
	OlderThan string   `help:"Remove only runs that finished longer ago than this, such as 36h, 7d or 2w." placeholder:"AGE"`
	DryRun    bool     `help:"List what would be removed and the bytes it would free, and remove nothing."`
	Force     bool     `help:"Remove the runs even when the --keep files reference none of the runs in the store."`
}

func (g *gcCmd) Help() string {
	return `Removes the runs that no kept HCL file references, their failure records and
checkpoints, and the temporary directories that killed processes left, then
reports the bytes freed. A run is referenced when it is the run of a node of a
--keep workflow, whether that node is cached now or not, or a plot run of
llcflow report all of whose inputs are referenced. Runs that another process
is writing are never removed, and gc does nothing while an apply runs on the
store. When the --keep files reference none of the runs in the store, which
happens when they load with other variable values than at apply time, gc
stops unless --force is given. Examples:

  llcflow gc --keep examples/ --dry-run
  llcflow gc --keep examples/quick.hcl --older-than 30d
  llcflow gc --older-than 90d          # every run older than 90 days

At least one of --keep and --older-than is required. Exit codes: 0 success,
1 failure (such as a --keep file that does not load), 2 usage error.`
}

// gcCandidate is something that gc removes.
type gcCandidate struct {
	runID   string
	what    string // "run", "failure record" or "temporary directory"
	address string
	bytes   int64
	temp    *store.TempDir
}

func (g *gcCmd) Run(c *cli) error {
	if len(g.Keep) == 0 && g.OlderThan == "" {
		return &exitError{code: exitUsage, err: errors.New("gc needs --keep FILE or --older-than AGE; " +
			"without either it would remove every run")}
	}
	var cutoff time.Time
	if g.OlderThan != "" {
		age, err := parseAge(g.OlderThan)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--older-than: %w", err)}
		}
		cutoff = time.Now().Add(-age)
	}
	kept, err := g.keptRuns(c)
	if err != nil {
		return err
	}

	st, err := c.openStore()
	if err != nil {
		return err
	}
	if !g.DryRun {
		lock, err := st.LockExclusive()
		if errors.Is(err, store.ErrInUse) {
			return &exitError{code: exitFailure, err: fmt.Errorf("an apply is running on the store %s "+
				"and may read any of its runs, so nothing was removed; run gc after it finishes", st.Root())}
		}
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		defer lock.Release()
	}
	candidates, err := gcCandidates(st, kept, cutoff)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if err := g.checkKeepMatches(st, kept, candidates); err != nil {
		return err
	}
	return g.remove(st, candidates, len(kept))
}

// keptRuns returns the run ids of every node of the --keep workflows.
func (g *gcCmd) keptRuns(c *cli) (map[string]bool, error) {
	kept := map[string]bool{}
	for _, path := range g.Keep {
		lf := loadFlags{Paths: []string{path}, Var: g.Var, VarFile: g.VarFile, Preset: g.Preset}
		l, err := lf.load(c, false)
		if err != nil {
			var ee *exitError
			if errors.As(err, &ee) && ee.err != nil {
				ee.err = fmt.Errorf("--keep %s: %w; nothing was removed", path, ee.err)
			}
			return nil, err
		}
		for _, n := range l.graph.Nodes {
			kept[n.RunID] = true
		}
	}
	return kept, nil
}

// gcCandidates lists the runs and failure records that are not kept and
// finished before cutoff (any time when cutoff is zero), and the unlocked
// temporary directories.
func gcCandidates(st *store.Store, kept map[string]bool, cutoff time.Time) ([]gcCandidate, error) {
	old := func(t time.Time) bool { return cutoff.IsZero() || (!t.IsZero() && t.Before(cutoff)) }
	rows, err := storeRows(st)
	if err != nil {
		return nil, err
	}
	keepDerived(st, rows, kept)
	var out []gcCandidate
	for _, row := range rows {
		if kept[row.RunID] || row.Status == "running" || !old(row.Finished) {
			continue
		}
		c := gcCandidate{runID: row.RunID, what: "run", bytes: row.Bytes}
		if row.Status == "failed" {
			c.what = "failure record"
		}
		if len(row.Addresses) > 0 {
			c.address = row.Addresses[len(row.Addresses)-1]
		}
		out = append(out, c)
	}
	temps, err := st.TempDirs()
	if err != nil {
		return nil, err
	}
	for i := range temps {
		if !temps[i].Locked {
			out = append(out, gcCandidate{runID: temps[i].RunID, what: "temporary directory",
				bytes: temps[i].Size, temp: &temps[i]})
		}
	}
	return out, nil
}

// checkKeepMatches stops gc when the --keep files reference none of the
// runs of the store but gc would remove runs, unless --force is given.
func (g *gcCmd) checkKeepMatches(st *store.Store, kept map[string]bool, candidates []gcCandidate) error {
	if len(g.Keep) == 0 || g.Force {
		return nil
	}
	runs := 0
	for _, c := range candidates {
		if c.what == "run" {
			runs++
		}
	}
	if runs == 0 {
		return nil
	}
	for id := range kept {
		if status, _, err := st.CheckRun(id); err == nil && status != graph.Missing {
			return nil
		}
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("the --keep files reference none of the runs "+
		"in %s, so gc would remove all %d of them; nothing was removed. Pass the --var, --var-file or "+
		"--preset values used at apply time, or --force to remove them anyway", st.Root(), runs)}
}

func (g *gcCmd) remove(st *store.Store, candidates []gcCandidate, kept int) error {
	verb := "removed"
	if g.DryRun {
		verb = "would remove"
	}
	var freed int64
	removed, skipped := 0, 0
	for _, c := range candidates {
		n, err := g.removeOne(st, c)
		if err != nil {
			skipped++
			fmt.Fprintf(os.Stderr, "llcflow: kept %s %s: %v\n", c.what, c.runID, err)
			continue
		}
		freed += n
		removed++
		name := c.runID
		if c.temp != nil {
			name = c.temp.Path
		}
		line := fmt.Sprintf("%s %s %s (%s)", verb, c.what, name, formatBytes(n))
		if c.address != "" {
			line += " " + c.address
		}
		fmt.Println(line)
	}
	if !g.DryRun {
		if _, err := st.CompactIndex(); err != nil {
			fmt.Fprintf(os.Stderr, "llcflow: warning: %v\n", err)
		}
	}
	summary := fmt.Sprintf("%s %d items, freeing %s (%d bytes); %d runs are referenced by --keep files",
		verb, removed, formatBytes(freed), freed, kept)
	if skipped > 0 {
		summary += fmt.Sprintf("; %d items were kept because they could not be removed", skipped)
	}
	fmt.Printf("\n%s%s.\n", string(summary[0]-'a'+'A'), summary[1:])
	if skipped > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}

// keepDerived adds to kept the runs of types that no HCL block makes, such
// as the plot runs of llcflow report, whose inputs are all kept.
func keepDerived(st *store.Store, rows []runRow, kept map[string]bool) {
	for _, row := range rows {
		switch row.Type {
		case "", "dataset", "erm", "target", "sampler":
			continue
		}
		m, err := st.ReadManifest(row.RunID)
		if err != nil || len(m.Inputs) == 0 {
			continue
		}
		all := true
		for _, in := range m.Inputs {
			all = all && kept[in.RunID]
		}
		if all {
			kept[row.RunID] = true
		}
	}
}

func (g *gcCmd) removeOne(st *store.Store, c gcCandidate) (int64, error) {
	switch {
	case g.DryRun:
		return c.bytes, nil
	case c.temp != nil:
		return st.RemoveTemp(*c.temp)
	case c.what == "failure record":
		return st.RemoveFailure(c.runID)
	default:
		return st.Remove(c.runID)
	}
}
