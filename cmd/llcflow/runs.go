package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/llcflow/llcflow/executors/modal"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/store"
)

type runsCmd struct {
	Type      string        `help:"List only runs of this block type: dataset, erm, target or sampler."`
	Kind      string        `help:"List only runs of this kind, such as sgld or teacher_student."`
	Status    []string      `help:"List only runs with this status: valid, corrupt, failed or running (repeatable)." enum:"valid,corrupt,failed,running" sep:"none" placeholder:"STATUS"`
	OlderThan string        `help:"List only runs that finished longer ago than this, such as 36h, 7d or 2w." placeholder:"AGE"`
	NewerThan string        `help:"List only runs that finished more recently than this, such as 90m or 1d." placeholder:"AGE"`
	JSON      bool          `name:"json" help:"Print the runs as one JSON document."`
	Backend   string        `help:"List the local store, or with modal the runs on the Modal volume." default:"local" enum:"local,modal"`
	Timeout   time.Duration `help:"Time limit of listing the Modal volume." default:"5m"`

	Modal modalFlags `embed:""`
}

func (r *runsCmd) Help() string {
	return `Lists the runs of the store, newest first: run id, status, type and kind,
the addresses recorded for it, when it finished, and its size on disk. A
valid run passed the checks that apply makes before it serves a cached run
(the manifest parses, the key matches, every file has its recorded size);
'llcflow check' also re-hashes the files. On the Modal volume a run is valid
when its manifest parses, and its files are checked when 'llcflow pull'
copies it. Examples:

  llcflow runs
  llcflow runs --kind sgld --older-than 30d
  llcflow runs --status failed --status corrupt
  llcflow runs --backend modal

Ages take Go durations (90m, 36h) and whole days or weeks (7d, 2w).
Exit codes: 0 success, 1 failure, 2 usage error.`
}

// runRow is one line of `llcflow runs`.
type runRow struct {
	RunID     string    `json:"run_id"`
	Status    string    `json:"status"`
	Detail    string    `json:"detail,omitempty"`
	Type      string    `json:"type"`
	Kind      string    `json:"kind"`
	Version   string    `json:"version"`
	Addresses []string  `json:"addresses"`
	Finished  time.Time `json:"finished"`
	Bytes     int64     `json:"bytes"`
	Path      string    `json:"path"`
}

func (r *runsCmd) Run(c *cli) error {
	filter, err := r.filter()
	if err != nil {
		return err
	}
	var rows []runRow
	if r.Backend == "modal" {
		rows, err = r.volumeRows()
	} else {
		var st *store.Store
		if st, err = c.openStore(); err != nil {
			return err
		}
		rows, err = storeRows(st)
	}
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}

	kept := rows[:0]
	for _, row := range rows {
		if filter(row) {
			kept = append(kept, row)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Finished.After(kept[j].Finished) })
	if r.JSON {
		return writeRunsJSON(os.Stdout, kept)
	}
	writeRunsTable(os.Stdout, kept, len(rows))
	return nil
}

// filter returns the predicate of the flags.
func (r *runsCmd) filter() (func(runRow) bool, error) {
	now := time.Now()
	var before, after time.Time
	if r.OlderThan != "" {
		d, err := parseAge(r.OlderThan)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("--older-than: %w", err)}
		}
		before = now.Add(-d)
	}
	if r.NewerThan != "" {
		d, err := parseAge(r.NewerThan)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("--newer-than: %w", err)}
		}
		after = now.Add(-d)
	}
	statuses := map[string]bool{}
	for _, s := range r.Status {
		statuses[s] = true
	}
	return func(row runRow) bool {
		switch {
		case r.Type != "" && row.Type != r.Type:
			return false
		case r.Kind != "" && row.Kind != r.Kind:
			return false
		case len(statuses) > 0 && !statuses[row.Status]:
			return false
		case !before.IsZero() && !row.Finished.Before(before):
			return false
		case !after.IsZero() && !row.Finished.After(after):
			return false
		}
		return true
	}, nil
}

// storeRows lists the runs, failure records and running transactions of
// the store.
func storeRows(st *store.Store) ([]runRow, error) {
	runs, err := st.List()
	if err != nil {
		return nil, err
	}
	addresses, err := st.Addresses()
	if err != nil {
		return nil, err
	}
	var rows []runRow
	present := map[string]bool{}
	for _, info := range runs {
		present[info.RunID] = true
		row, err := storeRow(st, info, addresses[info.RunID])
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}

	failures, err := st.Failures()
	if err != nil {
		return nil, err
	}
	for _, f := range failures {
		if present[f.RunID] {
			continue
		}
		present[f.RunID] = true
		rows = append(rows, failureRow(st, f))
	}

	temps, err := st.TempDirs()
	if err != nil {
		return nil, err
	}
	for _, t := range temps {
		if t.RunID == "" || !t.Locked || present[t.RunID] {
			continue
		}
		present[t.RunID] = true
		rows = append(rows, runRow{RunID: t.RunID, Status: "running", Addresses: addresses[t.RunID],
			Bytes: t.Size, Path: t.Path, Detail: "being written by another process"})
	}
	return rows, nil
}

