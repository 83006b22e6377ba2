package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

type graphCmd struct {
	loadFlags
	planFlags
}

func (g *graphCmd) Help() string {
	return `Prints the graph in Graphviz DOT; fresh nodes are orange (salmon when
their last attempt failed), cached green, forced blue, and each node's
tooltip is its run id and the reason it runs. Example:

  llcflow graph examples/quick.hcl | dot -Tsvg > graph.svg

Exit codes: 0 success, 1 failure, 2 usage error.`
}

func (g *graphCmd) Run(c *cli) error {
	defer relaxGC()()
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
		color := colors[e.Action]
		if e.Reason != nil && lastAttemptFailed(st, e.Node) {
			color = "salmon"
		}
		tooltip := e.Node.RunID
		if e.Reason != nil {
			tooltip += ": " + e.Reason.Message
		}
		fmt.Fprintf(os.Stdout, "  %s [fillcolor=%s, tooltip=%s];\n", strconv.Quote(e.Node.Address), color, strconv.Quote(tooltip))
	}
	for _, e := range plan.Entries {
		for _, in := range e.Node.In {
			fmt.Fprintf(os.Stdout, "  %s -> %s [label=%s];\n", strconv.Quote(in.Node.Address), strconv.Quote(e.Node.Address), strconv.Quote(in.Role))
		}
	}
	fmt.Fprintln(os.Stdout, "}")
	return nil
}

// lastAttemptFailed reports whether the store holds a failure record of the
// node's key.
func lastAttemptFailed(st *store.Store, n *graph.Node) bool {
	f, ok, err := st.Failure(n.RunID)
	return err == nil && ok && f.Key == n.Key
}
