package npy

import (
	"reflect"
	"testing"
)

// FuzzParseHeader checks that parseHeader never panics and that every header
// it accepts survives a format and parse round trip. `go test` runs only the
// seeds below; fuzzing needs `go test -fuzz FuzzParseHeader ./npy`.
func FuzzParseHeader(f *testing.F) {
	f.Add("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }")
	f.Add("{'descr': '<i8', 'fortran_order': False, 'shape': (), }")
	f.Add(`{"shape": (1,), "descr": "<f8", "fortran_order": True}`)
	f.Add("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}")
	f.Add("{")
	f.Fuzz(func(t *testing.T, text string) {
		h, err := parseHeader(text)
		if err != nil {
			return
		}
		if _, err := numElements(h.shape); err != nil {
			return
		}
		if h.descr != descrFloat64 && h.descr != descrInt64 {
			return
		}
		raw, err := formatHeader(h.descr, h.shape)
		if err != nil {
			t.Fatalf("formatHeader(%q, %v): %v", h.descr, h.shape, err)
		}
		again, err := parseHeader(string(raw[10:]))
		if err != nil {
			t.Fatalf("parse of formatted header %q: %v", raw[10:], err)
		}
		if again.descr != h.descr || !reflect.DeepEqual(again.shape, h.shape) {
			t.Fatalf("round trip of %q gave %+v, want %+v", text, again, h)
		}
	})
}
