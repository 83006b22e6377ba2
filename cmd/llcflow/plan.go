package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llcflow/llcflow/graph"
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
	for _, s := range f.Rerun {
		p, err := graph.ParsePattern(s)
		if err != nil {
			return opts, &exitError{code: exitUsage, err: fmt.Errorf("--rerun %q: %w", s, err)}
		}
		opts.Rerun = append(opts.Rerun, p)
	}
	for _, s := range f.Target {
		p, err := graph.ParsePattern(s)
		if err != nil {
			return opts, &exitError{code: exitUsage, err: fmt.Errorf("--target %q: %w", s, err)}
		}
		opts.Targets = append(opts.Targets, p)
	}
	return opts, nil
}

type planCmd struct {
	loadFlags
	planFlags
	JSON             bool `name:"json" help:"Print the plan as one JSON document."`
	DetailedExitcode bool `help:"Exit with 3 when something would run, 0 when everything is cached."`
}

func (p *planCmd) Help() string {
	return `Every node is listed with a symbol: + runs (with the reason), = cached,
~ forced by --no-skip or --rerun. Example:

  llcflow plan examples/quick.hcl
  llcflow plan --rerun sampler.sgld --json examples/quick.hcl

Exit codes: 0 success, 1 failure (invalid HCL), 2 usage error,
3 with --detailed-exitcode when something would run.`
}

func (p *planCmd) Run(c *cli) error {
	opts, err := p.planFlags.options()
	if err != nil {
		return err
	}
	l, err := p.load(c, p.JSON)
	if err != nil {
		return err
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	plan, err := graph.MakePlan(l.graph, st, opts)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if p.JSON {
		data, err := plan.JSON()
		if err != nil {
			return err
		}
		os.Stdout.Write(data)
		fmt.Println()
	} else {
		printPlan(os.Stdout, plan)
	}
	if p.DetailedExitcode && plan.Summary.Run+plan.Summary.Forced > 0 {
		return &exitError{code: exitChanges}
	}
	return nil
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
		if e.Reason != nil {
			line += "  (" + e.Reason.Message + ")"
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if plan.Targeted {
		fmt.Fprintln(w, "\nNote: --target is in effect; only the matching nodes and their inputs are shown.")
	}
	fmt.Fprintf(w, "\n%s\n", summaryLine(plan.Summary))
}

func summaryLine(s graph.Summary) string {
	parts := []string{fmt.Sprintf("%d to run", s.Run)}
	if s.Forced > 0 {
		parts = append(parts, fmt.Sprintf("%d forced", s.Forced))
	}
	parts = append(parts, fmt.Sprintf("%d cached", s.Cached))
	return "Plan: " + strings.Join(parts, ", ") + "."
}
