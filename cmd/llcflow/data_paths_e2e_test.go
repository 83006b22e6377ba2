package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// Paths in an HCL file start from that file's directory, so the same
// workflow plans from any working directory and finds the same runs.
func TestDataPathsRelativeToHCLFile(t *testing.T) {
	project := dataWorkdir(t, "data.npz", "weights.npz")
	mustSucceed(t, llcflow(t, project, "apply", "data.hcl"), "apply from the HCL file's directory")

	parent := filepath.Dir(project)
	r := llcflow(t, parent, "--store", filepath.Join(project, "runs"),
		"plan", "--json", filepath.Join(filepath.Base(project), "data.hcl"))
	mustSucceed(t, r, "plan from the parent directory")
	var doc planDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("parse plan JSON: %v\n%s", err, r.stdout)
	}
	if doc.Summary.Run != 0 || doc.Summary.Cached != 3 {
		t.Errorf("plan from the parent directory: summary %+v, want all 3 nodes cached", doc.Summary)
	}
}
