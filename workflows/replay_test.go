package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplay replays histories recorded from real runs on the Temporal dev
// server (testdata/*.json, `temporal workflow show --output json`): a change
// that breaks determinism for in-flight sweeps fails here.
func TestReplay(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(SweepWorkflow, workflow.RegisterOptions{Name: "SweepWorkflow"})
			r.RegisterWorkflowWithOptions(LatentWorkflow, workflow.RegisterOptions{Name: "LatentWorkflow"})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}
