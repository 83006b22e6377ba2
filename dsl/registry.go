package dsl

import (
	"fmt"
	"reflect"

	"github.com/zclconf/go-cty/cty"
)

// Registry validates the attributes of node blocks per kind. Package kinds
// implements it.
type Registry interface {
	// Kinds returns the valid kinds for a block type: "dataset", "model",
	// "erm", "target" or "sampler".
	Kinds(blockType string) []string
	// Version returns the implementation version of a kind, such as
	// "sgld/1".
	Version(blockType, kind string) string
	// Normalize checks the attributes of one block instance, the kind
	// attribute excluded, and returns them with defaults filled in. Values
	// are JSON-like (nil, bool, float64, string, []any, map[string]any),
	// plus Ref for references to dataset, erm and target blocks.
	Normalize(blockType, kind string, attrs map[string]any) (map[string]any, []FieldError)
}

// FieldError is one problem that Registry.Normalize found in a block.
type FieldError struct {
	// Attr is the top-level attribute the problem is in, or "" for the
	// block itself.
	Attr string
	// Summary is a short title, such as "Unsupported argument",
	// "Invalid value" or "Missing required argument".
	Summary string
	// Detail is one or more full sentences: what is wrong, the value, and
	// what to do, such as `Did you mean "step_size"?`.
	Detail string
}

// Ref is a reference from one block instance to a dataset, erm or target
// block instance.
type Ref struct {
	// Type is the referenced block type: "dataset", "erm" or "target".
	Type string
	// Name is the referenced block's label.
	Name string
	// Address is the referenced instance's node address, such as
	// `dataset.teacher[seed=1]`.
	Address string
}

// refType carries a Ref through cty expressions as a capsule value, so that
// `dataset = dataset.teacher` evaluates to the instance it names.
var refType = cty.CapsuleWithOps("block reference", reflect.TypeFor[Ref](), &cty.CapsuleOps{
	GoString: func(v any) string {
		return fmt.Sprintf("dsl.Ref{Address: %q}", v.(*Ref).Address)
	},
	TypeGoString: func(reflect.Type) string {
		return "dsl.refType"
	},
	Equals: func(a, b any) cty.Value {
		return cty.BoolVal(*a.(*Ref) == *b.(*Ref))
	},
	RawEquals: func(a, b any) bool {
		return *a.(*Ref) == *b.(*Ref)
	},
})

func refValue(r Ref) cty.Value {
	return cty.CapsuleVal(refType, &r)
}
