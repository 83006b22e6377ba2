package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/graph"
)

func TestOpenCreatesNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runs")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	wantStatus(t, s, b.RunID, b.Key, graph.Missing)
	if _, ok, err := s.Latest("sampler.sgld"); ok || err != nil {
		t.Errorf("Latest = %v, %v on an empty store", ok, err)
	}
	if runs, err := s.List(); len(runs) != 0 || err != nil {
		t.Errorf("List = %v, %v on an empty store", runs, err)
	}
	if _, ok, err := s.Failure(b.RunID); ok || err != nil {
		t.Errorf("Failure = %v, %v on an empty store", ok, err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the store root exists after reads only: %v", err)
	}
}

func TestOpenMakesRootAbsolute(t *testing.T) {
	s, err := Open("runs")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(s.Root()) || filepath.Base(s.Root()) != "runs" {
		t.Errorf("Root = %s, want an absolute path ending in runs", s.Root())
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") returned no error")
	}
}

func TestCommitAndRead(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	txn := mustBegin(t, s, b)
	tmp := txn.Dir()
	if !strings.HasPrefix(tmp, filepath.Join(s.Root(), ".tmp", b.RunID+".")) {
		t.Errorf("Dir = %s, want a directory under .tmp named after the run id", tmp)
	}
	writeOutputs(t, tmp, 0.75)
	if _, err := txn.Log().Write([]byte("chain 0: done\n")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(Provenance{Executor: "local", LLCFlowVersion: "test"}); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s still exists: %v", tmp, err)
	}
	if err := s.Verify(b.RunID); err != nil {
		t.Errorf("Verify: %v", err)
	}

	m, err := s.ReadManifest(b.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Key != b.Key || m.RunID != b.RunID || m.Type != "sampler" || m.Kind != "sgld" || m.Version != "sgld/1" {
		t.Errorf("manifest header = %+v", m)
	}
	if m.Params["step_size"] != 1e-4 {
		t.Errorf("manifest params = %v", m.Params)
	}
	if len(m.Inputs) != 1 || m.Inputs[0] != b.Inputs[0] {
		t.Errorf("manifest inputs = %+v, want %+v", m.Inputs, b.Inputs)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	if want := []string{"a.txt", "chains/loss.csv", "result.json"}; !equalStrings(names, want) {
		t.Errorf("manifest files = %v, want %v", names, want)
	}
	sum := sha256.Sum256([]byte("a"))
	if m.Files[0].Size != 1 || m.Files[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("a.txt entry = %+v", m.Files[0])
	}

	p, err := s.ReadProvenance(b.RunID)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if p.Address != b.Address || p.Executor != "local" || p.Host != host || p.PID != os.Getpid() ||
		p.GoVersion != runtime.Version() || p.LLCFlowVersion != "test" {
		t.Errorf("provenance = %+v", p)
	}
	if p.StartedAt.IsZero() || p.FinishedAt.Before(p.StartedAt) || p.WallSeconds < 0 {
		t.Errorf("provenance times = %v, %v, %v", p.StartedAt, p.FinishedAt, p.WallSeconds)
	}

	var result struct {
		LLCMean float64 `json:"llc_mean"`
	}
	if err := s.ReadResult(b.RunID, &result); err != nil || result.LLCMean != 0.75 {
		t.Errorf("ReadResult = %+v, %v", result, err)
	}
	log, err := os.ReadFile(filepath.Join(s.RunDir(b.RunID), "log.txt"))
	if err != nil || string(log) != "chain 0: done\n" {
		t.Errorf("log.txt = %q, %v", log, err)
	}
	if _, err := txn.Log().Write([]byte("late")); !errors.Is(err, ErrFinished) {
		t.Errorf("Log write after Commit = %v, want ErrFinished", err)
	}
	if err := txn.Commit(Provenance{}); !errors.Is(err, ErrFinished) {
		t.Errorf("second Commit = %v, want ErrFinished", err)
	}
	if err := txn.Abort(); err != nil {
		t.Errorf("Abort after Commit = %v, want nil", err)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestManifestDeterministic(t *testing.T) {
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	var manifests [][]byte
	for _, address := range []string{"sampler.sgld", "sampler.renamed"} {
		s := newStore(t)
		b.Address = address
		dir := commitNode(t, s, b, 0.5)
		data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		manifests = append(manifests, data)
	}
	if !bytes.Equal(manifests[0], manifests[1]) {
		t.Errorf("manifests differ:\n%s\n%s", manifests[0], manifests[1])
	}
}

func TestStatusCorrupt(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"truncated file", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "result.json"), 3); err != nil {
				t.Fatal(err)
			}
		}, "result.json has 3 bytes"},
		{"missing file", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "chains", "loss.csv")); err != nil {
				t.Fatal(err)
			}
		}, "chains/loss.csv is missing"},
		{"missing manifest", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "manifest.json")); err != nil {
				t.Fatal(err)
			}
		}, "manifest.json is missing"},
		{"truncated manifest", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "manifest.json"), 40); err != nil {
				t.Fatal(err)
			}
		}, "invalid JSON"},
		{"unknown format version", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.FormatVersion = "2" })
		}, `unknown format_version "2"`},
		{"wrong key", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.Key = m.RunID + strings.Repeat("0", 48) })
		}, "not the node's key"},
		{"escaping file name", func(t *testing.T, dir string) {
			editManifest(t, dir, func(m *Manifest) { m.Files[0].Name = "../../outside" })
		}, "not a clean relative path"},
		{"file replaced by directory", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "a.txt")); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "a.txt"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "a.txt is not a regular file"},
		{"run directory replaced by file", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, dir, []byte("x"))
		}, "is not a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			b := nodeBegin(t, "sampler.sgld", 1e-4)
			dir := commitNode(t, s, b, 0.5)
			c.damage(t, dir)
			detail := wantStatus(t, s, b.RunID, b.Key, graph.Corrupt)
			if !strings.Contains(detail, c.want) {
				t.Errorf("detail %q does not contain %q", detail, c.want)
			}
			if err := s.Verify(b.RunID); err == nil {
				t.Error("Verify accepted a corrupt run")
			}
		})
	}
}

