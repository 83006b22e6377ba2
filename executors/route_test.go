package executors

import (
	"context"
	"testing"
)

type recordingExecutor struct {
	name string
	ran  []string
}

func (r *recordingExecutor) Name() string { return r.name }

func (r *recordingExecutor) Run(_ context.Context, spec *Spec, _ func(Event)) error {
	r.ran = append(r.ran, spec.Address)
	return nil
}

func TestRoutedSendsLocalNodesHere(t *testing.T) {
	remote := &recordingExecutor{name: "slurm"}
	here := &recordingExecutor{name: "local"}
	r := &Routed{Remote: remote, Here: here, Local: func(s *Spec) bool { return s.Type == "dataset" }}
	for _, s := range []*Spec{{Address: "dataset.d", Type: "dataset"}, {Address: "erm.e", Type: "erm"}} {
		if err := r.Run(context.Background(), s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(here.ran) != 1 || here.ran[0] != "dataset.d" {
		t.Errorf("ran here %v, want [dataset.d]", here.ran)
	}
	if len(remote.ran) != 1 || remote.ran[0] != "erm.e" {
		t.Errorf("ran remotely %v, want [erm.e]", remote.ran)
	}
	if r.Name() != "slurm" {
		t.Errorf("Name() = %q, want the remote executor's", r.Name())
	}
}
