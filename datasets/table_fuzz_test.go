package datasets

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// fuzzExts maps the fuzzer's format byte to a file extension.
var fuzzExts = [...]string{".csv", ".npy", ".npz", ".parquet"}

// FuzzReadTable reads arbitrary bytes as each table format, for
// classification and regression. It checks that nothing panics, that every
// error is a *DataError naming the file and wrapping ErrBadData, and that
// an accepted table is consistent: N·D features, all finite, N targets,
// and for classification class indices below Classes with sorted labels.
//
// The seeds are a good file of each format (below) and the files in
// testdata/fuzz/FuzzReadTable.
func FuzzReadTable(f *testing.F) {
	f.Add(uint8(0), []byte("a,b,y\n1,2,0\n3,4,1\n"))
	f.Add(uint8(0), []byte("a,\"b\nc\",y\n1,\"2\",0\n\n3,4,1\r\n"))
	f.Add(uint8(1), npyBytes(f, [][3]float64{{1, 2, 0}, {3, 4, 1}}))
	f.Add(uint8(1), npyBytes(f, [][3]int16{{1, 2, 0}, {3, 4, 1}}))
	f.Add(uint8(2), npzBytes(f, map[string]any{"x": [][2]float32{{1, 2}, {3, 4}}, "y": []uint8{0, 1}}))
	f.Add(uint8(3), parquetBytes(f,
		pqColumn{"a", parquet.Optional(doubleLeaf), anys(1.0, 2.0, 3.0)},
		pqColumn{"y", int64Leaf, anys[int64](0, 1, 1)}))
	f.Add(uint8(7), parquetBytes(f,
		pqColumn{"a", parquet.Leaf(parquet.FloatType), anys[float32](1, 2)},
		pqColumn{"y", parquet.Encoded(doubleLeaf, &parquet.RLEDictionary), anys(0.5, 0.5)}))

	f.Fuzz(func(t *testing.T, format uint8, data []byte) {
		name := "fuzz" + fuzzExts[int(format)%len(fuzzExts)]
		task := taskClassification
		if format&4 != 0 {
			task = taskRegression
		}
		tab, err := ReadTable(name, data, TableOptions{Task: task, MaxBytes: 1 << 20})
		if err != nil {
			var de *DataError
			if !errors.As(err, &de) || !errors.Is(err, ErrBadData) {
				t.Fatalf("error %v (%T) is not a DataError wrapping ErrBadData", err, err)
			}
			if de.File != name || de.Msg == "" {
				t.Errorf("DataError names file %q with message %q, want %q and a message", de.File, de.Msg, name)
			}
			return
		}
		if tab.N <= 0 || tab.D <= 0 || (tab.Stride != 0 && tab.Stride < tab.D) || len(tab.X) < (tab.N-1)*max(tab.Stride, tab.D)+tab.D || len(tab.Y) != tab.N || len(tab.Features) != tab.D {
			t.Fatalf("inconsistent table: N %d D %d len(X) %d len(Y) %d features %d", tab.N, tab.D, len(tab.X), len(tab.Y), len(tab.Features))
		}
		for i, v := range flatX(tab) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("X[%d] = %v accepted", i, v)
			}
		}
		if task == taskRegression {
			if tab.Classes != 0 || tab.Labels != nil {
				t.Errorf("regression table with %d classes", tab.Classes)
			}
			for i, v := range tab.Y {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("Y[%d] = %v accepted", i, v)
				}
			}
			return
		}
		if tab.Classes < 2 || len(tab.Labels) != tab.Classes || !slices.IsSorted(tab.Labels) {
			t.Fatalf("classes %d, labels %v", tab.Classes, tab.Labels)
		}
		for i, v := range tab.Y {
			if v < 0 || v >= float64(tab.Classes) || v != math.Trunc(v) {
				t.Fatalf("Y[%d] = %v is not a class index below %d", i, v, tab.Classes)
			}
		}
	})
}
