package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/llcflow/llcflow/graph"
)

// ManifestFormatVersion is the format_version that this package writes and
// the only one it reads.
const ManifestFormatVersion = "1"

const (
	manifestFile   = "manifest.json"
	provenanceFile = "provenance.json"
	resultFile     = "result.json"
	logFile        = "log.txt"
	errorFile      = "error.json"
)

// Manifest is the deterministic record of a run: the same node gives the
// same manifest bytes on every run.
type Manifest struct {
	FormatVersion string         `json:"format_version"`
	Key           string         `json:"key"`
	RunID         string         `json:"run_id"`
	Type          string         `json:"type"`
	Kind          string         `json:"kind"`
	Version       string         `json:"version"`
	Params        map[string]any `json:"params"`
	// Inputs are sorted by role.
	Inputs []ManifestInput `json:"inputs"`
	// Files are the outputs, sorted by name, without manifest.json,
	// provenance.json and log.txt.
	Files []ManifestFile `json:"files"`
}

// ManifestInput is one input of a run: its role and the run it read.
type ManifestInput struct {
	Role  string `json:"role"`
	RunID string `json:"run_id"`
	Key   string `json:"key"`
}

// ManifestFile is one output file of a run. Name is relative to the run
// directory with '/' separators.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Provenance is the non-deterministic record of where and when a run was
// made. Times are written in RFC 3339 form, in UTC.
type Provenance struct {
	Address        string    `json:"address"`
	Executor       string    `json:"executor"`
	Host           string    `json:"host"`
	PID            int       `json:"pid"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at"`
	WallSeconds    float64   `json:"wall_seconds"`
	LLCFlowVersion string    `json:"llcflow_version"`
	GoVersion      string    `json:"go_version"`
	// VCSCommit is the commit of the HCL files, when they are in a
	// repository.
	VCSCommit string `json:"vcs_commit"`
	// Extra is free-form executor data, such as a SLURM job id.
	Extra map[string]any `json:"extra,omitempty"`
}

// encodeManifest returns the manifest as indented JSON with a final
// newline. Map keys are sorted by encoding/json, so the bytes depend only
// on the values.
func encodeManifest(m *Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest of run %s: %w", m.RunID, err)
	}
	return append(data, '\n'), nil
}

// parseManifest decodes and checks a manifest. It rejects unknown fields,
// an unknown format version, malformed keys and run ids, and file names
// that leave the run directory, so that a parsed manifest is safe to act
// on.
func parseManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: data after the manifest object")
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if m.FormatVersion != ManifestFormatVersion {
		return fmt.Errorf("unknown format_version %q (this llcflow reads %q); "+
			"use the llcflow version that wrote the run", m.FormatVersion, ManifestFormatVersion)
	}
	if err := CheckRunID(m.RunID); err != nil {
		return err
	}
	if err := checkKey(m.Key, m.RunID); err != nil {
		return err
	}
	if m.Type == "" || m.Kind == "" || m.Version == "" {
		return errors.New("type, kind and version must not be empty")
	}
	if _, err := graph.Canonical(m.Params); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if err := checkInputs(m.Inputs); err != nil {
		return err
	}

	return checkManifestFiles(m.Files)
}

func checkManifestFiles(files []ManifestFile) error {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if err := checkFileName(f.Name); err != nil {
			return err
		}
		if seen[f.Name] {
			return fmt.Errorf("file %s is listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Size < 0 {
			return fmt.Errorf("file %s has negative size %d", f.Name, f.Size)
		}
		if !isLowerHex(f.SHA256, 64) {
			return fmt.Errorf("file %s has invalid sha256 %q", f.Name, f.SHA256)
		}
	}
	return nil
}

// manifestHead is the part of a manifest that decides whether a run is
// served as cached: its format, its key and its files. Decoding only these
// skips building the parameter maps, which took most of the time of
// planning a cached sweep.
type manifestHead struct {
	FormatVersion string         `json:"format_version"`
	Key           string         `json:"key"`
	RunID         string         `json:"run_id"`
	Files         []ManifestFile `json:"files"`
}

// parseManifestHead checks that data is JSON and decodes and checks its
// head as parseManifest does. It tries scanHead first, and json.Unmarshal
// on the documents that scanHead leaves to it. Unknown fields and the other fields' values
// are left to parseManifest, which Verify and ReadManifest use.
func parseManifestHead(data []byte) (*manifestHead, error) {
	h, ok := scanHead(data)
	if !ok {
		h = manifestHead{}
		if err := json.Unmarshal(data, &h); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
	}
	if h.FormatVersion != ManifestFormatVersion {
		return nil, fmt.Errorf("unknown format_version %q (this llcflow reads %q); "+
			"use the llcflow version that wrote the run", h.FormatVersion, ManifestFormatVersion)
	}
	if err := CheckRunID(h.RunID); err != nil {
		return nil, err
	}
	if err := checkKey(h.Key, h.RunID); err != nil {
		return nil, err
	}
	if err := checkManifestFiles(h.Files); err != nil {
		return nil, err
	}
	return &h, nil
}

func checkInputs(inputs []ManifestInput) error {
	roles := make(map[string]bool, len(inputs))
	for _, in := range inputs {
		if in.Role == "" {
			return errors.New("an input has an empty role")
		}
		if roles[in.Role] {
			return fmt.Errorf("input role %q appears twice", in.Role)
		}
		roles[in.Role] = true
		if err := CheckRunID(in.RunID); err != nil {
			return fmt.Errorf("input %s: %w", in.Role, err)
		}
		if err := checkKey(in.Key, in.RunID); err != nil {
			return fmt.Errorf("input %s: %w", in.Role, err)
		}
	}
	return nil
}

// computedKey returns the node key that the manifest's type, kind,
// version, params and inputs hash to.
func (m *Manifest) computedKey() (string, error) {
	inputs := make([]graph.InputKey, len(m.Inputs))
	for i, in := range m.Inputs {
		inputs[i] = graph.InputKey{Role: in.Role, Key: in.Key}
	}
	return graph.ComputeKey(m.Type, m.Kind, m.Version, m.Params, inputs)
}

// prevRun converts the manifest to the planner's view of an earlier run.
func (m *Manifest) prevRun() *graph.PrevRun {
	inputs := make(map[string]string, len(m.Inputs))
	for _, in := range m.Inputs {
		inputs[in.Role] = in.Key
	}
	return &graph.PrevRun{
		RunID: m.RunID, Key: m.Key, Version: m.Version, Params: m.Params, InputKeys: inputs,
	}
}

func sortInputs(inputs []ManifestInput) []ManifestInput {
	sorted := slices.Clone(inputs)
	if sorted == nil {
		sorted = []ManifestInput{}
	}
	slices.SortFunc(sorted, func(a, b ManifestInput) int { return strings.Compare(a.Role, b.Role) })
	return sorted
}
