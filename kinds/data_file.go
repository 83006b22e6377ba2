package kinds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/llcflow/llcflow/dsl"
	"github.com/llcflow/llcflow/graph"
	"github.com/llcflow/llcflow/npy"
)

// File datasets read X and Y from a user's files. The "npz" kind reads one
// archive with the arrays named by x and y, "npy" one file for each
// (x_path and y_path), and "csv" a table whose y_columns are Y and whose
// other columns are X. A one-dimensional array is one column.
//
// Normalization reads every file, checks its arrays and replaces each path
// by the SHA-256 of the file's content, so the key depends on the bytes and
// not on where the file lives: moving a file keeps the cache, changing a
// byte invalidates it. The run reads the file again, from the path that
// normalization saw in this process, and fails if its content changed
// since.
//
// Paths are relative to the directory of the HCL file when the DSL calls
// Registry.NormalizeFile, and to the working directory through
// Registry.Normalize.

// dataFiles maps the SHA-256 of each file normalization read to its
// absolute path, for the runs in the same process.
//
// NOTE: a node run by llcflow exec-node in another process (the slurm and
// modal backends) finds no path here and fails with a message saying so.
var dataFiles sync.Map

// pathAttr is an attribute that names a file and the parameter that
// replaces it with the file's content hash.
type pathAttr struct {
	attr, hash string
}

// fileShapes maps the key of fileShapeKey to the shape of the dataset
// that normalization read, so that CheckGraph can check the models
// trained on file datasets without reading the files again.
var fileShapes sync.Map

// fileShapeKey returns the key of a file dataset in fileShapes: its kind
// and the canonical encoding of its normalized params, which hold the
// files' content hashes and every option that selects or splits arrays.
func fileShapeKey(kind string, params map[string]any) (string, bool) {
	data, err := graph.Canonical(params)
	if err != nil {
		return "", false
	}
	return kind + "\x00" + string(data), true
}

// fileKind is one file dataset kind.
type fileKind struct {
	// kind is the kind's name, such as "npz".
	kind  string
	paths []pathAttr
	// parse returns X and Y from the files' contents, keyed by the path
	// attribute, or an error at the attribute that caused it.
	parse func(files map[string][]byte, params map[string]any) (x, y *numpyArray, err *attrError)
}

// attrError is an error caused by the value of one attribute.
type attrError struct {
	attr string
	err  error
}

// fileChecks holds the checks of the kinds that read files, by
// "TYPE.KIND". Each takes the directory that relative paths start from.
var fileChecks = map[string]func(dir string, params map[string]any) []dsl.FieldError{}

// registerFileKind registers a kind whose check reads files.
func registerFileKind(k *Kind, check func(dir string, params map[string]any) []dsl.FieldError) {
	k.Check = func(params map[string]any) []dsl.FieldError { return check("", params) }
	fileChecks[k.Type+"."+k.Name] = check
	register(k)
}

// NormalizeFile is Normalize for a block declared in the HCL file named
// file: paths of data and weights files in the block are relative to that
// file's directory.
func (r Registry) NormalizeFile(file, blockType, kind string, attrs map[string]any) (map[string]any, []dsl.FieldError) {
	check, ok := fileChecks[blockType+"."+kind]
	k, known := Lookup(blockType, kind)
	if !ok || !known {
		return r.Normalize(blockType, kind, attrs)
	}
	out, errs := normalizeAttrs(k.Attrs, attrs, "")
	if len(errs) == 0 {
		errs = check(filepath.Dir(file), out)
	}
	return out, errs
}

