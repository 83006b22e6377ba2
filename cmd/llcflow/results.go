package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/kinds"
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
	Errors string `help:"Also write the failed nodes as CSV to this file, with the columns address, run_id, stage, error and log_path." type:"path"`
}

func (r *resultsCmd) Help() string {
	return `One row per sampler node that has a result in the store. Example:

  llcflow results examples/quick.hcl
  llcflow results --format csv --out llc.csv --errors failed.csv examples/quick.hcl
  llcflow results --format parquet --out llc.parquet examples/quick.hcl

The terminal table shows the sweep axes whose values differ across rows (as
axis.NAME when NAME is also a column, such as llc) and the trust flags, with
a legend of the flags raised under it:
  off_exact    more than 4 SE from lambda_exact
  rhat         R̂ > 1.01
  low_ess      bulk or tail ESS below 100 per chain
  divergences  HMC divergent transitions after warmup
  energy_var   MCLMC energy-error variance above twice its tuning target
  sgld_accept  MALA acceptance more than 0.1 from 0.9: the step size may
               be too large or too small (minibatch noise lowers it too)
  below_star   more than half of the draws below L_n(w*)
  not_minimum  the erm's gradient norm at w* is too large for a minimum
  negative     a negative estimate
  warning      another warning of the sampler
The flags combine the sampler's own warnings (the warnings field) with the
checks above. CSV and Parquet have one column per sweep axis, named
axis.NAME, and the same columns as the JSON rows, with flags and warnings
joined by ";".

Sampler nodes without a result (never run, after a failed input, or with a
corrupt run directory) are listed under the table and in the JSON pending
list. Failed nodes are not rows: the terminal table lists them with their
stage, error and log path, the JSON document in its errors list, and
--errors FILE writes them as CSV with any format. With csv or parquet, a
note on standard error counts the nodes that the rows leave out.
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

	// LambdaMultiplicity is the multiplicity m of lambda_true, null when
	// unknown. ESSMean and LLCSEMean are the ESS of the plain mean and
	// the more cautious standard error sd/√ESSMean.
	LambdaMultiplicity any `json:"lambda_multiplicity"`
	ESSMean            any `json:"ess_mean"`
	LLCSEMean          any `json:"llc_se_mean"`
	// GradFDESampling is the FDE of the recorded steps only, and the
	// _sampling efficiencies divide by it. LossEvals counts the full-data
	// loss evaluations of the estimator.
	GradFDESampling   any `json:"grad_fde_sampling"`
	LossEvals         any `json:"loss_evals"`
	ESSPerFDESampling any `json:"ess_per_fde_sampling"`
	WNVFDESampling    any `json:"wnv_fde_sampling"`
	// Warnings are the sampler's own health warnings from result.json.
	Warnings []string `json:"warnings"`
	// FinalLoss and Accuracy are the training loss L_n and the accuracy
	// of the erm the sampler ran on, at w*: at the checkpoint step for a
	// checkpoint erm. Accuracy is null for a regression loss, and both
	// are null for a target.
	FinalLoss any `json:"final_loss"`
	Accuracy  any `json:"accuracy"`

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

// pendingRow is a sampler node that has neither a result nor a failure of
// its own in the store.
type pendingRow struct {
	Address string `json:"address"`
	RunID   string `json:"run_id"`
	// Status is "missing" (not run yet), "corrupt" (a run directory that
	// fails validation) or "unreadable" (the store could not be read).
	Status string `json:"status"`
	// Detail is why: the failed input of a missing node, or what is
	// wrong with the run directory. It is "" for a node not run yet.
	Detail string `json:"detail"`

	node *graph.Node
}

// resultSet is the sampler rows, failed nodes and pending sampler nodes
// that the store contains for a graph.
type resultSet struct {
	rows    []resultRow
	errs    []errorRow
	pending []pendingRow
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

	set := collectResultSet(l, st, nil)
	if r.Errors != "" {
		if err := writeFile(r.Errors, func(w io.Writer) error { return errorsTable(set.errs).WriteCSV(w) }); err != nil {
			return &exitError{code: exitFailure, err: fmt.Errorf("write --errors file: %w", err)}
		}
	}

	write := func(w io.Writer) error { return writeResults(w, r.Format, l, set) }
	if r.Out == "" {
		err = write(os.Stdout)
	} else {
		err = writeFile(r.Out, write)
	}
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("write results: %w", err)}
	}

	if r.Format == "csv" || r.Format == "parquet" {
		printOmitted(os.Stderr, set, r.Errors != "")
	}
	return nil
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printOmitted notes the sampler nodes that CSV and Parquet rows leave
// out: the pending ones and the failed ones.
func printOmitted(w io.Writer, set resultSet, errorsWritten bool) {
	if n := len(set.pending); n > 0 {
		fmt.Fprintf(w, "note: %s; llcflow results lists them.\n", pendingSentence(n))
	}
	if n := len(set.errs); n > 0 {
		where := "give --errors FILE to write them as CSV, or see llcflow results"
		if errorsWritten {
			where = "--errors wrote them"
		}
		fmt.Fprintf(w, "note: %s not in the rows; %s.\n", countPhrase(n, "failed node is", "failed nodes are"), where)
	}
}

// countPhrase returns "1 " + one or "N " + many.
func countPhrase(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func pendingSentence(n int) string {
	return countPhrase(n, "sampler node has", "sampler nodes have") + " no result yet (run llcflow apply)"
}

// writeResults writes the rows in one of the --format formats. The json
// and table formats also list the failed and the pending nodes.
func writeResults(w io.Writer, format string, l *loaded, set resultSet) error {
	switch format {
	case "json":
		doc := map[string]any{"format_version": resultsFormatVersion, "rows": set.rows, "errors": set.errs,
			"pending": set.pending}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "csv":
		return resultsTable(l, set.rows).WriteCSV(w)
	case "parquet":
		return resultsTable(l, set.rows).WriteParquet(w)
	}
	if len(set.rows) == 0 && len(set.pending) == 0 {
		fmt.Fprintln(w, "No sampler results yet; run llcflow apply first.")
	} else if len(set.rows) > 0 {
		printResultsTable(w, l, set.rows)
	}
	printPending(w, set.pending)
	printErrors(w, set.errs)
	return nil
}

// maxPendingListed bounds the pending nodes that the terminal lists, so
// that a sweep not yet applied does not flood it.
const maxPendingListed = 20

func printPending(w io.Writer, pending []pendingRow) {
	if len(pending) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", pendingSentence(len(pending)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range pending[:min(len(pending), maxPendingListed)] {
		detail := firstLine(p.Detail)
		if detail == "" {
			detail = "not run yet"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Address, p.Status, detail)
	}
	tw.Flush()
	if extra := len(pending) - maxPendingListed; extra > 0 {
		fmt.Fprintf(w, "  and %d more; llcflow results --format json lists every one.\n", extra)
	}
}

// printErrors writes the failed-nodes table: the first line of each error
// and the path of the log, never the log itself.
func printErrors(w io.Writer, errs []errorRow) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFailed nodes:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "address\tstage\terror\tlog")
	for _, e := range errs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Address, e.Stage, firstLine(e.Error), e.LogPath)
	}
	tw.Flush()
}

// errorsTable returns the failed nodes as a table for --errors.
func errorsTable(errs []errorRow) *report.Table {
	t := &report.Table{}
	for _, name := range []string{"address", "run_id", "stage", "error", "log_path"} {
		t.Columns = append(t.Columns, report.Column{Name: name, Type: report.String})
	}
	for _, e := range errs {
		t.AddRow(e.Address, e.RunID, e.Stage, e.Error, e.LogPath)
	}
	return t
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
	set := collectResultSet(l, st, plan)
	return set.rows, set.errs
}

// collectResultSet is collectResults with the pending sampler nodes.
func collectResultSet(l *loaded, st *store.Store, plan *graph.Plan) resultSet {
	nodes := l.graph.Nodes
	if plan != nil {
		nodes = nil
		for _, e := range plan.Entries {
			nodes = append(nodes, e.Node)
		}
	}
	set := resultSet{rows: []resultRow{}, errs: []errorRow{}, pending: []pendingRow{}}
	for _, n := range nodes {
		status, detail, err := st.Status(n.RunID, n.Key)
		switch {
		case err != nil:
			set.addPending(n, "unreadable", err.Error())
		case status == graph.Valid:
			set.addValid(st, n)
		default:
			if f, ok, err := st.Failure(n.RunID); err == nil && ok && f.Key == n.Key {
				set.errs = append(set.errs, errorRow{Address: n.Address, RunID: n.RunID, Stage: f.Stage, Error: f.Error,
					Log: f.Log, LogPath: st.FailureLog(n.RunID)})
				continue
			}
			set.addPending(n, status.String(), detail)
		}
	}
	// Tables list rows in address order, step=200 before step=1000. The
	// graph's topological order puts a node after its inputs, so rows of
	// one sweep can come in another order there.
	slices.SortStableFunc(set.rows, func(a, b resultRow) int { return graph.CompareAddresses(a.Address, b.Address) })
	slices.SortStableFunc(set.errs, func(a, b errorRow) int { return graph.CompareAddresses(a.Address, b.Address) })
	slices.SortStableFunc(set.pending, func(a, b pendingRow) int { return graph.CompareAddresses(a.Address, b.Address) })
	set.explainMissing()
	return set
}

// addValid adds the row of a valid sampler run, or an error row when its
// result cannot be read.
func (set *resultSet) addValid(st *store.Store, n *graph.Node) {
	if n.Type != "sampler" {
		return
	}
	row, err := readResultRow(st, n)
	if err != nil {
		set.errs = append(set.errs, errorRow{Address: n.Address, RunID: n.RunID, Stage: "results", Error: err.Error(),
			LogPath: filepath.Join(st.RunDir(n.RunID), "log.txt")})
		return
	}
	set.rows = append(set.rows, row)
}

func (set *resultSet) addPending(n *graph.Node, status, detail string) {
	if n.Type == "sampler" {
		set.pending = append(set.pending, pendingRow{Address: n.Address, RunID: n.RunID, Status: status, Detail: detail, node: n})
	}
}

// explainMissing names, for each pending node not run yet, an input node
// that failed, because apply runs nothing downstream of a failure.
func (set *resultSet) explainMissing() {
	failed := map[string]bool{}
	for _, e := range set.errs {
		failed[e.Address] = true
	}
	for i := range set.pending {
		p := &set.pending[i]
		if p.Status != graph.Missing.String() || p.Detail != "" {
			continue
		}
		if address := failedInput(p.node, failed, map[*graph.Node]bool{}); address != "" {
			p.Detail = "input " + address + " failed"
		}
	}
}

// failedInput returns the address of an input of n, direct or indirect,
// that is in failed, or "".
func failedInput(n *graph.Node, failed map[string]bool, seen map[*graph.Node]bool) string {
	for _, in := range n.In {
		if seen[in.Node] {
			continue
		}
		seen[in.Node] = true
		if failed[in.Node.Address] {
			return in.Node.Address
		}
		if address := failedInput(in.Node, failed, seen); address != "" {
			return address
		}
	}
	return ""
}

// readResultRow reads the result and provenance of a valid sampler run,
// and the result of the erm it ran on for the trust flags.
func readResultRow(st *store.Store, n *graph.Node) (resultRow, error) {
	var sum report.Summary
	if err := st.ReadResult(n.RunID, &sum); err != nil {
		return resultRow{}, err
	}
	var wall *float64
	if prov, err := st.ReadProvenance(n.RunID); err == nil {
		wall = &prov.WallSeconds
	}
	if b, ok := n.Params["batch_size"].(float64); ok && n.Kind == "sgld" {
		sum.BatchSize = &b
	}
	m := report.Derive(&sum, wall, kinds.Efficiency)
	family := readFamily(st, sum.FamilyID)
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
		Flags:              report.CheckTrust(&sum, m, family),
		LambdaMultiplicity: nullable(sum.LambdaMultiplicity),
		ESSMean:            nullable(sum.ESSMean), LLCSEMean: nullable(sum.LLCSEMean),
		GradFDESampling: nullable(sum.Work.GradFDESampling), LossEvals: nullable(sum.Work.LossEvals),
		ESSPerFDESampling: nullable(sum.ESSPerFDESampling), WNVFDESampling: nullable(sum.WNVFDESampling),
		Warnings: sum.Warnings,
		node:     n,
	}
	for _, a := range n.Axes {
		row.Axes[a.Name] = a.Value
	}
	row.CheckpointStep = nullable(report.CheckpointStep(&sum, family))
	if family != nil {
		row.FinalLoss, row.Accuracy = nullable(family.FinalLoss), nullable(family.Accuracy)
	}
	if row.Flags == nil {
		row.Flags = []report.Flag{}
	}
	if row.Warnings == nil {
		row.Warnings = []string{}
	}
	return row, nil
}

// readFamily reads the result of the erm or target that a sampler ran
// on, or returns nil when it is not in the store (gc may remove it while
// the sampler run stays valid).
func readFamily(st *store.Store, familyID string) *report.Family {
	if store.CheckRunID(familyID) != nil {
		return nil
	}
	var family report.Family
	if err := st.ReadResult(familyID, &family); err != nil {
		return nil
	}
	return &family
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

// printResultsTable writes the terminal table of estimates and, when a
// row has a trust flag, a legend of the flags raised.
func printResultsTable(w io.Writer, l *loaded, rows []resultRow) {
	axes := differingAxes(l, rows)
	known := knownLambda(rows)
	values := []string{"llc", "se"}
	if known {
		values = append(values, "lambda_exact", "lambda_true")
	}
	values = append(values, "chains", "ess", "r_hat", "ess/s", "wall", "flags")
	header := append([]string{"address"}, axisHeaders(axes, append([]string{"address"}, values...))...)
	header = append(header, values...)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
			general(r.ESSPerSecond), formatWall(r.WallSeconds), flagCodes(r.Flags))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	printFlagLegend(w, rows)
}

// axisHeaders returns the column names of the sweep axes: the axis name,
// or axis.NAME when NAME is also one of the other columns.
func axisHeaders(axes, columns []string) []string {
	names := make([]string, len(axes))
	for i, a := range axes {
		names[i] = a
		if slices.Contains(columns, a) {
			names[i] = "axis." + a
		}
	}
	return names
}

// printFlagLegend writes the meaning of every flag code that a row raised.
func printFlagLegend(w io.Writer, rows []resultRow) {
	legend := flagLegend(rows)
	if len(legend) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags (llcflow results --format json gives each row's messages):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range legend {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Code, f.Message)
	}
	tw.Flush()
}

// flagLegend returns the flag codes that the rows raise, in the order of
// report.FlagCodes, each with its meaning as the message.
func flagLegend(rows []resultRow) []report.Flag {
	raised := map[string]bool{}
	for _, r := range rows {
		for _, f := range r.Flags {
			raised[f.Code] = true
		}
	}
	var legend []report.Flag
	for _, code := range report.FlagCodes() {
		if raised[code] {
			legend = append(legend, report.Flag{Code: code, Message: report.FlagMeaning(code)})
		}
	}
	return legend
}

// resultsTable returns the rows as a table for CSV and Parquet: the
// columns of the first CSV format in their order, then the added ones.
// Flags are joined by ";" and warnings by "; ".
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
	for _, name := range []string{"lambda_multiplicity", "ess_mean", "llc_se_mean", "grad_fde_sampling",
		"loss_evals", "ess_per_fde_sampling", "wnv_fde_sampling"} {
		t.Columns = append(t.Columns, report.Column{Name: name, Type: report.Float})
	}
	t.Columns = append(t.Columns, report.Column{Name: "warnings", Type: report.String})
	for _, name := range []string{"final_loss", "accuracy"} {
		t.Columns = append(t.Columns, report.Column{Name: name, Type: report.Float})
	}

	for _, r := range rows {
		cells := []any{r.Address, r.RunID, r.FamilyID, r.Sampler, r.Kind}
		for i, a := range axes {
			cells = append(cells, axisCell(r.Axes[a], t.Columns[5+i].Type))
		}
		cells = append(cells, r.D, r.N, r.NBeta, r.Gamma, r.Chains, r.Draws,
			r.LLCMean, r.LLCSE, r.ESSBulk, r.ESSTail, r.RHat, r.LambdaTrue, r.LambdaExact, r.WallSeconds,
			r.FDE, r.ESSPerSecond, r.ESSPerFDE, r.WNVTime, r.WNVFDE,
			r.AcceptanceRate, r.StepSize, r.Divergences, r.FracBelowStar, r.EnergyVar, r.L, r.CheckpointStep,
			flagList(r.Flags),
			r.LambdaMultiplicity, r.ESSMean, r.LLCSEMean, r.GradFDESampling,
			r.LossEvals, r.ESSPerFDESampling, r.WNVFDESampling,
			strings.Join(r.Warnings, "; "), r.FinalLoss, r.Accuracy)
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
