package modal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	sdk "github.com/modal-labs/modal-client/go"

	"github.com/llcflow/llcflow/executors"
	"github.com/llcflow/llcflow/store"
)

// transferTimeout is the sandbox lifetime of an upload, a listing or a
// download.
const transferTimeout = 30 * time.Minute

// Executor runs nodes in Modal sandboxes. It is safe for concurrent use;
// Close releases it.
type Executor struct {
	opts    Options
	logger  *slog.Logger
	results *resultRecorder
	// slots bounds the node sandboxes that run at once; nil means no bound.
	slots chan struct{}
	// tmpDir holds a worker binary built for the sandboxes.
	tmpDir string

	// setupMu serializes connecting, probing the volume and uploading the
	// worker binary, so that concurrent nodes wait for one setup.
	setupMu        sync.Mutex
	sess           *session
	worker         *workerBinary
	probed         bool
	workerOnVolume bool

	// mu guards onVolume, active and closed.
	mu sync.Mutex
	// onVolume holds the run ids known to be complete on the volume.
	onVolume map[string]bool
	active   map[string]*sdk.Sandbox
	closed   bool
}

var _ executors.Executor = (*Executor)(nil)

// New returns an executor for the options. It does not contact Modal: the
// first Run, Pull or ListRuns connects. A nil logger discards the log.
func New(opts Options, logger *slog.Logger) (*Executor, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Executor{
		opts:     opts,
		logger:   logger,
		results:  newResultRecorder(),
		onVolume: map[string]bool{},
		active:   map[string]*sdk.Sandbox{},
	}
	if opts.MaxConcurrent > 0 {
		e.slots = make(chan struct{}, opts.MaxConcurrent)
	}
	return e, nil
}

// Name returns "modal".
func (e *Executor) Name() string { return "modal" }

// Close terminates the sandboxes that are still running, closes the
// connection and removes a worker binary built for the sandboxes. Runs in
// progress then fail.
func (e *Executor) Close() error {
	e.mu.Lock()
	e.closed = true
	running := make([]*sdk.Sandbox, 0, len(e.active))
	for _, sb := range e.active {
		running = append(running, sb)
	}
	e.mu.Unlock()
	for _, sb := range running {
		e.terminate(sb, "shutdown")
	}
	e.setupMu.Lock()
	defer e.setupMu.Unlock()
	if e.sess != nil {
		e.sess.client.Close()
		e.sess = nil
	}
	if e.tmpDir != "" {
		return os.RemoveAll(e.tmpDir)
	}
	return nil
}

func (e *Executor) track(sb *sdk.Sandbox) {
	e.mu.Lock()
	e.active[sb.SandboxID] = sb
	e.mu.Unlock()
}

func (e *Executor) untrack(sb *sdk.Sandbox) {
	e.mu.Lock()
	delete(e.active, sb.SandboxID)
	e.mu.Unlock()
}

func (e *Executor) markOnVolume(ids ...string) {
	e.mu.Lock()
	for _, id := range ids {
		e.onVolume[id] = true
	}
	e.mu.Unlock()
}

func (e *Executor) forgetOnVolume(ids ...string) {
	e.mu.Lock()
	for _, id := range ids {
		delete(e.onVolume, id)
	}
	e.mu.Unlock()
}

func (e *Executor) isOnVolume(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.onVolume[id]
}

