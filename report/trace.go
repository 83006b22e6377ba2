package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
)

// Trace is trace.csv of a sampler run.
type Trace struct {
	Chains []Chain
	// Series are the names of the per-draw sampler signals beyond loss and
	// llc, sorted, such as "mala_accept" or "energy_error".
	Series []string
}

// Chain is the recorded draws of one chain, in draw order.
type Chain struct {
	// Step is the recorded step of each draw, counted after warmup.
	Step []float64
	// Loss is the full-data loss L_n at each draw and LLC the draw
	// nβ·(L_n − L_n(w*)).
	Loss, LLC []float64
	// Series holds the per-draw signals by name.
	Series map[string][]float64
}

// traceColumns are the columns every trace.csv starts with.
var traceColumns = []string{"chain", "draw", "step", "loss", "llc"}

// ReadTrace reads a sampler's trace.csv.
func ReadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := parseTrace(f)
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w", path, err)
	}
	return t, nil
}

func parseTrace(r io.Reader) (*Trace, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	first, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	// The reader reuses its record slice, so keep a copy of the header.
	header := slices.Clone(first)
	if len(header) < len(traceColumns) || !slices.Equal(header[:len(traceColumns)], traceColumns) {
		return nil, fmt.Errorf("header %v must start with %v", header, traceColumns)
	}
	t := &Trace{Series: slices.Clone(header[len(traceColumns):])}
	slices.Sort(t.Series)
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		if err := t.addRecord(header, rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func (t *Trace) addRecord(header, rec []string) error {
	values := make([]float64, len(rec))
	for i, field := range rec {
		v, err := strconv.ParseFloat(field, 64)
		if err != nil {
			return fmt.Errorf("column %s: %w", header[i], err)
		}
		values[i] = v
	}
	c := int(values[0])
	if float64(c) != values[0] || c < 0 || c > len(t.Chains) {
		return fmt.Errorf("chain %v appears before chain %d, but chains must first appear in the order 0, 1, …", values[0], len(t.Chains))
	}
	if c == len(t.Chains) {
		ch := Chain{Series: make(map[string][]float64, len(t.Series))}
		t.Chains = append(t.Chains, ch)
	}
	ch := &t.Chains[c]
	ch.Step = append(ch.Step, values[2])
	ch.Loss = append(ch.Loss, values[3])
	ch.LLC = append(ch.LLC, values[4])
	for i := len(traceColumns); i < len(header); i++ {
		ch.Series[header[i]] = append(ch.Series[header[i]], values[i])
	}
	return nil
}

// LLCChains returns the LLC draws of every chain, cut to the shortest
// chain so that every chain weighs the same.
func (t *Trace) LLCChains() [][]float64 {
	n := -1
	for _, ch := range t.Chains {
		if n < 0 || len(ch.LLC) < n {
			n = len(ch.LLC)
		}
	}
	out := make([][]float64, len(t.Chains))
	for c, ch := range t.Chains {
		out[c] = ch.LLC[:n]
	}
	return out
}

// ReadCurve reads an erm node's curve.csv: step,loss and, for the
// classification losses, an accuracy column. Accuracy is NaN in the points
// of a curve without that column.
func ReadCurve(path string) ([]CurvePoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read curve %s: %w", path, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0][:min(len(recs[0]), 2)], []string{"step", "loss"}) ||
		(len(recs[0]) == 3 && recs[0][2] != "accuracy") || len(recs[0]) > 3 {
		return nil, fmt.Errorf("read curve %s: the header must be step,loss or step,loss,accuracy", path)
	}
	withAccuracy := len(recs[0]) == 3
	out := make([]CurvePoint, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		pt := CurvePoint{Accuracy: math.NaN()}
		var err1, err2, err3 error
		pt.Step, err1 = strconv.ParseFloat(rec[0], 64)
		pt.Loss, err2 = strconv.ParseFloat(rec[1], 64)
		if withAccuracy {
			pt.Accuracy, err3 = strconv.ParseFloat(rec[2], 64)
		}
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("read curve %s: line %d is not %d numbers: %v", path, i+2, len(recs[0]), rec)
		}
		out = append(out, pt)
	}
	return out, nil
}
