package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/llcflow/llcflow/report"
)

// untrustedHCL trains for 3 steps only, so that w* is far from a minimum:
// the erm sets not_minimum, SGLD walks downhill from w* (most draws below
// L_n(w*)), one seed's estimate comes out negative and the chains
// disagree.
const untrustedHCL = `
sweep {
  seed = [0, 1]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = 300
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
  noise   = { scale = 0.1 }
  seed    = sweep.seed
}

model "student" {
  kind       = "mlp"
  widths     = [3, 6, 1]
  activation = "tanh"
}

erm "fit" {
  dataset = dataset.teacher
  model   = model.student
  steps   = 3
}

sampler "sgld" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = 1e-4
  batch_size = 64
  warmup     = 100
  steps      = 400
  eval_every = 5
  chains     = 2
}
`

// resultsOutput is the part of `results --format json` that these tests
// read.
type resultsOutput struct {
	Rows []struct {
		Address            string        `json:"address"`
		RunID              string        `json:"run_id"`
		FamilyID           string        `json:"family_id"`
		LLCMean            *float64      `json:"llc_mean"`
		LLCSE              *float64      `json:"llc_se"`
		ESSBulk            *float64      `json:"ess_bulk"`
		RHat               *float64      `json:"rhat"`
		WallSeconds        *float64      `json:"wall_seconds"`
		ESSPerSecond       *float64      `json:"ess_per_second"`
		WNVTime            *float64      `json:"wnv_time"`
		FracBelowStar      *float64      `json:"frac_below_star"`
		LambdaMultiplicity *float64      `json:"lambda_multiplicity"`
		ESSPerFDESampling  *float64      `json:"ess_per_fde_sampling"`
		WNVFDESampling     *float64      `json:"wnv_fde_sampling"`
		Warnings           []string      `json:"warnings"`
		Flags              []report.Flag `json:"flags"`
	} `json:"rows"`
	Errors []struct {
		Address string `json:"address"`
		RunID   string `json:"run_id"`
		Stage   string `json:"stage"`
		LogPath string `json:"log_path"`
	} `json:"errors"`
	Pending []pendingRow `json:"pending"`
}

func writeHCL(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readResultsDoc(t *testing.T, dir string, args ...string) resultsOutput {
	t.Helper()
	r := llcflow(t, dir, append([]string{"results", "--format", "json"}, args...)...)
	mustSucceed(t, r, "results --format json")
	var doc resultsOutput
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse results: %v\n%s", err, r.stdout)
	}
	return doc
}

func flagCodeList(flags []report.Flag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.Code)
	}
	return out
}

// samplerWarnings reads the warnings list of a sampler's result.json.
func samplerWarnings(t *testing.T, dir, runID string) []string {
	t.Helper()
	var res struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(readFile(t, dir, "runs", runID, "result.json")), &res); err != nil {
		t.Fatalf("parse result.json of %s: %v", runID, err)
	}
	return res.Warnings
}

