package store

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseManifestRejects(t *testing.T) {
	valid := `{"format_version":"1","key":"%KEY%","run_id":"%ID%","type":"sampler","kind":"sgld",` +
		`"version":"sgld/1","params":{},"inputs":[],"files":[%FILES%]}`
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	sum := strings.Repeat("a", 64)
	build := func(id, files string) string {
		r := strings.NewReplacer("%KEY%", key, "%ID%", id, "%FILES%", files)
		return r.Replace(valid)
	}
	file := func(name string) string {
		return `{"name":"` + name + `","size":1,"sha256":"` + sum + `"}`
	}

	if _, err := parseManifest([]byte(build(key[:16], file("result.json")))); err != nil {
		t.Fatalf("parseManifest rejected a valid manifest: %v", err)
	}
	cases := map[string]string{
		"run id not key prefix": build("ffffffffffffffff", ""),
		"parent file name":      build(key[:16], file("../x")),
		"absolute file name":    build(key[:16], file("/etc/passwd")),
		"unclean file name":     build(key[:16], file("a/./b")),
		"backslash file name":   build(key[:16], file(`a\\b`)),
		"reserved file name":    build(key[:16], file("manifest.json")),
		"duplicate file":        build(key[:16], file("a")+","+file("a")),
		"unknown field":         strings.Replace(build(key[:16], ""), `"type"`, `"extra":1,"type"`, 1),
		"trailing data":         build(key[:16], "") + "{}",
		"bad sha256":            build(key[:16], `{"name":"a","size":1,"sha256":"xyz"}`),
		"negative size":         build(key[:16], `{"name":"a","size":-1,"sha256":"`+sum+`"}`),
		"empty kind":            strings.Replace(build(key[:16], ""), `"kind":"sgld"`, `"kind":""`, 1),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := parseManifest([]byte(text)); err == nil {
				t.Errorf("parseManifest accepted %s", text)
			}
		})
	}
}

// FuzzParseManifest checks that parseManifest never panics, that every
// manifest it accepts survives an encode and parse unchanged, and that its
// file names stay inside the run directory. `go test` runs only the seed
// corpus. Fuzz with: go test -run '^$' -fuzz FuzzParseManifest ./store/
func FuzzParseManifest(f *testing.F) {
	s, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	b := nodeBegin(f, "sampler.sgld", 1e-4)
	dir := commitNode(f, s, b, 0.5)
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format_version":"1","files":[{"name":"../a"}]}`))
	f.Add([]byte(`[1,2`))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		encoded, err := encodeManifest(m)
		if err != nil {
			t.Fatalf("encode an accepted manifest: %v", err)
		}
		again, err := parseManifest(encoded)
		if err != nil {
			t.Fatalf("parse a re-encoded manifest: %v\n%s", err, encoded)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("manifest changed in an encode and parse:\n%+v\n%+v", m, again)
		}
		root := filepath.Join(string(filepath.Separator), "store", m.RunID)
		for _, file := range m.Files {
			path := filepath.Join(root, filepath.FromSlash(file.Name))
			if !strings.HasPrefix(path, root+string(filepath.Separator)) {
				t.Fatalf("file %q resolves to %s, outside %s", file.Name, path, root)
			}
		}
	})
}
