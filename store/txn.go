package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// ErrCached is returned, wrapped, by Begin when a valid run with the
// requested key exists, typically because another process committed it
// while this one waited for the lock.
var ErrCached = errors.New("a valid run with this key is already in the store")

// ErrFinished is returned by Commit and Fail on a transaction that was
// already committed, failed or aborted.
var ErrFinished = errors.New("the transaction is already finished")

// Begin describes the run that a transaction writes.
type Begin struct {
	Key     string
	RunID   string
	Address string
	Type    string
	Kind    string
	Version string
	Params  map[string]any
	Inputs  []ManifestInput
	// LockTimeout bounds the wait for another process that holds the lock
	// of RunID. Zero means DefaultLockTimeout, and a negative value fails
	// at once if the lock is taken.
	LockTimeout time.Duration
	// Force makes Begin proceed even when a valid run with Key exists, for
	// --no-skip and --rerun. Commit then replaces that run.
	Force bool
	// Notify, when not nil, receives a sentence when Begin starts waiting
	// for another process's lock and when it takes over a lock whose
	// holder exited without releasing it.
	Notify func(message string)
}

// Txn is one attempt to write a run. It holds the run's lock from Begin
// until the first call of Commit, Fail or Abort, from any goroutine,
// finishes it. Later calls of Commit and Fail return ErrFinished and later
// calls of Abort return nil, so a deferred Abort is safe. Log is safe for
// concurrent use.
type Txn struct {
	s    *Store
	b    Begin
	lock *fileLock
	dir  string
	// ctx is the context of Begin. Abort records the attempt as cancelled
	// when it is done.
	ctx   context.Context
	began time.Time

	mu   sync.Mutex // guards done and writes to log
	done bool
	log  *os.File
}

// Begin starts a transaction for b.RunID. It takes the run's lock, waiting
// up to b.LockTimeout and returning early when ctx is done, and removes
// the temporary directories that killed processes left for this run id.
//
// Begin returns an error wrapping ErrCached, after releasing the lock, when
// a valid run with b.Key exists and b.Force is false. A run directory whose
// manifest holds a different key is an error, and nothing overwrites it.
// A corrupt run directory with this key, or one whose manifest cannot be
// read, is replaced by Commit.
func (s *Store) Begin(ctx context.Context, b Begin) (*Txn, error) {
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("begin run %s: %w", b.RunID, err)
	}
	for _, dir := range []string{s.root, s.locksDir(), s.tmpDir()} {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return nil, fmt.Errorf("begin run %s: %w", b.RunID, err)
		}
	}

	timeout := b.LockTimeout
	if timeout == 0 {
		timeout = DefaultLockTimeout
	}
	lock, err := acquireLock(ctx, s.lockPath(b.RunID), timeout, b.notifyWait(timeout))
	if err != nil {
		return nil, fmt.Errorf("begin run %s (%s): %w", b.RunID, b.Address, err)
	}
	// The kind receives the same params map, so keep a copy that its
	// changes cannot reach.
	b.Params = cloneParams(b.Params)
	t, err := s.beginLocked(ctx, b, lock)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("begin run %s (%s): %w", b.RunID, b.Address, err)
	}
	return t, nil
}

func (b *Begin) check() error {
	if err := CheckRunID(b.RunID); err != nil {
		return err
	}
	if err := checkKey(b.Key, b.RunID); err != nil {
		return err
	}
	if b.Address == "" || b.Type == "" || b.Kind == "" || b.Version == "" {
		return errors.New("address, type, kind and version must not be empty")
	}
	if err := checkInputs(b.Inputs); err != nil {
		return err
	}
	m := Manifest{Type: b.Type, Kind: b.Kind, Version: b.Version, Params: b.Params, Inputs: b.Inputs}
	key, err := m.computedKey()
	if err != nil {
		return err
	}
	if key != b.Key {
		return fmt.Errorf("key %s is not the hash of the node's type, kind, version, params and "+
			"inputs, which is %s; the spec was changed after planning, so plan again", b.Key, key)
	}
	return nil
}

