package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/liesweep/liesweep/sweeps/pipeline"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	var (
		specPath, out, mnistDir string
		parallel                int
	)
	cmd := &cobra.Command{
		Use:   "run --spec FILE --out DIR [--parallel N]",
		Short: "Run a whole sweep on this machine (no Temporal, no S3) and print its verdict",
		Long: `run trains every trial of the spec's grid (latent dims × N_g × seeds) on this
machine, sharing the autoencoder and oracle of each (ℓ, seed) across N_g through
the content-addressed store in DIR/artifacts, writes DIR/results/*.json and
DIR/verdict.json and the report with its plots in DIR/report/ (report.html,
report.md, plots/, trials.csv, flows.json), and prints the verdict table. Run it again to reuse what
finished and resume what was interrupted.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := loadSpecFile(specPath)
			if err != nil {
				return err
			}
			if mnistDir != "" {
				spec.Dataset.MNISTDir = mnistDir
			}
			if out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			store, err := filestore.New(out)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(out, "results"), 0o755); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var trials []pipeline.Trial
			for _, l := range spec.LatentDims {
				for _, seed := range spec.Seeds {
					for _, ng := range spec.NG {
						trials = append(trials, pipeline.Trial{Latent: l, NG: ng, Seed: seed})
					}
				}
			}
			w := cmd.ErrOrStderr()
			var mu sync.Mutex
			results := make([]*sweeps.TrialResult, len(trials))
			errs := make([]error, len(trials))
			sem := make(chan struct{}, max(1, parallel))
			var wg sync.WaitGroup
			// Trials of one (ℓ, seed) share the autoencoder and oracle: run each
			// (ℓ, seed) group in order so the first trial trains them and the
			// others reuse them; groups run in parallel.
			groups := map[[2]int][]int{}
			var order [][2]int
			for i, t := range trials {
				k := [2]int{t.Latent, t.Seed}
				if groups[k] == nil {
					order = append(order, k)
				}
				groups[k] = append(groups[k], i)
			}
			for _, k := range order {
				wg.Add(1)
				go func(idx []int) {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					r := &pipeline.Runner{Store: store, Worker: pipeline.Hostname(), Progress: func(e pipeline.Event) {
						if e.Message != "" || e.Epoch == e.Epochs {
							mu.Lock()
							defer mu.Unlock()
							fmt.Fprintf(w, "[ℓ=%d seed=%d] %s %s\n", trials[idx[0]].Latent, trials[idx[0]].Seed, e.Stage, eventText(e))
						}
					}}
					for _, i := range idx {
						if ctx.Err() != nil {
							errs[i] = ctx.Err()
							return
						}
						t := trials[i]
						res, err := r.RunTrial(ctx, spec, t)
						if err != nil {
							errs[i] = fmt.Errorf("trial ℓ=%d N_g=%d seed=%d: %w", t.Latent, t.NG, t.Seed, err)
							continue
						}
						res.Sweep = spec.Name
						results[i] = res
						b, _ := json.MarshalIndent(res, "", "  ")
						os.WriteFile(filepath.Join(out, "results", fmt.Sprintf("l%d-ng%d-seed%d.json", t.Latent, t.NG, t.Seed)), b, 0o644)
						mu.Lock()
						status := "passed"
						if !res.Passed {
							status = fmt.Sprintf("failed on %v", res.FailedOn)
						}
						fmt.Fprintf(w, "trial ℓ=%d N_g=%d seed=%d %s\n", t.Latent, t.NG, t.Seed, status)
						mu.Unlock()
					}
				}(groups[k])
			}
			wg.Wait()
			var done []sweeps.TrialResult
			for i, r := range results {
				if errs[i] != nil {
					return fmt.Errorf("%w (finished trials are kept in %s; run again to resume)", errs[i], out)
				}
				done = append(done, *r)
			}
			groupsOut := sweeps.Aggregate(done, spec.Verdict.Quorum)
			b, _ := json.MarshalIndent(map[string]any{"sweep": spec.Name, "groups": groupsOut}, "", "  ")
			if err := os.WriteFile(filepath.Join(out, "verdict.json"), append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sweep %s\n%s", spec.Name, sweeps.FormatTable(groupsOut))
			rep := &activities.Report{Sweep: spec.Name, Spec: *spec, Groups: groupsOut}
			full, err := buildPlots(ctx, store, spec.Dataset.MNISTDir, spec.Name, rep)
			if err != nil {
				return err
			}
			dir := filepath.Join(out, "report")
			if err := writeFiles(dir, reportFiles(rep, full)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "report: %s\n", filepath.Join(dir, "report.html"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&specPath, "spec", "", "sweep spec (YAML)")
	f.StringVar(&out, "out", "", "output directory")
	f.IntVar(&parallel, "parallel", 1, "(ℓ, seed) groups trained at once")
	f.StringVar(&mnistDir, "mnist-dir", "", "folder with the MNIST IDX .gz files")
	cmd.MarkFlagRequired("spec")
	return cmd
}

func eventText(e pipeline.Event) string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("epoch %d/%d %s", e.Epoch, e.Epochs, lossText(e.Losses))
}
