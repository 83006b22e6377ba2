package modal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/store"
)

// nodeRun is the state of one Run across its attempts.
type nodeRun struct {
	spec   *executors.Spec
	report func(format string, args ...any)
	// computed is set once a node sandbox has exited 0, so that a later
	// attempt only downloads the run from the volume.
	computed bool
}

// attempt makes one try at a node: a sandbox that receives the inputs the
// volume lacks on stdin, runs exec-node, commits the run to the volume and
// sends it back, which is then installed in the local store.
func (e *Executor) attempt(ctx context.Context, n *nodeRun) error {
	sess, worker, err := e.ready(ctx)
	if err != nil {
		return err
	}
	spec := n.spec
	if n.computed {
		n.report("downloading run %s from volume %s", spec.RunID, e.opts.Volume)
		return e.fetch(ctx, sess, spec.Store, map[string]string{spec.RunID: spec.Key}, spec.Force)
	}

	var inputIDs, missing []string
	for _, in := range spec.Inputs {
		inputIDs = append(inputIDs, in.RunID)
	}
	// A node may read the inputs of its inputs (a sampler reads its erm's
	// dataset), so the whole closure must be on the volume.
	closure, err := inputClosure(spec.Store, inputIDs)
	if err != nil {
		return fmt.Errorf("node %s: %w", spec.Address, err)
	}
	for _, id := range closure {
		if !e.isOnVolume(id) {
			missing = append(missing, id)
		}
	}
	var stdin io.Reader
	inputsSum := ""
	if len(missing) > 0 {
		for _, id := range missing {
			if _, err := os.Stat(filepath.Join(spec.Store, id, "manifest.json")); err != nil {
				return fmt.Errorf("node %s: input run %s is not in the local store %s: %w", spec.Address, id, spec.Store, err)
			}
		}
		data, sum, err := runsArchive(spec.Store, missing)
		if err != nil {
			return fmt.Errorf("node %s: %w", spec.Address, err)
		}
		stdin, inputsSum = bytes.NewReader(data), sum
		n.report("sending %d input runs (%d bytes) to volume %s", len(missing), len(data), e.opts.Volume)
	}

	remote := *spec
	remote.Store = mountPath
	specJSON, err := json.Marshal(&remote)
	if err != nil {
		return fmt.Errorf("encode the spec of %s: %w", spec.Address, err)
	}
	download, err := createDownload(spec.Store)
	if err != nil {
		return err
	}
	defer os.Remove(download.Name())
	defer download.Close()

	n.report("starting a sandbox")
	args := append([]string{mountPath, worker.remote, worker.sum, spec.RunID, string(specJSON), inputsSum}, inputIDs...)
	out, err := e.runSandbox(ctx, sess, sandboxJob{
		purpose:   fmt.Sprintf("node %s (run %s)", spec.Address, spec.RunID),
		script:    nodeScript,
		args:      args,
		stdin:     stdin,
		archive:   download,
		timeout:   e.opts.Timeout,
		resources: true,
	})
	if err != nil {
		return err
	}
	return e.settle(ctx, n, out, inputIDs, download)
}

// settle turns the outcome of a node sandbox into the attempt's result.
func (e *Executor) settle(ctx context.Context, n *nodeRun, out *sandboxOutcome, inputIDs []string, download *os.File) error {
	spec := n.spec
	if sandboxFailed(out.result) {
		return sandboxFault(out)
	}
	switch out.exitCode {
	case 0:
		// The script checked every input on the volume before it ran the
		// node, and committed the run after.
		e.markOnVolume(inputIDs...)
		e.markOnVolume(spec.RunID)
		n.computed = true
		if err := checkArchive(out, "download run "+spec.RunID); err != nil {
			return err
		}
		n.report("installing run %s in the local store", spec.RunID)
		return installRuns(ctx, spec.Store, download, map[string]string{spec.RunID: spec.Key}, spec.Force)
	case exitNodeFailed:
		e.markOnVolume(inputIDs...)
		e.installFailure(spec, out, download)
		return &executors.NodeError{
			Address: spec.Address, RunID: spec.RunID, Stage: spec.Type,
			Log: fmt.Sprintf("volume %s: failed/%s/log.txt", e.opts.Volume, spec.RunID),
			Err: fmt.Errorf("the node failed on Modal: %s%s", describeEnd(out), tailSuffix(out)),
		}
	case exitWorkerMissing:
		e.setupMu.Lock()
		e.workerOnVolume = false
		e.setupMu.Unlock()
		return &executors.InfraError{Err: fmt.Errorf("the worker binary was not usable on the volume, so it is uploaded again: %s%s",
			describeEnd(out), tailSuffix(out))}
	case exitInputMissing:
		e.forgetOnVolume(inputIDs...)
		return &executors.InfraError{Err: fmt.Errorf("an input run was not on the volume, so the inputs are sent again: %s%s",
			describeEnd(out), tailSuffix(out))}
	case exitTransient:
		return &executors.InfraError{Err: fmt.Errorf("the worker failed to set up or send the run: %s%s",
			describeEnd(out), tailSuffix(out))}
	}
	return sandboxFault(out)
}

