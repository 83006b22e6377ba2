package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func sampleTable() *Table {
	t := &Table{Columns: []Column{
		{"address", String}, {"axis.seed", Float}, {"axis.opt", OptionalString},
		{"chains", Int}, {"llc_mean", Float},
	}}
	t.AddRow("sampler.a[seed=0]", 0.0, "adam", 4, 12.5)
	t.AddRow("sampler.a[seed=1]", 1.0, nil, 2, nil)
	return t
}

func TestTableCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleTable().WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := "address,axis.seed,axis.opt,chains,llc_mean\n" +
		"sampler.a[seed=0],0,adam,4,12.5\n" +
		"sampler.a[seed=1],1,,2,\n"
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// parquetRow is the schema that a reader of sampleTable's file expects.
type parquetRow struct {
	Address string   `parquet:"address"`
	Seed    *float64 `parquet:"axis.seed,optional"`
	Opt     *string  `parquet:"axis.opt,optional"`
	Chains  int64    `parquet:"chains"`
	LLCMean *float64 `parquet:"llc_mean,optional"`
}

func TestTableParquetReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleTable().WriteParquet(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, field := range f.Schema().Fields() {
		names = append(names, field.Name())
	}
	if got, want := strings.Join(names, " "), "address axis.seed axis.opt chains llc_mean"; got != want {
		t.Errorf("columns %q, want %q", got, want)
	}
	if f.NumRows() != 2 {
		t.Fatalf("%d rows, want 2", f.NumRows())
	}
	rows, err := parquet.Read[parquetRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	first, second := rows[0], rows[1]
	if first.Address != "sampler.a[seed=0]" || first.Chains != 4 {
		t.Errorf("row 0 = %+v", first)
	}
	if first.Seed == nil || *first.Seed != 0 || first.Opt == nil || *first.Opt != "adam" {
		t.Errorf("row 0 axes = %v, %v", first.Seed, first.Opt)
	}
	if first.LLCMean == nil || math.Abs(*first.LLCMean-12.5) != 0 {
		t.Errorf("row 0 llc_mean = %v, want 12.5", first.LLCMean)
	}
	if second.Opt != nil || second.LLCMean != nil {
		t.Errorf("row 1 nulls read back as %v, %v", second.Opt, second.LLCMean)
	}
	if second.Seed == nil || *second.Seed != 1 || second.Chains != 2 {
		t.Errorf("row 1 = %+v", second)
	}
}
