package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/llcflow/llcflow/executors"
)

// ExitCheckpointed is the exit code of `llcflow exec-node` after it saved
// a checkpoint on SIGUSR1: the node wants a fresh attempt, which resumes
// from the checkpoint.
const ExitCheckpointed = 3

// Defaults of the Config timings.
const (
	DefaultBatchWindow  = 200 * time.Millisecond
	DefaultPollInterval = 2 * time.Second
	DefaultPollMax      = 60 * time.Second
	DefaultLostAfter    = 2 * time.Minute
)

// clockSkew is how far apart the clocks of the submitting host and the
// controller may be. A job whose SubmitTime is earlier than the recorded
// submission by more than this is a different job that reused the id.
const clockSkew = time.Minute

// Config configures an Executor.
type Config struct {
	// Store is the store directory, which must be on a filesystem shared
	// with the compute nodes. New makes it absolute.
	Store string
	// Binary is the path of the llcflow binary on the compute nodes
	// (empty: this process's executable).
	Binary string
	// Options are the sbatch settings of every job.
	Options Options
	// Logf receives the executor's decisions: submissions, retries,
	// cancellations, jobs found from an earlier apply, query errors. It
	// is called from several goroutines at once. Nil discards them.
	Logf func(format string, args ...any)

	// BatchWindow is how long the executor collects Run calls into one job
	// array after the first of them (0: DefaultBatchWindow).
	BatchWindow time.Duration
	// PollInterval is the first wait between two state queries. The wait
	// doubles while nothing changes, up to PollMax (0: DefaultPollInterval
	// and DefaultPollMax).
	PollInterval, PollMax time.Duration
	// LostAfter is how long a job may be unknown to Slurm, or finished
	// with exit code 0 but without a run in the store, before the node
	// fails (0: DefaultLostAfter).
	LostAfter time.Duration
}

// Executor runs nodes as SLURM jobs. It implements executors.Executor.
type Executor struct {
	cfg  Config
	run  runner
	host string

	arrayMu  sync.Mutex
	maxArray int // -1 until read from scontrol, guarded by arrayMu

	mu           sync.Mutex
	noAccounting bool
	pending      []*submitRequest
	flushing     bool
	watches      map[*watch]struct{}
	polling      bool
	wake         chan struct{}
	// own holds the task ids of the active jobs that this executor
	// submitted, the ones that cancellation scancels.
	own        map[string]bool
	cancelRecs []*jobRecord
	cancelDone chan struct{}

	// cancelMu serialises the appends to the batches' cancelled files.
	cancelMu sync.Mutex
}

var _ executors.Executor = (*Executor)(nil)

// New checks cfg and returns an Executor. It runs no Slurm command: the
// first Run call reads MaxArraySize and submits.
func New(cfg Config) (*Executor, error) {
	if cfg.Store == "" {
		return nil, errors.New("slurm executor: store directory is empty: set Config.Store")
	}
	store, err := filepath.Abs(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("slurm executor: store %s: %w", cfg.Store, err)
	}
	cfg.Store = store
	if cfg.Binary == "" {
		if cfg.Binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("slurm executor: find the llcflow binary: %w (set Config.Binary)", err)
		}
	}
	if err := checkLine("store", cfg.Store); err != nil {
		return nil, err
	}
	if err := checkLine("binary", cfg.Binary); err != nil {
		return nil, err
	}
	if err := cfg.Options.Validate(); err != nil {
		return nil, err
	}
	cfg.Options = cfg.Options.withDefaults()
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	setDefault(&cfg.BatchWindow, DefaultBatchWindow)
	setDefault(&cfg.PollInterval, DefaultPollInterval)
	setDefault(&cfg.PollMax, DefaultPollMax)
	setDefault(&cfg.LostAfter, DefaultLostAfter)
	if cfg.PollMax < cfg.PollInterval {
		cfg.PollMax = cfg.PollInterval
	}

	host, _ := os.Hostname()
	return &Executor{
		cfg:        cfg,
		run:        execRunner{},
		host:       host,
		maxArray:   -1,
		watches:    map[*watch]struct{}{},
		wake:       make(chan struct{}, 1),
		own:        map[string]bool{},
		cancelDone: make(chan struct{}),
	}, nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// Name returns "slurm".
func (e *Executor) Name() string { return "slurm" }

func (e *Executor) logf(format string, args ...any) { e.cfg.Logf(format, args...) }

var runIDPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]*$`)

// Run submits the node (batched with other Run calls into one job array)
// and waits until its run directory is in the store. A job recorded in the
// store by an earlier apply is waited for instead of submitted again. When
// the run came from such a job, or was in the store already, Run returns
// an error wrapping executors.ErrComputedElsewhere, so the node counts as
// cached.
func (e *Executor) Run(ctx context.Context, spec *executors.Spec, progress func(executors.Event)) error {
	if spec == nil || !runIDPattern.MatchString(spec.RunID) {
		return fmt.Errorf("slurm executor: invalid spec: run id %q is empty or has characters other than letters, digits, _ and -", runIDOf(spec))
	}
	if progress == nil {
		progress = func(executors.Event) {}
	}
	// A forced node replaces its run, so only a run directory other than
	// the one present now counts as its result.
	var before os.FileInfo
	if fi, err := os.Stat(e.runDir(spec.RunID)); err == nil {
		if !spec.Force {
			return computedElsewhere(spec)
		}
		before = fi
	}

	started := time.Now()
	attempt := 0
	last := ""
	for {
		rec, found, err := e.acquire(ctx, spec, before, attempt, last)
		if err != nil {
			return err
		}
		if rec == nil {
			return computedElsewhere(spec)
		}
		progress(executors.Event{RunID: spec.RunID, Message: "SLURM job " + rec.taskID()})

		out := e.wait(ctx, &watch{spec: spec, rec: rec, found: found, before: before,
			started: started, progress: progress})
		switch out.kind {
		case outcomeDone:
			if found {
				return computedElsewhere(spec)
			}
			return nil
		case outcomeCancelled:
			e.cancelJob(rec)
			return ctx.Err()
		case outcomeStale:
			e.logf("slurm: node %s: recorded job %s %s; submitting it again",
				spec.Address, rec.taskID(), out.reason)
		case outcomeRetry:
			attempt++
			// Not an InfraError: the caller's own retries would multiply
			// the attempts that max_retries bounds.
			if attempt > e.cfg.Options.MaxRetries {
				return fmt.Errorf(
					"node %s (run %s): SLURM job %s ended with %s and all %d retries are used: raise max_retries or timeout_min (log: %s)",
					spec.Address, spec.RunID, rec.taskID(), out.reason, e.cfg.Options.MaxRetries, rec.Log)
			}
			e.logf("slurm: node %s: job %s ended with %s; resubmitting (retry %d of %d)",
				spec.Address, rec.taskID(), out.reason, attempt, e.cfg.Options.MaxRetries)
		case outcomeFailed:
			return out.err
		case outcomeLost:
			return &executors.InfraError{Err: out.err}
		}
		last = rec.taskID()
	}
}

// computedElsewhere returns the error by which the scheduler counts the
// node of spec as cached: its run is in the store, made by a job that
// this Run call did not submit.
func computedElsewhere(spec *executors.Spec) error {
	return fmt.Errorf("%s (run %s): %w", spec.Address, spec.RunID, executors.ErrComputedElsewhere)
}

func runIDOf(spec *executors.Spec) string {
	if spec == nil {
		return ""
	}
	return spec.RunID
}

func (e *Executor) runDir(runID string) string { return filepath.Join(e.cfg.Store, runID) }

// hasResult reports whether the store has the run directory of runID,
// which exec-node renames into place only after validating it.
func (e *Executor) hasResult(runID string) bool {
	return e.hasNewResult(runID, nil)
}

// hasNewResult reports whether the store has a run directory of runID
// that is not before, the directory that a forced node replaces.
func (e *Executor) hasNewResult(runID string, before os.FileInfo) bool {
	fi, err := os.Stat(e.runDir(runID))
	if err != nil || !fi.IsDir() {
		return false
	}
	return before == nil || !os.SameFile(before, fi)
}

// acquire returns the job to wait for: the one recorded in the store when
// it is not the job that just ended (last), with found = true, or else a
// fresh submission. It returns nil when the run is in the store already.
// The run's lock is held meanwhile, so that two processes never both
// submit the node.
func (e *Executor) acquire(ctx context.Context, spec *executors.Spec, before os.FileInfo, attempt int,
	last string) (rec *jobRecord, found bool, err error) {
	unlock, err := e.lockRun(ctx, spec.RunID)
	if err != nil {
		return nil, false, err
	}
	defer unlock()

	if e.hasNewResult(spec.RunID, before) {
		return nil, false, nil
	}
	rec, err = e.readRecord(spec.RunID)
	if err != nil {
		return nil, false, err
	}
	if rec != nil && before != nil && rec.Submitted.Before(before.ModTime()) {
		// A forced node replaces the run present now. A recorded job
		// submitted before that run was written is the one that wrote it
		// (or an older one), even if SLURM still lists it as completing, so
		// waiting for it would wait for a run that never comes.
		e.logf("slurm: node %s: recorded job %s made the run that --rerun/--no-skip replaces; submitting a new job",
			spec.Address, rec.taskID())
		rec = nil
	}
	if rec != nil && e.cancelledBySubmitter(rec) {
		e.logf("slurm: node %s: recorded job %s was cancelled by the apply that submitted it (pid %d on %s); submitting a new job",
			spec.Address, rec.taskID(), rec.PID, rec.Host)
		rec = nil
	}
	if rec != nil && rec.taskID() != last {
		e.logf("slurm: node %s: found job %s (batch %s, submitted %s by %s pid %d); waiting for it",
			spec.Address, rec.taskID(), rec.Batch, rec.Submitted.Format(time.RFC3339), rec.Host, rec.PID)
		return rec, true, nil
	}
	rec, err = e.submit(ctx, spec, attempt)
	return rec, false, err
}
