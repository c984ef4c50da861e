package datasets

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npy/float16"
	"codeberg.org/sbinet/npyio/npz"
	"github.com/klauspost/compress/snappy"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// DefaultMaxTableBytes is the size bound of a table file when
// TableOptions.MaxBytes is zero: 2 GiB.
const DefaultMaxTableBytes int64 = 2 << 30

// MaxTableColumns bounds the columns of an array table (.npy, .npz): the
// features become the latent space, whose dimension is bounded far below.
const MaxTableColumns = 1 << 16

// decodedBudget bounds what a compressed file (.npz, .parquet) of size
// bytes may expand to: decodedFactor × its size, at least 256 MiB, and
// never more than the bound of a file (maxBytes). Numeric tables compress
// 1–10×; a 2.3 MB .npz of zeros used to decode past 4.7 GB before its
// 16 GiB budget (8 × 2 GiB) stopped it.
func decodedBudget(size, maxBytes int64) int64 {
	return min(maxBytes, max(256<<20, decodedFactor*size))
}

const decodedFactor = 64

// Task names accepted in TableOptions.Task.
const (
	taskClassification = "classification"
	taskRegression     = "regression"
)

// maxClasses bounds the number of distinct labels of a classification
// target: more usually means a continuous or identifier column was chosen
// as the target.
const maxClasses = 1000

// tableExtensions lists the supported file extensions, for error messages.
const tableExtensions = ".csv, .npy, .npz or .parquet"

// ErrBadData is wrapped by every DataError: the user's file cannot be used
// as it is, and retrying cannot fix it.
var ErrBadData = errors.New("bad data")

// DataError is a problem with the user's data. It names the file and,
// where they apply, the row and the column, says what was wrong and what to
// do about it.
//
// Row is the 1-based line number for CSV files (the header is line 1) and
// the 0-based row index for arrays (.npy, .npz, .parquet); Error says which.
// Row is -1 and Column is "" where they do not apply.
type DataError struct {
	File   string
	Row    int
	Column string
	Msg    string

	// rowIndex reports that Row is a 0-based array index rather than a
	// 1-based line number.
	rowIndex bool
}

// Error returns the message, e.g.
//
//	data file "jets.csv", row 17, column "pt": "abc" is not a number: every feature and target cell must be numeric
func (e *DataError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data file %q", e.File)
	if e.Row >= 0 {
		if e.rowIndex {
			fmt.Fprintf(&b, ", row index %d (0-based)", e.Row)
		} else {
			fmt.Fprintf(&b, ", row %d", e.Row)
		}
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrBadData.
func (e *DataError) Unwrap() error { return ErrBadData }

// fileError returns a DataError about the whole file.
func fileError(file, format string, args ...any) *DataError {
	return &DataError{File: file, Row: -1, Msg: fmt.Sprintf(format, args...)}
}

// columnError returns a DataError about a whole column.
func columnError(file, column, format string, args ...any) *DataError {
	return &DataError{File: file, Row: -1, Column: column, Msg: fmt.Sprintf(format, args...)}
}

// TableOptions say which columns of a table are features and which is the
// target.
type TableOptions struct {
	// Features are column names or 0-based column indices written as
	// decimal strings; a string that is a column name is taken as the name.
	// Empty means every column but the target, in file order.
	Features []string
	// Target is the column name or index of the target (default: the last
	// column). For .npy files the columns are named col0, col1, …; for .npz
	// files Target names the array of targets (default "y").
	Target string
	// XArray is, for .npz files only, the name of the feature array
	// (default "x").
	XArray string
	// Task is "classification" or "regression".
	Task string
	// MaxBytes bounds the size of the file (0 means DefaultMaxTableBytes).
	// Decoded arrays of compressed formats are bounded by 64 × the file's
	// size (at least 256 MiB) and by MaxBytes.
	MaxBytes int64
}

// Table is a labelled table read into memory: N rows of D float64 features
// and one target per row.
type Table struct {
	N, D int
	// X holds the features, row-major: feature j of row i is
	// X[i*S+j] with S = Stride, or D where Stride is 0. Row returns a
	// row's features.
	X []float64
	// Stride is the distance in X between the starts of two rows: 0 (or
	// D) when X holds the features only, more when X views the rows of a
	// file in place (a float64 .npy array, read without a copy, whose
	// other columns lie between the features of two rows).
	Stride int
	// Y holds the targets. For classification Y[i] is a class index in
	// [0, Classes): the original labels remapped in their sorted order.
	Y []float64
	// Features are the names of the feature columns (col3 etc. for
	// formats without column names).
	Features []string
	// Target is the name of the target column or array.
	Target string
	// Classes is the number of distinct labels (at least 2) for
	// classification and 0 for regression.
	Classes int
	// Labels holds, for classification, the original label of each class
	// index.
	Labels []float64

	// file is the file's name, for the errors of Split.
	file string
}

// Row returns the features of row i, a slice of X (not a copy).
func (t *Table) Row(i int) []float64 {
	s := t.Stride
	if s == 0 {
		s = t.D
	}
	return t.X[i*s : i*s+t.D : i*s+t.D]
}

// CheckTableSize returns a DataError when a file of size bytes is over max
// (0 or less means DefaultMaxTableBytes). Callers can check an object's size
// before downloading it; ReadTable checks again.
func CheckTableSize(name string, size, max int64) error {
	if max <= 0 {
		max = DefaultMaxTableBytes
	}
	if size > max {
		return fileError(name, "the file is %s, over the %s limit: subsample the table or raise the size limit", byteSize(size), byteSize(max))
	}
	return nil
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.3g %ciB", v, "KMGT"[i])
}

// ReadTable reads a labelled table from the bytes of a file. name is the
// file's name or object key: its extension (.csv, .npy, .npz or .parquet,
// in any case) picks the format, and it names the file in errors.
//
// CSV files have a header row of column names (surrounding spaces and a
// UTF-8 byte-order mark are dropped); every other row holds one record, and
// the feature and target cells must parse as finite numbers
// (strconv.ParseFloat; surrounding spaces are ignored). Other columns may
// hold anything. .npy files hold one
// 2-D array [N, C] whose columns are named col0…col{C-1}. .npz files hold a
// feature array [N, D] named by XArray and a target array [N] or [N, 1]
// named by Target. Parquet files are read by top-level numeric column
// (float, double, int32, int64 or boolean, without nulls).
//
// For classification every label must be a non-negative integer and there
// must be between 2 and 1000 distinct labels; Y then holds class indices.
// For regression any finite target that is not the same on every row is
// accepted.
//
// Every problem with the data is returned as a *DataError, which wraps
// ErrBadData.
//
// The Table may share memory with data (a little-endian float64 .npy is
// viewed in place, as numpy.load would hold it): data must not be
// modified while the Table is in use.
func ReadTable(name string, data []byte, opt TableOptions) (*Table, error) {
	maxBytes := opt.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxTableBytes
	}
	if err := CheckTableSize(name, int64(len(data)), maxBytes); err != nil {
		return nil, err
	}
	if opt.Task != taskClassification && opt.Task != taskRegression {
		return nil, fileError(name, "task %q is not known: set it to %q or %q", opt.Task, taskClassification, taskRegression)
	}
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".csv", ".npy", ".npz", ".parquet":
	default:
		return nil, fileError(name, "extension %q is not supported: save the table as %s", ext, tableExtensions)
	}
	if len(data) == 0 {
		return nil, fileError(name, "the file is empty: upload it again")
	}
	var (
		t   *Table
		err error
	)
	switch ext {
	case ".csv":
		t, err = readCSV(name, data, opt)
	case ".npy":
		t, err = readNPY(name, data, opt)
	case ".npz":
		t, err = readNPZ(name, data, opt, decodedBudget(int64(len(data)), maxBytes))
	case ".parquet":
		t, err = readParquet(name, data, opt, decodedBudget(int64(len(data)), maxBytes))
	}
	if err != nil {
		return nil, err
	}
	t.file = name
	if opt.Task == taskClassification {
		if err := t.classes(); err != nil {
			return nil, err
		}
	} else if constant(t.Y) {
		return nil, columnError(name, t.Target, "the target is %v on every row: a regression needs a target that varies (nothing to preserve otherwise)", t.Y[0])
	}
	return t, nil
}