// cloneParams returns a deep copy of JSON-like params.
func cloneParams(params map[string]any) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneParams(v)
	case []any:
		out := make([]any, len(v))
		for i, elem := range v {
			out[i] = cloneValue(elem)
		}
		return out
	default:
		return v
	}
}

// notifyWait returns the callback that tells b.Notify about a lock wait.
func (b *Begin) notifyWait(timeout time.Duration) func(*LockHolder) {
	if b.Notify == nil {
		return nil
	}
	return func(h *LockHolder) {
		holder := "another process"
		if h != nil {
			holder = h.String()
		}
		b.Notify(fmt.Sprintf("run %s (%s) is locked by %s, which is computing it; "+
			"waiting up to %s (--lock-timeout)", b.RunID, b.Address, holder, timeout))
	}
}

func (s *Store) beginLocked(ctx context.Context, b Begin, lock *fileLock) (*Txn, error) {
	s.forget(b.RunID)
	removed, err := s.removeTemp(b.RunID)
	if err != nil {
		return nil, err
	}
	if lock.previous != nil && b.Notify != nil {
		msg := fmt.Sprintf("run %s (%s): took over the lock left by %s, which exited "+
			"without releasing it", b.RunID, b.Address, lock.previous)
		if removed > 0 {
			msg += fmt.Sprintf("; removed the %d temporary directories it left", removed)
		}
		b.Notify(msg)
	}

	status, detail, err := s.runStatus(b.RunID, b.Key)
	if err != nil {
		return nil, err
	}
	if status == graph.Valid && !b.Force {
		return nil, ErrCached
	}
	if status == graph.Corrupt {
		if m, _, _ := s.loadManifest(b.RunID); m != nil && m.Key != b.Key {
			return nil, errors.New(detail)
		}
	}

	dir, err := mkdirTemp(s.tmpDir(), b.RunID+".")
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(filepath.Join(dir, logFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Txn{s: s, b: b, lock: lock, dir: dir, ctx: ctx, began: time.Now(), log: log}, nil
}

// mkdirTemp creates a new directory in parent whose name is prefix and a
// random number, with dirMode less the umask. os.MkdirTemp makes 0700
// directories, and a run directory keeps its temporary directory's mode
// when it is renamed into place, so other users could not read a shared
// store.
func mkdirTemp(parent, prefix string) (string, error) {
	for range 1000 {
		dir := filepath.Join(parent, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := os.Mkdir(dir, dirMode)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("create a temporary directory %s* in %s: every name tried exists", prefix, parent)
}

// removeTemp removes every temporary directory of runID and returns how
// many there were. The caller holds the run's lock, so no live transaction
// owns any of them.
func (s *Store) removeTemp(runID string) (int, error) {
	stale, err := filepath.Glob(filepath.Join(s.tmpDir(), runID+".*"))
	if err != nil {
		return 0, err
	}
	for _, dir := range stale {
		if err := os.RemoveAll(dir); err != nil {
			return 0, fmt.Errorf("remove stale temporary directory: %w", err)
		}
	}
	return len(stale), nil
}

// Dir returns the temporary directory that the kind writes its outputs to.
func (t *Txn) Dir() string { return t.dir }

// Log returns a writer that appends to log.txt in the temporary directory.
// Writes after the transaction finished fail with ErrFinished.
func (t *Txn) Log() io.Writer { return txnLog{t} }

type txnLog struct{ t *Txn }

func (l txnLog) Write(p []byte) (int, error) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	if l.t.log == nil {
		return 0, ErrFinished
	}
	return l.t.log.Write(p)
}

// finish marks the transaction finished and closes its log. It reports
// whether the transaction already was finished, and any error closing the
// log.
func (t *Txn) finish() (alreadyDone bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return true, nil
	}
	t.done = true
	err = t.log.Sync()
	if cerr := t.log.Close(); err == nil {
		err = cerr
	}
	t.log = nil
	if err != nil {
		return false, fmt.Errorf("close log: %w", err)
	}
	return false, nil
}

// Commit installs the run. It lists every file of the temporary directory
// except manifest.json, provenance.json and log.txt with its size and
// SHA-256, requires a result.json that is valid JSON, writes the manifest
// and provenance (temporary file, fsync, rename), renames the directory
// to <root>/<run_id> after moving a replaced run aside, fsyncs the root,
// re-reads and validates the installed run, appends to the index, removes
// failed/<run_id>, cancelled/<run_id>.json and the checkpoint directory, and
// releases the lock.
//
// Empty provenance fields are filled in: the address, host, pid and Go
// version of this process, the start time of Begin, the time now as the
// finish time, and the wall time between the two.
//
// Commit finishes the transaction and releases the lock, even when it
// fails. When it fails before the run is in place, it records the attempt
// as failed with stage "commit". When it fails after that, the run
// directory is in place and Status reports whether it is valid.
func (t *Txn) Commit(p Provenance) error {
	alreadyDone, err := t.finish()
	if alreadyDone {
		return fmt.Errorf("commit run %s: %w", t.b.RunID, ErrFinished)
	}
	p = t.fillProvenance(p)
	var manifest []byte
	if err == nil {
		manifest, err = t.prepare(p)
	}
	if err != nil {
		err = fmt.Errorf("commit run %s (%s): %w", t.b.RunID, t.b.Address, err)
		if ferr := t.moveToFailed("commit", err, p); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return errors.Join(err, t.lock.release())
	}

	installed, err := t.install(manifest)
	if err != nil {
		err = fmt.Errorf("commit run %s (%s): %w", t.b.RunID, t.b.Address, err)
		if !installed {
			if ferr := t.moveToFailed("commit", err, p); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
	}
	return errors.Join(err, t.lock.release())
}

// prepare writes manifest.json and provenance.json into the temporary
// directory and fsyncs it. It returns the manifest bytes.
func (t *Txn) prepare(p Provenance) ([]byte, error) {
	files, err := listOutputs(t.dir)
	if err != nil {
		return nil, err
	}
	if err := checkResult(t.dir, files); err != nil {
		return nil, err
	}

	params := t.b.Params
	if params == nil {
		params = map[string]any{}
	}
	data, err := encodeManifest(&Manifest{
		FormatVersion: ManifestFormatVersion,
		Key:           t.b.Key,
		RunID:         t.b.RunID,
		Type:          t.b.Type,
		Kind:          t.b.Kind,
		Version:       t.b.Version,
		Params:        params,
		Inputs:        sortInputs(t.b.Inputs),
		Files:         files,
	})
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(t.dir, manifestFile), data); err != nil {
		return nil, err
	}
	if err := writeProvenance(t.dir, p); err != nil {
		return nil, err
	}
	if err := syncDir(t.dir); err != nil {
		return nil, err
	}
	return data, nil
}

func checkResult(dir string, files []ManifestFile) error {
	for _, f := range files {
		if f.Name != resultFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, resultFile))
		if err != nil {
			return err
		}
		if !json.Valid(data) {
			return fmt.Errorf("%s is not valid JSON; the kind must write its summary as JSON", resultFile)
		}
		return nil
	}
	return fmt.Errorf("%s is missing; the kind must write its summary before the commit", resultFile)
}

