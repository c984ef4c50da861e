package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadMNIST(t *testing.T) {
	m, err := LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.TrainImages) != 60000 || len(m.TestImages) != 10000 || len(m.TrainLabels) != 60000 {
		t.Fatalf("sizes %d/%d, want 60000/10000", len(m.TrainImages), len(m.TestImages))
	}
	// Counts of the standard training set (LeCun's distribution).
	counts := make([]int, 10)
	for _, l := range m.TrainLabels {
		counts[l]++
	}
	if counts[0] != 5923 || counts[1] != 6742 {
		t.Errorf("class counts %v, want 5923 zeros and 6742 ones", counts)
	}
	var maxPix float32
	for _, p := range m.TrainImages[0] {
		maxPix = max(maxPix, p)
	}
	if maxPix != 1 {
		t.Errorf("max pixel of image 0 = %g, want 1 (scaled from 255)", maxPix)
	}
	train, val, err := m.Select([]int{0, 1}, 1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(train.Labels) + len(val.Labels); n != 5923+6742 || len(train.Labels) != n*3/4 {
		t.Errorf("{0,1} split %d/%d, want 3:1 of %d", len(train.Labels), len(val.Labels), 5923+6742)
	}
	for _, l := range append(train.Labels, val.Labels...) {
		if l != 0 && l != 1 {
			t.Fatalf("label %d in a {0,1} subset", l)
		}
	}
	t2, _, _ := m.Select([]int{0, 1}, 1, 0, 0)
	if &t2.Images[5][0] != &train.Images[5][0] {
		t.Error("the split is not a pure function of the seed")
	}
}

func TestLoadMNISTBadFiles(t *testing.T) {
	src, err := LocateMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name := range mnistFiles {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "t10k-labels-idx1-ubyte.gz" {
			b = b[:len(b)/2] // truncated
		}
		if name != "train-labels-idx1-ubyte.gz" {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = LoadMNIST(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "train-labels-idx1-ubyte.gz")) || !strings.Contains(err.Error(), "go mod download") {
		t.Errorf("missing file: want an error naming the path and the fix, got %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(src, "train-labels-idx1-ubyte.gz"))
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), b, 0o644)
	_, err = LoadMNIST(dir)
	if err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte.gz is corrupt or truncated") {
		t.Errorf("truncated file: got %v", err)
	}
	t.Setenv("GOMODCACHE", dir)
	t.Setenv("GOPATH", dir)
	t.Setenv("HOME", dir)
	if _, err := LocateMNIST(""); err == nil {
		// /root/go/pkg/mod may still hold it; only check the error shape when absent.
		t.Skip("module cache found through the fallback path")
	} else if !errors.Is(err, ErrMNISTNotFound) {
		t.Errorf("want ErrMNISTNotFound, got %v", err)
	}
}
