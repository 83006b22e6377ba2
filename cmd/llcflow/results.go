package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

// resultsFormatVersion versions the JSON document of `results`. Fields are
// only ever added.
const resultsFormatVersion = "1"

type resultsCmd struct {
	loadFlags
	Format string `help:"Output format: table, csv or json." default:"table" enum:"table,csv,json"`
	Out    string `help:"Write to this file instead of standard output." type:"path"`
}

func (r *resultsCmd) Help() string {
	return `One row per sampler node that has a result in the store; failed nodes are
listed separately with their error and log. Example:

  llcflow results examples/quick.hcl
  llcflow results --format csv --out llc.csv examples/quick.hcl

In CSV the sweep axes are columns named axis.NAME.
Exit codes: 0 success, 1 failure, 2 usage error.`
}

// resultRow is one sampler node's estimate. JSON names are stable.
type resultRow struct {
	Address     string         `json:"address"`
	RunID       string         `json:"run_id"`
	FamilyID    string         `json:"family_id"`
	Sampler     string         `json:"sampler"`
	Kind        string         `json:"kind"`
	Axes        map[string]any `json:"axes"`
	D           int            `json:"d"`
	N           int            `json:"n"`
	NBeta       any            `json:"n_beta"`
	Gamma       any            `json:"gamma"`
	Chains      int            `json:"chains"`
	Draws       int            `json:"draws"`
	LLCMean     any            `json:"llc_mean"`
	LLCSE       any            `json:"llc_se"`
	ESSBulk     any            `json:"ess_bulk"`
	ESSTail     any            `json:"ess_tail"`
	RHat        any            `json:"rhat"`
	LambdaTrue  any            `json:"lambda_true"`
	LambdaExact any            `json:"lambda_exact"`
	WallSeconds any            `json:"wall_seconds"`

	axisOrder []graph.AxisValue
}

// errorRow is a sampler node whose last attempt failed.
type errorRow struct {
	Address string `json:"address"`
	RunID   string `json:"run_id"`
	Stage   string `json:"stage"`
	Error   string `json:"error"`
	Log     string `json:"log"`
}

// samplerSummary is the part of a sampler's result.json that results read.
type samplerSummary struct {
	FamilyID string   `json:"family_id"`
	Kind     string   `json:"kind"`
	D        int      `json:"d"`
	N        int      `json:"n"`
	NBeta    *float64 `json:"n_beta"`
	Gamma    *float64 `json:"gamma"`
	Chains   int      `json:"chains"`
	Draws    int      `json:"draws"`
	LLCMean  *float64 `json:"llc_mean"`
	LLCSE    *float64 `json:"llc_se"`
	ESSBulk  *float64 `json:"ess_bulk"`
	ESSTail  *float64 `json:"ess_tail"`
	RHat     *float64 `json:"rhat"`
	// LambdaTrue is the known λ of a target, LambdaExact its exact value
	// at this nβ; both are null for trained models.
	LambdaTrue  *float64 `json:"lambda_true"`
	LambdaExact *float64 `json:"lambda_exact"`
}

