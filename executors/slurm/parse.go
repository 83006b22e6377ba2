package slurm

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// jobState is the state of one array task (or of one job that is not an
// array) as one query reports it.
type jobState struct {
	// Job is the array job id (the id sbatch printed).
	Job string
	// Task is the array task index, or -1 for a job that is not an array.
	// It is also -1 for the line of an array whose tasks all ended while
	// pending, which squeue prints without task ids ("28|CANCELLED").
	Task int
	// State is the base state name, such as "RUNNING" or "CANCELLED"
	// (without "by UID").
	State string
	// ExitCode is the exit status of the batch script, and Signal the
	// signal that ended it (0 when none).
	ExitCode, Signal int
	// Submit and End are the times Slurm recorded (zero when unknown).
	Submit, End time.Time
	// Reason is the scheduler's reason for a pending job, or "".
	Reason string
}

// jobRef is a parsed job id: "12", "12_4" or "12_[3-7%2]".
type jobRef struct {
	Job string
	// Tasks are the array task indices, nil for a job that is not an
	// array.
	Tasks []int
}

// parseSbatchParsable reads the output of `sbatch --parsable`: "JOBID" or
// "JOBID;CLUSTER".
func parseSbatchParsable(out string) (job, cluster string, err error) {
	line := strings.TrimSpace(out)
	// sbatch prints warnings on stderr, but take the last line to be safe.
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[i+1:])
	}
	job, cluster, _ = strings.Cut(line, ";")
	if !isDigits(job) {
		return "", "", fmt.Errorf("sbatch --parsable printed %q, want a job id such as 12 or 12;cluster", out)
	}
	return job, cluster, nil
}

// parseJobRef reads a job id as squeue and sacct print it: "12", "12_4",
// "12_[3-7%2]" or "12_[1,3-5]". A throttle after % is ignored.
func parseJobRef(s string) (jobRef, error) {
	s = strings.TrimSpace(s)
	job, tasks, isArray := strings.Cut(s, "_")
	if !isDigits(job) {
		return jobRef{}, fmt.Errorf("invalid job id %q: want 12, 12_4 or 12_[3-7%%2]", s)
	}
	if !isArray {
		return jobRef{Job: job}, nil
	}
	if !strings.HasPrefix(tasks, "[") {
		n, err := parseTaskIndex(tasks)
		if err != nil {
			return jobRef{}, fmt.Errorf("invalid job id %q: %w", s, err)
		}
		return jobRef{Job: job, Tasks: []int{n}}, nil
	}
	if !strings.HasSuffix(tasks, "]") {
		return jobRef{}, fmt.Errorf("invalid job id %q: unclosed task list", s)
	}
	list := tasks[1 : len(tasks)-1]
	list, _, _ = strings.Cut(list, "%")
	var out []int
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseTaskIndex(lo)
		if err != nil {
			return jobRef{}, fmt.Errorf("invalid job id %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseTaskIndex(hi); err != nil {
				return jobRef{}, fmt.Errorf("invalid job id %q: %w", s, err)
			}
		}
		// A step such as "1-9:2" is not printed by squeue or sacct for
		// pending tasks, so ranges are taken as contiguous.
		if b < a || b-a > 4_000_000 {
			return jobRef{}, fmt.Errorf("invalid job id %q: task range %s", s, part)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return jobRef{Job: job, Tasks: out}, nil
}

func parseTaskIndex(s string) (int, error) {
	if !isDigits(s) {
		return 0, fmt.Errorf("task index %q is not a number", s)
	}
	return strconv.Atoi(s)
}

// baseState strips what follows the state name: "CANCELLED by 0" and
// "CANCELLED+" (a truncated column) both give "CANCELLED".
func baseState(s string) string {
	s = strings.TrimSpace(s)
	s, _, _ = strings.Cut(s, " ")
	return strings.TrimRight(s, "+")
}

// parseSacctExit reads sacct's ExitCode column, "EXIT:SIGNAL".
func parseSacctExit(s string) (exit, signal int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || !isDigits(a) || !isDigits(b) {
		return 0, 0, fmt.Errorf("invalid sacct exit code %q: want EXIT:SIGNAL such as 3:0", s)
	}
	exit, _ = strconv.Atoi(a)
	signal, _ = strconv.Atoi(b)
	return exit, signal, nil
}

// parseWaitStatus reads squeue's exit_code field, a raw wait(2) status: the
// exit code in bits 8-15, the terminating signal in bits 0-6.
func parseWaitStatus(s string) (exit, signal int, err error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "N/A" {
		return 0, 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, 0, fmt.Errorf("invalid squeue exit_code %q: want a wait status such as 768", s)
	}
	return (n >> 8) & 0xff, n & 0x7f, nil
}

// parseSlurmTime reads a time as Slurm prints it by default, in the local
// zone: "2026-12-04T14:20:42". "Unknown", "N/A", "None", "NONE" and ""
// give the zero time.
func parseSlurmTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "Unknown", "N/A", "None", "NONE", "(null)":
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid slurm time %q: want 2006-01-02T15:04:05", s)
	}
	return t, nil
}