// editManifest rewrites the manifest of the run in dir.
func editManifest(t *testing.T, dir string, edit func(*Manifest)) {
	t.Helper()
	path := filepath.Join(dir, "manifest.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	data, err = json.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, path, data)
}

func TestVerifyRehashes(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	dir := commitNode(t, s, b, 0.5)
	mustWrite(t, filepath.Join(dir, "a.txt"), []byte("b"))

	wantStatus(t, s, b.RunID, b.Key, graph.Valid)
	err := s.Verify(b.RunID)
	if err == nil || !strings.Contains(err.Error(), "a.txt has SHA-256") {
		t.Errorf("Verify = %v, want a SHA-256 mismatch of a.txt", err)
	}
}

func TestVerifyUnlistedFile(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	dir := commitNode(t, s, b, 0.5)
	mustWrite(t, filepath.Join(dir, "chains", "extra.bin"), []byte("x"))
	err := s.Verify(b.RunID)
	if err == nil || !strings.Contains(err.Error(), "chains/extra.bin is not listed") {
		t.Errorf("Verify = %v, want an unlisted chains/extra.bin", err)
	}
}

func TestVerifyKeyOfContents(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	dir := commitNode(t, s, b, 0.5)
	editManifest(t, dir, func(m *Manifest) { m.Params["step_size"] = 2e-4 })
	err := s.Verify(b.RunID)
	if err == nil || !strings.Contains(err.Error(), "hash to key") {
		t.Errorf("Verify = %v, want a key mismatch of the contents", err)
	}
}

func TestRunIDValidation(t *testing.T) {
	s := newStore(t)
	good := nodeBegin(t, "sampler.sgld", 1e-4)
	bad := []string{
		"", "../../etc/passwd", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0",
		"/tmp/0123456789ab", "0123456789abcde/", "..", "0123456789abcdeg", "01234567\x0089abcdef",
	}
	for _, id := range bad {
		t.Run(id, func(t *testing.T) {
			if err := CheckRunID(id); err == nil {
				t.Error("CheckRunID accepted it")
			}
			if _, _, err := s.Status(id, good.Key); err == nil {
				t.Error("Status accepted it")
			}
			if _, err := s.ReadManifest(id); err == nil {
				t.Error("ReadManifest accepted it")
			}
			if _, err := s.ReadProvenance(id); err == nil {
				t.Error("ReadProvenance accepted it")
			}
			if err := s.ReadResult(id, new(any)); err == nil {
				t.Error("ReadResult accepted it")
			}
			if _, _, err := s.Failure(id); err == nil {
				t.Error("Failure accepted it")
			}
			if err := s.Verify(id); err == nil {
				t.Error("Verify accepted it")
			}
			if err := s.Record("sampler.sgld", id, good.Key); err == nil {
				t.Error("Record accepted it")
			}
			b := good
			b.RunID = id
			if _, err := s.Begin(t.Context(), b); err == nil {
				t.Error("Begin accepted it")
			}
			for name, f := range map[string]func(string) string{
				"RunDir": s.RunDir, "FailureDir": s.FailureDir, "CheckpointDir": s.CheckpointDir,
			} {
				if !panics(func() { f(id) }) {
					t.Errorf("%s did not panic", name)
				}
			}
		})
	}
	if _, err := os.Stat(s.Root()); !os.IsNotExist(err) {
		t.Errorf("rejected run ids created the store root: %v", err)
	}
}

func panics(f func()) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	f()
	return false
}

