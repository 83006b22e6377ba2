package slurm

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Default values that OptionsFromBlock and New fill in.
const (
	// DefaultMaxRetries is the number of fresh attempts after TIMEOUT,
	// PREEMPTED, NODE_FAIL, BOOT_FAIL or a checkpoint exit.
	DefaultMaxRetries = 3
	// DefaultSignalSeconds is how long before the time limit the batch
	// shell receives SIGUSR1, so that a sampler node can write a
	// checkpoint and exit with ExitCheckpointed.
	DefaultSignalSeconds = 120
)

// Options are the sbatch settings of every job the executor submits. They
// come from a `backend "slurm" { ... }` block and the apply command's flags.
type Options struct {
	// Partition is the partition to submit to (empty: the cluster default).
	Partition string
	// TimeoutMin is the time limit of one attempt in minutes (0: the
	// partition default).
	TimeoutMin int
	// CPUs is --cpus-per-task (0: not set). It also bounds the chain
	// goroutines of a sampler node through Spec.Threads.
	CPUs int
	// MemGB is the memory per node in GiB, passed as --mem in MiB (0: not
	// set).
	MemGB float64
	// GPUs is --gpus (0: not set).
	GPUs int
	// Account, QOS, Constraint and Exclude are passed to the sbatch options
	// of the same names when they are not empty.
	Account, QOS, Constraint, Exclude string
	// ExtraSBATCH are further sbatch options, one per #SBATCH line, such as
	// "--mail-type=END". They are written as given after "#SBATCH ".
	ExtraSBATCH []string
	// Setup are shell lines run before exec-node, such as "module load go".
	Setup []string
	// ArrayParallelism is the %P throttle of every job array: at most this
	// many tasks of one array run at once (0: no throttle).
	ArrayParallelism int
	// SignalSeconds sets --signal=B:USR1@SignalSeconds (0: the default,
	// negative: no signal). Slurm may send the signal up to 60 s early.
	SignalSeconds int
	// MaxRetries is the number of fresh attempts after TIMEOUT, PREEMPTED,
	// NODE_FAIL, BOOT_FAIL or a checkpoint exit (0: the default, negative:
	// none).
	MaxRetries int
}

// blockKeys are the attributes of a `backend "slurm"` block, each with the
// Options field it sets.
var blockKeys = map[string]func(o *Options, key string, v any) error{
	"partition":         setString(func(o *Options) *string { return &o.Partition }),
	"timeout_min":       setInt(func(o *Options) *int { return &o.TimeoutMin }),
	"cpus":              setInt(func(o *Options) *int { return &o.CPUs }),
	"mem_gb":            setFloat(func(o *Options) *float64 { return &o.MemGB }),
	"gpus":              setInt(func(o *Options) *int { return &o.GPUs }),
	"account":           setString(func(o *Options) *string { return &o.Account }),
	"qos":               setString(func(o *Options) *string { return &o.QOS }),
	"constraint":        setString(func(o *Options) *string { return &o.Constraint }),
	"exclude":           setString(func(o *Options) *string { return &o.Exclude }),
	"sbatch_lines":      setStrings(func(o *Options) *[]string { return &o.ExtraSBATCH }),
	"setup":             setStrings(func(o *Options) *[]string { return &o.Setup }),
	"array_parallelism": setInt(func(o *Options) *int { return &o.ArrayParallelism }),
	"signal_seconds":    setInt(func(o *Options) *int { return &o.SignalSeconds }),
	"max_retries":       setInt(func(o *Options) *int { return &o.MaxRetries }),
}