func constant(v []float64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

// classes remaps the labels in Y to class indices in their sorted order and
// sets Classes and Labels. The labels have been checked by checkTarget.
func (t *Table) classes() error {
	labels := distinctLabels(t.Y)
	if len(labels) < 2 {
		return columnError(t.file, t.Target, "every row has the label %v: classification needs at least two classes; check the target column, or set the task to %q", labels[0], taskRegression)
	}
	if len(labels) > maxClasses {
		return columnError(t.file, t.Target, "the target has %d distinct labels, more than the %d classes classification supports: check the target column, or set the task to %q", len(labels), maxClasses, taskRegression)
	}
	if last := labels[len(labels)-1]; last < denseLabels {
		index := make([]float64, int(last)+1)
		for i, v := range labels {
			index[int(v)] = float64(i)
		}
		for i, v := range t.Y {
			t.Y[i] = index[int(v)]
		}
	} else {
		index := make(map[float64]float64, len(labels))
		for i, v := range labels {
			index[v] = float64(i)
		}
		for i, v := range t.Y {
			t.Y[i] = index[v]
		}
	}
	t.Classes, t.Labels = len(labels), labels
	return nil
}

// denseLabels bounds the labels that classes counts in a slice rather
// than a map (labels are non-negative integers, checked as read).
const denseLabels = 1 << 16

// distinctLabels returns the distinct values of y, sorted. y holds
// non-negative integers.
func distinctLabels(y []float64) []float64 {
	var labels []float64
	seen := make([]bool, 1024)
	for _, v := range y {
		if v >= denseLabels {
			return sparseLabels(y)
		}
		i := int(v)
		if i >= len(seen) {
			seen = append(seen, make([]bool, i+1-len(seen))...)
		}
		if !seen[i] {
			seen[i] = true
			labels = append(labels, v)
		}
	}
	slices.Sort(labels)
	return labels
}

// sparseLabels is distinctLabels through a map, for large labels.
func sparseLabels(y []float64) []float64 {
	seen := make(map[float64]bool)
	for _, v := range y {
		seen[v] = true
	}
	labels := make([]float64, 0, len(seen))
	for v := range seen {
		labels = append(labels, v)
	}
	slices.Sort(labels)
	return labels
}

// checkTarget returns what is wrong with the target value v for task, or
// "" when it is fine. v is finite.
func checkTarget(v float64, task string) string {
	if task != taskClassification {
		return ""
	}
	switch {
	case v != math.Trunc(v):
		return fmt.Sprintf("the class label %v is not an integer: classification labels must be the integers 0, 1, 2, …; set the task to %q for a continuous target", v, taskRegression)
	case v < 0:
		return fmt.Sprintf("the class label %v is negative: classification labels must be the integers 0, 1, 2, …; renumber the classes", v)
	}
	return ""
}

// checkFinite returns what is wrong with a value read from an array, or ""
// when it is finite.
func checkFinite(v float64) string {
	switch {
	case math.IsNaN(v):
		return "the value is NaN: drop or impute missing values before uploading"
	case math.IsInf(v, 0):
		return fmt.Sprintf("the value is %v: every feature and target must be finite; drop or clip the row", v)
	case math.Abs(v) > MaxTableValue:
		return tooLarge(fmt.Sprint(v))
	}
	return ""
}

// MaxTableValue bounds the magnitude of a table's values: standardising a
// column squares its deviations, and above 1e150 a square overflows
// float64 (1e160 gave an infinite standard deviation, all-zero features
// and a crash).
const MaxTableValue = 1e150

func tooLarge(v string) string {
	return fmt.Sprintf("%s is larger in magnitude than %g: standardising squares it, which overflows float64; rescale the column (e.g. to other units)", v, MaxTableValue)
}

// selectColumns resolves the feature and target selections of opt against
// the column names of a file. A selection that is a column name is that
// column; otherwise it must be a 0-based index. An empty target is the last
// column, and empty features are every other column in order. When
// withTarget is false (.npz) there is no target column to resolve.
func selectColumns(file string, cols []string, features []string, target string, withTarget bool) (feat []int, tgt int, err error) {
	tgt = -1
	if withTarget {
		if len(cols) == 0 {
			return nil, -1, fileError(file, "the file has no columns")
		}
		if target == "" {
			tgt = len(cols) - 1
		} else if tgt, err = resolveColumn(file, cols, target, "target"); err != nil {
			return nil, -1, err
		}
	}
	if len(features) == 0 {
		for i := range cols {
			if i != tgt {
				feat = append(feat, i)
			}
		}
		if len(feat) == 0 && tgt >= 0 {
			return nil, -1, fileError(file, "there are no feature columns: the file holds only the target column %q; add feature columns", cols[tgt])
		}
		if len(feat) == 0 {
			return nil, -1, fileError(file, "the feature array has no columns (shape [rows, 0]); write the features as a [rows, features] array")
		}
	} else {
		from := make(map[int]string, len(features))
		for _, f := range features {
			i, err := resolveColumn(file, cols, f, "feature")
			if err != nil {
				return nil, -1, err
			}
			if i == tgt {
				return nil, -1, columnError(file, cols[i], "the target column is also listed as a feature (as %q): remove it from the features", f)
			}
			if prev, ok := from[i]; ok {
				return nil, -1, columnError(file, cols[i], "the column is listed twice in the features (as %q and %q): list each feature once", prev, f)
			}
			from[i] = f
			feat = append(feat, i)
		}
	}
	seen := make(map[string]int, len(feat))
	for _, i := range feat {
		if j, ok := seen[cols[i]]; ok {
			return nil, -1, columnError(file, cols[i], "columns %d and %d have the same name: rename one so that every feature has its own name", j, i)
		}
		seen[cols[i]] = i
	}
	return feat, tgt, nil
}

// resolveColumn returns the index of the column that key names: a column
// name, else a 0-based index. role ("feature" or "target") is for messages.
func resolveColumn(file string, cols []string, key, role string) (int, error) {
	idx := -1
	for i, c := range cols {
		if c != key {
			continue
		}
		if idx >= 0 {
			return -1, columnError(file, key, "the %s name matches columns %d and %d: rename one, or select the column by its 0-based index", role, idx, i)
		}
		idx = i
	}
	if idx >= 0 {
		return idx, nil
	}
	if i, err := strconv.Atoi(key); err == nil {
		if i < 0 || i >= len(cols) {
			return -1, columnError(file, key, "the %s index %d is out of range: the file has %d columns, indexed 0 to %d", role, i, len(cols), len(cols)-1)
		}
		return i, nil
	}
	return -1, columnError(file, key, "there is no %s column of that name: the columns are %s", role, listNames(cols))
}

// listNames quotes names for a message, eliding all but the first 20.
func listNames(names []string) string {
	const show = 20
	q := make([]string, 0, min(len(names), show))
	for i, n := range names {
		if i == show {
			return strings.Join(q, ", ") + fmt.Sprintf(", … (%d in all)", len(names))
		}
		q = append(q, strconv.Quote(n))
	}
	return strings.Join(q, ", ")
}

// indexNames returns the column names col0 … col{n-1} of formats that have
// no names.
func indexNames(n int) []string {
	cols := make([]string, n)
	for i := range cols {
		cols[i] = "col" + strconv.Itoa(i)
	}
	return cols
}

// guard runs f and turns a panic into a DataError. The third-party decoders
// (npyio, parquet-go) index and allocate from header fields without checks
// in places, so some malformed files make them panic (FuzzReadTable finds
// such inputs); a user's corrupt file must not take a worker down.
func guard(file, format string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fileError(file, "not a readable %s file (the decoder failed: %v): the file is corrupt or truncated; export it again", format, r)
		}
	}()
	return f()
}

// CSV.

// csvChunkMin is the smallest body worth splitting across goroutines.
const csvChunkMin = 1 << 20

