package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// ErrLocked is wrapped by the errors of Remove and RemoveFailure when
// another process holds the run's lock, which means it is writing the run.
var ErrLocked = errors.New("the run is locked by another process")

// CheckRun validates a run directory against the key its own manifest
// records: Valid, Corrupt (with a detail saying why) or Missing when there
// is no directory. Unlike Status it needs no key from a plan.
func (s *Store) CheckRun(runID string) (graph.RunStatus, string, error) {
	if err := CheckRunID(runID); err != nil {
		return graph.Missing, "", fmt.Errorf("check run: %w", err)
	}
	m, detail, err := s.loadManifest(runID)
	if err != nil {
		return graph.Missing, "", err
	}
	if m == nil {
		if _, statErr := os.Stat(filepath.Join(s.root, runID)); errors.Is(statErr, fs.ErrNotExist) {
			return graph.Missing, "", nil
		}
		return graph.Corrupt, detail, nil
	}
	return s.runStatus(runID, m.Key)
}

// Locked reports whether another process holds the lock of a run id, with
// the holder's record when the lock file has one. It tries the lock once
// without blocking.
func (s *Store) Locked(runID string) (bool, *LockHolder, error) {
	if err := CheckRunID(runID); err != nil {
		return false, nil, fmt.Errorf("check lock: %w", err)
	}
	path := s.lockPath(runID)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil, nil
	}
	lock, err := tryLock(path)
	if err != nil {
		return false, nil, err
	}
	if lock == nil {
		return true, readHolder(path), nil
	}
	return false, nil, lock.release()
}

// Size returns the total size in bytes of the files under a directory of
// the store, 0 when it does not exist.
func Size(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}

// Remove deletes a run with its failure record, the record of a cancelled
// attempt, its checkpoint and lock file, and returns the bytes freed. It
// takes the run's lock without waiting, so a run that another process is
// writing is left alone with an error wrapping ErrLocked. The run directory is first renamed into the
// temporary area, so it disappears from the store at once even if a crash
// interrupts the deletion.
func (s *Store) Remove(runID string) (int64, error) {
	if err := CheckRunID(runID); err != nil {
		return 0, fmt.Errorf("remove run: %w", err)
	}
	return s.removeLocked(runID, true)
}

// RemoveFailure deletes the failure record and the record of a cancelled
// attempt of a run id and returns the bytes freed, leaving a run directory
// alone.
func (s *Store) RemoveFailure(runID string) (int64, error) {
	if err := CheckRunID(runID); err != nil {
		return 0, fmt.Errorf("remove failure record: %w", err)
	}
	return s.removeLocked(runID, false)
}

func (s *Store) removeLocked(runID string, withRun bool) (int64, error) {
	if err := os.MkdirAll(s.locksDir(), dirMode); err != nil {
		return 0, fmt.Errorf("remove run %s: %w", runID, err)
	}
	lock, err := tryLock(s.lockPath(runID))
	if err != nil {
		return 0, fmt.Errorf("remove run %s: %w", runID, err)
	}
	if lock == nil {
		return 0, fmt.Errorf("remove run %s: %w; it is being written, so it was kept", runID, ErrLocked)
	}
	defer lock.release()
	s.forget(runID)

	dirs := []string{s.FailureDir(runID)}
	if withRun {
		dirs = append(dirs, s.RunDir(runID), s.CheckpointDir(runID))
	}
	if err := s.removeCancellation(runID); err != nil {
		return 0, fmt.Errorf("remove run %s: %w", runID, err)
	}
	var freed int64
	for _, dir := range dirs {
		n, err := s.removeDir(runID, dir)
		freed += n
		if err != nil {
			return freed, fmt.Errorf("remove run %s: %w", runID, err)
		}
	}
	if _, err := os.Stat(s.RunDir(runID)); errors.Is(err, fs.ErrNotExist) {
		// Unlinking the lock file while holding its lock is safe: a process
		// that opened the old file notices that it is no longer at the path
		// and opens the new one (see tryLock).
		if err := os.Remove(s.lockPath(runID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return freed, fmt.Errorf("remove run %s: %w", runID, err)
		}
	}
	return freed, nil
}

// removeDir renames dir into the temporary area and deletes it there.
func (s *Store) removeDir(runID, dir string) (int64, error) {
	size, err := Size(dir)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(s.tmpDir(), dirMode); err != nil {
		return 0, err
	}
	aside := filepath.Join(s.tmpDir(), runID+".removed-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(dir, aside); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return 0, err
	}
	return size, os.RemoveAll(aside)
}

// FailureInfo is one failure record of the store.
type FailureInfo struct {
	RunID string
	// Failure is nil when error.json cannot be read, and Err is the reason.
	Failure *Failure
	Err     error
}

// Failures returns every failure record of the store, sorted by run id.
func (s *Store) Failures() ([]FailureInfo, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "failed"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list failures in %s: %w", s.root, err)
	}
	var out []FailureInfo
	for _, e := range entries {
		if !e.IsDir() || CheckRunID(e.Name()) != nil {
			continue
		}
		info := FailureInfo{RunID: e.Name()}
		f, ok, err := s.Failure(e.Name())
		switch {
		case err != nil:
			info.Err = err
		case !ok:
			info.Err = fmt.Errorf("failure record %s has no %s", e.Name(), errorFile)
		default:
			info.Failure = f
		}
		out = append(out, info)
	}
	return out, nil
}

// TempDir is a directory of the temporary area: a run being written, or
// one that a killed process left.
type TempDir struct {
	Path  string
	RunID string
	// Locked is true while a live process holds the run's lock, which
	// means the directory may be in use.
	Locked bool
	Size   int64
}

