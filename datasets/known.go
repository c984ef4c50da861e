package datasets

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
	"github.com/parquet-go/parquet-go"
	"gonum.org/v1/gonum/mat"
)

// KnownTable is a labelled table whose symmetry algebra is known: a formula
// used as the label of Gaussian points, which liesweep must recover from the
// data alone (ψ is learned, never told the formula). They are the
// known-answer examples of `liesweep data gen` and examples/tables/.
type KnownTable struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Dim         int    `json:"dim"`
	Task        string `json:"task"` // classification | regression
	// Algebra is the symmetry algebra of the label and AlgebraDim its
	// dimension, the maximal closed N_g a correct run finds (0 for the
	// null controls, which have none).
	Algebra    string `json:"algebra"`
	AlgebraDim int    `json:"algebra_dim"`
	label      func(x []float64, r *rand.Rand) float64
}

// Sphere3Radius is the radius of the sphere3 classifier's boundary: the
// median of |x| for x ~ N(0, I_3) (the χ distribution with 3 degrees of
// freedom), so the two classes are balanced.
const Sphere3Radius = 1.54

// teacherSeed fixes the weights of the null controls' random teacher
// networks: the same function for every data seed.
const teacherSeed = 0x7eac4e5

// KnownTables lists the tables `liesweep data gen` writes.
var KnownTables = []KnownTable{
	{Name: "sphere3", Dim: 3, Task: "classification", Algebra: "so(3)", AlgebraDim: 3,
		Description: "x ~ N(0, I_3), label [|x| > 1.54]: rotations preserve it",
		label: func(x []float64, _ *rand.Rand) float64 {
			return b2f(norm2(x) > Sphere3Radius*Sphere3Radius)
		}},
	{Name: "lightcone4", Dim: 4, Task: "classification", Algebra: "so(1,3) ⊕ R", AlgebraDim: 7,
		Description: "x ~ N(0, I_4), label [x0² − x1² − x2² − x3² > 0]: Lorentz transformations and dilations x → λx preserve it",
		label: func(x []float64, _ *rand.Rand) float64 {
			return b2f(x[0]*x[0]-x[1]*x[1]-x[2]*x[2]-x[3]*x[3] > 0)
		}},
	{Name: "norm5", Dim: 5, Task: "regression", Algebra: "so(5)", AlgebraDim: 10,
		Description: "x ~ N(0, I_5), y = |x|² + N(0, 0.05²): rotations preserve it",
		label: func(x []float64, r *rand.Rand) float64 {
			return norm2(x) + 0.05*r.NormFloat64()
		}},
	{Name: "teacher3", Dim: 3, Task: "regression", Algebra: "none", AlgebraDim: 0,
		Description: "null control: x ~ N(0, I_3), y = a fixed random tanh network 3 → 16 → 16 → 1: no continuous symmetry",
		label:       teacher(3)},
	{Name: "teacher8", Dim: 8, Task: "regression", Algebra: "none", AlgebraDim: 0,
		Description: "null control: x ~ N(0, I_8), y = a fixed random tanh network 8 → 16 → 16 → 1: no continuous symmetry",
		label:       teacher(8)},
}

// FindKnownTable returns the known table of that name.
func FindKnownTable(name string) (KnownTable, error) {
	var names []string
	for _, k := range KnownTables {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return KnownTable{}, fmt.Errorf("no known table %q: choose one of %s", name, strings.Join(names, ", "))
}

// Generate draws rows points x ~ N(0, I_Dim) from seed and labels them.
func (k KnownTable) Generate(rows int, seed uint64) *Table {
	r := rand.New(rand.NewPCG(seed, 0xda7a))
	t := &Table{N: rows, D: k.Dim, X: make([]float64, rows*k.Dim), Y: make([]float64, rows), Target: "y"}
	for j := 0; j < k.Dim; j++ {
		t.Features = append(t.Features, "x"+strconv.Itoa(j))
	}
	for i := 0; i < rows; i++ {
		x := t.X[i*k.Dim : (i+1)*k.Dim]
		for j := range x {
			x[j] = r.NormFloat64()
		}
		t.Y[i] = k.label(x, r)
	}
	if k.Task == "classification" {
		t.Classes, t.Labels = 2, []float64{0, 1}
	}
	return t
}

// ExprTable is a regression table whose target is a formula of Gaussian
// features, y = f(x) + N(0, noise²): a known answer written for one
// experiment (the calibration of issue 20 uses it at ℓ = 2 … 16). src is
// parsed as dataset.expr is (variables x0 … x{dim-1}).
func ExprTable(src string, dim int, noise float64) (KnownTable, error) {
	e, err := ParseExpr(src, dim)
	if err != nil {
		return KnownTable{}, err
	}
	if !(noise >= 0) || math.IsInf(noise, 0) {
		return KnownTable{}, fmt.Errorf("noise %v: want a finite number ≥ 0", noise)
	}
	return KnownTable{Name: "expr", Dim: dim, Task: "regression", Algebra: "unknown",
		Description: fmt.Sprintf("x ~ N(0, I_%d), y = %s + N(0, %g²)", dim, src, noise),
		label: func(x []float64, r *rand.Rand) float64 {
			return e.Eval(x) + noise*r.NormFloat64()
		}}, nil
}

// teacher returns the label of a random tanh network R^dim → 16 → 16 → R
// with N(0, 1/fan-in) weights and N(0, 0.1²) biases, fixed by teacherSeed:
// a generic smooth function, whose level sets no continuous group
// preserves.
func teacher(dim int) func(x []float64, _ *rand.Rand) float64 {
	r := rand.New(rand.NewPCG(teacherSeed, uint64(dim)))
	sizes := []int{dim, 16, 16, 1}
	type layer struct{ w, b []float64 }
	var layers []layer
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		ly := layer{w: make([]float64, in*out), b: make([]float64, out)}
		for i := range ly.w {
			ly.w[i] = r.NormFloat64() / math.Sqrt(float64(in))
		}
		for i := range ly.b {
			ly.b[i] = 0.1 * r.NormFloat64()
		}
		layers = append(layers, ly)
	}
	return func(x []float64, _ *rand.Rand) float64 {
		h := x
		for l, ly := range layers {
			out := make([]float64, len(ly.b))
			for o := range out {
				s := ly.b[o]
				for i, v := range h {
					s += v * ly.w[i*len(out)+o]
				}
				if l+1 < len(layers) {
					s = math.Tanh(s)
				}
				out[o] = s
			}
			h = out
		}
		return h[0]
	}
}

