package modal

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Options configure the Modal executor. Start from DefaultOptions: New
// takes every field literally, so a zero Retries means no retries.
type Options struct {
	// App is the Modal app that owns the sandboxes ("llc-experiments"). It is
	// created when missing.
	App string
	// Volume is the Modal volume mounted at /runs in every sandbox
	// ("llc-runs"). It is created when missing.
	Volume string
	// CPU is the number of physical cores requested per node sandbox (0:
	// Modal's default).
	CPU float64
	// MemoryMiB is the memory requested per node sandbox, in MiB (0: Modal's
	// default).
	MemoryMiB int
	// Timeout is the maximum lifetime of one attempt at a node (3 h). Modal
	// terminates the sandbox when it runs out, and the attempt is retried.
	Timeout time.Duration
	// Retries is how many times a transient failure of a node (a sandbox
	// lost, preempted or timed out) is retried (3).
	Retries int
	// BackoffInitial is the wait before the first retry (10 s).
	BackoffInitial time.Duration
	// BackoffFactor multiplies the wait after each retry (2).
	BackoffFactor float64
	// MaxConcurrent bounds the node sandboxes that run at once (0: no bound
	// beyond the scheduler's parallelism).
	MaxConcurrent int
	// Environment is the Modal environment (empty: the profile's, as the
	// SDK resolves it).
	Environment string
	// Image is the registry image of the sandboxes ("debian:bookworm-slim").
	// It needs sh, tar, base64, sha256sum and mktemp.
	Image string
	// WorkerBinary is the path of a statically linked linux/amd64 llcflow
	// binary to run in the sandboxes (empty: this binary when it is one,
	// otherwise one built from the module source in the working directory).
	WorkerBinary string
}

// maxSandboxTimeout is the longest lifetime Modal allows a sandbox, 24 h
// (modal.com/docs/guide/sandbox, "Timeouts").
const maxSandboxTimeout = 24 * time.Hour

// DefaultOptions returns the options used when neither a backend block nor
// a flag sets a value.
func DefaultOptions() Options {
	return Options{
		App:            "llc-experiments",
		Volume:         "llc-runs",
		Timeout:        3 * time.Hour,
		Retries:        3,
		BackoffInitial: 10 * time.Second,
		BackoffFactor:  2,
		Image:          "debian:bookworm-slim",
	}
}

// blockKeys maps every key of a `backend "modal"` block to the function
// that stores its value.
var blockKeys = map[string]func(o *Options, v any) error{
	"app":             func(o *Options, v any) error { return setString(&o.App, v) },
	"volume":          func(o *Options, v any) error { return setString(&o.Volume, v) },
	"cpu":             func(o *Options, v any) error { return setFloat(&o.CPU, v) },
	"memory_mib":      func(o *Options, v any) error { return setInt(&o.MemoryMiB, v) },
	"timeout":         func(o *Options, v any) error { return setDuration(&o.Timeout, v) },
	"retries":         func(o *Options, v any) error { return setInt(&o.Retries, v) },
	"backoff_initial": func(o *Options, v any) error { return setDuration(&o.BackoffInitial, v) },
	"backoff_factor":  func(o *Options, v any) error { return setFloat(&o.BackoffFactor, v) },
	"max_concurrent":  func(o *Options, v any) error { return setInt(&o.MaxConcurrent, v) },
	"environment":     func(o *Options, v any) error { return setString(&o.Environment, v) },
	"image":           func(o *Options, v any) error { return setString(&o.Image, v) },
	"worker_binary":   func(o *Options, v any) error { return setString(&o.WorkerBinary, v) },
}

// BlockKeys returns the keys a `backend "modal"` block accepts, sorted.
func BlockKeys() []string {
	keys := make([]string, 0, len(blockKeys))
	for k := range blockKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// OptionsFromBlock returns DefaultOptions overridden by the attributes of a
// `backend "modal" {...}` block, given as JSON-like values (numbers as
// float64, durations as strings such as "90m" or as numbers of seconds).
// An unknown key is an error that lists the valid ones.
func OptionsFromBlock(block map[string]any) (Options, error) {
	o := DefaultOptions()
	keys := make([]string, 0, len(block))
	for k := range block {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set, ok := blockKeys[k]
		if !ok {
			return Options{}, fmt.Errorf("unknown attribute %q in the backend \"modal\" block; valid attributes are %s",
				k, strings.Join(BlockKeys(), ", "))
		}
		if err := set(&o, block[k]); err != nil {
			return Options{}, fmt.Errorf("backend \"modal\" attribute %s: %w", k, err)
		}
	}
	if err := o.Validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// Validate reports the first option that Modal or the retry loop cannot use.
func (o Options) Validate() error {
	switch {
	case o.App == "":
		return fmt.Errorf("modal app name is empty; set app in the backend block or --modal-app")
	case o.Volume == "":
		return fmt.Errorf("modal volume name is empty; set volume in the backend block or --modal-volume")
	case o.Image == "":
		return fmt.Errorf("modal image is empty; set image in the backend block, such as %q", DefaultOptions().Image)
	case o.CPU < 0 || math.IsNaN(o.CPU) || math.IsInf(o.CPU, 0):
		return fmt.Errorf("modal cpu %v is invalid; give a positive number of cores, or 0 for Modal's default", o.CPU)
	case o.MemoryMiB < 0:
		return fmt.Errorf("modal memory_mib %d is negative; give MiB, or 0 for Modal's default", o.MemoryMiB)
	case o.Timeout < time.Second:
		return fmt.Errorf("modal timeout %v is shorter than one second; give a duration such as \"3h\"", o.Timeout)
	case o.Timeout > maxSandboxTimeout:
		return fmt.Errorf("modal timeout %v is longer than Modal's limit of %v on a sandbox's lifetime", o.Timeout, maxSandboxTimeout)
	case o.Retries < 0:
		return fmt.Errorf("modal retries %d is negative; give 0 to disable retries", o.Retries)
	case o.BackoffInitial < 0:
		return fmt.Errorf("modal backoff_initial %v is negative", o.BackoffInitial)
	case o.BackoffFactor < 1 || math.IsNaN(o.BackoffFactor) || math.IsInf(o.BackoffFactor, 0):
		return fmt.Errorf("modal backoff_factor %v is invalid; give a number of at least 1", o.BackoffFactor)
	case o.MaxConcurrent < 0:
		return fmt.Errorf("modal max_concurrent %d is negative; give 0 for no bound", o.MaxConcurrent)
	}
	return nil
}

func setString(dst *string, v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("expected a string, got %s", describe(v))
	}
	*dst = s
	return nil
}

func setFloat(dst *float64, v any) error {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Errorf("expected a number, got %s", describe(v))
	}
	*dst = f
	return nil
}

func setInt(dst *int, v any) error {
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return fmt.Errorf("expected a whole number, got %s", describe(v))
	}
	*dst = int(f)
	return nil
}

func setDuration(dst *time.Duration, v any) error {
	if s, ok := v.(string); ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q; write it like \"90m\" or \"3h\"", s)
		}
		*dst = d
		return nil
	}
	f, ok := toFloat(v)
	if !ok || math.IsNaN(f) || math.Abs(f) > math.MaxInt64/float64(time.Second) {
		return fmt.Errorf("expected a duration such as \"3h\" or a number of seconds, got %s", describe(v))
	}
	*dst = time.Duration(f * float64(time.Second))
	return nil
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("the string %q", s)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}
