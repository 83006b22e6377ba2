package dsl

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format rewrites HCL source in hclwrite's canonical layout: two-space
// indentation and aligned equals signs. hclwrite (v2.25.0) changes only
// whitespace and works on tokens, so source with syntax errors is formatted
// as far as it can be tokenized. Formatting the output again leaves it
// unchanged, which FuzzFormat checks.
func Format(src []byte) []byte {
	return hclwrite.Format(src)
}

// ParseSyntax parses HCL source without evaluating it and returns the
// syntax errors with their ranges, for llcflow fmt, which must not rewrite
// a file that does not parse.
func ParseSyntax(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	return parseConfig(src, filename)
}
