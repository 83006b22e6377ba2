package kinds

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// referencePath is the attribute reference that TestKindsReference keeps
// in step with the registry.
var referencePath = filepath.Join("..", "docs", "KINDS.md")

// TestKindsReference fails when docs/KINDS.md differs from the reference
// that the registered kinds give. LLCFLOW_UPDATE_DOCS=1 writes it.
func TestKindsReference(t *testing.T) {
	want := renderReference()
	if os.Getenv("LLCFLOW_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(referencePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the registered kinds: run LLCFLOW_UPDATE_DOCS=1 go test ./kinds/ -run TestKindsReference", referencePath)
	}
}

func renderReference() []byte {
	var b bytes.Buffer
	b.WriteString("# Block kinds and their attributes\n\n")
	b.WriteString("Every block kind that llcflow registers, with each attribute's type, default and bounds. This\n")
	b.WriteString("file is generated from the registry: `LLCFLOW_UPDATE_DOCS=1 go test ./kinds/ -run\n")
	b.WriteString("TestKindsReference` rewrites it, and `go test ./kinds/` fails when it is out of date. An\n")
	b.WriteString("attribute without a default is required unless it is marked optional. The version is part of\n")
	b.WriteString("every node's key: a kind whose outputs change gets a new one, so its cached runs rerun.\n")
	for _, k := range All() {
		version := k.Version
		if version == "" {
			version = "not a node"
		}
		fmt.Fprintf(&b, "\n## %s \"%s\" (%s)\n\n", k.Type, k.Name, version)
		b.WriteString("| attribute | type | default | bounds | meaning |\n|---|---|---|---|---|\n")
		for _, a := range k.Attrs {
			writeAttrRows(&b, "", a)
		}
	}
	return b.Bytes()
}

func writeAttrRows(b *bytes.Buffer, prefix string, a Attr) {
	name := prefix + a.Name
	fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", name, attrTypeName(a), attrDefault(a), attrBounds(a),
		strings.ReplaceAll(a.Doc, "|", "\\|"))
	for _, f := range a.Fields {
		writeAttrRows(b, name+".", f)
	}
}

func attrTypeName(a Attr) string {
	switch a.Type {
	case Number:
		return "number"
	case Int:
		return "whole number"
	case String:
		if len(a.Enum) > 0 {
			return "one of " + strings.Join(quoteAll(a.Enum), ", ")
		}
		return "string"
	case Bool:
		return "bool"
	case IntList:
		return "list of whole numbers"
	case NumList:
		return "list of numbers"
	case Object:
		return "object"
	case NodeRef:
		return a.RefType + " reference"
	case ModelRef:
		return "model reference"
	}
	return "?"
}

func quoteAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strconv.Quote(v)
	}
	return out
}

func attrDefault(a Attr) string {
	switch {
	case a.Default != nil:
		switch v := a.Default.(type) {
		case string:
			return strconv.Quote(v)
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64)
		case map[string]any:
			if len(v) == 0 {
				return "its fields' defaults"
			}
		}
		return fmt.Sprint(a.Default)
	case a.Optional:
		return "optional"
	case a.Type == Object:
		return "its fields' defaults"
	}
	return "required"
}

func attrBounds(a Attr) string {
	var parts []string
	if a.Min != nil {
		op := "≥"
		if a.MinExcl {
			op = ">"
		}
		parts = append(parts, op+" "+strconv.FormatFloat(*a.Min, 'g', -1, 64))
	}
	if a.Max != nil {
		parts = append(parts, "≤ "+strconv.FormatFloat(*a.Max, 'g', -1, 64))
	}
	return strings.Join(parts, ", ")
}
