package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/report"
	"github.com/llcflow/llcflow/store"
)

// resultsFormatVersion versions the JSON document of `results`. Fields are
// only ever added.
const resultsFormatVersion = "1"

type resultsCmd struct {
	loadFlags
	Format string `help:"Output format: table, csv, parquet or json." default:"table" enum:"table,csv,parquet,json"`
	Out    string `help:"Write to this file instead of standard output." type:"path"`
}

func (r *resultsCmd) Help() string {
	return `One row per sampler node that has a result in the store; failed nodes are
listed separately with their stage, error and log. Example:

  llcflow results examples/quick.hcl
  llcflow results --format csv --out llc.csv examples/quick.hcl
  llcflow results --format parquet --out llc.parquet examples/quick.hcl

The terminal table shows the sweep axes whose values differ across rows and
the trust flags (rhat: R̂ > 1.01; low_ess: bulk or tail ESS below 100 per
chain; divergences; sgld_accept: MALA acceptance more than 0.1 from 0.9;
negative: a negative estimate). CSV and Parquet have one column per sweep
axis, named axis.NAME, and the same columns as the JSON rows.
Exit codes: 0 success, 1 failure, 2 usage error.`
}

// resultRow is one sampler node's estimate. JSON names are stable; fields
// are only ever added.
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

	// FDE is the sampler's work in full-data gradient equivalents, warmup
	// and tuning included; the efficiency columns divide by it or by the
	// wall time.
	FDE          any `json:"fde"`
	ESSPerSecond any `json:"ess_per_second"`
	ESSPerFDE    any `json:"ess_per_fde"`
	WNVTime      any `json:"wnv_time"`
	WNVFDE       any `json:"wnv_fde"`
	// Health signals of the sampler; null where the kind has none.
	AcceptanceRate any `json:"acceptance_rate"`
	StepSize       any `json:"step_size"`
	Divergences    any `json:"divergences"`
	FracBelowStar  any `json:"frac_below_star"`
	EnergyVar      any `json:"energy_var"`
	L              any `json:"L"`
	CheckpointStep any `json:"checkpoint_step"`
	// Flags are the trust flags: the reasons to doubt the estimate.
	Flags []report.Flag `json:"flags"`

	node *graph.Node
}

// errorRow is a node whose last attempt failed.
type errorRow struct {
	Address string `json:"address"`
	RunID   string `json:"run_id"`
	Stage   string `json:"stage"`
	Error   string `json:"error"`
	// Log is the tail of the attempt's log and LogPath the whole log file.
	Log     string `json:"log"`
	LogPath string `json:"log_path"`
}

func (r *resultsCmd) Run(c *cli) error {
	if r.Format == "parquet" && r.Out == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return &exitError{code: exitUsage, err: fmt.Errorf("--format parquet writes binary data; give --out FILE or redirect standard output")}
	}
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
	if err := writeResults(w, r.Format, l, rows, errs); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("write results: %w", err)}
	}
	return nil
}

// writeResults writes the rows in one of the --format formats. The json
// and table formats also list the failed nodes.
func writeResults(w io.Writer, format string, l *loaded, rows []resultRow, errs []errorRow) error {
	switch format {
	case "json":
		doc := map[string]any{"format_version": resultsFormatVersion, "rows": rows, "errors": errs}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "csv":
		return resultsTable(l, rows).WriteCSV(w)
	case "parquet":
		return resultsTable(l, rows).WriteParquet(w)
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Address, e.Stage, firstLine(e.Error), e.LogPath)
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
// of the plan's entries when plan is not nil), and the last failure of
// every node of any type that has no valid run.
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
		status, _, err := st.Status(n.RunID, n.Key)
		if err == nil && status == graph.Valid {
			if n.Type != "sampler" {
				continue
			}
			row, err := readResultRow(st, n)
			if err != nil {
				errs = append(errs, errorRow{Address: n.Address, RunID: n.RunID, Stage: "results", Error: err.Error(),
					LogPath: filepath.Join(st.RunDir(n.RunID), "log.txt")})
				continue
			}
			rows = append(rows, row)
			continue
		}
		if f, ok, err := st.Failure(n.RunID); err == nil && ok && f.Key == n.Key {
			errs = append(errs, errorRow{Address: n.Address, RunID: n.RunID, Stage: f.Stage, Error: f.Error,
				Log: f.Log, LogPath: st.FailureLog(n.RunID)})
		}
	}
	return rows, errs
}

