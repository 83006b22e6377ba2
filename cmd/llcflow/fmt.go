package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/llcflow/llcflow/dsl"
)

type fmtCmd struct {
	Paths []string `arg:"" optional:"" help:"HCL files or directories (default: the current directory)." type:"path"`
	Check bool     `help:"Write nothing; exit with 1 when a file is not formatted."`
	Diff  bool     `help:"Print the changes as a diff."`
}

func (f *fmtCmd) Help() string {
	return `Rewrites HCL files in the canonical layout (hclwrite), in place. Example:

  llcflow fmt --check --diff examples/

Exit codes: 0 formatted, 1 a file needs formatting (--check) or cannot be read, 2 usage error.`
}

func (f *fmtCmd) Run(c *cli) error {
	files, err := hclFiles(f.Paths)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	unformatted := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		out := dsl.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		fmt.Println(path)
		if f.Diff {
			fmt.Print(lineDiff(path, string(src), string(out)))
		}
		if !f.Check {
			info, err := os.Stat(path)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if err := writeFileAtomic(path, out, info.Mode().Perm()); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
		}
	}
	if f.Check && unformatted > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d files need formatting; run llcflow fmt without --check", unformatted)}
	}
	return nil
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

// lineDiff returns a minimal line diff of a and b (longest common
// subsequence), with - and + markers and no context folding.
func lineDiff(name, a, b string) string {
	x := strings.SplitAfter(a, "\n")
	y := strings.SplitAfter(b, "\n")
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
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s (formatted)\n", name, name)
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			sb.WriteString("+" + strings.TrimSuffix(y[j], "\n") + "\n")
			j++
		default:
			sb.WriteString("-" + strings.TrimSuffix(x[i], "\n") + "\n")
			i++
		}
	}
	return sb.String()
}