func norm2(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WriteTable writes t in the format of name's extension: .csv (a header
// of the feature names and the target), .npz (arrays x [N, D] and y [N]),
// .npy (one array [N, D+1], the target last) or .parquet (one DOUBLE
// column per feature and the target).
func WriteTable(w io.Writer, name string, t *Table) error {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv":
		bw := bufio.NewWriter(w)
		cw := csv.NewWriter(bw)
		if err := cw.Write(append(append([]string(nil), t.Features...), t.Target)); err != nil {
			return err
		}
		rec := make([]string, t.D+1)
		for i := 0; i < t.N; i++ {
			for j := 0; j < t.D; j++ {
				rec[j] = strconv.FormatFloat(t.Row(i)[j], 'g', -1, 64)
			}
			rec[t.D] = strconv.FormatFloat(t.Y[i], 'g', -1, 64)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	case ".npz":
		zw := npz.NewWriter(w)
		x := make([]float64, 0, t.N*t.D)
		for i := 0; i < t.N; i++ {
			x = append(x, t.Row(i)...)
		}
		if err := zw.Write("x", mat.NewDense(t.N, t.D, x)); err != nil {
			return err
		}
		if err := zw.Write("y", append([]float64(nil), t.Y...)); err != nil {
			return err
		}
		return zw.Close()
	case ".npy":
		all := make([]float64, 0, t.N*(t.D+1))
		for i := 0; i < t.N; i++ {
			all = append(all, t.Row(i)...)
			all = append(all, t.Y[i])
		}
		return writeNPY(w, t.N, t.D+1, all)
	case ".parquet":
		g := parquet.Group{}
		cols := append(append([]string(nil), t.Features...), t.Target)
		for _, c := range cols {
			g[c] = parquet.Leaf(parquet.DoubleType)
		}
		pw := parquet.NewGenericWriter[map[string]any](w, parquet.NewSchema("table", g))
		rows := make([]map[string]any, 0, 1024)
		for i := 0; i < t.N; i++ {
			row := make(map[string]any, len(cols))
			for j := 0; j < t.D; j++ {
				row[cols[j]] = t.Row(i)[j]
			}
			row[t.Target] = t.Y[i]
			rows = append(rows, row)
			if len(rows) == cap(rows) || i == t.N-1 {
				if _, err := pw.Write(rows); err != nil {
					return err
				}
				rows = rows[:0]
			}
		}
		return pw.Close()
	default:
		return fmt.Errorf("write table %s: unknown extension %q: use %s", name, ext, tableExtensions)
	}
}

// writeNPY writes rows×cols float64s (C order) as a version 1.0 .npy file
// laid out as numpy.save lays it out: the header padded with spaces so
// that the data starts at a multiple of 64 bytes, which lets ReadTable
// view the array in place. (npyio's writer pads less and writes one value
// per call.)
func writeNPY(w io.Writer, rows, cols int, v []float64) error {
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	const prefix = 10 // magic (6), version (2), header length (2)
	pad := (64 - (prefix+len(dict)+1)%64) % 64
	head := make([]byte, 0, prefix+len(dict)+pad+1)
	head = append(head, "\x93NUMPY\x01\x00"...)
	head = binary.LittleEndian.AppendUint16(head, uint16(len(dict)+pad+1))
	head = append(head, dict...)
	head = append(head, strings.Repeat(" ", pad)...)
	head = append(head, '\n')
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(head); err != nil {
		return err
	}
	var b [8]byte
	for _, x := range v {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(x))
		if _, err := bw.Write(b[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}
