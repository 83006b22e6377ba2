package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// The tests below re-execute the test binary as child processes. A child
// finds its role in LLCFLOW_STORE_CHILD and its store in
// LLCFLOW_STORE_ROOT, and never runs the tests.
const (
	childRoleEnv  = "LLCFLOW_STORE_CHILD"
	childRootEnv  = "LLCFLOW_STORE_ROOT"
	childStartEnv = "LLCFLOW_STORE_START"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(childRoleEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

// childT lets the test helpers run in a child process, where a failure
// ends the process with a message on stderr.
type childT struct{ testing.TB }

func (childT) Helper() {}
func (childT) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	os.Exit(2)
}
func (childT) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func runChild(role string) int {
	t := childT{}
	s, err := Open(os.Getenv(childRootEnv))
	if err != nil {
		t.Fatal(err)
	}
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	b.LockTimeout = 30 * time.Second

	switch role {
	case "race":
		// Wait for the start file, so that the children call Begin at
		// nearly the same moment.
		for {
			if _, err := os.Stat(os.Getenv(childStartEnv)); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		txn, err := s.Begin(context.Background(), b)
		if errors.Is(err, ErrCached) {
			fmt.Println("cached")
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		writeOutputs(t, txn.Dir(), 0.5)
		time.Sleep(200 * time.Millisecond)
		if err := txn.Commit(Provenance{}); err != nil {
			t.Fatal(err)
		}
		fmt.Println("computed")
		return 0

	case "hold":
		// Take the lock, write part of the outputs and wait to be killed.
		txn, err := s.Begin(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(txn.Dir(), "partial.csv"), []byte("step,loss\n"))
		fmt.Println("ready " + txn.Dir())
		time.Sleep(time.Minute)
		return 1
	}
	t.Fatalf("unknown child role %q", role)
	return 2
}

func childCommand(t *testing.T, role, root string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childRoleEnv+"="+role, childRootEnv+"="+root)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestBeginRaceProcesses(t *testing.T) {
	s := newStore(t)
	start := filepath.Join(t.TempDir(), "start")
	const children = 3
	outputs := make([]*strings.Builder, children)
	cmds := make([]*exec.Cmd, children)
	for i := range cmds {
		outputs[i] = &strings.Builder{}
		cmds[i] = childCommand(t, "race", s.Root(), childStartEnv+"="+start)
		cmds[i].Stdout = outputs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, start, nil)

	counts := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		counts[strings.TrimSpace(outputs[i].String())]++
	}
	if counts["computed"] != 1 || counts["cached"] != children-1 {
		t.Errorf("children reported %v, want 1 computed and %d cached", counts, children-1)
	}
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	if lines := indexLines(t, s); len(lines) != 1 {
		t.Errorf("index has %d lines, want 1: %q", len(lines), lines)
	}
}

func TestKilledHolderReleasesLock(t *testing.T) {
	s := newStore(t)
	cmd := childCommand(t, "hold", s.Root())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read the child's output: %v", err)
	}
	tmp, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		t.Fatalf("child wrote %q, want ready DIR", line)
	}
	if _, err := os.Stat(filepath.Join(tmp, "partial.csv")); err != nil {
		t.Fatalf("the child's temporary directory is missing: %v", err)
	}

	// While the child lives, its lock holds, and a waiter learns who holds it.
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	b.LockTimeout = -1
	var notices []string
	b.Notify = func(msg string) { notices = append(notices, msg) }
	if _, err := s.Begin(t.Context(), b); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("Begin while the child holds the lock = %v, want ErrLockTimeout", err)
	}
	childPID := fmt.Sprintf("pid %d", cmd.Process.Pid)
	if len(notices) != 1 || !strings.Contains(notices[0], "waiting") ||
		!strings.Contains(notices[0], childPID) {
		t.Errorf("notices while waiting = %q, want one naming %s", notices, childPID)
	}
	notices = nil
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	b.LockTimeout = 10 * time.Second
	began := time.Now()
	txn := mustBegin(t, s, b)
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Errorf("Begin took %v after the holder was killed", elapsed)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the killed child's temporary directory %s survived Begin: %v", tmp, err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "took over") ||
		!strings.Contains(notices[0], childPID) || !strings.Contains(notices[0], "1 temporary") {
		t.Errorf("notices after the kill = %q, want one takeover naming %s and 1 temporary directory",
			notices, childPID)
	}
	writeOutputs(t, txn.Dir(), 0.5)
	if err := txn.Commit(Provenance{}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, s, b.RunID, b.Key, graph.Valid)

	// A lock released cleanly is taken without a takeover notice.
	notices = nil
	b.Force = true
	txn = mustBegin(t, s, b)
	if err := txn.Abort(); err != nil {
		t.Fatal(err)
	}
	if len(notices) != 0 {
		t.Errorf("notices after a clean release = %q, want none", notices)
	}
}