// sacctFormat is the --format of the sacct query; parseSacct reads its
// output with -P (fields separated by |) and -n (no header).
const sacctFormat = "JobID,State,ExitCode,Submit,End,Reason"

// parseSacct reads `sacct -X -P -n --format=` + sacctFormat. A pending
// array's line such as "12_[3-7%2]" yields one state per task.
func parseSacct(out string) ([]jobState, error) {
	return parseRows(out, 6, func(f []string) ([]jobState, error) {
		exit, sig, err := parseSacctExit(f[2])
		if err != nil {
			return nil, err
		}
		return statesFor(f[0], f[1], exit, sig, f[3], f[4], f[5])
	})
}

// squeueFormat is the --Format of the squeue query. A width of 0 prints a
// field without padding and "|" is the suffix after each field.
const squeueFormat = "JobArrayID:0|,State:0|,exit_code:0|,SubmitTime:0|,EndTime:0|,Reason:0"

// parseSqueue reads `squeue -h -t all -O ` + squeueFormat.
func parseSqueue(out string) ([]jobState, error) {
	return parseRows(out, 6, func(f []string) ([]jobState, error) {
		exit, sig, err := parseWaitStatus(f[2])
		if err != nil {
			return nil, err
		}
		return statesFor(f[0], f[1], exit, sig, f[3], f[4], f[5])
	})
}

// parseRows splits lines on "|" into n fields, the last of which takes the
// rest of the line, and hands each non-empty line to row.
func parseRows(out string, n int, row func([]string) ([]jobState, error)) ([]jobState, error) {
	var states []jobState
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "|", n)
		if len(f) != n {
			return nil, fmt.Errorf("invalid line %q: want %d fields separated by |", line, n)
		}
		s, err := row(f)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		states = append(states, s...)
	}
	return states, sc.Err()
}

func statesFor(id, state string, exit, sig int, submit, end, reason string) ([]jobState, error) {
	ref, err := parseJobRef(id)
	if err != nil {
		return nil, err
	}
	st := jobState{
		Job: ref.Job, Task: -1, State: baseState(state),
		ExitCode: exit, Signal: sig, Reason: strings.TrimSpace(reason),
	}
	if st.Reason == "None" {
		st.Reason = ""
	}
	if st.Submit, err = parseSlurmTime(submit); err != nil {
		return nil, err
	}
	if st.End, err = parseSlurmTime(end); err != nil {
		return nil, err
	}
	if ref.Tasks == nil {
		return []jobState{st}, nil
	}
	out := make([]jobState, len(ref.Tasks))
	for i, task := range ref.Tasks {
		out[i] = st
		out[i].Task = task
	}
	return out, nil
}

// isAccountingDisabled reports whether sacct's output contains its message
// for a cluster without accounting ("Slurm accounting storage is
// disabled").
func isAccountingDisabled(out string) bool {
	return strings.Contains(strings.ToLower(out), "accounting storage is disabled")
}

// isInvalidJobID reports whether squeue or scontrol failed because none of
// the requested jobs exists in the controller.
func isInvalidJobID(out string) bool {
	return strings.Contains(strings.ToLower(out), "invalid job id specified")
}

// parseMaxArraySize reads MaxArraySize from `scontrol show config`. The
// largest array task index the cluster accepts is one less.
func parseMaxArraySize(out string) (int, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(key) != "MaxArraySize" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid MaxArraySize %q in scontrol show config", strings.TrimSpace(value))
		}
		return n, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("scontrol show config printed no MaxArraySize line")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
