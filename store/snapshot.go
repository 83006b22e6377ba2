package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/llcflow/llcflow/graph"
)

// Snapshot is a view of the store for one plan. It lists the run and
// failure directories and reads the index once, so the planner makes no
// system call for a node that has neither a run nor a failure record.
// Runs that the listing names are still validated on every Status call.
// A run committed by another process after the snapshot was taken is
// not seen; apply's Begin finds it and reports the node as cached.
type Snapshot struct {
	s        *Store
	runs     map[string]bool
	failures map[string]bool
	index    map[string][]indexEntry
}

var _ graph.Lookup = (*Snapshot)(nil)

// Snapshot lists the store. A store that does not exist yet is empty.
func (s *Store) Snapshot() (*Snapshot, error) {
	snap := &Snapshot{s: s}
	var err error
	if snap.runs, err = listRunIDs(s.root); err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", s.root, err)
	}
	if snap.failures, err = listRunIDs(filepath.Join(s.root, "failed")); err != nil {
		return nil, fmt.Errorf("list failures in %s: %w", s.root, err)
	}
	s.mu.Lock()
	err = s.refreshIndex()
	// Later refreshes write to the cache's map, so the snapshot keeps its
	// own. The entry slices only grow, and the copy keeps their lengths.
	snap.index = make(map[string][]indexEntry, len(s.index.byAddress))
	for address, entries := range s.index.byAddress {
		snap.index[address] = entries[:len(entries):len(entries)]
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// listRunIDs returns the names of the directories in dir that are run ids.
func listRunIDs(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(entries))
	for _, e := range entries {
		if CheckRunID(e.Name()) == nil {
			ids[e.Name()] = true
		}
	}
	return ids, nil
}

// Status is Store.Status for the runs and failures that the snapshot
// listed.
func (v *Snapshot) Status(runID, key string) (graph.RunStatus, string, error) {
	if !v.runs[runID] && !v.failures[runID] {
		if err := CheckRunID(runID); err != nil {
			return graph.Missing, "", fmt.Errorf("check run: %w", err)
		}
		if err := checkKey(key, runID); err != nil {
			return graph.Missing, "", fmt.Errorf("check run %s: %w", runID, err)
		}
		return graph.Missing, "", nil
	}
	return v.s.Status(runID, key)
}

// Latest is Store.Latest on the index as the snapshot read it.
func (v *Snapshot) Latest(address string) (*graph.PrevRun, bool, error) {
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
