package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

type validateCmd struct {
	loadFlags
	JSON bool `name:"json" help:"Print diagnostics as JSON lines."`
}

func (v *validateCmd) Help() string {
	return `Parses the files, expands the sweep and checks every block, without
reading or writing the store. Example:

  llcflow validate examples/

Exit codes: 0 valid, 1 invalid, 2 usage error.`
}

func (v *validateCmd) Run(c *cli) error {
	defer relaxGC()()
	l, err := v.load(c, v.JSON)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, n := range l.graph.Nodes {
		counts[n.Type]++
	}
	var types []string
	for t := range counts {
		types = append(types, t)
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%d %s", counts[t], t)
	}
	nodes := countNoun(len(l.graph.Nodes), "node", "nodes")
	if len(parts) > 0 {
		nodes += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(os.Stdout, "Valid: %s from %s.\n", nodes, countNoun(len(l.workflow.Paths), "file", "files"))
	return nil
}
