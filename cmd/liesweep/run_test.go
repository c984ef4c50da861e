package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunAdaptive: `liesweep run` honours adaptive mode as a sweep on
// Temporal does. so(2) in R²: N_g = 1 passes and every larger N_g fails, so
// with patience 1 the ascent stops after N_g = 2 and never trains 3 or 4.
func TestRunAdaptive(t *testing.T) {
	if testing.Short() {
		t.Skip("trains generators")
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "so2-adaptive.yaml")
	if err := os.WriteFile(spec, []byte(`name: so2-adaptive
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 300}
ng: [1, 2, 3, 4]
seeds: [1]
adaptive: {enabled: true, patience: 1}
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 6000, lr: 1.0e-3, epsilon: 1.0e-3, batch: 0, checkpoint_every: 1000}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	cmd := newRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"run", "--spec", spec, "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("liesweep run: %v\n%s", err, stderr.String())
	}
	entries, err := os.ReadDir(filepath.Join(out, "results"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	if got := strings.Join(names, " "); got != "l2-ng1-seed1.json l2-ng2-seed1.json" {
		t.Errorf("trained %s, want N_g = 1 and 2 only (patience 1 stops after the first failed level)\n%s", got, stderr.String())
	}
	var verdict struct {
		Groups []struct {
			MaxNG   int  `json:"max_ng"`
			Bounded bool `json:"bounded"`
		} `json:"groups"`
	}
	b, err := os.ReadFile(filepath.Join(out, "verdict.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &verdict); err != nil {
		t.Fatal(err)
	}
	if len(verdict.Groups) != 1 || verdict.Groups[0].MaxNG != 1 || !verdict.Groups[0].Bounded {
		t.Errorf("verdict %s: want max N_g 1, bounded", b)
	}
	if !strings.Contains(stderr.String(), "adaptive: N_g = 2") || strings.Contains(stderr.String(), "adaptive: N_g = 3") {
		t.Errorf("progress does not show the ascent stopping at N_g = 2:\n%s", stderr.String())
	}
}
