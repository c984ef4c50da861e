package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/liesweep/liesweep/workflows"
	"go.temporal.io/sdk/testsuite"
)

// TestRunAndSweepVerdictsAgree: `liesweep run` and a sweep on Temporal
// (SweepWorkflow with the real activities, in Temporal's test environment)
// write the same verdict.json for the same spec, except for the sweep id,
// where the trials ran, how long they took and where their results are.
func TestRunAndSweepVerdictsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("trains generators")
	}
	runDoc, sweepDoc, _ := runBothWays(t, `name: so2-parity
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 200}
ng: [1, 2]
seeds: [1, 2]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 1500, lr: 3.0e-3, checkpoint_every: 500, eval_points: 200}
`)
	if len(runDoc.Groups) != 1 || len(runDoc.Groups[0].Levels) != 2 {
		t.Fatalf("run verdict: %d groups, want 1 with 2 levels", len(runDoc.Groups))
	}
	sameVerdicts(t, runDoc, sweepDoc)
}

// TestHyperparameterGrid: a spec sweeping the learning rate (2 values ×
// 2 seeds) gives one verdict per combination, through a sweep on Temporal
// (the workflow with the real activities) and `liesweep run` alike: at
// lr 1e-4, 400 epochs are too few for so(2)'s generator; at lr 3e-2 N_g =
// 1 passes on both seeds.
func TestHyperparameterGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("trains generators")
	}
	runDoc, sweepDoc, runDir := runBothWays(t, `name: so2-lr
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 200}
ng: [1]
seeds: [1, 2]
generator: {kind: linear, orthogonality: global, closure: joint}
train: {epochs: 400, lr: {values: [1.0e-4, 3.0e-2]}, eval_points: 200, early_stop: false}
`)
	sameVerdicts(t, runDoc, sweepDoc)
	if len(sweepDoc.Groups) != 2 {
		t.Fatalf("%d groups, want one per learning rate", len(sweepDoc.Groups))
	}
	for i, want := range []struct {
		label string
		maxNG int
	}{{"train.lr=0.0001", 0}, {"train.lr=0.03", 1}} {
		g := sweepDoc.Groups[i]
		if g.HyperLabel != want.label || g.Combo != i || g.MaxNG != want.maxNG || len(g.Levels) != 1 || len(g.Levels[0].Trials) != 2 {
			t.Errorf("group %d: %q (combo %d) max N_g %d with %d levels; want %q, max N_g %d, one level of 2 seeds", i, g.HyperLabel, g.Combo, g.MaxNG, len(g.Levels), want.label, want.maxNG)
		}
		for _, tr := range g.Levels[0].Trials {
			if tr.HyperLabel != want.label || tr.Hyper["train.lr"] == nil {
				t.Errorf("trial seed %d carries %q %v", tr.Seed, tr.HyperLabel, tr.Hyper)
			}
		}
	}
	if table := sweeps.FormatTable(sweepDoc.Groups); !strings.Contains(table, "★   N_g ≥ 1") {
		t.Errorf("the comparison does not mark lr 3e-2 best:\n%s", table)
	}
	// The report compares the combinations in a table and a plot.
	md, err := os.ReadFile(filepath.Join(runDir, "report", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## Hyperparameter combinations") || !strings.Contains(string(md), "plots/hyper.png") {
		t.Errorf("report.md lacks the comparison table or plot")
	}
	if png, err := os.ReadFile(filepath.Join(runDir, "report", "plots", "hyper.png")); err != nil || len(png) < 1000 {
		t.Errorf("plots/hyper.png: %d bytes, %v", len(png), err)
	}
}

// runBothWays runs the spec with `liesweep run` and as a sweep on Temporal
// and returns both verdict documents.
func runBothWays(t *testing.T, yaml string) (runDoc, sweepDoc sweeps.VerdictDoc, runDir string) {
	t.Helper()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	cmd := newRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"run", "--spec", specPath, "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("liesweep run: %v\n%s", err, stderr.String())
	}
	runDoc = readVerdict(t, func() ([]byte, error) { return os.ReadFile(filepath.Join(out, "verdict.json")) })

	spec, err := loadSpecFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := filestore.New(filepath.Join(dir, "temporal"))
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(10 * time.Minute) // real activities train: the 3 s default is for mocks
	env.RegisterWorkflow(workflows.SweepWorkflow)
	env.RegisterWorkflow(workflows.LatentWorkflow)
	env.RegisterActivity(&activities.Activities{Store: store, Worker: "test-worker"})
	env.ExecuteWorkflow(workflows.SweepWorkflow, workflows.SweepInput{SweepID: "parity", Spec: *spec})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("sweep workflow: %v", err)
	}
	sweepDoc = readVerdict(t, func() ([]byte, error) { return store.Get(context.Background(), sweeps.VerdictKey("parity")) })
	return runDoc, sweepDoc, out
}

// sameVerdicts checks that two verdict documents are equal except for the
// sweep id, where the trials ran, how long they took and where their
// results are.
func sameVerdicts(t *testing.T, runDoc, sweepDoc sweeps.VerdictDoc) {
	t.Helper()
	if runDoc.SchemaVersion != sweeps.VerdictSchemaVersion || sweepDoc.SchemaVersion != sweeps.VerdictSchemaVersion {
		t.Errorf("schema_version %d / %d, want %d", runDoc.SchemaVersion, sweepDoc.SchemaVersion, sweeps.VerdictSchemaVersion)
	}
	normalise := func(d *sweeps.VerdictDoc) {
		d.Sweep = ""
		for gi := range d.Groups {
			for li := range d.Groups[gi].Levels {
				for ti := range d.Groups[gi].Levels[li].Trials {
					tr := &d.Groups[gi].Levels[li].Trials[ti]
					tr.Sweep, tr.Worker = "", ""
					delete(tr.Artifacts, sweeps.StageAnalysis)
					for si := range tr.Stages {
						tr.Stages[si].Seconds = 0
					}
				}
			}
		}
	}
	normalise(&runDoc)
	normalise(&sweepDoc)
	if !reflect.DeepEqual(runDoc, sweepDoc) {
		a, _ := json.MarshalIndent(runDoc, "", " ")
		b, _ := json.MarshalIndent(sweepDoc, "", " ")
		t.Errorf("verdicts differ:\nrun:   %s\nsweep: %s", a, b)
	}
}

func readVerdict(t *testing.T, read func() ([]byte, error)) sweeps.VerdictDoc {
	t.Helper()
	b, err := read()
	if err != nil {
		t.Fatal(err)
	}
	var d sweeps.VerdictDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}