func storeRow(st *store.Store, info store.RunInfo, addresses []string) (runRow, error) {
	row := runRow{RunID: info.RunID, Addresses: addresses, Path: st.RunDir(info.RunID)}
	if row.Addresses == nil {
		row.Addresses = []string{}
	}
	if m := info.Manifest; m != nil {
		row.Type, row.Kind, row.Version = m.Type, m.Kind, m.Version
	}
	if p := info.Provenance; p != nil {
		row.Finished = p.FinishedAt
		if len(row.Addresses) == 0 && p.Address != "" {
			row.Addresses = []string{p.Address}
		}
	} else if fi, err := os.Stat(row.Path); err == nil {
		row.Finished = fi.ModTime().UTC()
	}
	status, detail, err := st.CheckRun(info.RunID)
	if err != nil {
		return row, err
	}
	row.Status, row.Detail = status.String(), detail
	if locked, holder, err := st.Locked(info.RunID); err == nil && locked {
		row.Status = "running"
		row.Detail = "being rewritten by another process"
		if holder != nil {
			row.Detail = "being rewritten by " + holder.String()
		}
	}
	row.Bytes, err = store.Size(row.Path)
	return row, err
}

func failureRow(st *store.Store, f store.FailureInfo) runRow {
	row := runRow{RunID: f.RunID, Status: graph.Failed.String(), Path: st.FailureDir(f.RunID),
		Addresses: []string{}}
	if f.Failure != nil {
		row.Finished = f.Failure.Time
		row.Detail = fmt.Sprintf("stage %s: %s", f.Failure.Stage, firstLine(f.Failure.Error))
		if f.Failure.Address != "" {
			row.Addresses = []string{f.Failure.Address}
		}
	} else if f.Err != nil {
		row.Detail = f.Err.Error()
	}
	if f.Failure != nil {
		row.Type, row.Kind = f.Failure.Type, f.Failure.Kind
		if row.Type == "" {
			// Older records name no type, but the address starts with it.
			row.Type, _, _ = strings.Cut(f.Failure.Address, ".")
		}
	}
	row.Bytes, _ = store.Size(row.Path)
	return row
}

// volumeRows lists the runs on the Modal volume.
func (r *runsCmd) volumeRows() ([]runRow, error) {
	opts, err := r.Modal.options(nil)
	if err != nil {
		return nil, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runs, err := listVolumeRuns(ctx, opts, logger)
	if err != nil {
		return nil, fmt.Errorf("list the runs on the Modal volume %s: %w", opts.Volume, err)
	}

	var rows []runRow
	for _, v := range runs {
		rows = append(rows, volumeRow(opts.Volume, v))
	}
	return rows, nil
}

// volumeRow describes one run on the volume from its manifest and
// provenance, without validating its files.
func volumeRow(volume string, v modal.VolumeRun) runRow {
	row := runRow{RunID: v.RunID, Status: graph.Valid.String(), Addresses: []string{},
		Path: volume + ":/" + v.RunID}
	var m struct {
		Type, Kind, Version string
		Files               []struct{ Size int64 }
	}
	if err := json.Unmarshal(v.Manifest, &m); err != nil {
		row.Status, row.Detail = graph.Corrupt.String(), "manifest.json does not parse: "+err.Error()
	}
	row.Type, row.Kind, row.Version = m.Type, m.Kind, m.Version
	for _, f := range m.Files {
		row.Bytes += f.Size
	}
	var p struct {
		Address    string    `json:"address"`
		FinishedAt time.Time `json:"finished_at"`
	}
	if v.Provenance != nil && json.Unmarshal(v.Provenance, &p) == nil {
		row.Finished = p.FinishedAt
		if p.Address != "" {
			row.Addresses = []string{p.Address}
		}
	}
	return row
}

func writeRunsJSON(w io.Writer, rows []runRow) error {
	if rows == nil {
		rows = []runRow{}
	}
	data, err := json.MarshalIndent(map[string]any{"format_version": "1", "runs": rows}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

func writeRunsTable(w io.Writer, rows []runRow, total int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run id\tstatus\ttype\tkind\taddress\tfinished\tsize")
	var bytes int64
	for _, row := range rows {
		address := strings.Join(row.Addresses, ", ")
		if address == "" {
			address = "-"
		}
		finished := "-"
		if !row.Finished.IsZero() {
			finished = row.Finished.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.RunID, row.Status, dash(row.Type),
			dash(row.Kind), address, finished, formatBytes(row.Bytes))
		bytes += row.Bytes
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d of %d runs, %s.\n", len(rows), total, formatBytes(bytes))
	for _, row := range rows {
		if row.Status == "corrupt" || row.Status == "failed" {
			fmt.Fprintf(w, "%s %s: %s\n", row.RunID, row.Status, row.Detail)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatBytes writes a size in bytes with a binary unit: 512 B, 1.5 KiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, exp := float64(n)/unit, 0
	for value >= unit && exp < 4 {
		value /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTP"[exp])
}

// parseAge parses a duration as time.ParseDuration does, and also whole
// days ("7d") and weeks ("2w"). It rejects negative ages.
func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	switch {
	case strings.HasSuffix(s, "d") || strings.HasSuffix(s, "w"):
		unit := 24 * time.Hour
		if strings.HasSuffix(s, "w") {
			unit *= 7
		}
		var n int
		if _, scanErr := fmt.Sscanf(s[:len(s)-1], "%d", &n); scanErr != nil ||
			fmt.Sprint(n) != s[:len(s)-1] {
			return 0, fmt.Errorf("invalid age %q: use a Go duration such as 36h or whole days or weeks such as 7d or 2w", s)
		}
		d = time.Duration(n) * unit
	default:
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid age %q: use a Go duration such as 36h or whole days or weeks such as 7d or 2w", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid age %q: an age must not be negative", s)
	}
	return d, nil
}
