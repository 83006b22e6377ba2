package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/llcflow/llcflow/executors"
)

// commandTimeout bounds one client command, so that a hung controller
// shows up as an error instead of a stalled apply.
const commandTimeout = 2 * time.Minute

// runner runs a client command and returns its output. The executor uses
// execRunner; tests of the polling logic use a fake.
type runner interface {
	run(ctx context.Context, name string, args ...string) (stdout, stderr string, err error)
}

// execRunner runs the Slurm client commands found on PATH. They read the
// cluster's configuration from SLURM_CONF, or from their built-in default.
type execRunner struct{}

func (execRunner) run(ctx context.Context, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%s timed out after %v", name, commandTimeout)
	}
	return stdout.String(), stderr.String(), err
}

// commandError describes a failed client command with its output.
func commandError(name string, args []string, stdout, stderr string, err error) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		msg = strings.TrimSpace(stdout)
	}
	if msg == "" {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
}

// transientMarkers are phrases of client errors that go away when the
// controller is reachable again.
var transientMarkers = []string{
	"socket timed out",
	"unable to contact slurm controller",
	"connection refused",
	"temporarily unable",
	"resource temporarily unavailable",
	"zero bytes were transmitted",
	"timed out after",
}

func isTransient(msg string) bool {
	msg = strings.ToLower(msg)
	for _, m := range transientMarkers {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// sbatch submits a script and returns the job id.
func (e *Executor) sbatch(ctx context.Context, script string) (string, error) {
	args := []string{"--parsable", script}
	stdout, stderr, err := e.run.run(ctx, "sbatch", args...)
	if err != nil {
		cerr := commandError("sbatch", args, stdout, stderr, err)
		if isTransient(cerr.Error()) || errors.Is(err, exec.ErrNotFound) {
			return "", &executors.InfraError{Err: cerr}
		}
		return "", cerr
	}
	job, _, err := parseSbatchParsable(stdout)
	return job, err
}

// maxArraySize returns the cluster's MaxArraySize, reading it once. It
// holds its own mutex, so a slow scontrol does not stall the poll loop.
func (e *Executor) maxArraySize(ctx context.Context) (int, error) {
	e.arrayMu.Lock()
	defer e.arrayMu.Unlock()
	if e.maxArray >= 0 {
		return e.maxArray, nil
	}
	args := []string{"show", "config"}
	stdout, stderr, err := e.run.run(ctx, "scontrol", args...)
	if err != nil {
		return 0, &executors.InfraError{Err: commandError("scontrol", args, stdout, stderr, err)}
	}
	n, err := parseMaxArraySize(stdout)
	if err != nil {
		return 0, err
	}
	e.maxArray = n
	e.logf("slurm: MaxArraySize is %d", n)
	return n, nil
}

// queryStates returns the states of the given jobs' tasks from one query:
// sacct while accounting works, squeue -t all once sacct has reported that
// accounting storage is disabled. Jobs missing from sacct's output
// (slurmdbd may lag behind the controller) are queried with squeue too.
func (e *Executor) queryStates(ctx context.Context, jobs []string) ([]jobState, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	list := strings.Join(jobs, ",")

	e.mu.Lock()
	useSacct := !e.noAccounting
	e.mu.Unlock()
	if useSacct {
		states, err := e.querySacct(ctx, list)
		if err == nil {
			missing := missingJobs(jobs, states)
			if len(missing) == 0 {
				return states, nil
			}
			more, err := e.querySqueue(ctx, strings.Join(missing, ","))
			return append(states, more...), err
		}
		if !errors.Is(err, errAccountingDisabled) {
			e.logf("slurm: sacct failed, asking squeue this time: %v", err)
		}
	}
	return e.querySqueue(ctx, list)
}

var errAccountingDisabled = errors.New("slurm accounting storage is disabled")

func (e *Executor) querySacct(ctx context.Context, list string) ([]jobState, error) {
	args := []string{"-X", "-P", "-n", "--format=" + sacctFormat, "-j", list}
	stdout, stderr, err := e.run.run(ctx, "sacct", args...)
	if isAccountingDisabled(stdout + stderr) {
		e.mu.Lock()
		first := !e.noAccounting
		e.noAccounting = true
		e.mu.Unlock()
		if first {
			e.logf("slurm: sacct reports that accounting storage is disabled; using squeue and the store for job states")
		}
		return nil, errAccountingDisabled
	}
	if err != nil {
		return nil, commandError("sacct", args, stdout, stderr, err)
	}
	return parseSacct(stdout)
}

func (e *Executor) querySqueue(ctx context.Context, list string) ([]jobState, error) {
	args := []string{"-h", "-t", "all", "-O", squeueFormat, "-j", list}
	stdout, stderr, err := e.run.run(ctx, "squeue", args...)
	if err != nil {
		// squeue fails when none of the listed jobs exists in the controller.
		if isInvalidJobID(stdout + stderr) {
			return nil, nil
		}
		return nil, commandError("squeue", args, stdout, stderr, err)
	}
	return parseSqueue(stdout)
}

func missingJobs(jobs []string, states []jobState) []string {
	seen := map[string]bool{}
	for _, s := range states {
		seen[s.Job] = true
	}
	var missing []string
	for _, j := range jobs {
		if !seen[j] {
			missing = append(missing, j)
		}
	}
	return missing
}

// scancel cancels the given jobs or array tasks in one call. It runs even
// when ctx is already cancelled, because it is what cancellation does.
func (e *Executor) scancel(ids []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	stdout, stderr, err := e.run.run(ctx, "scancel", ids...)
	if err != nil {
		return commandError("scancel", ids, stdout, stderr, err)
	}
	return nil
}
