package modal

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArchiveRoundTrip(t *testing.T) {
	src := t.TempDir()
	id := "0123456789abcdef"
	files := map[string]string{"manifest.json": `{"key":"x"}`, "chains/0.npy": "\x93NUMPY binary\x00\xff"}
	for name, data := range files {
		p := filepath.Join(src, id, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, sum, err := runsArchive(src, []string{id})
	if err != nil {
		t.Fatal(err)
	}

	// Send it the way a sandbox does: base64 in 76-column lines.
	enc := base64.StdEncoding.EncodeToString(data)
	var lines strings.Builder
	for len(enc) > 76 {
		lines.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	lines.WriteString(enc + "\n")
	var received bytes.Buffer
	gotSum, err := receiveArchive(strings.NewReader(lines.String()), &received)
	if err != nil {
		t.Fatal(err)
	}
	if gotSum != sum {
		t.Errorf("received sha256 %s, sent %s", gotSum, sum)
	}

	dest := t.TempDir()
	ids, err := extractArchive(&received, dest, runSet{id: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != id {
		t.Errorf("extracted runs %v, want [%s]", ids, id)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dest, id, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
}

func TestExtractRejectsUnsafeEntries(t *testing.T) {
	id := "0123456789abcdef"
	cases := []struct {
		name string
		hdr  tar.Header
	}{
		{"parent directory", tar.Header{Name: "../evil", Typeflag: tar.TypeReg}},
		{"absolute path", tar.Header{Name: "/etc/evil", Typeflag: tar.TypeReg}},
		{"other run", tar.Header{Name: "fedcba9876543210/manifest.json", Typeflag: tar.TypeReg}},
		{"escape inside run", tar.Header{Name: id + "/../../evil", Typeflag: tar.TypeReg}},
		{"symlink", tar.Header{Name: id + "/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			if err := tw.WriteHeader(&tc.hdr); err != nil {
				t.Fatal(err)
			}
			tw.Close()
			dest := t.TempDir()
			if _, err := extractArchive(&buf, dest, runSet{id: true}); err == nil {
				t.Errorf("entry %q of type %q was accepted", tc.hdr.Name, tc.hdr.Typeflag)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dest), "evil")); err == nil {
				t.Errorf("entry %q was written outside the destination", tc.hdr.Name)
			}
		})
	}
}

func TestStderrCollectorMarkers(t *testing.T) {
	c := newStderrCollector()
	for _, chunk := range []string{"exec-node: sta", "rted\nllcflow-archive ab", "cd\nllcflow-missing 0123456789abcdef\n",
		"llcflow-worker: worker binary present\n"} {
		c.Write([]byte(chunk))
	}
	if c.archiveSum != "abcd" {
		t.Errorf("archive sum %q, want abcd", c.archiveSum)
	}
	if len(c.missing) != 1 || c.missing[0] != "0123456789abcdef" {
		t.Errorf("missing %v", c.missing)
	}
	if !c.workerPresent {
		t.Error("worker binary marker not seen")
	}
	if tail := c.Tail(); strings.Contains(tail, "llcflow-archive") || !strings.Contains(tail, "exec-node: started") {
		t.Errorf("tail %q should keep the output and drop the checksum line", tail)
	}
}
