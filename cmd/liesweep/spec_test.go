package main

import (
	"errors"
	"fmt"
	"io"
	"os"
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

// TestLoadSpecStrict: numbers in a spec are what they say. Each value that
// a weakly typed decoder would have truncated, wrapped or converted is an
// invalid spec naming the key path and the line.
func TestLoadSpecStrict(t *testing.T) {
	const base = "dataset: {kind: analytic, oracle: norm, dim: 3}\n"
	cases := []struct {
		name, src, field, text string
	}{
		{"fraction for an int", base + "train: {epochs: 20.7}\n", "train.epochs", "line 2: must be an integer, got the number 20.7"},
		{"1e30 for an int", base + "train: {epochs: 1e30}\n", "train.epochs", "must be an integer"},
		{"bool for an int", base + "train: {epochs: true}\n", "train.epochs", "got the boolean true"},
		{"string for an int", base + "train: {epochs: \"10\"}\n", "train.epochs", `got the string "10"`},
		{"int out of range", base + "train: {epochs: 99999999999999999999}\n", "train.epochs", "must be an integer"},
		{"float in a list", base + "seeds: [1, 2.5]\n", "seeds[1]", "must be an integer"},
		{"scalar for a list", base + "seeds: 1\n", "seeds", "must be a list"},
		{"empty axis", base + "train:\n  lr: []\n", "train.lr", "line 3: a swept key needs at least one value"},
		{"infinite float", base + "train: {lr: .inf}\n", "train.lr", "must be a finite number"},
		{"NaN float", base + "verdict: {inv_ratio: .nan}\n", "verdict.inv_ratio", "must be a finite number"},
		{"bool for a float", base + "train: {lr: false}\n", "train.lr", "must be a number"},
		{"number for a string", base + "generator: {kind: 1}\n", "generator.kind", "must be a string"},
		{"number for a bool", base + "adaptive: {enabled: 1}\n", "adaptive.enabled", "must be true or false"},
		{"list for a section", base + "train: [1]\n", "train", "must be a mapping"},
		{"unknown top-level key", base + "seed: [1]\n", "seed", `unknown key "seed" (did you mean "seeds"?)`},
		{"unknown nested key", base + "train: {epoch: 5}\n", "train.epoch", `unknown key "epoch" in train (did you mean "epochs"?)`},
		{"wrong case", base + "NG: [1]\n", "NG", `(did you mean "ng"?)`},
		{"key twice", base + "ng: [1]\nng: [2]\n", "ng", "given twice"},
		{"not a mapping", "- 1\n- 2\n", "(top level)", "must be a mapping"},
		{"two documents", base + "---\nng: [1]\n", "", "one YAML document"},
		{"negative seed", base + "seeds: [-1]\n", "seeds", "≥ 0"},
		{"expression", "dataset: {kind: analytic, oracle: expr, dim: 3, expr: [\"x0^2.5 + abs(x1) + x3\"]}\n", "dataset.expr[0]", "not an integer"},
		{"NaN constant", "dataset: {kind: analytic, oracle: expr, dim: 2, expr: [\"x1\", \"sqrt(-1)+x0\"]}\n", "dataset.expr[1]", "not finite"},
		{"anchored unknown key", "a: &a {epochs: 1}\n", "a", "unknown key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadSpec(strings.NewReader(c.src))
			if !errors.Is(err, sweeps.ErrInvalidSpec) {
				t.Fatalf("error %v does not wrap ErrInvalidSpec", err)
			}
			if c.field != "" && !strings.Contains(err.Error(), `"`+c.field+`"`) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("error\n%v\nwant field %q and %q", err, c.field, c.text)
			}
		})
	}
}

