package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/llcflow/llcflow/store"
)

type checkCmd struct {
	RunIDs []string `arg:"" optional:"" name:"run-id" help:"Runs to check (default: every run of the store)."`
	DryRun bool     `help:"Report the runs that fail and leave them in place."`
}

func (k *checkCmd) Help() string {
	return `Verifies runs fully: the manifest parses, its key is the hash of its type,
kind, version, parameters and inputs, every listed file has its recorded size
and SHA-256, and the run directory holds no unlisted files. apply checks sizes
only before it serves a cached run; check also re-hashes every file.

A run that fails is moved to STORE/failed/RUN_ID with the problems in
error.json, so the next apply recomputes it instead of serving it as
cached. Examples:

  llcflow check
  llcflow check --dry-run 0123456789abcdef

Exit codes: 0 every run passed, 1 a run failed or cannot be read, 2 usage error.`
}

func (k *checkCmd) Run(c *cli) error {
	st, err := c.openStore()
	if err != nil {
		return err
	}
	ids := k.RunIDs
	if len(ids) == 0 {
		runs, err := st.List()
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		for _, r := range runs {
			ids = append(ids, r.RunID)
		}
	}
	for _, id := range ids {
		if err := store.CheckRunID(id); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}

	quarantine := !k.DryRun
	if quarantine {
		lock, err := st.LockExclusive()
		switch {
		case errors.Is(err, store.ErrInUse):
			fmt.Fprintln(os.Stderr, "llcflow: an apply is running on the store, so failing runs are "+
				"reported but not moved; run check again after it finishes")
			quarantine = false
		case err != nil:
			return &exitError{code: exitFailure, err: err}
		default:
			defer lock.Release()
		}
	}

	bad := 0
	for _, id := range ids {
		problem := st.Verify(id)
		if problem == nil {
			fmt.Printf("ok      %s\n", id)
			continue
		}
		bad++
		fmt.Printf("corrupt %s\n        %s\n", id, strings.ReplaceAll(problem.Error(), "\n", "\n        "))
		if !quarantine {
			continue
		}
		if err := st.Quarantine(id, problem); err != nil {
			fmt.Fprintf(os.Stderr, "llcflow: %v\n", err)
			continue
		}
		fmt.Printf("        moved to %s; the next apply recomputes it\n", st.FailureDir(id))
	}
	fmt.Printf("\nChecked %d runs: %d passed, %d failed.\n", len(ids), len(ids)-bad, bad)
	if bad > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}
