package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/report"
	"github.com/liesweep/liesweep/report/reporttest"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
)

// so2Sweep trains a small so(2) sweep (norm oracle in R², N_g = 1, 2) and
// returns its runner, spec and verdict groups.
func so2Sweep(t *testing.T) (*pipeline.Runner, *sweeps.Spec, []sweeps.Group) {
	t.Helper()
	s := sweeps.DefaultSpec()
	s.Name = "so2-small"
	s.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: "norm", Dim: 2, Samples: 200}
	s.Generator = sweeps.Generator{Kind: "linear", Orthogonality: "global", Normalization: "frobenius", Closure: "joint"}
	s.Train.Epochs, s.Train.LR, s.Train.CheckpointEvery = 1500, 1e-2, 500
	s.NG, s.Seeds = []int{1, 2}, []int{1, 2}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	store, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Runner{Store: store, Worker: "test"}
	var results []sweeps.TrialResult
	for _, ng := range s.NG {
		for _, seed := range s.Seeds {
			res, err := r.RunTrial(context.Background(), &s, sweeps.Trial{Latent: 2, NG: ng, Seed: seed}, pipeline.Out{})
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, *res)
		}
	}
	return r, &s, sweeps.Aggregate(results, s.Verdict.Quorum)
}

func TestReportSO2(t *testing.T) {
	r, spec, groups := so2Sweep(t)
	if groups[0].MaxNG != 1 {
		t.Fatalf("so(2) sweep: max N_g %d, want 1 (%s)", groups[0].MaxNG, groups[0].Evidence)
	}
	rep, err := report.Build(context.Background(), r, spec, spec.Name, groups, nil, report.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	pngs := map[string][]byte{}
	for _, img := range rep.Images {
		names[img.Name] = true
		pngs[img.Name] = img.PNG
	}
	reporttest.CheckImages(t, pngs)
	for _, want := range []string{"norm_n_2-l2-metrics.png", "norm_n_2-l2-losses.png", "norm_n_2-l2-field.png"} {
		if !names[want] {
			t.Errorf("no %s among %v", want, names)
		}
	}
	// The rotation is tangent to the circles ψ = ‖z‖² (measured on the
	// field); the same field turned by 90° points along ∇ψ.
	if len(rep.Tangency) != 1 {
		t.Fatalf("tangency of %d generators, want 1", len(rep.Tangency))
	}
	tg := rep.Tangency[0]
	if tg.Field > 0.01 || tg.Rotated < 0.9 || tg.Random < 0.3 || tg.Random > 0.7 {
		t.Errorf("tangency %+v: want field < 0.01, rotated > 0.9, random ≈ 0.5", tg)
	}
	for _, s := range []string{"## Plots: norm(n=2), ℓ = 2", "![Final metrics against N_g](plots/norm_n_2-l2-metrics.png)", "| J1 |"} {
		if !strings.Contains(rep.Markdown, s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	dir := t.TempDir()
	if d := os.Getenv("LIESWEEP_REPORT_DIR"); d != "" {
		dir = d // keep the report to look at
	}
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	reporttest.OpenInChromium(t, filepath.Join(dir, "report.html"), len(rep.Images))

	// An artifact gone from the store: the report keeps its tables and says
	// which plots are missing and why.
	key := groups[0].Levels[0].Trials[0].Artifacts["generators"]
	if err := r.Store.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	rep, err = report.Build(context.Background(), r, spec, spec.Name, groups, nil, report.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "not in the store") || !strings.Contains(rep.Warnings[0], key) {
		t.Errorf("warnings %q: want one naming the missing %s", rep.Warnings, key)
	}
	if !strings.Contains(rep.Markdown, "Maximal closed algebra: N_g = 1") || !strings.Contains(rep.Markdown, "**Note: plots of norm(n=2)") {
		t.Errorf("report without the artifact lacks the verdict or the note:\n%s", rep.Markdown)
	}
}
