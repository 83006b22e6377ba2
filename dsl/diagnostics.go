package dsl

import (
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"
)

// diagnosticExtra is the Extra of a diagnostic from Load. It carries the
// other source ranges the diagnostic refers to and the source snippet for
// DiagnosticsJSON, and wraps any Extra that hcl or cty had set.
type diagnosticExtra struct {
	related []hcl.Range
	snippet *SnippetJSON
	inner   any
}

// UnwrapDiagnosticExtra returns the Extra that was set before Load added
// its own, for hcl.DiagnosticExtra.
func (e *diagnosticExtra) UnwrapDiagnosticExtra() any {
	return e.inner
}

func extraOf(d *hcl.Diagnostic) *diagnosticExtra {
	if e, ok := d.Extra.(*diagnosticExtra); ok {
		return e
	}
	e := &diagnosticExtra{inner: d.Extra}
	d.Extra = e
	return e
}

func addRelated(d *hcl.Diagnostic, ranges ...hcl.Range) {
	e := extraOf(d)
	e.related = append(e.related, ranges...)
}

// RelatedRanges returns the source ranges, other than Subject, that a
// diagnostic from Load refers to: the first definition of a duplicated
// name, or the other references of a cycle.
func RelatedRanges(d *hcl.Diagnostic) []hcl.Range {
	if e, ok := d.Extra.(*diagnosticExtra); ok {
		return e.related
	}
	return nil
}

func diagnosticKey(d *hcl.Diagnostic) string {
	key := fmt.Sprintf("%d\x00%s\x00%s", d.Severity, d.Summary, d.Detail)
	if d.Subject != nil {
		s := d.Subject
		key += fmt.Sprintf("\x00%s\x00%d\x00%d", s.Filename, s.Start.Byte, s.End.Byte)
	}
	return key
}

// finishDiagnostics removes repeated diagnostics, sorts them (those without
// a source range first, then by file and position) and attaches snippets.
func finishDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) hcl.Diagnostics {
	seen := map[string]bool{}
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		key := diagnosticKey(d)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	for _, d := range out {
		if s := snippetOf(d, files); s != nil {
			extraOf(d).snippet = s
		}
	}
	return out
}

// snippetOf cuts the source lines that a diagnostic's Subject (and Context,
// when it is in the same file) covers.
func snippetOf(d *hcl.Diagnostic, files map[string]*hcl.File) *SnippetJSON {
	if d.Subject == nil {
		return nil
	}
	file := files[d.Subject.Filename]
	if file == nil || file.Bytes == nil {
		return nil
	}

	src := file.Bytes
	rng := *d.Subject
	if c := d.Context; c != nil && c.Filename == rng.Filename {
		rng = hcl.RangeOver(rng, *c)
	}
	start := clamp(rng.Start.Byte, 0, len(src))
	end := clamp(rng.End.Byte, start, len(src))

	for start > 0 && src[start-1] != '\n' {
		start--
	}
	for end < len(src) && src[end] != '\n' {
		end++
	}

	s := &SnippetJSON{
		Code:                 string(src[start:end]),
		StartLine:            max(rng.Start.Line, 1),
		HighlightStartOffset: clamp(d.Subject.Start.Byte-start, 0, end-start),
		HighlightEndOffset:   clamp(d.Subject.End.Byte-start, 0, end-start),
	}
	if cs, ok := file.Nav.(interface{ ContextString(int) string }); ok {
		s.Context = cs.ContextString(d.Subject.Start.Byte)
	}
	return s
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// WriteDiagnostics prints diagnostics as text with source snippets, wrapped
// at width columns (0 for no wrapping) and colored with ANSI escapes when
// color is true. A diagnostic's related ranges are named in its detail.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, width uint, color bool) error {
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags)
}

// DiagnosticJSON is the machine-readable form of a diagnostic.
type DiagnosticJSON struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	// Range is the diagnostic's Subject. It is absent for problems in
	// command-line arguments and the environment.
	Range   *RangeJSON   `json:"range,omitempty"`
	Snippet *SnippetJSON `json:"snippet,omitempty"`
	// Related are other ranges the diagnostic refers to, such as the first
	// definition of a duplicated block.
	Related []RangeJSON `json:"related,omitempty"`
}

// RangeJSON is a source range. Lines and columns count from 1 and columns
// count Unicode grapheme clusters, as in hcl.Pos. Bytes count from 0.
type RangeJSON struct {
	Filename string  `json:"filename"`
	Start    PosJSON `json:"start"`
	End      PosJSON `json:"end"`
}

// PosJSON is a position in a source file.
type PosJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// SnippetJSON is the source code around a diagnostic.
type SnippetJSON struct {
	// Context names the enclosing top-level block, such as
	// `sampler "sgld"`, or is empty.
	Context string `json:"context,omitempty"`
	// Code is the whole source lines that the subject and context cover.
	Code string `json:"code"`
	// StartLine is the line number of Code's first line.
	StartLine int `json:"start_line"`
	// HighlightStartOffset and HighlightEndOffset are the byte offsets of
	// the subject within Code.
	HighlightStartOffset int `json:"highlight_start_offset"`
	HighlightEndOffset   int `json:"highlight_end_offset"`
}

// DiagnosticsJSON converts diagnostics to their JSON form. Snippets are
// present for diagnostics returned by Load, which attaches them.
func DiagnosticsJSON(diags hcl.Diagnostics) []DiagnosticJSON {
	out := make([]DiagnosticJSON, 0, len(diags))
	for _, d := range diags {
		j := DiagnosticJSON{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
		}
		if d.Subject != nil {
			r := rangeJSON(*d.Subject)
			j.Range = &r
		}
		if e, ok := d.Extra.(*diagnosticExtra); ok {
			j.Snippet = e.snippet
			for _, r := range e.related {
				j.Related = append(j.Related, rangeJSON(r))
			}
		}
		out = append(out, j)
	}
	return out
}

func rangeJSON(r hcl.Range) RangeJSON {
	return RangeJSON{
		Filename: r.Filename,
		Start:    PosJSON{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:      PosJSON{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
	}
}
