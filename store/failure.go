package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Maximum size of the log tail that error.json keeps, in lines and bytes.
const (
	logTailLines = 50
	logTailBytes = 16 << 10
)

// Failure is error.json of the last failed attempt of a run.
type Failure struct {
	RunID   string `json:"run_id"`
	Key     string `json:"key"`
	Address string `json:"address"`
	// Type and Kind are the node's block type and kind; records written
	// before they were added leave them empty.
	Type string `json:"type,omitempty"`
	Kind string `json:"kind,omitempty"`
	// Stage is the step that failed, such as "sampler" or "commit".
	Stage string `json:"stage"`
	Error string `json:"error"`
	// Log is the tail of the attempt's log.txt, at most 50 lines and
	// 16 KiB. The whole log is log.txt beside error.json.
	Log  string    `json:"log"`
	Time time.Time `json:"time"`
}

// Fail records the attempt as the last failure of the run: it writes
// error.json and provenance.json into the temporary directory, moves the
// directory with the partial outputs and log.txt to failed/<run_id>,
// replacing an earlier failure, and releases the lock. A failed attempt
// never becomes a valid run. Fail returns an error only when recording the
// failure itself failed, and releases the lock even then.
func (t *Txn) Fail(stage string, cause error, p Provenance) error {
	alreadyDone, logErr := t.finish()
	if alreadyDone {
		return fmt.Errorf("record failure of run %s: %w", t.b.RunID, ErrFinished)
	}
	if cause == nil {
		cause = errors.New("unknown error")
	}
	err := t.moveToFailed(stage, cause, t.fillProvenance(p))
	err = errors.Join(logErr, err, t.lock.release())
	if err != nil {
		return fmt.Errorf("record failure of run %s: %w", t.b.RunID, err)
	}
	return nil
}

// moveToFailed writes the failure record into the temporary directory and
// renames it to failed/<run_id>. On error it removes the temporary
// directory instead. The caller holds the lock and releases it.
func (t *Txn) moveToFailed(stage string, cause error, p Provenance) error {
	err := t.writeFailure(stage, cause, p)
	if err == nil {
		err = t.s.installFailure(t.b.RunID, t.dir)
	}
	if err != nil {
		return errors.Join(err, os.RemoveAll(t.dir))
	}
	return nil
}

func (t *Txn) writeFailure(stage string, cause error, p Provenance) error {
	tail, err := readLogTail(filepath.Join(t.dir, logFile))
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(Failure{
		RunID:   t.b.RunID,
		Key:     t.b.Key,
		Address: t.b.Address,
		Type:    t.b.Type,
		Kind:    t.b.Kind,
		Stage:   stage,
		Error:   cause.Error(),
		Log:     tail,
		Time:    time.Now().UTC(),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", errorFile, err)
	}
	if err := writeFileAtomic(filepath.Join(t.dir, errorFile), append(data, '\n')); err != nil {
		return err
	}
	if err := writeProvenance(t.dir, p); err != nil {
		// Provenance with values that JSON cannot encode must not lose
		// the failure record, so write it without the free-form part.
		p.Extra = nil
		return writeProvenance(t.dir, p)
	}
	return nil
}

func (s *Store) installFailure(runID, dir string) error {
	failedRoot := filepath.Join(s.root, "failed")
	if err := os.MkdirAll(failedRoot, dirMode); err != nil {
		return err
	}
	final := filepath.Join(failedRoot, runID)
	aside := filepath.Join(s.tmpDir(), runID+".failed-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(final, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("move earlier failure %s aside: %w", final, err)
	}
	if err := os.Rename(dir, final); err != nil {
		return fmt.Errorf("rename %s to %s: %w", dir, final, err)
	}
	if err := syncDir(failedRoot); err != nil {
		return err
	}
	// This failure is now the last attempt.
	if err := s.removeCancellation(runID); err != nil {
		return err
	}
	return removeIfPresent(aside)
}

// readLogTail returns the last lines of a log, within the limits of
// logTailLines and logTailBytes.
func readLogTail(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	start := max(info.Size()-logTailBytes, 0)
	buf := make([]byte, info.Size()-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return "", fmt.Errorf("read log %s: %w", path, err)
	}

	buf = bytes.TrimRight(buf, "\n")
	lines := 0
	for i := len(buf) - 1; i >= 0; i-- {
		if buf[i] == '\n' {
			lines++
			if lines == logTailLines {
				buf = buf[i+1:]
				break
			}
		}
	}
	return string(bytes.ToValidUTF8(buf, []byte("\uFFFD"))), nil
}

// Failure returns the last failed attempt of a run. The boolean is false
// when there is none.
func (s *Store) Failure(runID string) (*Failure, bool, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, false, fmt.Errorf("read failure: %w", err)
	}
	var f Failure
	err := readJSON(filepath.Join(s.root, "failed", runID, errorFile), &f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read failure of run %s: %w", runID, err)
	}
	return &f, true, nil
}
