package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
)

// imagesObject is the store key of file i of an IDX set staged under
// prefix (data/<sha256>).
func imagesObject(prefix string, i int) string {
	return prefix + "/" + datasets.IDXFiles[i]
}

// CheckImages decodes an IDX image set from the bytes of its four files
// (datasets.IDXFiles order; names are where they came from, for errors)
// and checks the spec's classes against its labels, before anything
// trains. It sets dataset.digest: the SHA-256 of the four files' digests.
func CheckImages(spec *sweeps.Spec, names []string, files [][]byte) (*datasets.MNIST, error) {
	m, err := datasets.ParseIDXSet(names, files)
	if err != nil {
		return nil, err
	}
	count := map[int]int{}
	for _, l := range m.TrainLabels {
		count[l]++
	}
	for _, c := range spec.Dataset.Classes {
		if count[c] == 0 {
			return nil, &datasets.DataError{File: names[1], Row: -1, Msg: fmt.Sprintf("no training image has label %d, which dataset.classes lists: list only labels the set has", c)}
		}
	}
	var digests []string
	for _, f := range files {
		digests = append(digests, sweeps.Digest(f))
	}
	spec.Dataset.Digest = sweeps.Digest([]byte(strings.Join(digests, "\n")))
	spec.Dataset.ImageShape = nil
	if sh := m.ImageShape(); sh != datasets.MNISTShape {
		spec.Dataset.ImageShape = []int{sh.C, sh.H, sh.W}
	}
	return m, nil
}

// PutImages puts a checked IDX set's files into the store under
// data/<digest>/ (each once) and sets dataset.object to that prefix.
func PutImages(ctx context.Context, store sweeps.ArtifactStore, spec *sweeps.Spec, files [][]byte) error {
	prefix := "data/" + spec.Dataset.Digest
	for i, f := range files {
		var obj string
		if err := PutInput(ctx, store, &obj, spec.Dataset.Digest, datasets.IDXFiles[i], f); err != nil {
			return err
		}
		if obj != imagesObject(prefix, i) {
			return fmt.Errorf("put images: stored %s, want %s", obj, imagesObject(prefix, i))
		}
	}
	spec.Dataset.Object = prefix
	return nil
}

// imageSet returns the spec's images: the MNIST files, or an IDX set read
// from the store (once per runner and digest).
func (r *Runner) imageSet(ctx context.Context, spec *sweeps.Spec) (*datasets.MNIST, error) {
	d := spec.Dataset
	if d.Kind != "images" {
		return r.loadMNIST(d.MNISTDir)
	}
	if d.Object == "" || d.Digest == "" {
		return nil, fmt.Errorf("%w: the image set %q was not staged: run it with liesweep run or sweep start, which put its files into the store", sweeps.ErrInvalidSpec, d.Path)
	}
	// One download per digest (cachedLoad).
	return cachedLoad(ctx, r, "images/"+d.Digest, func(ctx context.Context) (*datasets.MNIST, error) { return r.downloadImages(ctx, spec) })
}

// downloadImages reads and checks a staged IDX set from the store.
func (r *Runner) downloadImages(ctx context.Context, spec *sweeps.Spec) (*datasets.MNIST, error) {
	d := spec.Dataset
	files := make([][]byte, 4)
	names := make([]string, 4)
	for i := range files {
		names[i] = imagesObject(d.Object, i)
		b, err := r.Store.Get(ctx, names[i])
		if errors.Is(err, sweeps.ErrNotFound) {
			return nil, fmt.Errorf("%w: the image set's file is not in the store at %s (start the sweep again)", sweeps.ErrInvalidSpec, names[i])
		}
		if err != nil {
			return nil, fmt.Errorf("read images %s: %w", names[i], err)
		}
		files[i] = b
	}
	check := *spec
	m, err := CheckImages(&check, names, files)
	if err != nil {
		return nil, err
	}
	if check.Dataset.Digest != d.Digest {
		return nil, fmt.Errorf("read images %s: %w: SHA-256 %s, the sweep recorded %s", d.Object, sweeps.ErrCorrupt, check.Dataset.Digest, d.Digest)
	}
	return m, nil
}
