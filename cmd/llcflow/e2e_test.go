package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the llcflow executable built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "llcflow-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "llcflow")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build llcflow:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// llcflow runs the binary in dir with the store at dir/runs.
func llcflow(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLCFLOW_STORE="+filepath.Join(dir, "runs"), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run llcflow %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func mustSucceed(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

// workdir copies testdata files into a fresh directory.
func workdir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(old), []byte(new)), 0o644); err != nil {
		t.Fatal(err)
	}
}

type planDoc struct {
	FormatVersion string `json:"format_version"`
	Summary       struct {
		Run, Cached, Forced int
	} `json:"summary"`
	Nodes []struct {
		Address string `json:"address"`
		Type    string `json:"type"`
		Kind    string `json:"kind"`
		RunID   string `json:"run_id"`
		Action  string `json:"action"`
		Reason  *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Changes []struct {
				Path string `json:"path"`
				Old  any    `json:"old"`
				New  any    `json:"new"`
			} `json:"changes"`
		} `json:"reason"`
	} `json:"nodes"`
}

func planJSON(t *testing.T, dir string, args ...string) planDoc {
	t.Helper()
	r := llcflow(t, dir, append([]string{"plan", "--json"}, args...)...)
	mustSucceed(t, r, "plan --json")
	var doc planDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse plan JSON: %v\n%s", err, r.stdout)
	}
	return doc
}

func runDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids
}

