package modal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module that `go build` builds the worker from.
const modulePath = "github.com/llcflow/llcflow"

// workerBinary is the llcflow binary that the sandboxes run.
type workerBinary struct {
	// path is the local file.
	path string
	// sum is the hex SHA-256 of the file.
	sum string
	// remote is its path in the sandbox, named by the first 16 hex digits
	// of sum so that each build is uploaded once.
	remote string
}

// resolveWorker finds the worker binary: the explicit path, this binary
// when it is a static linux/amd64 executable, or a fresh build of the
// module in the working directory, in that order. A built binary lives in
// dir.
func resolveWorker(ctx context.Context, explicit, dir string) (workerBinary, error) {
	p := explicit
	if p == "" {
		self, err := os.Executable()
		if err == nil && isStaticLinuxAMD64(self) == nil {
			p = self
		} else {
			built, buildErr := buildWorker(ctx, dir)
			if buildErr != nil {
				return workerBinary{}, buildErr
			}
			p = built
		}
	} else if err := checkWorkerFile(p); err != nil {
		return workerBinary{}, err
	}
	sum, err := fileSHA256(p)
	if err != nil {
		return workerBinary{}, fmt.Errorf("hash worker binary %s: %w", p, err)
	}
	return workerBinary{
		path:   p,
		sum:    sum,
		remote: mountPath + "/.llcflow/bin/llcflow-" + sum[:16],
	}, nil
}

// checkWorkerFile accepts a static linux/amd64 ELF executable, or an
// executable script that starts with "#!" (a stand-in used by tests).
func checkWorkerFile(p string) error {
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("worker binary: %w; pass the path of a linux/amd64 llcflow build", err)
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("worker binary %s is not an executable file; run chmod +x on it or pass another", p)
	}
	head := make([]byte, 2)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("worker binary: %w", err)
	}
	_, err = io.ReadFull(f, head)
	f.Close()
	if err == nil && bytes.Equal(head, []byte("#!")) {
		return nil
	}
	return isStaticLinuxAMD64(p)
}

// isStaticLinuxAMD64 returns nil when p is an x86-64 ELF executable with no
// program interpreter, which is what a CGO_ENABLED=0 GOOS=linux
// GOARCH=amd64 build produces.
func isStaticLinuxAMD64(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("worker binary %s is not a linux ELF executable (%v); build it with CGO_ENABLED=0 GOOS=linux GOARCH=amd64", p, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("worker binary %s is built for %v, but Modal sandboxes are x86-64; build it with GOARCH=amd64", p, f.Machine)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("worker binary %s is dynamically linked; build it with CGO_ENABLED=0", p)
		}
	}
	return nil
}

// buildWorker builds cmd/llcflow for linux/amd64 from the module that
// contains the working directory.
func buildWorker(ctx context.Context, dir string) (string, error) {
	hint := "pass --worker-binary FILE, built with " +
		"CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -o FILE ./cmd/llcflow"
	list := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Path}} {{.Dir}}")
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("this binary cannot run in a Modal sandbox and the working directory is not in the llcflow module (go list -m: %v); %s", err, hint)
	}
	modPath, modDir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if modPath != modulePath {
		return "", fmt.Errorf("this binary cannot run in a Modal sandbox and the working directory is in module %s, not %s; %s", modPath, modulePath, hint)
	}
	target := filepath.Join(dir, "llcflow-linux-amd64")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", target, "./cmd/llcflow")
	build.Dir = modDir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the linux/amd64 worker binary in %s: %v\n%s; %s", modDir, err, msg, hint)
	}
	return target, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