// Run runs the node in a sandbox and downloads its run into the local
// store at spec.Store. Transient failures are retried Options.Retries
// times, after waits that start at BackoffInitial and grow by
// BackoffFactor. A failure of the node itself is returned at once as an
// *executors.NodeError. Once the retries are used up, the error is a plain
// one rather than an *executors.InfraError.
func (e *Executor) Run(ctx context.Context, spec *executors.Spec, progress func(executors.Event)) error {
	if err := checkSpec(spec); err != nil {
		return err
	}
	if progress == nil {
		progress = func(executors.Event) {}
	}
	report := func(format string, args ...any) {
		progress(executors.Event{RunID: spec.RunID, Message: "modal: " + fmt.Sprintf(format, args...)})
	}
	n := &nodeRun{spec: spec, report: report}
	attempts := e.opts.Retries + 1
	for attempt := 1; ; attempt++ {
		err := e.withSlot(ctx, func() error { return e.attempt(ctx, n) })
		if err == nil {
			progress(executors.Event{RunID: spec.RunID, Fraction: 1, Message: "modal: run downloaded"})
			return recordRun(spec)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var infra *executors.InfraError
		if !errors.As(err, &infra) {
			return err
		}
		if attempt == attempts {
			// The last error is formatted rather than wrapped, so that the
			// caller does not retry again what was retried here.
			return fmt.Errorf("%s (run %s) on Modal: gave up after %d attempts; the last failed with: %v",
				spec.Address, spec.RunID, attempts, err)
		}
		delay := e.backoff(attempt)
		e.logger.Warn("modal attempt failed; retrying", "address", spec.Address, "run_id", spec.RunID,
			"attempt", attempt, "attempts", attempts, "retry_in", delay, "error", err)
		report("attempt %d of %d failed, retrying in %v: %v", attempt, attempts, delay, err)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// recordRun adds the installed run to the local store's index, as a run
// committed locally is, so that plan can compare later nodes with it.
func recordRun(spec *executors.Spec) error {
	st, err := store.Open(spec.Store)
	if err != nil {
		return err
	}
	return st.Record(spec.Address, spec.RunID, spec.Key)
}

// backoff returns the wait after the given failed attempt (1-based):
// BackoffInitial × BackoffFactor^(attempt−1).
func (e *Executor) backoff(attempt int) time.Duration {
	d := float64(e.opts.BackoffInitial) * math.Pow(e.opts.BackoffFactor, float64(attempt-1))
	if d > float64(math.MaxInt64) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

func (e *Executor) withSlot(ctx context.Context, f func() error) error {
	if e.slots == nil {
		return f()
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.slots }()
	return f()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkSpec rejects a spec that cannot name a run in the local store.
func checkSpec(spec *executors.Spec) error {
	if spec == nil {
		return errors.New("modal executor: nil spec")
	}
	if !validRunID(spec.RunID) {
		return fmt.Errorf("node %s has run id %q; expected 16 lower-case hex digits", spec.Address, spec.RunID)
	}
	if !filepath.IsAbs(spec.Store) {
		return fmt.Errorf("node %s: store path %q is not absolute", spec.Address, spec.Store)
	}
	for _, in := range spec.Inputs {
		if !validRunID(in.RunID) {
			return fmt.Errorf("node %s: input %s has run id %q; expected 16 lower-case hex digits", spec.Address, in.Address, in.RunID)
		}
	}
	return nil
}

func validRunID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ready connects, finds the worker binary, lists the runs on the volume
// and uploads the worker binary, each once, and returns the session.
func (e *Executor) ready(ctx context.Context) (*session, workerBinary, error) {
	e.setupMu.Lock()
	defer e.setupMu.Unlock()
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, workerBinary{}, errors.New("modal executor is closed")
	}
	if e.sess == nil {
		sess, err := connect(ctx, e.opts, clientDeps{logger: e.logger, results: e.results})
		if err != nil {
			return nil, workerBinary{}, err
		}
		e.sess = sess
		e.logger.Info("connected to Modal", "app", e.opts.App, "app_id", sess.app.AppID,
			"volume", e.opts.Volume, "volume_id", sess.volume.VolumeID)
	}
	if e.worker == nil {
		if e.tmpDir == "" && e.opts.WorkerBinary == "" {
			dir, err := os.MkdirTemp("", "llcflow-modal-")
			if err != nil {
				return nil, workerBinary{}, fmt.Errorf("create a directory for the worker binary: %w", err)
			}
			e.tmpDir = dir
		}
		w, err := resolveWorker(ctx, e.opts.WorkerBinary, e.tmpDir)
		if err != nil {
			return nil, workerBinary{}, err
		}
		e.worker = &w
	}
	if !e.probed {
		ids, present, err := e.probe(ctx, e.sess, *e.worker)
		if err != nil {
			return nil, workerBinary{}, err
		}
		e.markOnVolume(ids...)
		e.workerOnVolume = present
		e.probed = true
	}
	if !e.workerOnVolume {
		if err := e.uploadWorker(ctx, e.sess, *e.worker); err != nil {
			return nil, workerBinary{}, err
		}
		e.workerOnVolume = true
	}
	return e.sess, *e.worker, nil
}

// session returns the connection without touching the worker binary, for
// Pull and ListRuns.
func (e *Executor) session(ctx context.Context) (*session, error) {
	e.setupMu.Lock()
	defer e.setupMu.Unlock()
	if e.sess == nil {
		sess, err := connect(ctx, e.opts, clientDeps{logger: e.logger, results: e.results})
		if err != nil {
			return nil, err
		}
		e.sess = sess
	}
	return e.sess, nil
}

// probe lists the runs on the volume and checks for the worker binary.
func (e *Executor) probe(ctx context.Context, sess *session, w workerBinary) ([]string, bool, error) {
	out, err := e.runSandbox(ctx, sess, sandboxJob{
		purpose: "list the runs on the volume",
		script:  probeScript,
		args:    []string{mountPath, w.remote, w.sum},
		timeout: transferTimeout,
	})
	if err != nil {
		return nil, false, err
	}
	if out.exitCode != 0 || out.archiveErr != nil {
		return nil, false, transferFault(out, "list the runs on the volume")
	}
	var ids []string
	for _, line := range splitLines(string(out.stdout)) {
		if validRunID(line) {
			ids = append(ids, line)
		}
	}
	return ids, out.stderr.workerPresent, nil
}

// uploadWorker copies the worker binary to the volume.
func (e *Executor) uploadWorker(ctx context.Context, sess *session, w workerBinary) error {
	f, err := os.Open(w.path)
	if err != nil {
		return fmt.Errorf("open worker binary: %w", err)
	}
	defer f.Close()
	e.logger.Info("uploading the worker binary to the volume", "path", w.path, "sha256", w.sum, "remote", w.remote)
	out, err := e.runSandbox(ctx, sess, sandboxJob{
		purpose: "upload the worker binary",
		script:  uploadWorkerScript,
		args:    []string{mountPath, w.remote, w.sum},
		stdin:   f,
		timeout: transferTimeout,
	})
	if err != nil {
		return err
	}
	if out.exitCode != 0 {
		return transferFault(out, "upload the worker binary")
	}
	return nil
}

// transferFault describes a failed upload, listing or download. These are
// retried like a lost sandbox: nothing in them depends on the node.
func transferFault(out *sandboxOutcome, what string) error {
	detail := describeEnd(out)
	if out.archiveErr != nil {
		detail += "; " + out.archiveErr.Error()
	}
	return &executors.InfraError{Err: fmt.Errorf("%s: %s%s", what, detail, tailSuffix(out))}
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// VolumeRun is a run stored on the volume.
type VolumeRun struct {
	RunID string
	// Manifest is the run's manifest.json as stored.
	Manifest json.RawMessage
	// Provenance is the run's provenance.json, or nil when it has none.
	Provenance json.RawMessage
}

// ListRuns returns the runs on the volume, sorted by run id, with their
// manifests and provenance.
func (e *Executor) ListRuns(ctx context.Context) ([]VolumeRun, error) {
	sess, err := e.session(ctx)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "llcflow-manifests-*.tar")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	out, err := e.runSandbox(ctx, sess, sandboxJob{
		purpose: "list the manifests on the volume",
		script:  manifestsScript,
		args:    []string{mountPath},
		archive: tmp,
		timeout: transferTimeout,
	})
	if err != nil {
		return nil, err
	}
	if err := checkArchive(out, "list the manifests on the volume"); err != nil {
		return nil, err
	}
	return readManifests(tmp)
}

// checkArchive returns an error unless the sandbox exited 0 and the archive
// arrived whole, as its announced checksum shows.
func checkArchive(out *sandboxOutcome, what string) error {
	if out.exitCode != 0 {
		return transferFault(out, what)
	}
	return verifyArchive(out, what)
}

// verifyArchive returns an error unless the archive arrived whole, as the
// checksum that the sandbox announced shows.
func verifyArchive(out *sandboxOutcome, what string) error {
	if out.archiveErr != nil {
		return &executors.InfraError{Err: fmt.Errorf("%s: the archive from sandbox %s arrived incomplete, so the transfer lost data: %w",
			what, out.sandboxID, out.archiveErr)}
	}
	if out.stderr.archiveSum == "" {
		return &executors.InfraError{Err: fmt.Errorf("%s: %s without the archive checksum line%s",
			what, describeEnd(out), tailSuffix(out))}
	}
	if out.stderr.archiveSum != out.archiveSum {
		return &executors.InfraError{Err: fmt.Errorf("%s: the archive from sandbox %s has sha256 %s, but the sandbox sent %s; the transfer lost data",
			what, out.sandboxID, out.archiveSum, out.stderr.archiveSum)}
	}
	return nil
}

func readManifests(f *os.File) ([]VolumeRun, error) {
	dir, err := os.MkdirTemp("", "llcflow-manifests-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := extractArchive(f, dir, anyRunID{}); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var runs []VolumeRun
	for _, ent := range entries {
		data, err := os.ReadFile(filepath.Join(dir, ent.Name(), "manifest.json"))
		if err != nil {
			return nil, fmt.Errorf("read manifest of run %s: %w", ent.Name(), err)
		}
		run := VolumeRun{RunID: ent.Name(), Manifest: data}
		if prov, err := os.ReadFile(filepath.Join(dir, ent.Name(), "provenance.json")); err == nil {
			run.Provenance = prov
		}
		runs = append(runs, run)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].RunID < runs[j].RunID })
	return runs, nil
}

// anyRunID allows every well-formed run id in extractArchive.
type anyRunID struct{}

func (anyRunID) allows(id string) bool { return validRunID(id) }