func TestResultsFlagUntrustedEstimates(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "u.hcl", untrustedHCL)
	apply := llcflow(t, dir, "apply", "u.hcl")
	mustSucceed(t, apply, "apply")

	doc := readResultsDoc(t, dir, "u.hcl")
	if len(doc.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(doc.Rows))
	}
	raised := map[string]bool{}
	for _, row := range doc.Rows {
		codes := flagCodeList(row.Flags)
		for _, c := range codes {
			raised[c] = true
		}
		var erm struct {
			NotMinimum bool `json:"not_minimum"`
		}
		if err := json.Unmarshal([]byte(readFile(t, dir, "runs", row.FamilyID, "result.json")), &erm); err != nil {
			t.Fatal(err)
		}
		if erm.NotMinimum != slices.Contains(codes, "not_minimum") {
			t.Errorf("%s: erm not_minimum %v but flags %v", row.Address, erm.NotMinimum, codes)
		}
		if below := row.FracBelowStar != nil && *row.FracBelowStar > report.MaxFracBelowStar; below != slices.Contains(codes, "below_star") {
			t.Errorf("%s: frac_below_star %v but flags %v", row.Address, *row.FracBelowStar, codes)
		}
		if negative := *row.LLCMean < 0; negative != slices.Contains(codes, "negative") {
			t.Errorf("%s: llc %v but flags %v", row.Address, *row.LLCMean, codes)
		}
		if high := *row.RHat > report.MaxRHat; high != slices.Contains(codes, "rhat") {
			t.Errorf("%s: rhat %v but flags %v", row.Address, *row.RHat, codes)
		}
		if want := samplerWarnings(t, dir, row.RunID); !slices.Equal(row.Warnings, want) || len(want) == 0 {
			t.Errorf("%s: warnings %q, want result.json's %q (not empty)", row.Address, row.Warnings, want)
		}
		if slices.Contains(codes, "warning") {
			t.Errorf("%s: flags %v: a sampler warning matched no code", row.Address, codes)
		}
	}
	// The workflow is deterministic and built to raise these four.
	for _, code := range []string{"not_minimum", "below_star", "negative", "rhat"} {
		if !raised[code] {
			t.Errorf("no row raises %s; the flags are %v", code, raised)
		}
	}

	table := llcflow(t, dir, "results", "u.hcl")
	mustSucceed(t, table, "results")
	for name, out := range map[string]string{"results": table.stdout, "apply": apply.stdout} {
		start := strings.Index(out, "Flags (")
		if start < 0 {
			t.Errorf("%s prints no flag legend:\n%s", name, out)
			continue
		}
		legend := out[start:]
		for code := range raised {
			if !strings.Contains(legend, "  "+code+" ") || !strings.Contains(legend, report.FlagMeaning(code)) {
				t.Errorf("%s legend lacks %s: %s\n%s", name, code, report.FlagMeaning(code), legend)
			}
		}
		if !strings.Contains(out, "not_minimum") || !strings.Contains(out, "below_star") {
			t.Errorf("%s table lacks the flags:\n%s", name, out)
		}
	}
}

func TestResultsEfficiencyFromWallTime(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "u.hcl", untrustedHCL)
	mustSucceed(t, llcflow(t, dir, "apply", "u.hcl"), "apply")
	for _, row := range readResultsDoc(t, dir, "u.hcl").Rows {
		if row.WallSeconds == nil || row.ESSPerSecond == nil || row.WNVTime == nil {
			t.Fatalf("%s: wall %v, ess_per_second %v, wnv_time %v, want numbers", row.Address,
				row.WallSeconds, row.ESSPerSecond, row.WNVTime)
		}
		wall := *row.WallSeconds
		if want := *row.ESSBulk / wall; math.Abs(*row.ESSPerSecond-want) > 1e-12*want {
			t.Errorf("%s: ess_per_second %v, want ess_bulk/wall_seconds = %v", row.Address, *row.ESSPerSecond, want)
		}
		if want := *row.LLCSE * *row.LLCSE * wall; math.Abs(*row.WNVTime-want) > 1e-12*want {
			t.Errorf("%s: wnv_time %v, want llc_se²·wall_seconds = %v", row.Address, *row.WNVTime, want)
		}
		if row.ESSPerFDESampling == nil || row.WNVFDESampling == nil {
			t.Errorf("%s: ess_per_fde_sampling %v, wnv_fde_sampling %v, want numbers", row.Address,
				row.ESSPerFDESampling, row.WNVFDESampling)
		}
	}
}

