package slurm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/llcflow/llcflow/executors"
)

// submitRequest is one node waiting in the current batch.
type submitRequest struct {
	spec    *executors.Spec
	attempt int
	done    chan submitResult
}

type submitResult struct {
	rec *jobRecord
	err error
}

// submit adds the node to the current batch and waits until the batch is
// submitted. When ctx ends first, a node still waiting is taken out of the
// batch and a node already submitted is cancelled.
func (e *Executor) submit(ctx context.Context, spec *executors.Spec, attempt int) (*jobRecord, error) {
	req := &submitRequest{spec: spec, attempt: attempt, done: make(chan submitResult, 1)}
	e.mu.Lock()
	e.pending = append(e.pending, req)
	if !e.flushing {
		e.flushing = true
		time.AfterFunc(e.cfg.BatchWindow, e.flush)
	}
	e.mu.Unlock()

	select {
	case res := <-req.done:
		return res.rec, res.err
	case <-ctx.Done():
	}

	e.mu.Lock()
	for i, r := range e.pending {
		if r == req {
			e.pending = append(e.pending[:i], e.pending[i+1:]...)
			e.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	e.mu.Unlock()
	// The batch is being submitted: wait for its job id, then cancel it.
	if res := <-req.done; res.err == nil {
		e.cancelJob(res.rec)
	}
	return nil, ctx.Err()
}

// flush submits the pending nodes, in job arrays of at most MaxArraySize
// tasks (one job per node when the cluster disables arrays).
func (e *Executor) flush() {
	e.mu.Lock()
	reqs := e.pending
	e.pending = nil
	e.flushing = false
	e.mu.Unlock()
	if len(reqs) == 0 {
		return
	}

	ctx := context.Background()
	maxArray, err := e.maxArraySize(ctx)
	if err != nil {
		err = fmt.Errorf("read MaxArraySize: %w", err)
		for _, r := range reqs {
			r.done <- submitResult{err: err}
		}
		return
	}
	size, array := maxArray, true
	if maxArray == 0 {
		size, array = 1, false
	}
	for i := 0; i < len(reqs); i += size {
		j := min(i+size, len(reqs))
		e.submitBatch(ctx, reqs[i:j], array)
	}
}

// submitBatch writes the spec files and the script of one job array into
// a new batch directory, submits it and records the job of every node.
func (e *Executor) submitBatch(ctx context.Context, reqs []*submitRequest, array bool) {
	recs, err := e.writeAndSubmit(ctx, reqs, array)
	for i, r := range reqs {
		if err != nil {
			r.done <- submitResult{err: fmt.Errorf("node %s (run %s): %w", r.spec.Address, r.spec.RunID, err)}
			continue
		}
		r.done <- submitResult{rec: recs[i]}
	}
}

func (e *Executor) writeAndSubmit(ctx context.Context, reqs []*submitRequest, array bool) ([]*jobRecord, error) {
	batch, err := newBatchID()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.cfg.Store, "slurm", batch)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("create batch directory %s: %w", dir, err)
	}

	tasks := make([]scriptTask, len(reqs))
	for i, r := range reqs {
		path, err := e.writeSpec(dir, r.spec)
		if err != nil {
			return nil, err
		}
		tasks[i] = scriptTask{Index: i, SpecPath: path}
	}
	script := filepath.Join(dir, "job.sbatch")
	text := renderScript(scriptInput{
		Name: "llcflow-" + batch, Dir: dir, Binary: e.cfg.Binary,
		Array: array, Tasks: tasks, Options: e.cfg.Options,
	})
	if err := writeFileAtomic(script, []byte(text), 0o755); err != nil {
		return nil, err
	}

	submitted := time.Now().UTC().Truncate(time.Second)
	job, err := e.sbatch(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("submit %s: %w", script, err)
	}

	recs := make([]*jobRecord, len(reqs))
	for i, r := range reqs {
		task := i
		if !array {
			task = -1
		}
		rec := &jobRecord{
			RunID: r.spec.RunID, Address: r.spec.Address, Job: job, Task: task,
			Batch: batch, Submitted: submitted, Attempt: r.attempt,
			Log: logPath(dir, job, task), Host: e.host, PID: os.Getpid(),
		}
		e.mu.Lock()
		e.own[rec.taskID()] = true
		e.mu.Unlock()
		// A job whose record is missing is still waited for by this
		// process; only a later apply would submit it again.
		if err := e.writeRecord(rec); err != nil {
			e.logf("slurm: node %s: job %s runs but its record was not written: %v", r.spec.Address, rec.taskID(), err)
		}
		recs[i] = rec
	}
	e.logf("slurm: submitted batch %s as job %s (%d nodes, script %s)", batch, job, len(reqs), script)
	return recs, nil
}

// writeSpec writes the node's spec file, with the store as the workers see
// it. The chain goroutines are bounded by the job's CPUs, not by the
// caller's Threads, which counts the CPUs of the submitting host: with cpus
// unset, Threads 0 lets exec-node take the CPUs it may run on.
func (e *Executor) writeSpec(dir string, spec *executors.Spec) (string, error) {
	s := *spec
	s.Store = e.cfg.Store
	if s.FormatVersion == "" {
		s.FormatVersion = executors.SpecFormatVersion
	}
	s.Threads = e.cfg.Options.CPUs
	data, err := json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode spec of %s: %w", spec.Address, err)
	}
	path := filepath.Join(dir, spec.RunID+".json")
	if err := writeFileAtomic(path, append(data, '\n'), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// newBatchID returns a name for a batch directory: the UTC time and 32
// random bits, such as 20261204T142001Z-9f86d081.
func newBatchID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make batch id: %w", err)
	}
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}

// cancelJob scancels rec's job when this executor submitted it, batching
// the cancellations that arrive within 100 ms into one scancel call, and
// waits until that call has run and its jobs are marked as cancelled.
func (e *Executor) cancelJob(rec *jobRecord) {
	id := rec.taskID()
	e.mu.Lock()
	if !e.own[id] {
		e.mu.Unlock()
		return
	}
	delete(e.own, id)
	if len(e.cancelRecs) == 0 {
		time.AfterFunc(100*time.Millisecond, e.flushCancels)
	}
	e.cancelRecs = append(e.cancelRecs, rec)
	done := e.cancelDone
	e.mu.Unlock()
	<-done
}

func (e *Executor) flushCancels() {
	e.mu.Lock()
	recs := e.cancelRecs
	done := e.cancelDone
	e.cancelRecs = nil
	e.cancelDone = make(chan struct{})
	e.mu.Unlock()
	defer close(done)

	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.taskID()
	}
	if err := e.scancel(ids); err != nil {
		e.logf("slurm: cancel jobs %v: %v", ids, err)
		return
	}
	e.logf("slurm: cancelled jobs %v because the apply was cancelled", ids)
	if err := e.markCancelled(recs); err != nil {
		e.logf("slurm: mark jobs %v as cancelled: %v (a later apply waits until Slurm reports them ended)", ids, err)
	}
}