// csvChunk is a run of whole lines of a CSV body, parsed by one goroutine
// into its own stretch of the table's X and Y.
type csvChunk struct {
	data     []byte
	lineBase int // lines of the file before the chunk
	x, y     []float64
	err      error
}

// readCSV reads a CSV table with encoding/csv. A body of 1 MiB or more
// without quotes is split at line ends into one chunk per CPU, parsed in
// parallel into one preallocated X and Y; errors name the file's line.
func readCSV(name string, data []byte, opt TableOptions) (*Table, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark, as Excel writes
	hr := csv.NewReader(bytes.NewReader(data))
	hr.FieldsPerRecord = -1
	header, err := hr.Read()
	if err == io.EOF {
		return nil, fileError(name, "the file holds no header row: the first row must name the columns")
	}
	if err != nil {
		return nil, csvError(name, 0, err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	feat, tgt, err := selectColumns(name, header, opt.Features, opt.Target, true)
	if err != nil {
		return nil, err
	}
	ncols, d := len(header), len(feat)
	start := int(hr.InputOffset())

	// Split the body at line ends when no field is quoted, so that every
	// line is one record; a quoted field may hold a newline, so a file with
	// quotes is read by one goroutine.
	body := data[start:]
	n := 1
	if len(body) >= csvChunkMin && bytes.IndexByte(body, '"') < 0 {
		n = min(runtime.GOMAXPROCS(0), 64)
	}
	var chunks []*csvChunk
	// A record takes at least ncols-1 commas, a byte per feature and
	// target, and a newline: a bound on the rows that a chunk can hold.
	minRecord := ncols + d + 1
	rows, lines := 0, bytes.Count(data[:start], []byte{'\n'})
	for off := start; off < len(data); {
		end := len(data)
		if len(chunks) < n-1 {
			end = max(off, start+len(body)*(len(chunks)+1)/n)
			if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
				end += i + 1
			} else {
				end = len(data)
			}
		}
		c := &csvChunk{data: data[off:end], lineBase: lines}
		nl := bytes.Count(c.data, []byte{'\n'})
		capRows := min(nl+1, len(c.data)/minRecord+1)
		c.x, c.y = make([]float64, 0, capRows*d), make([]float64, 0, capRows)
		chunks = append(chunks, c)
		rows += capRows
		lines += nl
		off = end
	}
	if len(chunks) == 0 {
		return nil, fileError(name, "the file holds a header but no data rows: add rows below the header")
	}
	var x, y []float64
	if len(chunks) > 1 {
		// One allocation for the whole table: chunk k fills its own stretch,
		// and the stretches are closed up once all are parsed.
		x, y = newFloats(rows*d), newFloats(rows)
		r := 0
		for _, c := range chunks {
			k := cap(c.y)
			c.x, c.y = x[r*d:r*d:(r+k)*d], y[r:r:r+k]
			r += k
		}
	}

	var wg sync.WaitGroup
	for _, c := range chunks {
		wg.Go(func() { c.parse(name, header, feat, tgt, opt.Task) })
	}
	wg.Wait()
	for _, c := range chunks {
		if c.err != nil {
			return nil, c.err
		}
	}

	t := &Table{D: d, Target: header[tgt], Features: make([]string, d)}
	for j, i := range feat {
		t.Features[j] = header[i]
	}
	if len(chunks) == 1 {
		t.X, t.Y = chunks[0].x, chunks[0].y
	} else {
		r := 0
		for _, c := range chunks {
			copy(x[r*d:], c.x) // memmove: the stretch lies at or after r
			copy(y[r:], c.y)
			r += len(c.y)
		}
		t.X, t.Y = x[:r*d:r*d], y[:r:r]
	}
	t.N = len(t.Y)
	if t.N == 0 {
		return nil, fileError(name, "the file holds a header but no data rows: add rows below the header")
	}
	return t, nil
}

// parse reads the chunk's records into c.x and c.y, stopping at the first
// bad cell.
func (c *csvChunk) parse(file string, header []string, feat []int, tgt int, task string) {
	r := csv.NewReader(bytes.NewReader(c.data))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	ncols := len(header)
	x, y := c.x, c.y
	defer func() { c.x, c.y = x, y }()
	// cell parses field i of rec; the slow path (parseCell) trims spaces
	// and says what is wrong.
	cell := func(rec []string, i int) (float64, bool) {
		v, err := strconv.ParseFloat(rec[i], 64)
		if err == nil && v-v == 0 && v <= MaxTableValue && v >= -MaxTableValue { // finite, in bounds
			return v, true
		}
		v, msg := parseCell(rec[i])
		if msg != "" {
			c.err = c.cellError(file, r, header, i, msg)
			return 0, false
		}
		return v, true
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			c.err = csvError(file, c.lineBase, err)
			return
		}
		if len(rec) != ncols {
			line, _ := r.FieldPos(0)
			c.err = &DataError{File: file, Row: c.lineBase + line,
				Msg: fmt.Sprintf("the row has %d fields but the header has %d: every row needs one value per column; quote fields that contain commas", len(rec), ncols)}
			return
		}
		for _, i := range feat {
			v, ok := cell(rec, i)
			if !ok {
				return
			}
			x = append(x, v)
		}
		v, ok := cell(rec, tgt)
		if !ok {
			return
		}
		if msg := checkTarget(v, task); msg != "" {
			c.err = c.cellError(file, r, header, tgt, msg)
			return
		}
		y = append(y, v)
	}
}

func (c *csvChunk) cellError(file string, r *csv.Reader, header []string, col int, msg string) *DataError {
	line, _ := r.FieldPos(col)
	return &DataError{File: file, Row: c.lineBase + line, Column: header[col], Msg: msg}
}

// parseCell parses a CSV cell as a finite number. It returns what is wrong
// with the cell, or "" when it is fine.
func parseCell(s string) (float64, string) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t := strings.TrimSpace(s)
		if t != s {
			v, err = strconv.ParseFloat(t, 64)
		}
		if err != nil {
			var ne *strconv.NumError
			switch {
			case t == "":
				return 0, "the cell is empty: fill in or drop missing values before uploading"
			case errors.As(err, &ne) && ne.Err == strconv.ErrRange:
				return 0, fmt.Sprintf("%q is outside the range of float64: rescale the column", t)
			case isMissingMarker(t):
				return 0, fmt.Sprintf("%q marks a missing value: fill in or drop missing values before uploading", t)
			default:
				return 0, fmt.Sprintf("%q is not a number: every feature and target cell must be numeric", t)
			}
		}
	}
	switch {
	case math.IsNaN(v):
		return 0, fmt.Sprintf("%q is NaN: drop or impute missing values before uploading", strings.TrimSpace(s))
	case math.IsInf(v, 0):
		return 0, fmt.Sprintf("%q is infinite: every feature and target must be finite; drop or clip the row", strings.TrimSpace(s))
	case math.Abs(v) > MaxTableValue:
		return 0, tooLarge(strconv.Quote(strings.TrimSpace(s)))
	}
	return v, ""
}

// isMissingMarker reports whether s is one of the usual spellings of a
// missing value.
func isMissingMarker(s string) bool {
	switch strings.ToLower(s) {
	case "na", "n/a", "nan", "null", "none", "-", "?", "#n/a":
		return true
	}
	return false
}

// csvError turns an error of encoding/csv into a DataError; lineBase is the
// number of lines before the reader's input.
func csvError(file string, lineBase int, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read csv %s: %w", file, err)
	}
	return &DataError{File: file, Row: lineBase + pe.Line,
		Msg: fmt.Sprintf("malformed CSV at byte %d of the line (%v): quote fields that contain commas, quotes or line breaks, and double every quote inside a quoted field", pe.Column, pe.Err)}
}

// NumPy.
//
// npyio parses the .npy header (a Python dict literal). The array data that
// follows is read straight from the file's bytes: npyio's own decoder
// copies the data twice (io.ReadAll, then an append per element) and took
// 1.4 s for a 10⁶×16 float64 array against about 0.1 s here
// (BenchmarkReadTableNPY).

