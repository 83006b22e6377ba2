package dsl

import "github.com/hashicorp/hcl/v2/hclwrite"

// Format rewrites HCL source in the canonical layout of hclwrite: indented
// with two spaces, with the equals signs of adjacent attributes aligned.
// It changes only whitespace, and formatting its output again changes
// nothing. Source with syntax errors is formatted as far as it can be
// tokenized, so check it with Load first.
func Format(src []byte) []byte {
	return hclwrite.Format(src)
}
