package kinds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/llcflow/llcflow/dsl"
)

// testStore is a directory of run directories named by run id, as the
// store lays them out, for running kinds without the store package.
type testStore struct {
	root string
}

func newTestStore(t *testing.T) *testStore {
	t.Helper()
	return &testStore{root: t.TempDir()}
}

func (s *testStore) dir(runID string) string { return filepath.Join(s.root, runID) }

// run normalizes attrs as the DSL would, runs the kind into the run
// directory named runID, and returns that directory. inputs maps roles to
// the run ids of earlier runs. The run id doubles as the node key.
func (s *testStore) run(t *testing.T, blockType, kind, runID string, attrs map[string]any, inputs map[string]string) string {
	t.Helper()
	dir, err := s.tryRun(blockType, kind, runID, attrs, inputs)
	if err != nil {
		t.Fatalf("run %s %s: %v", blockType, kind, err)
	}
	return dir
}

// tryRun is run that returns the normalization or run error.
func (s *testStore) tryRun(blockType, kind, runID string, attrs map[string]any, inputs map[string]string) (string, error) {
	withRefs := make(map[string]any, len(attrs)+len(inputs))
	for name, v := range attrs {
		withRefs[name] = v
	}
	for role, id := range inputs {
		typ := role
		if role == "from" {
			typ = "erm"
		}
		withRefs[role] = dsl.Ref{Type: typ, Name: id, Address: typ + "." + id}
	}
	params, errs := Registry{}.Normalize(blockType, kind, withRefs)
	if len(errs) > 0 {
		return "", fieldErrors(errs)
	}
	// The DSL turns references into input edges, as here.
	for role := range inputs {
		delete(params, role)
	}
	return s.tryRunNormalized(blockType, kind, runID, params, inputs)
}

// tryRunNormalized runs a kind on normalized params.
func (s *testStore) tryRunNormalized(blockType, kind, runID string, params map[string]any, inputs map[string]string) (string, error) {
	k, _ := Lookup(blockType, kind)
	dir := s.dir(runID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	in := map[string]string{}
	for role, id := range inputs {
		in[role] = s.dir(id)
	}
	var log bytes.Buffer
	rc := &RunContext{
		Key: runID, RunID: runID, Address: blockType + "." + kind, Params: params,
		Inputs: in, RunDir: s.dir, Dir: dir, Log: &log,
	}
	return dir, k.Run(context.Background(), rc)
}

// digest returns the SHA-256 of the named files of dir, in sorted order.
func digest(t *testing.T, dir string, names ...string) string {
	t.Helper()
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(name))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type fieldErrors []dsl.FieldError

func (e fieldErrors) Error() string {
	var b strings.Builder
	for i, fe := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Attr + ": " + fe.Summary + ": " + fe.Detail)
	}
	return b.String()
}

func dataRef() dsl.Ref { return dsl.Ref{Type: "dataset", Name: "data", Address: "dataset.data"} }
