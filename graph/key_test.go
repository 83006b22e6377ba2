package graph

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestCanonicalEncoding(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables, because Go folds constants exactly
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, `null`},
		{"true", true, `true`},
		{"integral number", 1000.0, `1000`},
		{"small number", 1e-4, `0.0001`},
		{"smaller number", 1e-5, `1e-05`},
		{"large number", 1e21, `1e+21`},
		{"shortest round trip", tenth + fifth, `0.30000000000000004`},
		{"negative zero", math.Copysign(0, -1), `0`},
		{"negative", -2.5, `-2.5`},
		{"escapes", "a\"b\\c\n\t\r\b\f\x01", `"a\"b\\c\n\t\r\b\f\u0001"`},
		{"html and unicode kept", "<&>é∑", `"<&>é∑"`},
		{"nil list", []any(nil), `[]`},
		{"nil map", map[string]any(nil), `{}`},
		{"sorted keys", map[string]any{"b": 1.0, "a": 2.0, "B": 3.0, "aa": 4.0}, `{"B":3,"a":2,"aa":4,"b":1}`},
		{"nested", map[string]any{"x": []any{map[string]any{"z": nil, "y": false}, "s"}},
			`{"x":[{"y":false,"z":null},"s"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Canonical(c.in)
			if err != nil {
				t.Fatalf("Canonical: %v", err)
			}
			if string(got) != c.want {
				t.Errorf("Canonical = %s, want %s", got, c.want)
			}
		})
	}
}

func TestCanonicalRejects(t *testing.T) {
	cases := []struct {
		name     string
		in       any
		wantPath string
	}{
		{"int", map[string]any{"steps": 1000}, "steps"},
		{"NaN", map[string]any{"a": []any{1.0, math.NaN()}}, "a[1]"},
		{"Inf", map[string]any{"opt": map[string]any{"lr": math.Inf(1)}}, "opt.lr"},
		{"invalid UTF-8", map[string]any{"s": "\xff"}, "s"},
		{"quoted key path", map[string]any{"a b": []any{float32(1)}}, `["a b"][0]`},
		{"top level", 3, "the top level"},
		{"typed slice", []float64{1}, "the top level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Canonical(c.in)
			if err == nil {
				t.Fatal("Canonical returned no error")
			}
			if !strings.Contains(err.Error(), c.wantPath) {
				t.Errorf("error %q does not name the path %s", err, c.wantPath)
			}
		})
	}
}

func goldenParams() map[string]any {
	return map[string]any{
		"step_size": 1e-4,
		"steps":     1000.0,
		"optimizer": map[string]any{"kind": "adam", "lr": 0.01},
		"widths":    []any{4.0, 8.0, 1.0},
		"name":      "a\"b\n<c>",
		"flag":      true,
		"none":      nil,
	}
}

// The golden keys were checked against `printf '%s' PREIMAGE | sha256sum`,
// so a change of the encoding or of the hashed object fails here.
func TestComputeKeyGolden(t *testing.T) {
	const preimage = `{"inputs":[{"key":"k2","role":"erm"}],"kind":"sgld",` +
		`"params":{"flag":true,"name":"a\"b\n<c>","none":null,"optimizer":{"kind":"adam","lr":0.01},` +
		`"step_size":0.0001,"steps":1000,"widths":[4,8,1]},"type":"sampler","version":"sgld/1"}`
	got, err := Canonical(map[string]any{
		"inputs":  []any{map[string]any{"key": "k2", "role": "erm"}},
		"kind":    "sgld",
		"params":  goldenParams(),
		"type":    "sampler",
		"version": "sgld/1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != preimage {
		t.Errorf("preimage =\n%s\nwant\n%s", got, preimage)
	}

	key, err := ComputeKey("sampler", "sgld", "sgld/1", goldenParams(), []InputKey{{Role: "erm", Key: "k2"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "7afe0f5a8bdb141226dc96e32bdafba5d6842c0c236ef0ad27e362a9fa373ec1"; key != want {
		t.Errorf("key = %s, want %s", key, want)
	}

	key, err = ComputeKey("dataset", "teacher_student", "teacher_student/1", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "141ac87d079a04b0aece623e173f4bb06ef8139667b1e6c4333c1b455096fd35"; key != want {
		t.Errorf("key without params or inputs = %s, want %s", key, want)
	}
}

func TestComputeKeyMapOrder(t *testing.T) {
	want, err := ComputeKey("sampler", "sgld", "sgld/1", goldenParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Build the same map with the keys inserted in reverse order, many
	// times, so that Go's randomized map iteration gets its chances.
	for i := 0; i < 50; i++ {
		src := goldenParams()
		keys := []string{"widths", "steps", "step_size", "optimizer", "none", "name", "flag"}
		params := map[string]any{}
		for _, k := range keys {
			params[k] = src[k]
		}
		got, err := ComputeKey("sampler", "sgld", "sgld/1", params, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("key = %s after reordering, want %s", got, want)
		}
	}
}

func TestComputeKeyInputOrder(t *testing.T) {
	a, err := ComputeKey("sampler", "sgld", "sgld/1", nil,
		[]InputKey{{Role: "erm", Key: "e"}, {Role: "dataset", Key: "d"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ComputeKey("sampler", "sgld", "sgld/1", nil,
		[]InputKey{{Role: "dataset", Key: "d"}, {Role: "erm", Key: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("keys differ with the input order: %s and %s", a, b)
	}
}

func TestComputeKeyFloatForms(t *testing.T) {
	forms := []string{"0.0001", "1e-4", "1.0e-04", "0.00010", "10e-5"}
	var keys []string
	for _, text := range forms {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			t.Fatal(err)
		}
		key, err := ComputeKey("sampler", "sgld", "sgld/1", map[string]any{"step_size": f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	for i := range keys {
		if keys[i] != keys[0] {
			t.Errorf("step_size %s gives key %s, but %s gives %s", forms[i], keys[i], forms[0], keys[0])
		}
	}

	zero, _ := ComputeKey("target", "quadratic", "quadratic/1", map[string]any{"x": 0.0}, nil)
	negZero, _ := ComputeKey("target", "quadratic", "quadratic/1", map[string]any{"x": math.Copysign(0, -1)}, nil)
	if zero != negZero {
		t.Errorf("0 and -0 give different keys %s and %s", zero, negZero)
	}
}

func TestComputeKeyChanges(t *testing.T) {
	base := func() (string, string, string, map[string]any, []InputKey) {
		return "sampler", "sgld", "sgld/1", map[string]any{"step_size": 1e-4, "widths": []any{4.0}},
			[]InputKey{{Role: "erm", Key: "e1"}}
	}
	baseKey, err := ComputeKey(base())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(typ, kind, version *string, params map[string]any, inputs *[]InputKey)
	}{
		{"type", func(typ, _, _ *string, _ map[string]any, _ *[]InputKey) { *typ = "target" }},
		{"kind", func(_, kind, _ *string, _ map[string]any, _ *[]InputKey) { *kind = "hmc" }},
		{"version", func(_, _, version *string, _ map[string]any, _ *[]InputKey) { *version = "sgld/2" }},
		{"param value", func(_, _, _ *string, p map[string]any, _ *[]InputKey) { p["step_size"] = 2e-4 }},
		{"nested value", func(_, _, _ *string, p map[string]any, _ *[]InputKey) { p["widths"] = []any{5.0} }},
		{"added param", func(_, _, _ *string, p map[string]any, _ *[]InputKey) { p["gamma"] = 1.0 }},
		{"input key", func(_, _, _ *string, _ map[string]any, in *[]InputKey) { (*in)[0].Key = "e2" }},
		{"input role", func(_, _, _ *string, _ map[string]any, in *[]InputKey) { (*in)[0].Role = "target" }},
		{"added input", func(_, _, _ *string, _ map[string]any, in *[]InputKey) {
			*in = append(*in, InputKey{Role: "dataset", Key: "d"})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ, kind, version, params, inputs := base()
			c.mutate(&typ, &kind, &version, params, &inputs)
			key, err := ComputeKey(typ, kind, version, params, inputs)
			if err != nil {
				t.Fatal(err)
			}
			if key == baseKey {
				t.Errorf("changing the %s kept the key %s", c.name, key)
			}
		})
	}
}

func TestComputeKeyRejectsDuplicateRole(t *testing.T) {
	_, err := ComputeKey("sampler", "sgld", "sgld/1", nil,
		[]InputKey{{Role: "erm", Key: "a"}, {Role: "erm", Key: "b"}})
	if err == nil || !strings.Contains(err.Error(), `"erm"`) {
		t.Errorf("error = %v, want one naming the role erm", err)
	}
}

func TestComputeKeyRejectsBadParam(t *testing.T) {
	_, err := ComputeKey("sampler", "sgld", "sgld/1", map[string]any{"steps": 10}, nil)
	if err == nil || !strings.Contains(err.Error(), "params.steps") {
		t.Errorf("error = %v, want one naming params.steps", err)
	}
}

// TestKeyObjectEncoding checks that the encoding ComputeKey hashes, written
// without building the object, equals Canonical of the object.
func TestKeyObjectEncoding(t *testing.T) {
	inputs := []InputKey{{Role: "dataset", Key: strings.Repeat("a", 64)}, {Role: "erm", Key: strings.Repeat("b", 64)}}
	cases := []struct {
		name   string
		params map[string]any
		inputs []InputKey
	}{
		{"nil params", nil, nil},
		{"empty params", map[string]any{}, inputs[:1]},
		{"nested", map[string]any{"step_size": 1e-4, "widths": []any{3.0, 6.0, 1.0},
			"noise": map[string]any{"scale": -0.0, "kind": "gauss"}, "flag": true, "none": nil}, inputs},
		{"escapes", map[string]any{"name": "a \"b\"\n\t\u00e9<>&", "ke\\y": "x"}, inputs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := appendKeyObject(nil, "sampler", "sgld", "sgld/1", c.params, c.inputs)
			if !ok {
				t.Fatal("appendKeyObject rejected valid values")
			}
			want, err := Canonical(keyObject("sampler", "sgld", "sgld/1", c.params, c.inputs))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("encoding\n%s\nwant\n%s", got, want)
			}
		})
	}
	if _, ok := appendKeyObject(nil, "sampler", "sgld", "sgld/1",
		map[string]any{"x": math.NaN()}, nil); ok {
		t.Error("appendKeyObject accepted NaN")
	}
	if _, err := ComputeKey("sampler", "sgld", "sgld/1", map[string]any{"x": math.Inf(1)}, nil); err == nil ||
		!strings.Contains(err.Error(), "at params.x") {
		t.Errorf("ComputeKey of +Inf: error %v, want one naming params.x", err)
	}
}
