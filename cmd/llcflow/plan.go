package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

// planFlags select what a plan forces and restricts to, shared by plan and
// apply.
type planFlags struct {
	NoSkip bool     `help:"Rerun every node, cached or not."`
	Rerun  []string `help:"Rerun the nodes matching an address pattern, such as sampler.sgld (repeatable; matched by whole segments)." placeholder:"PATTERN" sep:"none"`
	Target []string `help:"Restrict to the nodes matching an address pattern and their inputs (repeatable)." placeholder:"PATTERN" sep:"none"`
}

func (f *planFlags) options() (graph.PlanOptions, error) {
	opts := graph.PlanOptions{NoSkip: f.NoSkip}
	var err error
	if opts.Rerun, err = parsePatterns("--rerun", f.Rerun); err != nil {
		return opts, err
	}
	if opts.Targets, err = parsePatterns("--target", f.Target); err != nil {
		return opts, err
	}
	return opts, nil
}

type planCmd struct {
	loadFlags
	planFlags
	JSON             bool     `name:"json" help:"Print the plan as one JSON document."`
	DetailedExitcode bool     `help:"Exit with 3 when something would run, 0 when everything is cached."`
	Summary          bool     `help:"Print only the counts per type and kind, and the summary line."`
	Explain          []string `help:"Compare the nodes matching an address pattern with the store and with the latest earlier run of their address, parameter by parameter (repeatable)." placeholder:"PATTERN" sep:"none"`
	Out              string   `help:"Save the plan to FILE; 'llcflow apply FILE' then runs exactly this plan, or rejects it when the HCL files or the store changed." placeholder:"FILE" type:"path"`
}

func (p *planCmd) Help() string {
	return `Every node is listed with a symbol: + runs (with the reason), = cached,
~ forced by --no-skip or --rerun. The reason of a node that runs is the most
specific one that applies: no earlier run; the parameters that changed
against the latest earlier run of the same address, each with its old and new
value; an input that changed or will run, named; a new implementation
version; a forced rerun. When the node's last attempt failed or was
cancelled, the reason also says so, with the time. A node is cached when its run's manifest parses, its
key matches and every file has its recorded size; 'llcflow check' also
re-hashes the files. Examples:

  llcflow plan examples/quick.hcl
  llcflow plan --rerun sampler.sgld --json examples/quick.hcl
  llcflow plan --explain 'sampler.sgld[seed=0]' examples/quick.hcl
  llcflow plan --summary --out quick.plan examples/quick.hcl

Exit codes: 0 success, 1 failure (invalid HCL), 2 usage error,
3 with --detailed-exitcode when something would run.`
}

func (p *planCmd) Run(c *cli) error {
	opts, err := p.planFlags.options()
	if err != nil {
		return err
	}
	explain, err := parsePatterns("--explain", p.Explain)
	if err != nil {
		return err
	}
	defer relaxGC()()
	l, err := p.load(c, p.JSON)
	if err != nil {
		return err
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	plan, look, err := makePlan(l.graph, st, opts)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if n := st.IndexDamage(); n > 0 {
		fmt.Fprintf(os.Stderr, "llcflow: warning: skipped %s of %s that did not parse, so a node "+
			"that ran before may show no earlier run; llcflow gc drops them\n",
			countNoun(n, "line", "lines"), filepath.Join(st.Root(), "index.jsonl"))
	}

	// One write per line would cost a system call per node.
	out := bufio.NewWriter(os.Stdout)
	switch {
	case len(explain) > 0:
		err = printExplanations(out, plan, look, explain, p.JSON)
	case p.JSON:
		err = printPlanJSON(out, plan, p.Summary)
	case p.Summary:
		printPlanSummary(out, plan)
	default:
		printPlan(out, plan)
	}
	if flushErr := out.Flush(); err == nil {
		err = flushErr
	}
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if p.Out != "" {
		if err := p.save(l, st, plan); err != nil {
			return &exitError{code: exitFailure, err: err}
		}
	}
	if p.DetailedExitcode && plan.Summary.Run+plan.Summary.Forced > 0 {
		return &exitError{code: exitChanges}
	}
	return nil
}

func (p *planCmd) save(l *loaded, st *store.Store, plan *graph.Plan) error {
	sp, err := newSavedPlan(l, st, p.loadFlags, p.planFlags, plan)
	if err != nil {
		return err
	}
	if err := sp.write(p.Out); err != nil {
		return err
	}
	if !p.JSON {
		fmt.Fprintf(os.Stderr, "Saved the plan to %s; run it with: llcflow apply %s\n", p.Out, p.Out)
	}
	return nil
}

func parsePatterns(flag string, list []string) ([]graph.Pattern, error) {
	var out []graph.Pattern
	for _, s := range list {
		pat, err := graph.ParsePattern(s)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s %q: %w", flag, s, err)}
		}
		out = append(out, pat)
	}
	return out, nil
}

func printPlanJSON(w io.Writer, plan *graph.Plan, summaryOnly bool) error {
	if summaryOnly {
		data, err := json.MarshalIndent(map[string]any{
			"format_version": graph.PlanFormatVersion, "summary": plan.Summary,
			"targeted": plan.Targeted, "kinds": plan.CountsByKind(),
		}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	data, err := plan.JSON()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// printPlanSummary writes the counts per type and kind and the summary line.
func printPlanSummary(w io.Writer, plan *graph.Plan) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "type\tkind\tto run\tforced\tcached")
	for _, k := range plan.CountsByKind() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", k.Type, k.Kind, k.Run, k.Forced, k.Cached)
	}
	tw.Flush()
	printTargetNote(w, plan)
	fmt.Fprintf(w, "\n%s\n", summaryLine(plan.Summary))
}

func printTargetNote(w io.Writer, plan *graph.Plan) {
	if plan.Targeted {
		fmt.Fprintln(w, "\nNote: --target is in effect; only the matching nodes and their inputs are planned.")
	}
}

// printPlan writes one line per node and the summary line.
func printPlan(w io.Writer, plan *graph.Plan) {
	width := 0
	for _, e := range plan.Entries {
		width = max(width, len(e.Node.Address))
	}
	for _, e := range plan.Entries {
		symbol := "="
		switch e.Action {
		case graph.ActionRun:
			symbol = "+"
		case graph.ActionForced:
			symbol = "~"
		}
		line := fmt.Sprintf("  %s %-*s  %s", symbol, width, e.Node.Address, e.Node.RunID)
		switch {
		case e.Reason != nil:
			line += "  (" + e.Reason.Message + ")"
		case e.SameRunAs != nil:
			line += "  (same run as " + e.SameRunAs.Address + ")"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	printTargetNote(w, plan)
	fmt.Fprintf(w, "\n%s\n", summaryLine(plan.Summary))
}

func summaryLine(s graph.Summary) string {
	parts := []string{fmt.Sprintf("%d to run", s.Run)}
	if s.Forced > 0 {
		parts = append(parts, fmt.Sprintf("%d forced", s.Forced))
	}
	parts = append(parts, fmt.Sprintf("%d cached", s.Cached))
	line := "Plan: " + strings.Join(parts, ", ") + "."
	if s.Shared > 0 {
		line += fmt.Sprintf(" %s the run of another address and are counted once.",
			countNoun(s.Shared, "node shares", "nodes share"))
	}
	return line
}
