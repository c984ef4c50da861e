package models

import (
	"fmt"
	"math"
)

// Forward evaluates the network at one point in plain Go: the same
// arithmetic as the graph, without building one. It is for the many small
// evaluations of plotting and flow integration (a streamline is thousands
// of steps), not for training.
func (m *MLP) Forward(x []float64) []float64 {
	h := x
	layers := len(m.Params) / 2
	for i := 0; i < layers; i++ {
		w, b := m.Params[2*i].Float64s(), m.Params[2*i+1].Float64s()
		in, out := m.Sizes[i], m.Sizes[i+1]
		next := make([]float64, out)
		copy(next, b)
		for k := 0; k < in; k++ {
			hk := h[k]
			row := w[k*out : (k+1)*out]
			for j := range next {
				next[j] += hk * row[j]
			}
		}
		if i+1 < layers {
			for j, v := range next {
				switch m.Activation {
				case ActReLU:
					next[j] = max(v, 0)
				case ActTanh:
					next[j] = math.Tanh(v)
				}
			}
		}
		h = next
	}
	return h
}

// At returns g_α(z).
func (s *GeneratorSet) At(a int, z []float64) []float64 {
	if s.Kind == GenLinear {
		g := s.Params[a].Float64s()
		out := make([]float64, s.Dim)
		for i := range out {
			for j, zj := range z {
				out[i] += g[i*s.Dim+j] * zj
			}
		}
		return out
	}
	return s.mlps[a].Forward(z)
}

// Streamline integrates the flow dz/dt = g_α(z) from z0 with steps
// fourth-order Runge–Kutta steps of size eps (the paper draws its flows
// with 6000 steps of ε = 10⁻³) and returns z0 and every every-th point
// after it (the last point always included).
func (s *GeneratorSet) Streamline(a int, z0 []float64, eps float64, steps, every int) ([][]float64, error) {
	if len(z0) != s.Dim {
		return nil, fmt.Errorf("streamline: start point has %d coordinates, the generators act on R^%d", len(z0), s.Dim)
	}
	every = max(every, 1)
	z := append([]float64(nil), z0...)
	out := [][]float64{append([]float64(nil), z...)}
	tmp := make([]float64, s.Dim)
	axpy := func(dst, x []float64, alpha float64, y []float64) []float64 {
		for i := range dst {
			dst[i] = x[i] + alpha*y[i]
		}
		return dst
	}
	for n := 1; n <= steps; n++ {
		k1 := s.At(a, z)
		k2 := s.At(a, axpy(tmp, z, eps/2, k1))
		k3 := s.At(a, axpy(tmp, z, eps/2, k2))
		k4 := s.At(a, axpy(tmp, z, eps, k3))
		for i := range z {
			z[i] += eps / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
		}
		for _, v := range z {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return out, fmt.Errorf("streamline of generator %d diverged after %d steps of %g", a+1, n, eps)
			}
		}
		if n%every == 0 || n == steps {
			out = append(out, append([]float64(nil), z...))
		}
	}
	return out, nil
}

// Gradient returns ∂ψ_k/∂z at each point for every output k of the oracle,
// by central differences of step h: out[i][k] is the gradient of output k
// at pts[i]. One batched evaluation of the oracle.
func Gradient(o Oracle, pts [][]float64, h float64) ([][][]float64, error) {
	dim := o.InDim()
	probe := make([][]float64, 0, 2*dim*len(pts))
	for _, p := range pts {
		for d := 0; d < dim; d++ {
			for _, sgn := range []float64{1, -1} {
				q := append([]float64(nil), p...)
				q[d] += sgn * h
				probe = append(probe, q)
			}
		}
	}
	vals, err := EvalOracle(o, probe)
	if err != nil {
		return nil, err
	}
	out := make([][][]float64, len(pts))
	for i := range pts {
		out[i] = make([][]float64, o.OutDim())
		for k := range out[i] {
			out[i][k] = make([]float64, dim)
			for d := 0; d < dim; d++ {
				base := (i*dim + d) * 2
				out[i][k][d] = (vals[base][k] - vals[base+1][k]) / (2 * h)
			}
		}
	}
	return out, nil
}