// BlockKeys returns the attribute names that OptionsFromBlock accepts, sorted.
func BlockKeys() []string {
	keys := make([]string, 0, len(blockKeys))
	for k := range blockKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// OptionsFromBlock reads the attributes of a `backend "slurm"` block, as
// JSON-like values (numbers are float64, lists []any), on top of the
// defaults. Unknown attributes and values of the wrong type are errors, and
// the result is validated.
func OptionsFromBlock(block map[string]any) (Options, error) {
	o := Options{MaxRetries: DefaultMaxRetries, SignalSeconds: DefaultSignalSeconds}

	keys := make([]string, 0, len(block))
	for k := range block {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set, ok := blockKeys[k]
		if !ok {
			return Options{}, fmt.Errorf("unknown attribute %q in backend \"slurm\": valid ones are %s",
				k, strings.Join(BlockKeys(), ", "))
		}
		if err := set(&o, k, block[k]); err != nil {
			return Options{}, err
		}
	}
	if err := o.Validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// Validate checks that every value can be written into an sbatch script and
// that the numbers are in range.
func (o Options) Validate() error {
	strs := []struct{ name, v string }{
		{"partition", o.Partition}, {"account", o.Account}, {"qos", o.QOS},
		{"constraint", o.Constraint}, {"exclude", o.Exclude},
	}
	for _, s := range strs {
		if err := checkLine(s.name, s.v); err != nil {
			return err
		}
	}
	for i, l := range o.ExtraSBATCH {
		if err := checkLine(fmt.Sprintf("sbatch_lines[%d]", i), l); err != nil {
			return err
		}
		if strings.TrimSpace(l) == "" {
			return fmt.Errorf("sbatch_lines[%d] is empty: remove it or give an option such as --mail-type=END", i)
		}
	}
	for i, l := range o.Setup {
		if err := checkLine(fmt.Sprintf("setup[%d]", i), l); err != nil {
			return err
		}
	}

	ints := []struct {
		name string
		v    int
	}{
		{"timeout_min", o.TimeoutMin}, {"cpus", o.CPUs}, {"gpus", o.GPUs},
		{"array_parallelism", o.ArrayParallelism},
	}
	for _, n := range ints {
		if n.v < 0 {
			return fmt.Errorf("%s = %d is negative: give 0 for the cluster default or a positive number", n.name, n.v)
		}
	}
	if o.MemGB < 0 || math.IsNaN(o.MemGB) || math.IsInf(o.MemGB, 0) {
		return fmt.Errorf("mem_gb = %v is invalid: give 0 for the cluster default or a positive number of GiB", o.MemGB)
	}
	if o.TimeoutMin > 0 && o.SignalSeconds > 0 && o.SignalSeconds >= o.TimeoutMin*60 {
		return fmt.Errorf("signal_seconds = %d is not below the time limit of %d min: lower it or raise timeout_min",
			o.SignalSeconds, o.TimeoutMin)
	}
	if o.SignalSeconds > 0xffff {
		return fmt.Errorf("signal_seconds = %d exceeds Slurm's maximum of 65535", o.SignalSeconds)
	}
	return nil
}

// checkLine rejects a value that would end its line of the script early.
func checkLine(name, v string) error {
	if strings.ContainsAny(v, "\n\r\x00") {
		return fmt.Errorf("%s = %q contains a newline, carriage return or NUL byte, which cannot be written into an sbatch script: remove it", name, v)
	}
	return nil
}

// withDefaults fills the zero values that stand for a default.
func (o Options) withDefaults() Options {
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.SignalSeconds == 0 {
		o.SignalSeconds = DefaultSignalSeconds
		// A short time limit gets the signal halfway through instead.
		if o.TimeoutMin > 0 && o.SignalSeconds >= o.TimeoutMin*60 {
			o.SignalSeconds = o.TimeoutMin * 30
		}
	}
	return o
}

func setString(field func(*Options) *string) func(*Options, string, any) error {
	return func(o *Options, key string, v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("backend \"slurm\" attribute %s = %v is a %T: give a string", key, v, v)
		}
		*field(o) = s
		return nil
	}
}

func setInt(field func(*Options) *int) func(*Options, string, any) error {
	return func(o *Options, key string, v any) error {
		n, err := toInt(key, v)
		if err != nil {
			return err
		}
		*field(o) = n
		return nil
	}
}

func setFloat(field func(*Options) *float64) func(*Options, string, any) error {
	return func(o *Options, key string, v any) error {
		switch x := v.(type) {
		case float64:
			*field(o) = x
		case int:
			*field(o) = float64(x)
		case int64:
			*field(o) = float64(x)
		default:
			return fmt.Errorf("backend \"slurm\" attribute %s = %v is a %T: give a number", key, v, v)
		}
		return nil
	}
}

func setStrings(field func(*Options) *[]string) func(*Options, string, any) error {
	return func(o *Options, key string, v any) error {
		var out []string
		switch x := v.(type) {
		case []string:
			out = append(out, x...)
		case []any:
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("backend \"slurm\" attribute %s[%d] = %v is a %T: give a list of strings", key, i, e, e)
				}
				out = append(out, s)
			}
		default:
			return fmt.Errorf("backend \"slurm\" attribute %s = %v is a %T: give a list of strings", key, v, v)
		}
		*field(o) = out
		return nil
	}
}

func toInt(key string, v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<31 {
			return 0, fmt.Errorf("backend \"slurm\" attribute %s = %v is not a whole number: give an integer", key, x)
		}
		return int(x), nil
	default:
		return 0, fmt.Errorf("backend \"slurm\" attribute %s = %v is a %T: give a whole number", key, v, v)
	}
}
