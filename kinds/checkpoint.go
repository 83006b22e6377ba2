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
}

const checkpointName = "checkpoint.json"

// loadCheckpoint reads the node's checkpoint into state and reports
// whether there was one.
func loadCheckpoint(rc *RunContext, kind string, state any) (bool, error) {
	if rc.CheckpointDir == "" {
		return false, nil
	}
	path := filepath.Join(rc.CheckpointDir, checkpointName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read checkpoint: %w", err)
	}
	var f checkpointFile
	if err := json.Unmarshal(data, &f); err != nil {
		return false, fmt.Errorf("parse checkpoint %s: %w; delete it to start the node afresh", path, err)
	}
	if f.Key != rc.Key || f.Kind != kind {
		return false, fmt.Errorf("checkpoint %s belongs to another node (key %s, kind %s); delete it to start afresh", path, f.Key, f.Kind)
	}
	if err := json.Unmarshal(f.State, state); err != nil {
		return false, fmt.Errorf("parse checkpoint state %s: %w", path, err)
	}
	fmt.Fprintf(rc.Log, "resuming from checkpoint %s\n", path)
	return true, nil
}

// saveCheckpoint writes state atomically (temporary file, fsync, rename).
func saveCheckpoint(rc *RunContext, kind string, state any) error {
	if rc.CheckpointDir == "" {
		return errors.New("no checkpoint directory for this node")
	}
	raw, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	data, err := json.Marshal(checkpointFile{Key: rc.Key, Kind: kind, State: raw})
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := os.MkdirAll(rc.CheckpointDir, 0o755); err != nil {
		return fmt.Errorf("create checkpoint directory: %w", err)
	}
	tmp, err := os.CreateTemp(rc.CheckpointDir, checkpointName+".*")
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
	path := filepath.Join(rc.CheckpointDir, checkpointName)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	fmt.Fprintf(rc.Log, "saved checkpoint %s\n", path)
	return nil
}
