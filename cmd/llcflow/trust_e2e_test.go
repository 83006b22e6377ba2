package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the built binary on small.hcl and its
// variants and check the behaviour that users rely on when they re-apply
// sweeps for months: explained plans, saved plans, keep-going, locking,
// crash safety, gc and check.

func TestPlanExplainChangedParam(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	editFile(t, filepath.Join(dir, "small.hcl"), "step_size  = 1e-4", "step_size  = 2e-4")

	r := llcflow(t, dir, "plan", "--explain", "sampler.sgld[seed=0]", "small.hcl")
	mustSucceed(t, r, "plan --explain")
	for _, want := range []string{
		"+ sampler.sgld[seed=0]",
		"reason        step_size changed from 0.0001 to 0.0002",
		"~ step_size: 0.0001 → 0.0002",
		"  chains: 2 (unchanged)",
		"erm: erm.fit[seed=0]",
		"(unchanged), cached",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan --explain lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "seed=1") {
		t.Errorf("plan --explain sampler.sgld[seed=0] explains other nodes:\n%s", r.stdout)
	}

	r = llcflow(t, dir, "plan", "--explain", "sampler.sgld", "--json", "small.hcl")
	mustSucceed(t, r, "plan --explain --json")
	var doc struct {
		Nodes []struct {
			Address string `json:"address"`
			Params  []struct {
				Path    string `json:"path"`
				Old     any    `json:"old"`
				New     any    `json:"new"`
				Changed bool   `json:"changed"`
			} `json:"params"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.stdout)
	}
	if len(doc.Nodes) != 2 {
		t.Fatalf("explained %d nodes, want the 2 samplers", len(doc.Nodes))
	}
	for _, n := range doc.Nodes {
		var changed []string
		for _, p := range n.Params {
			if p.Changed {
				changed = append(changed, fmt.Sprintf("%s %v→%v", p.Path, p.Old, p.New))
			}
		}
		if want := []string{"step_size 0.0001→0.0002"}; !slices.Equal(changed, want) {
			t.Errorf("%s: changed params %q, want %q", n.Address, changed, want)
		}
	}

	r = llcflow(t, dir, "plan", "--explain", "sampler.nothing", "small.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "matches no node") {
		t.Errorf("plan --explain of an unmatched pattern: exit %d\n%s", r.code, r.stderr)
	}
}

func TestPlanSummaryAndTarget(t *testing.T) {
	dir := workdir(t, "small.hcl")
	r := llcflow(t, dir, "plan", "--summary", "small.hcl")
	mustSucceed(t, r, "plan --summary")
	for _, want := range []string{"dataset  teacher_student  2", "erm      erm              2",
		"sampler  sgld             2", "Plan: 6 to run, 0 cached."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan --summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "[seed=0]") {
		t.Errorf("plan --summary lists nodes:\n%s", r.stdout)
	}

	r = llcflow(t, dir, "plan", "--target", "sampler.sgld[seed=1]", "small.hcl")
	mustSucceed(t, r, "plan --target")
	if !strings.Contains(r.stdout, "Plan: 3 to run, 0 cached.") || !strings.Contains(r.stdout, "--target is in effect") {
		t.Errorf("plan --target: want 3 nodes and the targeting note:\n%s", r.stdout)
	}
	r = llcflow(t, dir, "apply", "--target", "erm.fit[seed=0]", "small.hcl")
	mustSucceed(t, r, "apply --target")
	if got := len(runDirs(t, dir)); got != 2 {
		t.Errorf("apply --target erm.fit[seed=0] left %d runs, want its 2 nodes", got)
	}
	r = llcflow(t, dir, "plan", "--detailed-exitcode", "small.hcl")
	if r.code != exitChanges {
		t.Errorf("plan --detailed-exitcode with nodes to run: exit %d, want %d", r.code, exitChanges)
	}
}

func TestSavedPlanRejectedWhenStale(t *testing.T) {
	dir := workdir(t, "small.hcl")
	hcl := filepath.Join(dir, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "plan", "--out", "quick.plan", "small.hcl"), "plan --out")
	editFile(t, hcl, "step_size  = 1e-4", "step_size  = 2e-4")

	r := llcflow(t, dir, "apply", "quick.plan")
	if r.code != 1 {
		t.Fatalf("apply of a stale plan: exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"is stale", "small.hcl changed",
		"sampler.sgld[seed=0] has a new key: step_size changed from 0.0001 to 0.0002"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stale-plan message lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := len(runDirs(t, dir)); got != 0 {
		t.Errorf("a rejected plan ran %d nodes", got)
	}

	editFile(t, hcl, "step_size  = 2e-4", "step_size  = 1e-4")
	editFile(t, hcl, "# A small sweep", "# An edited comment above a small sweep")
	r = llcflow(t, dir, "apply", "quick.plan")
	mustSucceed(t, r, "apply of the saved plan after a comment edit")
	if !strings.Contains(r.stderr, "small.hcl changed since the plan quick.plan was saved, but no node changed") {
		t.Errorf("no note about the comment-only edit:\n%s", r.stderr)
	}
	if got := len(runDirs(t, dir)); got != 6 {
		t.Errorf("the saved plan ran %d nodes, want 6", got)
	}

	r = llcflow(t, dir, "apply", "quick.plan")
	if r.code != 1 || !strings.Contains(r.stderr, "was planned as run but is now cached; the store changed") {
		t.Errorf("apply of a plan whose nodes were computed since: exit %d\n%s", r.code, r.stderr)
	}
	r = llcflow(t, dir, "apply", "--rerun", "sampler", "quick.plan")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--rerun cannot be combined with the saved plan") {
		t.Errorf("apply --rerun with a saved plan: exit %d\n%s", r.code, r.stderr)
	}
}

// failingBranch writes small.hcl with an erm that fails for seed 1: Adam
// with a learning rate of 1e300 makes the loss infinite at the first step.
func failingBranch(t *testing.T) string {
	dir := workdir(t, "small.hcl")
	editFile(t, filepath.Join(dir, "small.hcl"), "  steps   = 300\n",
		"  steps   = 300\n  optimizer = { kind = \"adam\", lr = sweep.seed == 1 ? 1e300 : 0.01 }\n")
	return dir
}

func TestKeepGoingReportsRootCause(t *testing.T) {
	dir := failingBranch(t)
	r := llcflow(t, dir, "apply", "--keep-going", "small.hcl")
	if r.code != 1 {
		t.Fatalf("apply --keep-going with a failing branch: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if got := len(runDirs(t, dir)); got != 4 {
		t.Errorf("store has %d runs, want 4: both datasets and the whole seed=0 branch", got)
	}
	for _, want := range []string{"4 done, 0 cached, 1 failed, 1 skipped",
		"skipped sampler.sgld[seed=1]: input erm.fit[seed=1] failed",
		"1 node failed (1 dependent was skipped):",
		"erm.fit[seed=1]: training loss is +Inf",
		"log: " + filepath.Join(dir, "runs", "failed")} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("keep-going output lacks %q:\n%s", want, r.stderr)
		}
	}
	report := r.stderr[strings.Index(r.stderr, "1 node failed"):]
	if strings.Contains(report, "sampler.sgld[seed=1]:") {
		t.Errorf("the end report lists the skipped dependent as a cause:\n%s", report)
	}
	if !strings.Contains(r.stdout, "sampler.sgld[seed=0]") {
		t.Errorf("the results table lacks the branch that succeeded:\n%s", r.stdout)
	}

	// Without --keep-going, the first failure stops new nodes.
	dir = failingBranch(t)
	r = llcflow(t, dir, "apply", "-j", "1", "small.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "not started") {
		t.Errorf("apply without --keep-going: exit %d, want 1 with nodes not started\n%s", r.code, r.stderr)
	}
}

// jsonEvents parses apply --json output, one object per line.
func jsonEvents(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("apply --json line %q is not JSON: %v", sc.Text(), err)
		}
		events = append(events, ev)
	}
	return events
}

func TestApplyJSONEventFields(t *testing.T) {
	dir := failingBranch(t)
	editFile(t, filepath.Join(dir, "small.hcl"), "steps      = 400", "steps      = 3000")
	r := llcflow(t, dir, "apply", "--json", "--keep-going", "small.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	events := jsonEvents(t, r.stdout)
	second := llcflow(t, dir, "apply", "--json", "--keep-going", "small.hcl")
	events = append(events, jsonEvents(t, second.stdout)...)

	need := map[string][]string{
		"plan":          {"summary", "nodes", "format_version"},
		"node_start":    {"kind"},
		"node_progress": {"fraction", "message"},
		"node_done":     {"duration_seconds"},
		"node_cached":   {},
		"node_failed":   {"error", "log", "duration_seconds"},
		"node_skipped":  {"message"},
		"summary":       {"done", "cached", "failed", "skipped", "failures"},
	}
	seen := map[string]bool{}
	for _, ev := range events {
		typ, _ := ev["type"].(string)
		seen[typ] = true
		for _, field := range append([]string{"type", "address", "run_id", "elapsed_seconds"}, need[typ]...) {
			if _, ok := ev[field]; !ok {
				t.Errorf("%s event lacks %q: %v", typ, field, ev)
			}
		}
		if typ == "node_progress" {
			if f, _ := ev["fraction"].(float64); f < 0 || f > 1 {
				t.Errorf("progress fraction %v outside [0, 1]", ev["fraction"])
			}
		}
	}
	for typ := range need {
		if !seen[typ] {
			t.Errorf("no %s event in:\n%s%s", typ, r.stdout, second.stdout)
		}
	}
	last := events[len(events)-1]
	if last["type"] != "summary" || last["cached"] != 4.0 || last["failed"] != 1.0 {
		t.Errorf("last event of the second apply = %v, want a summary with 4 cached and 1 failed", last)
	}
}

func TestApplyProgressBars(t *testing.T) {
	dir := workdir(t, "small.hcl")
	editFile(t, filepath.Join(dir, "small.hcl"), "steps      = 400", "steps      = 4000")
	r := llcflow(t, dir, "apply", "--progress", "bars", "-j", "1", "small.hcl")
	mustSucceed(t, r, "apply --progress bars")
	for _, want := range []string{"apply", "6/6 nodes", "done    sampler.sgld[seed=1]"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bar output lacks %q:\n%q", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "Apply: 6 done, 0 cached.") {
		t.Errorf("summary missing after the bars:\n%s", r.stderr)
	}
	if r := llcflow(t, dir, "apply", "--progress", "bars", "--json", "small.hcl"); r.code != exitUsage {
		t.Errorf("--progress bars with --json: exit %d, want %d", r.code, exitUsage)
	}
}

// startApply starts the binary on dir's store without waiting for it.
func startApply(t *testing.T, dir string, stdout *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"apply"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLCFLOW_STORE="+filepath.Join(dir, "runs"), "NO_COLOR=1")
	if stdout != nil {
		cmd.Stdout = stdout
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

func TestConcurrentAppliesComputeOnce(t *testing.T) {
	dir := workdir(t, "small.hcl")
	editFile(t, filepath.Join(dir, "small.hcl"), "steps      = 400", "steps      = 3000")
	var outputs [2]bytes.Buffer
	var cmds [2]*exec.Cmd
	for i := range cmds {
		cmds[i] = startApply(t, dir, &outputs[i], "--json", "-j", "2", "small.hcl")
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("apply %d: %v\n%s", i, err, cmd.Stderr)
		}
	}

	done := map[string]int{}
	elsewhere := 0
	for i := range outputs {
		for _, ev := range jsonEvents(t, outputs[i].String()) {
			switch ev["type"] {
			case "node_done":
				done[ev["run_id"].(string)]++
			case "node_cached":
				if ev["message"] != nil {
					elsewhere++
				}
			}
		}
	}
	if len(done) != 6 {
		t.Errorf("%d runs were computed, want all 6", len(done))
	}
	for id, n := range done {
		if n != 1 {
			t.Errorf("run %s was computed %d times", id, n)
		}
	}
	t.Logf("%d nodes were computed by the other apply while one waited", elsewhere)
	for _, id := range runDirs(t, dir) {
		log := readFile(t, dir, "runs", id, "log.txt")
		if got := strings.Count(log, ", started "); got != 1 {
			t.Errorf("run %s: log.txt records %d starts, want 1", id, got)
		}
	}
}

// waitForRunning polls until the store has a temporary directory, which
// means a node is being written, or fails after a minute.
func waitForRunning(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		tmp, _ := os.ReadDir(filepath.Join(dir, "runs", ".tmp"))
		if len(tmp) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("apply started no node within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDeadProcessLockTakenOver(t *testing.T) {
	dir := workdir(t, "small.hcl")
	editFile(t, filepath.Join(dir, "small.hcl"), "steps      = 400", "steps      = 500000")
	args := []string{"--json", "-j", "1", "--target", "sampler.sgld[seed=0]", "small.hcl"}
	killed, _ := startApplyLines(t, dir, args...)
	deadline := time.Now().Add(time.Minute)
	for len(runDirs(t, dir)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("apply did not reach the sampler within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitForRunning(t, dir)
	pid := killed.Process.Pid
	if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.Wait()

	// The next apply takes over the sampler's lock. Once its notice is out,
	// the test interrupts it rather than wait for 500,000 steps.
	next, lines := startApplyLines(t, dir, args...)
	var notice map[string]any
	for line := range lines {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) == nil && ev["type"] == "notice" {
			notice = ev
			break
		}
	}
	next.Process.Signal(os.Interrupt)
	for range lines {
	}
	next.Wait()
	if notice == nil {
		t.Fatal("the apply after the kill printed no notice event")
	}
	msg, _ := notice["message"].(string)
	if want := fmt.Sprintf("took over the lock left by pid %d", pid); !strings.Contains(msg, want) {
		t.Errorf("notice %q does not say %q", msg, want)
	}
	if notice["address"] != "sampler.sgld[seed=0]" {
		t.Errorf("notice address %v, want sampler.sgld[seed=0]", notice["address"])
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "runs", ".tmp")); len(tmp) != 0 {
		t.Errorf("%d temporary directories are left after the interrupted apply", len(tmp))
	}
}

// startApplyLines starts an apply and returns its stdout lines on a
// channel that is closed when stdout closes.
func startApplyLines(t *testing.T, dir string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"apply"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LLCFLOW_STORE="+filepath.Join(dir, "runs"), "NO_COLOR=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}

// deterministicRuns returns the contents of every file of every run in
// dir's store except provenance.json and log.txt, by path.
func deterministicRuns(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	root := filepath.Join(dir, "runs")
	for _, id := range runDirs(t, dir) {
		filepath.WalkDir(filepath.Join(root, id), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if base := d.Name(); base == "provenance.json" || base == "log.txt" {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			out[rel] = readFile(t, path)
			return nil
		})
	}
	return out
}

func signalTrials(t *testing.T, sig syscall.Signal) {
	const trials = 10
	const steps = "steps      = 6000"
	ref := workdir(t, "small.hcl")
	editFile(t, filepath.Join(ref, "small.hcl"), "steps      = 400", steps)
	start := time.Now()
	mustSucceed(t, llcflow(t, ref, "apply", "-j", "2", "small.hcl"), "reference apply")
	full := time.Since(start)
	want := deterministicRuns(t, ref)

	rng := rand.New(rand.NewPCG(6, uint64(sig)))
	for trial := 0; trial < trials; trial++ {
		dir := workdir(t, "small.hcl")
		editFile(t, filepath.Join(dir, "small.hcl"), "steps      = 400", steps)
		delay := time.Duration(rng.Int64N(int64(full)))
		cmd := startApply(t, dir, nil, "-j", "2", "small.hcl")
		time.Sleep(delay)
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		stderr := fmt.Sprint(cmd.Stderr)

		if sig == syscall.SIGINT && err != nil {
			if !strings.Contains(stderr, "interrupted: ") || !strings.Contains(stderr, "completed and stored") {
				t.Errorf("trial %d (SIGINT after %v): the message does not say what completed:\n%s",
					trial, delay, stderr)
			}
			if tmp, _ := os.ReadDir(filepath.Join(dir, "runs", ".tmp")); len(tmp) != 0 {
				t.Errorf("trial %d (SIGINT after %v): %d temporary directories left", trial, delay, len(tmp))
			}
		}
		r := llcflow(t, dir, "apply", "-j", "2", "small.hcl")
		mustSucceed(t, r, fmt.Sprintf("trial %d: apply after %v after %v", trial, sig, delay))
		doc := planJSON(t, dir, "small.hcl")
		if doc.Summary.Cached != 6 {
			t.Errorf("trial %d (%v after %v): plan after the completing apply %+v, want 6 cached",
				trial, sig, delay, doc.Summary)
		}
		if tmp, _ := os.ReadDir(filepath.Join(dir, "runs", ".tmp")); len(tmp) != 0 {
			t.Errorf("trial %d (%v after %v): %d temporary directories left after completing",
				trial, sig, delay, len(tmp))
		}
		got := deterministicRuns(t, dir)
		if len(got) != len(want) {
			t.Errorf("trial %d (%v after %v): %d deterministic files, want %d", trial, sig, delay, len(got), len(want))
		}
		for path, data := range want {
			if got[path] != data {
				t.Errorf("trial %d (%v after %v): %s differs from the uninterrupted apply", trial, sig, delay, path)
			}
		}
	}
}

func TestSIGINTTrialsThenComplete(t *testing.T) { signalTrials(t, syscall.SIGINT) }

func TestSIGKILLTrialsThenComplete(t *testing.T) { signalTrials(t, syscall.SIGKILL) }

func TestTruncatedRunFileRecomputed(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	id := sgldRunID(t, dir, 1)
	before := deterministicRuns(t, dir)
	var victim string
	for path := range before {
		if strings.HasPrefix(path, id+"/") && !strings.HasSuffix(path, "manifest.json") {
			victim = filepath.Join(dir, "runs", path)
			break
		}
	}
	if err := os.Truncate(victim, 3); err != nil {
		t.Fatal(err)
	}

	doc := planJSON(t, dir, "small.hcl")
	for _, n := range doc.Nodes {
		wantRun := n.RunID == id
		if (n.Action == "run") != wantRun {
			t.Errorf("%s: action %s after truncating %s", n.Address, n.Action, victim)
		}
		if wantRun && (n.Reason == nil || n.Reason.Code != "corrupt" || !strings.Contains(n.Reason.Message, "bytes")) {
			t.Errorf("%s: reason %+v, want corrupt naming the size", n.Address, n.Reason)
		}
	}
	r := llcflow(t, dir, "apply", "small.hcl")
	mustSucceed(t, r, "apply after truncation")
	if got := strings.Count(r.stderr, "start "); got != 1 {
		t.Errorf("apply after truncation started %d nodes, want 1:\n%s", got, r.stderr)
	}
	after := deterministicRuns(t, dir)
	for path, data := range before {
		if after[path] != data {
			t.Errorf("%s differs after the recomputation", path)
		}
	}
}

func TestCheckRehashesAndQuarantines(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	mustSucceed(t, llcflow(t, dir, "check"), "check of a sound store")

	id := sgldRunID(t, dir, 0)
	path := filepath.Join(dir, "runs", id, "result.json")
	data := []byte(readFile(t, path))
	// Same size, other bytes: only re-hashing finds this.
	data[len(data)-2] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if doc := planJSON(t, dir, "small.hcl"); doc.Summary.Cached != 6 {
		t.Fatalf("plan before check: %+v; the size check should pass", doc.Summary)
	}
	r := llcflow(t, dir, "check", "--dry-run")
	if r.code != 1 || !strings.Contains(r.stdout, "corrupt "+id) || !strings.Contains(r.stdout, "SHA-256") {
		t.Errorf("check --dry-run: exit %d\n%s", r.code, r.stdout)
	}
	r = llcflow(t, dir, "check")
	if r.code != 1 || !strings.Contains(r.stdout, "the next apply recomputes it") {
		t.Errorf("check: exit %d\n%s", r.code, r.stdout)
	}
	doc := planJSON(t, dir, "small.hcl")
	if doc.Summary.Run != 1 {
		t.Errorf("plan after check: %+v, want the corrupt run to run", doc.Summary)
	}
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply after check")
	mustSucceed(t, llcflow(t, dir, "check"), "check after the recomputation")
}

func TestGCKeepsReferencedRuns(t *testing.T) {
	dir := workdir(t, "small.hcl")
	hcl := filepath.Join(dir, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "first apply")
	old := []string{sgldRunID(t, dir, 0), sgldRunID(t, dir, 1)}
	editFile(t, hcl, "step_size  = 1e-4", "step_size  = 2e-4")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "second apply")
	if got := len(runDirs(t, dir)); got != 8 {
		t.Fatalf("store has %d runs, want 8", got)
	}

	r := llcflow(t, dir, "gc", "--keep", "small.hcl", "--dry-run")
	mustSucceed(t, r, "gc --dry-run")
	if got := len(runDirs(t, dir)); got != 8 {
		t.Errorf("gc --dry-run removed runs: %d left", got)
	}
	r = llcflow(t, dir, "gc", "--keep", "small.hcl")
	mustSucceed(t, r, "gc")
	for _, id := range old {
		if !strings.Contains(r.stdout, "removed run "+id) {
			t.Errorf("gc output does not list %s:\n%s", id, r.stdout)
		}
	}
	if !regexp.MustCompile(`Removed 2 items, freeing [0-9.]+ KiB \([0-9]+ bytes\)`).MatchString(r.stdout) {
		t.Errorf("gc does not report the bytes freed:\n%s", r.stdout)
	}
	left := runDirs(t, dir)
	sort.Strings(left)
	if len(left) != 6 {
		t.Errorf("gc left %d runs, want the 6 that small.hcl references", len(left))
	}
	if doc := planJSON(t, dir, "small.hcl"); doc.Summary.Cached != 6 {
		t.Errorf("plan after gc: %+v, want all 6 cached", doc.Summary)
	}
	if r := llcflow(t, dir, "gc"); r.code != exitUsage {
		t.Errorf("gc without --keep or --older-than: exit %d, want %d", r.code, exitUsage)
	}
	r = llcflow(t, dir, "gc", "--older-than", "1000d")
	mustSucceed(t, r, "gc --older-than 1000d")
	if got := len(runDirs(t, dir)); got != 6 {
		t.Errorf("gc --older-than 1000d removed new runs: %d left", got)
	}
}

func TestRunsFilters(t *testing.T) {
	dir := failingBranch(t)
	llcflow(t, dir, "apply", "--keep-going", "small.hcl")
	r := llcflow(t, dir, "runs", "--json")
	mustSucceed(t, r, "runs --json")
	var doc struct {
		Runs []runRow `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, row := range doc.Runs {
		statuses[row.Status]++
	}
	if statuses["valid"] != 4 || statuses["failed"] != 1 {
		t.Errorf("runs statuses %v, want 4 valid and 1 failed", statuses)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--kind", "sgld"}, 1},
		{[]string{"--type", "dataset"}, 2},
		{[]string{"--status", "failed"}, 1},
		{[]string{"--older-than", "1d"}, 0},
		{[]string{"--newer-than", "1h", "--type", "erm"}, 2}, // the valid one and the failed one
	} {
		r := llcflow(t, dir, append([]string{"runs"}, tc.args...)...)
		mustSucceed(t, r, "runs")
		if !strings.Contains(r.stdout, fmt.Sprintf("%d of 5 runs", tc.want)) {
			t.Errorf("runs %v: want %d of 5 runs:\n%s", tc.args, tc.want, r.stdout)
		}
	}
	if r := llcflow(t, dir, "runs", "--older-than", "soon"); r.code != exitUsage {
		t.Errorf("runs --older-than soon: exit %d, want %d", r.code, exitUsage)
	}
}

func TestPathEscapingNamesStayInStore(t *testing.T) {
	dir := workdir(t, "small.hcl")
	hcl := filepath.Join(dir, "small.hcl")
	editFile(t, hcl, `dataset "teacher"`, `dataset "../../etc"`)
	r := llcflow(t, dir, "apply", "small.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "small.hcl line 11") {
		t.Errorf("a block named ../../etc: exit %d, want 1 with a diagnostic at line 11\n%s", r.code, r.stderr)
	}

	// Sweep values reach addresses but never paths.
	root := t.TempDir()
	dir = filepath.Join(root, "a", "b")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(readFile(t, "testdata", "small.hcl"), "seed = [0, 1]",
		`seed = [0, 1]
  tag  = ["../../escaped", "/tmp/llcflow-escaped", "a/b"]`, 1)
	data = strings.Replace(data, "  chains     = 2\n", "  chains     = 2\n  init_noise = sweep.tag == \"a/b\" ? 0.001 : "+
		"(sweep.tag == \"/tmp/llcflow-escaped\" ? 0.002 : 0.003)\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "small.hcl"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	r = llcflow(t, dir, "apply", "small.hcl")
	mustSucceed(t, r, "apply with path-like sweep values")
	if !strings.Contains(r.stderr, `tag="../../escaped"`) {
		t.Fatalf("the sweep values did not reach the addresses:\n%s", r.stderr)
	}
	var outside []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !d.IsDir() && (strings.HasPrefix(rel, "..") || !strings.HasPrefix(rel, "runs") && rel != "small.hcl") {
			outside = append(outside, path)
		}
		return nil
	})
	if _, err := os.Stat("/tmp/llcflow-escaped"); err == nil {
		outside = append(outside, "/tmp/llcflow-escaped")
	}
	if len(outside) > 0 {
		t.Errorf("apply wrote outside the store: %q", outside)
	}
	if got := len(runDirs(t, dir)); got != 2+2+6 {
		t.Errorf("store has %d runs, want 10 (2 datasets, 2 erm, 6 samplers)", got)
	}
}

func TestFmtIdempotentAndRejectsSyntaxErrors(t *testing.T) {
	dir := t.TempDir()
	messy := "sweep {\nseed=[0,1]\n}\n\ndataset \"d\" {\n      kind = \"teacher_student\"\n  n=10\n}\n"
	path := filepath.Join(dir, "messy.hcl")
	if err := os.WriteFile(path, []byte(messy), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := llcflow(t, dir, "fmt", "--check", "messy.hcl"); r.code != 1 {
		t.Errorf("fmt --check of an unformatted file: exit %d, want 1", r.code)
	}
	mustSucceed(t, llcflow(t, dir, "fmt", "messy.hcl"), "fmt")
	once := readFile(t, path)
	mustSucceed(t, llcflow(t, dir, "fmt", "messy.hcl"), "second fmt")
	if twice := readFile(t, path); twice != once {
		t.Errorf("fmt is not idempotent:\n%s\nthen\n%s", once, twice)
	}
	mustSucceed(t, llcflow(t, dir, "fmt", "--check", "messy.hcl"), "fmt --check after fmt")

	broken := "dataset \"d\" {\n  kind = \n"
	if err := os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	r := llcflow(t, dir, "fmt", "broken.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "broken.hcl line 2") {
		t.Errorf("fmt of a file with a syntax error: exit %d, want 1 with a diagnostic\n%s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "broken.hcl")); got != broken {
		t.Errorf("fmt rewrote a file that does not parse:\n%s", got)
	}
}

func TestGraphDOTColours(t *testing.T) {
	dir := failingBranch(t)
	llcflow(t, dir, "apply", "--keep-going", "--target", "erm.fit", "small.hcl")
	r := llcflow(t, dir, "graph", "small.hcl")
	mustSucceed(t, r, "graph")
	for _, want := range []string{
		`"erm.fit[seed=0]" [fillcolor=palegreen`,
		`"erm.fit[seed=1]" [fillcolor=salmon`,
		`"sampler.sgld[seed=0]" [fillcolor=orange, tooltip="`,
		`"dataset.teacher[seed=0]" -> "erm.fit[seed=0]" [label="dataset"]`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("DOT lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.HasPrefix(r.stdout, "digraph llcflow {") || !strings.HasSuffix(r.stdout, "}\n") {
		t.Errorf("output is not one DOT digraph:\n%s", r.stdout)
	}
}

func TestCompletionScripts(t *testing.T) {
	dir := t.TempDir()
	r := llcflow(t, dir, "completion", "bash")
	mustSucceed(t, r, "completion bash")
	script := filepath.Join(dir, "llcflow.bash")
	if err := os.WriteFile(script, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	for _, tc := range []struct{ words, want string }{
		{"llcflow pl", "plan"},
		{"llcflow apply --keep", "--keep-going"},
		{"llcflow apply --backend sl", "slurm"},
		{"llcflow gc --dry", "--dry-run"},
		{"llcflow runs --status fa", "failed"},
	} {
		words := strings.Fields(tc.words)
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = fmt.Sprintf("%q", w)
		}
		prog := fmt.Sprintf(`source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _llcflow; echo "${COMPREPLY[*]}"`,
			script, strings.Join(quoted, " "), len(words)-1)
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); !slices.Contains(strings.Fields(got), tc.want) {
			t.Errorf("completing %q gave %q, want %q among them", tc.words, got, tc.want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		r := llcflow(t, dir, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "llcflow") {
			t.Errorf("completion %s: exit %d\n%s", shell, r.code, r.stdout)
		}
	}
}

// runs --backend modal lists the volume of the loopback fake of Modal.
func TestRunsBackendModal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a static llcflow and applies a small sweep on the fake of Modal")
	}
	fakeModal(t)
	worker := staticLLCFlow(t)
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "--backend", "modal", "--worker-binary", worker,
		"--threads", "1", "small.hcl"), "apply --backend modal")

	r := llcflow(t, dir, "runs", "--backend", "modal", "--json")
	mustSucceed(t, r, "runs --backend modal")
	var doc struct {
		Runs []runRow `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse: %v\n%s", err, r.stdout)
	}
	local := runDirs(t, dir)
	sort.Strings(local)
	var remote []string
	for _, row := range doc.Runs {
		remote = append(remote, row.RunID)
		if row.Status != "valid" || row.Type == "" || len(row.Addresses) != 1 || row.Bytes == 0 {
			t.Errorf("volume run %+v lacks a status, type, address or size", row)
		}
	}
	sort.Strings(remote)
	if !slices.Equal(remote, local) {
		t.Errorf("runs on the volume %v, want the local runs %v", remote, local)
	}
	r = llcflow(t, dir, "runs", "--backend", "modal", "--kind", "sgld")
	mustSucceed(t, r, "runs --backend modal --kind sgld")
	if !strings.Contains(r.stdout, "2 of 6 runs") {
		t.Errorf("runs --backend modal --kind sgld:\n%s", r.stdout)
	}
}

func TestValidateLeavesStoreAlone(t *testing.T) {
	dir := workdir(t, "small.hcl")
	r := llcflow(t, dir, "validate", "small.hcl")
	mustSucceed(t, r, "validate")
	if !strings.Contains(r.stdout, "Valid: 6 nodes (2 dataset, 2 erm, 2 sampler) from 1 file.") {
		t.Errorf("validate output:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs")); !os.IsNotExist(err) {
		t.Errorf("validate created the store (stat: %v)", err)
	}
}

// Comments, blank lines, block order and block names are not part of any
// key, so a file rewritten with all four changed keeps every run cached.
func TestLayoutChangesKeepCache(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	src := readFile(t, dir, "small.hcl")
	blocks := strings.Split(src, "\n\n")
	slices.Reverse(blocks)
	rewritten := "# reordered, with comments\n\n\n" + strings.Join(blocks, "\n\n# a comment between blocks\n\n\n")
	rewritten = strings.ReplaceAll(rewritten, `erm "fit"`, `erm "trained"`)
	rewritten = strings.ReplaceAll(rewritten, "erm.fit", "erm.trained")
	if err := os.WriteFile(filepath.Join(dir, "small.hcl"), []byte(rewritten), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := planJSON(t, dir, "small.hcl")
	if doc.Summary.Cached != 6 || doc.Summary.Run != 0 {
		t.Errorf("after reordering, commenting and renaming: %+v, want all 6 cached\n%s", doc.Summary, rewritten)
	}
}

func TestRetryFailedLogsDelay(t *testing.T) {
	dir := failingBranch(t)
	r := llcflow(t, dir, "apply", "--keep-going", "--retry-failed", "2", "--retry-delay", "10ms", "small.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"retry   erm.fit[seed=1]: attempt 1 failed (node failure: ",
		"retrying in 10ms",
		"retry   erm.fit[seed=1]: attempt 2 failed (node failure: ",
		"retrying in 20ms",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("retry log lacks %q:\n%s", want, r.stderr)
		}
	}
	if got := strings.Count(r.stderr, "start   erm.fit[seed=1]"); got != 1 {
		t.Errorf("node_start printed %d times for the retried node, want 1", got)
	}

	r = llcflow(t, dir, "apply", "--keep-going", "small.hcl")
	if strings.Contains(r.stderr, "retry ") {
		t.Errorf("a node failure was retried without --retry-failed:\n%s", r.stderr)
	}
}

func TestGCStopsWhenKeepMatchesNothing(t *testing.T) {
	dir := workdir(t, "small.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "small.hcl"), "apply")
	r := llcflow(t, dir, "gc", "--keep", "small.hcl", "--var", "n_data=301")
	if r.code != 1 || !strings.Contains(r.stderr, "reference none of the runs") {
		t.Errorf("gc --keep with other variable values: exit %d\n%s", r.code, r.stderr)
	}
	if got := len(runDirs(t, dir)); got != 6 {
		t.Errorf("gc removed runs although it stopped: %d left", got)
	}
	mustSucceed(t, llcflow(t, dir, "gc", "--keep", "small.hcl", "--var", "n_data=301", "--force"), "gc --force")
	if got := len(runDirs(t, dir)); got != 0 {
		t.Errorf("gc --force left %d runs", got)
	}
}

// gc waits for no apply: it refuses to run while one holds the store.
func TestGCRefusedDuringApply(t *testing.T) {
	dir := workdir(t, "small.hcl")
	editFile(t, filepath.Join(dir, "small.hcl"), "steps      = 400", "steps      = 500000")
	apply, _ := startApplyLines(t, dir, "-j", "1", "--target", "sampler.sgld[seed=0]", "small.hcl")
	deadline := time.Now().Add(time.Minute)
	for len(runDirs(t, dir)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("apply did not reach the sampler within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitForRunning(t, dir)
	r := llcflow(t, dir, "gc", "--older-than", "0s")
	if r.code != 1 || !strings.Contains(r.stderr, "an apply is running on the store") {
		t.Errorf("gc during an apply: exit %d\n%s", r.code, r.stderr)
	}
	apply.Process.Signal(os.Interrupt)
	apply.Wait()
	if got := len(runDirs(t, dir)); got != 2 {
		t.Errorf("%d runs after the interrupted apply, want the dataset and the erm", got)
	}
	mustSucceed(t, llcflow(t, dir, "gc", "--older-than", "0s"), "gc after the apply")
	if got := len(runDirs(t, dir)); got != 0 {
		t.Errorf("gc --older-than 0s left %d runs", got)
	}
}

func TestJSONDiagnosticsOnStdout(t *testing.T) {
	dir := workdir(t, "bad/undefined.hcl")
	for _, cmd := range []string{"apply", "plan"} {
		r := llcflow(t, dir, cmd, "--json", "undefined.hcl")
		if r.code != 1 {
			t.Fatalf("%s --json of a bad file: exit %d", cmd, r.code)
		}
		events := jsonEvents(t, r.stdout)
		if len(events) == 0 {
			t.Fatalf("%s --json printed no diagnostic on stdout; stderr:\n%s", cmd, r.stderr)
		}
		d, _ := events[0]["diagnostic"].(map[string]any)
		rng, _ := d["range"].(map[string]any)
		start, _ := rng["start"].(map[string]any)
		if events[0]["type"] != "diagnostic" || start["line"] != 3.0 {
			t.Errorf("%s --json: first event %v, want a diagnostic at line 3", cmd, events[0])
		}
		if !strings.Contains(r.stderr, "undefined.hcl line 3") {
			t.Errorf("%s --json: stderr lacks the text diagnostic:\n%s", cmd, r.stderr)
		}
	}
}