func TestApplyThenAllCached(t *testing.T) {
	dir := workdir(t, "small.hcl")
	t0 := time.Now()
	r := llcflow(t, dir, "apply", "small.hcl")
	first := time.Since(t0)
	mustSucceed(t, r, "first apply")
	for _, want := range []string{"sampler.sgld[seed=0]", "sampler.sgld[seed=1]", "llc", "se", "chains"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("results table lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := len(runDirs(t, dir)); got != 6 {
		t.Errorf("store has %d runs after the first apply, want 6", got)
	}

	doc := planJSON(t, dir, "small.hcl")
	if doc.Summary.Run != 0 || doc.Summary.Cached != 6 {
		t.Errorf("plan after apply: summary %+v, want 0 to run and 6 cached", doc.Summary)
	}
	t0 = time.Now()
	r = llcflow(t, dir, "apply", "small.hcl")
	second := time.Since(t0)
	mustSucceed(t, r, "second apply")
	if strings.Contains(r.stderr, "start ") {
		t.Errorf("second apply started a node:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "0 done, 6 cached") {
		t.Errorf("second apply summary missing:\n%s", r.stderr)
	}
	t.Logf("first apply %v, cached apply %v", first, second)
}

func TestParamEditRerunsOnlySamplers(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	editFile(t, filepath.Join(dir, "small.hcl"), "step_size  = 1e-4", "step_size  = 2e-4")
	doc := planJSON(t, dir, "small.hcl")
	if doc.Summary.Run != 2 || doc.Summary.Cached != 4 {
		t.Errorf("summary %+v, want 2 to run and 4 cached", doc.Summary)
	}
	for _, n := range doc.Nodes {
		wantRun := n.Type == "sampler"
		if (n.Action == "run") != wantRun {
			t.Errorf("%s: action %s", n.Address, n.Action)
		}
		if !wantRun {
			continue
		}
		if n.Reason == nil || n.Reason.Code != "params_changed" {
			t.Fatalf("%s: reason %+v, want params_changed", n.Address, n.Reason)
		}
		if len(n.Reason.Changes) != 1 || n.Reason.Changes[0].Path != "step_size" ||
			n.Reason.Changes[0].Old != 0.0001 || n.Reason.Changes[0].New != 0.0002 {
			t.Errorf("%s: changes %+v, want step_size 0.0001 → 0.0002", n.Address, n.Reason.Changes)
		}
		if !strings.Contains(n.Reason.Message, "step_size") || !strings.Contains(n.Reason.Message, "0.0001") ||
			!strings.Contains(n.Reason.Message, "0.0002") {
			t.Errorf("%s: message %q does not name the parameter and both values", n.Address, n.Reason.Message)
		}
	}
	text := llcflow(t, dir, "plan", "small.hcl")
	mustSucceed(t, text, "plan")
	if !strings.Contains(text.stdout, "Plan: 2 to run, 4 cached.") {
		t.Errorf("plan summary line missing:\n%s", text.stdout)
	}
}

func TestRenameKeepsCache(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	path := filepath.Join(dir, "small.hcl")
	editFile(t, path, `erm "fit"`, `erm "train"`)
	editFile(t, path, "erm        = erm.fit", "erm        = erm.train")
	editFile(t, path, `sampler "sgld"`, `sampler "sgld_renamed"`)
	editFile(t, path, `dataset "teacher"`, `dataset "data"`)
	editFile(t, path, "dataset = dataset.teacher", "dataset = dataset.data")
	doc := planJSON(t, dir, "small.hcl")
	if doc.Summary.Run != 0 || doc.Summary.Cached != 6 {
		t.Errorf("after renaming blocks: summary %+v, want all 6 cached", doc.Summary)
	}
}

func TestNoSkipAndRerunForce(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	doc := planJSON(t, dir, "--no-skip", "small.hcl")
	if doc.Summary.Forced != 6 || doc.Summary.Run != 0 {
		t.Errorf("--no-skip: summary %+v, want 6 forced", doc.Summary)
	}
	doc = planJSON(t, dir, "--rerun", "sampler.sgld", "small.hcl")
	if doc.Summary.Forced != 2 || doc.Summary.Cached != 4 {
		t.Errorf("--rerun sampler.sgld: summary %+v, want 2 forced and 4 cached", doc.Summary)
	}
	for _, n := range doc.Nodes {
		if (n.Action == "forced") != (n.Type == "sampler") {
			t.Errorf("--rerun sampler.sgld: %s has action %s", n.Address, n.Action)
		}
		if n.Action == "forced" && (n.Reason == nil || n.Reason.Code != "forced") {
			t.Errorf("%s: reason %+v, want forced", n.Address, n.Reason)
		}
	}
	doc = planJSON(t, dir, "--rerun", "sampler.sgld[seed=1]", "small.hcl")
	if doc.Summary.Forced != 1 {
		t.Errorf("--rerun sampler.sgld[seed=1]: summary %+v, want 1 forced", doc.Summary)
	}
	text := llcflow(t, dir, "plan", "--rerun", "sampler.sgld", "small.hcl")
	if !strings.Contains(text.stdout, "~ sampler.sgld[seed=0]") {
		t.Errorf("plan does not mark forced nodes with ~:\n%s", text.stdout)
	}

	before := readFile(t, dir, "runs", sgldRunID(t, dir, 0), "result.json")
	r := llcflow(t, dir, "apply", "--rerun", "sampler.sgld", "small.hcl")
	mustSucceed(t, r, "apply --rerun")
	if got := strings.Count(r.stderr, "start "); got != 2 {
		t.Errorf("apply --rerun sampler.sgld started %d nodes, want 2:\n%s", got, r.stderr)
	}
	after := readFile(t, dir, "runs", sgldRunID(t, dir, 0), "result.json")
	if before != after {
		t.Errorf("a forced rerun changed the deterministic result:\nbefore %s\nafter %s", before, after)
	}
	r = llcflow(t, dir, "apply", "--no-skip", "small.hcl")
	mustSucceed(t, r, "apply --no-skip")
	if got := strings.Count(r.stderr, "start "); got != 6 {
		t.Errorf("apply --no-skip started %d nodes, want 6", got)
	}
}

func readFile(t *testing.T, parts ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sgldRunID(t *testing.T, dir string, seed int) string {
	t.Helper()
	doc := planJSON(t, dir, "small.hcl")
	want := fmt.Sprintf("sampler.sgld[seed=%d]", seed)
	for _, n := range doc.Nodes {
		if n.Address == want {
			return n.RunID
		}
	}
	t.Fatalf("no node %s in the plan", want)
	return ""
}

func TestBadInputsExitWithDiagnostic(t *testing.T) {
	cases := []struct {
		file string
		args []string
		want string // "FILE line N" in the diagnostic, or a phrase for --var
	}{
		{file: "cycle.hcl", want: "cycle.hcl line 2"},
		{file: "undefined.hcl", want: "undefined.hcl line 3"},
		{file: "wrongtype.hcl", want: "wrongtype.hcl line 20"},
		{file: "unknownattr.hcl", want: "unknownattr.hcl line 20"},
		{file: "duplicate.hcl", want: "duplicate.hcl line 23"},
		{file: "emptyaxis.hcl", want: "emptyaxis.hcl line 2"},
		{file: "zerochains.hcl", want: "zerochains.hcl line 20"},
		{file: "negativesteps.hcl", want: "negativesteps.hcl line 20"},
		{file: "unclosed.hcl", want: "unclosed.hcl line 5"},
		{file: "pathname.hcl", want: "pathname.hcl line 2"},
		{file: "unknownblock.hcl", want: "unknownblock.hcl line 5"},
		{file: "twosweeps.hcl", want: "twosweeps.hcl line 5"},
		{file: "bigseed.hcl", want: "bigseed.hcl line 3"},
		{file: "wrongtype.hcl", args: []string{"--var", "undeclared=1"}, want: "undeclared"},
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.file, ".hcl")+strings.Join(tc.args, ""), func(t *testing.T) {
			dir := workdir(t, "bad/"+tc.file)
			args := append([]string{"apply"}, tc.args...)
			r := llcflow(t, dir, append(args, tc.file)...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
				t.Errorf("the store was created for invalid input (stat: %v)", err)
			}
		})
	}
}

func TestDivergentChainFailsNode(t *testing.T) {
	dir := workdir(t, "small.hcl")
	editFile(t, filepath.Join(dir, "small.hcl"), "step_size  = 1e-4", "step_size  = 10")
	r := llcflow(t, dir, "apply", "small.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"chain", "step", "step size 10", "smaller"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("failure message lacks %q:\n%s", want, r.stderr)
		}
	}
	doc := planJSON(t, dir, "small.hcl")
	for _, n := range doc.Nodes {
		if n.Type == "sampler" && n.Action != "run" {
			t.Errorf("%s: action %s after a divergence, want run (never cached)", n.Address, n.Action)
		}
	}
}

