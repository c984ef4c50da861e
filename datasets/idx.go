package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// IDXFiles are the four files of an IDX image set, in the names MNIST,
// Fashion-MNIST and KMNIST ship them under (each also read with a .gz
// suffix): training images and labels, test images and labels.
var IDXFiles = []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// ParseIDXSet decodes an IDX image set from the bytes of its four files
// (IDXFiles order), each raw or gzip-compressed: images of any one shape
// (grayscale [N, H, W] or [N, H, W, C] with C 1 or 3, sides of
// MinImageSide to MaxImageSide pixels) and labels 0–255. Pixels are
// scaled to [0, 1]. A malformed file is an
// error wrapping ErrBadData that names it and says what was wrong.
func ParseIDXSet(names []string, files [][]byte) (*MNIST, error) {
	if len(files) != 4 || len(names) != 4 {
		return nil, fmt.Errorf("idx set: want the 4 files %v, got %d", IDXFiles, len(files))
	}
	raw := make([][]byte, 4)
	for i, b := range files {
		if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, fileError(names[i], "not a readable gzip file (%v): re-download it", err)
			}
			// an image file of 70000 28×28 images is 55 MB; 1 GiB bounds a
			// decompression bomb
			d, err := io.ReadAll(io.LimitReader(bufio.NewReader(zr), 1<<30+1))
			if err != nil {
				return nil, fileError(names[i], "truncated or corrupt gzip data (%v): re-download it", err)
			}
			if len(d) > 1<<30 {
				return nil, fileError(names[i], "decompresses to more than 1 GiB: not an IDX image set liesweep can hold")
			}
			b = d
		}
		raw[i] = b
	}
	m := &MNIST{}
	var err error
	var shapes [2]ImageShape
	parse := func(i int, images bool) error {
		var e error
		if images {
			var imgs [][]float32
			imgs, shapes[i/2], e = parseIDXImageFile(raw[i])
			if i == 0 {
				m.TrainImages = imgs
			} else {
				m.TestImages = imgs
			}
		} else {
			var ls []int
			ls, e = parseIDXLabelFile(raw[i], 255)
			if i == 1 {
				m.TrainLabels = ls
			} else {
				m.TestLabels = ls
			}
		}
		if e != nil {
			msg := e.Error()
			if errors.Is(e, ErrMNISTCorrupt) {
				msg = msg[len(ErrMNISTCorrupt.Error())+2:]
			}
			return fileError(names[i], "%s (liesweep reads IDX sets of unsigned-byte images, grayscale or RGB, with labels 0–255)", msg)
		}
		return nil
	}
	for i, images := range []bool{true, false, true, false} {
		if err = parse(i, images); err != nil {
			return nil, err
		}
	}
	if shapes[0] != shapes[1] {
		return nil, fileError(names[2], "its images are %s and the training images %s: both splits must have one shape", shapes[1], shapes[0])
	}
	m.Shape = shapes[0]
	if len(m.TrainImages) != len(m.TrainLabels) {
		return nil, fileError(names[1], "%d labels for the %d images of %s", len(m.TrainLabels), len(m.TrainImages), names[0])
	}
	if len(m.TestImages) != len(m.TestLabels) {
		return nil, fileError(names[3], "%d labels for the %d images of %s", len(m.TestLabels), len(m.TestImages), names[2])
	}
	return m, nil
}
