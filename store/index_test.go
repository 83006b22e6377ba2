package store

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func indexLines(t *testing.T, s *Store) []string {
	t.Helper()
	data, err := os.ReadFile(s.indexPath())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestLatestAfterCommit(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	commitNode(t, s, b, 0.5)

	prev, ok, err := s.Latest("sampler.sgld[seed=0]")
	if err != nil || !ok {
		t.Fatalf("Latest = %v, %v", ok, err)
	}
	if prev.RunID != b.RunID || prev.Key != b.Key || prev.Version != "sgld/1" {
		t.Errorf("Latest = %+v", prev)
	}
	if !reflect.DeepEqual(prev.Params, b.Params) {
		t.Errorf("Latest params = %v, want %v", prev.Params, b.Params)
	}
	if want := map[string]string{"erm": b.Inputs[0].Key}; !reflect.DeepEqual(prev.InputKeys, want) {
		t.Errorf("Latest input keys = %v, want %v", prev.InputKeys, want)
	}
	if _, ok, err := s.Latest("sampler.sgld[seed=1]"); ok || err != nil {
		t.Errorf("Latest of another address = %v, %v", ok, err)
	}
}

func TestLatestIsMostRecent(t *testing.T) {
	s := newStore(t)
	first := nodeBegin(t, "sampler.sgld", 1e-4)
	second := nodeBegin(t, "sampler.sgld", 2e-4)
	commitNode(t, s, first, 0.5)
	commitNode(t, s, second, 0.5)

	prev, ok, err := s.Latest("sampler.sgld")
	if err != nil || !ok || prev.Key != second.Key {
		t.Fatalf("Latest = %+v, %v, %v; want the second run", prev, ok, err)
	}

	// With the second run removed, the first is the latest one left.
	if err := os.RemoveAll(s.RunDir(second.RunID)); err != nil {
		t.Fatal(err)
	}
	prev, ok, err = s.Latest("sampler.sgld")
	if err != nil || !ok || prev.Key != first.Key {
		t.Errorf("Latest = %+v, %v, %v; want the first run", prev, ok, err)
	}
}

func TestLatestSeesOtherWriters(t *testing.T) {
	s := newStore(t)
	other, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Latest("sampler.sgld"); ok {
		t.Fatal("Latest found a run in an empty store")
	}
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, other, b, 0.5)
	prev, ok, err := s.Latest("sampler.sgld")
	if err != nil || !ok || prev.Key != b.Key {
		t.Errorf("Latest = %+v, %v, %v; want the run committed through another Store", prev, ok, err)
	}
}

func TestRecordIndexesCachedRun(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, b, 0.5)

	if err := s.Record("sampler.renamed", b.RunID, b.Key); err != nil {
		t.Fatal(err)
	}
	prev, ok, err := s.Latest("sampler.renamed")
	if err != nil || !ok || prev.Key != b.Key {
		t.Errorf("Latest after Record = %+v, %v, %v", prev, ok, err)
	}
	lines := len(indexLines(t, s))
	if err := s.Record("sampler.renamed", b.RunID, b.Key); err != nil {
		t.Fatal(err)
	}
	if got := len(indexLines(t, s)); got != lines {
		t.Errorf("repeated Record grew the index from %d to %d lines", lines, got)
	}
	if lines != 2 {
		t.Errorf("index has %d lines, want 2 (commit and record)", lines)
	}
}

func TestRecordRejectsUnknownRun(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	if err := s.Record("sampler.sgld", b.RunID, b.Key); err == nil {
		t.Error("Record indexed a run that is not in the store")
	}
	if err := s.Record("", b.RunID, b.Key); err == nil {
		t.Error("Record accepted an empty address")
	}
}

func TestIndexTornLine(t *testing.T) {
	s := newStore(t)
	first := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, first, 0.5)
	if _, _, err := s.Latest("sampler.sgld"); err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of an append leaves half a line.
	f, err := os.OpenFile(s.indexPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"address":"sampler.sgld","run_id":"00`)
	f.Close()
	if prev, ok, err := s.Latest("sampler.sgld"); err != nil || !ok || prev.Key != first.Key {
		t.Fatalf("Latest with a torn line = %+v, %v, %v", prev, ok, err)
	}

	second := nodeBegin(t, "sampler.sgld", 2e-4)
	commitNode(t, s, second, 0.5)
	prev, ok, err := s.Latest("sampler.sgld")
	if err != nil || !ok || prev.Key != second.Key {
		t.Errorf("Latest after the torn line = %+v, %v, %v; want the second run", prev, ok, err)
	}
	fresh, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if prev, ok, err := fresh.Latest("sampler.sgld"); err != nil || !ok || prev.Key != second.Key {
		t.Errorf("Latest from a fresh Store = %+v, %v, %v; want the second run", prev, ok, err)
	}
	data, _ := os.ReadFile(s.indexPath())
	if !bytes.Contains(data, []byte(`"run_id":"00`+"\n")) {
		t.Errorf("the torn line was not ended before the next append:\n%s", data)
	}
}

func TestIndexReplacedFile(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	commitNode(t, s, b, 0.5)
	if _, ok, _ := s.Latest("sampler.sgld"); !ok {
		t.Fatal("Latest found nothing")
	}
	// A rewrite of the index, as a garbage collection would do, must not
	// leave stale entries in the cache.
	if err := writeFileAtomic(s.indexPath(), []byte{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Latest("sampler.sgld"); ok || err != nil {
		t.Errorf("Latest after the index was emptied = %v, %v", ok, err)
	}
}

// TestParseIndexFastMatchesJSON checks the fast index decoder against
// encoding/json on lines as appendIndex writes them, and that it leaves
// lines with escapes to encoding/json.
func TestParseIndexFastMatchesJSON(t *testing.T) {
	key := strings.Repeat("ab", 32)
	for _, address := range []string{"sampler.sgld", `erm.fit[seed=1,tag=a/b]`,
		`dataset.d[tag="quote\"d"]`, "naïve.x", `back\slash.y`} {
		e := indexEntry{Address: address, RunID: key[:16], Key: key,
			Time: time.Date(2026, 12, 4, 15, 5, 22, 465773225, time.UTC)}
		line, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var want indexEntry
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := parseIndexLine(line)
		if !ok || got.Address != want.Address || got.RunID != want.RunID || got.Key != want.Key ||
			!got.Time.Equal(want.Time) {
			t.Errorf("parseIndexLine(%s) = %+v, %v; want %+v", line, got, ok, want)
		}
		fast, fastOK := parseIndexFast(line)
		if fastOK && fast.Address != want.Address {
			t.Errorf("parseIndexFast(%s) read address %q, want %q", line, fast.Address, want.Address)
		}
	}
	if _, ok := parseIndexFast([]byte(`{"address":"a","run_id":"0123456789abcdef"`)); ok {
		t.Error("parseIndexFast accepted a line cut short")
	}
}
