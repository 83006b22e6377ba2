package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/llcflow/llcflow/executors/modal"
	"github.com/llcflow/llcflow/store"
)

type pullCmd struct {
	modalFlags
	File    []string `help:"HCL file or directory of *.hcl files (repeatable): pull the runs of its nodes, with its backend \"modal\" block's settings." type:"path" placeholder:"FILE" sep:"none"`
	Var     []string `help:"Set a variable of the --file workflow, NAME=VALUE (repeatable; the last one wins)." placeholder:"NAME=VALUE" sep:"none"`
	VarFile []string `help:"Read variable values of the --file workflow from an HCL file (repeatable)." placeholder:"FILE" sep:"none" type:"path"`
	Preset  string   `help:"Use the variable values of a preset block of the --file workflow."`
	Force   bool     `help:"Replace runs that are already valid in the local store."`
	RunIDs  []string `arg:"" optional:"" name:"run-id" help:"Runs to pull (default: the --file nodes' runs that are on the volume, else every run on the volume)."`
}

func (p *pullCmd) Help() string {
	return `Copies runs from the Modal volume into the local store and validates each
there. A run that is already valid locally is skipped unless --force is given.
Examples:

  llcflow pull 3f2a9c0d1b7e4a55          # one run, by run id
  llcflow pull --file examples/quick.hcl  # every run of the workflow on the volume
  llcflow pull                            # every run on the volume

Credentials come from MODAL_TOKEN_ID and MODAL_TOKEN_SECRET or ~/.modal.toml
(run 'modal token new' once). Exit codes: 0 success, 1 failure (such as a run
that is not on the volume), 2 usage error.`
}

// pullTarget is a run to pull: its key ("" when only the run id is known)
// and its address ("" when unknown).
type pullTarget struct {
	key     string
	address string
}

func (p *pullCmd) Run(c *cli) error {
	block, targets, err := p.fileTargets(c)
	if err != nil {
		return err
	}
	opts, err := p.options(block)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := modal.New(opts, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	defer e.Close()

	targets, err = p.selectTargets(ctx, e, targets)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	keys := map[string]string{}
	for id, t := range targets {
		if p.Force || !validLocally(st, id, t.key) {
			keys[id] = t.key
		}
	}
	if err := e.Pull(ctx, st.Root(), keys, p.Force); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	pulled := sortedIDs(keys)
	for _, id := range pulled {
		if err := recordPulled(st, id, targets[id]); err != nil {
			fmt.Fprintf(os.Stderr, "llcflow: warning: could not index run %s: %v\n", id, err)
		}
	}
	printPulled(os.Stdout, st.Root(), pulled, len(targets)-len(pulled))
	return nil
}

// fileTargets loads the --file workflow, when there is one, and returns
// its backend "modal" block and the runs of its nodes.
func (p *pullCmd) fileTargets(c *cli) (map[string]any, map[string]pullTarget, error) {
	if len(p.File) == 0 {
		return nil, nil, nil
	}
	lf := loadFlags{Paths: p.File, Var: p.Var, VarFile: p.VarFile, Preset: p.Preset}
	l, err := lf.load(c, false)
	if err != nil {
		return nil, nil, err
	}
	targets := map[string]pullTarget{}
	for _, n := range l.graph.Nodes {
		targets[n.RunID] = pullTarget{key: n.Key, address: n.Address}
	}
	return l.workflow.Backends["modal"], targets, nil
}

// selectTargets returns the runs to pull: the run ids given (with the key
// and address that the file gives for them), else the file's runs that
// are on the volume, else every run on the volume.
func (p *pullCmd) selectTargets(ctx context.Context, e *modal.Executor, fromFile map[string]pullTarget) (map[string]pullTarget, error) {
	if len(p.RunIDs) > 0 {
		targets := map[string]pullTarget{}
		for _, id := range p.RunIDs {
			if err := store.CheckRunID(id); err != nil {
				return nil, err
			}
			targets[id] = fromFile[id]
		}
		return targets, nil
	}
	runs, err := e.ListRuns(ctx)
	if err != nil {
		return nil, err
	}
	targets := map[string]pullTarget{}
	for _, r := range runs {
		if fromFile != nil {
			if t, ok := fromFile[r.RunID]; ok {
				targets[r.RunID] = t
			}
			continue
		}
		targets[r.RunID] = pullTarget{key: manifestKey(r.Manifest), address: provenanceAddress(r.Provenance)}
	}
	if fromFile != nil && len(targets) < len(fromFile) {
		fmt.Fprintf(os.Stderr, "llcflow: %d of the workflow's %d runs are not on the volume\n",
			len(fromFile)-len(targets), len(fromFile))
	}
	return targets, nil
}

// listVolumeRuns returns the runs on the Modal volume that opts names,
// sorted by run id, for `llcflow runs --backend=modal`.
func listVolumeRuns(ctx context.Context, opts modal.Options, logger *slog.Logger) ([]modal.VolumeRun, error) {
	e, err := modal.New(opts, logger)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return e.ListRuns(ctx)
}

// validLocally reports whether the local store has a valid run for id,
// with key when it is known.
func validLocally(st *store.Store, id, key string) bool {
	if key == "" {
		m, err := st.ReadManifest(id)
		if err != nil {
			return false
		}
		key = m.Key
	}
	status, _, err := st.Status(id, key)
	return err == nil && status == store.StatusValid
}

// recordPulled adds a pulled run to the local index under its address,
// which comes from the workflow or else from the run's provenance.
func recordPulled(st *store.Store, id string, t pullTarget) error {
	m, err := st.ReadManifest(id)
	if err != nil {
		return err
	}
	address := t.address
	if address == "" {
		prov, err := st.ReadProvenance(id)
		if err != nil {
			return err
		}
		address = prov.Address
	}
	if address == "" {
		return fmt.Errorf("run %s records no address", id)
	}
	return st.Record(address, id, m.Key)
}

func manifestKey(data json.RawMessage) string {
	var m struct {
		Key string `json:"key"`
	}
	_ = json.Unmarshal(data, &m)
	return m.Key
}

func provenanceAddress(data json.RawMessage) string {
	var p struct {
		Address string `json:"address"`
	}
	_ = json.Unmarshal(data, &p)
	return p.Address
}

func sortedIDs(m map[string]string) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func printPulled(w io.Writer, root string, pulled []string, skipped int) {
	for _, id := range pulled {
		fmt.Fprintf(w, "pulled %s\n", id)
	}
	fmt.Fprintf(w, "Pulled %d runs into %s; %d were already valid there.\n", len(pulled), root, skipped)
}
