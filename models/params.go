// Package models holds liesweep's networks and the mathematics of the paper
// "Oracle-Preserving Latent Flows": the conv autoencoder, the oracle ψ, the
// symmetry generators, the losses of eqs. 10, 11 and 14, the Lie brackets and
// structure constants of eqs. 15 and 16, and the classification of the
// algebra they span. It is built on gorgonia; no gorgonia type leaves the
// package's exported API except through Param, and through GraphOracle and
// GradCheck, with which packages under models (models/onnx) build an oracle
// into the generators' graph and check its gradients.
//
// models knows nothing of Temporal, S3 or configuration files.
package models

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// Param is one named, trainable tensor. Its Dense is the storage the graph
// reads and the optimizer writes in place.
type Param struct {
	Name  string
	Dense *tensor.Dense
}

// Float64s returns the values of a float64 parameter. It panics if the
// parameter is float32.
func (p *Param) Float64s() []float64 { return p.Dense.Data().([]float64) }

// Shape returns the parameter's shape.
func (p *Param) Shape() []int { return []int(p.Dense.Shape().Clone()) }

// Params is an ordered list of parameters.
type Params []*Param

// ByName returns the parameter called name, or nil.
func (ps Params) ByName(name string) *Param {
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Clone returns a deep copy of the parameters.
func (ps Params) Clone() Params {
	out := make(Params, len(ps))
	for i, p := range ps {
		out[i] = &Param{Name: p.Name, Dense: p.Dense.Clone().(*tensor.Dense)}
	}
	return out
}

// CopyFrom overwrites the values of ps with those of src, matched by name.
func (ps Params) CopyFrom(src Params) error {
	for _, p := range ps {
		q := src.ByName(p.Name)
		if q == nil {
			return fmt.Errorf("copy parameters: %s is missing", p.Name)
		}
		if !p.Dense.Shape().Eq(q.Dense.Shape()) || p.Dense.Dtype() != q.Dense.Dtype() {
			return fmt.Errorf("copy parameters: %s has shape %v %v, want %v %v", p.Name, q.Dense.Shape(), q.Dense.Dtype(), p.Dense.Shape(), p.Dense.Dtype())
		}
		copyData(p.Dense, q.Dense)
	}
	return nil
}

func copyData(dst, src *tensor.Dense) {
	switch d := dst.Data().(type) {
	case []float64:
		copy(d, src.Data().([]float64))
	case []float32:
		copy(d, src.Data().([]float32))
	default:
		panic(fmt.Sprintf("models: unsupported dtype %T", d))
	}
}

// initRNG returns the random source for a parameter: a PCG seeded with the
// trial seed and a hash of the parameter's name, so initial weights depend
// on nothing else (gorgonia's own initialisers are seeded from the clock).
func initRNG(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// newUniform makes a parameter with entries drawn from U(−bound, bound),
// PyTorch's default for linear and conv layers with bound = 1/√fan_in.
func newUniform(seed uint64, name string, dt tensor.Dtype, bound float64, shape ...int) *Param {
	r := initRNG(seed, name)
	n := 1
	for _, s := range shape {
		n *= s
	}
	var backing any
	switch dt {
	case tensor.Float64:
		v := make([]float64, n)
		for i := range v {
			v[i] = (2*r.Float64() - 1) * bound
		}
		backing = v
	case tensor.Float32:
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*r.Float64() - 1) * bound)
		}
		backing = v
	default:
		panic(fmt.Sprintf("models: unsupported dtype %v", dt))
	}
	return &Param{Name: name, Dense: tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing))}
}

// newDense wraps data as a tensor of the given shape.
func newDense(data []float64, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
