package datasets

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"gonum.org/v1/gonum/mat"
)

// csvBytes writes a header and rows as CSV.
func csvBytes(t testing.TB, header []string, rows ...[]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// npyBytes writes v with npyio (format version 2.0).
func npyBytes(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := npy.Write(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawNPY builds a .npy file of format version 1.0, as numpy.save writes
// it, from a header dictionary and the raw array bytes: for the layouts
// npyio's writer does not produce (Fortran order, big-endian).
func rawNPY(dict string, payload []byte) []byte {
	hdr := dict
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	return append(append(b, hdr...), payload...)
}

// npzBytes writes the named arrays as an .npz archive (entries name.npy,
// as numpy.savez writes them).
func npzBytes(t testing.TB, arrays map[string]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := npz.NewWriter(&buf)
	names := make([]string, 0, len(arrays))
	for n := range arrays {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := w.Write(n+".npy", arrays[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// emptyColumnsNPY is a float64 .npy of shape (rows, 0), which npyio does
// not write.
func emptyColumnsNPY(rows int) []byte { return npyHeaderOnly(fmt.Sprintf("(%d, 0)", rows)) }

// npyHeaderOnly is the header of a float64 .npy of the given shape, no data.
func npyHeaderOnly(shape string) []byte {
	h := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shape)
	h += strings.Repeat(" ", 64-(10+len(h)+1)%64) + "\n"
	return append([]byte{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, byte(len(h)), byte(len(h) >> 8)}, h...)
}

// zipBytes writes files into a zip archive, for .npz files npyio would not
// write.
func zipBytes(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := w.Create(name)
		if err == nil {
			_, err = f.Write(files[name])
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pqColumn is a column for parquetBytes: values of a Go type matching the
// node (float64, float32, int32, int64, string) with nil for null.
type pqColumn struct {
	name string
	node parquet.Node
	vals []any
}

// parquetBytes writes columns with parquet-go, Snappy-compressed (as pandas
// writes by default) unless a node says otherwise. parquet-go orders a
// group's columns by name.
func parquetBytes(t testing.TB, cols ...pqColumn) []byte {
	t.Helper()
	g := parquet.Group{}
	for _, c := range cols {
		g[c.name] = c.node
		if c.node.Compression() == nil {
			g[c.name] = parquet.Compressed(c.node, &snappy.Codec{})
		}
	}
	schema := parquet.NewSchema("table", g)
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema)
	n := len(cols[0].vals)
	rows := make([]parquet.Row, n)
	for _, c := range cols {
		leaf, ok := schema.Lookup(c.name)
		if !ok {
			t.Fatalf("no leaf %q", c.name)
		}
		for i, v := range c.vals {
			pv := parquet.NullValue()
			if v != nil {
				pv = parquet.ValueOf(v)
			}
			def := leaf.MaxDefinitionLevel
			if v == nil {
				def = 0
			}
			rows[i] = append(rows[i], pv.Level(0, def, leaf.ColumnIndex))
		}
	}
	for i := range rows {
		slices.SortFunc(rows[i], func(a, b parquet.Value) int { return a.Column() - b.Column() })
	}
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func anys[T any](s ...T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

var (
	doubleLeaf = parquet.Leaf(parquet.DoubleType)
	int64Leaf  = parquet.Int(64)
)

// goodTable is the table every format holds in TestReadTableFormatsAgree:
// three features and a label with the values 3 and 7, which become classes
// 0 and 1.
var goodTable = struct {
	x [][3]float64
	y []int64
}{
	x: [][3]float64{{0.5, -1, 2}, {1.25, 0, 3}, {-2, 4.5, 0}, {3, 3, 3}, {1e-3, 1e3, -7}},
	y: []int64{3, 7, 7, 3, 7},
}

func goodFiles(t *testing.T) map[string][]byte {
	g := goodTable
	var rows [][]string
	full := make([][4]float64, len(g.y))
	xcols := make([][]any, 3)
	for i, x := range g.x {
		rows = append(rows, []string{fmt.Sprint(x[0]), fmt.Sprint(x[1]), fmt.Sprint(x[2]), fmt.Sprint(g.y[i])})
		full[i] = [4]float64{x[0], x[1], x[2], float64(g.y[i])}
		for j := range 3 {
			xcols[j] = append(xcols[j], x[j])
		}
	}
	return map[string][]byte{
		"good.csv": csvBytes(t, []string{"a", "b", "c", "label"}, rows...),
		"good.npy": npyBytes(t, full),
		"good.npz": npzBytes(t, map[string]any{"x": g.x, "y": g.y}),
		"good.parquet": parquetBytes(t,
			pqColumn{"a", doubleLeaf, xcols[0]},
			pqColumn{"b", doubleLeaf, xcols[1]},
			pqColumn{"c", doubleLeaf, xcols[2]},
			pqColumn{"label", int64Leaf, anys(g.y...)}),
	}
}

// TestReadTableFormatsAgree reads the same table from CSV, NPY, NPZ and
// Parquet and expects identical features, classes and labels.
func TestReadTableFormatsAgree(t *testing.T) {
	names := map[string][2]string{ // feature names joined, target
		"good.csv":     {"a,b,c", "label"},
		"good.npy":     {"col0,col1,col2", "col3"},
		"good.npz":     {"col0,col1,col2", "y"},
		"good.parquet": {"a,b,c", "label"},
	}
	wantX := slices.Concat(goodTable.x[0][:], goodTable.x[1][:], goodTable.x[2][:], goodTable.x[3][:], goodTable.x[4][:])
	wantY := []float64{0, 1, 1, 0, 1}
	for file, data := range goodFiles(t) {
		t.Run(file, func(t *testing.T) {
			tab, err := ReadTable(file, data, TableOptions{Task: "classification"})
			if err != nil {
				t.Fatal(err)
			}
			if tab.N != 5 || tab.D != 3 || tab.Classes != 2 {
				t.Errorf("N, D, Classes = %d, %d, %d; want 5, 3, 2", tab.N, tab.D, tab.Classes)
			}
			if !slices.Equal(flatX(tab), wantX) {
				t.Errorf("X = %v, want %v", flatX(tab), wantX)
			}
			if !slices.Equal(tab.Y, wantY) {
				t.Errorf("Y = %v, want %v", tab.Y, wantY)
			}
			if !slices.Equal(tab.Labels, []float64{3, 7}) {
				t.Errorf("Labels = %v, want [3 7]", tab.Labels)
			}
			if got := strings.Join(tab.Features, ","); got != names[file][0] || tab.Target != names[file][1] {
				t.Errorf("features %s, target %s; want %s, %s", got, tab.Target, names[file][0], names[file][1])
			}
		})
	}
}

// TestReadTableSelection selects features and the target by name and by
// index, and reads a regression target.
func TestReadTableSelection(t *testing.T) {
	data := csvBytes(t, []string{"id", "pt", "eta", "mass"},
		[]string{"ev1", "1.5", "0.1", "91.2"},
		[]string{"ev2", "2.5", "-0.3", "125.1"})
	tab, err := ReadTable("jets.CSV", data, TableOptions{Features: []string{"eta", "1"}, Target: "mass", Task: "regression"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Features, []string{"eta", "pt"}) || !slices.Equal(flatX(tab), []float64{0.1, 1.5, -0.3, 2.5}) {
		t.Errorf("features %v X %v, want [eta pt] [0.1 1.5 -0.3 2.5]", tab.Features, flatX(tab))
	}
	if !slices.Equal(tab.Y, []float64{91.2, 125.1}) || tab.Classes != 0 || tab.Labels != nil {
		t.Errorf("Y %v Classes %d Labels %v, want the masses, 0 and nil", tab.Y, tab.Classes, tab.Labels)
	}

	// .npy: target by index, features by index and by col name.
	arr := [][4]float32{{1, 2, 3, 0}, {4, 5, 6, 1}}
	tab, err = ReadTable("t.npy", npyBytes(t, arr), TableOptions{Features: []string{"col2", "0"}, Target: "3", Task: "classification"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(flatX(tab), []float64{3, 1, 6, 4}) || !slices.Equal(tab.Y, []float64{0, 1}) {
		t.Errorf("X %v Y %v, want [3 1 6 4] [0 1]", flatX(tab), tab.Y)
	}

	// .npz with other array names and a [N, 1] target of int32.
	data = npzBytes(t, map[string]any{"feat": [][2]float64{{1, 2}, {3, 4}}, "lab": [][1]int32{{5}, {2}}})
	tab, err = ReadTable("t.npz", data, TableOptions{XArray: "feat", Target: "lab", Task: "classification"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Y, []float64{1, 0}) || !slices.Equal(tab.Labels, []float64{2, 5}) {
		t.Errorf("Y %v Labels %v, want [1 0] [2 5]", tab.Y, tab.Labels)
	}
}

// TestReadTableNPYLayouts reads the layouts numpy.save writes that npyio's
// writer does not: format 1.0, Fortran order, big-endian, and integer and
// float16 dtypes.
func TestReadTableNPYLayouts(t *testing.T) {
	le := func(vals ...float64) []byte {
		b := make([]byte, 0, 8*len(vals))
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	be := func(vals ...int32) []byte {
		b := make([]byte, 0, 4*len(vals))
		for _, v := range vals {
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		}
		return b
	}
	// The table [[1 2 0] [3 4 1]] in each layout.
	want := []float64{1, 2, 3, 4}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"c-order", rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", le(1, 2, 0, 3, 4, 1))},
		{"fortran", rawNPY("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", le(1, 3, 2, 4, 0, 1))},
		{"big-endian-int32", rawNPY("{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }", be(1, 2, 0, 3, 4, 1))},
		{"uint8", npyBytes(t, [][3]uint8{{1, 2, 0}, {3, 4, 1}})},
		{"int64", npyBytes(t, [][3]int64{{1, 2, 0}, {3, 4, 1}})},
		// float16 1, 2, 0, 3, 4, 1 (IEEE half bits).
		{"float16", rawNPY("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }",
			[]byte{0x00, 0x3c, 0x00, 0x40, 0x00, 0x00, 0x00, 0x42, 0x00, 0x44, 0x00, 0x3c})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ReadTable("t.npy", tc.data, TableOptions{Task: "classification"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(flatX(tab), want) || !slices.Equal(tab.Y, []float64{0, 1}) {
				t.Errorf("X %v Y %v, want %v [0 1]", flatX(tab), tab.Y, want)
			}
		})
	}
}

// TestReadTableParquetTypes reads int32, float, unsigned and
// dictionary-encoded Parquet columns.
func TestReadTableParquetTypes(t *testing.T) {
	data := parquetBytes(t,
		pqColumn{"a", parquet.Leaf(parquet.Int32Type), anys[int32](-1, 2, 3)},
		pqColumn{"b", parquet.Leaf(parquet.FloatType), anys[float32](0.5, 1.5, 2.5)},
		pqColumn{"c", parquet.Encoded(doubleLeaf, &parquet.RLEDictionary), anys(7.0, 7.0, 8.0)},
		pqColumn{"d", parquet.Optional(doubleLeaf), anys(1.0, 2.0, 3.0)},
		pqColumn{"e", parquet.Uint(32), anys[uint32](0, 1, 4000000000)})
	tab, err := ReadTable("t.parquet", data, TableOptions{Task: "classification"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{-1, 0.5, 7, 1, 2, 1.5, 7, 2, 3, 2.5, 8, 3}; !slices.Equal(flatX(tab), want) {
		t.Errorf("X = %v, want %v", flatX(tab), want)
	}
	if !slices.Equal(tab.Labels, []float64{0, 1, 4e9}) {
		t.Errorf("Labels = %v, want [0 1 4e9]", tab.Labels)
	}
}

// TestReadTableCSVChunks reads a CSV large enough to be parsed in parallel
// chunks, with blank lines, and expects every row in order and the line
// number of an error in a later chunk.
func TestReadTableCSVChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var b bytes.Buffer
	b.WriteString("a,b,y\r\n")
	const n = 150000
	for i := range n {
		fmt.Fprintf(&b, "%d,-%d.5,%d\r\n", i, i, i%3)
		if i%1000 == 0 {
			b.WriteString("\r\n") // a blank line: skipped, but counted in line numbers
		}
	}
	if b.Len() < 2*csvChunkMin {
		t.Fatalf("only %d bytes: too small to be split", b.Len())
	}
	tab, err := ReadTable("big.csv", b.Bytes(), TableOptions{Task: "classification"})
	if err != nil {
		t.Fatal(err)
	}
	if tab.N != n || len(flatX(tab)) != 2*n || tab.Classes != 3 {
		t.Fatalf("N %d len(X) %d Classes %d, want %d, %d, 3", tab.N, len(flatX(tab)), tab.Classes, n, 2*n)
	}
	x := flatX(tab)
	for i := range n {
		if x[2*i] != float64(i) || x[2*i+1] != -(float64(i)+0.5) || tab.Y[i] != float64(i%3) {
			t.Fatalf("row %d = %v, %v; want %d, -%d.5, %d", i, x[2*i:2*i+2], tab.Y[i], i, i, i%3)
		}
	}

	// Spoil row 50000 (0-based): its line is 1 (header) + 50001 + the 50
	// blank lines after rows 0, 1000, …, 49000.
	bad := bytes.Replace(b.Bytes(), []byte("\n50000,"), []byte("\nx50000,"), 1)
	_, err = ReadTable("big.csv", bad, TableOptions{Task: "classification"})
	var de *DataError
	if !errors.As(err, &de) || de.Row != 1+50001+50 || de.Column != "a" {
		t.Fatalf("error %v, want a DataError at row %d, column a", err, 1+50001+50)
	}
}

// TestReadTableBadData checks that every kind of bad data gives a
// DataError naming the file, row and column, with a hint of what to do.
func TestReadTableBadData(t *testing.T) {
	csvOf := func(rows ...string) []byte { return []byte("a,b,y\n" + strings.Join(rows, "\n") + "\n") }
	goodRows := []string{"1,2,0", "3,4,1"}
	var ids []string
	for i := range 1001 {
		ids = append(ids, fmt.Sprintf("1,2,%d", i))
	}
	manyLabels := csvOf(ids...)
	cls := TableOptions{Task: "classification"}
	reg := TableOptions{Task: "regression"}
	with := func(o TableOptions, f func(*TableOptions)) TableOptions { f(&o); return o }

	nanNPY := npyBytes(t, [][3]float64{{1, 2, 0}, {1, math.NaN(), 1}})
	goodNPY := npyBytes(t, [][3]float64{{1, 2, 0}, {3, 4, 1}})
	goodNPZ := npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {3, 4}}, "y": []int64{0, 1}})
	goodPQ := parquetBytes(t, pqColumn{"a", doubleLeaf, anys(1.0, 2.0)}, pqColumn{"y", int64Leaf, anys[int64](0, 1)})
	f8 := make([]byte, 48)

	for _, tc := range []struct {
		name string
		file string
		data []byte
		opt  TableOptions
		row  int    // want DataError.Row
		col  string // want DataError.Column
		msg  string // a substring of the message
	}{
		// Options and files.
		{"unknown task", "t.csv", csvOf(goodRows...), TableOptions{Task: "clustering"}, -1, "", `task "clustering" is not known`},
		{"unknown extension", "t.xlsx", csvOf(goodRows...), cls, -1, "", ".csv, .npy, .npz or .parquet"},
		{"no extension", "data", csvOf(goodRows...), cls, -1, "", `extension "" is not supported`},
		{"over size bound", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.MaxBytes = 10 }), -1, "", "over the 10 B limit"},
		{"empty csv", "t.csv", nil, cls, -1, "", "the file is empty"},
		{"empty npy", "t.npy", []byte{}, cls, -1, "", "the file is empty"},
		{"header only", "t.csv", []byte("a,b,y\n"), cls, -1, "", "no data rows"},
		{"header only no newline", "t.csv", []byte("a,b,y"), cls, -1, "", "no data rows"},
		{"blank lines only", "t.csv", []byte("a,b,y\n\n\n"), cls, -1, "", "no data rows"},
		// squares that overflow: an infinite std, then a crash
		{"value too large csv", "t.csv", csvOf("1,2,0", "1e160,4,1"), cls, 3, "a", "larger in magnitude than 1e+150"},
		{"value too large npy", "t.npy", npyBytes(t, [][3]float64{{1, 2, 0}, {1, -1e308, 1}}), cls, 1, "col1", "larger in magnitude than 1e+150"},
		// a small archive that claims 320 MB of arrays is refused from its
		// header (a 2.3 MB .npz decoded past 4.7 GB under the old 16 GiB budget)
		{"npz bomb", "t.npz", zipBytes(t, map[string][]byte{"x.npy": npyHeaderOnly("(40000000, 1)"), "y.npy": npyBytes(t, []int64{0, 1})}), cls, -1, "x", "expand to over 256 MiB"},
		// a [rows, 0] feature array panicked (index -1)
		{"npz without feature columns", "t.npz", zipBytes(t, map[string][]byte{"x.npy": emptyColumnsNPY(2), "y.npy": npyBytes(t, []int64{0, 1})}), cls, -1, "", "the feature array has no columns"},

		// Column selection.
		{"missing target", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Target = "label" }), -1, "label", `the columns are "a", "b", "y"`},
		{"missing feature", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Features = []string{"a", "c"} }), -1, "c", `the columns are "a", "b", "y"`},
		{"feature index out of range", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Features = []string{"3"} }), -1, "3", "has 3 columns, indexed 0 to 2"},
		{"negative feature index", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Features = []string{"-1"} }), -1, "-1", "out of range"},
		{"duplicate feature", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Features = []string{"a", "0"} }), -1, "a", `listed twice in the features (as "a" and "0")`},
		{"target as feature", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Features = []string{"a", "y"} }), -1, "y", "also listed as a feature"},
		{"target by index as feature", "t.csv", csvOf(goodRows...), with(cls, func(o *TableOptions) { o.Target = "0" }), -1, "", ""}, // fine: features default to b, y
		{"only the target", "t.csv", []byte("y\n0\n1\n"), cls, -1, "", "no feature columns"},
		{"duplicate header name", "t.csv", []byte("a,a,y\n1,2,0\n3,4,1\n"), cls, -1, "a", "same name"},
		{"ambiguous target name", "t.csv", []byte("a,y,y\n1,2,0\n3,4,1\n"), with(cls, func(o *TableOptions) { o.Target = "y" }), -1, "y", "matches columns 1 and 2"},

		// Cells.
		{"non-numeric", "t.csv", csvOf("1,2,0", "3,abc,1"), cls, 3, "b", `"abc" is not a number`},
		{"empty cell", "t.csv", csvOf("1,,0", "3,4,1"), cls, 2, "b", "the cell is empty"},
		{"NA marker", "t.csv", csvOf("1,NA,0", "3,4,1"), cls, 2, "b", `"NA" marks a missing value`},
		{"NaN", "t.csv", csvOf("1,2,0", "NaN,4,1"), cls, 3, "a", `"NaN" is NaN`},
		{"nan text", "t.csv", csvOf("1,2,0", "3, nan ,1"), cls, 3, "b", `"nan" is NaN`},
		{"inf", "t.csv", csvOf("inf,2,0", "3,4,1"), cls, 2, "a", "infinite"},
		{"-Infinity", "t.csv", csvOf("1,2,0", "3,-Infinity,1"), reg, 3, "b", "infinite"},
		{"overflow", "t.csv", csvOf("1,1e400,0", "3,4,1"), reg, 2, "b", "outside the range of float64"},
		{"NaN target", "t.csv", csvOf("1,2,nan", "3,4,1"), reg, 2, "y", "NaN"},
		{"ragged short", "t.csv", csvOf("1,2,0", "3,4"), cls, 3, "", "has 2 fields but the header has 3"},
		{"ragged long", "t.csv", csvOf("1,2,0,9", "3,4,1"), cls, 2, "", "has 4 fields but the header has 3"},
		{"bad quote", "t.csv", csvOf("1,2,0", `3,"4,1`), cls, 3, "", "malformed CSV"},
		{"bare quote", "t.csv", csvOf(`1,2"x,0`, "3,4,1"), cls, 2, "", "malformed CSV"},
		{"line numbers count quoted newlines", "t.csv", []byte("a,b,y\n\"1\n\",2,0\n3,x,1\n"), cls, 4, "b", `"x" is not a number`},

		// Labels.
		{"fractional label", "t.csv", csvOf("1,2,0", "3,4,0.5"), cls, 3, "y", "0.5 is not an integer"},
		{"fractional regression target", "t.csv", csvOf("1,2,0", "3,4,0.5"), reg, -1, "", ""},
		{"negative label", "t.csv", csvOf("1,2,-1", "3,4,1"), cls, 2, "y", "-1 is negative"},
		{"negative regression target", "t.csv", csvOf("1,2,-1", "3,4,1"), reg, -1, "", ""},
		{"one class", "t.csv", csvOf("1,2,4", "3,4,4"), cls, -1, "y", "every row has the label 4"},
		{"too many classes", "t.csv", manyLabels, cls, -1, "y", "1001 distinct labels"},

		// .npy.
		{"npy bad magic", "t.npy", []byte("PK\x03\x04 not numpy at all"), cls, -1, "", "no .npy magic number"},
		{"npy short", "t.npy", []byte("\x93NUMPY"), cls, -1, "", "no .npy magic number"},
		{"npy header without newline", "t.npy", append([]byte("\x93NUMPY\x01\x00\x04\x00"), "abcd"...), cls, -1, "", "malformed .npy header"},
		{"npy header garbage", "t.npy", rawNPY("{'descr': '<f8', 'shape': 12}", f8), cls, -1, "", ".npy"},
		{"npy truncated header", "t.npy", goodNPY[:20], cls, -1, "", "truncated inside the .npy header"},
		{"npy truncated data", "t.npy", goodNPY[:len(goodNPY)-5], cls, -1, "", "43 bytes follow"},
		{"npy trailing bytes", "t.npy", append(slices.Clone(goodNPY), 0, 0, 0), cls, -1, "", "3 bytes after the array data"},
		{"npy version 3", "t.npy", append([]byte("\x93NUMPY\x03\x00"), goodNPY[8:]...), cls, -1, "", "version 3.0 is not supported"},
		{"npy huge shape", "t.npy", rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", f8), cls, -1, "", "impossible shape"},
		{"npy 1-D", "t.npy", npyBytes(t, []float64{1, 2, 3}), cls, -1, "", "shape (3,)"},
		{"npy complex", "t.npy", npyBytes(t, [][2]complex128{{1, 2}}), cls, -1, "", "element type '<c16' is not supported"},
		{"npy strings", "t.npy", rawNPY("{'descr': '<U1', 'fortran_order': False, 'shape': (2, 3), }", make([]byte, 24)), cls, -1, "", "'<U1' is not supported"},
		{"npy no rows", "t.npy", rawNPY("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", nil), cls, -1, "", "no rows"},
		{"npy NaN", "t.npy", nanNPY, cls, 1, "col1", "NaN"},
		{"npy inf", "t.npy", npyBytes(t, [][3]float64{{1, 2, 0}, {3, math.Inf(-1), 1}}), reg, 1, "col1", "-Inf"},
		{"npy fractional label", "t.npy", npyBytes(t, [][3]float64{{1, 2, 0}, {3, 4, 2.5}}), cls, 1, "col2", "2.5 is not an integer"},
		{"npy negative label", "t.npy", npyBytes(t, [][3]int32{{1, 2, -3}, {3, 4, 2}}), cls, 0, "col2", "-3 is negative"},
		{"npy one class", "t.npy", npyBytes(t, [][3]int64{{1, 2, 1}, {3, 4, 1}}), cls, -1, "col2", "at least two classes"},
		{"npy missing column", "t.npy", goodNPY, with(cls, func(o *TableOptions) { o.Features = []string{"pt"} }), -1, "pt", `"col0", "col1", "col2"`},
		{"npy index out of range", "t.npy", goodNPY, with(cls, func(o *TableOptions) { o.Features = []string{"0", "5"} }), -1, "5", "indexed 0 to 2"},
		{"npy duplicate feature", "t.npy", goodNPY, with(cls, func(o *TableOptions) { o.Features = []string{"col0", "0"} }), -1, "col0", "listed twice"},
		{"npy target as feature", "t.npy", goodNPY, with(cls, func(o *TableOptions) { o.Features = []string{"0", "2"} }), -1, "col2", "also listed as a feature"},

		// .npz.
		{"npz not a zip", "t.npz", []byte("definitely not a zip archive"), cls, -1, "", "not a readable .npz"},
		{"npz truncated", "t.npz", goodNPZ[:len(goodNPZ)-30], cls, -1, "", "truncated"},
		{"npz missing x", "t.npz", goodNPZ, with(cls, func(o *TableOptions) { o.XArray = "features" }), -1, "features", `the archive holds "x", "y"`},
		{"npz missing y", "t.npz", goodNPZ, with(cls, func(o *TableOptions) { o.Target = "label" }), -1, "label", `the archive holds "x", "y"`},
		{"npz same arrays", "t.npz", goodNPZ, with(cls, func(o *TableOptions) { o.Target = "x" }), -1, "", "both \"x\""},
		{"npz row mismatch", "t.npz", npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {3, 4}}, "y": []int64{0, 1, 1}}), cls, -1, "y", "3 rows but the feature array \"x\" has 2"},
		{"npz wide y", "t.npz", npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {3, 4}}, "y": [][2]int64{{0, 1}, {1, 0}}}), cls, -1, "y", "shape (2, 2)"},
		{"npz bad entry", "t.npz", zipBytes(t, map[string][]byte{"x.npy": []byte("junk"), "y.npy": npyBytes(t, []int64{0, 1})}), cls, -1, "x", "not a NumPy array"},
		{"npz NaN in x", "t.npz", npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {math.NaN(), 4}}, "y": []int64{0, 1}}), cls, 1, "col0", `NaN: drop or impute missing values before uploading (array "x")`},
		{"npz inf in y", "t.npz", npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {3, 4}}, "y": []float64{math.Inf(1), 1}}), reg, 0, "y", "+Inf"},
		{"npz fractional label", "t.npz", npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {3, 4}}, "y": []float64{0, 1.5}}), cls, 1, "y", "1.5 is not an integer"},
		{"npz one class", "t.npz", npzBytes(t, map[string]any{"x": [][2]float64{{1, 2}, {3, 4}}, "y": []float64{2, 2}}), cls, -1, "y", "at least two classes"},
		{"npz index out of range", "t.npz", goodNPZ, with(cls, func(o *TableOptions) { o.Features = []string{"2"} }), -1, "2", "indexed 0 to 1"},
		{"npz duplicate feature", "t.npz", goodNPZ, with(cls, func(o *TableOptions) { o.Features = []string{"1", "col1"} }), -1, "col1", "listed twice"},
		{"npz over decoded bound", "t.npz", npzBytes(t, map[string]any{"x": make([][2]float64, 5000), "y": make([]float64, 5000)}), with(reg, func(o *TableOptions) { o.MaxBytes = 8 << 10 }), -1, "x", "expand to over 8 KiB"},

		// Parquet.
		{"parquet bad magic", "t.parquet", []byte("PAR2 this is not a parquet file PAR2"), cls, -1, "", "not a readable Parquet file"},
		{"parquet truncated", "t.parquet", goodPQ[:len(goodPQ)-10], cls, -1, "", "not a readable Parquet file"},
		{"parquet footer too long", "t.parquet", slices.Concat(goodPQ[:len(goodPQ)-8], []byte{0xff, 0xff, 0, 0}, []byte("PAR1")), cls, -1, "", "the footer claims 65535 bytes"},
		{"parquet encrypted", "t.parquet", slices.Concat(goodPQ[:len(goodPQ)-4], []byte("PARE")), cls, -1, "", "encrypted"},
		{"parquet missing column", "t.parquet", goodPQ, with(cls, func(o *TableOptions) { o.Target = "label" }), -1, "label", `the columns are "a", "y"`},
		{"parquet index out of range", "t.parquet", goodPQ, with(cls, func(o *TableOptions) { o.Features = []string{"4"} }), -1, "4", "indexed 0 to 1"},
		{"parquet target as feature", "t.parquet", goodPQ, with(cls, func(o *TableOptions) { o.Features = []string{"a", "1"} }), -1, "y", "also listed as a feature"},
		{"parquet string column", "t.parquet", parquetBytes(t, pqColumn{"a", parquet.String(), anys("x", "y")}, pqColumn{"y", int64Leaf, anys[int64](0, 1)}), cls, -1, "a", "must be numeric"},
		{"parquet null", "t.parquet", parquetBytes(t, pqColumn{"a", parquet.Optional(doubleLeaf), []any{1.0, nil}}, pqColumn{"y", int64Leaf, anys[int64](0, 1)}), cls, 1, "a", "null"},
		{"parquet NaN", "t.parquet", parquetBytes(t, pqColumn{"a", doubleLeaf, anys(math.NaN(), 1.0)}, pqColumn{"y", int64Leaf, anys[int64](0, 1)}), cls, 0, "a", "NaN"},
		{"parquet fractional label", "t.parquet", parquetBytes(t, pqColumn{"a", doubleLeaf, anys(1.0, 2.0)}, pqColumn{"y", doubleLeaf, anys(0.0, 0.25)}), cls, 1, "y", "0.25 is not an integer"},
		{"parquet negative label", "t.parquet", parquetBytes(t, pqColumn{"a", doubleLeaf, anys(1.0, 2.0)}, pqColumn{"y", int64Leaf, anys[int64](-2, 1)}), cls, 0, "y", "-2 is negative"},
		{"parquet one class", "t.parquet", parquetBytes(t, pqColumn{"a", doubleLeaf, anys(1.0, 2.0)}, pqColumn{"y", int64Leaf, anys[int64](1, 1)}), cls, -1, "y", "at least two classes"},
		{"parquet lz4", "t.parquet", parquetBytes(t, pqColumn{"a", doubleLeaf, anys(1.0, 2.0)}, pqColumn{"y", parquet.Compressed(int64Leaf, &parquet.Lz4Raw), anys[int64](0, 1)}), cls, -1, "y", "LZ4-compressed"},
		{"parquet zstd", "t.parquet", parquetBytes(t, pqColumn{"a", parquet.Compressed(doubleLeaf, &parquet.Zstd), anys(1.0, 2.0)}, pqColumn{"y", parquet.Compressed(int64Leaf, &parquet.Gzip), anys[int64](0, 1)}), cls, -1, "", ""},
		{"parquet date column", "t.parquet", parquetBytes(t, pqColumn{"a", parquet.Date(), anys[int32](1, 2)}, pqColumn{"y", int64Leaf, anys[int64](0, 1)}), cls, -1, "a", "logical type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := ReadTable(tc.file, tc.data, tc.opt)
			if tc.msg == "" && tc.col == "" && tc.row == -1 {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if tab.N != 2 {
					t.Errorf("N = %d, want 2", tab.N)
				}
				return
			}
			var de *DataError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T), want a *DataError", err, err)
			}
			if !errors.Is(err, ErrBadData) {
				t.Errorf("error %v does not wrap ErrBadData", err)
			}
			if de.File != tc.file || de.Row != tc.row || de.Column != tc.col || !strings.Contains(de.Msg, tc.msg) {
				t.Errorf("got  file %q row %d column %q msg %q\nwant file %q row %d column %q msg containing %q",
					de.File, de.Row, de.Column, de.Msg, tc.file, tc.row, tc.col, tc.msg)
			}
			if !strings.Contains(de.Msg, ": ") && !strings.Contains(de.Msg, "; ") {
				t.Errorf("message %q says what is wrong but not what to do", de.Msg)
			}
		})
	}
}

func TestDataErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *DataError
		want string
	}{
		{&DataError{File: "jets.csv", Row: 17, Column: "pt", Msg: `"abc" is not a number: every feature and target cell must be numeric`},
			`data file "jets.csv", row 17, column "pt": "abc" is not a number: every feature and target cell must be numeric`},
		{&DataError{File: "x.npy", Row: 0, Column: "col3", Msg: "m", rowIndex: true}, `data file "x.npy", row index 0 (0-based), column "col3": m`},
		{&DataError{File: "x.npy", Row: -1, Msg: "m"}, `data file "x.npy": m`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %s\nwant      %s", got, tc.want)
		}
	}
	// The row of an array error is said to be 0-based.
	_, err := ReadTable("t.npy", npyBytes(t, [][2]float64{{math.NaN(), 0}}), TableOptions{Task: "regression"})
	if err == nil || !strings.Contains(err.Error(), "row index 0 (0-based)") {
		t.Errorf("error %v does not say the row index is 0-based", err)
	}
}

func TestCheckTableSize(t *testing.T) {
	for _, tc := range []struct {
		size, max int64
		bad       bool
	}{
		{10, 10, false}, {11, 10, true}, {DefaultMaxTableBytes, 0, false}, {DefaultMaxTableBytes + 1, 0, true}, {3 << 30, -1, true},
	} {
		err := CheckTableSize("s3://bucket/t.csv", tc.size, tc.max)
		if (err != nil) != tc.bad || (err != nil && !errors.Is(err, ErrBadData)) {
			t.Errorf("CheckTableSize(%d, %d) = %v, want bad %v", tc.size, tc.max, err, tc.bad)
		}
	}
	if err := CheckTableSize("t.csv", 3<<30, 0); err == nil || !strings.Contains(err.Error(), "the file is 3 GiB, over the 2 GiB limit") {
		t.Errorf("message %v, want sizes in GiB", err)
	}
}