// TestLoadSpecExprErrorsAreFields: both Validate's problems and the
// expressions' are reported at once, each expression as a *FieldError.
func TestLoadSpecExprErrorsAreFields(t *testing.T) {
	_, err := loadSpec(strings.NewReader("dataset: {kind: analytic, oracle: expr, dim: 3, expr: [\"x0^2\", \"x3\"]}\ntrain: {lr: -1}\n"))
	var fe *sweeps.FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `"train.lr"`) || !strings.Contains(err.Error(), `"dataset.expr[1]"`) {
		t.Fatalf("want train.lr and dataset.expr[1] reported, got %v", err)
	}
	if strings.Count(err.Error(), "invalid spec") != 1 {
		t.Errorf("the header repeats:\n%v", err)
	}
	for _, src := range []string{"-1 + x0^2", "x0^2*-2", "sqrt(4)+x1", "x0^64 - x2^-3"} {
		if _, err := loadSpec(strings.NewReader("dataset: {kind: analytic, oracle: expr, dim: 3, expr: [\"" + src + "\"]}\n")); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestLoadSpecYAMLFeatures: what YAML offers beyond flat keys still works,
// within bounds: null keeps the default, merge keys merge (explicit keys
// win), and aliases cannot blow a small document up.
func TestLoadSpecYAMLFeatures(t *testing.T) {
	s, err := loadSpec(strings.NewReader(`dataset: {kind: analytic, oracle: norm, dim: 3}
train:
  <<: {epochs: 100, lr: 0.5}
  lr: 0.25
  batch: ~
seeds: &s [4, 5]
verdict: {quorum: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Epochs != 100 || s.Train.LR != 0.25 || s.Train.Batch != 0 || s.Train.EvalPoints != 2000 || len(s.Seeds) != 2 {
		t.Errorf("train %+v seeds %v", s.Train, s.Seeds)
	}
	// a billion laughs through merge keys: 10 levels of 10 merges each
	var b strings.Builder
	b.WriteString("l0: &l0 {epochs: 1}\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "l%d: &l%d {<<: [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("train: *l10\n")
	if _, err := loadSpec(strings.NewReader(b.String())); !errors.Is(err, sweeps.ErrInvalidSpec) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("merge bomb: %v", err)
	}
	// a merge of itself
	if _, err := loadSpec(strings.NewReader("train: &t {<<: *t}\n")); err == nil {
		t.Error("a self-referential merge was accepted")
	}
}

// TestLoadSpecSizeLimit: an endless input (`liesweep validate /dev/zero`)
// is refused after MaxSpecBytes+1 bytes.
func TestLoadSpecSizeLimit(t *testing.T) {
	r := &countingReader{r: zeros{}}
	_, err := loadSpec(r)
	if !errors.Is(err, sweeps.ErrInvalidSpec) || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Errorf("endless input: %v", err)
	}
	if r.n > MaxSpecBytes+1 {
		t.Errorf("read %d bytes of an endless input, want at most %d", r.n, MaxSpecBytes+1)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := loadSpecFile("/dev/zero"); !errors.Is(err, sweeps.ErrInvalidSpec) {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestSweptKeys: a list given to a sweepable key is an axis; a key given
// explicitly overrides a swept list a merge key brought in; a list for a
// key that cannot be swept is an error naming it.
func TestSweptKeys(t *testing.T) {
	s, err := parseSpec([]byte("dataset: {kind: analytic, oracle: norm, dim: 2}\ntrain: {lr: [1.0e-3, 1.0e-2], h_ortho: {values: [0.5, 1]}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Axes) != 2 || s.Axes[0].Key != "train.lr" || s.Axes[1].Key != "train.h_ortho" || s.Train.LR != 1e-3 {
		t.Errorf("axes %+v, lr %v", s.Axes, s.Train.LR)
	}
	s, err = parseSpec([]byte("dataset: {kind: analytic, oracle: norm, dim: 2}\ntrain:\n  <<: {epochs: 100, lr: [1.0e-3, 1.0e-2]}\n  lr: 3.0e-3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Axes) != 0 || s.Train.LR != 3e-3 || s.Train.Epochs != 100 {
		t.Errorf("the explicit lr did not override the merged list: axes %+v, lr %v, epochs %d", s.Axes, s.Train.LR, s.Train.Epochs)
	}
	if _, err := parseSpec([]byte("dataset: {kind: analytic, oracle: norm, dim: [2, 3]}\n")); err == nil || !strings.Contains(err.Error(), "dataset.dim") {
		t.Errorf("a list for dataset.dim: %v", err)
	}
}
