package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/llcflow/llcflow/dsl"
)

type fmtCmd struct {
	Paths []string `arg:"" optional:"" help:"HCL files or directories (default: the current directory)." type:"path"`
	Check bool     `help:"Write nothing; exit with 1 when a file is not formatted."`
	Diff  bool     `help:"Print the changes as a diff."`
}

func (f *fmtCmd) Help() string {
	return `Rewrites HCL files in the canonical layout (hclwrite), in place. Only
whitespace changes, and formatting a formatted file changes nothing. A file
with a syntax error is reported with its line and left unchanged. Example:

  llcflow fmt --check --diff examples/

Exit codes: 0 formatted, 1 a file needs formatting (--check), has a syntax
error or cannot be read, 2 usage error.`
}

func (f *fmtCmd) Run(c *cli) error {
	files, err := hclFiles(f.Paths)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	unformatted := 0
	var diags hcl.Diagnostics
	parsed := map[string]*hcl.File{}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		file, fileDiags := dsl.ParseSyntax(src, path)
		if fileDiags.HasErrors() {
			diags = append(diags, fileDiags...)
			if file != nil {
				parsed[path] = file
			}
			continue
		}
		out := dsl.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		fmt.Println(path)
		if f.Diff {
			fmt.Print(unifiedDiff(path, string(src), string(out)))
		}
		if !f.Check {
			if err := rewrite(path, out); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
		}
	}
	if len(diags) > 0 {
		_ = dsl.WriteDiagnostics(os.Stderr, diags, parsed, 100, false)
		return &exitError{code: exitFailure, err: fmt.Errorf("%s with syntax errors left unchanged; "+
			"fix them and run llcflow fmt again", countNoun(countFiles(diags), "file", "files"))}
	}
	if f.Check && unformatted > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%s formatting; run llcflow fmt without --check",
			countNoun(unformatted, "file needs", "files need"))}
	}
	return nil
}

func rewrite(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, info.Mode().Perm())
}

// countFiles returns the number of files that the diagnostics point into.
func countFiles(diags hcl.Diagnostics) int {
	files := map[string]bool{}
	for _, d := range diags {
		if d.Subject != nil {
			files[d.Subject.Filename] = true
		}
	}
	return max(len(files), 1)
}

// hclFiles expands directories into their *.hcl files, sorted.
func hclFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.hcl"))
		if err != nil {
			return nil, err
		}
		sort.Strings(matches)
		out = append(out, matches...)
	}
	return out, nil
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// diffContext is the number of unchanged lines around each hunk.
const diffContext = 3

// unifiedDiff returns the changes from a to b as a unified diff (the
// format of diff -u) with 3 lines of context, computed from a longest
// common subsequence of the lines. It returns "" when a equals b.
func unifiedDiff(name, a, b string) string {
	ops := diffLines(splitLines(a), splitLines(b))
	var sb strings.Builder
	for start := 0; start < len(ops); {
		if ops[start].kind == ' ' {
			start++
			continue
		}
		first := max(start-diffContext, 0)
		end := hunkEnd(ops, start)
		if sb.Len() == 0 {
			fmt.Fprintf(&sb, "--- %s\n+++ %s (formatted)\n", name, name)
		}
		writeHunk(&sb, ops[first:end])
		start = end
	}
	return sb.String()
}

// diffOp is one line of a diff: ' ' kept, '-' removed or '+' added, with
// its line numbers (1-based) in a and in b.
type diffOp struct {
	kind         byte
	text         string
	aLine, bLine int
}

func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines aligns x and y by a longest common subsequence, listing the
// removals of a change before its additions.
func diffLines(x, y []string) []diffOp {
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, diffOp{' ', x[i], i + 1, j + 1})
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', x[i], i + 1, j})
			i++
		default:
			ops = append(ops, diffOp{'+', y[j], i, j + 1})
			j++
		}
	}
	return ops
}

// hunkEnd returns the end of the hunk that starts with the change at
// start: it extends over changes separated by at most 2×diffContext kept
// lines, plus diffContext kept lines after the last change.
func hunkEnd(ops []diffOp, start int) int {
	end, kept := start, 0
	for k := start; k < len(ops); k++ {
		if ops[k].kind != ' ' {
			end, kept = k+1, 0
			continue
		}
		kept++
		if kept > 2*diffContext {
			break
		}
	}
	return min(end+diffContext, len(ops))
}

func writeHunk(sb *strings.Builder, ops []diffOp) {
	aStart, bStart, aCount, bCount := 0, 0, 0, 0
	for _, op := range ops {
		if op.kind != '+' {
			if aCount == 0 {
				aStart = op.aLine
			}
			aCount++
		}
		if op.kind != '-' {
			if bCount == 0 {
				bStart = op.bLine
			}
			bCount++
		}
	}
	if aCount == 0 {
		aStart = ops[0].aLine
	}
	if bCount == 0 {
		bStart = ops[0].bLine
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
	for _, op := range ops {
		text := op.text
		sb.WriteByte(op.kind)
		sb.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange writes a hunk's line range as diff -u does: "START,COUNT", or
// "START" alone for one line.
func hunkRange(start, count int) string {
	if count == 1 {
		return strconv.Itoa(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}