func init() {
	labels := atLeast(Attr{Name: "classes", Type: Int, Optional: true,
		Doc: "number of classes K when Y holds class labels 0 … K−1, for the cross_entropy loss"}, 2)
	npzKind := fileKind{kind: "npz", paths: []pathAttr{{"path", "content_sha256"}}, parse: parseNPZDataset}
	registerFileKind(&Kind{
		Type: "dataset", Name: "npz", Version: "npz/1",
		Attrs: []Attr{
			{Name: "path", Type: String, Doc: "the .npz file, relative to the HCL file"},
			{Name: "x", Type: String, Default: "X", Doc: "name of the input array in the archive"},
			{Name: "y", Type: String, Default: "Y", Doc: "name of the target array in the archive"},
			labels,
		},
		Run: npzKind.run,
	}, npzKind.check)

	npyKind := fileKind{kind: "npy", paths: []pathAttr{{"x_path", "x_content_sha256"}, {"y_path", "y_content_sha256"}}, parse: parseNPYDataset}
	registerFileKind(&Kind{
		Type: "dataset", Name: "npy", Version: "npy/1",
		Attrs: []Attr{
			{Name: "x_path", Type: String, Doc: "the .npy file of X, relative to the HCL file"},
			{Name: "y_path", Type: String, Doc: "the .npy file of Y, relative to the HCL file"},
			labels,
		},
		Run: npyKind.run,
	}, npyKind.check)

	csvKind := fileKind{kind: "csv", paths: []pathAttr{{"path", "content_sha256"}}, parse: parseCSVDataset}
	registerFileKind(&Kind{
		Type: "dataset", Name: "csv", Version: "csv/1",
		Attrs: []Attr{
			{Name: "path", Type: String, Doc: "the CSV file, relative to the HCL file"},
			{Name: "header", Type: Bool, Default: true, Doc: "the first row names the columns and is skipped; a first row of numbers is rejected, so set false for a file without names"},
			{Name: "y_columns", Type: IntList, Default: []any{-1.0},
				Doc: "0-based indices of the Y columns, negative ones counted from the end; the other columns are X"},
			{Name: "delimiter", Type: String, Default: ",", Doc: "the field separator, one character"},
			labels,
		},
		Run: csvKind.run,
	}, csvKind.check)
}

// check reads and checks the kind's files, and replaces each path by its
// content hash.
func (fk fileKind) check(dir string, params map[string]any) []dsl.FieldError {
	files := map[string][]byte{}
	hashes := map[string]string{}
	var errs []dsl.FieldError
	for _, pa := range fk.paths {
		path, err := resolvePath(dir, params[pa.attr].(string))
		if err != nil {
			errs = append(errs, fileError(pa.attr, err))
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fileError(pa.attr, err))
			continue
		}
		files[pa.attr] = data
		hashes[pa.attr] = contentHash(data)
		dataFiles.Store(hashes[pa.attr], path)
	}
	if len(errs) > 0 {
		return errs
	}
	d, aerr := fk.load(files, params)
	if aerr != nil {
		return []dsl.FieldError{fileError(aerr.attr, aerr.err)}
	}
	for _, pa := range fk.paths {
		delete(params, pa.attr)
		params[pa.hash] = hashes[pa.attr]
	}
	if key, ok := fileShapeKey(fk.kind, params); ok {
		fileShapes.Store(key, dataShape{rows: d.n, in: d.inDim, out: d.outDim, classes: classesOf(params)})
	}
	return nil
}

// classesOf returns the classes parameter of a dataset, 0 when unset.
func classesOf(params map[string]any) int {
	k, _ := params["classes"].(float64)
	return int(k)
}

// fileError is the diagnostic of a data file that is missing, unreadable
// or malformed, at the attribute that names it.
func fileError(attr string, err error) dsl.FieldError {
	return namedFileError("data", attr, err)
}

// namedFileError is fileError for a file of the given role, "data" or
// "weights", which the summary names.
func namedFileError(role, attr string, err error) dsl.FieldError {
	summary := "Invalid " + role + " file"
	switch {
	case errors.Is(err, os.ErrNotExist):
		summary = capitalize(role) + " file not found"
	case errors.Is(err, os.ErrPermission):
		summary = "Unreadable " + role + " file"
	}
	return dsl.FieldError{Attr: attr, Summary: summary, Detail: capitalize(err.Error()) + "."}
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// resolvePath returns the absolute path of p, relative to dir when dir is
// not empty and to the working directory otherwise.
func resolvePath(dir, p string) (string, error) {
	if p == "" {
		return "", errors.New("the path is empty")
	}
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	return filepath.Abs(p)
}

func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fileData is the checked content of a file dataset.
type fileData struct {
	x, y             *numpyArray
	n, inDim, outDim int
}

// load parses the files and checks the arrays: matching row counts,
// finite values and, with classes, labels 0 … K−1 in one column.
func (fk fileKind) load(files map[string][]byte, params map[string]any) (*fileData, *attrError) {
	x, y, aerr := fk.parse(files, params)
	if aerr != nil {
		return nil, aerr
	}
	where := fk.paths[0].attr
	if len(fk.paths) > 1 {
		where = fk.paths[1].attr
	}
	if len(x.shape) == 0 || len(y.shape) == 0 {
		return nil, &attrError{where, errors.New("X and Y must be arrays of one or two dimensions, not scalars")}
	}
	d := &fileData{x: x, y: y, n: x.shape[0], inDim: columns(x), outDim: columns(y)}
	switch {
	case d.n < 1:
		return nil, &attrError{where, errors.New("X has no rows")}
	case y.shape[0] != d.n:
		return nil, &attrError{where, fmt.Errorf("X has %d rows but Y has %d; they must have one row per data point", d.n, y.shape[0])}
	case d.inDim < 1 || d.outDim < 1:
		return nil, &attrError{where, fmt.Errorf("X has %d columns and Y %d; each needs at least one", d.inDim, d.outDim)}
	}
	for name, a := range map[string]*numpyArray{"X": x, "Y": y} {
		for i, v := range a.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				cols := columns(a)
				return nil, &attrError{where, fmt.Errorf("%s[%d, %d] is %v; data must be finite", name, i/cols, i%cols, v)}
			}
		}
	}
	if k, ok := params["classes"].(float64); ok {
		if err := checkLabels(y, int(k)); err != nil {
			return nil, &attrError{"classes", err}
		}
	}
	return d, nil
}