// npyArray is a NumPy array of one or two dimensions of a numeric dtype,
// decoded element by element from its raw bytes.
type npyArray struct {
	shape      []int
	rows, cols int                 // a vector is one column
	fortran    bool                // column-major storage
	get        func(i int) float64 // element i in storage order
	// p is the raw data; f8le and f4le mark little-endian float64 and
	// float32, which row decodes without calling get.
	p          []byte
	f8le, f4le bool
}

// row decodes row r into dst, which has a.cols elements.
func (a *npyArray) row(r int, dst []float64) {
	start, stride := r*a.cols, 1
	if a.fortran {
		start, stride = r, a.rows
	}
	switch p := a.p; {
	case a.f8le && stride == 1:
		for j := range dst {
			dst[j] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*(start+j):]))
		}
	case a.f4le && stride == 1:
		for j := range dst {
			dst[j] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p[4*(start+j):])))
		}
	default:
		for j := range dst {
			dst[j] = a.get(start + j*stride)
		}
	}
}

// readNPY reads a table from a .npy file holding one 2-D array.
func readNPY(name string, data []byte, opt TableOptions) (*Table, error) {
	prefix, hlen, err := npyPrefix(name, "", data)
	if err != nil {
		return nil, err
	}
	if hlen > len(data)-prefix {
		return nil, fileError(name, "the file is truncated inside the .npy header: save it again")
	}
	a, err := decodeNPY(name, "", data[:prefix+hlen], data[prefix+hlen:])
	if err != nil {
		return nil, err
	}
	if len(a.shape) != 2 {
		return nil, fileError(name, "the array has shape %s: a .npy table must be a 2-D array [rows, columns] with the target as one column (or use .npz with arrays x and y)", shapeString(a.shape))
	}
	n, c := a.rows, a.cols
	if n == 0 {
		return nil, fileError(name, "the array has no rows: save the table with its rows")
	}
	if c > MaxTableColumns {
		return nil, fileError(name, "the array has %d columns, over the bound of %d (MaxTableColumns): a table's features are its columns", c, MaxTableColumns)
	}
	cols := indexNames(c)
	feat, tgt, err := selectColumns(name, cols, opt.Features, opt.Target, true)
	if err != nil {
		return nil, err
	}
	// Viewed in place only when the features are most of each row: the
	// Table then keeps the whole array alive (a worker caches it).
	if all, ok := a.view(); ok && contiguous(feat) && 2*len(feat) >= c {
		return viewArrays(name, opt.Task, n, cols, feat, tgt, all)
	}
	return fillArrays(name, opt.Task, n, cols, feat, cols[tgt], "", a.row, func(r int, row []float64) float64 { return row[tgt] })
}

// nativeLittle is whether this machine stores numbers little-endian, as
// a '<f8' array does.
var nativeLittle = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// view returns a's elements as float64s when its data is little-endian
// float64 in C order on a little-endian machine: in place, without a
// copy, where the data is 8-byte aligned (numpy pads a .npy header to a
// multiple of 64 bytes from the file's start, and a large buffer starts
// on a page), and otherwise moved once into an aligned array (npyio's
// writer pads less).
func (a *npyArray) view() ([]float64, bool) {
	if !a.f8le || a.fortran || !nativeLittle || len(a.p) == 0 {
		return nil, false
	}
	if uintptr(unsafe.Pointer(&a.p[0]))%8 == 0 {
		return unsafe.Slice((*float64)(unsafe.Pointer(&a.p[0])), len(a.p)/8), true
	}
	all := newFloats(len(a.p) / 8)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&all[0])), len(a.p)), a.p)
	return all, true
}

// allFinite is whether every value of v is finite and at most
// MaxTableValue in magnitude. It sums v·k·0 with k = MaxFloat64 /
// MaxTableValue: v·k overflows to ±Inf just above the bound, and ·0 is 0
// for a value within it and NaN otherwise (NaN and ±Inf included). Four
// independent sums let the additions overlap. (At the bound itself
// rounding may let a value through that rowError's exact test refuses.)
func allFinite(v []float64) bool {
	const k = math.MaxFloat64 / MaxTableValue
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		q := v[i : i+4 : i+4]
		s0 += q[0] * k * 0
		s1 += q[1] * k * 0
		s2 += q[2] * k * 0
		s3 += q[3] * k * 0
	}
	for _, x := range v[i:] {
		s0 += x * k * 0
	}
	return s0+s1+s2+s3 == 0
}

// contiguous is whether the column indices feat are a run c, c+1, ….
func contiguous(feat []int) bool {
	for j, i := range feat {
		if i != feat[0]+j {
			return false
		}
	}
	return len(feat) > 0
}

// viewArrays builds the Table of a C-order float64 array all of n rows
// and len(cols) columns whose features feat are a contiguous run: X
// views all in place (Stride len(cols)), and only the targets are
// copied. The rows are checked in parallel, each worker reporting its
// first bad row, so the error is the first in the file as fillArrays
// gives it.
func viewArrays(name, task string, n int, cols []string, feat []int, tgt int, all []float64) (*Table, error) {
	c, d := len(cols), len(feat)
	t := &Table{N: n, D: d, X: all[feat[0]:], Stride: c, Y: newFloats(n), Target: cols[tgt], Features: make([]string, d)}
	for j, i := range feat {
		t.Features[j] = cols[i]
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, n/65536))
	errs := make([]*DataError, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r0, r1 := w*n/workers, (w+1)*n/workers
			// Blocks of rows that stay in cache between the check and the
			// targets' copy.
			const block = 2048
			for ; r0 < r1; r0 += block {
				end := min(r0+block, r1)
				if !allFinite(all[r0*c : end*c]) {
					break
				}
				for r := r0; r < end; r++ {
					v := all[r*c+tgt]
					if msg := checkTarget(v, task); msg != "" {
						errs[w] = &DataError{File: name, Row: r, rowIndex: true, Column: cols[tgt], Msg: msg}
						return
					}
					t.Y[r] = v
				}
			}
			// Some value from row r0 on is not finite: find the first bad
			// cell, in the order fillArrays checks them.
			for r := r0; r < r1; r++ {
				row := all[r*c : (r+1)*c : (r+1)*c]
				if e := rowError(name, task, r, cols, feat, row, cols[tgt], row[tgt], ""); e != nil {
					errs[w] = e
					return
				}
				t.Y[r] = row[tgt]
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return t, nil
}

// fillArrays builds the Table of an array format: n rows, each read into
// a buffer of len(cols) values by row, the features feat (indices into
// cols) and the target given by target (from the row just read). A
// non-finite value or a bad target is a DataError at its 0-based row
// index; note names the array in the message ("" for none).
func fillArrays(name, task string, n int, cols []string, feat []int, targetName, note string, row func(r int, dst []float64), target func(r int, row []float64) float64) (*Table, error) {
	d := len(feat)
	t := &Table{N: n, D: d, X: newFloats(n * d), Y: newFloats(n), Target: targetName, Features: make([]string, d)}
	for j, i := range feat {
		t.Features[j] = cols[i]
	}
	buf := make([]float64, len(cols))
	for r := range n {
		row(r, buf)
		v := target(r, buf)
		if e := rowError(name, task, r, cols, feat, buf, targetName, v, note); e != nil {
			return nil, e
		}
		x := t.X[r*d : (r+1)*d]
		for j, i := range feat {
			x[j] = buf[i]
		}
		t.Y[r] = v
	}
	return t, nil
}

// rowError checks row r of an array format, its values in row (indexed
// by cols) and its target v: the first non-finite feature, then a
// non-finite or bad target, as a DataError at the 0-based row index; note
// follows a feature's message. nil when the row is good.
func rowError(name, task string, r int, cols []string, feat []int, row []float64, targetName string, v float64, note string) *DataError {
	for _, i := range feat {
		if u := row[i]; u-u != 0 || u > MaxTableValue || u < -MaxTableValue { // NaN, ±Inf or too large
			return &DataError{File: name, Row: r, rowIndex: true, Column: cols[i], Msg: checkFinite(u) + note}
		}
	}
	msg := checkFinite(v)
	if msg == "" {
		msg = checkTarget(v, task)
	}
	if msg != "" {
		return &DataError{File: name, Row: r, rowIndex: true, Column: targetName, Msg: msg}
	}
	return nil
}

// readNPZ reads a table from the feature and target arrays of an .npz
// archive; the arrays may expand to at most budget bytes.
func readNPZ(name string, data []byte, opt TableOptions, budget int64) (*Table, error) {
	zr, err := npz.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fileError(name, "not a readable .npz archive (%v): the file is truncated or is not a zip written by numpy.savez; save it again", unwrapAll(err))
	}
	xName, yName := opt.XArray, opt.Target
	if xName == "" {
		xName = "x"
	}
	if yName == "" {
		yName = "y"
	}
	if xName == yName {
		return nil, fileError(name, "the feature and target arrays are both %q: name two different arrays", xName)
	}
	var names []string
	keys := make(map[string]string)
	for _, k := range zr.Keys() {
		n := strings.TrimSuffix(k, ".npy")
		names = append(names, n)
		keys[n] = k
	}
	read := func(arr string) (*npyArray, error) {
		key, ok := keys[arr]
		if !ok {
			return nil, columnError(name, arr, "there is no array of that name: the archive holds %s", listNames(names))
		}
		var a *npyArray
		err := guard(name, ".npz", func() error {
			rc, err := zr.Open(key)
			if err != nil {
				return err
			}
			defer rc.Close()
			a, err = readNPYEntry(name, arr, rc, &budget)
			return err
		})
		if err != nil && !errors.Is(err, ErrBadData) {
			return nil, columnError(name, arr, "the array cannot be read from the archive (%v): the file is corrupt or truncated; save it again", unwrapAll(err))
		}
		return a, err
	}
	xa, err := read(xName)
	if err != nil {
		return nil, err
	}
	ya, err := read(yName)
	if err != nil {
		return nil, err
	}
	n, c := xa.rows, xa.cols
	if ya.cols != 1 {
		return nil, columnError(name, yName, "the target array has shape %s: it must be a vector [rows] or a column [rows, 1]", shapeString(ya.shape))
	}
	if ya.rows != n {
		return nil, columnError(name, yName, "the target array has %d rows but the feature array %q has %d: they must have one row per sample", ya.rows, xName, n)
	}
	if n == 0 {
		return nil, fileError(name, "the arrays have no rows: save the table with its rows")
	}
	if c > MaxTableColumns {
		return nil, columnError(name, xName, "the feature array has %d columns, over the bound of %d (MaxTableColumns)", c, MaxTableColumns)
	}
	cols := indexNames(c)
	feat, _, err := selectColumns(name, cols, opt.Features, "", false)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fileError(name, "the arrays have no rows: save the table with its rows")
	}
	return fillArrays(name, opt.Task, n, cols, feat, yName, fmt.Sprintf(" (array %q)", xName), xa.row, func(r int, _ []float64) float64 { return ya.get(r) })
}

