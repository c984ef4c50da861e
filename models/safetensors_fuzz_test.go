package models

import (
	"bytes"
	"errors"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

// FuzzReadSafetensors reads arbitrary bytes as safetensors: never a panic,
// every error wraps sweeps.ErrCorrupt, and what it accepts is consistent
// (each tensor holds as many values as its shape says) and writes back.
func FuzzReadSafetensors(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, meta, err := ReadSafetensors(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, sweeps.ErrCorrupt) {
				t.Fatalf("error %v does not wrap sweeps.ErrCorrupt", err)
			}
			return
		}
		for name, d := range ts {
			if d.Shape().TotalSize() < 1 {
				// gorgonia's tensors cannot hold zero elements: Data()
				// panics, so one reaching TensorRows crashes a worker
				t.Fatalf("tensor %s: accepted shape %v with no elements", name, d.Shape())
			}
			if d.Shape().TotalSize() != d.DataSize() {
				t.Errorf("tensor %s: shape %v for %d values", name, d.Shape(), d.DataSize())
			}
		}
		var buf bytes.Buffer
		if err := WriteSafetensors(&buf, ts, meta); err != nil {
			t.Fatalf("write back: %v", err)
		}
	})
}

// FuzzDecodeCheckpoint decodes arbitrary bytes as a checkpoint of a small
// network: never a panic, every error wraps sweeps.ErrCorrupt, and an
// accepted checkpoint has the network's parameters in their shapes.
func FuzzDecodeCheckpoint(f *testing.F) {
	like := fuzzCheckpointParams()
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCheckpoint(b, "gen", like)
		if err != nil {
			if !errors.Is(err, sweeps.ErrCorrupt) {
				t.Fatalf("error %v does not wrap sweeps.ErrCorrupt", err)
			}
			return
		}
		if len(c.Params) != len(like) || c.Epoch < 1 {
			t.Fatalf("accepted %d params at epoch %d", len(c.Params), c.Epoch)
		}
		for i, p := range c.Params {
			if !p.Dense.Shape().Eq(like[i].Dense.Shape()) {
				t.Errorf("param %s: shape %v, want %v", p.Name, p.Dense.Shape(), like[i].Dense.Shape())
			}
		}
		if _, err := c.Encode(); err != nil {
			t.Fatalf("encode back: %v", err)
		}
	})
}

// fuzzCheckpointParams are the parameters of the checkpoints in the seed
// corpus: a linear generator set of two 2×2 matrices.
func fuzzCheckpointParams() Params {
	s, err := NewGeneratorSet(GenLinear, 2, 2, nil, 1)
	if err != nil {
		panic(err)
	}
	return s.Params
}
