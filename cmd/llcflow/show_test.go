package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// hmcSeedsHCL is a short HMC run on a quadratic target for each of the
// seeds, a comma-separated list.
func hmcSeedsHCL(seeds string) string {
	return `
sweep {
  seed = [` + seeds + `]
}

target "q" {
  kind        = "quadratic"
  eigenvalues = [1, 1]
}

sampler "hmc" {
  kind   = "hmc"
  target = target.q
  n_beta = 100
  warmup = 50
  draws  = 100
  chains = 2
  seed   = sweep.seed
}
`
}

// show prints a valid run by address or run id with exit 0, and exits 1
// for a node without a valid run, an unknown address or a pattern that
// matches several nodes.
func TestShowExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeHCL(t, dir, "show.hcl", hmcSeedsHCL("0, 1"))
	path := filepath.Join(dir, "show.hcl")
	mustSucceed(t, llcflow(t, dir, "apply", "--target", "sampler.hmc[seed=0]", path), "apply")

	r := llcflow(t, dir, "show", "sampler.hmc[seed=0]", path)
	mustSucceed(t, r, "show by address")
	if !strings.Contains(r.stdout, "sampler.hmc[seed=0]") {
		t.Errorf("show by address: stdout lacks the address:\n%s", r.stdout)
	}
	runID := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "run id"); ok {
			runID = strings.TrimSpace(rest)
		}
	}
	if runID == "" {
		t.Fatalf("show by address: no run id line in\n%s", r.stdout)
	}
	mustSucceed(t, llcflow(t, dir, "show", runID), "show by run id")
	if r := llcflow(t, dir, "show", "0123456789abcdef"); r.code != 1 || !strings.Contains(r.stderr, "is not in the store") {
		t.Errorf("show of an unknown run id: exit %d, stderr %q, want exit 1 and \"is not in the store\"", r.code, r.stderr)
	}

	cases := []struct{ target, want string }{
		{"sampler.hmc[seed=1]", "seed=1"},
		{"sampler.nosuch", "no node has the address"},
		{"sampler.hmc", "matches 2 nodes"},
	}
	for _, c := range cases {
		r := llcflow(t, dir, "show", c.target, path)
		if r.code != 1 {
			t.Errorf("show %s: exit %d, want 1 (stdout %q, stderr %q)", c.target, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("show %s: output lacks %q:\n%s%s", c.target, c.want, r.stdout, r.stderr)
		}
	}
}
