// Command fakeworker replaces `llcflow exec-node` in tests of the Modal
// executor. It takes the same arguments, exits with the same codes and
// writes the same store layout. `fakeworker exec-node [--executor=NAME]
// SPEC_FILE` checks that every input is a valid run of the spec's store,
// then writes the node's run through a store transaction. Its result.json holds the node's "value"
// parameter plus the values of its inputs, so a wrong or missing input
// changes the bytes.
//
// Like exec-node it exits 0 at once when a valid run is already in the
// store (unless the spec has force set), and 1 after recording a failure
// in <store>/failed/<run_id>/. Parameters that change its behaviour:
// "fail" (true: fail the node), "interrupted" (true: exit 1 without a
// failure record, as exec-node does on SIGTERM) and "sleep_ms" (wait that
// long first, for tests of cancellation).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/store"
)

func main() {
	args := os.Args[1:]
	executor := "local"
	if len(args) == 3 && strings.HasPrefix(args[1], "--executor=") {
		executor = strings.TrimPrefix(args[1], "--executor=")
		args = []string{args[0], args[2]}
	}
	if len(args) != 2 || args[0] != "exec-node" {
		fmt.Fprintln(os.Stderr, "usage: fakeworker exec-node [--executor=NAME] SPEC_FILE")
		os.Exit(2)
	}
	if err := run(args[1], executor); err != nil {
		fmt.Fprintln(os.Stderr, "fakeworker:", err)
		os.Exit(1)
	}
}

func run(specFile, executor string) error {
	data, err := os.ReadFile(specFile)
	if err != nil {
		return err
	}
	var s executors.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("parse %s: %w", specFile, err)
	}
	st, err := store.Open(s.Store)
	if err != nil {
		return err
	}

	value, _ := s.Params["value"].(float64)
	var inputs []store.ManifestInput
	for _, in := range s.Inputs {
		status, detail, err := st.Status(in.RunID, in.Key)
		if err != nil {
			return err
		}
		if status != store.StatusValid {
			return fmt.Errorf("input %s (run %s) is not in the store %s: %s", in.Address, in.RunID, st.Root(), detail)
		}
		var r struct {
			Value float64 `json:"value"`
		}
		if err := st.ReadResult(in.RunID, &r); err != nil {
			return err
		}
		value += r.Value
		inputs = append(inputs, store.ManifestInput{Role: in.Role, RunID: in.RunID, Key: in.Key})
	}

	txn, err := st.Begin(context.Background(), store.Begin{
		Key: s.Key, RunID: s.RunID, Address: s.Address, Type: s.Type, Kind: s.Kind,
		Version: s.Version, Params: s.Params, Inputs: inputs, Force: s.Force,
	})
	if errors.Is(err, store.ErrCached) {
		return nil
	}
	if err != nil {
		return err
	}
	defer txn.Abort()

	prov := store.Provenance{Address: s.Address, Executor: executor}
	if ms, ok := s.Params["sleep_ms"].(float64); ok {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if interrupted, _ := s.Params["interrupted"].(bool); interrupted {
		return errors.New("interrupted")
	}
	if fail, _ := s.Params["fail"].(bool); fail {
		cause := errors.New("the node was asked to fail")
		if err := txn.Fail(s.Type, cause, prov); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w", s.Address, cause)
	}

	result, err := json.Marshal(map[string]any{"value": value})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(txn.Dir(), "result.json"), result, 0o644); err != nil {
		return err
	}
	return txn.Commit(prov)
}
