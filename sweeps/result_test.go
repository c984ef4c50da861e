package sweeps

import "testing"

// TestBriefDropsOnlyTheLargeFields: Brief keeps the verdict and identity of
// a result and drops what grows with N_g² and N_g³.
func TestBriefDropsOnlyTheLargeFields(t *testing.T) {
	r := TrialResult{Sweep: "s", NG: 3, LatentDim: 3, Seed: 2, Passed: true, FlowsPassed: true, FailedOn: []string{}, Worker: "w",
		PairResidual: []float64{1}, PairOrtho: []float64{1}, StructureConstants: [][][]float64{{{1}}}, JointConstants: [][][]float64{{{1}}},
		SparseBasis: &SparseBasis{}, Stages: []StageRun{{Stage: StageGenerators}}}
	b := r.Brief()
	if b.PairResidual != nil || b.PairOrtho != nil || b.StructureConstants != nil || b.JointConstants != nil || b.SparseBasis != nil {
		t.Errorf("Brief kept a large field: %+v", b)
	}
	if b.Sweep != "s" || b.NG != 3 || b.Seed != 2 || !b.Passed || !b.FlowsPassed || b.Worker != "w" || len(b.Stages) != 1 {
		t.Errorf("Brief lost the verdict or identity: %+v", b)
	}
	if r.StructureConstants == nil {
		t.Error("Brief changed its receiver")
	}
}
