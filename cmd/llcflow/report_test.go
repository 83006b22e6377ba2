package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/parquet-go/parquet-go"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/report"
)

// reportHCL is a workflow with two trained SGLD samplers, a sampler that
// diverges (so the report has failed nodes) and HMC on a quadratic target
// with a known λ. The opt axis takes one value.
const reportHCL = `
sweep {
  seed = [0, 1]
  opt  = ["adam"]
}

dataset "teacher" {
  kind    = "teacher_student"
  n       = 200
  in_dim  = 3
  teacher = { widths = [3, 3, 1], activation = "tanh" }
  noise   = { scale = 0.1 }
  seed    = sweep.seed
}

model "student" {
  kind       = "mlp"
  widths     = [3, 4, 1]
  activation = "tanh"
}

erm "fit" {
  dataset   = dataset.teacher
  model     = model.student
  optimizer = { kind = sweep.opt }
  steps     = 200
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

sampler "diverge" {
  kind       = "sgld"
  erm        = erm.fit
  step_size  = 1000
  warmup     = 10
  steps      = 50
  eval_every = 5
  chains     = 2
}

target "bowl" {
  kind        = "quadratic"
  eigenvalues = [1, 1]
}

sampler "hmc_bowl" {
  kind   = "hmc"
  target = target.bowl
  n_beta = 100
  gamma  = 0
  warmup = 100
  draws  = 200
  chains = 2
}
`

// reportWorkdir writes reportHCL into a fresh directory and applies it.
// The diverging sampler makes apply exit 1.
func reportWorkdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.hcl"), []byte(reportHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	r := llcflow(t, dir, "apply", "--keep-going", "r.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "sampler.diverge") {
		t.Fatalf("apply: exit %d, want 1 with sampler.diverge failing\nstderr:\n%s", r.code, r.stderr)
	}
	return dir
}

// reportOnlyCLI parses the report command when the cli struct does not
// list it yet.
type reportOnlyCLI struct {
	Store   string    `env:"LLCFLOW_STORE" default:"runs" type:"path"`
	NoColor bool      `env:"NO_COLOR"`
	Report  reportCmd `cmd:""`
}

// runReport runs `llcflow report ARGS` in this process, in dir with the
// store at dir/runs, and returns the exit code.
func runReport(t *testing.T, dir string, args ...string) int {
	t.Helper()
	t.Chdir(dir)
	t.Setenv("LLCFLOW_STORE", filepath.Join(dir, "runs"))
	t.Setenv("NO_COLOR", "1")
	full := append([]string{"report"}, args...)
	if _, ok := reflect.TypeFor[cli]().FieldByName("Report"); ok {
		return run(full)
	}
	var c reportOnlyCLI
	parser, err := kong.New(&c, kong.Name("llcflow"))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(full)
	if err != nil {
		t.Logf("parse %v: %v", full, err)
		return exitUsage
	}
	err = kctx.Run(&cli{Store: c.Store, NoColor: c.NoColor})
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		t.Logf("report: %v", ee.err)
		return ee.code
	}
	t.Logf("report: %v", err)
	return exitFailure
}

// hashTree returns the SHA-256 of every file under root by relative path.
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		rel, _ := filepath.Rel(root, path)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runsOfType returns the run ids in dir/runs whose manifest has this type.
func runsOfType(t *testing.T, dir, typ string) []string {
	t.Helper()
	var ids []string
	for _, id := range runDirs(t, dir) {
		var m struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(readFile(t, dir, "runs", id, "manifest.json")), &m); err != nil {
			t.Fatalf("manifest of %s: %v", id, err)
		}
		if m.Type == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

type resultsJSON struct {
	Rows []struct {
		Address  string         `json:"address"`
		RunID    string         `json:"run_id"`
		Axes     map[string]any `json:"axes"`
		Chains   int            `json:"chains"`
		LLCMean  *float64       `json:"llc_mean"`
		ESSBulk  *float64       `json:"ess_bulk"`
		FDE      *float64       `json:"fde"`
		WNVFDE   *float64       `json:"wnv_fde"`
		Accept   *float64       `json:"acceptance_rate"`
		Lambda   *float64       `json:"lambda_true"`
		Flags    []report.Flag  `json:"flags"`
		EnergyVa *float64       `json:"energy_var"`
	} `json:"rows"`
	Errors []struct {
		Address string `json:"address"`
		Stage   string `json:"stage"`
		Error   string `json:"error"`
		LogPath string `json:"log_path"`
	} `json:"errors"`
}

func resultsDocument(t *testing.T, dir string) resultsJSON {
	t.Helper()
	r := llcflow(t, dir, "results", "--format", "json", "r.hcl")
	mustSucceed(t, r, "results --format json")
	var doc resultsJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse results: %v\n%s", err, r.stdout)
	}
	return doc
}