func columns(a *numpyArray) int {
	if len(a.shape) < 2 {
		return 1
	}
	return a.shape[1]
}

func checkLabels(y *numpyArray, classes int) error {
	if columns(y) != 1 {
		return fmt.Errorf("with classes, Y must hold one label 0 … %d per row, but it has %d columns; for one-hot Y, save the labels y.argmax(axis=1) instead", classes-1, columns(y))
	}
	for i, v := range y.values {
		if v != math.Trunc(v) || v < 0 || v >= float64(classes) {
			return fmt.Errorf("label Y[%d] = %v is not a class 0 … %d", i, v, classes-1)
		}
	}
	return nil
}

// run reads the files that normalization hashed and writes x.npy, y.npy and
// result.json.
func (fk fileKind) run(ctx context.Context, rc *RunContext) error {
	files := map[string][]byte{}
	hashes := map[string]string{}
	for _, pa := range fk.paths {
		want, _ := rc.Params[pa.hash].(string)
		data, err := readHashed(want)
		if err != nil {
			return err
		}
		files[pa.attr] = data
		hashes[pa.attr] = want
	}
	d, aerr := fk.load(files, rc.Params)
	if aerr != nil {
		return fmt.Errorf("%s: %w", aerr.attr, aerr.err)
	}
	if err := npy.Write(filepath.Join(rc.Dir, fileX), []int{d.n, d.inDim}, d.x.values); err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(rc.Dir, fileY), []int{d.n, d.outDim}, d.y.values); err != nil {
		return err
	}
	classes := 0
	if k, ok := rc.Params["classes"].(float64); ok {
		classes = int(k)
	}
	fmt.Fprintf(rc.Log, "read %d points, in_dim %d, out_dim %d; content SHA-256 of each file:\n", d.n, d.inDim, d.outDim)
	for _, pa := range fk.paths {
		path, _ := dataFiles.Load(hashes[pa.attr])
		fmt.Fprintf(rc.Log, "  %s: %s\n", path, hashes[pa.attr])
	}
	return writeJSON(rc.Dir, "result.json", datasetResult{
		N: d.n, InDim: d.inDim, OutDim: d.outDim, Classes: classes, ContentSHA256: hashes,
	})
}

// readHashed reads the file that normalization recorded for a content
// hash and checks that its content still has that hash.
func readHashed(hash string) ([]byte, error) {
	v, ok := dataFiles.Load(hash)
	if !ok {
		return nil, fmt.Errorf("no file with content SHA-256 %s was read while loading the HCL files in this process; file datasets and weights run in the llcflow process that loads them (the local backend)", hash)
	}
	path := v.(string)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if got := contentHash(data); got != hash {
		return nil, fmt.Errorf("%s changed after it was planned (SHA-256 %s, planned %s); run llcflow apply again", path, got, hash)
	}
	return data, nil
}

func parseNPZDataset(files map[string][]byte, params map[string]any) (x, y *numpyArray, err *attrError) {
	archive, e := openNPZ(files["path"])
	if e != nil {
		return nil, nil, &attrError{"path", e}
	}
	x, e = archive.array(params["x"].(string))
	if e != nil {
		return nil, nil, &attrError{"x", e}
	}
	y, e = archive.array(params["y"].(string))
	if e != nil {
		return nil, nil, &attrError{"y", e}
	}
	return x, y, nil
}

func parseNPYDataset(files map[string][]byte, params map[string]any) (x, y *numpyArray, err *attrError) {
	x, e := readNPY(bytes.NewReader(files["x_path"]))
	if e != nil {
		return nil, nil, &attrError{"x_path", e}
	}
	y, e = readNPY(bytes.NewReader(files["y_path"]))
	if e != nil {
		return nil, nil, &attrError{"y_path", e}
	}
	return x, y, nil
}

