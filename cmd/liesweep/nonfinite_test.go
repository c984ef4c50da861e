package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runResult writes spec to dir, runs `liesweep run` on it into dir/out
// and decodes the result of (ℓ = 2, N_g = 1, seed 1) into res; it returns
// what the command printed.
func runResult(t *testing.T, dir, spec string, res any) string {
	t.Helper()
	path := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	stdout, stderr, code := execute(t, "run", "--spec", path, "--out", out)
	if code != 0 {
		t.Fatalf("liesweep run exited %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "results", "l2-ng1-seed1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, res); err != nil {
		t.Fatal(err)
	}
	return stdout
}

// so2Spec is a fast linear so(2) spec on the oracle expr with step eps and
// the given verdict line.
func so2Spec(expr, eps, verdict string) string {
	return fmt.Sprintf(`name: so2-quick
dataset: {kind: analytic, oracle: expr, expr: [%q], dim: 2, samples: 100}
ng: [1]
seeds: [1]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 20, lr: 1.0e-3, epsilon: %s, batch: 0, checkpoint_every: 1000}
%s`, expr, eps, verdict)
}

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
			var res struct {
				Passed   bool                `json:"passed"`
				FailedOn []string            `json:"failed_on"`
				Metrics  map[string]*float64 `json:"metrics"`
				Notes    []string            `json:"notes"`
			}
			stdout := runResult(t, t.TempDir(), so2Spec(c.expr, c.eps, ""), &res)
			if res.Passed || res.Metrics["inv_ratio"] != nil || !strings.Contains(strings.Join(res.FailedOn, " "), "inv_ratio") {
				t.Errorf("result: passed %v, inv_ratio %v, failed on %v; want a failure on a null inv_ratio", res.Passed, res.Metrics["inv_ratio"], res.FailedOn)
			}
			if !strings.Contains(strings.Join(res.Notes, " "), "inv_ratio is undefined") {
				t.Errorf("notes %q do not say why inv_ratio is missing", res.Notes)
			}
			if !strings.Contains(stdout, "inv_ratio not finite") {
				t.Errorf("the verdict does not name the non-finite metric:\n%s", stdout)
			}
		})
	}
}

// TestRunRejudgeStoresVerdict: running a finished sweep again with other
// verdict thresholds re-judges its stored trials, and result.json says
// what the printout says (it kept the old judgement before).
func TestRunRejudgeStoresVerdict(t *testing.T) {
	dir := t.TempDir()
	var res struct {
		Passed     bool `json:"passed"`
		Thresholds struct {
			InvRatio float64 `json:"inv_ratio"`
		} `json:"thresholds"`
	}
	verdict := "verdict: {inv_ratio: %s, ortho_cos2: 1, norm_dev: 100, closure_rel: 1}\n"
	runResult(t, dir, so2Spec("x0^2 + x1^2", "1.0e-3", fmt.Sprintf(verdict, "10")), &res)
	if !res.Passed || res.Thresholds.InvRatio != 10 {
		t.Fatalf("loose thresholds: result.json passed %v at inv_ratio ≤ %g, want passed at 10", res.Passed, res.Thresholds.InvRatio)
	}
	runResult(t, dir, so2Spec("x0^2 + x1^2", "1.0e-3", fmt.Sprintf(verdict, "1.0e-12")), &res)
	if res.Passed || res.Thresholds.InvRatio != 1e-12 {
		t.Errorf("re-run with inv_ratio ≤ 1e-12: result.json passed %v at inv_ratio ≤ %g, want failed at 1e-12", res.Passed, res.Thresholds.InvRatio)
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

// TestRunNotesStaleResults: a run into an --out that holds the results of
// an earlier, larger grid says that those files are not in its verdict
// (they lay beside it unexplained).
func TestRunNotesStaleResults(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "out", "results", "l2-ng5-seed9.json")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var res struct{}
	stdout := runResult(t, dir, so2Spec("x0^2 + x1^2", "1.0e-3", ""), &res)
	if !strings.Contains(stdout, "note: 1 result file(s)") || !strings.Contains(stdout, "l2-ng5-seed9.json") || strings.Contains(stdout, "l2-ng1-seed1.json are") {
		t.Errorf("run output does not note the earlier grid's result:\n%s", stdout)
	}
}
