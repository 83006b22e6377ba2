package modal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	sdk "github.com/modal-labs/modal-client/go"
	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"

	"github.com/llcflow/llcflow/executors"
)

const (
	// stdinChunk is the size of one stdin write, each of which is one RPC.
	stdinChunk = 1 << 20
	// stderrTailBytes is how much of a sandbox's stderr is kept for
	// messages.
	stderrTailBytes = 16 << 10
	// waitGrace is how long past its own timeout a sandbox may take to
	// report its end before the executor terminates it.
	waitGrace = 5 * time.Minute
	// drainGrace bounds the wait for the end of stdout and stderr after
	// the sandbox has exited.
	drainGrace = time.Minute
	// terminateTimeout bounds the Terminate call on cancellation.
	terminateTimeout = 30 * time.Second
	// maxTextOutput bounds the plain-text stdout of a sandbox (the probe's
	// run list).
	maxTextOutput = 64 << 20
)

// sandboxJob is one command run as the entry command of a new sandbox.
type sandboxJob struct {
	// purpose names the job in messages, such as "node erm.fit (run ...)".
	purpose string
	// script and args are run as `sh -c script purpose args...`.
	script string
	args   []string
	// stdin is written to the command's stdin, which is then closed.
	stdin io.Reader
	// archive, when set, receives the base64 archive the command sends on
	// stdout, decoded; otherwise stdout is kept as text.
	archive io.Writer
	// timeout is the sandbox's lifetime.
	timeout time.Duration
	// resources applies Options.CPU and Options.MemoryMiB.
	resources bool
}

// sandboxOutcome is the exit code, result and output of a finished sandbox.
type sandboxOutcome struct {
	sandboxID string
	exitCode  int
	// result is the control plane's final result, or nil when unknown.
	result *pb.GenericResult
	stderr *stderrCollector
	// stdout is the plain-text output of a job without an archive.
	stdout []byte
	// archiveSum is the SHA-256 of the decoded archive, and archiveErr
	// why it could not be received.
	archiveSum string
	archiveErr error
}

// runSandbox creates a sandbox for the job, streams its stdin and output,
// and waits for it to end. An error means the sandbox could not be run to
// its end; the exit code and output are in the outcome otherwise.
// Cancelling ctx terminates the sandbox and returns ctx's error.
func (e *Executor) runSandbox(ctx context.Context, sess *session, job sandboxJob) (*sandboxOutcome, error) {
	params := &sdk.SandboxCreateParams{
		Command: append([]string{"sh", "-c", job.script, job.purpose}, job.args...),
		Volumes: map[string]*sdk.Volume{mountPath: sess.volume},
		Timeout: wholeSeconds(job.timeout),
	}
	if job.resources {
		params.CPU = e.opts.CPU
		params.MemoryMiB = e.opts.MemoryMiB
	}
	sb, err := sess.client.Sandboxes.Create(ctx, sess.app, sess.image, params)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classifySDKError("create a sandbox for "+job.purpose, err)
	}
	e.track(sb)
	defer e.untrack(sb)
	e.logger.Debug("modal sandbox started", "sandbox_id", sb.SandboxID, "purpose", job.purpose)

	out := &sandboxOutcome{sandboxID: sb.SandboxID, stderr: newStderrCollector()}
	go e.feedStdin(sb, job)
	var streams sync.WaitGroup
	streams.Add(2)
	go func() {
		defer streams.Done()
		_, _ = io.Copy(out.stderr, sb.Stderr)
	}()
	go func() {
		defer streams.Done()
		if job.archive != nil {
			out.archiveSum, out.archiveErr = receiveArchive(sb.Stdout, job.archive)
			return
		}
		out.stdout, out.archiveErr = readLimited(sb.Stdout, maxTextOutput)
	}()
	outputDone := make(chan struct{})
	go func() {
		streams.Wait()
		close(outputDone)
	}()

	waitCtx, cancel := context.WithTimeout(ctx, params.Timeout+waitGrace)
	defer cancel()
	code, err := sb.Wait(waitCtx, nil)
	if err != nil {
		e.terminate(sb, job.purpose)
		closeOutput(sb)
		<-outputDone
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if waitCtx.Err() != nil {
			return nil, &executors.InfraError{Err: fmt.Errorf(
				"sandbox %s for %s did not end within %v of its timeout; it was terminated", sb.SandboxID, job.purpose, waitGrace)}
		}
		return nil, classifySDKError(fmt.Sprintf("wait for sandbox %s (%s)", sb.SandboxID, job.purpose), err)
	}
	out.exitCode = code
	out.result = e.results.take(sb.SandboxID)

	select {
	case <-outputDone:
	case <-time.After(drainGrace):
		closeOutput(sb)
		<-outputDone
		if out.archiveErr == nil {
			out.archiveErr = fmt.Errorf("the output of sandbox %s did not end within %v of its exit", sb.SandboxID, drainGrace)
		}
	case <-ctx.Done():
		closeOutput(sb)
		<-outputDone
		return nil, ctx.Err()
	}
	e.logger.Debug("modal sandbox ended", "sandbox_id", sb.SandboxID, "purpose", job.purpose,
		"exit_code", code, "status", resultStatus(out.result))
	return out, nil
}