func TestResultsErrorTableAndNewColumns(t *testing.T) {
	dir := reportWorkdir(t)
	doc := resultsDocument(t, dir)
	if len(doc.Rows) != 3 {
		t.Fatalf("%d rows, want 3 (two sgld, one hmc)", len(doc.Rows))
	}
	if len(doc.Errors) != 2 {
		t.Fatalf("%d errors, want the 2 diverged samplers: %+v", len(doc.Errors), doc.Errors)
	}
	for _, e := range doc.Errors {
		if !strings.HasPrefix(e.Address, "sampler.diverge[") || e.Stage != "sampler" {
			t.Errorf("error row %+v, want a sampler.diverge node at stage sampler", e)
		}
		if _, err := os.Stat(e.LogPath); err != nil {
			t.Errorf("log path %q of %s: %v", e.LogPath, e.Address, err)
		}
	}
	for _, row := range doc.Rows {
		if row.FDE == nil || *row.FDE <= 0 || row.WNVFDE == nil || row.ESSBulk == nil {
			t.Errorf("%s: fde %v, wnv_fde %v, ess_bulk %v, want numbers", row.Address, row.FDE, row.WNVFDE, row.ESSBulk)
		}
		if row.Accept == nil {
			t.Errorf("%s: acceptance_rate missing", row.Address)
		}
		if row.Flags == nil {
			t.Errorf("%s: flags is null, want a list", row.Address)
		}
	}

	table := llcflow(t, dir, "results", "r.hcl")
	mustSucceed(t, table, "results")
	for _, want := range []string{"Failed nodes:", "sampler.diverge[seed=0,opt=adam]", "diverged", "log.txt", "flags"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, table.stdout)
		}
	}
}

// parquetResult is how a reader that knows the columns of `results
// --format parquet` reads them.
type parquetResult struct {
	Address  string   `parquet:"address"`
	RunID    string   `parquet:"run_id"`
	Kind     string   `parquet:"kind"`
	Seed     *float64 `parquet:"axis.seed,optional"`
	Opt      *string  `parquet:"axis.opt,optional"`
	D        int64    `parquet:"d"`
	Chains   int64    `parquet:"chains"`
	LLCMean  *float64 `parquet:"llc_mean,optional"`
	ESSBulk  *float64 `parquet:"ess_bulk,optional"`
	Lambda   *float64 `parquet:"lambda_true,optional"`
	FDE      *float64 `parquet:"fde,optional"`
	EnergyVa *float64 `parquet:"energy_var,optional"`
	Flags    string   `parquet:"flags"`
}

