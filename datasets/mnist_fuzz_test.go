package datasets

import (
	"errors"
	"testing"
)

// FuzzIDX parses arbitrary bytes as MNIST IDX image and label files: never
// a panic, a malformed file is ErrMNISTCorrupt, and what is accepted holds
// exactly as many items as the bytes do (nothing is allocated for counts
// the data does not back).
func FuzzIDX(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		imgs, err := parseIDXImages(b)
		switch {
		case err != nil && !errors.Is(err, ErrMNISTCorrupt):
			t.Errorf("images: error %v does not wrap ErrMNISTCorrupt", err)
		case err == nil && 16+len(imgs)*ImageSide*ImageSide != len(b):
			t.Errorf("images: %d images from %d bytes", len(imgs), len(b))
		}
		labels, err := parseIDXLabels(b)
		switch {
		case err != nil && !errors.Is(err, ErrMNISTCorrupt):
			t.Errorf("labels: error %v does not wrap ErrMNISTCorrupt", err)
		case err == nil && 8+len(labels) != len(b):
			t.Errorf("labels: %d labels from %d bytes", len(labels), len(b))
		}
	})
}