// feedStdin writes the job's stdin in chunks and closes it. A write error
// ends the feed: the script checks what it received, so a short input
// shows in its exit status.
func (e *Executor) feedStdin(sb *sdk.Sandbox, job sandboxJob) {
	if job.stdin != nil {
		buf := make([]byte, stdinChunk)
		for {
			n, err := io.ReadFull(job.stdin, buf)
			if n > 0 {
				if _, werr := sb.Stdin.Write(buf[:n]); werr != nil {
					e.logger.Debug("modal stdin write failed", "sandbox_id", sb.SandboxID, "error", werr)
					return
				}
			}
			if err != nil {
				break
			}
		}
	}
	if err := sb.Stdin.Close(); err != nil {
		e.logger.Debug("modal stdin close failed", "sandbox_id", sb.SandboxID, "error", err)
	}
}

// terminate stops a sandbox on a context of its own, because the caller's
// may be cancelled already.
func (e *Executor) terminate(sb *sdk.Sandbox, purpose string) {
	ctx, cancel := context.WithTimeout(context.Background(), terminateTimeout)
	defer cancel()
	if _, err := sb.Terminate(ctx, nil); err != nil {
		e.logger.Warn("modal sandbox terminate failed", "sandbox_id", sb.SandboxID, "purpose", purpose, "error", err)
		return
	}
	e.logger.Info("modal sandbox terminated", "sandbox_id", sb.SandboxID, "purpose", purpose)
}

func closeOutput(sb *sdk.Sandbox) {
	_ = sb.Stdout.Close()
	_ = sb.Stderr.Close()
}

// wholeSeconds rounds d up to whole seconds, as Modal requires.
func wholeSeconds(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("sandbox output exceeds %d bytes", limit)
	}
	return data, err
}

func resultStatus(res *pb.GenericResult) string {
	if res == nil {
		return "unknown"
	}
	return strings.ToLower(strings.TrimPrefix(res.GetStatus().String(), "GENERIC_STATUS_"))
}

// stderrCollector keeps the tail of a sandbox's stderr and the marker
// lines of the scripts.
type stderrCollector struct {
	mu      sync.Mutex
	tail    []byte
	partial []byte
	// archiveSum is the SHA-256 the script announced for its archive.
	archiveSum string
	// missing are the run ids the fetch script did not find.
	missing []string
	// workerPresent is set when the probe found the worker binary.
	workerPresent bool
}

func newStderrCollector() *stderrCollector { return &stderrCollector{} }

func (c *stderrCollector) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(c.tail, p...)
	if over := len(c.tail) - stderrTailBytes; over > 0 {
		c.tail = append(c.tail[:0:0], c.tail[over:]...)
	}
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.line(string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
	if len(c.partial) > stderrTailBytes {
		c.partial = c.partial[:0]
	}
	return len(p), nil
}

func (c *stderrCollector) line(s string) {
	switch {
	case strings.HasPrefix(s, archiveMarker):
		c.archiveSum = strings.TrimSpace(strings.TrimPrefix(s, archiveMarker))
	case strings.HasPrefix(s, missingMarker):
		c.missing = append(c.missing, strings.TrimSpace(strings.TrimPrefix(s, missingMarker)))
	case s == "llcflow-worker: worker binary present":
		c.workerPresent = true
	}
}

// Tail returns the end of stderr without the scripts' archive checksum
// line, for error messages.
func (c *stderrCollector) Tail() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var kept []string
	for _, l := range strings.Split(string(c.tail), "\n") {
		if !strings.HasPrefix(l, archiveMarker) {
			kept = append(kept, l)
		}
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

// describeEnd says how a sandbox ended, for error messages: its exit code
// and, when the control plane reported one, its status and exception.
func describeEnd(out *sandboxOutcome) string {
	msg := fmt.Sprintf("sandbox %s exited with status %d", out.sandboxID, out.exitCode)
	if out.result != nil {
		msg += fmt.Sprintf(" (Modal status %s", resultStatus(out.result))
		if ex := strings.TrimSpace(out.result.GetException()); ex != "" {
			msg += ": " + ex
		}
		msg += ")"
	}
	return msg
}

// sandboxFault classifies an outcome whose exit code is not one of the
// scripts' own, as a transient failure with the reason.
func sandboxFault(out *sandboxOutcome) error {
	reason := "the sandbox failed"
	status := pb.GenericResult_GENERIC_STATUS_UNSPECIFIED
	if out.result != nil {
		status = out.result.GetStatus()
	}
	switch {
	case status == pb.GenericResult_GENERIC_STATUS_TIMEOUT || out.exitCode == 124:
		reason = "the sandbox timed out"
	case status == pb.GenericResult_GENERIC_STATUS_TERMINATED || out.exitCode == 137:
		reason = "the sandbox was terminated (preempted, evicted or stopped)"
	case status == pb.GenericResult_GENERIC_STATUS_INTERNAL_FAILURE,
		status == pb.GenericResult_GENERIC_STATUS_INIT_FAILURE,
		status == pb.GenericResult_GENERIC_STATUS_MEMORY_MANAGER_EVICTION:
		reason = "the sandbox was lost"
	}
	return &executors.InfraError{Err: errors.New(reason + ": " + describeEnd(out) + tailSuffix(out))}
}

func tailSuffix(out *sandboxOutcome) string {
	tail := out.stderr.Tail()
	if tail == "" {
		return ""
	}
	return "; end of its output:\n" + indent(tail)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