func TestResultsParquetReadsBack(t *testing.T) {
	dir := reportWorkdir(t)
	doc := resultsDocument(t, dir)
	out := filepath.Join(dir, "llc.parquet")
	mustSucceed(t, llcflow(t, dir, "results", "--format", "parquet", "--out", out, "r.hcl"), "results --format parquet")

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	pf, err := parquet.OpenFile(f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	var columns []string
	for _, field := range pf.Schema().Fields() {
		columns = append(columns, field.Name())
	}
	wantPrefix := []string{"address", "run_id", "family_id", "sampler", "kind", "axis.seed", "axis.opt", "d", "n"}
	if len(columns) < len(wantPrefix) || !slices.Equal(columns[:len(wantPrefix)], wantPrefix) {
		t.Errorf("columns start %v, want %v", columns, wantPrefix)
	}
	for _, name := range []string{"ess_bulk", "ess_tail", "rhat", "lambda_true", "lambda_exact", "fde",
		"ess_per_second", "ess_per_fde", "wnv_time", "wnv_fde", "acceptance_rate", "divergences", "flags"} {
		if !slices.Contains(columns, name) {
			t.Errorf("columns %v lack %s", columns, name)
		}
	}

	rows, err := parquet.Read[parquetResult](f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(doc.Rows) {
		t.Fatalf("%d parquet rows, want %d", len(rows), len(doc.Rows))
	}
	for i, want := range doc.Rows {
		got := rows[i]
		if got.Address != want.Address || got.RunID != want.RunID || int(got.Chains) != want.Chains {
			t.Errorf("row %d: %s %s chains %d, want %s %s chains %d", i, got.Address, got.RunID, got.Chains,
				want.Address, want.RunID, want.Chains)
		}
		if !sameNumber(got.LLCMean, want.LLCMean) || !sameNumber(got.FDE, want.FDE) || !sameNumber(got.Lambda, want.Lambda) {
			t.Errorf("row %d (%s): llc %v fde %v lambda %v differ from JSON", i, got.Address, got.LLCMean, got.FDE, got.Lambda)
		}
		if seed, ok := want.Axes["seed"].(float64); ok {
			if got.Seed == nil || *got.Seed != seed || got.Opt == nil || *got.Opt != "adam" {
				t.Errorf("row %d axes %v %v, want seed %v opt adam", i, got.Seed, got.Opt, seed)
			}
		} else if got.Seed != nil || got.Opt != nil {
			t.Errorf("row %d (%s) has axes %v %v, want null", i, got.Address, got.Seed, got.Opt)
		}
		if (got.Kind == "hmc") != (got.Lambda != nil) {
			t.Errorf("row %d (%s): lambda_true %v, want it exactly for the target", i, got.Address, got.Lambda)
		}
	}
}

func sameNumber(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func TestDifferingAxesHidesConstantOnes(t *testing.T) {
	l := &loaded{workflow: &dsl.Workflow{Axes: []dsl.Axis{{Name: "seed"}, {Name: "opt"}, {Name: "width"}}}}
	rows := []resultRow{
		{Axes: map[string]any{"seed": 0.0, "opt": "adam", "width": 4.0}},
		{Axes: map[string]any{"seed": 1.0, "opt": "adam", "width": 4.0}},
	}
	if got := differingAxes(l, rows); !slices.Equal(got, []string{"seed"}) {
		t.Errorf("differing axes %v, want [seed]", got)
	}
	rows = append(rows, resultRow{Axes: map[string]any{}})
	if got := differingAxes(l, rows); !slices.Equal(got, []string{"seed", "opt", "width"}) {
		t.Errorf("with a row without axes: %v, want all three", got)
	}
}

func TestReportPlotsAreCachedNodes(t *testing.T) {
	dir := reportWorkdir(t)
	samplerRuns := runsOfType(t, dir, "sampler")
	before := map[string]map[string]string{}
	for _, id := range samplerRuns {
		before[id] = hashTree(t, filepath.Join(dir, "runs", id))
	}

	if code := runReport(t, dir, "r.hcl"); code != 0 {
		t.Fatalf("report: exit %d, want 0", code)
	}
	plots := runsOfType(t, dir, "plot")
	if len(plots) != 4 {
		t.Errorf("%d plot runs in the store, want 4 (3 samplers and the sweep)", len(plots))
	}
	for _, id := range samplerRuns {
		if after := hashTree(t, filepath.Join(dir, "runs", id)); !reflect.DeepEqual(before[id], after) {
			t.Errorf("report changed the files of sampler run %s", id)
		}
	}
	index := readFile(t, dir, "report", "index.html")
	if !strings.Contains(index, "Plot nodes: 4 drawn, 0 cached, 0 failed.") {
		t.Errorf("first report does not say it drew 4 plot nodes")
	}
	for _, want := range []string{"Plan: 2 to run, 8 cached.", "sampler.diverge[seed=0,opt=adam]", "rhat", "results.parquet"} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	for _, name := range []string{"results.csv", "results.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, "report", name)); err != nil {
			t.Errorf("report lacks %s: %v", name, err)
		}
	}

	if code := runReport(t, dir, "r.hcl"); code != 0 {
		t.Fatalf("second report: exit %d, want 0", code)
	}
	if index := readFile(t, dir, "report", "index.html"); !strings.Contains(index, "Plot nodes: 0 drawn, 4 cached, 0 failed.") {
		t.Errorf("second report drew plots again; want all 4 plot nodes cached")
	}
	if got := runsOfType(t, dir, "plot"); !slices.Equal(got, plots) {
		t.Errorf("plot runs changed from %v to %v", plots, got)
	}
}

func TestReportRedrawGivesSameBytes(t *testing.T) {
	dir := reportWorkdir(t)
	if code := runReport(t, dir, "r.hcl"); code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	plots := runsOfType(t, dir, "plot")
	first := map[string]string{}
	for _, id := range plots {
		first[id] = readFile(t, dir, "runs", id, "manifest.json")
	}
	if code := runReport(t, dir, "--redraw", "r.hcl"); code != 0 {
		t.Fatalf("report --redraw: exit %d", code)
	}
	if !strings.Contains(readFile(t, dir, "report", "index.html"), "Plot nodes: 4 drawn, 0 cached") {
		t.Errorf("--redraw did not draw every plot node again")
	}
	for _, id := range plots {
		if got := readFile(t, dir, "runs", id, "manifest.json"); got != first[id] {
			t.Errorf("plot run %s: the redrawn files differ (manifest hashes changed)", id)
		}
	}
}

func TestReportRejectsOutInsideStore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.hcl"), []byte(reportHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := runReport(t, dir, "--out", filepath.Join(dir, "runs", "report"), "r.hcl"); code != exitUsage {
		t.Errorf("report --out inside the store: exit %d, want %d", code, exitUsage)
	}
}

