package datasets

import (
	"fmt"
	"io"
	"os"
	"unsafe"
)

// newFloats returns a zeroed slice of n float64s whose memory, when large,
// is advised into huge pages before its first write (adviseHuge).
func newFloats(n int) []float64 {
	s := make([]float64, n)
	if n > 0 {
		adviseHuge(unsafe.Pointer(&s[0]), n*8)
	}
	return s
}

// ReadFile reads a whole data file as os.ReadFile does, into a buffer
// advised into huge pages when large (see adviseHuge), after checking it
// against the size bound max (0: DefaultMaxTableBytes).
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if max <= 0 {
		max = DefaultMaxTableBytes
	}
	if err := CheckTableSize(path, fi.Size(), max); err != nil {
		return nil, err
	}
	b := make([]byte, fi.Size())
	if len(b) > 0 {
		adviseHuge(unsafe.Pointer(&b[0]), len(b))
	}
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}
