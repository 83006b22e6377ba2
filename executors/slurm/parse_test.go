package slurm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParseSbatchParsable(t *testing.T) {
	cases := []struct {
		file, job, cluster string
	}{
		{"sbatch_parsable.txt", "15", ""},
		{"sbatch_parsable_cluster.txt", "15", "llcflow"},
	}
	for _, c := range cases {
		job, cluster, err := parseSbatchParsable(readTestdata(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if job != c.job || cluster != c.cluster {
			t.Errorf("%s: got job %q cluster %q, want %q %q", c.file, job, cluster, c.job, c.cluster)
		}
	}
	for _, bad := range []string{"", "Submitted batch job 12\n", "12_3\n", ";llcflow"} {
		if _, _, err := parseSbatchParsable(bad); err == nil {
			t.Errorf("parseSbatchParsable(%q) returned no error", bad)
		}
	}
}

func TestParseJobRef(t *testing.T) {
	cases := []struct {
		in    string
		job   string
		tasks []int
	}{
		{"12", "12", nil},
		{"12_4", "12", []int{4}},
		{"12_[3-7%2]", "12", []int{3, 4, 5, 6, 7}},
		{"12_[3-7]", "12", []int{3, 4, 5, 6, 7}},
		{"12_[1,3-5]", "12", []int{1, 3, 4, 5}},
		{"12_[0]", "12", []int{0}},
	}
	for _, c := range cases {
		ref, err := parseJobRef(c.in)
		if err != nil {
			t.Errorf("parseJobRef(%q): %v", c.in, err)
			continue
		}
		if ref.Job != c.job {
			t.Errorf("parseJobRef(%q).Job = %q, want %q", c.in, ref.Job, c.job)
		}
		if !reflect.DeepEqual(ref.Tasks, c.tasks) {
			t.Errorf("parseJobRef(%q).Tasks = %v, want %v", c.in, ref.Tasks, c.tasks)
		}
	}
	for _, bad := range []string{"", "x", "12_", "12_[3-7", "12_[7-3]", "12_a", "12_[1,x]"} {
		if _, err := parseJobRef(bad); err == nil {
			t.Errorf("parseJobRef(%q) returned no error", bad)
		}
	}
}

func TestBaseState(t *testing.T) {
	cases := map[string]string{
		"CANCELLED by 0": "CANCELLED",
		"CANCELLED+":     "CANCELLED",
		" RUNNING ":      "RUNNING",
		"TIMEOUT":        "TIMEOUT",
	}
	for in, want := range cases {
		if got := baseState(in); got != want {
			t.Errorf("baseState(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseWaitStatus(t *testing.T) {
	cases := []struct {
		in           string
		exit, signal int
	}{
		{"0", 0, 0}, {"256", 1, 0}, {"768", 3, 0}, {"9", 0, 9}, {"15", 0, 15}, {"N/A", 0, 0},
	}
	for _, c := range cases {
		exit, sig, err := parseWaitStatus(c.in)
		if err != nil {
			t.Fatalf("parseWaitStatus(%q): %v", c.in, err)
		}
		if exit != c.exit || sig != c.signal {
			t.Errorf("parseWaitStatus(%q) = %d, %d, want %d, %d", c.in, exit, sig, c.exit, c.signal)
		}
	}
	if _, _, err := parseWaitStatus("-1"); err == nil {
		t.Error("parseWaitStatus(-1) returned no error")
	}
}

func localTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseSqueueRecorded(t *testing.T) {
	states, err := parseSqueue(readTestdata(t, "squeue_states.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]jobState{}
	for _, s := range states {
		byKey[stateKey(s.Job, s.Task)] = s
	}
	// One line is the pending range 15_[4-6%2], which stands for 3 tasks.
	if len(states) != 8 {
		t.Errorf("got %d states, want 8: %+v", len(states), states)
	}
	checks := []struct {
		key, state   string
		exit, signal int
		reason       string
	}{
		{"8_-1", "CANCELLED", 0, 9, ""},
		{"15_1", "CANCELLED", 0, 15, ""},
		{"15_0", "FAILED", 3, 0, "NonZeroExitCode"},
		{"15_4", "PENDING", 0, 0, "JobArrayTaskLimit"},
		{"15_6", "PENDING", 0, 0, "JobArrayTaskLimit"},
		{"15_2", "RUNNING", 0, 0, ""},
	}
	for _, c := range checks {
		s, ok := byKey[c.key]
		if !ok {
			t.Errorf("no state for %s", c.key)
			continue
		}
		if s.State != c.state || s.ExitCode != c.exit || s.Signal != c.signal || s.Reason != c.reason {
			t.Errorf("%s: got %s exit %d signal %d reason %q, want %s %d %d %q",
				c.key, s.State, s.ExitCode, s.Signal, s.Reason, c.state, c.exit, c.signal, c.reason)
		}
	}
	if got, want := byKey["15_0"].Submit, localTime(t, "2026-12-04T14:26:30"); !got.Equal(want) {
		t.Errorf("15_0 submit time = %v, want %v", got, want)
	}
	if !byKey["15_2"].End.IsZero() {
		t.Errorf("running task has end time %v, want zero (squeue prints NONE)", byKey["15_2"].End)
	}
	if !byKey["15_5"].End.IsZero() {
		t.Errorf("pending task has end time %v, want zero (squeue prints N/A)", byKey["15_5"].End)
	}
}

func TestParseSacct(t *testing.T) {
	states, err := parseSacct(readTestdata(t, "sacct_states.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 11 {
		t.Errorf("got %d states, want 11 (8 lines, one a range of 4 tasks)", len(states))
	}
	byKey := map[string]jobState{}
	for _, s := range states {
		byKey[stateKey(s.Job, s.Task)] = s
	}
	checks := []struct {
		key, state   string
		exit, signal int
	}{
		{"21_0", "COMPLETED", 0, 0},
		{"21_1", "FAILED", 1, 0},
		{"21_2", "FAILED", 3, 0},
		{"21_3", "CANCELLED", 0, 15},
		{"21_4", "TIMEOUT", 0, 0},
		{"21_5", "RUNNING", 0, 0},
		{"21_9", "PENDING", 0, 0},
		{"22_-1", "OUT_OF_MEMORY", 0, 125},
	}
	for _, c := range checks {
		s, ok := byKey[c.key]
		if !ok {
			t.Errorf("no state for %s", c.key)
			continue
		}
		if s.State != c.state || s.ExitCode != c.exit || s.Signal != c.signal {
			t.Errorf("%s: got %s %d:%d, want %s %d:%d", c.key, s.State, s.ExitCode, s.Signal, c.state, c.exit, c.signal)
		}
	}
	if !byKey["21_5"].End.IsZero() {
		t.Errorf("running task has end time %v, want zero (sacct prints Unknown)", byKey["21_5"].End)
	}
	if _, err := parseSacct("21_0|COMPLETED|zero|x|y|None\n"); err == nil {
		t.Error("parseSacct accepted an invalid exit code")
	}
}

func TestAccountingDisabledRecorded(t *testing.T) {
	if !isAccountingDisabled(readTestdata(t, "sacct_disabled.txt")) {
		t.Error("recorded sacct output not detected as accounting disabled")
	}
	if isAccountingDisabled(readTestdata(t, "sacct_states.txt")) {
		t.Error("sacct states detected as accounting disabled")
	}
}

func TestInvalidJobIDRecorded(t *testing.T) {
	if !isInvalidJobID(readTestdata(t, "squeue_invalid.txt")) {
		t.Error("recorded squeue error not detected as an invalid job id")
	}
}

func TestParseMaxArraySizeRecorded(t *testing.T) {
	n, err := parseMaxArraySize(readTestdata(t, "scontrol_show_config.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1001 {
		t.Errorf("MaxArraySize = %d, want 1001", n)
	}
	if _, err := parseMaxArraySize("MinJobAge = 300 sec\n"); err == nil {
		t.Error("parseMaxArraySize found a value in output without the line")
	}
	if _, err := parseMaxArraySize("MaxArraySize = lots\n"); err == nil {
		t.Error("parseMaxArraySize accepted a non-number")
	}
}

// TestTaskStateCancelledPending reads the recorded states of arrays that
// were cancelled while pending and looks up the tasks of job records.
func TestTaskStateCancelledPending(t *testing.T) {
	states, err := parseSqueue(readTestdata(t, "squeue_cancelled_pending.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byTask := map[string]jobState{}
	for _, s := range states {
		byTask[stateKey(s.Job, s.Task)] = s
	}
	cases := []struct {
		job   string
		task  int
		state string // "" when the task has no state
	}{
		{"1", 0, "CANCELLED"},
		{"1", 1, "CANCELLED"},
		{"1", -1, "CANCELLED"},
		{"2", 0, "COMPLETED"},
		{"2", 1, "CANCELLED"},
		{"2", 2, "CANCELLED"},
		// squeue does not list a task cancelled while pending once other
		// tasks of its array have left the pending line.
		{"5", 0, ""},
		{"5", 1, "COMPLETED"},
		{"3", 0, ""},
	}
	for _, c := range cases {
		rec := &jobRecord{Job: c.job, Task: c.task}
		st, ok := taskState(byTask, rec)
		if ok != (c.state != "") {
			t.Errorf("%s: found = %v, want %v", rec.taskID(), ok, c.state != "")
			continue
		}
		if !ok {
			continue
		}
		if st.State != c.state {
			t.Errorf("%s: state %s, want %s", rec.taskID(), st.State, c.state)
		}
		if st.Task != c.task {
			t.Errorf("%s: task %d, want %d", rec.taskID(), st.Task, c.task)
		}
	}
	if got, want := byTask["1_-1"].End, localTime(t, "2026-12-04T17:53:45"); !got.Equal(want) {
		t.Errorf("end time of the cancelled array = %v, want %v", got, want)
	}
}

// TestTaskStateBareActiveLine checks that a line without task ids in an
// active state, which belongs to a job that is not an array, gives no
// state to an array task of the same job id.
func TestTaskStateBareActiveLine(t *testing.T) {
	states, err := parseSqueue("9|PENDING|0|2026-12-04T17:53:44|N/A|Priority\n")
	if err != nil {
		t.Fatal(err)
	}
	byTask := map[string]jobState{}
	for _, s := range states {
		byTask[stateKey(s.Job, s.Task)] = s
	}
	if st, ok := taskState(byTask, &jobRecord{Job: "9", Task: 0}); ok {
		t.Errorf("task 9_0 got state %+v from the pending line 9, want none", st)
	}
	if _, ok := taskState(byTask, &jobRecord{Job: "9", Task: -1}); !ok {
		t.Error("job 9 got no state from its own line")
	}
}