func writeProvenance(dir string, p Provenance) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode provenance: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, provenanceFile), append(data, '\n'))
}

// install renames the prepared directory into place, checks the result and
// indexes it. It reports whether the rename happened, after which the
// temporary directory is gone. The caller holds the lock.
func (t *Txn) install(manifest []byte) (installed bool, err error) {
	s, runID := t.s, t.b.RunID
	final := filepath.Join(s.root, runID)
	aside, err := s.moveAside(runID, final, t.b.Key)
	if err != nil {
		return false, err
	}
	if err := os.Rename(t.dir, final); err != nil {
		if aside != "" {
			os.Rename(aside, final) // put the replaced run back
		}
		return false, fmt.Errorf("rename %s to %s: %w", t.dir, final, err)
	}
	if err := syncDir(s.root); err != nil {
		return true, err
	}
	if err := syncDir(s.tmpDir()); err != nil {
		return true, err
	}
	if aside != "" {
		if err := os.RemoveAll(aside); err != nil {
			return true, fmt.Errorf("remove replaced run: %w", err)
		}
	}

	if err := s.checkInstalled(runID, t.b.Key, manifest); err != nil {
		return true, err
	}
	entry := indexEntry{Address: t.b.Address, RunID: runID, Key: t.b.Key, Time: time.Now().UTC()}
	if err := s.appendIndex(entry); err != nil {
		return true, fmt.Errorf("the run is in place, but %w", err)
	}
	if err := removeIfPresent(s.FailureDir(runID)); err != nil {
		return true, err
	}
	if err := s.removeCancellation(runID); err != nil {
		return true, err
	}
	return true, removeIfPresent(s.CheckpointDir(runID))
}

