package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/llcflow/llcflow/graph"
)

type graphCmd struct {
	loadFlags
	planFlags
}

func (g *graphCmd) Help() string {
	return `Prints the graph in Graphviz DOT; fresh nodes are orange, cached green,
forced blue. Example:

  llcflow graph examples/quick.hcl | dot -Tsvg > graph.svg

Exit codes: 0 success, 1 failure, 2 usage error.`
}

func (g *graphCmd) Run(c *cli) error {
	opts, err := g.planFlags.options()
	if err != nil {
		return err
	}
	l, err := g.load(c, false)
	if err != nil {
		return err
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	plan, _, err := makePlan(l.graph, st, opts)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	colors := map[graph.Action]string{graph.ActionRun: "orange", graph.ActionCached: "palegreen", graph.ActionForced: "lightblue"}
	fmt.Fprintln(os.Stdout, "digraph llcflow {\n  rankdir=LR;\n  node [shape=box, style=filled];")
	for _, e := range plan.Entries {
		fmt.Fprintf(os.Stdout, "  %s [fillcolor=%s, tooltip=%s];\n", strconv.Quote(e.Node.Address), colors[e.Action], strconv.Quote(e.Node.RunID))
	}
	for _, e := range plan.Entries {
		for _, in := range e.Node.In {
			fmt.Fprintf(os.Stdout, "  %s -> %s [label=%s];\n", strconv.Quote(in.Node.Address), strconv.Quote(e.Node.Address), strconv.Quote(in.Role))
		}
	}
	fmt.Fprintln(os.Stdout, "}")
	return nil
}
