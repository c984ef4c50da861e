package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

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
	dir := t.TempDir()
	specPath := filepath.Join(dir, "so2.yaml")
	if err := os.WriteFile(specPath, []byte(`name: so2-parity
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 200}
ng: [1, 2]
seeds: [1, 2]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 1500, lr: 3.0e-3, checkpoint_every: 500, eval_points: 200}
`), 0o644); err != nil {
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
	runDoc := readVerdict(t, func() ([]byte, error) { return os.ReadFile(filepath.Join(out, "verdict.json")) })

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
	env.RegisterWorkflow(workflows.SweepWorkflow)
	env.RegisterWorkflow(workflows.LatentWorkflow)
	env.RegisterActivity(&activities.Activities{Store: store, Worker: "test-worker"})
	env.ExecuteWorkflow(workflows.SweepWorkflow, workflows.SweepInput{SweepID: "parity", Spec: *spec})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("sweep workflow: %v", err)
	}
	sweepDoc := readVerdict(t, func() ([]byte, error) { return store.Get(context.Background(), sweeps.VerdictKey("parity")) })

	if runDoc.SchemaVersion != sweeps.VerdictSchemaVersion || sweepDoc.SchemaVersion != sweeps.VerdictSchemaVersion {
		t.Errorf("schema_version %d / %d, want %d", runDoc.SchemaVersion, sweepDoc.SchemaVersion, sweeps.VerdictSchemaVersion)
	}
	if len(runDoc.Groups) != 1 || len(runDoc.Groups[0].Levels) != 2 {
		t.Fatalf("run verdict: %d groups, want 1 with 2 levels", len(runDoc.Groups))
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
