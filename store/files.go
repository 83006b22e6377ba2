package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CheckRunID returns an error unless id is a run id: exactly 16 lower-case
// hex digits. Every run id is checked before it becomes part of a path.
func CheckRunID(id string) error {
	if !isLowerHex(id, 16) {
		return fmt.Errorf("invalid run id %q: a run id is the first 16 lower-case hex digits "+
			"of a node key, such as 0123456789abcdef", id)
	}
	return nil
}

// checkKey returns an error unless key is 64 lower-case hex digits that
// start with runID.
func checkKey(key, runID string) error {
	if !isLowerHex(key, 64) {
		return fmt.Errorf("invalid key %q: a key is 64 lower-case hex digits", key)
	}
	if key[:16] != runID {
		return fmt.Errorf("key %s does not start with run id %s", key, runID)
	}
	return nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, which it fsyncs before renaming it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, fileMode&^umask)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory, which makes the creation, removal and
// renaming of its entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// hashFile returns the size and hex SHA-256 of a file. With sync set, it
// also fsyncs the file, for outputs that the kind may not have synced.
func hashFile(path string, sync bool) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", path, err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return 0, "", fmt.Errorf("sync %s: %w", path, err)
		}
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// reservedFiles are the top-level files of a run directory that the
// manifest does not list.
var reservedFiles = map[string]bool{
	manifestFile:   true,
	provenanceFile: true,
	logFile:        true,
}

// listOutputs hashes every file under dir except the reserved top-level
// files, fsyncing each file and directory, and returns them sorted by
// name. Names use '/' as the separator. Symbolic links and other
// non-regular files are errors, because a run must be self-contained.
func listOutputs(dir string) ([]ManifestFile, error) {
	var files []ManifestFile
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return syncDir(path)
		case !d.Type().IsRegular():
			return fmt.Errorf("output %s is a %s, not a regular file; "+
				"write outputs as plain files", name, d.Type())
		case reservedFiles[name]:
			return nil
		}
		size, sum, err := hashFile(path, true)
		if err != nil {
			return err
		}
		files = append(files, ManifestFile{Name: name, Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b ManifestFile) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// checkFileName returns an error unless name is a relative path with '/'
// separators that stays inside the run directory and is not reserved.
func checkFileName(name string) error {
	if name == "" || strings.Contains(name, `\`) || !filepath.IsLocal(name) ||
		filepath.ToSlash(filepath.Clean(name)) != name {
		return fmt.Errorf("file name %q is not a clean relative path inside the run directory", name)
	}
	if reservedFiles[name] {
		return fmt.Errorf("file name %q is reserved and must not be listed", name)
	}
	return nil
}

// checkFiles compares the files of dir with the manifest's list: each must
// be a regular file of the recorded size and, with rehash set, hash.
func checkFiles(dir string, files []ManifestFile, rehash bool) error {
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		info, err := os.Lstat(path)
		if os.IsNotExist(err) {
			return fmt.Errorf("%s is missing", f.Name)
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", f.Name)
		}
		if info.Size() != f.Size {
			return fmt.Errorf("%s has %d bytes, but the manifest records %d", f.Name, info.Size(), f.Size)
		}
		if !rehash {
			continue
		}
		_, sum, err := hashFile(path, false)
		if err != nil {
			return err
		}
		if sum != f.SHA256 {
			return fmt.Errorf("%s has SHA-256 %s, but the manifest records %s", f.Name, sum, f.SHA256)
		}
	}
	return nil
}
