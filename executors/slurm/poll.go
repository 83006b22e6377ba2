package slurm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/llcflow/llcflow/executors"
)

type outcomeKind int

const (
	outcomeDone      outcomeKind = iota // the run is in the store
	outcomeCancelled                    // ctx ended
	outcomeStale                        // a recorded job ended without a run, not by its node's fault
	outcomeRetry                        // submit a fresh attempt
	outcomeFailed                       // the node failed, and err describes why
	outcomeLost                         // the job vanished, and err describes how
)

type outcome struct {
	kind outcomeKind
	// reason is why a job gets a fresh attempt: for outcomeRetry the
	// state that ended it, for outcomeStale a clause such as "ended before
	// this apply (FAILED, exit code 1)".
	reason string
	err    error
}

// watch is one Run call waiting for its job.
type watch struct {
	spec *executors.Spec
	rec  *jobRecord
	// found is true for a job read from the store's record rather than
	// submitted by this Run call.
	found bool
	// before is the run directory that a forced node replaces, or nil.
	before   os.FileInfo
	started  time.Time
	progress func(executors.Event)
	done     chan outcome

	// The fields below belong to the poll loop.
	seen          bool      // a query has returned the job
	missingSince  time.Time // first query that did not return it
	finishedSince time.Time // first query that returned COMPLETED without a run
	state, reason string
}

// activeStates are the states of a job that has not ended. A job in any
// other state is terminal.
var activeStates = map[string]bool{
	"PENDING": true, "CONFIGURING": true, "RUNNING": true, "COMPLETING": true,
	"SUSPENDED": true, "REQUEUED": true, "REQUEUE_FED": true, "REQUEUE_HOLD": true,
	"RESIZING": true, "SIGNALING": true, "STAGE_OUT": true, "STOPPED": true,
	"RESV_DEL_HOLD": true,
}

// retryStates are the terminal states that are not the node's fault, so
// the node gets a fresh attempt.
var retryStates = map[string]bool{
	"TIMEOUT": true, "PREEMPTED": true, "NODE_FAIL": true, "BOOT_FAIL": true,
}

// wait registers the watch with the poll loop and returns how its job
// ended.
func (e *Executor) wait(ctx context.Context, w *watch) outcome {
	w.done = make(chan outcome, 1)
	e.mu.Lock()
	e.watches[w] = struct{}{}
	if !e.polling {
		e.polling = true
		go e.poll()
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}

	defer func() {
		e.mu.Lock()
		delete(e.watches, w)
		e.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return outcome{kind: outcomeCancelled}
	case out := <-w.done:
		if out.kind != outcomeCancelled {
			e.mu.Lock()
			delete(e.own, w.rec.taskID())
			e.mu.Unlock()
		}
		return out
	}
}

