package slurm

import (
	"fmt"
	"math"
	"strings"
)

// scriptTask is one case of a batch script: an array task index and the
// spec file its task runs.
type scriptTask struct {
	Index    int
	SpecPath string
}

// scriptInput is everything a batch script is generated from.
type scriptInput struct {
	// Name is the job name.
	Name string
	// Dir is the batch directory: the job's working directory, with the
	// logs folder inside.
	Dir string
	// Binary is the llcflow binary on the compute nodes.
	Binary string
	// Array is false when the cluster has job arrays disabled
	// (MaxArraySize = 0); the script then has exactly one task.
	Array   bool
	Tasks   []scriptTask
	Options Options
}

// logPattern returns the --output pattern of a batch's log files.
func logPattern(dir string, array bool) string {
	if array {
		return dir + "/logs/%A_%a.log"
	}
	return dir + "/logs/%j.log"
}

// logPath returns the log file of one array task (task < 0: not an array).
func logPath(dir, job string, task int) string {
	if task < 0 {
		return fmt.Sprintf("%s/logs/%s.log", dir, job)
	}
	return fmt.Sprintf("%s/logs/%s_%d.log", dir, job, task)
}

// renderScript writes the sbatch script. Every value from the options, the
// store or the specs is single-quoted, in #SBATCH lines (sbatch's own
// parser removes the quotes) and in shell lines alike, so no character in
// it can run a command. Options.Validate and New have rejected values with
// a newline. Setup lines and extra #SBATCH lines are written as given
// because they are commands and options by intent.
func renderScript(in scriptInput) string {
	var b strings.Builder
	o := in.Options

	b.WriteString("#!/bin/bash\n")
	sbatch := func(option, value string) {
		fmt.Fprintf(&b, "#SBATCH --%s=%s\n", option, shellQuote(value))
	}
	sbatch("job-name", in.Name)
	if in.Array {
		array := arraySpec(in.Tasks)
		if o.ArrayParallelism > 0 {
			array += fmt.Sprintf("%%%d", o.ArrayParallelism)
		}
		sbatch("array", array)
	}
	if o.Partition != "" {
		sbatch("partition", o.Partition)
	}
	if o.TimeoutMin > 0 {
		sbatch("time", fmt.Sprint(o.TimeoutMin))
	}
	if o.CPUs > 0 {
		sbatch("cpus-per-task", fmt.Sprint(o.CPUs))
	}
	if o.MemGB > 0 {
		sbatch("mem", fmt.Sprintf("%dM", int64(math.Ceil(o.MemGB*1024))))
	}
	if o.GPUs > 0 {
		sbatch("gpus", fmt.Sprint(o.GPUs))
	}
	for _, kv := range [][2]string{
		{"account", o.Account}, {"qos", o.QOS},
		{"constraint", o.Constraint}, {"exclude", o.Exclude},
	} {
		if kv[1] != "" {
			sbatch(kv[0], kv[1])
		}
	}
	if o.SignalSeconds > 0 {
		sbatch("signal", fmt.Sprintf("B:USR1@%d", o.SignalSeconds))
	}
	// The executor makes every fresh attempt itself and counts it against
	// MaxRetries, so Slurm must not requeue under the same job id.
	b.WriteString("#SBATCH --no-requeue\n")
	sbatch("chdir", in.Dir)
	sbatch("output", logPattern(in.Dir, in.Array))
	sbatch("error", logPattern(in.Dir, in.Array))
	for _, line := range o.ExtraSBATCH {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimPrefix(line, "#SBATCH"))
		fmt.Fprintf(&b, "#SBATCH %s\n", line)
	}

	b.WriteString("\nset -euo pipefail\n")
	for _, line := range o.Setup {
		b.WriteString(line + "\n")
	}

	b.WriteString("\ncase \"${SLURM_ARRAY_TASK_ID:-0}\" in\n")
	for _, t := range in.Tasks {
		fmt.Fprintf(&b, "%d) exec %s exec-node --executor=slurm %s ;;\n", t.Index, shellQuote(in.Binary), shellQuote(t.SpecPath))
	}
	b.WriteString("*)\n")
	b.WriteString("\techo \"llcflow: no node for array task ${SLURM_ARRAY_TASK_ID:-0} in this script\" >&2\n")
	b.WriteString("\texit 2\n")
	b.WriteString("\t;;\n")
	b.WriteString("esac\n")
	return b.String()
}

// arraySpec returns the --array index list of tasks, such as "0-4" or
// "0,2,5-7". The tasks are sorted by index.
func arraySpec(tasks []scriptTask) string {
	var parts []string
	for i := 0; i < len(tasks); {
		j := i
		for j+1 < len(tasks) && tasks[j+1].Index == tasks[j].Index+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprint(tasks[i].Index))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", tasks[i].Index, tasks[j].Index))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// shellQuote returns s in single quotes, with each ' written as '\”. Both
// bash and sbatch's #SBATCH parser read that back as s.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
