package models

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/liesweep/liesweep/sweeps"
	"io"
	"math"
	"sort"

	"gorgonia.org/tensor"
)

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// WriteSafetensors writes tensors (float32 or float64) and string metadata in
// the safetensors format: an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw
// little-endian data. PyTorch's `safetensors.torch.load_file` reads it.
func WriteSafetensors(w io.Writer, tensors map[string]*tensor.Dense, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	var data bytes.Buffer
	for _, n := range names {
		t := tensors[n]
		start := int64(data.Len())
		var dt string
		switch d := t.Data().(type) {
		case []float64:
			dt = "F64"
			for _, v := range d {
				binary.Write(&data, binary.LittleEndian, math.Float64bits(v))
			}
		case []float32:
			dt = "F32"
			for _, v := range d {
				binary.Write(&data, binary.LittleEndian, math.Float32bits(v))
			}
		default:
			return fmt.Errorf("write safetensors: tensor %s has unsupported type %T", n, d)
		}
		header[n] = stEntry{DType: dt, Shape: []int(t.Shape()), Offsets: [2]int64{start, int64(data.Len())}}
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(hb))); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	_, err = w.Write(data.Bytes())
	return err
}

// ReadSafetensors decodes a file written by WriteSafetensors (or by PyTorch
// with F32/F64 tensors). Malformed input is an error wrapping sweeps.ErrCorrupt.
func ReadSafetensors(r io.Reader) (map[string]*tensor.Dense, map[string]string, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	if len(raw) < 8 {
		return nil, nil, fmt.Errorf("%w: %d bytes, too short for a safetensors header", sweeps.ErrCorrupt, len(raw))
	}
	hl := binary.LittleEndian.Uint64(raw)
	if hl > uint64(len(raw)-8) {
		return nil, nil, fmt.Errorf("%w: header length %d exceeds file size %d", sweeps.ErrCorrupt, hl, len(raw))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+hl], &header); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", sweeps.ErrCorrupt, err)
	}
	body := raw[8+hl:]
	meta := map[string]string{}
	out := map[string]*tensor.Dense{}
	for name, msg := range header {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("%w: metadata: %v", sweeps.ErrCorrupt, err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %s: %v", sweeps.ErrCorrupt, name, err)
		}
		// Every dimension must be positive and the element count must fit
		// the data: a negative or overflowing shape in a file whose digest
		// matches is corruption to report, not a panic.
		n := 1
		for _, s := range e.Shape {
			if s < 1 || n > len(body)/s {
				return nil, nil, fmt.Errorf("%w: tensor %s: shape %v does not fit %d bytes of data", sweeps.ErrCorrupt, name, e.Shape, len(body))
			}
			n *= s
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(body)) {
			return nil, nil, fmt.Errorf("%w: tensor %s: byte range [%d, %d) outside data of %d bytes", sweeps.ErrCorrupt, name, lo, hi, len(body))
		}
		b := body[lo:hi]
		shape := e.Shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		switch e.DType {
		case "F64":
			if len(b) != 8*n {
				return nil, nil, fmt.Errorf("%w: tensor %s: %d bytes for %d float64s", sweeps.ErrCorrupt, name, len(b), n)
			}
			v := make([]float64, n)
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
			out[name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		case "F32":
			if len(b) != 4*n {
				return nil, nil, fmt.Errorf("%w: tensor %s: %d bytes for %d float32s", sweeps.ErrCorrupt, name, len(b), n)
			}
			v := make([]float32, n)
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			out[name] = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		default:
			return nil, nil, fmt.Errorf("%w: tensor %s: unsupported dtype %s", sweeps.ErrCorrupt, name, e.DType)
		}
	}
	return out, meta, nil
}
