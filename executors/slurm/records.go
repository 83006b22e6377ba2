package slurm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// jobRecord is the store's entry for the latest job submitted for a run,
// so that a later apply finds the job instead of submitting another.
type jobRecord struct {
	RunID   string `json:"run_id"`
	Address string `json:"address"`
	// Job is the job id sbatch printed (the array job id for an array).
	Job string `json:"job_id"`
	// Task is the array task index, -1 for a job that is not an array.
	Task  int    `json:"array_task"`
	Batch string `json:"batch"`
	// Submitted is the time just before sbatch ran, in UTC.
	Submitted time.Time `json:"submit_time"`
	// Attempt counts the fresh attempts of this apply, from 0.
	Attempt int    `json:"attempt"`
	Log     string `json:"log"`
	// Host and PID identify the llcflow process that submitted the job.
	Host string `json:"host"`
	PID  int    `json:"pid"`
}

// taskID returns the id that squeue prints and scancel accepts: "12_3",
// or "12" for a job that is not an array.
func (r *jobRecord) taskID() string {
	if r.Task < 0 {
		return r.Job
	}
	return fmt.Sprintf("%s_%d", r.Job, r.Task)
}

func (e *Executor) recordPath(runID string) string {
	return filepath.Join(e.cfg.Store, "slurm", "jobs", runID+".json")
}

// readRecord returns the job record of runID, or nil when there is none.
func (e *Executor) readRecord(runID string) (*jobRecord, error) {
	path := e.recordPath(runID)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read job record %s: %w", path, err)
	}
	var r jobRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read job record %s: %w (delete the file to submit the node again)", path, err)
	}
	if r.Job == "" || r.RunID != runID {
		return nil, fmt.Errorf("read job record %s: no job id for run %s (delete the file to submit the node again)", path, runID)
	}
	return &r, nil
}

// writeRecord replaces the job record of r.RunID atomically.
func (e *Executor) writeRecord(r *jobRecord) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(e.recordPath(r.RunID), append(data, '\n'), 0o644)
}

// cancelledPath returns the file of a batch that lists, one task id a line,
// the tasks that the executor which submitted the batch scancelled.
func (e *Executor) cancelledPath(batch string) string {
	return filepath.Join(e.cfg.Store, "slurm", batch, "cancelled")
}

// markCancelled appends the task ids of recs to their batches' cancelled
// files, so that a later apply submits these nodes again at once instead
// of waiting until Slurm reports the jobs as ended. Only the executor that
// submitted a batch writes its file.
func (e *Executor) markCancelled(recs []*jobRecord) error {
	var batches []string
	ids := map[string][]string{}
	for _, r := range recs {
		if _, ok := ids[r.Batch]; !ok {
			batches = append(batches, r.Batch)
		}
		ids[r.Batch] = append(ids[r.Batch], r.taskID())
	}

	e.cancelMu.Lock()
	defer e.cancelMu.Unlock()
	var errs []error
	for _, batch := range batches {
		if err := appendLines(e.cancelledPath(batch), ids[batch]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cancelledBySubmitter reports whether the executor that submitted rec's
// job scancelled it, as the batch's cancelled file records.
func (e *Executor) cancelledBySubmitter(rec *jobRecord) bool {
	data, err := os.ReadFile(e.cancelledPath(rec.Batch))
	if err != nil {
		return false
	}
	id := rec.taskID()
	// Only whole lines count, because a write cut short leaves a last
	// line without its newline.
	rest := string(data)
	for {
		line, after, ok := strings.Cut(rest, "\n")
		if !ok {
			return false
		}
		if line == id {
			return true
		}
		rest = after
	}
}

// appendLines appends the lines to the file at path and syncs it.
func appendLines(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file in path's directory,
// syncs it and renames it to path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)

	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}

// lockRun takes an exclusive lock on the run's job record, so that two
// llcflow processes on one store never both submit the same node. It
// waits until the lock is free or ctx is done.
func (e *Executor) lockRun(ctx context.Context, runID string) (unlock func(), err error) {
	path := filepath.Join(e.cfg.Store, "slurm", "jobs", runID+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create directory %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
