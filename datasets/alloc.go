package datasets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
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
	if err := readAtParallel(f, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// parallelReadMin is the size from which ReadFile reads the parts of a
// file in parallel: the kernel's copy out of the page cache runs on the
// reading core, so a cached file of 128 MiB reads in about half the time
// on two cores.
const parallelReadMin = 16 << 20

// readAtParallel fills b from the start of f, in GOMAXPROCS parts read at
// once when b is large.
func readAtParallel(f *os.File, b []byte) error {
	parts := min(runtime.GOMAXPROCS(0), len(b)/parallelReadMin+1)
	if parts <= 1 {
		_, err := io.ReadFull(f, b)
		return err
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := len(b)*i/parts, len(b)*(i+1)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.ReadAt(b[lo:hi], int64(lo))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
