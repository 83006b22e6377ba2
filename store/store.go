package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/llcflow/llcflow/graph"
)

// Statuses of Status, named here for callers that do not import graph.
const (
	StatusMissing = graph.Missing
	StatusValid   = graph.Valid
	StatusCorrupt = graph.Corrupt
	StatusFailed  = graph.Failed
)

// Store is a run store rooted at a directory. Its methods are safe for
// concurrent use, and several processes may use one store at once.
type Store struct {
	root string

	mu    sync.Mutex
	index indexCache
	// valid maps the run ids that Status found valid to their keys, so that
	// a second Status call in one apply (the results table after the plan)
	// does not validate again. Writes through this Store forget the run.
	valid map[string]string
	// validHint is the initial size of valid: the number of runs that the
	// last snapshot listed.
	validHint int
}

var _ graph.Lookup = (*Store)(nil)

// Open returns the store rooted at root, made absolute. It creates nothing:
// the directories appear with the first write.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("open store: the root directory is empty; pass a directory such as ./runs")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	return &Store{root: abs}, nil
}

// Root returns the absolute root directory.
func (s *Store) Root() string { return s.root }

// RunDir returns the directory of a run. It panics if runID is not a valid
// run id, so check run ids from users or files with CheckRunID first.
func (s *Store) RunDir(runID string) string {
	mustRunID(runID)
	return filepath.Join(s.root, runID)
}

// FailureDir returns the directory of the last failed attempt of a run.
// It panics if runID is not a valid run id.
func (s *Store) FailureDir(runID string) string {
	mustRunID(runID)
	return filepath.Join(s.root, "failed", runID)
}

// FailureLog returns the path of the log of the last failed attempt of a
// run. It panics if runID is not a valid run id.
func (s *Store) FailureLog(runID string) string {
	return filepath.Join(s.FailureDir(runID), logFile)
}

// CheckpointDir returns the directory where a stopped run keeps its
// checkpoint until a later attempt resumes from it and commits. The store
// does not create it. It panics if runID is not a valid run id.
func (s *Store) CheckpointDir(runID string) string {
	mustRunID(runID)
	return filepath.Join(s.root, ".checkpoints", runID)
}

func mustRunID(runID string) {
	if err := CheckRunID(runID); err != nil {
		panic("store: " + err.Error())
	}
}

func (s *Store) tmpDir() string   { return filepath.Join(s.root, ".tmp") }
func (s *Store) locksDir() string { return filepath.Join(s.root, ".locks") }

func (s *Store) lockPath(runID string) string {
	return filepath.Join(s.locksDir(), runID+".lock")
}

// Status reports whether a valid run with exactly this key is in the store.
// A run directory that fails validation or holds another key is Corrupt,
// with a detail that explains why. Without a run directory, the status is
// Failed when the last attempt with this key failed, else Missing, with a
// detail that gives the time when the last attempt was cancelled.
//
// Status decodes only the format, key and files of the manifest (see
// manifestHead), and checks sizes but not hashes, which Verify does.
//
// A run found valid stays valid for later calls on the same Store until
// this Store writes or removes it. Changes that other processes make are
// seen by a Store opened after them.
func (s *Store) Status(runID, key string) (graph.RunStatus, string, error) {
	return s.statusAt(atPath(s.root), runID, key)
}

// statusAt is Status with the system calls made relative to d.
func (s *Store) statusAt(d rootDir, runID, key string) (graph.RunStatus, string, error) {
	if err := CheckRunID(runID); err != nil {
		return graph.Missing, "", fmt.Errorf("check run: %w", err)
	}
	if err := checkKey(key, runID); err != nil {
		return graph.Missing, "", fmt.Errorf("check run %s: %w", runID, err)
	}

	if s.knownValid(runID, key) {
		return graph.Valid, "", nil
	}
	status, detail, err := s.runStatusAt(d, runID, key)
	if status == graph.Valid && err == nil {
		s.rememberValid(runID, key)
	}
	if err != nil || status != graph.Missing {
		return status, detail, err
	}
	return s.lastAttempt(runID, key)
}

// runStatus validates the run directory of runID against key: Missing when
// there is no directory, Corrupt or Valid otherwise.
func (s *Store) runStatus(runID, key string) (graph.RunStatus, string, error) {
	return s.runStatusAt(atPath(s.root), runID, key)
}

// runStatusAt is runStatus with the system calls made relative to d. It
// reads the manifest first and looks at the directory itself only when
// that fails, because a stat of the directory costs as much as reading the
// manifest.
func (s *Store) runStatusAt(d rootDir, runID, key string) (graph.RunStatus, string, error) {
	m, detail, err := loadManifestHead(d, runID)
	if err != nil && !errors.Is(err, syscall.ENOTDIR) {
		return graph.Missing, "", err
	}
	dir := func() string { return filepath.Join(s.root, runID) }
	if m == nil {
		info, statErr := os.Stat(dir())
		switch {
		case errors.Is(statErr, fs.ErrNotExist):
			return graph.Missing, "", nil
		case statErr != nil:
			// The caller names the run; the error names the path.
			return graph.Missing, "", statErr
		case !info.IsDir():
			return graph.Corrupt, fmt.Sprintf("%s is not a directory", dir()), nil
		}
		return graph.Corrupt, detail, nil
	}
	if m.Key != key {
		return graph.Corrupt, keyMismatch(dir(), m.Key, key), nil
	}
	if err := d.checkSizes(runID, m.Files); err != nil {
		return graph.Corrupt, fmt.Sprintf("run directory %s: %v", dir(), err), nil
	}
	return graph.Valid, "", nil
}

