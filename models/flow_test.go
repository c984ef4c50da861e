package models

import (
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
	G "gorgonia.org/gorgonia"
)

// The plain-Go forward passes used for plotting agree with the graphs.
func TestForwardMatchesGraph(t *testing.T) {
	pts := datasets.GaussianSamples(7, 3, 5, 0)
	o := NewMLPOracle(3, 3, 4, PreserveLogits)
	want, err := EvalOracle(o, pts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewGeneratorSet(GenMLP, 3, 2, []int{16, 16}, 9)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := evalGraph(func(g *G.ExprGraph) ([]*G.Node, error) {
		b := newBinder(g)
		x := matrixNode(g, "z", pts)
		f0, err := s.apply(b, 0, x)
		if err != nil {
			return nil, err
		}
		f1, err := s.apply(b, 1, x)
		return []*G.Node{f0, f1}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pts {
		for k, v := range o.Net.Forward(p) {
			if math.Abs(v-want[i][k]) > 1e-12 {
				t.Fatalf("oracle point %d output %d: forward %g, graph %g", i, k, v, want[i][k])
			}
		}
		for a := 0; a < 2; a++ {
			for d, v := range s.At(a, p) {
				if g := fields[a][i*3+d]; math.Abs(v-g) > 1e-12 {
					t.Fatalf("generator %d point %d coord %d: forward %g, graph %g", a, i, d, v, g)
				}
			}
		}
	}
}

// A rotation generator's streamline is a circle: after time π/2 from
// (1, 0) it reaches (0, 1).
func TestStreamlineOfRotation(t *testing.T) {
	s, err := NewGeneratorSet(GenLinear, 2, 1, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(s.Params[0].Float64s(), []float64{0, -1, 1, 0})
	steps := 1571
	eps := math.Pi / 2 / float64(steps)
	line, err := s.Streamline(0, []float64{1, 0}, eps, steps, 100)
	if err != nil {
		t.Fatal(err)
	}
	end := line[len(line)-1]
	if math.Abs(end[0]) > 1e-9 || math.Abs(end[1]-1) > 1e-9 {
		t.Errorf("end of the quarter turn %v, want (0, 1)", end)
	}
	if len(line) != 17 {
		t.Errorf("%d points kept, want 17 (start, every 100th, last)", len(line))
	}
	for _, p := range line {
		if r := math.Hypot(p[0], p[1]); math.Abs(r-1) > 1e-9 {
			t.Fatalf("point %v off the unit circle (r = %g)", p, r)
		}
	}
}

func TestGradientOfNorm(t *testing.T) {
	ex, err := datasets.AnalyticOracle("norm", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	pts := [][]float64{{1, 2, 3}, {-0.5, 0.1, 2}}
	g, err := Gradient(NewExprOracle(3, ex), pts, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pts {
		for d := range p {
			if math.Abs(g[i][0][d]-2*p[d]) > 1e-6 {
				t.Errorf("∂‖z‖²/∂z_%d at %v = %g, want %g", d, p, g[i][0][d], 2*p[d])
			}
		}
	}
}
