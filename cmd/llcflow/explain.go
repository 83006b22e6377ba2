package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/llcflow/llcflow/graph"
)

// printExplanations writes, for every node that matches a pattern, its
// action and reason, its state in the store, and the comparison with the
// latest earlier run of its address. The comparison lists every parameter
// leaf and every input, marking changed ones ~, added + and removed -.
func printExplanations(w io.Writer, plan *graph.Plan, look graph.Lookup, patterns []graph.Pattern,
	asJSON bool) error {
	var all []graph.Explanation
	seen := map[*graph.Node]bool{}
	for _, pat := range patterns {
		xs, err := graph.Explain(plan, look, pat)
		if err != nil {
			return err
		}
		for _, x := range xs {
			if !seen[x.Entry.Node] {
				seen[x.Entry.Node] = true
				all = append(all, x)
			}
		}
	}
	if asJSON {
		return writeExplanationsJSON(w, all)
	}
	for i, x := range all {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeExplanation(w, x)
	}
	return nil
}

func writeExplanation(w io.Writer, x graph.Explanation) {
	n := x.Entry.Node
	fmt.Fprintf(w, "%s %s\n", actionSymbol(x.Entry.Action), n.Address)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  action\t%s\n", x.Entry.Action)
	if x.Entry.Reason != nil {
		fmt.Fprintf(tw, "  reason\t%s\n", x.Entry.Reason.Message)
	}
	fmt.Fprintf(tw, "  run id\t%s\n  key\t%s\n", n.RunID, n.Key)
	store := x.Status.String()
	if x.StatusDetail != "" {
		store += ": " + x.StatusDetail
	}
	fmt.Fprintf(tw, "  in the store\t%s\n", store)
	if n.Source != "" {
		fmt.Fprintf(tw, "  defined at\t%s\n", n.Source)
	}
	if x.Previous == nil {
		fmt.Fprintf(tw, "  earlier run\tnone recorded for this address\n")
		tw.Flush()
		return
	}
	p := x.Previous
	fmt.Fprintf(tw, "  earlier run\t%s (the latest recorded for this address)\n", p.RunID)
	version := n.Version + " (unchanged)"
	if p.Version != n.Version {
		version = p.Version + " → " + n.Version
	}
	fmt.Fprintf(tw, "  version\t%s\n", version)
	tw.Flush()

	fmt.Fprintln(w, "  parameters:")
	for _, c := range x.Params {
		fmt.Fprintf(w, "    %s %s\n", changeMark(c), c.Message())
	}
	if len(x.Inputs) > 0 {
		fmt.Fprintln(w, "  inputs:")
	}
	for _, in := range x.Inputs {
		fmt.Fprintf(w, "    %s %s\n", inputMark(in), describeInput(in))
	}
}

func actionSymbol(a graph.Action) string {
	switch a {
	case graph.ActionRun:
		return "+"
	case graph.ActionForced:
		return "~"
	}
	return "="
}

func changeMark(c graph.ParamComparison) string {
	switch {
	case !c.InOld:
		return "+"
	case !c.InNew:
		return "-"
	case c.Changed:
		return "~"
	}
	return " "
}

func inputMark(in graph.InputComparison) string {
	switch {
	case in.Address == "":
		return "-"
	case in.OldKey == "":
		return "+"
	case in.Changed:
		return "~"
	}
	return " "
}

func describeInput(in graph.InputComparison) string {
	if in.Address == "" {
		return fmt.Sprintf("%s: removed (was key %s)", in.Role, short(in.OldKey))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s, key %s", in.Role, in.Address, short(in.Key))
	switch {
	case in.OldKey == "":
		b.WriteString(", added")
	case in.Changed:
		fmt.Fprintf(&b, ", was %s", short(in.OldKey))
	default:
		b.WriteString(" (unchanged)")
	}
	switch in.Action {
	case graph.ActionRun, graph.ActionForced:
		b.WriteString(", will run")
	case graph.ActionCached:
		b.WriteString(", cached")
	}
	return b.String()
}

// short returns the run id part of a key.
func short(key string) string {
	if len(key) > graph.RunIDLength {
		return key[:graph.RunIDLength]
	}
	return key
}

func writeExplanationsJSON(w io.Writer, all []graph.Explanation) error {
	type previous struct {
		RunID     string            `json:"run_id"`
		Key       string            `json:"key"`
		Version   string            `json:"version"`
		InputKeys map[string]string `json:"input_keys"`
	}
	type node struct {
		Address      string                  `json:"address"`
		RunID        string                  `json:"run_id"`
		Key          string                  `json:"key"`
		Version      string                  `json:"version"`
		Action       graph.Action            `json:"action"`
		Reason       *graph.Reason           `json:"reason"`
		Status       string                  `json:"status"`
		StatusDetail string                  `json:"status_detail,omitempty"`
		Previous     *previous               `json:"previous"`
		Params       []graph.ParamComparison `json:"params"`
		Inputs       []graph.InputComparison `json:"inputs"`
	}
	doc := struct {
		FormatVersion string `json:"format_version"`
		Nodes         []node `json:"nodes"`
	}{FormatVersion: graph.PlanFormatVersion}
	for _, x := range all {
		n := node{Address: x.Entry.Node.Address, RunID: x.Entry.Node.RunID, Key: x.Entry.Node.Key,
			Version: x.Entry.Node.Version, Action: x.Entry.Action, Reason: x.Entry.Reason,
			Status: x.Status.String(), StatusDetail: x.StatusDetail,
			Params: x.Params, Inputs: x.Inputs}
		if n.Params == nil {
			n.Params = []graph.ParamComparison{}
		}
		if p := x.Previous; p != nil {
			n.Previous = &previous{RunID: p.RunID, Key: p.Key, Version: p.Version, InputKeys: p.InputKeys}
		}
		doc.Nodes = append(doc.Nodes, n)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
