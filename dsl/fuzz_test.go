package dsl

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that Load returns, without panicking, on any source text
// and any --var argument. It is seeded with the examples, the test data of
// this package and the end-to-end tests' valid and malformed files. Run it
// with go test -fuzz FuzzLoad -fuzztime 30s ./dsl.
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/*.hcl", "testdata/*/*.hcl", "../examples/*.hcl",
		"../cmd/llcflow/testdata/*.hcl", "../cmd/llcflow/testdata/bad/*.hcl"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, matches...)
	}
	if len(seeds) < 10 {
		f.Fatalf("found %d seed files, want the examples and test data", len(seeds))
	}
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, "n_data=7")
	}
	f.Add([]byte(`sweep { a = [] }`), "x")
	f.Fuzz(func(t *testing.T, src []byte, varArg string) {
		opts := Options{
			Registry: fakeRegistry{},
			Vars:     []string{varArg},
			Environ:  []string{"LLCFLOW_VAR_" + varArg},
			Preset:   "quick",
		}
		w, diags := loadSources([]source{{filename: "fuzz.hcl", bytes: src}}, opts)
		diags = finishDiagnostics(diags, w.Files)
		_ = DiagnosticsJSON(diags)
		_ = Format(src)
	})
}

// FuzzFormat checks that formatting the output of Format changes nothing.
// Run it with go test -fuzz FuzzFormat -fuzztime 30s ./dsl.
func FuzzFormat(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.hcl")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range seeds {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, diags := parseConfig(src, "fuzz.hcl"); diags.HasErrors() {
			return
		}
		once := Format(src)
		if twice := Format(once); string(twice) != string(once) {
			t.Errorf("Format is not idempotent:\n%q\nformats to\n%q\nand then to\n%q", src, once, twice)
		}
	})
}
