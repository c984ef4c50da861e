package models

import (
	"fmt"

	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/sweeps"
)

// GeneratorMatrices returns the generators as matrices: G_α itself for
// linear generators, and for MLP generators their linearisation at z0,
// the Jacobian (DJ_α)_ij = ∂J_α,i/∂z_j by central differences (step h
// relative to the scale of z0). linearised says which.
func (s *GeneratorSet) GeneratorMatrices(z0 []float64) (ms [][][]float64, linearised bool) {
	ms = make([][][]float64, s.N)
	if s.Kind == GenLinear {
		for a := range ms {
			ms[a] = s.Matrix(a)
		}
		return ms, false
	}
	const h = 1e-4
	for a := range s.mlps {
		m := make([][]float64, s.Dim)
		for i := range m {
			m[i] = make([]float64, s.Dim)
		}
		for j := 0; j < s.Dim; j++ {
			zp := append([]float64(nil), z0...)
			zm := append([]float64(nil), z0...)
			zp[j] += h
			zm[j] -= h
			fp, fm := s.At(a, zp), s.At(a, zm)
			for i := range m {
				m[i][j] = (fp[i] - fm[i]) / (2 * h)
			}
		}
		ms[a] = m
	}
	return ms, true
}

// Mean returns the mean of the points (the point MLP generators are
// linearised at).
func Mean(pts [][]float64) []float64 {
	if len(pts) == 0 {
		return nil
	}
	out := make([]float64, len(pts[0]))
	for _, p := range pts {
		for i, v := range p {
			out[i] += v
		}
	}
	for i := range out {
		out[i] /= float64(len(pts))
	}
	return out
}

// Sparse returns the generators in their sparsest basis (lie.SparseBasis):
// the matrices of linear generators, or the Jacobians of MLP generators at
// the mean of the points, marked as linearised. Its structure constants
// are in the fields' bracket convention, [J_α, J_β] = −[M_α, M_β] z for
// linear fields, like the rest of a trial's result.
func (s *GeneratorSet) Sparse(points [][]float64) (*sweeps.SparseBasis, error) {
	z0 := Mean(points)
	if s.Kind != GenLinear && z0 == nil {
		return nil, fmt.Errorf("sparse basis: no points to linearise the generators at")
	}
	ms, lin := s.GeneratorMatrices(z0)
	basis, rot, a, err := lie.SparseBasis(ms)
	if err != nil {
		return nil, err
	}
	for x := range a {
		for y := range a[x] {
			for c := range a[x][y] {
				a[x][y][c] = -a[x][y][c]
			}
		}
	}
	sb := &sweeps.SparseBasis{Matrices: basis, StructureConstants: a, Rotation: rot, Linearised: lin}
	if lin {
		sb.Point = z0
	}
	return sb, nil
}

// GeneratorMatricesIn returns Σ_β r[β] G_β for linear generators: the
// generator with coefficients r over the learned ones (unsnapped).
func (s *GeneratorSet) GeneratorMatricesIn(r []float64) [][]float64 {
	out := make([][]float64, s.Dim)
	for i := range out {
		out[i] = make([]float64, s.Dim)
	}
	for b, c := range r {
		for i, row := range s.Matrix(b) {
			for j, v := range row {
				out[i][j] += c * v
			}
		}
	}
	return out
}
