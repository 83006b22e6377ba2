package modal

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/llcflow/llcflow/store"
)

// installRuns extracts a downloaded archive of runs into the store's
// temporary area, validates each run there against its expected key (an
// empty key accepts the key the manifest records), and renames each into
// <store>/<run_id>. The rename is the commit point, so the store never
// holds half a run. An existing valid run is kept unless force is set.
//
// NOTE: the store's per-run lock is not taken, because the store offers no
// call that imports a finished run under it. An apply that writes the same
// run at the same time ends with one of the two valid copies in place.
func installRuns(ctx context.Context, root string, archive *os.File, keys map[string]string, force bool) error {
	st, err := store.Open(root)
	if err != nil {
		return err
	}
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return err
	}

	tmp := filepath.Join(st.Root(), ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("create the store's temporary directory: %w", err)
	}
	// The ".modal-" prefix keeps the store's cleanup of stale run
	// directories, which matches "<run_id>.*", away from this one.
	staging, err := os.MkdirTemp(tmp, ".modal-")
	if err != nil {
		return fmt.Errorf("create a staging directory in the store: %w", err)
	}
	defer os.RemoveAll(staging)

	allowed := runSet{}
	for id := range keys {
		allowed[id] = true
	}
	if _, err := extractArchive(archive, staging, allowed); err != nil {
		return fmt.Errorf("extract the downloaded runs: %w", err)
	}
	staged, err := store.Open(staging)
	if err != nil {
		return err
	}

	for _, id := range sortedKeys(keys) {
		// The run's lock keeps a local commit of the same run, or another
		// apply installing it, from renaming the directory meanwhile.
		lock, err := st.LockRun(ctx, id, 0)
		if err != nil {
			return fmt.Errorf("install run %s: %w", id, err)
		}
		err = installRun(st, staged, id, keys[id], force)
		if rerr := lock.Release(); err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	return syncDir(st.Root())
}

// installFailureRecord extracts an archive of failed/<run_id>/ from the
// volume and renames it to <store>/failed/<run_id>/.
func installFailureRecord(root, runID string, archive *os.File) error {
	st, err := store.Open(root)
	if err != nil {
		return err
	}
	if _, err := archive.Seek(0, io.SeekStart); err != nil {
		return err
	}

	tmp := filepath.Join(st.Root(), ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(tmp, ".modal-failure-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	if _, err := extractArchive(archive, staging, runSet{runID: true}); err != nil {
		return fmt.Errorf("extract the failure record: %w", err)
	}
	if _, err := os.Stat(filepath.Join(staging, runID, "error.json")); err != nil {
		return fmt.Errorf("the failure record has no error.json: %w", err)
	}

	final := st.FailureDir(runID)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(filepath.Join(staging, runID), final)
}

func installRun(st, staged *store.Store, id, key string, force bool) error {
	if key == "" {
		m, err := staged.ReadManifest(id)
		if err != nil {
			return fmt.Errorf("downloaded run %s is invalid: %w", id, err)
		}
		key = m.Key
	}
	if status, detail, err := staged.Status(id, key); err != nil {
		return err
	} else if status != store.StatusValid {
		return fmt.Errorf("downloaded run %s is invalid (%s): %s", id, status, detail)
	}
	final := st.RunDir(id)
	if _, err := os.Lstat(final); err == nil {
		status, _, err := st.Status(id, key)
		if err != nil {
			return err
		}
		if status == store.StatusValid && !force {
			return nil
		}
		if err := os.Rename(final, filepath.Join(staged.Root(), "replaced-"+id)); err != nil {
			return fmt.Errorf("move aside the existing run %s: %w", final, err)
		}
	}
	if err := os.Rename(staged.RunDir(id), final); err != nil {
		return fmt.Errorf("install run %s: %w", final, err)
	}
	status, detail, err := st.Status(id, key)
	if err != nil {
		return err
	}
	if status != store.StatusValid {
		return fmt.Errorf("installed run %s is invalid (%s): %s", final, status, detail)
	}
	// A valid run supersedes the record of an earlier failed attempt.
	if err := os.RemoveAll(st.FailureDir(id)); err != nil {
		return fmt.Errorf("remove the failure record of run %s: %w", id, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
