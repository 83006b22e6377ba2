package modal

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsFromBlockDefaults(t *testing.T) {
	o, err := OptionsFromBlock(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{App: "llc-experiments", Volume: "llc-runs", Timeout: 3 * time.Hour, Retries: 3,
		BackoffInitial: 10 * time.Second, BackoffFactor: 2, Image: "debian:bookworm-slim"}
	if o != want {
		t.Errorf("options from an empty block = %+v, want %+v", o, want)
	}
}

func TestOptionsFromBlockValues(t *testing.T) {
	o, err := OptionsFromBlock(map[string]any{
		"app": "a", "volume": "v", "cpu": 2.5, "memory_mib": 4096.0, "timeout": "90m",
		"retries": 0.0, "backoff_initial": 1.5, "backoff_factor": 3.0, "max_concurrent": 8.0,
		"environment": "dev", "image": "debian:trixie-slim", "worker_binary": "/bin/llcflow",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{App: "a", Volume: "v", CPU: 2.5, MemoryMiB: 4096, Timeout: 90 * time.Minute,
		Retries: 0, BackoffInitial: 1500 * time.Millisecond, BackoffFactor: 3, MaxConcurrent: 8,
		Environment: "dev", Image: "debian:trixie-slim", WorkerBinary: "/bin/llcflow"}
	if o != want {
		t.Errorf("options = %+v, want %+v", o, want)
	}
}

func TestOptionsFromBlockErrors(t *testing.T) {
	cases := []struct {
		name  string
		block map[string]any
		want  string
	}{
		{"unknown key", map[string]any{"gpu": "T4"}, `unknown attribute "gpu"`},
		{"valid keys listed", map[string]any{"gpu": "T4"}, "app, backoff_factor, backoff_initial, cpu, environment, image, " +
			"max_concurrent, memory_mib, retries, timeout, volume, worker_binary"},
		{"string for a number", map[string]any{"cpu": "2"}, "cpu: expected a number"},
		{"fraction for a count", map[string]any{"retries": 1.5}, "retries: expected a whole number"},
		{"bad duration", map[string]any{"timeout": "3 hours"}, `invalid duration "3 hours"`},
		{"negative retries", map[string]any{"retries": -1.0}, "retries -1 is negative"},
		{"short timeout", map[string]any{"timeout": "500ms"}, "shorter than one second"},
		{"long timeout", map[string]any{"timeout": "25h"}, "longer than Modal's limit"},
		{"small factor", map[string]any{"backoff_factor": 0.5}, "backoff_factor 0.5 is invalid"},
		{"empty app", map[string]any{"app": ""}, "app name is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OptionsFromBlock(tc.block)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	o := DefaultOptions()
	e, err := New(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second} {
		if got := e.backoff(attempt); got != want {
			t.Errorf("backoff after attempt %d = %v, want %v", attempt, got, want)
		}
	}
}
