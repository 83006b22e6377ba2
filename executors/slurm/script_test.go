package slurm

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func goldenInput() scriptInput {
	return scriptInput{
		Name:   "llcflow-20261204T142001Z-9f86d081",
		Dir:    "/shared/runs/slurm/20261204T142001Z-9f86d081",
		Binary: "/shared/bin/llcflow",
		Array:  true,
		Tasks: []scriptTask{
			{0, "/shared/runs/slurm/20261204T142001Z-9f86d081/0a1b2c3d4e5f6071.json"},
			{1, "/shared/runs/slurm/20261204T142001Z-9f86d081/1a1b2c3d4e5f6071.json"},
			{2, "/shared/runs/slurm/20261204T142001Z-9f86d081/2a1b2c3d4e5f6071.json"},
		},
		Options: Options{
			Partition: "cpu", TimeoutMin: 90, CPUs: 4, MemGB: 7.5, GPUs: 1,
			Account: "slt", QOS: "normal", Constraint: "avx2", Exclude: "node[01-02]",
			ExtraSBATCH:      []string{"--mail-type=END", "#SBATCH --nice=10"},
			Setup:            []string{"module load go", "export OMP_NUM_THREADS=1"},
			ArrayParallelism: 2, SignalSeconds: 120, MaxRetries: 3,
		},
	}
}

func TestRenderScriptGolden(t *testing.T) {
	got := renderScript(goldenInput())
	path := filepath.Join("testdata", "golden.sbatch")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestRenderScriptGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("script differs from %s (rerun with -update after checking):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestRenderScriptMinimal(t *testing.T) {
	in := scriptInput{Name: "n", Dir: "/d", Binary: "/b", Array: false,
		Tasks: []scriptTask{{0, "/d/x.json"}}}
	got := renderScript(in)
	for _, absent := range []string{"--array", "--partition", "--time", "--mem", "--gpus", "--signal"} {
		if strings.Contains(got, absent) {
			t.Errorf("script without options contains %s:\n%s", absent, got)
		}
	}
	if !strings.Contains(got, "#SBATCH --output='/d/logs/%j.log'") {
		t.Errorf("script without an array does not log to %%j.log:\n%s", got)
	}
}

func TestArraySpec(t *testing.T) {
	tasks := func(idx ...int) []scriptTask {
		var out []scriptTask
		for _, i := range idx {
			out = append(out, scriptTask{Index: i})
		}
		return out
	}
	cases := []struct {
		tasks []scriptTask
		want  string
	}{
		{tasks(0), "0"},
		{tasks(0, 1, 2, 3), "0-3"},
		{tasks(0, 2, 5, 6, 7), "0,2,5-7"},
	}
	for _, c := range cases {
		if got := arraySpec(c.tasks); got != c.want {
			t.Errorf("arraySpec(%v) = %q, want %q", c.tasks, got, c.want)
		}
	}
}

// hostileValues are option values that would run a command if the script
// wrote them unquoted. Each one creates MARKER when it runs.
func hostileValues(marker string) []string {
	return []string{
		"a; touch " + marker,
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"a' ; touch " + marker + " ; '",
		"a\" ; touch " + marker + " ; \"",
		"${IFS}$(touch${IFS}" + marker + ")",
	}
}

// TestScriptInjectionBash runs generated scripts with bash, with hostile
// values in every quoted field and in the paths, and checks that no
// command in them ran and that exec-node got the spec path unchanged.
func TestScriptInjectionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	for i, v := range hostileValues("MARKER") {
		dir := t.TempDir()
		marker := filepath.Join(dir, "MARKER")
		v = strings.ReplaceAll(v, "MARKER", marker)

		// The stand-in binary records its arguments, one per line.
		argsFile := filepath.Join(dir, "args")
		bin := filepath.Join(dir, "bin "+strings.ReplaceAll(v, "/", "_"))
		stub := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + shellQuote(argsFile) + "\n"
		if err := os.WriteFile(bin, []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
		spec := filepath.Join(dir, "spec "+strings.ReplaceAll(v, "/", "_")+".json")
		in := scriptInput{
			Name: v, Dir: dir, Binary: bin, Array: true,
			Tasks: []scriptTask{{0, spec}},
			Options: Options{
				Partition: v, Account: v, QOS: v, Constraint: v, Exclude: v,
				TimeoutMin: 5, SignalSeconds: 60,
			},
		}
		if err := in.Options.Validate(); err != nil {
			t.Fatalf("value %d rejected: %v", i, err)
		}
		script := filepath.Join(dir, "job.sbatch")
		if err := os.WriteFile(script, []byte(renderScript(in)), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bash, script)
		cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID=0")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("value %d: bash %s: %v\n%s", i, script, err, out)
		}
		if fileExists(marker) {
			t.Errorf("value %q ran a command: %s exists", v, marker)
		}
		args, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatalf("value %d: the stand-in binary did not run: %v", i, err)
		}
		if want := "exec-node\n--executor=slurm\n" + spec + "\n"; string(args) != want {
			t.Errorf("value %d: exec-node got arguments %q, want %q", i, args, want)
		}
	}
}

func TestOptionsRejectNewline(t *testing.T) {
	cases := []Options{
		{Partition: "cpu\ntouch /tmp/x"},
		{Account: "a\rb"},
		{QOS: "q\x00"},
		{ExtraSBATCH: []string{"--comment=a\nrm -rf /"}},
		{Setup: []string{"module load go\nexit 1"}},
	}
	for _, o := range cases {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted a value with a line break", o)
		}
	}
	if _, err := New(Config{Store: t.TempDir(), Binary: "/bin/llcflow\nid"}); err == nil {
		t.Error("New accepted a binary path with a newline")
	}
}
