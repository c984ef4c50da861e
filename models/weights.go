package models

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/liesweep/liesweep/sweeps"
	"gorgonia.org/tensor"
)

// This file is the one place where weights and loss histories become bytes
// and back: stage artifacts (weights.safetensors, latents.safetensors) and
// checkpoints both use it.

// EncodeTensors writes tensors and string metadata as a safetensors file.
func EncodeTensors(ts map[string]*tensor.Dense, meta map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ParamsTensors names each parameter's tensor prefix+name.
func ParamsTensors(prefix string, ps Params) map[string]*tensor.Dense {
	out := map[string]*tensor.Dense{}
	for _, p := range ps {
		out[prefix+p.Name] = p.Dense
	}
	return out
}

// LoadParams reads a safetensors file into ps (tensor prefix+name, with
// the parameter's shape) and returns its metadata. A missing or misshapen
// tensor is an error wrapping sweeps.ErrCorrupt.
func LoadParams(b []byte, prefix string, ps Params) (map[string]string, error) {
	ts, meta, err := ReadSafetensors(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		t, ok := ts[prefix+p.Name]
		if !ok || !t.Shape().Eq(p.Dense.Shape()) {
			return nil, fmt.Errorf("%w: weights lack %s%s of shape %v", sweeps.ErrCorrupt, prefix, p.Name, p.Dense.Shape())
		}
		p.Dense = t
	}
	return meta, nil
}

// RowsTensor packs equal-length rows into an (n, cols) tensor.
func RowsTensor(rows [][]float64) *tensor.Dense {
	cols := 1
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	flat := make([]float64, 0, len(rows)*cols)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return tensor.New(tensor.WithShape(len(rows), cols), tensor.WithBacking(flat))
}

// TensorRows is RowsTensor's inverse (rows share the tensor's backing).
func TensorRows(t *tensor.Dense) [][]float64 {
	d := t.Data().([]float64)
	cols := t.Shape()[len(t.Shape())-1]
	out := make([][]float64, len(d)/cols)
	for i := range out {
		out[i] = d[i*cols : (i+1)*cols]
	}
	return out
}

// IntsTensor stores integers (labels) as a float64 vector.
func IntsTensor(v []int) *tensor.Dense {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(f))
}

// TensorInts is IntsTensor's inverse.
func TensorInts(t *tensor.Dense) []int {
	d := t.Data().([]float64)
	out := make([]int, len(d))
	for i, x := range d {
		out[i] = int(x)
	}
	return out
}

// EncodeHistory is the one format of a per-epoch loss history: a JSON
// array of {"term": value} objects, one per epoch.
func EncodeHistory(h []map[string]float64) string {
	if h == nil {
		h = []map[string]float64{}
	}
	b, _ := json.Marshal(h)
	return string(b)
}

// DecodeHistory reads EncodeHistory's format, and the "k=v,…;…" form
// checkpoints used before it, so older checkpoints still resume.
func DecodeHistory(s string) ([]map[string]float64, error) {
	if s == "" {
		return nil, nil
	}
	if s[0] != '[' {
		return decodeLosses(s)
	}
	var h []map[string]float64
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, fmt.Errorf("%w: loss history: %v", sweeps.ErrCorrupt, err)
	}
	return h, nil
}
