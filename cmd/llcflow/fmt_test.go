package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnifiedDiffMatchesDiffU compares unifiedDiff with diff -u on files of
// distinct lines, where the longest common subsequence is unique, so both
// must give the same hunks.
func TestUnifiedDiffMatchesDiffU(t *testing.T) {
	diff, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("diff is not installed")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for trial := 0; trial < 40; trial++ {
		var a, b []string
		for i := 0; i < 30; i++ {
			line := fmt.Sprintf("line %d\n", i)
			switch rng.IntN(6) {
			case 0: // removed
				a = append(a, line)
			case 1: // added
				b = append(b, fmt.Sprintf("new %d\n", i))
				a = append(a, line)
				b = append(b, line)
			case 2: // changed
				a = append(a, line)
				b = append(b, fmt.Sprintf("changed %d\n", i))
			default:
				a = append(a, line)
				b = append(b, line)
			}
		}
		left, right := strings.Join(a, ""), strings.Join(b, "")
		pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.WriteFile(pa, []byte(left), 0o644)
		os.WriteFile(pb, []byte(right), 0o644)
		out, _ := exec.Command(diff, "-u", pa, pb).Output()
		want := hunks(string(out))
		got := hunks(unifiedDiff("a", left, right))
		if got != want {
			t.Fatalf("trial %d: hunks differ from diff -u\ngot:\n%s\nwant:\n%s", trial, got, want)
		}
	}
	if d := unifiedDiff("same", "x\n", "x\n"); d != "" {
		t.Errorf("diff of equal texts = %q, want empty", d)
	}
}

// hunks drops the --- and +++ header lines of a unified diff.
func hunks(d string) string {
	var keep []string
	for _, line := range strings.SplitAfter(d, "\n") {
		if !strings.HasPrefix(line, "--- ") && !strings.HasPrefix(line, "+++ ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}
