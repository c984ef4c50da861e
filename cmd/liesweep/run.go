package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	var (
		specPath, out, mnistDir string
		parallel                int
		failOnVerdict           bool
	)
	cmd := &cobra.Command{
		Use:   "run --spec FILE --out DIR [--parallel N]",
		Short: "Run a whole sweep on this machine (no Temporal, no S3) and print its verdict",
		Example: `  liesweep run --spec examples/so3.yaml --out out/so3
  liesweep run --spec examples/mnist10_l16.yaml --out out/l16 --parallel 1 -o json > verdict.json
  liesweep run --spec my-lr-sweep.yaml --out out/lr --fail-on-verdict   # exit 4 when no N_g passed`,
		Long: `run trains every trial of the spec's grid (latent dims × N_g × seeds) on this
machine, or, with adaptive.enabled, ascends N_g level by level as a sweep on
Temporal does (until adaptive.patience consecutive levels fail). Each (ℓ, seed)
trains its autoencoder and oracle ψ once and shares them across N_g, and each
seed its pixel classifier φ (the report's judge), through the
content-addressed store in DIR/artifacts. It writes
DIR/results/*.json, DIR/verdict.json and the report with its plots in
DIR/report/ (report.html, report.md, plots/, trials.csv, flows.json), and
prints the verdict table. Run it again to reuse what
finished and resume what was interrupted.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := loadLocalSpec(specPath, mnistDir)
			if err != nil {
				return err
			}
			if out == "" {
				return usageError{fmt.Errorf("--out DIR is required")}
			}
			store, err := outStore(out)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(out, "results"), 0o755); err != nil {
				return err
			}
			if err := stageTable(cmd, spec, store, cmd.ErrOrStderr()); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			switch {
			case parallel == 0:
				parallel = spec.Concurrency
			case parallel < 0 || parallel > sweeps.MaxConcurrency:
				return usageError{fmt.Errorf("--parallel %d: give the number of (ℓ, seed) groups to train at once (1…%d), or 0 for the spec's concurrency", parallel, sweeps.MaxConcurrency)}
			}
			w := cmd.ErrOrStderr()
			var mu sync.Mutex
			// One runner for the whole sweep: the MNIST files are read once.
			base := &pipeline.Runner{Store: store, Worker: pipeline.Hostname()}
			base.WithProgress(nil) // sets up the shared MNIST cache before the groups fan out
			// Groups of different hyperparameter combinations can share a
			// stage (the same autoencoder and ψ when only train.* is swept):
			// a lock per stage key makes the first train it and the others
			// wait and reuse it, instead of training it twice into the same
			// key at once.
			locks := keyLocks{}
			var done []sweeps.TrialResult
			// progress prints a runner's stage messages and last epochs
			// under label.
			progress := func(label string) *pipeline.Runner {
				return base.WithProgress(func(e pipeline.Event) {
					if e.Message != "" || e.Epoch == e.Epochs {
						mu.Lock()
						defer mu.Unlock()
						fmt.Fprintf(w, "[%s] %s %s\n", label, e.Stage, eventText(e))
					}
				})
			}
			combos, err := spec.Combos()
			if err != nil {
				return err
			}
			// Progress: trials finished against those planned (the grid;
			// adaptive mode plans its first level and grows as it ascends).
			started, finished := time.Now(), 0
			planned, _, _ := spec.GridSize()
			if spec.Dataset.Images() {
				// φ, the report's pixel-space judge, depends on the seed
				// (and its own settings) only: train it once per seed before
				// the (ℓ, seed) groups fan out, so two groups never train the
				// same φ.
				for _, c := range combos {
					for _, seed := range spec.Seeds {
						r := progress(fmt.Sprintf("seed=%d", seed))
						if _, _, _, err := r.PixelClassifier(ctx, &c.Spec, sweeps.Trial{Latent: spec.LatentDims[0], Seed: seed}); err != nil {
							return fmt.Errorf("pixel classifier of seed %d: %w (finished stages are kept in %s; run again to resume)", seed, err, out)
						}
					}
				}
			}
			// runLevel trains the given N_g values on every (ℓ, seed) of
			// latents. Trials of one (ℓ, seed) share the autoencoder and
			// oracle: each group runs its N_g in order, so the first trains
			// them and the others reuse them; groups run in parallel.
			runLevel := func(cs []sweeps.Combo, latents, ngs []int) (map[int][]sweeps.TrialResult, error) {
				type group struct {
					combo        sweeps.Combo
					latent, seed int
				}
				var groups []group
				for _, c := range cs {
					for _, l := range latents {
						for _, seed := range spec.Seeds {
							groups = append(groups, group{c, l, seed})
						}
					}
				}
				results := make([][]*sweeps.TrialResult, len(groups))
				errs := make([]error, len(groups))
				sem := make(chan struct{}, max(1, parallel))
				var wg sync.WaitGroup
				for gi, g := range groups {
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer exitOnPanic()
						sem <- struct{}{}
						defer func() { <-sem }()
						label := fmt.Sprintf("ℓ=%d seed=%d", g.latent, g.seed)
						if g.combo.Label != "" {
							label = g.combo.Label + " " + label
						}
						r := progress(label)
						if g.combo.Spec.Dataset.Kind != "analytic" {
							t := sweeps.Trial{Latent: g.latent, Seed: g.seed}
							unlock := locks.lock(sweeps.StageKeys(&g.combo.Spec, t).Oracle)
							_, _, err := r.Prepare(ctx, &g.combo.Spec, t)
							unlock()
							if errors.Is(err, models.ErrNonFinite) {
								// each trial of this (ℓ, seed) is a failed
								// result saying so; the rest of the grid is judged
								fmt.Fprintf(w, "%s: %v (the trials that need it fail with this as their note)\n", label, err)
								err = nil
							}
							if err != nil {
								errs[gi] = fmt.Errorf("%s: %w", label, err)
								return
							}
						}
						for _, ng := range ngs {
							if ctx.Err() != nil {
								errs[gi] = ctx.Err()
								return
							}
							t := sweeps.Trial{Latent: g.latent, NG: ng, Seed: g.seed, Combo: g.combo.Index}
							unlock := locks.lock(sweeps.StageKeys(&g.combo.Spec, t).Generators)
							res, err := r.RunTrial(ctx, &g.combo.Spec, t, pipeline.Out{Sweep: spec.Name, Key: "results/" + sweeps.ResultFile(t), Combo: g.combo})
							unlock()
							if err != nil {
								// the combination too: "ℓ=2 N_g=1 seed=1" alone named a
								// trial of another combination that had passed
								errs[gi] = errors.Join(errs[gi], fmt.Errorf("trial %sN_g=%d: %w", strings.TrimSuffix(label, fmt.Sprintf("seed=%d", g.seed)), t.NG, fmt.Errorf("seed=%d: %w", g.seed, err)))
								continue
							}
							results[gi] = append(results[gi], res)
							status := "passed"
							if !res.Passed {
								status = fmt.Sprintf("failed on %v", res.FailedOn)
								if res.FlowsPassed {
									status += " (the flows pass: distinct and invariant)"
								}
							}
							mu.Lock()
							finished++
							fmt.Fprintf(w, "trial %sℓ=%d N_g=%d seed=%d %s%s\n", comboPrefix(g.combo), t.Latent, t.NG, t.Seed, status, eta(finished, planned, time.Since(started)))
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				byLatent := map[int][]sweeps.TrialResult{}
				for gi, rs := range results {
					for _, r := range rs {
						byLatent[groups[gi].latent] = append(byLatent[groups[gi].latent], *r)
						done = append(done, *r)
					}
				}
				if err := errors.Join(errs...); err != nil {
					return nil, fmt.Errorf("%w (finished trials are kept in %s; run again to resume)", err, out)
				}
				return byLatent, nil
			}
			if !spec.Adaptive.Enabled {
				if _, err := runLevel(combos, spec.LatentDims, slices.Sorted(slices.Values(spec.NG))); err != nil {
					return err
				}
			} else {
				// Each combination ascends on its own (as on Temporal).
				for _, c := range combos {
					a := sweeps.NewAscent(&c.Spec, true)
					for {
						ng, ls := a.Level()
						if len(ls) == 0 {
							break
						}
						fmt.Fprintf(w, "adaptive: %sN_g = %d on ℓ = %v\n", comboPrefix(c), ng, ls)
						mu.Lock()
						planned = max(planned, finished+len(ls)*len(spec.Seeds))
						mu.Unlock()
						res, err := runLevel([]sweeps.Combo{c}, ls, []int{ng})
						if err != nil {
							return err
						}
						a.Record(res)
					}
				}
			}
			rep := sweeps.NewVerdictDoc(spec.Name, *spec, done)
			if n := staleResults(filepath.Join(out, "results"), done); n != "" {
				rep.Notes = append(rep.Notes, n)
			}
			b, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "verdict.json"), append(b, '\n'), 0o644); err != nil {
				return fmt.Errorf("write verdict: %w", err)
			}
			if jsonOutput(cmd) {
				if err := printJSON(cmd, rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "sweep %s\n%s", spec.Name, sweeps.FormatTable(rep.Groups))
				for _, n := range rep.Notes {
					fmt.Fprintf(cmd.OutOrStdout(), "note: %s\n", n)
				}
			}
			full, err := buildPlots(ctx, store, spec.Dataset.MNISTDir, spec.Name, &rep)
			if err != nil {
				return err
			}
			dir := filepath.Join(out, "report")
			if err := writeFiles(dir, reportFiles(&rep, full)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "report: %s\n", filepath.Join(dir, "report.html"))
			if failOnVerdict {
				return verdictFailed(rep.Groups)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&specPath, "spec", "", "sweep spec (YAML)")
	f.StringVar(&out, "out", "", "output directory")
	f.IntVar(&parallel, "parallel", 0, "(ℓ, seed) groups trained at once; 0: the spec's concurrency")
	f.BoolVar(&failOnVerdict, "fail-on-verdict", false, "exit 4 when a (dataset, ℓ) group found no closed algebra")
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

// comboPrefix is "<label>: " for a hyperparameter combination, "" without.
func comboPrefix(c sweeps.Combo) string {
	if c.Label == "" {
		return ""
	}
	return c.Label + ": "
}

// eta is " [k/N, elapsed, ETA …]" for k of N trials finished after elapsed.
func eta(done, total int, elapsed time.Duration) string {
	if total <= 0 || done <= 0 {
		return ""
	}
	left := time.Duration(float64(elapsed) / float64(done) * float64(max(0, total-done)))
	return fmt.Sprintf("  [%d/%d, %s elapsed, ETA %s]", done, total, elapsed.Round(time.Second), left.Round(time.Second))
}

// keyLocks serialises work on one stage key across goroutines.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*sync.Mutex
}

// lock locks key's mutex and returns its unlock.
func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*sync.Mutex{}
	}
	l := k.m[key]
	if l == nil {
		l = &sync.Mutex{}
		k.m[key] = l
	}
	k.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// staleResults notes the result files in dir that this run's grid did not
// produce: an earlier run into the same --out with another grid left them.
// They are not in the verdict; the note says so rather than leaving them
// beside it unexplained ("" when there are none).
func staleResults(dir string, done []sweeps.TrialResult) string {
	current := map[string]bool{}
	for _, r := range done {
		current[sweeps.ResultFile(sweeps.Trial{Latent: r.LatentDim, NG: r.NG, Seed: r.Seed, Combo: r.Combo})] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var stale []string
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".json") && !current[name] {
			stale = append(stale, name)
		}
	}
	if len(stale) == 0 {
		return ""
	}
	const show = 10
	list := strings.Join(stale[:min(show, len(stale))], ", ")
	if len(stale) > show {
		list += fmt.Sprintf(", … (%d in all)", len(stale))
	}
	return fmt.Sprintf("%d result file(s) in %s are not from this run's grid (an earlier run into the same --out) and are not in this verdict: %s", len(stale), dir, list)
}
