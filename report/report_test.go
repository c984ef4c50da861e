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
	for _, want := range []string{"l2-metrics.png", "l2-losses.png", "l2-field.png"} {
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
	for _, s := range []string{"## Plots: norm(n=2), ℓ = 2", "![Final metrics against N_g](plots/l2-metrics.png)", "| J1 |",
		"| 1 | 1 | ✓ | 1 of 1 | – | ", "| 2 | 1 | ✗ | 1 of 2 |"} {
		if !strings.Contains(rep.Markdown, s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	if strings.Contains(rep.Markdown, "| true |") || strings.Contains(rep.Markdown, "| yes |") {
		t.Errorf("report.md spells a bool other than ✓/✗:\n%s", rep.Markdown)
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

// TestReportSO3 trains so(3) (norm oracle in R³, N_g = 3, two seeds) and
// checks the structure-constant figures beside the sparse basis: in the
// learned bases and in the sparse bases, with the mean and the spread over
// the two seeds, named without the dataset.
func TestReportSO3(t *testing.T) {
	s := sweeps.DefaultSpec()
	s.Name = "so3-small"
	s.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: "norm", Dim: 3, Samples: 200}
	s.Generator = sweeps.Generator{Kind: "linear", Orthogonality: "global", Normalization: "frobenius", Closure: "joint"}
	s.Train.Epochs, s.Train.LR, s.Train.CheckpointEvery = 1500, 1e-2, 500
	s.NG, s.Seeds = []int{3}, []int{1, 2}
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
	for _, seed := range s.Seeds {
		res, err := r.RunTrial(context.Background(), &s, sweeps.Trial{Latent: 3, NG: 3, Seed: seed}, pipeline.Out{})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, *res)
	}
	groups := sweeps.Aggregate(results, s.Verdict.Quorum)
	if groups[0].MaxNG != 3 || groups[0].Levels[0].SuccessFraction != 1 {
		t.Fatalf("so(3) sweep: max N_g %d, success %g (%s)", groups[0].MaxNG, groups[0].Levels[0].SuccessFraction, groups[0].Evidence)
	}
	rep, err := report.Build(context.Background(), r, &s, s.Name, groups, nil, report.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) > 0 {
		t.Errorf("warnings: %q", rep.Warnings)
	}
	pngs := map[string][]byte{}
	var order []string
	for _, img := range rep.Images {
		pngs[img.Name] = img.PNG
		order = append(order, img.Name)
	}
	reporttest.CheckImages(t, pngs)
	// The sparse basis, with its structure constants right after it.
	if got := strings.Join(order, " "); !strings.Contains(got, "l3-metrics.png l3-structure.png l3-sparse.png l3-sparse-structure.png l3-losses.png") {
		t.Errorf("images %s: want metrics, structure, sparse, sparse-structure, losses in that order", got)
	}
	for _, s := range []string{"![Structure constants at N_g = 3 in the sparse basis](plots/l3-sparse-structure.png)", "sample standard deviation", "seeds 1, 2"} {
		if !strings.Contains(rep.Markdown, s) {
			t.Errorf("report.md lacks %q", s)
		}
	}
	dir := t.TempDir()
	if d := os.Getenv("LIESWEEP_REPORT_DIR"); d != "" {
		dir = filepath.Join(d, "so3") // keep the report to look at
	}
	if err := rep.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	reporttest.OpenInChromium(t, filepath.Join(dir, "report.html"), len(rep.Images))
}