// moveAside renames an existing run directory at final into the temporary
// area and returns its new path, or "" when there is none. It rejects a
// directory whose manifest holds a different key.
func (s *Store) moveAside(runID, final, key string) (string, error) {
	info, err := os.Stat(final)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if info.IsDir() {
		m, _, err := s.loadManifest(runID)
		if err != nil {
			return "", err
		}
		if m != nil && m.Key != key {
			return "", errors.New(keyMismatch(final, m.Key, key))
		}
	}
	aside := filepath.Join(s.tmpDir(), runID+".replaced-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(final, aside); err != nil {
		return "", fmt.Errorf("move replaced run %s aside: %w", final, err)
	}
	return aside, nil
}

// checkInstalled re-reads the installed run and compares it with what was
// written.
func (s *Store) checkInstalled(runID, key string, manifest []byte) error {
	status, detail, err := s.runStatus(runID, key)
	if err != nil {
		return err
	}
	if status != graph.Valid {
		return fmt.Errorf("the installed run does not validate: %s", detail)
	}
	data, err := os.ReadFile(filepath.Join(s.root, runID, manifestFile))
	if err != nil {
		return err
	}
	if string(data) != string(manifest) {
		return errors.New("the installed manifest differs from the one written")
	}
	return nil
}

func removeIfPresent(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (t *Txn) fillProvenance(p Provenance) Provenance {
	if p.Address == "" {
		p.Address = t.b.Address
	}
	if p.Host == "" {
		p.Host, _ = os.Hostname()
	}
	if p.PID == 0 {
		p.PID = os.Getpid()
	}
	if p.GoVersion == "" {
		p.GoVersion = runtime.Version()
	}
	if p.StartedAt.IsZero() {
		p.StartedAt = t.began
	}
	if p.FinishedAt.IsZero() {
		p.FinishedAt = time.Now()
	}
	if p.WallSeconds == 0 {
		p.WallSeconds = p.FinishedAt.Sub(p.StartedAt).Seconds()
	}
	p.StartedAt, p.FinishedAt = p.StartedAt.UTC(), p.FinishedAt.UTC()
	return p
}

// Abort removes the temporary directory and releases the lock. When the
// context of Begin is done, such as after Ctrl-C, it first records the
// attempt in cancelled/<run_id>.json, which Status reports until a later
// attempt commits or fails. It returns nil on a transaction that is
// already finished, so it can be deferred.
func (t *Txn) Abort() error {
	alreadyDone, logErr := t.finish()
	if alreadyDone {
		return nil
	}
	var recordErr error
	if t.ctx.Err() != nil {
		recordErr = t.recordCancellation()
	}
	err := errors.Join(logErr, recordErr, os.RemoveAll(t.dir), t.lock.release())
	if err != nil {
		return fmt.Errorf("abort run %s: %w", t.b.RunID, err)
	}
	return nil
}