// tableOf returns a regression table of n rows with features from f.
func tableOf(n, d int, f func(i, j int) float64) *Table {
	t := &Table{N: n, D: d, X: make([]float64, n*d), Y: make([]float64, n), file: "t.csv"}
	for i := range n {
		for j := range d {
			t.X[i*d+j] = f(i, j)
		}
	}
	return t
}

func TestSplit(t *testing.T) {
	tab := tableOf(103, 1, func(i, j int) float64 { return float64(i) })
	train, val, err := tab.Split(7, 0.2, 10)
	if err != nil {
		t.Fatal(err)
	}
	// round(0.2 × 103) = round(20.6) = 21.
	if len(train) != 82 || len(val) != 21 {
		t.Errorf("split %d/%d, want 82/21", len(train), len(val))
	}
	all := slices.Sorted(slices.Values(slices.Concat(train, val)))
	for i, v := range all {
		if v != i {
			t.Fatalf("train ∪ val is not a partition of 0…102: %v", all)
		}
	}
	train2, val2, _ := tab.Split(7, 0.2, 10)
	if !slices.Equal(train, train2) || !slices.Equal(val, val2) {
		t.Error("the same seed gave two splits")
	}
	train3, _, _ := tab.Split(8, 0.2, 10)
	if slices.Equal(train, train3) {
		t.Error("seeds 7 and 8 gave the same split")
	}
	// The permutation is rand.Perm of a PCG seeded (seed, 0x5eed).
	if want := rand.New(rand.NewPCG(7, 0x5eed)).Perm(103); !slices.Equal(slices.Concat(train, val), want) {
		t.Error("the split is not the documented permutation")
	}
	// Appending to train must not overwrite val.
	v0 := val[0]
	_ = append(train, -1)
	if val[0] != v0 {
		t.Error("train and val share spare capacity")
	}

	for _, tc := range []struct {
		n        int
		frac     float64
		min      int
		wantData bool
	}{
		{10, 0.2, 3, true},  // 8 / 2
		{10, 0.9, 2, true},  // 1 / 9
		{10, 0.5, 5, false}, // 5 / 5: fine
		{0, 0.2, 1, true},
		{10, 1.5, 1, false}, // a bad fraction is not a data error
		{10, math.NaN(), 1, false},
	} {
		_, _, err := tableOf(tc.n, 1, func(i, j int) float64 { return 0 }).Split(1, tc.frac, tc.min)
		var de *DataError
		isData := errors.As(err, &de)
		if isData != tc.wantData {
			t.Errorf("Split(n %d, frac %v, min %d) = %v, want a DataError: %v", tc.n, tc.frac, tc.min, err, tc.wantData)
		}
		if tc.frac > 1 || math.IsNaN(tc.frac) {
			if err == nil {
				t.Errorf("Split with fraction %v: no error", tc.frac)
			}
		}
		if isData && !strings.Contains(de.Msg, "add rows") {
			t.Errorf("message %q does not say what to do", de.Msg)
		}
	}
}

