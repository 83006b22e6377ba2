package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// encodedManifest returns a manifest as encodeManifest writes it.
func encodedManifest(t testing.TB) []byte {
	t.Helper()
	key := strings.Repeat("ab", 32)
	data, err := encodeManifest(&Manifest{
		FormatVersion: ManifestFormatVersion, Key: key, RunID: key[:16], Type: "sampler",
		Kind: "sgld", Version: "sgld/3",
		Params: map[string]any{"step_size": 1e-4, "name": "a \"quoted\" \u00e9 name",
			"widths": []any{3.0, -6.5e-3, 1.0}, "noise": map[string]any{"scale": 0.1}, "flag": true,
			"none": nil},
		Inputs: []ManifestInput{{Role: "erm", RunID: key[:16], Key: key}},
		Files: []ManifestFile{{Name: "draws/chain0.npy", Size: 1 << 40, SHA256: strings.Repeat("0", 64)},
			{Name: "result.json", Size: 15, SHA256: strings.Repeat("f", 64)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeHead decodes data with encoding/json, as parseManifestHead does
// for the documents that scanHead leaves to it.
func decodeHead(data []byte) (manifestHead, error) {
	var h manifestHead
	err := json.Unmarshal(data, &h)
	return h, err
}

func TestScanHeadReadsWrittenManifest(t *testing.T) {
	data := encodedManifest(t)
	got, ok := scanHead(data)
	if !ok {
		t.Fatalf("scanHead rejected a manifest that encodeManifest wrote:\n%s", data)
	}
	want, err := decodeHead(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scanHead = %+v, want %+v", got, want)
	}
}

// TestScanHeadLeavesOddDocuments checks documents that scanHead must not
// decode: each is invalid JSON or decodes differently with encoding/json.
func TestScanHeadLeavesOddDocuments(t *testing.T) {
	data := string(encodedManifest(t))
	cases := map[string]string{
		"truncated":           data[:len(data)-3],
		"cut in params":       data[:strings.Index(data, `"widths"`)],
		"trailing data":       data + "{}",
		"upper-case key":      strings.Replace(data, `"key"`, `"Key"`, 1),
		"unknown field":       strings.Replace(data, `"kind"`, `"extra": 1, "kind"`, 1),
		"duplicate key":       strings.Replace(data, `"kind"`, `"key": "x", "kind"`, 1),
		"escaped key value":   strings.Replace(data, `"format_version": "1"`, `"format_version": "\u0031"`, 1),
		"negative size":       strings.Replace(data, `"size": 15`, `"size": -15`, 1),
		"fractional size":     strings.Replace(data, `"size": 15`, `"size": 15.0`, 1),
		"huge size":           strings.Replace(data, `"size": 15`, `"size": 99999999999999999999`, 1),
		"null files":          data[:strings.Index(data, `"files"`)] + `"files": null}`,
		"bad escape":          strings.Replace(data, `\"quoted\"`, `\q`, 1),
		"control character":   strings.Replace(data, `quoted`, "quo\tted", 1),
		"leading zero":        strings.Replace(data, `"scale": 0.1`, `"scale": 00.1`, 1),
		"bare word":           strings.Replace(data, `"flag": true`, `"flag": yes`, 1),
		"unknown file field":  strings.Replace(data, `"size": 15,`, `"size": 15, "mode": 1,`, 1),
		"file field twice":    strings.Replace(data, `"size": 15,`, `"size": 15, "size": 16,`, 1),
		"missing comma":       strings.Replace(data, `"kind": "sgld",`, `"kind": "sgld"`, 1),
		"non-ASCII file name": strings.Replace(data, `result.json`, "r\u00e9sult.json", 1),
		"empty":               "",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if h, ok := scanHead([]byte(doc)); ok {
				t.Errorf("scanHead accepted the document as %+v:\n%s", h, doc)
			}
		})
	}
}

// FuzzScanHead checks that every document scanHead accepts is valid JSON
// that encoding/json decodes to the same head.
func FuzzScanHead(f *testing.F) {
	data := encodedManifest(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte(`{"files":[{"name":"a","size":0,"sha256":""}],"params":{"a":[1,{"b":null}]}}`))
	f.Add([]byte(`{"params":"\ud800\"","inputs":[-0.5e+3,true,false]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, ok := scanHead(doc)
		if !ok {
			return
		}
		want, err := decodeHead(doc)
		if err != nil {
			t.Fatalf("scanHead accepted a document that encoding/json rejects (%v):\n%q", err, doc)
		}
		if !reflect.DeepEqual(got, want) && !(len(got.Files) == 0 && len(want.Files) == 0 &&
			reflect.DeepEqual(headWithoutFiles(got), headWithoutFiles(want))) {
			t.Fatalf("scanHead = %+v, encoding/json = %+v for\n%q", got, want, doc)
		}
	})
}

// headWithoutFiles returns h without its files, to compare heads whose
// file lists are nil in one and empty in the other.
func headWithoutFiles(h manifestHead) manifestHead {
	h.Files = nil
	return h
}
