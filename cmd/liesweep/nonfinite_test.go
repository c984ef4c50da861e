package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunNonFiniteMetric: oracles and steps whose inv_ratio is 0/0 — a
// constant ψ ("x0 - x0"), and a step ε = 1e-20 too small to change ψ in
// float64 — give a failed trial with inv_ratio null and a note that says
// why, and a verdict naming it; `liesweep run` used to panic with
// "json: unsupported value: +Inf" (exit 2) and retry the analysis on
// Temporal for minutes.
func TestRunNonFiniteMetric(t *testing.T) {
	for _, c := range []struct{ name, expr, eps string }{
		{"constant", "x0 - x0", "1.0e-3"},
		{"tiny-step", "x0^2 + x1^2", "1.0e-20"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := filepath.Join(dir, "spec.yaml")
			if err := os.WriteFile(spec, []byte(fmt.Sprintf(`name: nonfinite
dataset: {kind: analytic, oracle: expr, expr: [%q], dim: 2, samples: 100}
ng: [1]
seeds: [1]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 20, lr: 1.0e-3, epsilon: %s, batch: 0, checkpoint_every: 1000}
`, c.expr, c.eps)), 0o644); err != nil {
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
			b, err := os.ReadFile(filepath.Join(out, "results", "l2-ng1-seed1.json"))
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Passed   bool                `json:"passed"`
				FailedOn []string            `json:"failed_on"`
				Metrics  map[string]*float64 `json:"metrics"`
				Notes    []string            `json:"notes"`
			}
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			if res.Passed || res.Metrics["inv_ratio"] != nil || !strings.Contains(strings.Join(res.FailedOn, " "), "inv_ratio") {
				t.Errorf("result: passed %v, inv_ratio %v, failed on %v; want a failure on a null inv_ratio", res.Passed, res.Metrics["inv_ratio"], res.FailedOn)
			}
			if !strings.Contains(strings.Join(res.Notes, " "), "inv_ratio is undefined") {
				t.Errorf("notes %q do not say why inv_ratio is missing", res.Notes)
			}
			if !strings.Contains(stdout.String(), "inv_ratio not finite") {
				t.Errorf("the verdict does not name the non-finite metric:\n%s", stdout.String())
			}
		})
	}
}

// TestRunRejudgeStoresVerdict: running a finished sweep again with other
// verdict thresholds re-judges its stored trials, and result.json says
// what the printout says (it kept the old judgement before).
func TestRunRejudgeStoresVerdict(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	run := func(invRatio string) (passed bool, thr float64) {
		spec := filepath.Join(dir, "spec.yaml")
		if err := os.WriteFile(spec, []byte(fmt.Sprintf(`name: rejudge
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 100}
ng: [1]
seeds: [1]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 20, lr: 1.0e-3, epsilon: 1.0e-3, batch: 0, checkpoint_every: 1000}
verdict: {inv_ratio: %s, ortho_cos2: 1, norm_dev: 100, closure_rel: 1}
`, invRatio)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := newRootCmd()
		var stdout, stderr bytes.Buffer
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		cmd.SetArgs([]string{"run", "--spec", spec, "--out", out})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("liesweep run: %v\n%s", err, stderr.String())
		}
		b, err := os.ReadFile(filepath.Join(out, "results", "l2-ng1-seed1.json"))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Passed     bool `json:"passed"`
			Thresholds struct {
				InvRatio float64 `json:"inv_ratio"`
			} `json:"thresholds"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		return res.Passed, res.Thresholds.InvRatio
	}
	if passed, thr := run("10"); !passed || thr != 10 {
		t.Fatalf("loose thresholds: result.json passed %v at inv_ratio ≤ %g, want passed at 10", passed, thr)
	}
	if passed, thr := run("1.0e-12"); passed || thr != 1e-12 {
		t.Errorf("re-run with inv_ratio ≤ 1e-12: result.json passed %v at inv_ratio ≤ %g, want failed at 1e-12", passed, thr)
	}
}

// TestFailOnVerdictWithoutResults: a sweep whose every trial failed before
// producing a result has no group to judge; --fail-on-verdict must still
// fail (it exited 0).
func TestFailOnVerdictWithoutResults(t *testing.T) {
	if err := verdictFailed(nil); !errors.Is(err, errVerdict) || exitCode(err) != exitVerdict {
		t.Errorf("verdictFailed(no groups) = %v (exit %d), want errVerdict (exit %d)", err, exitCode(err), exitVerdict)
	}
}