// readNPYEntry reads a .npy file from r, an entry of an .npz archive. The
// header is read first, so that the data is read into one buffer of the
// size the header gives, which is charged to *budget.
func readNPYEntry(file, arr string, r io.Reader, budget *int64) (*npyArray, error) {
	head := make([]byte, 12)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	head = head[:n]
	prefix, hlen, err := npyPrefix(file, arr, head)
	if err != nil {
		return nil, err
	}
	if prefix+hlen < 12 || hlen > 1<<20 {
		return nil, columnError(file, arr, "the array's .npy header is %d bytes long, which is impossible: the archive is corrupt; save it again", hlen)
	}
	if len(head) < 12 {
		return nil, columnError(file, arr, "the array is truncated inside its .npy header: save it again")
	}
	head = append(head, make([]byte, prefix+hlen-len(head))...)
	if _, err := io.ReadFull(r, head[12:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, columnError(file, arr, "the array is truncated inside its .npy header: save it again")
		}
		return nil, err
	}
	h, err := npyHeader(file, arr, head)
	if err != nil {
		return nil, err
	}
	if int64(h.size) > *budget {
		return nil, columnError(file, arr, "the arrays expand to over %s (a compressed file may expand to 64 times its size, at least 256 MiB, and at most the file size limit): subsample the table, or save it uncompressed (.npy or .csv)", byteSize(*budget))
	}
	*budget -= int64(h.size)
	payload := make([]byte, h.size)
	n, err = io.ReadFull(r, payload)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if n == h.size {
		// Read one byte more: there should be none.
		var one [1]byte
		if k, err := r.Read(one[:]); k > 0 {
			return nil, columnError(file, arr, "the array has bytes after its data of shape %s: it is corrupt; save it again", shapeString(h.shape))
		} else if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return h.array(file, arr, payload[:n])
}

// npyPrefix checks the magic string and version at the start of a .npy
// file and returns the length of the fixed prefix and of the header that
// follows it. b holds at least the prefix, or the whole file when shorter.
func npyPrefix(file, arr string, b []byte) (prefix, hlen int, err error) {
	what := "the file"
	if arr != "" {
		what = "the array"
	}
	if len(b) < 10 || !bytes.Equal(b[:6], npy.Magic[:]) {
		return 0, 0, columnError(file, arr, "%s is not a NumPy array (no .npy magic number): save it with numpy.save", what)
	}
	switch b[6] {
	case 1:
		return 10, int(binary.LittleEndian.Uint16(b[8:])), nil
	case 2:
		if len(b) < 12 {
			return 0, 0, columnError(file, arr, "%s is truncated inside the .npy header: save it again", what)
		}
		return 12, int(binary.LittleEndian.Uint32(b[8:])), nil
	}
	return 0, 0, columnError(file, arr, ".npy format version %d.%d is not supported (only 1.0 and 2.0): save a plain numeric array with numpy.save", b[6], b[7])
}

// npyInfo is what a .npy header says about the data that follows it.
type npyInfo struct {
	dtype   string // as in the header, e.g. '<f8'
	kind    byte   // 'b', 'i', 'u' or 'f'
	esize   int
	big     bool // big-endian
	fortran bool
	shape   []int
	size    int // bytes of data
}

// npyHeader parses a .npy prefix and header (head, whose length the prefix
// gives) with npyio and checks that it describes a 1-D or 2-D array of a
// supported numeric dtype.
func npyHeader(file, arr string, head []byte) (*npyInfo, error) {
	what := "the file"
	if arr != "" {
		what = "the array"
	}
	bad := func(format string, args ...any) (*npyInfo, error) {
		return nil, columnError(file, arr, format, args...)
	}
	if len(head) < 11 || head[len(head)-1] != '\n' {
		return bad("%s has a malformed .npy header (it does not end in a newline): save it again with numpy.save", what)
	}
	var rd *npy.Reader
	err := guard(file, ".npy", func() error {
		var err error
		rd, err = npy.NewReader(bytes.NewReader(head))
		return err
	})
	if err != nil {
		if errors.Is(err, ErrBadData) {
			return nil, err
		}
		return bad("%s has an unreadable .npy header (%v): save it again with numpy.save", what, err)
	}
	d := rd.Header.Descr
	h := &npyInfo{dtype: d.Type, fortran: d.Fortran, shape: slices.Clone(d.Shape)}
	dt := strings.Trim(d.Type, "'\"")
	if len(dt) == 3 && strings.IndexByte("<>|=", dt[0]) >= 0 {
		h.big = dt[0] == '>'
		dt = dt[1:]
	}
	if !npyDtypes[dt] {
		return bad("the element type %s is not supported: convert the array to float64, float32 or an integer type (numpy: a.astype(np.float64))", d.Type)
	}
	h.kind, h.esize = dt[0], int(dt[1]-'0')
	if len(h.shape) < 1 || len(h.shape) > 2 {
		return bad("the array has shape %s: a table must be 1-D or 2-D", shapeString(h.shape))
	}
	elems := 1
	for _, s := range h.shape {
		if s < 0 || (s > 0 && elems > math.MaxInt/h.esize/s) {
			return bad("the .npy header gives an impossible shape %s: the file is corrupt; save it again", shapeString(h.shape))
		}
		elems *= s
	}
	h.size = elems * h.esize
	return h, nil
}

// npyDtypes are the element types accepted: kind letter and size.
var npyDtypes = map[string]bool{
	"b1": true, "i1": true, "i2": true, "i4": true, "i8": true,
	"u1": true, "u2": true, "u4": true, "u8": true,
	"f2": true, "f4": true, "f8": true,
}

// decodeNPY checks the data of a .npy file against its header and returns
// the array. head is the prefix and header, p the data.
func decodeNPY(file, arr string, head, p []byte) (*npyArray, error) {
	h, err := npyHeader(file, arr, head)
	if err != nil {
		return nil, err
	}
	return h.array(file, arr, p)
}

// array returns the array whose data is p, which must be h.size bytes.
func (h *npyInfo) array(file, arr string, p []byte) (*npyArray, error) {
	what := "the file"
	if arr != "" {
		what = "the array"
	}
	if len(p) < h.size {
		return nil, columnError(file, arr, "%s is truncated: the header promises shape %s of %s (%d bytes) but %d bytes follow; upload it again", what, shapeString(h.shape), h.dtype, h.size, len(p))
	}
	if len(p) > h.size {
		return nil, columnError(file, arr, "%s has %d bytes after the array data of shape %s: it is corrupt or holds more than one array; save one array per file", what, len(p)-h.size, shapeString(h.shape))
	}
	a := &npyArray{shape: h.shape, rows: h.shape[0], cols: 1, fortran: h.fortran && len(h.shape) == 2, p: p,
		f8le: h.kind == 'f' && h.esize == 8 && !h.big, f4le: h.kind == 'f' && h.esize == 4 && !h.big}
	if len(h.shape) == 2 {
		a.cols = h.shape[1]
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if h.big {
		bo = binary.BigEndian
	}
	switch int(h.kind)<<4 | h.esize {
	case 'f'<<4 | 8:
		if h.big {
			a.get = func(i int) float64 { return math.Float64frombits(binary.BigEndian.Uint64(p[8*i:])) }
		} else {
			a.get = func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:])) }
		}
	case 'f'<<4 | 4:
		a.get = func(i int) float64 { return float64(math.Float32frombits(bo.Uint32(p[4*i:]))) }
	case 'f'<<4 | 2:
		a.get = func(i int) float64 { return float64(float16.Float16Frombits(bo.Uint16(p[2*i:])).Float32()) }
	case 'i'<<4 | 8:
		a.get = func(i int) float64 { return float64(int64(bo.Uint64(p[8*i:]))) }
	case 'i'<<4 | 4:
		a.get = func(i int) float64 { return float64(int32(bo.Uint32(p[4*i:]))) }
	case 'i'<<4 | 2:
		a.get = func(i int) float64 { return float64(int16(bo.Uint16(p[2*i:]))) }
	case 'i'<<4 | 1:
		a.get = func(i int) float64 { return float64(int8(p[i])) }
	case 'u'<<4 | 8:
		a.get = func(i int) float64 { return float64(bo.Uint64(p[8*i:])) }
	case 'u'<<4 | 4:
		a.get = func(i int) float64 { return float64(bo.Uint32(p[4*i:])) }
	case 'u'<<4 | 2:
		a.get = func(i int) float64 { return float64(bo.Uint16(p[2*i:])) }
	case 'u'<<4 | 1:
		a.get = func(i int) float64 { return float64(p[i]) }
	case 'b'<<4 | 1:
		a.get = func(i int) float64 {
			if p[i] != 0 {
				return 1
			}
			return 0
		}
	default:
		panic("datasets: npyDtypes and npyInfo.array disagree on " + h.dtype)
	}
	return a, nil
}

