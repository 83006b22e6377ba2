package modal

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// writeRunsArchive writes a tar archive of the run directories
// <store>/<id>/ to w, each under the entry name <id>/. Only directories and
// regular files are allowed, because a run holds nothing else.
func writeRunsArchive(w io.Writer, store string, runIDs []string) error {
	tw := tar.NewWriter(w)
	for _, id := range runIDs {
		root := filepath.Join(store, id)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(store, p)
			if err != nil {
				return err
			}
			return addArchiveEntry(tw, p, filepath.ToSlash(rel), d)
		})
		if err != nil {
			return fmt.Errorf("archive run %s: %w", id, err)
		}
	}
	return tw.Close()
}

func addArchiveEntry(tw *tar.Writer, p, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	switch {
	case info.IsDir():
		return tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: info.ModTime(),
		})
	case info.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		err = tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: info.Size(), ModTime: info.ModTime(),
		})
		if err != nil {
			return err
		}
		if _, err := io.Copy(tw, f); err != nil {
			return err
		}
		return nil
	default:
		return fmt.Errorf("%s is neither a regular file nor a directory (mode %v)", p, info.Mode())
	}
}

// runsArchive returns a tar archive of the run directories and its hex
// SHA-256.
func runsArchive(store string, runIDs []string) ([]byte, string, error) {
	var buf bytes.Buffer
	if err := writeRunsArchive(&buf, store, runIDs); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}

// runFilter decides which run ids an archive may contain.
type runFilter interface{ allows(id string) bool }

// runSet allows the run ids it holds.
type runSet map[string]bool

func (s runSet) allows(id string) bool { return s[id] }

// extractArchive extracts a tar archive of run directories into dest and
// returns the run ids it contains. Every entry must lie under <id>/ for an
// id that allowed accepts, and be a directory or a regular file. Each entry
// is checked before it is written, because the archive comes from a
// sandbox.
func extractArchive(r io.Reader, dest string, allowed runFilter) ([]string, error) {
	tr := tar.NewReader(r)
	seen := map[string]bool{}
	var ids []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return ids, nil
		}
		if err != nil {
			return ids, fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if name == "." {
			continue
		}
		id, _, _ := strings.Cut(name, "/")
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || !allowed.allows(id) {
			return ids, fmt.Errorf("archive entry %q is outside the expected runs", hdr.Name)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return ids, err
			}
		case tar.TypeReg:
			if err := writeArchiveFile(target, tr); err != nil {
				return ids, err
			}
		default:
			return ids, fmt.Errorf("archive entry %q has type %q; runs hold only files and directories", hdr.Name, hdr.Typeflag)
		}
	}
}

func writeArchiveFile(target string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// receiveArchive decodes the base64 text a script sends on stdout into f
// and returns the hex SHA-256 of the decoded bytes.
func receiveArchive(r io.Reader, f io.Writer) (string, error) {
	h := sha256.New()
	dec := base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: bufio.NewReaderSize(r, 64<<10)})
	if _, err := io.Copy(io.MultiWriter(f, h), dec); err != nil {
		return "", fmt.Errorf("decode the archive sent by the sandbox: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lineJoiner drops the line breaks that base64(1) puts every 76 columns.
type lineJoiner struct {
	r io.Reader
}

func (l *lineJoiner) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		kept := 0
		for _, b := range p[:n] {
			if b != '\n' && b != '\r' {
				p[kept] = b
				kept++
			}
		}
		if kept > 0 || err != nil {
			return kept, err
		}
	}
}