func (r *resultsCmd) Run(c *cli) error {
	l, err := r.load(c, r.Format == "json")
	if err != nil {
		return err
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	rows, errs := collectResults(l, st, nil)
	var w io.Writer = os.Stdout
	if r.Out != "" {
		f, err := os.Create(r.Out)
		if err != nil {
			return &exitError{code: exitFailure, err: fmt.Errorf("create %s: %w", r.Out, err)}
		}
		defer f.Close()
		w = f
	}
	switch r.Format {
	case "json":
		doc := map[string]any{"format_version": resultsFormatVersion, "rows": rows, "errors": errs}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "csv":
		return writeResultsCSV(w, l, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "No sampler results yet; run llcflow apply first.")
	} else {
		printResultsTable(w, l, rows)
	}
	if len(errs) > 0 {
		fmt.Fprintln(w, "\nFailed nodes:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "address\tstage\terror\tlog")
		for _, e := range errs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Address, e.Stage, firstLine(e.Error), e.Log)
		}
		tw.Flush()
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// collectResults reads the result of every sampler node of the graph (or
// of the plan's entries when plan is not nil).
func collectResults(l *loaded, st *store.Store, plan *graph.Plan) ([]resultRow, []errorRow) {
	nodes := l.graph.Nodes
	if plan != nil {
		nodes = nil
		for _, e := range plan.Entries {
			nodes = append(nodes, e.Node)
		}
	}
	rows := []resultRow{}
	errs := []errorRow{}
	for _, n := range nodes {
		if n.Type != "sampler" {
			continue
		}
		status, _, err := st.Status(n.RunID, n.Key)
		if err == nil && status == graph.Valid {
			var sum samplerSummary
			if err := st.ReadResult(n.RunID, &sum); err != nil {
				errs = append(errs, errorRow{Address: n.Address, RunID: n.RunID, Stage: "results", Error: err.Error()})
				continue
			}
			row := resultRow{
				Address: n.Address, RunID: n.RunID, FamilyID: sum.FamilyID, Sampler: n.Name, Kind: n.Kind,
				Axes: map[string]any{}, D: sum.D, N: sum.N, NBeta: nullable(sum.NBeta), Gamma: nullable(sum.Gamma),
				Chains: sum.Chains, Draws: sum.Draws, LLCMean: nullable(sum.LLCMean), LLCSE: nullable(sum.LLCSE),
				ESSBulk: nullable(sum.ESSBulk), ESSTail: nullable(sum.ESSTail), RHat: nullable(sum.RHat),
				LambdaTrue: nullable(sum.LambdaTrue), LambdaExact: nullable(sum.LambdaExact),
				axisOrder: n.Axes,
			}
			for _, a := range n.Axes {
				row.Axes[a.Name] = a.Value
			}
			if prov, err := st.ReadProvenance(n.RunID); err == nil {
				row.WallSeconds = prov.WallSeconds
			}
			rows = append(rows, row)
			continue
		}
		if f, ok, err := st.Failure(n.RunID); err == nil && ok {
			errs = append(errs, errorRow{Address: n.Address, RunID: n.RunID, Stage: f.Stage, Error: f.Error, Log: f.Log})
		}
	}
	return rows, errs
}

func nullable(f *float64) any {
	if f == nil || math.IsNaN(*f) || math.IsInf(*f, 0) {
		return nil
	}
	return *f
}

// axisNames returns the sweep axes that the rows use, in sweep order.
func axisNames(l *loaded, rows []resultRow) []string {
	used := map[string]bool{}
	for _, r := range rows {
		for name := range r.Axes {
			used[name] = true
		}
	}
	var names []string
	for _, a := range l.workflow.Axes {
		if used[a.Name] {
			names = append(names, a.Name)
		}
	}
	return names
}

func formatAny(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func fixed(v any, digits int) string {
	f, ok := v.(float64)
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(f, 'f', digits, 64)
}

// printResultsTable writes the terminal table of estimates.
func printResultsTable(w io.Writer, l *loaded, rows []resultRow) {
	axes := axisNames(l, rows)
	known := false
	for _, r := range rows {
		known = known || r.LambdaTrue != nil || r.LambdaExact != nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"address"}
	header = append(header, axes...)
	header = append(header, "llc", "se")
	if known {
		header = append(header, "lambda_exact", "lambda_true")
	}
	header = append(header, "chains", "r_hat", "wall")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := []string{r.Address}
		for _, a := range axes {
			cells = append(cells, formatAny(r.Axes[a]))
		}
		wall := "-"
		if s, ok := r.WallSeconds.(float64); ok {
			wall = strconv.FormatFloat(s, 'f', 2, 64) + "s"
		}
		cells = append(cells, fixed(r.LLCMean, 3), fixed(r.LLCSE, 3))
		if known {
			cells = append(cells, fixed(r.LambdaExact, 4), fixed(r.LambdaTrue, 4))
		}
		cells = append(cells, strconv.Itoa(r.Chains), fixed(r.RHat, 3), wall)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func writeResultsCSV(w io.Writer, l *loaded, rows []resultRow) error {
	axes := axisNames(l, rows)
	cw := csv.NewWriter(w)
	header := []string{"address", "run_id", "family_id", "sampler", "kind"}
	for _, a := range axes {
		header = append(header, "axis."+a)
	}
	header = append(header, "d", "n", "n_beta", "gamma", "chains", "draws", "llc_mean", "llc_se",
		"ess_bulk", "ess_tail", "rhat", "lambda_true", "lambda_exact", "wall_seconds")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Address, r.RunID, r.FamilyID, r.Sampler, r.Kind}
		for _, a := range axes {
			rec = append(rec, formatAny(r.Axes[a]))
		}
		rec = append(rec, strconv.Itoa(r.D), strconv.Itoa(r.N), formatAny(r.NBeta), formatAny(r.Gamma),
			strconv.Itoa(r.Chains), strconv.Itoa(r.Draws), formatAny(r.LLCMean), formatAny(r.LLCSE),
			formatAny(r.ESSBulk), formatAny(r.ESSTail), formatAny(r.RHat), formatAny(r.LambdaTrue),
			formatAny(r.LambdaExact), formatAny(r.WallSeconds))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