func keyMismatch(dir, stored, want string) string {
	return fmt.Sprintf("run directory %s holds key %s, not the node's key %s: "+
		"two keys share a run id or the store was edited; move the directory away to recompute it",
		dir, stored, want)
}

// loadManifest reads the manifest of runID. A manifest that is missing or
// does not parse gives a nil manifest and a detail that explains why. Only
// errors reading an existing file are returned as errors.
func (s *Store) loadManifest(runID string) (*Manifest, string, error) {
	path := filepath.Join(s.root, runID, manifestFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("%s is missing", path), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read manifest %s: %w", runID, err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", path, err), nil
	}
	if m.RunID != runID {
		return nil, fmt.Sprintf("%s records run id %s", path, m.RunID), nil
	}
	return m, "", nil
}

// loadManifestHead is loadManifest for the head of the manifest only, read
// relative to d.
func loadManifestHead(d rootDir, runID string) (*manifestHead, string, error) {
	path := d.path(runID, manifestFile)
	bufp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bufp)
	data, err := d.readFile(runID, manifestFile, (*bufp)[:0])
	*bufp = data[:0]
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("%s is missing", path), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read manifest %s: %w", runID, err)
	}
	h, err := parseManifestHead(data)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", path, err), nil
	}
	if h.RunID != runID {
		return nil, fmt.Sprintf("%s records run id %s", path, h.RunID), nil
	}
	return h, "", nil
}

// readBuffers are the buffers that loadManifestHead reads manifests into.
var readBuffers = sync.Pool{New: func() any {
	buf := make([]byte, 0, 16<<10)
	return &buf
}}

// ReadManifest reads and checks the manifest of a run.
func (s *Store) ReadManifest(runID string) (*Manifest, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	m, detail, err := s.loadManifest(runID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("read manifest %s: %s", runID, detail)
	}
	return m, nil
}

// ReadProvenance reads the provenance of a run.
func (s *Store) ReadProvenance(runID string) (*Provenance, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, fmt.Errorf("read provenance: %w", err)
	}
	var p Provenance
	if err := readJSON(filepath.Join(s.root, runID, provenanceFile), &p); err != nil {
		return nil, fmt.Errorf("read provenance %s: %w", runID, err)
	}
	return &p, nil
}

// ReadResult decodes the result.json of a run into v.
func (s *Store) ReadResult(runID string, v any) error {
	if err := CheckRunID(runID); err != nil {
		return fmt.Errorf("read result: %w", err)
	}
	if err := readJSON(filepath.Join(s.root, runID, resultFile), v); err != nil {
		return fmt.Errorf("read result %s: %w", runID, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// Verify checks a run fully: the manifest parses, its key is the hash of
// its type, kind, version, params and inputs, every listed file has its
// recorded size and SHA-256, and the directory holds no unlisted files.
// It returns every problem found, joined.
func (s *Store) Verify(runID string) error {
	m, err := s.ReadManifest(runID)
	if err != nil {
		return fmt.Errorf("verify run %s: %w", runID, err)
	}
	dir := s.RunDir(runID)

	var problems []error
	if key, err := m.computedKey(); err != nil {
		problems = append(problems, err)
	} else if key != m.Key {
		problems = append(problems, fmt.Errorf("the manifest's contents hash to key %s, "+
			"but it records key %s", key, m.Key))
	}
	for _, f := range m.Files {
		if err := checkFiles(dir, []ManifestFile{f}, true); err != nil {
			problems = append(problems, err)
		}
	}
	problems = append(problems, unlistedFiles(dir, m.Files)...)

	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("verify run %s in %s: %w", runID, dir, err)
	}
	return nil
}

// unlistedFiles returns an error for every file under dir that is neither
// listed nor reserved.
func unlistedFiles(dir string, files []ManifestFile) []error {
	present, err := listNames(dir)
	if err != nil {
		return []error{err}
	}
	listed := make(map[string]bool, len(files))
	for _, f := range files {
		listed[f.Name] = true
	}
	var problems []error
	for _, name := range present {
		if !listed[name] && !reservedFiles[name] {
			problems = append(problems, fmt.Errorf("%s is not listed in the manifest", name))
		}
	}
	return problems
}

// listNames returns the '/'-separated names of every file under dir.
func listNames(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	return names, err
}

// RunInfo describes one run directory of the store.
type RunInfo struct {
	RunID string
	// Manifest is nil when the manifest cannot be read, and Err is the reason.
	Manifest *Manifest
	// Provenance is nil when provenance.json cannot be read.
	Provenance *Provenance
	Err        error
}

// List returns every run directory of the store, sorted by run id, with
// its manifest and provenance. Directories whose names are not run ids are
// skipped. A store that does not exist yet has no runs.
func (s *Store) List() ([]RunInfo, error) {
	entries, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", s.root, err)
	}
	var runs []RunInfo
	for _, e := range entries {
		if !e.IsDir() || CheckRunID(e.Name()) != nil {
			continue
		}
		info := RunInfo{RunID: e.Name()}
		info.Manifest, info.Err = s.ReadManifest(e.Name())
		if p, err := s.ReadProvenance(e.Name()); err == nil {
			info.Provenance = p
		}
		runs = append(runs, info)
	}
	return runs, nil
}

func (s *Store) knownValid(runID, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.valid[runID] == key
}

func (s *Store) rememberValid(runID, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.valid == nil {
		s.valid = make(map[string]string, s.validHint)
	}
	s.valid[runID] = key
}

// forget drops a run from the runs that Status found valid, before this
// Store writes or removes it.
func (s *Store) forget(runID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.valid, runID)
}
