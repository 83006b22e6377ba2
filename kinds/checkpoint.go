package kinds

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkpointFile holds a sampler's saved state beside the key of the node
// that wrote it, so a checkpoint is never resumed by another node.
type checkpointFile struct {
	Key   string          `json:"key"`
	Kind  string          `json:"kind"`
	State json.RawMessage `json:"state"`
	// AttemptSeconds are the wall seconds of each earlier attempt that
	// ended in this checkpoint, oldest first, so that the run that
	// finishes can report the node's whole wall time.
	AttemptSeconds []float64 `json:"attempt_seconds,omitempty"`
}

const checkpointName = "checkpoint.json"

// loadCheckpoint reads the node's checkpoint into state and reports
// whether there was one.
func loadCheckpoint(rc *RunContext, kind string, state any) (bool, error) {
	f, ok, err := readCheckpointFile(rc.CheckpointDir)
	if err != nil || !ok {
		return false, err
	}
	path := filepath.Join(rc.CheckpointDir, checkpointName)
	if f.Key != rc.Key || f.Kind != kind {
		return false, fmt.Errorf("checkpoint %s belongs to another node (key %s, kind %s); delete it to start afresh", path, f.Key, f.Kind)
	}
	if err := json.Unmarshal(f.State, state); err != nil {
		return false, fmt.Errorf("parse checkpoint state %s: %w", path, err)
	}
	fmt.Fprintf(rc.Log, "resuming from checkpoint %s\n", path)
	return true, nil
}

// saveCheckpoint writes state atomically and keeps the attempt times of
// the checkpoint it replaces.
func saveCheckpoint(rc *RunContext, kind string, state any) error {
	if rc.CheckpointDir == "" {
		return errors.New("no checkpoint directory for this node")
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	earlier, err := CheckpointAttempts(rc.CheckpointDir, rc.Key)
	if err != nil {
		return err
	}
	if err := writeCheckpointFile(rc.CheckpointDir, checkpointFile{Key: rc.Key, Kind: kind, State: raw, AttemptSeconds: earlier}); err != nil {
		return err
	}
	fmt.Fprintf(rc.Log, "saved checkpoint %s\n", filepath.Join(rc.CheckpointDir, checkpointName))
	return nil
}

// CheckpointAttempts returns the wall seconds of the earlier attempts of
// the node with key that ended in the checkpoint in dir, or nil when dir
// holds no checkpoint of that node.
func CheckpointAttempts(dir, key string) ([]float64, error) {
	f, ok, err := readCheckpointFile(dir)
	if err != nil || !ok || f.Key != key {
		return nil, err
	}
	return f.AttemptSeconds, nil
}

// AddCheckpointAttempt appends the wall seconds of an attempt that ended
// by saving a checkpoint to the checkpoint file in dir. It does nothing
// when dir holds no checkpoint of the node with key.
func AddCheckpointAttempt(dir, key string, seconds float64) error {
	f, ok, err := readCheckpointFile(dir)
	if err != nil || !ok || f.Key != key {
		return err
	}
	f.AttemptSeconds = append(f.AttemptSeconds, seconds)
	return writeCheckpointFile(dir, f)
}

// readCheckpointFile reads checkpoint.json from dir and reports whether
// there was one.
func readCheckpointFile(dir string) (checkpointFile, bool, error) {
	var f checkpointFile
	if dir == "" {
		return f, false, nil
	}
	path := filepath.Join(dir, checkpointName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("read checkpoint: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, false, fmt.Errorf("parse checkpoint %s: %w; delete it to start the node afresh", path, err)
	}
	return f, true, nil
}

// writeCheckpointFile writes f to dir atomically (temporary file, fsync,
// rename).
func writeCheckpointFile(dir string, f checkpointFile) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create checkpoint directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, checkpointName+".*")
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	path := filepath.Join(dir, checkpointName)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}