func TestStatsRows(t *testing.T) {
	// Column 0 is 0…9 (mean 4.5, population variance (10²-1)/12 = 8.25),
	// column 1 is constant 0.1, column 2 is 1e6 + i·1e-3.
	tab := tableOf(10, 3, func(i, j int) float64 {
		return [3]float64{float64(i), 0.1, 1e6 + float64(i)*1e-3}[j]
	})
	rows := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	mean, std := tab.Stats(rows)
	if math.Abs(mean[0]-4.5) > 1e-12 || math.Abs(std[0]-math.Sqrt(8.25)) > 1e-12 {
		t.Errorf("column 0: mean %v std %v, want 4.5 and sqrt(8.25)", mean[0], std[0])
	}
	if std[1] != 1 {
		t.Errorf("constant column std %v, want 1", std[1])
	}
	z := tab.Rows(rows, mean, std)
	for j := range 3 {
		var m, s float64
		for _, r := range z {
			m += r[j]
		}
		m /= 10
		for _, r := range z {
			s += (r[j] - m) * (r[j] - m)
		}
		s = math.Sqrt(s / 10)
		wantS := 1.0
		if j == 1 {
			wantS = 0 // constant: every z is 0
		}
		// Tolerance: a few ulps of the standardised values, widened for
		// column 2, whose spread is 1e-9 of its mean (cancellation loses
		// about 9 of 16 digits).
		tol := 1e-12
		if j == 2 {
			tol = 1e-6
		}
		if math.Abs(m) > tol || math.Abs(s-wantS) > tol {
			t.Errorf("column %d standardised: mean %v std %v, want 0 and %v", j, m, s, wantS)
		}
	}
	if z[3][1] != 0 {
		t.Errorf("constant column maps to %v, want 0", z[3][1])
	}
	// A subset of rows, and no standardisation.
	raw := tab.Rows([]int{9, 2}, nil, nil)
	if !slices.Equal(raw[0], flatX(tab)[27:30]) || !slices.Equal(raw[1], flatX(tab)[6:9]) {
		t.Errorf("raw rows %v, want rows 9 and 2", raw)
	}
	defer func() {
		if recover() == nil {
			t.Error("Rows with a short mean did not panic")
		}
	}()
	tab.Rows(rows, mean[:2], std)
}