// parseCSVDataset splits a numeric table into X and Y columns. It strips
// a UTF-8 byte order mark, which spreadsheet programs write, and with
// header = true rejects a first row of numbers, which would otherwise be
// dropped without notice.
func parseCSVDataset(files map[string][]byte, params map[string]any) (x, y *numpyArray, err *attrError) {
	delim := []rune(params["delimiter"].(string))
	if len(delim) != 1 {
		return nil, nil, &attrError{"delimiter", fmt.Errorf("delimiter %q must be one character", params["delimiter"])}
	}

	content := bytes.TrimPrefix(files["path"], []byte(utf8BOM))
	r := csv.NewReader(bytes.NewReader(content))
	r.Comma = delim[0]
	r.TrimLeadingSpace = true
	rows, e := r.ReadAll()
	if e != nil {
		err := fmt.Errorf("not a valid CSV file: %w", e)
		if hint := delimiterHint(content, delim[0]); hint != "" {
			err = fmt.Errorf("%w. %s", err, hint)
		}
		return nil, nil, &attrError{"path", err}
	}

	first := 0
	if params["header"].(bool) {
		first = 1
		if len(rows) > 0 && allNumbers(rows[0]) {
			return nil, nil, &attrError{"path", fmt.Errorf("the first row of the CSV file (%s) looks like data, but header = true skips it; set header = false, or add a row of column names",
				strings.Join(rows[0], string(delim[0])))}
		}
	}
	if len(rows) <= first {
		return nil, nil, &attrError{"path", errors.New("the CSV file has no data rows")}
	}
	cols := len(rows[first])
	if hint := delimiterHint(content, delim[0]); cols == 1 && hint != "" {
		return nil, nil, &attrError{"delimiter", fmt.Errorf("every row reads as one column, which leaves none for X. %s", hint)}
	}
	isY, aerr := yColumns(params["y_columns"].([]any), cols)
	if aerr != nil {
		return nil, nil, aerr
	}

	n := len(rows) - first
	x = &numpyArray{shape: []int{n, cols - len(isY)}}
	y = &numpyArray{shape: []int{n, len(isY)}}
	for i, row := range rows[first:] {
		for j, field := range row {
			v, e := strconv.ParseFloat(field, 64)
			if e != nil {
				return nil, nil, &attrError{"path", fmt.Errorf("row %d, column %d: %q is not a number", first+i+1, j+1, field)}
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, &attrError{"path", fmt.Errorf("row %d, column %d is %q; data must be finite", first+i+1, j+1, field)}
			}
			if isY[j] {
				y.values = append(y.values, v)
			} else {
				x.values = append(x.values, v)
			}
		}
	}
	return x, y, nil
}

// utf8BOM is the byte order mark that some programs write at the start of
// a UTF-8 file.
const utf8BOM = "\ufeff"

// allNumbers reports whether every field of a row parses as a number.
func allNumbers(row []string) bool {
	for _, field := range row {
		if _, err := strconv.ParseFloat(field, 64); err != nil {
			return false
		}
	}
	return len(row) > 0
}

// delimiterHint returns a sentence that names the delimiter the table
// seems to use when its first line has none of delim but another common
// separator, and "" otherwise. The sentence starts with a capital letter
// and has no final period.
func delimiterHint(content []byte, delim rune) string {
	line, _, _ := bytes.Cut(content, []byte("\n"))
	if bytes.ContainsRune(line, delim) {
		return ""
	}
	for _, sep := range []string{";", "\t", "|", ","} {
		if strings.Contains(string(line), sep) && []rune(sep)[0] != delim {
			return fmt.Sprintf("The first line contains no %q but contains %q, so set delimiter = %q", string(delim), sep, sep)
		}
	}
	return ""
}

// yColumns returns the set of Y column indices of a table of cols columns.
func yColumns(list []any, cols int) (map[int]bool, *attrError) {
	isY := map[int]bool{}
	for _, v := range list {
		j := int(v.(float64))
		if j < 0 {
			j += cols
		}
		if j < 0 || j >= cols {
			return nil, &attrError{"y_columns", fmt.Errorf("column %d is outside the table's %d columns", int(v.(float64)), cols)}
		}
		if isY[j] {
			return nil, &attrError{"y_columns", fmt.Errorf("y_columns names column %d twice (negative indices count from the end of the %d columns); list each Y column once", j, cols)}
		}
		isY[j] = true
	}
	if len(isY) == 0 || len(isY) == cols {
		return nil, &attrError{"y_columns", fmt.Errorf("y_columns names %d of the table's %d columns, but Y needs at least one column and X at least one other", len(isY), cols)}
	}
	return isY, nil
}