// TestReportInBrowser opens every page of a report in headless Chromium and
// checks from the DOM that the tables are there and every image loaded.
func TestReportInBrowser(t *testing.T) {
	chromium := findChromium(t)
	dir := reportWorkdir(t)
	if code := runReport(t, dir, "r.hcl"); code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "report", "pages", "*.html"))
	if err != nil || len(pages) != 3 {
		t.Fatalf("run pages %v (%v), want 3", pages, err)
	}

	b := startBrowser(t, chromium)
	index := b.load(t, filepath.Join(dir, "report", "index.html"))
	if index.Results != 3 {
		t.Errorf("index.html: %d rows in table#results, want 3", index.Results)
	}
	if index.Errors != 2 {
		t.Errorf("index.html: %d rows in table#errors, want 2", index.Errors)
	}
	if index.Flagged == 0 {
		t.Errorf("index.html: no flagged row, want the low-ESS runs flagged")
	}
	checkImages(t, "index.html", index, 1)
	for _, page := range pages {
		doc := b.load(t, page)
		checkImages(t, filepath.Base(page), doc, 5)
	}

	// The check must see a missing image: remove one and reload.
	missing := filepath.Join(dir, "report", filepath.FromSlash(index.Images[0].Src))
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}
	broken := b.load(t, filepath.Join(dir, "report", "index.html"))
	if broken.Images[0].Loaded {
		t.Errorf("image %s loaded after its file was removed", broken.Images[0].Src)
	}
}

func checkImages(t *testing.T, page string, doc pageDOM, atLeast int) {
	t.Helper()
	if len(doc.Images) < atLeast {
		t.Errorf("%s has %d images, want at least %d", page, len(doc.Images), atLeast)
	}
	for _, img := range doc.Images {
		if !img.Loaded || img.Width == 0 {
			t.Errorf("%s: image %s did not load (complete %v, natural width %d)", page, img.Src, img.Loaded, img.Width)
		}
	}
}