// poll queries the state of every watched job once per cycle until no Run
// is waiting. The wait between cycles starts at PollInterval and doubles
// while nothing changes, up to PollMax.
func (e *Executor) poll() {
	interval := e.cfg.PollInterval
	lastErr := ""
	for {
		e.mu.Lock()
		if len(e.watches) == 0 {
			e.polling = false
			e.mu.Unlock()
			return
		}
		ws := make([]*watch, 0, len(e.watches))
		for w := range e.watches {
			ws = append(ws, w)
		}
		e.mu.Unlock()

		changed, err := e.pollOnce(ws)
		if err != nil && err.Error() != lastErr {
			e.logf("slurm: query job states: %v (retrying)", err)
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
		if changed {
			interval = e.cfg.PollInterval
		} else {
			interval = min(2*interval, e.cfg.PollMax)
		}

		select {
		case <-time.After(interval):
		case <-e.wake:
			interval = e.cfg.PollInterval
		}
	}
}

// pollOnce checks the store for each watched run, then queries Slurm for
// the remaining jobs in one call, and resolves every watch whose job has
// ended. It reports whether any watch changed state.
func (e *Executor) pollOnce(ws []*watch) (bool, error) {
	changed := false
	var remaining []*watch
	for _, w := range ws {
		if e.hasNewResult(w.spec.RunID, w.before) {
			changed = e.resolve(w, outcome{kind: outcomeDone}) || changed
			continue
		}
		remaining = append(remaining, w)
	}
	if len(remaining) == 0 {
		return changed, nil
	}

	var jobs []string
	seenJob := map[string]bool{}
	for _, w := range remaining {
		if !seenJob[w.rec.Job] {
			seenJob[w.rec.Job] = true
			jobs = append(jobs, w.rec.Job)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	states, err := e.queryStates(ctx, jobs)
	if err != nil {
		return changed, err
	}
	byTask := map[string]jobState{}
	for _, s := range states {
		byTask[stateKey(s.Job, s.Task)] = s
	}

	now := time.Now()
	for _, w := range remaining {
		st, ok := taskState(byTask, w.rec)
		if ok && !st.Submit.IsZero() && st.Submit.Before(w.rec.Submitted.Add(-clockSkew)) {
			ok = false // another job with the same id, from before a controller reset
		}
		out, resolved := e.judge(w, st, ok, now)
		if resolved {
			// The job may have written its run between the two checks.
			if e.hasNewResult(w.spec.RunID, w.before) {
				out = outcome{kind: outcomeDone}
			}
			changed = e.resolve(w, out) || changed
		} else if ok && (st.State != w.state || st.Reason != w.reason) {
			w.state, w.reason = st.State, st.Reason
			changed = true
			msg := fmt.Sprintf("SLURM job %s %s", w.rec.taskID(), strings.ToLower(st.State))
			if st.Reason != "" {
				msg += " (" + st.Reason + ")"
			}
			w.progress(executors.Event{RunID: w.spec.RunID, Message: msg})
		}
	}
	return changed, nil
}

func stateKey(job string, task int) string { return fmt.Sprintf("%s_%d", job, task) }

// taskState returns the state of rec's task from one query's states, keyed
// by stateKey. squeue prints an array whose tasks all ended while pending
// as one line without task ids, such as "28|CANCELLED" for the array
// 28_[0-1] cancelled before it started. Such a line in a final state is
// taken as the state of every task of the job without a line of its own.
//
// NOTE: squeue lists no line at all for a task cancelled while pending when
// other tasks of its array have started since, so such a task is unknown
// to Slurm here unless its batch's cancelled file lists it.
func taskState(byTask map[string]jobState, rec *jobRecord) (jobState, bool) {
	if st, ok := byTask[stateKey(rec.Job, rec.Task)]; ok {
		return st, true
	}
	if rec.Task < 0 {
		return jobState{}, false
	}
	st, ok := byTask[stateKey(rec.Job, -1)]
	if !ok || activeStates[st.State] {
		return jobState{}, false
	}
	st.Task = rec.Task
	return st, true
}

// judge decides what one query's result means for a watched job whose run
// is not in the store. It returns resolved = false while the job is still
// to be waited for.
func (e *Executor) judge(w *watch, st jobState, found bool, now time.Time) (outcome, bool) {
	id := w.rec.taskID()
	if !found {
		if w.found && !w.seen && w.rec.Submitted.Before(w.started.Add(-clockSkew)) {
			// A job recorded by an earlier apply that Slurm has forgotten.
			return outcome{kind: outcomeStale, reason: "ended before this apply (no longer known to Slurm)"}, true
		}
		if w.missingSince.IsZero() {
			w.missingSince = now
		}
		if now.Sub(w.missingSince) < e.cfg.LostAfter {
			return outcome{}, false
		}
		return outcome{kind: outcomeLost, err: fmt.Errorf(
			"node %s (run %s): SLURM job %s has been unknown to Slurm for %v and left no run in %s (log: %s)",
			w.spec.Address, w.spec.RunID, id, e.cfg.LostAfter, e.cfg.Store, w.rec.Log)}, true
	}
	firstSight := !w.seen
	w.seen = true
	w.missingSince = time.Time{}
	if activeStates[st.State] {
		return outcome{}, false
	}

	// Slurm prints whole seconds, so an end within the second before this
	// Run started may belong to a job that ended after it.
	if w.found && firstSight && !st.End.IsZero() && st.End.Before(w.started.Add(-time.Second)) {
		return outcome{kind: outcomeStale, reason: "ended before this apply (" + describeEnd(st) + ")"}, true
	}
	if w.found && st.State == "CANCELLED" && e.cancelledBySubmitter(w.rec) {
		// The apply that submitted the job was cancelled while this one
		// waited for it.
		return outcome{kind: outcomeStale, reason: "was cancelled by the apply that submitted it"}, true
	}
	switch {
	case st.State == "COMPLETED" && st.ExitCode == 0:
		// The run directory may reach this host late on a network
		// filesystem, so wait for it before calling the node failed.
		if w.finishedSince.IsZero() {
			w.finishedSince = now
		}
		if now.Sub(w.finishedSince) < e.cfg.LostAfter {
			return outcome{}, false
		}
		return outcome{kind: outcomeFailed, err: fmt.Errorf(
			"node %s (run %s): SLURM job %s completed but %s did not appear within %v: is the store on a filesystem shared with the compute nodes? (log: %s)",
			w.spec.Address, w.spec.RunID, id, filepath.Join(e.cfg.Store, w.spec.RunID), e.cfg.LostAfter, w.rec.Log)}, true
	case st.ExitCode == ExitCheckpointed && st.Signal == 0 && (st.State == "FAILED" || st.State == "COMPLETED"):
		return outcome{kind: outcomeRetry, reason: "exit code 3 (checkpointed)"}, true
	case retryStates[st.State]:
		return outcome{kind: outcomeRetry, reason: st.State}, true
	}
	return outcome{kind: outcomeFailed, err: e.failure(w, st)}, true
}

// failure describes a job that ended without a run: its state, its exit
// status and the tail of its log.
func (e *Executor) failure(w *watch, st jobState) error {
	var what string
	switch st.State {
	case "CANCELLED":
		what = "was cancelled outside llcflow (scancel or an administrator)"
	case "OUT_OF_MEMORY":
		what = "ran out of memory: raise mem_gb"
	case "DEADLINE":
		what = "reached its deadline"
	default:
		what = "ended with " + describeEnd(st)
	}
	msg := fmt.Sprintf("node %s (run %s): SLURM job %s %s", w.spec.Address, w.spec.RunID, w.rec.taskID(), what)
	if errFile := filepath.Join(e.cfg.Store, "failed", w.spec.RunID, "error.json"); fileExists(errFile) {
		msg += "; error record: " + errFile
	}
	tail, err := tailLines(w.rec.Log, 20)
	switch {
	case err != nil:
		msg += fmt.Sprintf("\nlog %s: %v", w.rec.Log, err)
	case tail == "":
		msg += fmt.Sprintf("\nlog %s is empty", w.rec.Log)
	default:
		msg += fmt.Sprintf("\nlast lines of %s:\n%s", w.rec.Log, tail)
	}
	return errors.New(msg)
}

func describeEnd(st jobState) string {
	s := st.State
	if st.Signal != 0 {
		return fmt.Sprintf("%s, signal %d", s, st.Signal)
	}
	return fmt.Sprintf("%s, exit code %d", s, st.ExitCode)
}

// resolve hands the outcome to the waiting Run call, once.
func (e *Executor) resolve(w *watch, out outcome) bool {
	e.mu.Lock()
	_, ok := e.watches[w]
	delete(e.watches, w)
	e.mu.Unlock()
	if ok {
		w.done <- out
	}
	return ok
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// tailLines returns the last n lines of the file, reading at most its last
// 64 KiB.
func tailLines(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	const maxRead = 64 << 10
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	off := max(fi.Size()-maxRead, 0)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return "", err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n"), nil
}
