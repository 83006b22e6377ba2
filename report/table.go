package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// ColumnType is the type of a table column and of its Parquet column.
type ColumnType int

const (
	// String cells hold a string; Parquet stores a required UTF-8 string.
	String ColumnType = iota
	// Int cells hold an int; Parquet stores a required INT64.
	Int
	// Float cells hold a float64 or nil; Parquet stores an optional DOUBLE
	// with nil as null.
	Float
	// OptionalString cells hold a string or nil; Parquet stores an
	// optional UTF-8 string.
	OptionalString
)

// Column is one named, typed column of a Table.
type Column struct {
	Name string
	Type ColumnType
}

// Table is a set of rows with named, typed columns. Every row has one cell
// per column, of the Go type that the column's type lists.
type Table struct {
	Columns []Column
	Rows    [][]any
}

// AddRow appends a row. It panics when the row does not fit the columns,
// which is a programming error.
func (t *Table) AddRow(cells ...any) {
	if len(cells) != len(t.Columns) {
		panic(fmt.Sprintf("report: row has %d cells for %d columns", len(cells), len(t.Columns)))
	}
	for i, c := range cells {
		if !t.Columns[i].Type.accepts(c) {
			panic(fmt.Sprintf("report: column %s cannot hold %T", t.Columns[i].Name, c))
		}
	}
	t.Rows = append(t.Rows, cells)
}

func (ct ColumnType) accepts(v any) bool {
	switch v.(type) {
	case string:
		return ct == String || ct == OptionalString
	case int:
		return ct == Int
	case float64:
		return ct == Float
	case nil:
		return ct == Float || ct == OptionalString
	}
	return false
}

// WriteCSV writes the table as CSV with a header line. Numbers use the
// shortest form that reads back to the same float64, and nil cells are
// empty.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(t.Columns))
	for _, row := range t.Rows {
		for i, cell := range row {
			rec[i] = FormatCell(cell)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// FormatCell returns a cell as CSV writes it.
func FormatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	panic(fmt.Sprintf("report: cell of type %T", v))
}

// WriteParquet writes the table as one Parquet file with the columns in
// table order.
func (t *Table) WriteParquet(w io.Writer) error {
	rowType := t.parquetRowType()
	schema := parquet.SchemaOf(reflect.New(rowType).Interface())
	pw := parquet.NewWriter(w, schema)
	for _, row := range t.Rows {
		v := reflect.New(rowType).Elem()
		for i, cell := range row {
			setField(v.Field(i), cell)
		}
		if err := pw.Write(v.Addr().Interface()); err != nil {
			return fmt.Errorf("write parquet row: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("write parquet footer: %w", err)
	}
	return nil
}

// parquetRowType builds a struct type with one field per column, so that
// parquet-go derives a schema that keeps the column order. (A
// parquet.Group sorts its columns by name.)
func (t *Table) parquetRowType() reflect.Type {
	fields := make([]reflect.StructField, len(t.Columns))
	for i, c := range t.Columns {
		var typ reflect.Type
		tag := c.Name
		switch c.Type {
		case String:
			typ = reflect.TypeFor[string]()
		case Int:
			typ = reflect.TypeFor[int64]()
		case Float:
			typ, tag = reflect.TypeFor[*float64](), tag+",optional"
		case OptionalString:
			typ, tag = reflect.TypeFor[*string](), tag+",optional"
		}
		fields[i] = reflect.StructField{
			Name: "F" + strconv.Itoa(i),
			Type: typ,
			Tag:  reflect.StructTag(`parquet:"` + tag + `"`),
		}
	}
	return reflect.StructOf(fields)
}

func setField(f reflect.Value, cell any) {
	switch x := cell.(type) {
	case nil:
	case string:
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.ValueOf(&x))
		} else {
			f.SetString(x)
		}
	case int:
		f.SetInt(int64(x))
	case float64:
		f.Set(reflect.ValueOf(&x))
	}
}