// unwrapAll returns the innermost error of a chain, for messages without
// the decoders' layers of prefixes.
func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// shapeString formats a shape as NumPy does: (3,), (3, 4).
func shapeString(shape []int) string {
	if len(shape) == 1 {
		return fmt.Sprintf("(%d,)", shape[0])
	}
	s := make([]string, len(shape))
	for i, v := range shape {
		s[i] = strconv.Itoa(v)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// Parquet.
//
// parquet-go (v0.32.1) trusts the sizes a file declares: it allocates a
// footer list, a page buffer or a Snappy block of the declared size before
// reading it, and its LZ4 decoder grows without bound on a corrupt block.
// A corrupt file must give a DataError, not end the process, so the footer
// and the page headers of the selected columns are checked first
// (checkParquetFooter, checkParquetChunks, checkParquetPages), and LZ4_RAW
// columns are refused.

// readParquet reads a table from the top-level numeric columns of a Parquet
// file; the selected columns may expand to at most budget bytes.
func readParquet(name string, data []byte, opt TableOptions, budget int64) (*Table, error) {
	var t *Table
	err := guard(name, "Parquet", func() error {
		var err error
		t, err = decodeParquet(name, data, opt, budget)
		return err
	})
	return t, err
}

func decodeParquet(name string, data []byte, opt TableOptions, budget int64) (*Table, error) {
	if err := checkParquetFooter(name, data); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fileError(name, "not a readable Parquet file (%v): the file is truncated or not Parquet; export it again", err)
	}
	top := f.Root().Columns()
	cols := make([]string, len(top))
	for i, c := range top {
		cols[i] = c.Name()
	}
	feat, tgt, err := selectColumns(name, cols, opt.Features, opt.Target, true)
	if err != nil {
		return nil, err
	}
	sel := make([]*parquet.Column, 0, len(feat)+1)
	for _, i := range feat {
		sel = append(sel, top[i])
	}
	sel = append(sel, top[tgt])
	convs := make([]func(parquet.Value) float64, len(sel))
	for k, c := range sel {
		if convs[k], err = parquetConverter(name, c); err != nil {
			return nil, err
		}
	}
	if err := checkParquetChunks(name, data, f, sel, budget); err != nil {
		return nil, err
	}
	n, d := int(f.NumRows()), len(feat)
	if n == 0 {
		return nil, fileError(name, "the file holds no rows: export the table with its rows")
	}
	t := &Table{N: n, D: d, X: newFloats(n * d), Y: newFloats(n), Target: cols[tgt], Features: make([]string, d)}
	for j, i := range feat {
		t.Features[j] = cols[i]
		if err := readParquetColumn(name, top[i], convs[j], n, opt.Task, false, func(r int, v float64) { t.X[r*d+j] = v }); err != nil {
			return nil, err
		}
	}
	if err := readParquetColumn(name, top[tgt], convs[d], n, opt.Task, true, func(r int, v float64) { t.Y[r] = v }); err != nil {
		return nil, err
	}
	return t, nil
}

// parquetConverter checks that c is a flat numeric column and returns the
// conversion of its values to float64.
func parquetConverter(file string, c *parquet.Column) (func(parquet.Value) float64, error) {
	col := c.Name()
	if !c.Leaf() {
		return nil, columnError(file, col, "the column is a group of nested fields: flatten it into numeric columns")
	}
	if c.MaxRepetitionLevel() > 0 {
		return nil, columnError(file, col, "the column holds lists: every feature and target must be one number per row")
	}
	typ := c.Type()
	kind := typ.Kind()
	switch kind {
	case parquet.Double, parquet.Float, parquet.Int32, parquet.Int64, parquet.Boolean:
	default:
		return nil, columnError(file, col, "the column is of type %v: every feature and target must be numeric (float, double, int32, int64 or boolean); cast or drop it", typ)
	}
	unsigned := false
	if lt := typ.LogicalType(); lt != nil && lt.Value != nil {
		it, ok := lt.Value.(*format.IntType)
		if !ok {
			return nil, columnError(file, col, "the column has logical type %v: features and targets must be plain numbers; cast the column to float64", lt)
		}
		unsigned = !it.IsSigned
	}
	switch kind {
	case parquet.Double:
		return parquet.Value.Double, nil
	case parquet.Float:
		return func(v parquet.Value) float64 { return float64(v.Float()) }, nil
	case parquet.Int32:
		if unsigned {
			return func(v parquet.Value) float64 { return float64(v.Uint32()) }, nil
		}
		return func(v parquet.Value) float64 { return float64(v.Int32()) }, nil
	case parquet.Int64:
		if unsigned {
			return func(v parquet.Value) float64 { return float64(v.Uint64()) }, nil
		}
		return func(v parquet.Value) float64 { return float64(v.Int64()) }, nil
	}
	return func(v parquet.Value) float64 {
		if v.Boolean() {
			return 1
		}
		return 0
	}, nil
}

// checkParquetChunks checks the footer's metadata of the selected columns
// before any page is decoded: a known compression codec, one value per row
// in every row group, and at most budget bytes of uncompressed pages in
// all; then it checks each chunk's page headers (checkParquetPages).
// parquet-go sizes its buffers from what the file claims, so a corrupt file
// must be stopped here rather than by running out of memory.
//
// LZ4_RAW is refused: parquet-go v0.32.1's LZ4 decoder doubles its output
// buffer without bound on a corrupt block (compress/lz4.Codec.Decode),
// which ends the process; FuzzReadTable found it.
func checkParquetChunks(file string, data []byte, f *parquet.File, sel []*parquet.Column, budget int64) error {
	md := f.Metadata()
	var rows, need int64
	for g, rg := range md.RowGroups {
		if rg.NumRows < 0 || rows > math.MaxInt64-rg.NumRows {
			return fileError(file, "row group %d claims %d rows: the file is corrupt; export it again", g, rg.NumRows)
		}
		rows += rg.NumRows
		for _, c := range sel {
			li := c.Index()
			if li < 0 || li >= len(rg.Columns) {
				return columnError(file, c.Name(), "row group %d has no chunk for the column: the file is corrupt; export it again", g)
			}
			cm := rg.Columns[li].MetaData
			switch cm.Codec {
			case format.Uncompressed, format.Snappy, format.Gzip, format.Zstd, format.Brotli:
			case format.Lz4Raw:
				return columnError(file, c.Name(), "the column is LZ4-compressed, which this reader cannot decode safely: export the file again with snappy or zstd compression (pandas: df.to_parquet(path, compression=\"snappy\"))")
			default:
				return columnError(file, c.Name(), "the column's compression %v is not supported: export the file again with snappy or zstd compression", cm.Codec)
			}
			if cm.NumValues != rg.NumRows {
				return columnError(file, c.Name(), "row group %d holds %d values of the column for %d rows: the file is corrupt; export it again", g, cm.NumValues, rg.NumRows)
			}
			if cm.TotalUncompressedSize < 0 || cm.TotalUncompressedSize > budget-need {
				return fileError(file, "the selected columns expand to over %s (a compressed file may expand to 64 times its size, at least 256 MiB, and at most the file size limit): subsample the table, or save it uncompressed (.npy or .csv)", byteSize(budget))
			}
			need += cm.TotalUncompressedSize
			if err := checkParquetPages(file, c.Name(), data, &cm); err != nil {
				return err
			}
		}
	}
	if rows != f.NumRows() {
		return fileError(file, "the row groups hold %d rows but the footer says %d: the file is corrupt; export it again", rows, f.NumRows())
	}
	if rows > budget/8/int64(len(sel)) {
		return fileError(file, "the file claims %d rows, over %s of decoded data: subsample the table or raise the size limit", rows, byteSize(budget))
	}
	return nil
}

// checkParquetFooter checks the magic numbers and the footer of a Parquet
// file before parquet-go decodes it: the footer must fit in the file and be
// a thrift struct whose lists and strings fit in its bytes (thriftBounded).
// parquet-go v0.32.1 allocates a list of the length the footer declares
// before reading its elements; FuzzReadTable found a 500-byte file that
// asked for 24 GiB and ended the process.
func checkParquetFooter(file string, data []byte) error {
	bad := func(format string, args ...any) error {
		return fileError(file, "not a readable Parquet file (%s): the file is truncated or not Parquet; export it again", fmt.Sprintf(format, args...))
	}
	if len(data) < 12 || string(data[:4]) != "PAR1" {
		return bad("it does not start with PAR1")
	}
	switch string(data[len(data)-4:]) {
	case "PAR1":
	case "PARE":
		return fileError(file, "the Parquet file is encrypted: export it without encryption")
	default:
		return bad("it does not end with PAR1")
	}
	n := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	if n > int64(len(data))-12 {
		return bad("the footer claims %d bytes in a file of %d", n, len(data))
	}
	if _, err := thriftBounded(data[int64(len(data))-8-n : len(data)-8]); err != nil {
		return bad("corrupt footer: %v", err)
	}
	return nil
}

// thriftBounded walks the thrift struct (compact protocol) at the start of
// b with parquet-go's protocol reader, decoding nothing into Go values, and
// returns its length in bytes. It fails when a list, set or map declares
// more elements than bytes remain (each element takes at least one byte),
// or when structs nest deeper than 32: the inputs on which parquet-go's
// decoder would allocate out of proportion to the bytes, or recurse without
// bound.
func thriftBounded(b []byte) (int, error) {
	var proto thrift.CompactProtocol
	r := proto.NewReaderFromBytes(b)
	err := skipThrift(r, len(b), thrift.STRUCT, true, 0)
	return r.BytesRead(), err
}

// skipThrift reads past one value of type t; inField says whether the value
// is a struct field (where a bool is held in the field header) rather than
// a list element.
func skipThrift(r thrift.BytesReader, size int, t thrift.Type, inField bool, depth int) error {
	var err error
	switch t {
	case thrift.TRUE, thrift.FALSE:
		if !inField {
			_, err = r.ReadBool()
		}
	case thrift.I8:
		_, err = r.ReadInt8()
	case thrift.I16, thrift.I32, thrift.I64:
		_, err = r.ReadInt64()
	case thrift.DOUBLE:
		_, err = r.ReadFloat64()
	case thrift.BINARY:
		_, err = r.ReadBytes()
	case thrift.LIST, thrift.SET:
		var l thrift.List
		if l, err = r.ReadList(); err != nil {
			return err
		}
		if l.Size < 0 || int(l.Size) > size-r.BytesRead() {
			return fmt.Errorf("a list declares %d elements in %d bytes", l.Size, size-r.BytesRead())
		}
		for range l.Size {
			if err := skipThrift(r, size, l.Type, false, depth); err != nil {
				return err
			}
		}
	case thrift.MAP:
		var m thrift.Map
		if m, err = r.ReadMap(); err != nil {
			return err
		}
		if m.Size < 0 || 2*int(m.Size) > size-r.BytesRead() {
			return fmt.Errorf("a map declares %d entries in %d bytes", m.Size, size-r.BytesRead())
		}
		for range m.Size {
			if err := skipThrift(r, size, m.Key, false, depth); err != nil {
				return err
			}
			if err := skipThrift(r, size, m.Value, false, depth); err != nil {
				return err
			}
		}
	case thrift.STRUCT:
		if depth >= 32 {
			return errors.New("structs nest deeper than 32")
		}
		for {
			f, err := r.ReadField()
			if err != nil {
				return err
			}
			if f.Type == thrift.STOP {
				return nil
			}
			if err := skipThrift(r, size, f.Type, true, depth+1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unexpected thrift type %d", t)
	}
	return err
}

// checkParquetPages walks the page headers of a column chunk, decoding
// them with parquet-go's thrift decoder, and checks what each page claims
// against the chunk's metadata: its compressed bytes lie inside the chunk,
// its uncompressed size and value count do not exceed the chunk's, and a
// Snappy block does not decode to more than the page's uncompressed size.
// parquet-go v0.32.1 allocates the claimed sizes before it reads (up to
// 2 GiB a page, 4 GiB for a Snappy block), and keeps the buffers in a pool;
// FuzzReadTable found files that pinned gigabytes this way.
func checkParquetPages(file, col string, data []byte, cm *format.ColumnMetaData) error {
	corrupt := func(format string, args ...any) error {
		return columnError(file, col, "the column's pages are corrupt (%s): export the file again", fmt.Sprintf(format, args...))
	}
	start := cm.DataPageOffset
	if cm.DictionaryPageOffset != 0 {
		start = cm.DictionaryPageOffset
	}
	end := start + cm.TotalCompressedSize
	if start < 4 || cm.TotalCompressedSize < 0 || end < start || end > int64(len(data)) {
		return corrupt("the chunk's %d bytes at offset %d lie outside the file's %d bytes", cm.TotalCompressedSize, start, len(data))
	}
	var proto thrift.CompactProtocol
	for off := start; off < end; {
		hlen, err := thriftBounded(data[off:end])
		if err != nil {
			return corrupt("page header at offset %d: %v", off, err)
		}
		var h format.PageHeader
		if err := thrift.NewDecoder(proto.NewReaderFromBytes(data[off : off+int64(hlen)])).Decode(&h); err != nil {
			return corrupt("page header at offset %d: %v", off, err)
		}
		off += int64(hlen)
		if h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > end-off {
			return corrupt("a page claims %d bytes where %d remain", h.CompressedPageSize, end-off)
		}
		if h.UncompressedPageSize < 0 || int64(h.UncompressedPageSize) > cm.TotalUncompressedSize {
			return corrupt("a page claims %d bytes uncompressed, the whole chunk %d", h.UncompressedPageSize, cm.TotalUncompressedSize)
		}
		var values int32
		levels := int64(0) // bytes of uncompressed levels before compressed data (v2 pages)
		compressed := true
		switch {
		case h.DataPageHeader.Valid:
			values = h.DataPageHeader.V.NumValues
		case h.DictionaryPageHeader.Valid:
			values = h.DictionaryPageHeader.V.NumValues
		case h.DataPageHeaderV2.Valid:
			v2 := h.DataPageHeaderV2.V
			values = v2.NumValues
			levels = int64(v2.DefinitionLevelsByteLength) + int64(v2.RepetitionLevelsByteLength)
			compressed = !v2.IsCompressed.Valid || v2.IsCompressed.V
			if v2.DefinitionLevelsByteLength < 0 || v2.RepetitionLevelsByteLength < 0 || levels > int64(h.CompressedPageSize) {
				return corrupt("a page claims %d bytes of levels in %d", levels, h.CompressedPageSize)
			}
		}
		if values < 0 || int64(values) > cm.NumValues {
			return corrupt("a page claims %d values, the whole chunk %d", values, cm.NumValues)
		}
		body := data[off+levels : off+int64(h.CompressedPageSize)]
		if cm.Codec == format.Snappy && compressed && len(body) > 0 {
			if n, err := snappy.DecodedLen(body); err == nil && int64(n) > int64(h.UncompressedPageSize) {
				return corrupt("a Snappy block claims %d bytes in a page of %d", n, h.UncompressedPageSize)
			}
		}
		off += int64(h.CompressedPageSize)
	}
	return nil
}

// readParquetColumn reads the n values of a column, converts them with
// conv, checks them, and hands each to set with its row index.
func readParquetColumn(file string, c *parquet.Column, conv func(parquet.Value) float64, n int, task string, target bool, set func(row int, v float64)) error {
	col := c.Name()
	pages := c.Pages()
	defer pages.Close()
	buf := make([]parquet.Value, 4096)
	row := 0
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return columnError(file, col, "the column cannot be read (%v): the file is corrupt or truncated; export it again", err)
		}
		err = readParquetPage(file, col, p, buf, conv, &row, n, task, target, set)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
	if row != n {
		return columnError(file, col, "the column holds %d values but the file has %d rows: the file is corrupt or truncated; export it again", row, n)
	}
	return nil
}

// readParquetPage reads the values of page p, continuing at row *row.
func readParquetPage(file, col string, p parquet.Page, buf []parquet.Value, conv func(parquet.Value) float64, row *int, n int, task string, target bool, set func(int, float64)) error {
	vr := p.Values()
	for {
		k, err := vr.ReadValues(buf)
		for _, v := range buf[:k] {
			if *row >= n {
				return columnError(file, col, "the column holds more values than the file's %d rows: the file is corrupt; export it again", n)
			}
			if v.IsNull() {
				return &DataError{File: file, Row: *row, rowIndex: true, Column: col, Msg: "the value is null: fill in or drop missing values before exporting"}
			}
			x := conv(v)
			msg := checkFinite(x)
			if msg == "" && target {
				msg = checkTarget(x, task)
			}
			if msg != "" {
				return &DataError{File: file, Row: *row, rowIndex: true, Column: col, Msg: msg}
			}
			set(*row, x)
			*row++
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return columnError(file, col, "the column cannot be decoded (%v): the file is corrupt; export it again", err)
		}
	}
}

// Splitting and standardising.

// Split returns a seeded split of the row indices into training and
// validation rows: a permutation of 0…N-1 drawn from a PCG seeded with
// (seed, 0x5eed) (math/rand/v2), whose last round(valFraction·N) entries
// are the validation rows and the rest the training rows, both in the
// permutation's order. The split is a pure function of seed, valFraction
// and N.
//
// Split returns a *DataError when either side would hold fewer than
// minRows rows, and an error when valFraction is outside [0, 1].
func (t *Table) Split(seed uint64, valFraction float64, minRows int) (train, val []int, err error) {
	if !(valFraction >= 0 && valFraction <= 1) {
		return nil, nil, fmt.Errorf("split table: validation fraction %v is outside [0, 1]", valFraction)
	}
	nval := int(math.Round(valFraction * float64(t.N)))
	ntrain := t.N - nval
	if ntrain < minRows || nval < minRows {
		return nil, nil, fileError(t.file, "the table has %d rows: a validation fraction of %v leaves %d training and %d validation rows, and each side needs at least %d; add rows or change the validation fraction",
			t.N, valFraction, ntrain, nval, minRows)
	}
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(t.N)
	return perm[:ntrain:ntrain], perm[ntrain:], nil
}

// Stats returns the mean and the population standard deviation of each
// feature over the given rows,
//
//	mean_j = 1/n Σ_i x_ij
//	std_j  = sqrt(1/n Σ_i (x_ij - mean_j)²),
//
// computed in two passes. A feature that is constant over the rows gets
// its value as mean_j and std_j = 1, so that standardising maps it to
// exactly 0 rather than dividing by zero. Stats panics if rows is empty or holds an index outside [0, N).
func (t *Table) Stats(rows []int) (mean, std []float64) {
	if len(rows) == 0 {
		panic("datasets: Stats of no rows")
	}
	d := t.D
	mean, std = make([]float64, d), make([]float64, d)
	lo, hi := slices.Clone(t.Row(rows[0])), slices.Clone(t.Row(rows[0]))
	for _, r := range rows {
		x := t.Row(r)
		for j, v := range x {
			mean[j] += v
			lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
		}
	}
	n := float64(len(rows))
	for j := range mean {
		mean[j] /= n
	}
	for _, r := range rows {
		x := t.Row(r)
		for j, v := range x {
			dv := v - mean[j]
			std[j] += dv * dv
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / n)
		switch {
		case lo[j] == hi[j]:
			mean[j], std[j] = lo[j], 1
		case std[j] == 0: // distinct subnormals whose squares underflow
			std[j] = 1
		}
	}
	return mean, std
}

// Rows returns the given rows standardised,
//
//	z_ij = (x_ij - mean_j) / std_j,
//
// one slice per row, all backed by one allocation. With nil mean and std
// the rows are copied unchanged. Rows panics if mean or std is not nil and
// not of length D, or if rows holds an index outside [0, N).
func (t *Table) Rows(rows []int, mean, std []float64) [][]float64 {
	d := t.D
	if (mean != nil || std != nil) && (len(mean) != d || len(std) != d) {
		panic(fmt.Sprintf("datasets: Rows with %d means and %d deviations for %d features", len(mean), len(std), d))
	}
	flat := make([]float64, len(rows)*d)
	out := make([][]float64, len(rows))
	for k, r := range rows {
		z := flat[k*d : (k+1)*d : (k+1)*d]
		copy(z, t.Row(r))
		if mean != nil {
			for j := range z {
				z[j] = (z[j] - mean[j]) / std[j]
			}
		}
		out[k] = z
	}
	return out
}
