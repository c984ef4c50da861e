package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
)

// TestEarlyStopVerdictsMatchFullLength: on the analytic examples, every
// trial (seed 1) gets the same verdict with early stopping as with the
// full epochs, and the early-stopped ones train fewer epochs.
func TestEarlyStopVerdictsMatchFullLength(t *testing.T) {
	if testing.Short() {
		t.Skip("trains generators")
	}
	saved := 0
	for _, name := range []string{"so2", "so3", "lorentz4"} {
		spec, err := loadSpecFile(filepath.Join("..", "..", "examples", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !spec.Train.EarlyStop {
			t.Fatalf("%s: early_stop is off in the example", name)
		}
		full := *spec
		full.Train.EarlyStop = false
		for _, ng := range spec.NG {
			trial := sweeps.Trial{Latent: spec.LatentDims[0], NG: ng, Seed: 1}
			var res [2]*sweeps.TrialResult
			for i, s := range []*sweeps.Spec{spec, &full} {
				store, err := filestore.New(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				if res[i], err = (&pipeline.Runner{Store: store}).RunTrial(context.Background(), s, trial, pipeline.Out{}); err != nil {
					t.Fatal(err)
				}
			}
			es, fl := res[0], res[1]
			label := fmt.Sprintf("%s N_g=%d", name, ng)
			t.Logf("%s: early stop after %d epochs (passed %v), full %d (passed %v)", label, es.EpochsRun, es.Passed, fl.EpochsRun, fl.Passed)
			if es.Passed != fl.Passed || es.FlowsPassed != fl.FlowsPassed {
				t.Errorf("%s: early-stopped verdict passed=%v flows=%v (failed on %v), full-length passed=%v flows=%v (failed on %v)",
					label, es.Passed, es.FlowsPassed, es.FailedOn, fl.Passed, fl.FlowsPassed, fl.FailedOn)
			}
			if fl.EpochsRun != spec.Train.Epochs || fl.StoppedEarly {
				t.Errorf("%s: the full-length run trained %d epochs", label, fl.EpochsRun)
			}
			saved += fl.EpochsRun - es.EpochsRun
		}
	}
	if saved == 0 {
		t.Error("early stopping saved no epoch on any example")
	}
}