// TempDirs lists the temporary area. Entries whose names do not start
// with a run id are listed with an empty RunID and Locked false.
func (s *Store) TempDirs() ([]TempDir, error) {
	entries, err := os.ReadDir(s.tmpDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.tmpDir(), err)
	}
	var out []TempDir
	for _, e := range entries {
		t := TempDir{Path: filepath.Join(s.tmpDir(), e.Name())}
		if id, _, ok := strings.Cut(e.Name(), "."); ok && CheckRunID(id) == nil {
			t.RunID = id
			locked, _, err := s.Locked(id)
			if err != nil {
				return nil, err
			}
			t.Locked = locked
		}
		if t.Size, err = Size(t.Path); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// RemoveTemp deletes a temporary directory that no live process uses and
// returns the bytes freed. It takes the run's lock without waiting and
// fails with an error wrapping ErrLocked while another process holds it.
func (s *Store) RemoveTemp(t TempDir) (int64, error) {
	if filepath.Dir(t.Path) != s.tmpDir() {
		return 0, fmt.Errorf("remove temporary directory %s: it is not in %s", t.Path, s.tmpDir())
	}
	if t.RunID != "" {
		if err := os.MkdirAll(s.locksDir(), dirMode); err != nil {
			return 0, fmt.Errorf("remove temporary directory %s: %w", t.Path, err)
		}
		lock, err := tryLock(s.lockPath(t.RunID))
		if err != nil {
			return 0, fmt.Errorf("remove temporary directory %s: %w", t.Path, err)
		}
		if lock == nil {
			return 0, fmt.Errorf("remove temporary directory %s: %w", t.Path, ErrLocked)
		}
		defer lock.release()
	}
	size, err := Size(t.Path)
	if err != nil {
		return 0, err
	}
	if err := os.RemoveAll(t.Path); err != nil {
		return 0, fmt.Errorf("remove temporary directory %s: %w", t.Path, err)
	}
	return size, nil
}

// CompactIndex rewrites index.jsonl without the lines of runs whose
// directory is gone, under the index lock, and returns how many lines it
// dropped. Readers notice the replaced file and read it anew.
func (s *Store) CompactIndex() (int, error) {
	if _, err := os.Stat(s.indexPath()); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	lock, err := acquireLock(context.Background(), filepath.Join(s.locksDir(), "index.lock"),
		indexLockTimeout, nil)
	if err != nil {
		return 0, fmt.Errorf("compact index: %w", err)
	}
	defer lock.release()

	data, err := os.ReadFile(s.indexPath())
	if err != nil {
		return 0, fmt.Errorf("compact index: %w", err)
	}
	var kept bytes.Buffer
	dropped := 0
	exists := map[string]bool{}
	for _, line := range bytes.Split(data, []byte("\n")) {
		e, ok := parseIndexLine(line)
		if !ok {
			if len(bytes.TrimSpace(line)) > 0 {
				dropped++
			}
			continue
		}
		present, seen := exists[e.RunID]
		if !seen {
			_, err := os.Stat(filepath.Join(s.root, e.RunID))
			present = err == nil
			exists[e.RunID] = present
		}
		if !present {
			dropped++
			continue
		}
		kept.Write(line)
		kept.WriteByte('\n')
	}
	if dropped == 0 {
		return 0, nil
	}
	if err := writeFileAtomic(s.indexPath(), kept.Bytes()); err != nil {
		return 0, fmt.Errorf("compact index: %w", err)
	}
	return dropped, nil
}

// Addresses returns, for every run id in the index, the addresses recorded
// for it, sorted.
func (s *Store) Addresses() (map[string][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshIndex(); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for address, entries := range s.index.byAddress {
		for _, e := range entries {
			out[e.RunID] = append(out[e.RunID], address)
		}
	}
	for id, list := range out {
		sort.Strings(list)
		out[id] = compactStrings(list)
	}
	return out, nil
}

func compactStrings(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Quarantine moves a run that failed verification to failed/<run_id>,
// with error.json recording the problem under stage "check", so that the
// next apply recomputes the run instead of serving it as cached. It takes
// the run's lock without waiting and fails with an error wrapping
// ErrLocked while another process holds it.
func (s *Store) Quarantine(runID string, problem error) error {
	if err := CheckRunID(runID); err != nil {
		return fmt.Errorf("quarantine run: %w", err)
	}
	if err := os.MkdirAll(s.locksDir(), dirMode); err != nil {
		return fmt.Errorf("quarantine run %s: %w", runID, err)
	}
	lock, err := tryLock(s.lockPath(runID))
	if err != nil {
		return fmt.Errorf("quarantine run %s: %w", runID, err)
	}
	if lock == nil {
		return fmt.Errorf("quarantine run %s: %w", runID, ErrLocked)
	}
	defer lock.release()
	s.forget(runID)

	f := Failure{RunID: runID, Stage: "check", Error: problem.Error(), Time: time.Now().UTC()}
	if m, _, _ := s.loadManifest(runID); m != nil {
		f.Key, f.Type, f.Kind = m.Key, m.Type, m.Kind
	}
	if p, err := s.ReadProvenance(runID); err == nil {
		f.Address = p.Address
	}
	dir := s.RunDir(runID)
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("quarantine run %s: %w", runID, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, errorFile), append(data, '\n')); err != nil {
		return fmt.Errorf("quarantine run %s: %w", runID, err)
	}
	if err := s.installFailure(runID, dir); err != nil {
		return fmt.Errorf("quarantine run %s: %w", runID, err)
	}
	return syncDir(s.root)
}
