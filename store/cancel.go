package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// cancelledDir is the directory of the records of cancelled attempts.
const cancelledDir = "cancelled"

// Cancellation is cancelled/<run_id>.json, the record of the last attempt
// of a run that was cancelled, such as by Ctrl-C during apply or because
// another node failed. The attempt's outputs and log are removed.
type Cancellation struct {
	RunID   string `json:"run_id"`
	Key     string `json:"key"`
	Address string `json:"address"`
	Type    string `json:"type"`
	Kind    string `json:"kind"`
	// StartedAt is when Begin returned, and Time when the attempt was
	// aborted.
	StartedAt time.Time `json:"started_at"`
	Time      time.Time `json:"time"`
	// Reason is the error of the context, such as "context canceled".
	Reason string `json:"reason"`
}

func (s *Store) cancellationPath(runID string) string {
	return filepath.Join(s.root, cancelledDir, runID+".json")
}

// recordCancellation writes the record of the transaction's attempt,
// which its context cancelled. The caller holds the lock.
func (t *Txn) recordCancellation() error {
	data, err := json.MarshalIndent(Cancellation{
		RunID: t.b.RunID, Key: t.b.Key, Address: t.b.Address, Type: t.b.Type, Kind: t.b.Kind,
		StartedAt: t.began.UTC(), Time: time.Now().UTC(), Reason: context.Cause(t.ctx).Error(),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cancellation of run %s: %w", t.b.RunID, err)
	}
	if err := os.MkdirAll(filepath.Join(t.s.root, cancelledDir), dirMode); err != nil {
		return fmt.Errorf("record cancellation of run %s: %w", t.b.RunID, err)
	}
	return writeFileAtomic(t.s.cancellationPath(t.b.RunID), append(data, '\n'))
}

// Cancellation returns the record of the last attempt of a run that was
// cancelled. The boolean is false when there is none.
func (s *Store) Cancellation(runID string) (*Cancellation, bool, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, false, fmt.Errorf("read cancellation: %w", err)
	}
	var c Cancellation
	err := readJSON(s.cancellationPath(runID), &c)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read cancellation of run %s: %w", runID, err)
	}
	return &c, true, nil
}

// removeCancellation deletes the record of a cancelled attempt, if any.
//
// NOTE: Failures does not list the records of cancelled attempts, so gc
// leaves a record whose run id never commits, fails or is removed. Each
// record is a few hundred bytes.
func (s *Store) removeCancellation(runID string) error {
	err := os.Remove(s.cancellationPath(runID))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// lastAttempt returns the status of a run id that has no run directory,
// from the records of its last attempt with this key. The status is Failed
// with the failure when that attempt failed, and Missing with a detail when
// it was cancelled. Without a record it is Missing without a detail. When
// both records exist, the later one is the last attempt.
func (s *Store) lastAttempt(runID, key string) (graph.RunStatus, string, error) {
	f, failed, err := s.Failure(runID)
	if err != nil {
		// An unreadable failure record does not make a run valid, and the
		// planner runs a Missing node anyway.
		return graph.Failed, fmt.Sprintf("the failure record is unreadable: %v", err), nil
	}
	failed = failed && f.Key == key
	// An unreadable record of a cancellation changes only the message, so
	// it counts as no record.
	c, cancelled, err := s.Cancellation(runID)
	cancelled = err == nil && cancelled && c.Key == key

	switch {
	case cancelled && (!failed || c.Time.After(f.Time)):
		return graph.Missing, fmt.Sprintf("the last attempt was cancelled at %s",
			c.Time.Format(time.RFC3339)), nil
	case failed:
		return graph.Failed, fmt.Sprintf("the last attempt failed at %s in stage %s: %s",
			f.Time.Format(time.RFC3339), f.Stage, f.Error), nil
	}
	return graph.Missing, "", nil
}
