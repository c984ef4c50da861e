package models

import (
	"context"
	"math"
	"testing"

	"github.com/liesweep/liesweep/datasets"
)

// TestPixelClassifier trains φ on a few hundred real MNIST images of three
// digits and checks that it tells them apart on held-out images and that
// its probabilities are distributions (softmax for several classes, the
// sigmoid pair for two).
func TestPixelClassifier(t *testing.T) {
	m, err := datasets.LoadMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	train, val, err := m.Select([]int{0, 1, 7}, 1, 600, 200)
	if err != nil {
		t.Fatal(err)
	}
	res, err := TrainPixelClassifier(context.Background(), ClassifierConfig{Classes: 3, Epochs: 3, LR: 1e-3, Batch: 32, Seed: 1},
		train.Images, train.Labels, val.Images, val.Labels, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("φ on 600 images of 0, 1, 7: validation accuracy %.3f", res.ValAccuracy)
	if res.ValAccuracy < 0.9 {
		t.Errorf("validation accuracy %.3f, want ≥ 0.9 (chance: 0.33)", res.ValAccuracy)
	}
	blank := make([]float32, 784)
	p, err := res.Phi.Probabilities([][]float32{val.Images[0], blank})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range p {
		var s float64
		for _, v := range row {
			s += v
		}
		if len(row) != 3 || math.Abs(s-1) > 1e-9 {
			t.Errorf("probabilities %v: want 3 summing to 1", row)
		}
	}
	// Two classes: one logit, rows (P(first), P(second)).
	two, err := NewPixelClassifier(1, 2).Probabilities([][]float32{blank})
	if err != nil || len(two[0]) != 2 || math.Abs(two[0][0]+two[0][1]-1) > 1e-12 {
		t.Errorf("two-class probabilities %v, %v", two, err)
	}
}