// benchCSV is the CSV benchmark table: 10⁶ rows of 15 standard-normal
// features printed with 6 significant digits and a class label 0–3; about
// 140 MB, like the ~150 MB file pandas.read_csv was timed on.
func benchCSV(b testing.TB) []byte {
	const n, d = 1_000_000, 15
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 150<<20)
	for j := range d {
		buf = append(buf, 'f')
		buf = strconv.AppendInt(buf, int64(j), 10)
		buf = append(buf, ',')
	}
	buf = append(buf, "label\n"...)
	for range n {
		for range d {
			buf = strconv.AppendFloat(buf, r.NormFloat64(), 'g', 6, 64)
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, int64(r.IntN(4)), 10)
		buf = append(buf, '\n')
	}
	return buf
}

func BenchmarkReadTableCSV(b *testing.B) {
	data := benchCSV(b)
	if out := os.Getenv("LIESWEEP_BENCH_CSV_OUT"); out != "" {
		// For timing pandas.read_csv on the same bytes.
		if err := os.WriteFile(filepath.Clean(out), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		tab, err := ReadTable("bench.csv", data, TableOptions{Task: "classification"})
		if err != nil || tab.N != 1_000_000 || tab.D != 15 {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadTableNPY(b *testing.B) {
	const n, c = 1_000_000, 16
	r := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, 0, n*c*8)
	for i := range n * c {
		v := r.NormFloat64()
		if i%c == c-1 {
			v = float64(r.IntN(4))
		}
		payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(v))
	}
	data := rawNPY(fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", n, c), payload)
	if out := os.Getenv("LIESWEEP_BENCH_NPY_OUT"); out != "" {
		if err := os.WriteFile(filepath.Clean(out), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		tab, err := ReadTable("bench.npy", data, TableOptions{Task: "classification"})
		if err != nil || tab.N != n || tab.D != c-1 {
			b.Fatal(err)
		}
	}
}

// TestThriftBounded checks the walk that guards parquet-go's thrift decoder
// on hand-written compact-protocol structs.
func TestThriftBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		n    int    // bytes of a good struct
		err  string // a substring of the error
	}{
		// Field 1 i32 = 2 (zigzag 4), field 2 binary "ab", field 3 true,
		// field 4 list of 2 i32 (1, -1), stop.
		{"good", []byte{0x15, 0x04, 0x18, 0x02, 'a', 'b', 0x11, 0x19, 0x25, 0x02, 0x01, 0x00, 0xff}, 12, ""},
		// Field 1: a list of 2³⁰ structs, in no bytes.
		{"list bomb", []byte{0x19, 0xfc, 0x80, 0x80, 0x80, 0x80, 0x04}, 0, "declares 1073741824 elements in 0 bytes"},
		// Field 1: a map of 2²⁰ entries in 1 byte.
		{"map bomb", []byte{0x1b, 0x80, 0x80, 0x40, 0x55, 0x00}, 0, "declares 1048576 entries"},
		// 40 structs nested in field 1 of each other.
		{"deep", bytes.Repeat([]byte{0x1c}, 40), 0, "nest deeper than 32"},
		{"truncated binary", []byte{0x18, 0x7f, 'a'}, 0, "EOF"},
		{"unknown type", []byte{0x1e, 0x00}, 0, "unexpected thrift type"},
	} {
		n, err := thriftBounded(tc.b)
		switch {
		case tc.err == "" && (err != nil || n != tc.n):
			t.Errorf("%s: %d bytes, %v; want %d bytes", tc.name, n, err, tc.n)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
		}
	}
}

// flatX returns the features of every row of tab, row after row, whatever
// its Stride.
func flatX(tab *Table) []float64 {
	x := make([]float64, 0, tab.N*tab.D)
	for i := range tab.N {
		x = append(x, tab.Row(i)...)
	}
	return x
}

// TestReadTableNPYInPlace checks the .npy path that views a float64 array
// in place: it gives the same table as the copying path (a buffer moved
// off 8-byte alignment and moved, or features that are not a contiguous
// run, copied row by row), and
// with the rows checked by several workers the error is still the first
// bad row of the file.
func TestReadTableNPYInPlace(t *testing.T) {
	const n, c = 140000, 4
	vals := make([]float64, n*c)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		for j := range c - 1 {
			vals[i*c+j] = r.NormFloat64()
		}
		vals[i*c+c-1] = float64(i % 3)
	}
	encode := func(v []float64) []byte {
		var b bytes.Buffer
		if err := npy.Write(&b, mat.NewDense(n, c, v)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	data := encode(vals)
	// Place the data section on an 8-byte boundary, as numpy's 64-byte
	// header padding does (npyio pads less).
	hdr := len(data) - 8*n*c
	data = append(make([]byte, 0, len(data)+8)[:(8-hdr%8)%8], data...)[(8-hdr%8)%8:]
	opt := TableOptions{Task: "classification", Target: "col3"}
	view, err := ReadTable("t.npy", data, opt)
	if err != nil {
		t.Fatal(err)
	}
	if view.Stride != c || &view.X[0] != (*float64)(unsafe.Pointer(&data[hdr])) {
		t.Fatalf("Stride %d: the aligned float64 array was copied, want a view of the file's bytes with stride %d", view.Stride, c)
	}
	moved := make([]byte, len(data)+1)[1:]
	copy(moved, data)
	copied, err := ReadTable("t.npy", moved, opt)
	if err != nil {
		t.Fatal(err)
	}
	if copied.Stride != c || (uintptr(unsafe.Pointer(&moved[hdr]))%8 != 0) == (&copied.X[0] == (*float64)(unsafe.Pointer(&moved[hdr]))) {
		t.Fatalf("Stride %d on a misaligned buffer: want an aligned copy viewed with stride %d", copied.Stride, c)
	}
	if !slices.Equal(flatX(view), flatX(copied)) || !slices.Equal(view.Y, copied.Y) || !slices.Equal(view.Features, copied.Features) {
		t.Fatal("the in-place and copied reads differ")
	}
	// Features col2, col0: not a run, so copied, in the order asked.
	perm, err := ReadTable("t.npy", data, TableOptions{Task: "classification", Target: "col3", Features: []string{"col2", "col0"}})
	if err != nil {
		t.Fatal(err)
	}
	if perm.Stride > perm.D || perm.Row(7)[0] != vals[7*c+2] || perm.Row(7)[1] != vals[7*c] {
		t.Fatalf("features [col2 col0] row 7 = %v (stride %d), want [%v %v]", perm.Row(7), perm.Stride, vals[7*c+2], vals[7*c])
	}

	for _, tc := range []struct {
		bad map[int]float64 // element index → value
		row int
		col string
	}{
		{map[int]float64{120000*c + 1: math.NaN(), 100000*c + c - 1: 0.5}, 100000, "col3"},
		{map[int]float64{120000*c + 1: math.Inf(1), 10*c + 2: math.NaN()}, 10, "col2"},
		{map[int]float64{139999*c + 0: math.Inf(-1)}, 139999, "col0"},
	} {
		v := slices.Clone(vals)
		for i, x := range tc.bad {
			v[i] = x
		}
		_, err := ReadTable("t.npy", encode(v), opt)
		var de *DataError
		if !errors.As(err, &de) || de.Row != tc.row || de.Column != tc.col {
			t.Errorf("bad cells %v: error %v, want one at row %d column %s", tc.bad, err, tc.row, tc.col)
		}
	}
}
