package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

func TestLoadSpecDefaultsAndExamples(t *testing.T) {
	s, err := loadSpec(strings.NewReader("name: t\ndataset: {kind: analytic, oracle: norm, dim: 3}\nng: [1, 3]\ngenerator: {kind: linear, orthogonality: global}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Dataset.Samples != 300 || s.Generator.Normalization != "frobenius" || len(s.LatentDims) != 1 || s.LatentDims[0] != 3 || s.Train.Epochs != 2000 || s.Verdict.ClosureRel != 0.1 {
		t.Errorf("defaults not filled: %+v", s)
	}
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		if _, err := loadSpecFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLoadSpecErrorsNameTheField(t *testing.T) {
	cases := map[string]string{
		"dataset: {kind: analytic, oracle: norm, dim: 3}\ntrain: {epoch: 5}\n":                                "epoch",
		"dataset: {kind: analytic, oracle: norm, dim: 3}\ntrain: {lr: -1}\n":                                  `"train.lr"`,
		"dataset: {kind: analytic, oracle: circle, dim: 3}\n":                                                 `"dataset.oracle"`,
		"dataset: {kind: mnist, classes: [0, 11]}\nlatent_dims: [2]\n":                                        `"dataset.classes"`,
		"dataset: {kind: analytic, oracle: norm, dim: 3}\nlatent_dims: [2]\n":                                 `"latent_dims"`,
		"dataset: {kind: analytic, oracle: norm, dim: 3}\ngenerator: {kind: mlp, normalization: frobenius}\n": `"generator.normalization"`,
		"dataset: {kind: analytic, oracle: norm, dim: 3}\nverdict: {quorum: 4}\n":                             `"verdict.quorum"`,
		"dataset: [unclosed\n": "YAML",
	}
	for src, want := range cases {
		_, err := loadSpec(strings.NewReader(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("spec %q: want an error containing %s, got %v", src, want, err)
		}
		if err != nil && want != "YAML" && !errors.Is(err, sweeps.ErrInvalidSpec) {
			t.Errorf("spec %q: error does not wrap ErrInvalidSpec: %v", src, err)
		}
	}
}
