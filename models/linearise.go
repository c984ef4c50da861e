package models

// GeneratorMatrices returns the generators as matrices: G_α itself for
// linear generators, and for MLP generators their linearisation at z0,
// the Jacobian (DJ_α)_ij = ∂J_α,i/∂z_j by central differences (step h
// relative to the scale of z0). linearised says which.
func (s *GeneratorSet) GeneratorMatrices(z0 []float64) (ms [][][]float64, linearised bool) {
	ms = make([][][]float64, len(s.Params))
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