func TestKillDuringApplyThenComplete(t *testing.T) {
	dir := workdir(t, "small.hcl")
	path := filepath.Join(dir, "small.hcl")
	editFile(t, path, "steps      = 400", "steps      = 20000")
	cmd := exec.Command(binary, "apply", "-j", "1", "small.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLCFLOW_STORE="+filepath.Join(dir, "runs"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		tmp, _ := os.ReadDir(filepath.Join(dir, "runs", ".tmp"))
		if len(runDirs(t, dir)) >= 2 && len(tmp) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("apply made no progress in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	r := llcflow(t, dir, "apply", "small.hcl")
	mustSucceed(t, r, "apply after SIGKILL")
	doc := planJSON(t, dir, "small.hcl")
	if doc.Summary.Run != 0 || doc.Summary.Cached != 6 {
		t.Errorf("after the completing apply: summary %+v, want all 6 cached", doc.Summary)
	}
	res := llcflow(t, dir, "results", "--format", "json", "small.hcl")
	mustSucceed(t, res, "results")
	var out struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Rows) != 2 {
		t.Errorf("results has %d rows, want 2", len(out.Rows))
	}
}

func TestResultsJSONAndCSV(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	r := llcflow(t, dir, "results", "--format", "json", "small.hcl")
	mustSucceed(t, r, "results --format json")
	var doc struct {
		FormatVersion string           `json:"format_version"`
		Rows          []map[string]any `json:"rows"`
		Errors        []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.stdout)
	}
	if doc.FormatVersion != "1" || len(doc.Rows) != 2 || doc.Errors == nil {
		t.Fatalf("document %+v", doc)
	}
	for _, field := range []string{"address", "run_id", "family_id", "sampler", "kind", "axes", "d", "n",
		"n_beta", "gamma", "chains", "llc_mean", "llc_se", "wall_seconds"} {
		if _, ok := doc.Rows[0][field]; !ok {
			t.Errorf("row lacks %q: %v", field, doc.Rows[0])
		}
	}
	row := doc.Rows[0]
	if row["sampler"] != "sgld" || row["kind"] != "sgld" || row["d"] != 31.0 || row["n"] != 300.0 || row["chains"] != 2.0 {
		t.Errorf("row values %v", row)
	}
	if axes, _ := row["axes"].(map[string]any); axes["seed"] != 0.0 {
		t.Errorf("axes %v, want seed 0", row["axes"])
	}
	csv := llcflow(t, dir, "results", "--format", "csv", "small.hcl")
	mustSucceed(t, csv, "results --format csv")
	header := strings.SplitN(csv.stdout, "\n", 2)[0]
	if !strings.Contains(header, "axis.seed") || !strings.Contains(header, "llc_mean") {
		t.Errorf("CSV header %q", header)
	}
}

func TestDeterministicAcrossParallelism(t *testing.T) {
	a := workdir(t, "small.hcl")
	b := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, a, "apply", "-j", "1", "--threads", "1", "small.hcl"), "apply -j 1")
	mustSucceed(t, llcflow(t, b, "apply", "-j", "2", "--threads", "2", "small.hcl"), "apply -j 2")
	ids := runDirs(t, a)
	if len(ids) != 6 {
		t.Fatalf("%d runs, want 6", len(ids))
	}
	for _, id := range ids {
		for _, name := range []string{"manifest.json", "result.json"} {
			x := readFile(t, a, "runs", id, name)
			y := readFile(t, b, "runs", id, name)
			if x != y {
				t.Errorf("run %s: %s differs between -j 1 and -j 2", id, name)
			}
		}
	}
}

