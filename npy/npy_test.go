package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTripFloat64(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
	}{
		{"scalar", []int{}},
		{"vector", []int{5}},
		{"matrix", []int{3, 4}},
		{"rank3", []int{2, 3, 4}},
		{"empty", []int{0, 3}},
		{"large", []int{1000, 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := 1
			for _, d := range c.shape {
				n *= d
			}
			data := make([]float64, n)
			for i := range data {
				data[i] = float64(i)*0.1 - 3
			}
			if n >= 4 {
				data[0], data[1], data[2], data[3] = math.NaN(), math.Inf(-1), math.Copysign(0, -1), 5e-324
			}
			path := filepath.Join(t.TempDir(), "a.npy")
			if err := Write(path, c.shape, data); err != nil {
				t.Fatalf("Write: %v", err)
			}
			shape, got, err := Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(shape, c.shape) {
				t.Errorf("shape = %v, want %v", shape, c.shape)
			}
			if len(got) != len(data) {
				t.Fatalf("len(data) = %d, want %d", len(got), len(data))
			}
			for i := range data {
				if math.Float64bits(got[i]) != math.Float64bits(data[i]) {
					t.Errorf("data[%d] = %v, want %v (bit for bit)", i, got[i], data[i])
				}
			}
		})
	}
}

func TestRoundTripInt64(t *testing.T) {
	data := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 42}
	path := filepath.Join(t.TempDir(), "i.npy")
	if err := WriteInt64(path, []int{2, 3}, data); err != nil {
		t.Fatalf("WriteInt64: %v", err)
	}
	shape, got, err := ReadInt64(path)
	if err != nil {
		t.Fatalf("ReadInt64: %v", err)
	}
	if !reflect.DeepEqual(shape, []int{2, 3}) {
		t.Errorf("shape = %v, want [2 3]", shape)
	}
	if !reflect.DeepEqual(got, data) {
		t.Errorf("data = %v, want %v", got, data)
	}
}

// TestWriteLayout checks the bytes against the .npy format: magic, version
// 1.0, little-endian header length, a header ending in a newline, and data
// at a multiple of 64 bytes.
func TestWriteLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npy")
	if err := Write(path, []int{2}, []float64{1.5, -2}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("preamble = %q, want magic and version 1.0", raw[:8])
	}

	headerLen := int(binary.LittleEndian.Uint16(raw[8:10]))
	offset := 10 + headerLen
	if offset%64 != 0 {
		t.Errorf("data offset = %d, want a multiple of 64", offset)
	}
	head := string(raw[10:offset])
	if want := "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"; !strings.HasPrefix(head, want) {
		t.Errorf("header = %q, want prefix %q", head, want)
	}
	if !strings.HasSuffix(head, "\n") {
		t.Errorf("header = %q, want a trailing newline", head)
	}

	if got := len(raw) - offset; got != 16 {
		t.Errorf("data has %d bytes, want 16", got)
	}
	if got := math.Float64frombits(binary.LittleEndian.Uint64(raw[offset:])); got != 1.5 {
		t.Errorf("first element = %v, want 1.5", got)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o644 {
		t.Errorf("file mode = %v, want 0644", perm)
	}
}

func TestWriteReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.npy")
	if err := Write(path, []int{3}, []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []int{1}, []float64{9}); err != nil {
		t.Fatal(err)
	}
	_, got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []float64{9}) {
		t.Errorf("data = %v, want [9]", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want only a.npy", len(entries))
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		path  string
		shape []int
		data  []float64
		want  string
	}{
		{"shape mismatch", filepath.Join(dir, "a.npy"), []int{2, 2}, []float64{1, 2, 3}, "has 4 elements but data has 3"},
		{"negative dimension", filepath.Join(dir, "b.npy"), []int{-1}, nil, "negative dimension"},
		{"missing directory", filepath.Join(dir, "nope", "c.npy"), []int{1}, []float64{1}, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Write(c.path, c.shape, c.data)
			if err == nil {
				t.Fatalf("Write succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), c.path) {
				t.Errorf("error = %q, want it to name %s", err, c.path)
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("failed writes left %d files behind", len(entries))
	}
}

// writeRaw writes a .npy file with a hand-made header and data.
func writeRaw(t *testing.T, major byte, header string, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(magic)
	buf.WriteByte(major)
	buf.WriteByte(0)
	if major == 1 {
		binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&buf, binary.LittleEndian, uint32(len(header)))
	}
	buf.WriteString(header)
	buf.Write(data)
	path := filepath.Join(t.TempDir(), "raw.npy")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func float64Bytes(xs ...float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func TestReadAcceptsNumPyVariants(t *testing.T) {
	cases := []struct {
		name   string
		major  byte
		header string
	}{
		{"version 2.0", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n"},
		{"version 3.0", 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n"},
		{"double quotes", 1, `{"descr": "<f8", "fortran_order": False, "shape": (2,)}` + "\n"},
		{"key order", 1, "{'shape': (2,), 'fortran_order': False, 'descr': '<f8'}    \n"},
		{"shape (1, 2)", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeRaw(t, c.major, c.header, float64Bytes(1, 2))
			_, data, err := Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(data, []float64{1, 2}) {
				t.Errorf("data = %v, want [1 2]", data)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	good := "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n"
	cases := []struct {
		name   string
		major  byte
		header string
		data   []byte
		want   string
	}{
		{"truncated data", 1, good, float64Bytes(1), "file has"},
		{"trailing data", 1, good, float64Bytes(1, 2, 3), "file has"},
		{"big endian", 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }\n", float64Bytes(1, 2), `dtype ">f8"`},
		{"int64 as float64", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n", float64Bytes(1, 2), "ReadInt64"},
		{"fortran order", 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }\n", float64Bytes(1, 2), "Fortran order"},
		{"missing shape", 1, "{'descr': '<f8', 'fortran_order': False}\n", float64Bytes(1, 2), `missing key "shape"`},
		{"unknown key", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", float64Bytes(1, 2), `unknown key "x"`},
		{"version 4", 4, good, float64Bytes(1, 2), "version 4.0"},
		{"huge shape", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }\n", nil, "too many elements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeRaw(t, c.major, c.header, c.data)
			_, _, err := Read(path)
			if err == nil {
				t.Fatalf("Read succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q, want it to contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error = %q, want it to name %s", err, path)
			}
		})
	}
}

func TestReadNotNpy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := os.WriteFile(path, []byte("PK\x03\x04 a zip file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Read(path)
	if err == nil || !strings.Contains(err.Error(), "not a .npy file") {
		t.Errorf("error = %v, want one containing \"not a .npy file\"", err)
	}
	_, _, err = Read(filepath.Join(t.TempDir(), "missing.npy"))
	if err == nil || !strings.Contains(err.Error(), "missing.npy") {
		t.Errorf("error = %v, want one naming missing.npy", err)
	}
}

func TestParseHeaderShapes(t *testing.T) {
	cases := []struct {
		text string
		want []int
	}{
		{"{'descr': '<f8', 'fortran_order': False, 'shape': ()}", []int{}},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (7,)}", []int{7}},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': ( 2 , 3 , )}", []int{2, 3}},
	}
	for _, c := range cases {
		h, err := parseHeader(c.text)
		if err != nil {
			t.Errorf("parseHeader(%q): %v", c.text, err)
			continue
		}
		if !reflect.DeepEqual(h.shape, c.want) {
			t.Errorf("parseHeader(%q).shape = %v, want %v", c.text, h.shape, c.want)
		}
	}
	for _, text := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (7)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '<f8'}",
		"{'descr': '<f8', 'fortran_order': false, 'shape': (2,)}",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x",
		"{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}",
		"",
	} {
		if _, err := parseHeader(text); err == nil {
			t.Errorf("parseHeader(%q) succeeded, want an error", text)
		}
	}
}

// numpyPython returns a python3 that imports numpy: the one on PATH, else
// the system one (Debian's python3-numpy installs there).
func numpyPython() (string, bool) {
	candidates := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append([]string{p}, candidates...)
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p, true
		}
	}
	return "", false
}

// TestNumPyLoadsFiles runs python3 with numpy, when both are installed, to
// load files written here and to write files read here.
func TestNumPyLoadsFiles(t *testing.T) {
	python, ok := numpyPython()
	if !ok {
		t.Skip("no python3 with numpy found")
	}
	dir := t.TempDir()
	floats := filepath.Join(dir, "f.npy")
	ints := filepath.Join(dir, "i.npy")
	if err := Write(floats, []int{2, 3}, []float64{0, 1.5, -2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if err := WriteInt64(ints, []int{3}, []int64{-7, 0, 1 << 40}); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
f = np.load(sys.argv[1]); i = np.load(sys.argv[2])
assert f.dtype == np.float64 and f.shape == (2, 3), (f.dtype, f.shape)
assert f.tolist() == [[0, 1.5, -2], [3, 4, 5]], f
assert i.dtype == np.int64 and i.tolist() == [-7, 0, 1 << 40], i
np.save(sys.argv[3], np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8)
np.save(sys.argv[4], np.arange(5, dtype=np.int64) - 2)
`
	back := filepath.Join(dir, "back.npy")
	backInts := filepath.Join(dir, "back_i.npy")
	out, err := exec.Command(python, "-c", script, floats, ints, back, backInts).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy script failed: %v\n%s", err, out)
	}
	shape, data, err := Read(back)
	if err != nil {
		t.Fatalf("Read numpy's file: %v", err)
	}
	if !reflect.DeepEqual(shape, []int{2, 3, 4}) {
		t.Errorf("shape = %v, want [2 3 4]", shape)
	}
	for i, x := range data {
		if want := float64(i) / 8; x != want {
			t.Errorf("data[%d] = %v, want %v", i, x, want)
		}
	}
	_, intData, err := ReadInt64(backInts)
	if err != nil {
		t.Fatalf("ReadInt64 numpy's file: %v", err)
	}
	if !reflect.DeepEqual(intData, []int64{-2, -1, 0, 1, 2}) {
		t.Errorf("int data = %v, want [-2 -1 0 1 2]", intData)
	}
}
