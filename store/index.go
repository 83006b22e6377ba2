package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/llcflow/llcflow/graph"
)

const indexFile = "index.jsonl"

// indexLockTimeout bounds the wait for another process's append to the
// index, which takes milliseconds.
const indexLockTimeout = time.Minute

// indexEntry is one line of index.jsonl.
type indexEntry struct {
	Address string    `json:"address"`
	RunID   string    `json:"run_id"`
	Key     string    `json:"key"`
	Time    time.Time `json:"time"`
}

// indexCache holds the parsed index. The index only grows by appends, so
// a refresh reads just the bytes after offset, unless the file was
// replaced or truncated.
type indexCache struct {
	file      os.FileInfo
	offset    int64
	byAddress map[string][]indexEntry
	// damaged counts the non-empty lines that did not parse.
	damaged int
}

func (s *Store) indexPath() string { return filepath.Join(s.root, indexFile) }

// refreshIndex brings the cache up to date with index.jsonl. It must be
// called with s.mu held.
func (s *Store) refreshIndex() error {
	f, err := os.Open(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		s.index = indexCache{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}

	c := &s.index
	if c.file == nil || !os.SameFile(c.file, info) || info.Size() < c.offset {
		*c = indexCache{byAddress: map[string][]indexEntry{}}
	}
	c.file = info
	if info.Size() == c.offset {
		return nil
	}

	data := make([]byte, info.Size()-c.offset)
	if _, err := f.ReadAt(data, c.offset); err != nil && err != io.EOF {
		return fmt.Errorf("read index: %w", err)
	}
	// A line without its newline is an append in progress or the end of
	// a crashed one: leave it for the next refresh.
	complete := bytes.LastIndexByte(data, '\n') + 1
	for _, line := range bytes.Split(data[:complete], []byte("\n")) {
		if e, ok := parseIndexLine(line); ok {
			c.byAddress[e.Address] = append(c.byAddress[e.Address], e)
		} else if len(bytes.TrimSpace(line)) > 0 {
			c.damaged++
		}
	}
	c.offset += int64(complete)
	return nil
}

// parseIndexLine decodes one index line. Empty and malformed lines, such
// as the rest of an append cut short by a crash, are skipped.
func parseIndexLine(line []byte) (indexEntry, bool) {
	e, ok := parseIndexFast(line)
	if !ok {
		e = indexEntry{}
		if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &e) != nil {
			return e, false
		}
	}
	if e.Address == "" || CheckRunID(e.RunID) != nil || checkKey(e.Key, e.RunID) != nil {
		return e, false
	}
	return e, true
}

// parseIndexFast decodes a line in the exact layout that appendIndex
// writes, {"address":A,"run_id":R,"key":K,"time":T} with an address free
// of escapes, without encoding/json, which took most of the time of
// reading an index of 100,000 lines. It returns false on any other line,
// which parseIndexLine then decodes with encoding/json.
func parseIndexFast(line []byte) (indexEntry, bool) {
	var e indexEntry
	rest, ok := bytes.CutPrefix(line, []byte(`{"address":"`))
	if !ok {
		return e, false
	}
	address, rest, ok := bytes.Cut(rest, []byte(`","run_id":"`))
	if !ok || bytes.IndexByte(address, '\\') >= 0 || bytes.IndexByte(address, '"') >= 0 {
		return e, false
	}
	runID, rest, ok := bytes.Cut(rest, []byte(`","key":"`))
	if !ok {
		return e, false
	}
	key, rest, ok := bytes.Cut(rest, []byte(`","time":"`))
	if !ok {
		return e, false
	}
	stamp, ok := bytes.CutSuffix(rest, []byte(`"}`))
	if !ok {
		return e, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(stamp))
	if err != nil {
		return e, false
	}
	return indexEntry{Address: string(address), RunID: string(runID), Key: string(key), Time: t}, true
}

// Latest returns the most recent run recorded in the index for an address
// whose manifest can still be read. Runs removed from the store since they
// were recorded are passed over.
func (s *Store) Latest(address string) (*graph.PrevRun, bool, error) {
	s.mu.Lock()
	err := s.refreshIndex()
	entries := s.index.byAddress[address]
	s.mu.Unlock()
	if err != nil {
		return nil, false, err
	}

	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		m, _, err := s.loadManifest(e.RunID)
		if err != nil {
			return nil, false, fmt.Errorf("latest run of %s: %w", address, err)
		}
		if m != nil && m.Key == e.Key {
			return m.prevRun(), true, nil
		}
	}
	return nil, false, nil
}

