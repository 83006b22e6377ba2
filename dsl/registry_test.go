package dsl

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// fakeRegistry is a small Registry for tests. Each kind has fields with a
// type, and either a default or a requirement to be set.
type fakeRegistry struct{}

type fakeField struct {
	name     string
	typ      string // "number", "string", "ref", "object", "list"
	required bool
	def      any
}

var fakeKinds = map[string]map[string][]fakeField{
	"dataset": {
		"gauss": {
			{name: "n", typ: "number", required: true},
			{name: "seed", typ: "number", def: 0.0},
			{name: "noise", typ: "object", def: map[string]any{"kind": "gauss"}},
			{name: "label", typ: "string", def: "none"},
		},
		"file": {{name: "path", typ: "string", required: true}},
	},
	"model": {
		"mlp": {
			{name: "widths", typ: "list", required: true},
			{name: "activation", typ: "string", def: "tanh"},
		},
	},
	"erm": {
		"adam": {
			{name: "dataset", typ: "ref", required: true},
			{name: "model", typ: "object", required: true},
			{name: "steps", typ: "number", def: 100.0},
			{name: "lr", typ: "number", def: 0.01},
		},
	},
	"target": {
		"quadratic": {{name: "dim", typ: "number", required: true}},
		"monomial":  {{name: "exponents", typ: "list", required: true}},
	},
	"sampler": {
		"sgld": {
			{name: "erm", typ: "ref"},
			{name: "target", typ: "ref"},
			{name: "step_size", typ: "number", required: true},
			{name: "chains", typ: "number", def: 4.0},
		},
		"hmc": {
			{name: "target", typ: "ref", required: true},
			{name: "draws", typ: "number", def: 1000.0},
		},
	},
}

func (fakeRegistry) Kinds(blockType string) []string {
	var kinds []string
	for k := range fakeKinds[blockType] {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func (fakeRegistry) Version(blockType, kind string) string {
	return kind + "/1"
}

func (fakeRegistry) Normalize(blockType, kind string, attrs map[string]any) (map[string]any, []FieldError) {
	fields := fakeKinds[blockType][kind]
	var names []string
	for _, f := range fields {
		names = append(names, f.name)
	}
	var errs []FieldError
	out := map[string]any{}
	for _, name := range sortedKeys(attrs) {
		if !slices.Contains(names, name) {
			errs = append(errs, FieldError{
				Attr:    name,
				Summary: "Unsupported argument",
				Detail:  fmt.Sprintf("A %s %q block has no argument %q.%s", blockType, kind, name, didYouMean(name, names)),
			})
		}
	}
	for _, f := range fields {
		v, set := attrs[f.name]
		if !set {
			if f.required {
				errs = append(errs, FieldError{Attr: f.name, Summary: "Missing required argument",
					Detail: fmt.Sprintf("The argument %q is required.", f.name)})
			} else if f.def != nil {
				out[f.name] = f.def
			}
			continue
		}
		if !fakeTypeOK(f.typ, v) {
			errs = append(errs, FieldError{Attr: f.name, Summary: "Invalid value",
				Detail: fmt.Sprintf("The argument %q must be a %s, but it is %v.", f.name, f.typ, v)})
			continue
		}
		out[f.name] = v
	}
	if blockType == "sampler" && kind == "sgld" {
		_, hasERM := out["erm"]
		_, hasTarget := out["target"]
		if hasERM == hasTarget {
			errs = append(errs, FieldError{Summary: "Invalid combination of arguments",
				Detail: "Exactly one of erm and target must be set."})
		}
	}
	return out, errs
}

func fakeTypeOK(typ string, v any) bool {
	switch typ {
	case "number":
		_, ok := v.(float64)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "ref":
		_, ok := v.(Ref)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "list":
		_, ok := v.([]any)
		return ok
	}
	return strings.HasPrefix(typ, "any")
}
