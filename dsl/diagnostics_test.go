package dsl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDiagnosticsJSONRangeAndSnippet(t *testing.T) {
	_, diags := loadFiles(t, map[string]string{"main.hcl": `dataset "d" {
  kind = "gaus"
}
`}, Options{Vars: []string{"nope=1"}})
	got := DiagnosticsJSON(diags)
	if len(got) != 2 {
		t.Fatalf("got %d diagnostics, want 2: %v", len(got), diags)
	}
	if got[0].Range != nil || got[0].Snippet != nil {
		t.Errorf("--var diagnostic: got range %v and snippet %v, want neither", got[0].Range, got[0].Snippet)
	}
	kind := got[1]
	if kind.Severity != "error" {
		t.Errorf("severity: got %q, want error", kind.Severity)
	}
	if kind.Range == nil {
		t.Fatal("kind diagnostic has no range")
	}
	wantStart := PosJSON{Line: 2, Column: 10, Byte: 23}
	wantEnd := PosJSON{Line: 2, Column: 16, Byte: 29}
	if kind.Range.Start != wantStart || kind.Range.End != wantEnd {
		t.Errorf("range: got %+v to %+v, want %+v to %+v", kind.Range.Start, kind.Range.End, wantStart, wantEnd)
	}
	s := kind.Snippet
	if s == nil {
		t.Fatal("kind diagnostic has no snippet")
	}
	if s.Code != `  kind = "gaus"` || s.StartLine != 2 || s.Context != `dataset "d"` {
		t.Errorf("snippet: got %+v", s)
	}
	if h := s.Code[s.HighlightStartOffset:s.HighlightEndOffset]; h != `"gaus"` {
		t.Errorf("highlight: got %q, want %q", h, `"gaus"`)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("marshal: %v", err)
	}
}

func TestDiagnosticsJSONRelated(t *testing.T) {
	_, diags := loadFiles(t, map[string]string{"main.hcl": validDataset + validDataset}, Options{})
	got := DiagnosticsJSON(diags)
	if len(got) != 1 {
		t.Fatalf("got %d diagnostics, want 1", len(got))
	}
	if len(got[0].Related) != 1 || got[0].Related[0].Start.Line != 1 {
		t.Errorf("related: got %+v, want the first definition on line 1", got[0].Related)
	}
	if got[0].Range.Start.Line != 5 {
		t.Errorf("range: got line %d, want 5", got[0].Range.Start.Line)
	}
}

func TestWriteDiagnosticsShowsSource(t *testing.T) {
	w, diags := loadFiles(t, map[string]string{"main.hcl": `sampler "s" {
  kind   = "hmc"
  target = target.nope
}
`}, Options{})
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, diags, w.Files, 80, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Error: Reference to undeclared target block", "line 3", "target = target.nope"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("output has color escapes with color off:\n%s", out)
	}
}

func TestFormatIsIdempotent(t *testing.T) {
	src := []byte("dataset \"d\" {\nkind=\"gauss\"\n    n = 1\n  noise_scale     = 0.1\n}\n")
	want := "dataset \"d\" {\n  kind        = \"gauss\"\n  n           = 1\n  noise_scale = 0.1\n}\n"
	once := Format(src)
	if string(once) != want {
		t.Errorf("Format: got\n%s\nwant\n%s", once, want)
	}
	if twice := Format(once); !bytes.Equal(twice, once) {
		t.Errorf("Format is not idempotent: got\n%s\nfrom\n%s", twice, once)
	}
}

func TestFormatTestdataIdempotent(t *testing.T) {
	for _, path := range []string{"testdata/sweep.hcl", "testdata/targets.hcl", "testdata/errors.hcl"} {
		w, _ := Load([]string{path}, Options{})
		src := w.Files[path].Bytes
		once := Format(src)
		if twice := Format(once); !bytes.Equal(twice, once) {
			t.Errorf("%s: Format is not idempotent", path)
		}
	}
}