// Record indexes an existing run under an address, for a cached run that a
// node with a new address reuses. It does nothing when the latest entry of
// the address already names this run.
func (s *Store) Record(address, runID, key string) error {
	if err := s.checkRecord(address, runID, key); err != nil {
		return err
	}

	s.mu.Lock()
	err := s.refreshIndex()
	entries := s.index.byAddress[address]
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("record %s: %w", address, err)
	}
	if n := len(entries); n > 0 && entries[n-1].RunID == runID && entries[n-1].Key == key {
		return nil
	}
	return s.appendIndex(indexEntry{Address: address, RunID: runID, Key: key, Time: time.Now().UTC()})
}

// RunRef names a run under an address, for RecordAll.
type RunRef struct {
	Address, RunID, Key string
}

// RecordAll does what Record does for many runs with one append and one
// fsync, which keeps a cached apply of thousands of nodes fast. It checks
// each run as Record does and returns the first problem found, after
// appending the lines of the runs that passed.
func (s *Store) RecordAll(refs []RunRef) error {
	s.mu.Lock()
	err := s.refreshIndex()
	var pending []RunRef
	if err == nil {
		for _, r := range refs {
			entries := s.index.byAddress[r.Address]
			if n := len(entries); n > 0 && entries[n-1].RunID == r.RunID && entries[n-1].Key == r.Key {
				continue
			}
			pending = append(pending, r)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("record runs: %w", err)
	}

	var problems []error
	var lines []indexEntry
	now := time.Now().UTC()
	for _, r := range pending {
		if err := s.checkRecord(r.Address, r.RunID, r.Key); err != nil {
			problems = append(problems, err)
			continue
		}
		lines = append(lines, indexEntry{Address: r.Address, RunID: r.RunID, Key: r.Key, Time: now})
	}
	if len(lines) > 0 {
		if err := s.appendIndex(lines...); err != nil {
			return err
		}
	}
	return errors.Join(problems...)
}

// checkRecord checks the arguments of Record and that the run is readable
// with that key.
func (s *Store) checkRecord(address, runID, key string) error {
	if err := CheckRunID(runID); err != nil {
		return fmt.Errorf("record %s: %w", address, err)
	}
	if err := checkKey(key, runID); err != nil {
		return fmt.Errorf("record %s: %w", address, err)
	}
	if address == "" {
		return fmt.Errorf("record run %s: the address is empty", runID)
	}
	m, detail, err := s.loadManifest(runID)
	if err != nil {
		return fmt.Errorf("record %s: %w", address, err)
	}
	if m == nil {
		return fmt.Errorf("record %s: run %s is not readable: %s", address, runID, detail)
	}
	if m.Key != key {
		return fmt.Errorf("record %s: run %s has key %s, not the requested key %s",
			address, runID, m.Key, key)
	}
	return nil
}

// appendIndex appends lines to the index under the index lock, so that
// lines of concurrent processes never interleave.
func (s *Store) appendIndex(entries ...indexEntry) error {
	var line []byte
	for _, e := range entries {
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("append to index: %w", err)
		}
		line = append(append(line, data...), '\n')
	}
	if err := os.MkdirAll(s.locksDir(), dirMode); err != nil {
		return fmt.Errorf("append to index: %w", err)
	}
	lock, err := acquireLock(context.Background(), filepath.Join(s.locksDir(), "index.lock"), indexLockTimeout, nil)
	if err != nil {
		return fmt.Errorf("append to index: %w", err)
	}
	defer lock.release()

	f, err := os.OpenFile(s.indexPath(), os.O_RDWR|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("append to index: %w", err)
	}
	defer f.Close()
	// A crash in an earlier append can leave a line without its newline.
	// Ending it here keeps the new line intact.
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("append to index: %w", err)
	}
	if info.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, info.Size()-1); err != nil {
			return fmt.Errorf("append to index: %w", err)
		}
		if last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("append to index %s: %w", s.indexPath(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("append to index %s: %w", s.indexPath(), err)
	}
	return nil
}

// IndexDamage returns how many lines of index.jsonl did not parse when
// the store last read it, 0 when it has not read it. Such lines, left by
// a crash in the middle of an append or by an edit, are skipped, so the
// runs they recorded have no earlier run for plan's reasons. CompactIndex
// (llcflow gc) drops them.
func (s *Store) IndexDamage() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index.damaged
}
