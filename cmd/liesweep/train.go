package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate SPEC",
		Short: "Check a sweep spec and print it with every default filled in",
		Long: `validate decodes a spec strictly, checks every field and bound, parses and
compiles every expression, and prints the spec as JSON with every default
filled in; on stderr it says how many trials and distinct stages the grid
(with its hyperparameter combinations) expands to. It exits 2 when the spec is
invalid, listing every problem with its key path and line.`,
		Example: `  liesweep validate examples/so3.yaml
  liesweep validate my-sweep.yaml > /dev/null   # just the check and the grid size`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadSpecFile(args[0])
			if err != nil {
				return err
			}
			if err := checkMNISTDir(s); err != nil {
				return err
			}
			if err := stageTable(cmd, s, nil, cmd.ErrOrStderr()); err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(s); err != nil {
				return err
			}
			trials, stages, err := s.GridSize()
			if err != nil {
				return err
			}
			combos := 1
			for _, a := range s.Axes {
				combos *= len(a.Values)
			}
			what := "trials"
			if s.Adaptive.Enabled {
				what = "trials on the first adaptive level (more while levels pass)"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "valid: %d hyperparameter combination(s) × %d latent dim(s) × %d N_g × %d seed(s): %d %s, %d distinct stages\n",
				combos, len(s.LatentDims), len(s.NG), len(s.Seeds), trials, what, stages)
			return nil
		},
	}
}

