package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/llcflow/llcflow/graph"
)

// Snapshot is a view of the store for one plan. It lists the run,
// failure and cancellation records once, so the planner makes no system
// call for a node that has none of them. Runs that the listing names are
// still validated on every Status call, with system calls relative to the
// root directory that the snapshot keeps open. The index is read at the
// first Latest call, so a plan whose nodes are all cached never reads it.
// A run committed by another process after the snapshot was taken is not
// seen; apply's Begin finds it and reports the node as cached.
type Snapshot struct {
	s *Store
	// root is the store root, open until the snapshot is garbage, and
	// rootFD its descriptor. Root is nil when the store does not exist yet.
	root      *os.File
	rootFD    int
	runs      map[string]bool
	failures  map[string]bool
	cancelled map[string]bool

	indexOnce sync.Once
	index     map[string][]indexEntry
	indexErr  error
}

var _ graph.Lookup = (*Snapshot)(nil)

// Snapshot lists the store. A store that does not exist yet is empty.
func (s *Store) Snapshot() (*Snapshot, error) {
	snap := &Snapshot{s: s}
	var err error
	if snap.root, snap.runs, err = openRoot(s.root); err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", s.root, err)
	}
	if snap.root != nil {
		snap.rootFD = int(snap.root.Fd())
	}
	s.mu.Lock()
	s.validHint = len(snap.runs)
	s.mu.Unlock()
	if snap.failures, err = listRunIDs(filepath.Join(s.root, "failed"), ""); err != nil {
		return nil, fmt.Errorf("list failures in %s: %w", s.root, err)
	}
	if snap.cancelled, err = listRunIDs(filepath.Join(s.root, cancelledDir), ".json"); err != nil {
		return nil, fmt.Errorf("list cancelled attempts in %s: %w", s.root, err)
	}
	return snap, nil
}

// openRoot opens the store root and lists the names in it that are run
// ids. A root that does not exist gives a nil file and no names.
func openRoot(root string) (*os.File, map[string]bool, error) {
	f, err := os.Open(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, map[string]bool{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, runIDSet(names, ""), nil
}

// listRunIDs returns the run ids that name an entry of dir when suffix is
// cut off.
func listRunIDs(dir, suffix string) (map[string]bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	return runIDSet(names, suffix), nil
}

func runIDSet(names []string, suffix string) map[string]bool {
	ids := make(map[string]bool, len(names))
	for _, name := range names {
		id, ok := strings.CutSuffix(name, suffix)
		if ok && CheckRunID(id) == nil {
			ids[id] = true
		}
	}
	return ids
}

// Status is Store.Status for the runs and records that the snapshot
// listed.
func (v *Snapshot) Status(runID, key string) (graph.RunStatus, string, error) {
	if !v.runs[runID] && !v.failures[runID] && !v.cancelled[runID] {
		if err := CheckRunID(runID); err != nil {
			return graph.Missing, "", fmt.Errorf("check run: %w", err)
		}
		if err := checkKey(key, runID); err != nil {
			return graph.Missing, "", fmt.Errorf("check run %s: %w", runID, err)
		}
		return graph.Missing, "", nil
	}
	if !v.runs[runID] || v.root == nil {
		return v.s.Status(runID, key)
	}
	status, detail, err := v.s.statusAt(rootDir{fd: v.rootFD, root: v.s.root}, runID, key)
	runtime.KeepAlive(v.root)
	return status, detail, err
}

// Latest is Store.Latest on the index as the snapshot read it, at its
// first call.
func (v *Snapshot) Latest(address string) (*graph.PrevRun, bool, error) {
	v.indexOnce.Do(v.readIndex)
	if v.indexErr != nil {
		return nil, false, v.indexErr
	}
	entries := v.index[address]
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !v.runs[e.RunID] {
			continue
		}
		m, _, err := v.s.loadManifest(e.RunID)
		if err != nil {
			return nil, false, fmt.Errorf("latest run of %s: %w", address, err)
		}
		if m != nil && m.Key == e.Key {
			return m.prevRun(), true, nil
		}
	}
	return nil, false, nil
}

// readIndex copies the store's index, brought up to date, into the
// snapshot.
func (v *Snapshot) readIndex() {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	v.indexErr = s.refreshIndex()
	// Later refreshes write to the cache's map, so the snapshot keeps its
	// own. The entry slices only grow, and the copy keeps their lengths.
	v.index = make(map[string][]indexEntry, len(s.index.byAddress))
	for address, entries := range s.index.byAddress {
		v.index[address] = entries[:len(entries):len(entries)]
	}
}
