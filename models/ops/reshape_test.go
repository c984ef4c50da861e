package ops

import (
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestReshapeCopy checks ReshapeCopy in float32 and float64: its value is
// the input's data in the new shape (a column of a matrix, a view, too), and
// the gradient of L = Σ reshape(tanh(a))² is 2·tanh(a)·(1 − tanh²(a)).
// With gorgonia's Reshape in its place the test fails: Square's gradient
// works in place on the reshape, a view, and so overwrites tanh's output
// (here the reshape's value read after the run comes out doubled).
func TestReshapeCopy(t *testing.T) {
	a := []float64{0.3, -1.2, 0.8, 2.0, 0.1, -0.5, 1.5, -0.7, 0.05, -2.2, 0.9, 0.4}
	f64 := func(t *testing.T, v G.Value) []float64 {
		switch d := v.Data().(type) {
		case []float32:
			out := make([]float64, len(d))
			for i, x := range d {
				out[i] = float64(x)
			}
			return out
		case []float64:
			return slices.Clone(d)
		}
		t.Fatalf("data %T", v.Data())
		return nil
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			g := G.NewGraph()
			back := tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(slices.Clone(a)))
			tol := 1e-14
			if dt == tensor.Float32 {
				a32 := make([]float32, len(a))
				for i, v := range a {
					a32[i] = float32(v)
				}
				back, tol = tensor.New(tensor.WithShape(3, 4), tensor.WithBacking(a32)), 1e-6
			}
			an := G.NewMatrix(g, dt, G.WithName("a"), G.WithShape(3, 4), G.WithValue(back))
			r := G.Must(ReshapeCopy(G.Must(G.Tanh(an)), tensor.Shape{2, 3, 2}))
			col := G.Must(ReshapeCopy(G.Must(G.Slice(an, nil, G.S(1))), tensor.Shape{3, 1}))
			cost := G.Must(G.Sum(G.Must(G.Square(r))))
			if _, err := G.Grad(cost, an); err != nil {
				t.Fatal(err)
			}
			var rv, cv G.Value
			G.Read(r, &rv)
			G.Read(col, &cv)
			vm := G.NewTapeMachine(g, G.BindDualValues(an))
			defer vm.Close()
			var d []float64
			for run := 0; run < 2; run++ { // the second reuses the ops' buffers
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				if run == 0 { // each run adds to the bound gradient
					gv, err := an.Grad()
					if err != nil {
						t.Fatal(err)
					}
					d = f64(t, gv)
				}
			}
			if !rv.Shape().Eq(tensor.Shape{2, 3, 2}) || !cv.Shape().Eq(tensor.Shape{3, 1}) {
				t.Fatalf("shapes %v and %v", rv.Shape(), cv.Shape())
			}
			y, c := f64(t, rv), f64(t, cv)
			for i, v := range a {
				th := math.Tanh(v)
				if math.Abs(y[i]-th) > tol {
					t.Errorf("value %d: %g, want %g", i, y[i], th)
				}
				if want := 2 * th * (1 - th*th); math.Abs(d[i]-want) > 10*tol {
					t.Errorf("gradient %d: %g, want %g", i, d[i], want)
				}
			}
			for i, want := range []float64{a[1], a[5], a[9]} {
				if math.Abs(c[i]-want) > tol {
					t.Errorf("column value %d: %g, want %g", i, c[i], want)
				}
			}
		})
	}
}