func newTrainCmd() *cobra.Command {
	var (
		specPath, out, mnistDir string
		ng, seed, latent        int
		comboIdx                int
		failOnVerdict           bool
	)
	cmd := &cobra.Command{
		Use:   "train --spec FILE --ng N --seed S [--latent L] --out DIR",
		Short: "Run one trial locally (no Temporal, no S3) and write DIR/result.json",
		Long: `train runs one trial of a spec: for MNIST autoencoder → encode → oracle →
generators → closure, for analytic oracles generators → closure. Artifacts and
checkpoints go under DIR/artifacts; running the same command again reuses the
finished stages and resumes an interrupted one from its last checkpoint.
It exits 0 whether the trial passed or failed the verdict thresholds, or 4
with --fail-on-verdict when it failed. With -o json it prints result.json.
For a spec that sweeps hyperparameters, --combo picks the combination (the
order of ` + "`liesweep validate`" + `'s axes, the first varying slowest).`,
		Example: `  liesweep train --spec examples/so4.yaml --ng 6 --seed 1 --out out/so4
  liesweep train --spec examples/mnist01_l2.yaml --ng 1 --seed 2 --out out/mnist-s2 -o json | jq .metrics`,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := loadLocalSpec(specPath, mnistDir)
			if err != nil {
				return err
			}
			combos, err := spec.Combos()
			if err != nil {
				return err
			}
			if comboIdx < 0 || comboIdx >= len(combos) {
				return usageError{fmt.Errorf("--combo %d: the spec has %d hyperparameter combination(s), 0…%d", comboIdx, len(combos), len(combos)-1)}
			}
			combo := combos[comboIdx]
			if len(spec.Axes) > 0 {
				spec = &combo.Spec
				fmt.Fprintf(cmd.ErrOrStderr(), "hyperparameter combination %d: %s\n", comboIdx, combo.Label)
			}
			if spec.Dataset.Kind == "table" || spec.Dataset.Kind == "images" {
				if out == "" {
					return usageError{fmt.Errorf("--out DIR is required")}
				}
				st, err := outStore(out)
				if err != nil {
					return err
				}
				if err := stageTable(cmd, spec, st, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			if latent == 0 {
				latent = spec.LatentDims[0]
			}
			if d := spec.Dataset; d.Kind == "table" && (latent < 1 || latent > d.Columns) {
				return usageError{fmt.Errorf("--latent %d: the table has %d features, so ℓ is 1…%d", latent, d.Columns, d.Columns)}
			}
			if !slices.Contains(spec.LatentDims, latent) && spec.Dataset.Kind == "analytic" {
				return usageError{fmt.Errorf("--latent %d: an analytic dataset's latent dim is dataset.dim = %d", latent, spec.Dataset.Dim)}
			}
			if ng < 1 || ng > sweeps.MaxNG {
				return usageError{fmt.Errorf("--ng must be in 1…%d (MaxNG), got %d", sweeps.MaxNG, ng)}
			}
			if seed < 0 {
				return usageError{fmt.Errorf("--seed must be ≥ 0, got %d", seed)}
			}
			if latent < 0 || latent > sweeps.MaxLatentDim {
				return usageError{fmt.Errorf("--latent must be in 1…%d (MaxLatentDim), got %d", sweeps.MaxLatentDim, latent)}
			}
			if out == "" {
				return usageError{fmt.Errorf("--out DIR is required")}
			}
			// The trial's own grid point passes the checks a spec listing it
			// would (solvable N_g, the memory bound): --ng is not a way
			// around them.
			one := *spec
			one.NG, one.Seeds, one.Adaptive.Enabled = []int{ng}, []int{seed}, false
			one.Verdict.Quorum = 1 // the spec's quorum counts its seeds, not this one
			if spec.Dataset.Kind != "analytic" {
				one.LatentDims = []int{latent}
			}
			if err := one.Validate(); err != nil {
				return fmt.Errorf("trial ℓ=%d N_g=%d seed=%d: %w", latent, ng, seed, err)
			}
			store, err := outStore(out)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			p := newProgress(cmd.ErrOrStderr())
			defer p.close()
			r := &pipeline.Runner{Store: store, Progress: p.event, Worker: pipeline.Hostname()}
			start := time.Now()
			res, err := r.RunTrial(ctx, spec, sweeps.Trial{Latent: latent, NG: ng, Seed: seed, Combo: comboIdx}, pipeline.Out{Sweep: spec.Name, Key: "result.json", Combo: combo})
			p.close()
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted: %w (run the same command again to resume from the last checkpoint)", err)
				}
				return err
			}
			if err := writeTrialOutputs(ctx, out, store, res); err != nil {
				return err
			}
			if jsonOutput(cmd) {
				if err := printJSON(cmd, res); err != nil {
					return err
				}
			} else {
				printSummary(cmd.OutOrStdout(), res, time.Since(start))
			}
			if failOnVerdict && !res.Passed {
				return fmt.Errorf("%w: trial failed on %s", errVerdict, strings.Join(res.FailedOn, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&failOnVerdict, "fail-on-verdict", false, "exit 4 when the trial fails the verdict thresholds")
	f.IntVar(&comboIdx, "combo", 0, "hyperparameter combination of a spec that sweeps some (0 = the first)")
	f.StringVar(&specPath, "spec", "", "sweep spec (YAML)")
	f.IntVar(&ng, "ng", 1, "number of generators N_g")
	f.IntVar(&seed, "seed", 1, "seed of the trial")
	f.IntVar(&latent, "latent", 0, "latent dimension ℓ (default: the spec's first)")
	f.StringVar(&out, "out", "", "output directory")
	f.StringVar(&mnistDir, "mnist-dir", "", "folder with the MNIST IDX .gz files (default: the GoMNIST module in the Go module cache)")
	cmd.MarkFlagRequired("spec")
	return cmd
}

// writeTrialOutputs copies the trial's weights beside its result.json as
// <stage>.safetensors, for users who want the files without the store
// layout, and writes the generators' loss history as losses.jsonl (one
// {"epoch": e, "<term>": value, …} per line; none for generators stored
// before liesweep kept their history). An artifact the trial names but
// did not produce is skipped: `train` never trains the pixel classifier φ,
// which only reports use (`liesweep run` and sweeps train it).
func writeTrialOutputs(ctx context.Context, out string, store *filestore.Store, res *sweeps.TrialResult) error {
	for stage, key := range res.Artifacts {
		if !strings.HasSuffix(key, ".safetensors") {
			continue
		}
		b, err := store.Get(ctx, key)
		if errors.Is(err, sweeps.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, stage+".safetensors"), b, 0o644); err != nil {
			return err
		}
		if stage != sweeps.StageGenerators {
			continue
		}
		h, err := pipeline.WeightsHistory(b)
		if err != nil {
			return fmt.Errorf("loss history of %s: %w", key, err)
		}
		if h != nil {
			if err := os.WriteFile(filepath.Join(out, "losses.jsonl"), pipeline.HistoryJSONL(h), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

func printSummary(w io.Writer, r *sweeps.TrialResult, d time.Duration) {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED on " + strings.Join(r.FailedOn, ", ")
	}
	fmt.Fprintf(w, "trial %s ℓ=%d N_g=%d seed=%d: %s (%.1fs)\n", r.Dataset, r.LatentDim, r.NG, r.Seed, verdict, d.Seconds())
	m, t := r.Metrics, r.Thresholds
	fmt.Fprintf(w, "  inv_ratio   %s (≤ %g)\n  ortho_cos2  %s (≤ %g)\n  norm_dev    %s (≤ %g)\n  closure_rel %s (≤ %g)\n",
		sweeps.FormatMetric(m.InvRatio), t.InvRatio, sweeps.FormatMetric(m.OrthoCos2), t.OrthoCos2, sweeps.FormatMetric(m.NormDev), t.NormDev, sweeps.FormatMetric(m.ClosureRel), t.ClosureRel)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	switch {
	case r.OracleAccuracy != nil && r.AutoencoderMSE != nil:
		fmt.Fprintf(w, "  oracle validation accuracy %.4f, autoencoder validation MSE %.4f\n", *r.OracleAccuracy, *r.AutoencoderMSE)
	case r.OracleAccuracy != nil:
		fmt.Fprintf(w, "  oracle validation accuracy %.4f\n", *r.OracleAccuracy)
	case r.OracleR2 != nil:
		fmt.Fprintf(w, "  oracle validation R² %.4f\n", *r.OracleR2)
	}
	if a := r.Algebra.Summary(); a != "" {
		fmt.Fprintf(w, "  algebra: %s\n", a)
	}
	for _, l := range r.Algebra.DecompositionLines() {
		fmt.Fprintf(w, "    %s\n", l)
	}
	if sb := r.SparseBasis; sb != nil && r.NG > 1 {
		fmt.Fprintf(w, "  in the sparse basis M (the generators rotated to the fewest non-zero entries):\n")
		for _, l := range sweeps.BracketLines(sb.StructureConstants) {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(l, "J", "M"))
		}
	}
	for a := range r.StructureConstants {
		for b := a + 1; b < len(r.StructureConstants); b++ {
			var terms []string
			for c, v := range r.StructureConstants[a][b] {
				if v > 1e-2 || v < -1e-2 {
					terms = append(terms, fmt.Sprintf("%+.3f J%d", v, c+1))
				}
			}
			if len(terms) == 0 {
				terms = []string{"0"}
			}
			fmt.Fprintf(w, "  [J%d, J%d] = %s\n", a+1, b+1, strings.Join(terms, " "))
		}
	}
}

// progress shows per-stage progress: a bar on a terminal, plain lines
// (at most one per stage per 5 s, and the last epoch) otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	bar   *progressbar.ProgressBar
	stage string
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progress) close() {
	if p.bar != nil {
		p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

func lossText(l map[string]float64) string {
	var parts []string
	for _, k := range []string{"total", "inv", "norm", "ortho", "closure"} {
		if v, ok := l[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%.3g", k, v))
		}
	}
	return strings.Join(parts, " ")
}

func (p *progress) event(e pipeline.Event) {
	if e.Message != "" {
		p.close()
		fmt.Fprintf(p.w, "[%s] %s\n", e.Stage, e.Message)
		return
	}
	if p.tty {
		if p.bar == nil || p.stage != e.Stage {
			p.close()
			p.stage = e.Stage
			p.bar = progressbar.NewOptions(e.Epochs, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(e.Stage),
				progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond))
		}
		p.bar.Describe(fmt.Sprintf("%-11s %s", e.Stage, lossText(e.Losses)))
		p.bar.Set(e.Epoch)
		return
	}
	if e.Stage != p.stage || time.Since(p.last) > 5*time.Second || e.Epoch == e.Epochs {
		p.stage, p.last = e.Stage, time.Now()
		fmt.Fprintf(p.w, "[%s] epoch %d/%d %s\n", e.Stage, e.Epoch, e.Epochs, lossText(e.Losses))
	}
}