// sandboxFailed reports whether the control plane reported that the
// sandbox ended for a reason of its own (a timeout, a termination, a lost
// worker) rather than by its command's exit.
func sandboxFailed(res *pb.GenericResult) bool {
	if res == nil {
		return false
	}
	switch res.GetStatus() {
	case pb.GenericResult_GENERIC_STATUS_SUCCESS, pb.GenericResult_GENERIC_STATUS_FAILURE,
		pb.GenericResult_GENERIC_STATUS_UNSPECIFIED:
		return false
	}
	return true
}

// ErrRunsMissing is returned (wrapped) by Pull when a requested run is not
// on the volume.
var ErrRunsMissing = errors.New("runs are not on the volume")

// Pull downloads runs from the volume into the local store at store and
// validates each there. A run already valid in the local store is
// replaced only when force is set. An empty key in keys accepts any run
// whose key matches its run id.
func (e *Executor) Pull(ctx context.Context, store string, keys map[string]string, force bool) error {
	if len(keys) == 0 {
		return nil
	}
	for id := range keys {
		if !validRunID(id) {
			return fmt.Errorf("run id %q is invalid; expected 16 lower-case hex digits", id)
		}
	}
	sess, err := e.session(ctx)
	if err != nil {
		return err
	}
	return e.fetch(ctx, sess, store, keys, force)
}

// fetch downloads runs from the volume in one sandbox and installs them.
func (e *Executor) fetch(ctx context.Context, sess *session, store string, keys map[string]string, force bool) error {
	ids := sortedKeys(keys)
	download, err := createDownload(store)
	if err != nil {
		return err
	}
	defer os.Remove(download.Name())
	defer download.Close()
	what := fmt.Sprintf("download %d runs from volume %s", len(ids), e.opts.Volume)
	out, err := e.runSandbox(ctx, sess, sandboxJob{
		purpose: what,
		script:  fetchScript,
		args:    append([]string{mountPath}, ids...),
		archive: download,
		timeout: transferTimeout,
	})
	if err != nil {
		return err
	}
	if out.exitCode == exitRunMissing && !sandboxFailed(out.result) {
		return fmt.Errorf("%s: %w: %s", what, ErrRunsMissing, strings.Join(out.stderr.missing, ", "))
	}
	if err := checkArchive(out, what); err != nil {
		return err
	}
	return installRuns(ctx, store, download, keys, force)
}

// createDownload creates a file for a downloaded archive in the store's
// temporary area, next to where the runs are staged.
func createDownload(root string) (*os.File, error) {
	dir := filepath.Join(root, ".tmp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the store's temporary directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".modal-download-*.tar")
	if err != nil {
		return nil, fmt.Errorf("create a download file in the store: %w", err)
	}
	return f, nil
}

// installFailure copies the failure record that a failed node sandbox sent
// back into <store>/failed/<run_id>/, replacing an older one, so that the
// local store reports the node as failed as it would after a local run.
// A missing or damaged record is logged, because the node's error already
// carries its text.
func (e *Executor) installFailure(spec *executors.Spec, out *sandboxOutcome, download *os.File) {
	if err := verifyArchive(out, "download the failure record"); err != nil {
		e.logger.Warn("modal failure record not received", "address", spec.Address, "run_id", spec.RunID,
			"sandbox_id", out.sandboxID, "error", err)
		return
	}
	if err := installFailureRecord(spec.Store, spec.RunID, download); err != nil {
		e.logger.Warn("modal failure record not installed", "address", spec.Address, "run_id", spec.RunID, "error", err)
	}
}

// inputClosure returns the run ids of the given runs and of every run they
// read, transitively, from their manifests in the local store.
func inputClosure(storeRoot string, runIDs []string) ([]string, error) {
	st, err := store.Open(storeRoot)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	queue := append([]string(nil), runIDs...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		m, err := st.ReadManifest(id)
		if err != nil {
			return nil, fmt.Errorf("input run %s: %w", id, err)
		}
		for _, in := range m.Inputs {
			queue = append(queue, in.RunID)
		}
	}
	return out, nil
}