// TestPlanNamesLastAttempt checks that plan reports how the last attempt
// of a node ended, with its time, when the attempt was cancelled by Ctrl-C
// and when it failed.
func TestPlanNamesLastAttempt(t *testing.T) {
	const sgld = "sampler.sgld[seed=0]"
	dir := workdir(t, "small.hcl")
	path := filepath.Join(dir, "small.hcl")
	editFile(t, path, "steps      = 400", "steps      = 500000")
	apply := startApply(t, dir, nil, "-j", "1", "--target", sgld, "small.hcl")
	deadline := time.Now().Add(time.Minute)
	for len(runDirs(t, dir)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("apply did not reach the sampler within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitForRunning(t, dir)
	apply.Process.Signal(os.Interrupt)
	if err := apply.Wait(); err == nil {
		t.Fatal("the interrupted apply exited 0")
	}

	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`
	cancelled := regexp.MustCompile(`^the last attempt was cancelled at ` + stamp + `$`)
	if got := planReason(t, dir, sgld); !cancelled.MatchString(got) {
		t.Errorf("after Ctrl-C: reason %q, want %q", got, cancelled)
	}
	r := llcflow(t, dir, "plan", "small.hcl")
	mustSucceed(t, r, "plan")
	if !strings.Contains(r.stdout, "(the last attempt was cancelled at ") {
		t.Errorf("plan output does not name the cancelled attempt:\n%s", r.stdout)
	}
	show := llcflow(t, dir, "show", sgld, "small.hcl")
	if show.code != 1 || !strings.Contains(show.stdout, "was cancelled at ") {
		t.Errorf("show after Ctrl-C: exit %d, stdout %q, want exit 1 and the cancelled attempt", show.code, show.stdout)
	}

	editFile(t, path, "step_size  = 1e-4", "step_size  = 10")
	if r := llcflow(t, dir, "apply", "--target", sgld, "small.hcl"); r.code != 1 {
		t.Fatalf("apply of a diverging sampler: exit %d, want 1\n%s", r.code, r.stderr)
	}
	failed := regexp.MustCompile(`^the last attempt failed at ` + stamp + ` in stage sampler: .*diverged`)
	if got := planReason(t, dir, sgld); !failed.MatchString(got) {
		t.Errorf("after a failure: reason %q, want %q", got, failed)
	}
}

// planReason returns the reason message of one node in plan --json.
func planReason(t *testing.T, dir, address string) string {
	t.Helper()
	for _, n := range planJSON(t, dir, "small.hcl").Nodes {
		if n.Address != address {
			continue
		}
		if n.Reason == nil {
			t.Fatalf("%s has action %s and no reason", address, n.Action)
		}
		return n.Reason.Message
	}
	t.Fatalf("plan has no node %s", address)
	return ""
}

// A damaged line of index.jsonl makes plan warn that a reason may show no
// earlier run. gc drops the line, and the warning goes.
func TestPlanWarnsOfDamagedIndex(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	editFile(t, filepath.Join(dir, "small.hcl"), "step_size  = 1e-4", "step_size  = 2e-4")
	index := filepath.Join(dir, "runs", "index.jsonl")
	f, err := os.OpenFile(index, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("{\"address\":\"sampler.sgld[seed=0]\",\"run_\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := llcflow(t, dir, "plan", "small.hcl")
	mustSucceed(t, r, "plan")
	if !strings.Contains(r.stderr, "warning: skipped 1 line of "+index+" that did not parse") {
		t.Errorf("plan stderr lacks the damaged-index warning:\n%s", r.stderr)
	}
	mustSucceed(t, llcflow(t, dir, "gc", "--keep", "small.hcl"), "gc")
	if r := llcflow(t, dir, "plan", "small.hcl"); strings.Contains(r.stderr, "did not parse") {
		t.Errorf("plan still warns after gc:\n%s", r.stderr)
	}
}

// Under umask 0002, which a group that shares a store sets, the store's
// directories, locks and index are group-writable. So another member of
// the group can apply.
func TestStoreFollowsGroupUmask(t *testing.T) {
	dir := workdir(t, "small.hcl")
	cmd := exec.Command("/bin/sh", "-c", `umask 0002 && exec "$0" apply small.hcl`, binary)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLCFLOW_STORE="+filepath.Join(dir, "runs"), "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apply under umask 0002: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "runs")
	checks := []string{root, filepath.Join(root, ".locks"), filepath.Join(root, ".locks", "store.lock"),
		filepath.Join(root, "index.jsonl")}
	for _, id := range runDirs(t, dir) {
		checks = append(checks, filepath.Join(root, id))
	}
	for _, path := range checks {
		info, err := os.Stat(path)
		if err != nil {
			t.Errorf("stat %s: %v", path, err)
			continue
		}
		if info.Mode().Perm()&0o020 == 0 {
			t.Errorf("%s has mode %v under umask 0002, want it group-writable", path, info.Mode().Perm())
		}
	}
}
