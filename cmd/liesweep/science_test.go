package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

// runTrain runs `liesweep train` as a user would and returns result.json.
func runTrain(t *testing.T, spec string, ng, seed int, extra ...string) *sweeps.TrialResult {
	t.Helper()
	out := t.TempDir()
	cmd := newRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"train", "--spec", spec, "--ng", fmt.Sprint(ng), "--seed", fmt.Sprint(seed), "--out", out}, extra...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("liesweep train %s N_g=%d seed=%d: %v\n%s", spec, ng, seed, err, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r sweeps.TrialResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s N_g=%d seed=%d passed=%v failed_on=%v metrics=%+v algebra=%q", filepath.Base(spec), ng, seed, r.Passed, r.FailedOn, r.Metrics, r.Algebra.Description)
	return &r
}

// TestScienceAnalytic reproduces DESIGN §1.5 on the analytic oracles with
// the example specs and their seeds: so(2), so(3) (passes at 1 and 3,
// fails at 2 and 4) and so(1,3) (N_g = 6 with an indefinite Killing form).
func TestScienceAnalytic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains ~20 trials of 6000 epochs")
	}
	cases := []struct {
		spec   string
		expect map[int]bool // N_g → passes
	}{
		{"../../examples/so2.yaml", map[int]bool{1: true, 2: false}},
		{"../../examples/so3.yaml", map[int]bool{1: true, 2: false, 3: true, 4: false}},
		{"../../examples/lorentz4.yaml", map[int]bool{6: true}},
	}
	for _, c := range cases {
		spec, err := loadSpecFile(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, ng := range spec.NG {
			for _, seed := range spec.Seeds {
				t.Run(fmt.Sprintf("%s/ng=%d/seed=%d", spec.Name, ng, seed), func(t *testing.T) {
					t.Parallel()
					r := runTrain(t, c.spec, ng, seed)
					if r.Passed != c.expect[ng] {
						t.Errorf("passed = %v, want %v (failed_on %v, metrics %+v)", r.Passed, c.expect[ng], r.FailedOn, r.Metrics)
					}
					if !r.Passed {
						return
					}
					switch {
					case spec.Name == "so3" && ng == 3:
						if r.Algebra.Abelian || r.Algebra.KillingSignature != (sweeps.Signature{Neg: 3}) {
							t.Errorf("so(3): algebra %+v, want non-abelian with negative definite Killing form", r.Algebra)
						}
					case spec.Name == "lorentz4":
						if s := r.Algebra.KillingSignature; s.Pos == 0 || s.Neg == 0 {
							t.Errorf("so(1,3): Killing signature %+v, want indefinite", s)
						}
					}
				})
			}
		}
	}
}

// TestScienceMNIST01 reproduces the paper's §5.1 on the real MNIST zeros and
// ones at ℓ = 2 (Fig. 6): the oracle separates them (≥ 99% validation
// accuracy), one invariant flow exists, two do not. It trains on a 3000-image
// slice of the training split to stay within a couple of minutes; the
// example spec runs the full split.
func TestScienceMNIST01(t *testing.T) {
	if testing.Short() {
		t.Skip("trains an autoencoder on MNIST")
	}
	src, err := os.ReadFile("../../examples/mnist01_l2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(string(src), "dataset: {kind: mnist, classes: [0, 1]}", "dataset: {kind: mnist, classes: [0, 1], max_train: 3000, max_val: 1000}", 1)
	spec = strings.Replace(spec, "max_points: 2000, eval_points: 2000", "max_points: 1000, eval_points: 1000", 1)
	if spec == string(src) {
		t.Fatal("could not shrink the example spec")
	}
	path := filepath.Join(t.TempDir(), "mnist01_l2_small.yaml")
	os.WriteFile(path, []byte(spec), 0o644)
	var results []*sweeps.TrialResult
	for _, ng := range []int{1, 2} {
		results = append(results, runTrain(t, path, ng, 1))
	}
	if acc := *results[0].OracleAccuracy; acc < 0.99 {
		t.Errorf("oracle validation accuracy %.4f, want ≥ 0.99", acc)
	}
	if !results[0].Passed {
		t.Errorf("N_g = 1 failed on %v: %+v", results[0].FailedOn, results[0].Metrics)
	}
	if results[1].Passed {
		t.Errorf("N_g = 2 passed (%+v); a 2-D latent space with a one-logit oracle has room for one flow only", results[1].Metrics)
	}

}