func TestResultsCSVAndParquetAddColumns(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "u.hcl", untrustedHCL)
	mustSucceed(t, llcflow(t, dir, "apply", "u.hcl"), "apply")
	doc := readResultsDoc(t, dir, "u.hcl")

	r := llcflow(t, dir, "results", "--format", "csv", "u.hcl")
	mustSucceed(t, r, "results --format csv")
	records, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, r.stdout)
	}
	header := records[0]
	column := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("CSV header %v lacks %s", header, name)
		}
		return i
	}
	// The columns of the first CSV format keep their order, and the new
	// ones come after them.
	if flags := column("flags"); column("lambda_multiplicity") < flags || column("warnings") < flags {
		t.Errorf("header %v: new columns before flags", header)
	}
	for i, row := range doc.Rows {
		rec := records[i+1]
		if got, want := rec[column("flags")], strings.Join(flagCodeList(row.Flags), ";"); got != want {
			t.Errorf("%s: CSV flags %q, want %q", row.Address, got, want)
		}
		if got, want := rec[column("warnings")], strings.Join(row.Warnings, "; "); got != want {
			t.Errorf("%s: CSV warnings %q, want %q", row.Address, got, want)
		}
		if rec[column("lambda_multiplicity")] != "" {
			t.Errorf("%s: lambda_multiplicity %q for a trained MLP, want empty", row.Address, rec[column("lambda_multiplicity")])
		}
	}

	out := filepath.Join(dir, "llc.parquet")
	mustSucceed(t, llcflow(t, dir, "results", "--format", "parquet", "--out", out, "u.hcl"), "results --format parquet")
	type parquetRow struct {
		Address  string   `parquet:"address"`
		Flags    string   `parquet:"flags"`
		Warnings string   `parquet:"warnings"`
		Mult     *float64 `parquet:"lambda_multiplicity,optional"`
		ESSPerFS *float64 `parquet:"ess_per_fde_sampling,optional"`
	}
	rows, err := parquet.ReadFile[parquetRow](out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(doc.Rows) {
		t.Fatalf("%d parquet rows, want %d", len(rows), len(doc.Rows))
	}
	for i, want := range doc.Rows {
		got := rows[i]
		if got.Flags != strings.Join(flagCodeList(want.Flags), ";") || got.Warnings != strings.Join(want.Warnings, "; ") {
			t.Errorf("parquet row %d: flags %q warnings %q differ from JSON", i, got.Flags, got.Warnings)
		}
		if got.Mult != nil || !sameNumber(got.ESSPerFS, want.ESSPerFDESampling) {
			t.Errorf("parquet row %d: multiplicity %v, ess_per_fde_sampling %v differ from JSON", i, got.Mult, got.ESSPerFS)
		}
	}
}

// multiplicityHCL samples a reduced-rank regression target, whose λ and
// multiplicity are known.
const multiplicityHCL = `
target "rrr" {
  kind   = "linear"
  widths = [3, 2, 3]
  rank   = 1
}

sampler "hmc" {
  kind   = "hmc"
  target = target.rrr
  n_beta = 1000
  warmup = 50
  draws  = 100
  chains = 2
}
`

func TestResultsShowMultiplicity(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "m.hcl", multiplicityHCL)
	mustSucceed(t, llcflow(t, dir, "apply", "m.hcl"), "apply")
	doc := readResultsDoc(t, dir, "m.hcl")
	if len(doc.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(doc.Rows))
	}
	// Reduced-rank regression with H = (3, 2, 3) and r = 1 has m = 2
	// (Aoyagi and Watanabe 2005).
	if m := doc.Rows[0].LambdaMultiplicity; m == nil || *m != 2 {
		t.Errorf("lambda_multiplicity %v, want 2", m)
	}
}