func TestStatusRejectsBadKey(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld", 1e-4)
	for _, key := range []string{"", b.Key[:63], strings.ToUpper(b.Key), "ffffffffffffffff" + b.Key[16:]} {
		if _, _, err := s.Status(b.RunID, key); err == nil {
			t.Errorf("Status accepted key %q for run id %s", key, b.RunID)
		}
	}
}

func TestListRuns(t *testing.T) {
	s := newStore(t)
	b1 := nodeBegin(t, "sampler.a", 1e-4)
	b2 := nodeBegin(t, "sampler.b", 2e-4)
	commitNode(t, s, b1, 0.5)
	dir := commitNode(t, s, b2, 0.5)
	if err := os.Remove(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.Root(), "not-a-run"), 0o755); err != nil {
		t.Fatal(err)
	}

	runs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("List returned %d runs, want 2: %+v", len(runs), runs)
	}
	byID := map[string]RunInfo{runs[0].RunID: runs[0], runs[1].RunID: runs[1]}
	if r := byID[b1.RunID]; r.Manifest == nil || r.Manifest.Key != b1.Key || r.Provenance == nil ||
		r.Provenance.Address != "sampler.a" || r.Err != nil {
		t.Errorf("run %s = %+v", b1.RunID, r)
	}
	if r := byID[b2.RunID]; r.Manifest != nil || r.Err == nil {
		t.Errorf("run %s without manifest = %+v, want an error", b2.RunID, r)
	}
	if runs[0].RunID > runs[1].RunID {
		t.Errorf("List is not sorted by run id: %s, %s", runs[0].RunID, runs[1].RunID)
	}
}

// A committed run directory has the mode of any directory the store
// creates (0777 less the umask), so other users can read a shared store.
func TestCommittedRunIsReadableByOthers(t *testing.T) {
	s := newStore(t)
	b := nodeBegin(t, "sampler.sgld[seed=0]", 1e-4)
	txn := mustBegin(t, s, b)
	writeOutputs(t, txn.Dir(), 0.75)
	if err := txn.Commit(Provenance{Executor: "local", LLCFlowVersion: "test"}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	reference := filepath.Join(t.TempDir(), "reference")
	if err := os.Mkdir(reference, 0o777); err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat(reference)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.Stat(s.RunDir(b.RunID))
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode().Perm() != want.Mode().Perm() {
		t.Errorf("run directory mode %v, want %v as os.Mkdir(0777) gives", got.Mode().Perm(), want.Mode().Perm())
	}
}
