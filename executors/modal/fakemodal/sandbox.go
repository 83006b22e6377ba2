package fakemodal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
)

// outputBuffer is everything a sandbox wrote to one stream, kept whole so
// that a reader can start at any offset, as the real service lets it.
type outputBuffer struct {
	mu     sync.Mutex
	data   []byte
	closed bool
	// limit, when not negative, caps the bytes kept; the rest are lost.
	limit int
	// grown is closed and replaced on every append and on close.
	grown chan struct{}
}

func newOutputBuffer() *outputBuffer { return &outputBuffer{grown: make(chan struct{}), limit: -1} }

func (b *outputBuffer) keepAtMost(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limit = n
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := p
	if b.limit >= 0 {
		kept = kept[:min(len(kept), max(0, b.limit-len(b.data)))]
	}
	b.data = append(b.data, kept...)
	close(b.grown)
	b.grown = make(chan struct{})
	return len(p), nil
}

func (b *outputBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.grown)
		b.grown = make(chan struct{})
	}
}

// next returns up to max bytes from offset, waiting until there are some.
// It returns io.EOF once the stream is closed and offset is at its end.
func (b *outputBuffer) next(ctx context.Context, offset uint64, max int) ([]byte, error) {
	for {
		b.mu.Lock()
		if offset < uint64(len(b.data)) {
			end := min(uint64(len(b.data)), offset+uint64(max))
			chunk := append([]byte(nil), b.data[offset:end]...)
			b.mu.Unlock()
			return chunk, nil
		}
		if b.closed {
			b.mu.Unlock()
			return nil, io.EOF
		}
		grown := b.grown
		b.mu.Unlock()
		select {
		case <-grown:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (b *outputBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.data...)
}

// sandbox is one sandbox: its entry command, run as a local process.
type sandbox struct {
	id      string
	taskID  string
	v2      bool
	command []string
	dir     string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *outputBuffer
	stderr *outputBuffer
	done   chan struct{}

	mu sync.Mutex
	// stdinOffset is the number of stdin bytes taken (V2), stdinIndex the
	// index of the next expected write (V1).
	stdinOffset uint64
	stdinIndex  uint32
	stdinClosed bool
	// result is the final result, set by the first of the exit, a
	// termination, the timeout and a fault.
	result     *pb.GenericResult
	terminated bool
}

// start runs the command with every path under a volume's mount point
// rewritten to the volume's directory.
func (sb *sandbox) start(mounts map[string]string, timeout time.Duration) error {
	args := make([]string, len(sb.command))
	for i, a := range sb.command {
		args[i] = rewriteMounts(a, mounts)
	}
	if len(args) == 0 {
		return errors.New("the sandbox has no command")
	}
	tmp := filepath.Join(sb.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = sb.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + sb.dir, "TMPDIR=" + tmp, "LC_ALL=C"}
	cmd.Stdout = sb.stdout
	cmd.Stderr = sb.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	sb.stdin = stdin
	sb.cmd = cmd

	if err := cmd.Start(); err != nil {
		return err
	}
	go sb.wait()
	if timeout > 0 {
		time.AfterFunc(timeout, func() {
			sb.end(pb.GenericResult_GENERIC_STATUS_TIMEOUT, 0,
				fmt.Sprintf("Sandbox %s timed out after %v", sb.id, timeout))
		})
	}
	return nil
}

func (sb *sandbox) wait() {
	err := sb.cmd.Wait()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		code = 1
	}
	status := pb.GenericResult_GENERIC_STATUS_SUCCESS
	if code != 0 {
		status = pb.GenericResult_GENERIC_STATUS_FAILURE
	}
	sb.mu.Lock()
	if sb.result == nil {
		sb.result = pb.GenericResult_builder{Status: status, Exitcode: int32(code)}.Build()
	}
	sb.mu.Unlock()
	sb.stdout.close()
	sb.stderr.close()
	close(sb.done)
}

// end stops the sandbox with the given result unless it has one already.
func (sb *sandbox) end(status pb.GenericResult_GenericStatus, exitCode int32, exception string) {
	sb.mu.Lock()
	if sb.result != nil {
		sb.mu.Unlock()
		return
	}
	sb.result = pb.GenericResult_builder{Status: status, Exitcode: exitCode, Exception: exception}.Build()
	sb.mu.Unlock()
	if sb.cmd != nil && sb.cmd.Process != nil {
		_ = syscall.Kill(-sb.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (sb *sandbox) finished() bool {
	select {
	case <-sb.done:
		return true
	default:
		return false
	}
}

func (sb *sandbox) finalResult() *pb.GenericResult {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.result
}

// writeStdinAt takes stdin bytes at a byte offset (V2), skipping what an
// earlier retry delivered already.
func (sb *sandbox) writeStdinAt(offset uint64, data []byte, eof bool) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if offset > sb.stdinOffset {
		return fmt.Errorf("stdin write at offset %d leaves a gap after %d", offset, sb.stdinOffset)
	}
	if skip := sb.stdinOffset - offset; skip < uint64(len(data)) {
		data = data[skip:]
		sb.stdinOffset += uint64(len(data))
		if !sb.stdinClosed {
			// A write to a process that has exited fails, as a pipe does.
			_, _ = sb.stdin.Write(data)
		}
	}
	if eof && !sb.stdinClosed {
		sb.stdinClosed = true
		_ = sb.stdin.Close()
	}
	return nil
}

// writeStdinIndexed takes a V1 stdin write, numbered from 1.
func (sb *sandbox) writeStdinIndexed(index uint32, data []byte, eof bool) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if index < sb.stdinIndex {
		return nil
	}
	if index > sb.stdinIndex {
		return fmt.Errorf("stdin write %d arrived before write %d", index, sb.stdinIndex)
	}
	sb.stdinIndex++
	if sb.stdinClosed {
		return nil
	}
	if len(data) > 0 {
		_, _ = sb.stdin.Write(data)
	}
	if eof {
		sb.stdinClosed = true
		_ = sb.stdin.Close()
	}
	return nil
}

// rewriteMounts replaces every mount point in s that starts a path (at
// the start, or after a space, a quote, '=' or ':') and ends one (at the
// end, or before '/', a quote or a space) with its directory.
func rewriteMounts(s string, mounts map[string]string) string {
	for mount, dir := range mounts {
		s = rewriteMount(s, mount, dir)
	}
	return s
}

func rewriteMount(s, mount, dir string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], mount)
		if j < 0 {
			break
		}
		j += i
		k := j + len(mount)
		startsPath := j == 0 || strings.IndexByte(" \t\n\"'=:", s[j-1]) >= 0
		endsPath := k == len(s) || strings.IndexByte("/ \t\n\"'", s[k]) >= 0
		if startsPath && endsPath {
			b.WriteString(s[last:j])
			b.WriteString(dir)
			last = k
		}
		i = k
	}
	b.WriteString(s[last:])
	return b.String()
}