// readResultRow reads the result and provenance of a valid sampler run.
func readResultRow(st *store.Store, n *graph.Node) (resultRow, error) {
	var sum report.Summary
	if err := st.ReadResult(n.RunID, &sum); err != nil {
		return resultRow{}, err
	}
	var wall *float64
	if prov, err := st.ReadProvenance(n.RunID); err == nil {
		wall = &prov.WallSeconds
	}
	m := report.Derive(&sum, wall)
	row := resultRow{
		Address: n.Address, RunID: n.RunID, FamilyID: sum.FamilyID, Sampler: n.Name, Kind: n.Kind,
		Axes: map[string]any{}, D: sum.D, N: sum.N, NBeta: nullable(sum.NBeta), Gamma: nullable(sum.Gamma),
		Chains: sum.Chains, Draws: sum.Draws, LLCMean: nullable(sum.LLCMean), LLCSE: nullable(sum.LLCSE),
		ESSBulk: nullable(sum.ESSBulk), ESSTail: nullable(sum.ESSTail), RHat: nullable(sum.RHat),
		LambdaTrue: nullable(sum.LambdaTrue), LambdaExact: nullable(sum.LambdaExact),
		WallSeconds: nullable(wall),
		FDE:         nullable(m.FDE), ESSPerSecond: nullable(m.ESSPerSecond), ESSPerFDE: nullable(m.ESSPerFDE),
		WNVTime: nullable(m.WNVTime), WNVFDE: nullable(m.WNVFDE),
		AcceptanceRate: nullable(m.AcceptanceRate), StepSize: nullable(m.StepSize),
		Divergences: nullable(m.Divergences), FracBelowStar: nullable(m.FracBelowStar),
		EnergyVar: nullable(m.EnergyVar), L: nullable(m.L),
		Flags: report.CheckTrust(&sum, m),
		node:  n,
	}
	for _, a := range n.Axes {
		row.Axes[a.Name] = a.Value
	}
	row.CheckpointStep = nullable(report.CheckpointStep(&sum, row.Axes))
	if row.Flags == nil {
		row.Flags = []report.Flag{}
	}
	return row, nil
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

// differingAxes returns the sweep axes whose values are not the same in
// every row, in sweep order. A row without the axis counts as a value.
func differingAxes(l *loaded, rows []resultRow) []string {
	var names []string
	for _, name := range axisNames(l, rows) {
		first := formatAny(rows[0].Axes[name])
		for _, r := range rows[1:] {
			if formatAny(r.Axes[name]) != first {
				names = append(names, name)
				break
			}
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

func knownLambda(rows []resultRow) bool {
	for _, r := range rows {
		if r.LambdaTrue != nil || r.LambdaExact != nil {
			return true
		}
	}
	return false
}

func flagCodes(flags []report.Flag) string {
	if len(flags) == 0 {
		return "ok"
	}
	codes := make([]string, len(flags))
	for i, f := range flags {
		codes[i] = f.Code
	}
	return strings.Join(codes, ",")
}

func formatWall(v any) string {
	if s, ok := v.(float64); ok {
		return strconv.FormatFloat(s, 'f', 2, 64) + "s"
	}
	return "-"
}

// printResultsTable writes the terminal table of estimates.
func printResultsTable(w io.Writer, l *loaded, rows []resultRow) {
	axes := differingAxes(l, rows)
	known := knownLambda(rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"address"}
	header = append(header, axes...)
	header = append(header, "llc", "se")
	if known {
		header = append(header, "lambda_exact", "lambda_true")
	}
	header = append(header, "chains", "ess", "r_hat", "wall", "flags")
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := []string{r.Address}
		for _, a := range axes {
			cells = append(cells, formatAny(r.Axes[a]))
		}
		cells = append(cells, fixed(r.LLCMean, 3), fixed(r.LLCSE, 3))
		if known {
			cells = append(cells, fixed(r.LambdaExact, 4), fixed(r.LambdaTrue, 4))
		}
		cells = append(cells, strconv.Itoa(r.Chains), fixed(r.ESSBulk, 0), fixed(r.RHat, 3),
			formatWall(r.WallSeconds), flagCodes(r.Flags))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// resultsTable returns the rows as a table for CSV and Parquet: the
// columns of the first CSV format in their order, then the added ones.
func resultsTable(l *loaded, rows []resultRow) *report.Table {
	axes := axisNames(l, rows)
	t := &report.Table{Columns: []report.Column{
		{Name: "address", Type: report.String}, {Name: "run_id", Type: report.String},
		{Name: "family_id", Type: report.String}, {Name: "sampler", Type: report.String},
		{Name: "kind", Type: report.String},
	}}
	for _, a := range axes {
		t.Columns = append(t.Columns, report.Column{Name: "axis." + a, Type: axisColumnType(rows, a)})
	}
	for _, name := range []string{"d", "n"} {
		t.Columns = append(t.Columns, report.Column{Name: name, Type: report.Int})
	}
	t.Columns = append(t.Columns, report.Column{Name: "n_beta", Type: report.Float},
		report.Column{Name: "gamma", Type: report.Float},
		report.Column{Name: "chains", Type: report.Int}, report.Column{Name: "draws", Type: report.Int})
	for _, name := range []string{"llc_mean", "llc_se", "ess_bulk", "ess_tail", "rhat", "lambda_true",
		"lambda_exact", "wall_seconds", "fde", "ess_per_second", "ess_per_fde", "wnv_time", "wnv_fde",
		"acceptance_rate", "step_size", "divergences", "frac_below_star", "energy_var", "L", "checkpoint_step"} {
		t.Columns = append(t.Columns, report.Column{Name: name, Type: report.Float})
	}
	t.Columns = append(t.Columns, report.Column{Name: "flags", Type: report.String})

	for _, r := range rows {
		cells := []any{r.Address, r.RunID, r.FamilyID, r.Sampler, r.Kind}
		for i, a := range axes {
			cells = append(cells, axisCell(r.Axes[a], t.Columns[5+i].Type))
		}
		cells = append(cells, r.D, r.N, r.NBeta, r.Gamma, r.Chains, r.Draws,
			r.LLCMean, r.LLCSE, r.ESSBulk, r.ESSTail, r.RHat, r.LambdaTrue, r.LambdaExact, r.WallSeconds,
			r.FDE, r.ESSPerSecond, r.ESSPerFDE, r.WNVTime, r.WNVFDE,
			r.AcceptanceRate, r.StepSize, r.Divergences, r.FracBelowStar, r.EnergyVar, r.L, r.CheckpointStep,
			flagList(r.Flags))
		t.AddRow(cells...)
	}
	return t
}

// flagList joins the flag codes with ";", or "" when there are none.
func flagList(flags []report.Flag) string {
	codes := make([]string, len(flags))
	for i, f := range flags {
		codes[i] = f.Code
	}
	return strings.Join(codes, ";")
}

// axisColumnType is Float when every row's value of the axis is a number
// or absent, and OptionalString otherwise.
func axisColumnType(rows []resultRow, axis string) report.ColumnType {
	for _, r := range rows {
		switch r.Axes[axis].(type) {
		case float64, nil:
		default:
			return report.OptionalString
		}
	}
	return report.Float
}

func axisCell(v any, typ report.ColumnType) any {
	if v == nil {
		return nil
	}
	if typ == report.Float {
		return v
	}
	return formatAny(v)
}