// findChromium returns Debian's chromium binary, or skips the test when it
// is missing unless LLCFLOW_REQUIRE_BROWSER=1.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "chromium is not installed (Debian package chromium); the browser test needs it"
	if os.Getenv("LLCFLOW_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + ", and LLCFLOW_REQUIRE_BROWSER=1")
	}
	t.Skip(msg)
	return ""
}

// pageDOM is what the browser found on a loaded page.
type pageDOM struct {
	URL     string `json:"url"`
	Results int    `json:"results"`
	Errors  int    `json:"errors"`
	Flagged int    `json:"flagged"`
	Images  []struct {
		Src    string `json:"src"`
		Loaded bool   `json:"loaded"`
		Width  int    `json:"width"`
	} `json:"images"`
}

// domScript collects pageDOM from the current document.
const domScript = `JSON.stringify({
  url: location.href,
  results: document.querySelectorAll("table#results tbody tr").length,
  errors: document.querySelectorAll("table#errors tbody tr").length,
  flagged: document.querySelectorAll("table#results tr.flagged").length,
  images: Array.from(document.images).map(i => ({
    src: i.getAttribute("src"), loaded: i.complete && i.naturalWidth > 0, width: i.naturalWidth})),
})`

// browser is headless Chromium driven through the DevTools protocol over
// a pipe (--remote-debugging-pipe), so that no socket is opened.
type browser struct {
	toChrome   io.Writer
	fromChrome *bufio.Reader
	session    string
	nextID     int
	stderr     *bytes.Buffer
	// events are the events read while waiting for a reply.
	events []cdpMessage
}

func startBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmdIn, toChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromChrome, cmdOut, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe",
		"--user-data-dir="+t.TempDir(), "about:blank")
	// Chromium reads commands from fd 3 and writes replies to fd 4.
	cmd.ExtraFiles = []*os.File{cmdIn, cmdOut}
	b := &browser{toChrome: toChrome, fromChrome: bufio.NewReader(fromChrome), stderr: &bytes.Buffer{}}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	cmdIn.Close()
	cmdOut.Close()
	t.Cleanup(func() {
		_ = b.send("Browser.close", nil, "")
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		cancel()
		toChrome.Close()
		fromChrome.Close()
	})

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call(t, "Target.createTarget", map[string]any{"url": "about:blank"}, "", &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.call(t, "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, "", &attached)
	b.session = attached.SessionID
	b.call(t, "Page.enable", nil, b.session, nil)
	return b
}

// load opens a file in the page, waits for its load event and returns its
// DOM summary.
func (b *browser) load(t *testing.T, path string) pageDOM {
	t.Helper()
	url := "file://" + filepath.ToSlash(path)
	b.events = nil
	b.call(t, "Page.navigate", map[string]any{"url": url}, b.session, nil)
	b.waitEvent(t, "Page.loadEventFired")
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	b.call(t, "Runtime.evaluate", map[string]any{"expression": domScript, "returnByValue": true}, b.session, &res)
	if res.ExceptionDetails != nil {
		t.Fatalf("evaluate on %s: %v", path, res.ExceptionDetails)
	}
	var doc pageDOM
	if err := json.Unmarshal([]byte(res.Result.Value), &doc); err != nil {
		t.Fatalf("DOM summary of %s: %v (%q)", path, err, res.Result.Value)
	}
	if doc.URL != url {
		t.Fatalf("browser is at %s, want %s", doc.URL, url)
	}
	return doc
}

type cdpMessage struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	SessionID string          `json:"sessionId"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func (b *browser) send(method string, params any, session string) error {
	b.nextID++
	msg := map[string]any{"id": b.nextID, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = b.toChrome.Write(append(data, 0))
	return err
}

// read returns the next message; messages are separated by NUL bytes.
func (b *browser) read(t *testing.T) cdpMessage {
	t.Helper()
	data, err := b.fromChrome.ReadBytes(0)
	if err != nil {
		t.Fatalf("read from chromium: %v\nstderr:\n%s", err, b.stderr)
	}
	var m cdpMessage
	if err := json.Unmarshal(data[:len(data)-1], &m); err != nil {
		t.Fatalf("parse chromium message %q: %v", data, err)
	}
	return m
}

// call sends a command and waits for its reply, skipping events.
func (b *browser) call(t *testing.T, method string, params any, session string, result any) {
	t.Helper()
	if err := b.send(method, params, session); err != nil {
		t.Fatalf("send %s: %v", method, err)
	}
	id := b.nextID
	for {
		m := b.read(t)
		if m.ID != id {
			if m.Method != "" {
				b.events = append(b.events, m)
			}
			continue
		}
		if m.Error != nil {
			t.Fatalf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				t.Fatalf("%s result: %v", method, err)
			}
		}
		return
	}
}

func (b *browser) waitEvent(t *testing.T, method string) {
	t.Helper()
	for i, m := range b.events {
		if m.Method == method && m.SessionID == b.session {
			b.events = b.events[i+1:]
			return
		}
	}
	b.events = nil
	for {
		if m := b.read(t); m.Method == method && m.SessionID == b.session {
			return
		}
	}
}

func TestCheckpointSweepResultsAndReport(t *testing.T) {
	dir := workdir(t, "checkpoints.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "checkpoints.hcl"), "apply")

	r := llcflow(t, dir, "results", "--format", "json", "checkpoints.hcl")
	mustSucceed(t, r, "results")
	var doc struct {
		Rows []struct {
			Address        string         `json:"address"`
			Axes           map[string]any `json:"axes"`
			CheckpointStep *float64       `json:"checkpoint_step"`
			FinalLoss      *float64       `json:"final_loss"`
			Accuracy       *float64       `json:"accuracy"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse results: %v\n%s", err, r.stdout)
	}
	if len(doc.Rows) != 4 {
		t.Fatalf("%d rows, want 4 (2 samplers × 2 steps)", len(doc.Rows))
	}
	lossAt := map[float64]float64{}
	for _, row := range doc.Rows {
		if row.CheckpointStep == nil || *row.CheckpointStep != row.Axes["step"] {
			t.Errorf("%s: checkpoint_step %v, want the step %v", row.Address, row.CheckpointStep, row.Axes["step"])
			continue
		}
		if row.FinalLoss == nil || row.Accuracy == nil {
			t.Errorf("%s: final_loss %v and accuracy %v, want both", row.Address, row.FinalLoss, row.Accuracy)
			continue
		}
		if *row.Accuracy < 0 || *row.Accuracy > 1 {
			t.Errorf("%s: accuracy %v outside [0, 1]", row.Address, *row.Accuracy)
		}
		lossAt[*row.CheckpointStep] = *row.FinalLoss
	}
	// Adam at lr 0.01 lowers the cross-entropy between steps 20 and 60.
	if !(lossAt[60] < lossAt[20]) {
		t.Errorf("training loss %v at step 60, want it below %v at step 20", lossAt[60], lossAt[20])
	}

	csv := llcflow(t, dir, "results", "--format", "csv", "checkpoints.hcl")
	mustSucceed(t, csv, "results --format csv")
	header := strings.Split(strings.SplitN(csv.stdout, "\n", 2)[0], ",")
	for _, name := range []string{"checkpoint_step", "final_loss", "accuracy"} {
		if !slices.Contains(header, name) {
			t.Errorf("CSV header %v lacks %s", header, name)
		}
	}

	mustSucceed(t, llcflow(t, dir, "report", "--out", "rep", "checkpoints.hcl"), "report")
	pngs, err := filepath.Glob(filepath.Join(dir, "rep", "plots", "*", "llc_vs_training_step.png"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pngs) != 1 {
		t.Errorf("%d llc_vs_training_step.png files in the report, want 1", len(pngs))
	}
}
