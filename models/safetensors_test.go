package models

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/liesweep/liesweep/sweeps"
	"testing"
)

// TestReadSafetensorsBadShape: a negative or overflowing shape is reported
// as corruption, never a panic (issue 11).
func TestReadSafetensorsBadShape(t *testing.T) {
	for _, shape := range []string{"[-3,-3]", "[2305843009213693953]", "[4294967296,4294967296]"} {
		header := `{"x":{"dtype":"F64","shape":` + shape + `,"data_offsets":[0,8]}}`
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, uint64(len(header)))
		b.WriteString(header)
		b.Write(make([]byte, 8))
		if _, _, err := ReadSafetensors(&b); !errors.Is(err, sweeps.ErrCorrupt) {
			t.Errorf("shape %s: err %v, want sweeps.ErrCorrupt", shape, err)
		}
	}
}