func TestResultsListPendingNodes(t *testing.T) {
	dir := t.TempDir()
	// erm.fit[seed=1] diverges, so sampler.sgld[seed=1] never runs.
	hcl := strings.Replace(untrustedHCL, "  steps   = 3\n",
		"  steps   = 20\n  optimizer = { kind = \"sgd\", lr = sweep.seed == 1 ? 1e30 : 0.01 }\n", 1)
	writeHCL(t, dir, "p.hcl", hcl)
	r := llcflow(t, dir, "apply", "--keep-going", "p.hcl")
	if r.code != 1 {
		t.Fatalf("apply: exit %d, want 1 with erm.fit[seed=1] failing\nstderr:\n%s", r.code, r.stderr)
	}
	// A sampler added after apply has not run, and a run directory whose
	// result.json was cut short is corrupt.
	writeHCL(t, dir, "p.hcl", hcl+`
sampler "later" {
  kind       = "sgld"
  erm        = erm.fit
  steps      = 100
  eval_every = 5
  chains     = 2
}
`)
	doc := readResultsDoc(t, dir, "p.hcl")
	if len(doc.Rows) != 1 {
		t.Fatalf("%d rows, want sampler.sgld[seed=0] only", len(doc.Rows))
	}
	corruptID := doc.Rows[0].RunID
	if err := os.WriteFile(filepath.Join(dir, "runs", corruptID, "result.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}

	doc = readResultsDoc(t, dir, "p.hcl")
	if len(doc.Rows) != 0 {
		t.Errorf("%d rows, want none", len(doc.Rows))
	}
	want := map[string]string{
		"sampler.sgld[seed=0]":  "corrupt",
		"sampler.sgld[seed=1]":  "missing",
		"sampler.later[seed=0]": "missing",
		"sampler.later[seed=1]": "missing",
	}
	if len(doc.Pending) != len(want) {
		t.Errorf("pending %+v, want %d nodes", doc.Pending, len(want))
	}
	for _, p := range doc.Pending {
		if want[p.Address] != p.Status {
			t.Errorf("pending %s has status %q, want %q", p.Address, p.Status, want[p.Address])
		}
		switch p.Address {
		case "sampler.sgld[seed=0]":
			if !strings.Contains(p.Detail, "result.json") {
				t.Errorf("corrupt detail %q does not name result.json", p.Detail)
			}
		case "sampler.sgld[seed=1]", "sampler.later[seed=1]":
			if p.Detail != "input erm.fit[seed=1] failed" {
				t.Errorf("%s detail %q, want the failed erm", p.Address, p.Detail)
			}
		case "sampler.later[seed=0]":
			if p.Detail != "" {
				t.Errorf("%s detail %q, want none", p.Address, p.Detail)
			}
		}
	}

	table := llcflow(t, dir, "results", "p.hcl")
	mustSucceed(t, table, "results")
	for _, line := range []string{
		"4 sampler nodes have no result yet (run llcflow apply):",
		"sampler.later[seed=0]  missing  not run yet",
		"sampler.sgld[seed=1]   missing  input erm.fit[seed=1] failed",
	} {
		if !strings.Contains(table.stdout, line) {
			t.Errorf("terminal output lacks %q:\n%s", line, table.stdout)
		}
	}
	csvRun := llcflow(t, dir, "results", "--format", "csv", "p.hcl")
	mustSucceed(t, csvRun, "results --format csv")
	if !strings.Contains(csvRun.stderr, "4 sampler nodes have no result yet") {
		t.Errorf("CSV run prints no pending note on stderr:\n%s", csvRun.stderr)
	}
}

func TestResultsFailedNodesShowLogPath(t *testing.T) {
	dir := reportWorkdir(t)
	doc := readResultsDoc(t, dir, "r.hcl")
	if len(doc.Errors) != 2 {
		t.Fatalf("%d errors, want the 2 diverged samplers", len(doc.Errors))
	}

	table := llcflow(t, dir, "results", "r.hcl")
	mustSucceed(t, table, "results")
	start := strings.Index(table.stdout, "Failed nodes:")
	if start < 0 {
		t.Fatalf("results prints no failed-nodes table:\n%s", table.stdout)
	}
	failed := table.stdout[start:]
	lines := strings.Split(strings.TrimSpace(failed), "\n")
	if len(lines) != 2+len(doc.Errors) {
		t.Errorf("failed-nodes table has %d lines, want a title, a header and one line per node:\n%s", len(lines), failed)
	}
	for _, e := range doc.Errors {
		line := ""
		for _, l := range lines {
			if strings.HasPrefix(l, e.Address+" ") {
				line = l
			}
		}
		if !strings.HasSuffix(line, "  "+e.LogPath) {
			t.Errorf("line of %s %q does not end with its log path %s", e.Address, line, e.LogPath)
		}
	}
	if strings.Contains(failed, "llcflow dev:") || strings.Contains(failed, "sgld: d =") {
		t.Errorf("failed-nodes table shows the log's text:\n%s", failed)
	}

	csvRun := llcflow(t, dir, "results", "--format", "csv", "r.hcl")
	mustSucceed(t, csvRun, "results --format csv")
	if !strings.Contains(csvRun.stderr, "2 failed nodes are not in the rows; give --errors FILE") {
		t.Errorf("CSV run does not point to --errors:\n%s", csvRun.stderr)
	}

	errorsPath := filepath.Join(dir, "failed.csv")
	withErrors := llcflow(t, dir, "results", "--format", "csv", "--errors", errorsPath, "r.hcl")
	mustSucceed(t, withErrors, "results --errors")
	f, err := os.Open(errorsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"address", "run_id", "stage", "error", "log_path"}; !slices.Equal(records[0], want) {
		t.Errorf("--errors header %v, want %v", records[0], want)
	}
	if len(records) != 1+len(doc.Errors) {
		t.Fatalf("--errors has %d rows, want %d", len(records)-1, len(doc.Errors))
	}
	for i, e := range doc.Errors {
		rec := records[i+1]
		if rec[0] != e.Address || rec[1] != e.RunID || rec[2] != e.Stage || rec[4] != e.LogPath {
			t.Errorf("--errors row %v, want %s %s %s %s", rec, e.Address, e.RunID, e.Stage, e.LogPath)
		}
		if !strings.Contains(rec[3], "diverged") {
			t.Errorf("--errors error %q, want the divergence", rec[3])
		}
	}
	if !strings.Contains(withErrors.stderr, "--errors wrote them") {
		t.Errorf("stderr %q does not confirm --errors", withErrors.stderr)
	}
}

// collidingAxesHCL sweeps axes named like two result columns.
const collidingAxesHCL = `
sweep {
  llc   = [0, 1]
  r_hat = [2, 3]
}

target "bowl" {
  kind        = "quadratic"
  eigenvalues = [1, 1]
}

sampler "hmc" {
  kind   = "hmc"
  target = target.bowl
  n_beta = 100 + sweep.llc
  seed   = sweep.r_hat
  warmup = 50
  draws  = 100
  chains = 2
}
`

func TestResultsPrefixCollidingAxes(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "a.hcl", collidingAxesHCL)
	apply := llcflow(t, dir, "apply", "a.hcl")
	mustSucceed(t, apply, "apply")
	table := llcflow(t, dir, "results", "a.hcl")
	mustSucceed(t, table, "results")
	for name, out := range map[string]string{"results": table.stdout, "apply": apply.stdout} {
		i := strings.Index(out, "address ")
		if i < 0 {
			t.Fatalf("%s prints no table:\n%s", name, out)
		}
		header := strings.Fields(strings.SplitN(out[i:], "\n", 2)[0])
		want := []string{"address", "axis.llc", "axis.r_hat", "llc", "se"}
		if len(header) < len(want) || !slices.Equal(header[:len(want)], want) {
			t.Errorf("%s header %v, want it to start with %v", name, header, want)
		}
		if !slices.Contains(header, "r_hat") {
			t.Errorf("%s header %v lacks the r_hat column", name, header)
		}
	}
}

// Results list a numeric sweep in the order of its values: seed=200
// before seed=1000, which a string comparison of the addresses reverses.
func TestResultsOrderNumericSweep(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "sweep.hcl", hmcSeedsHCL("1000, 200, 50"))
	path := filepath.Join(dir, "sweep.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", path), "apply")
	r := llcflow(t, dir, "results", "--format", "json", path)
	mustSucceed(t, r, "results")
	var doc resultsDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, row := range doc.Rows {
		got = append(got, row.Address)
	}
	want := []string{"sampler.hmc[seed=50]", "sampler.hmc[seed=200]", "sampler.hmc[seed=1000]"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

// A path that does not exist, or a directory without .hcl files, is an
// error in reading the files, not in the variable values.
func TestMissingFileSummary(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "nosuch.hcl"), filepath.Join(dir, "empty")} {
		r := llcflow(t, dir, "plan", path)
		if r.code != 1 {
			t.Errorf("plan %s: exit %d, want 1", path, r.code)
		}
		if !strings.Contains(r.stderr, "1 error reading the HCL files") || strings.Contains(r.stderr, "--var") {
			t.Errorf("plan %s: stderr %q, want the summary \"1 error reading the HCL files\" without --var", path, r.stderr)
		}
	}
}
