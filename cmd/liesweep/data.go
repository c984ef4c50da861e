package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

func newDataCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Write the known-answer tables (formulas as labels) and null controls (shuffled labels) that the examples train on"}
	cmd.AddCommand(newDataGenCmd(), newDataListCmd(), newDataShuffleCmd())
	return cmd
}

func newDataListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the known tables with their dimension, task and symmetry algebra",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if jsonOutput(cmd) {
				return printJSON(cmd, datasets.KnownTables)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDIM\tTASK\tALGEBRA\tDESCRIPTION")
			for _, k := range datasets.KnownTables {
				alg := fmt.Sprintf("%s (dim %d)", k.Algebra, k.AlgebraDim)
				if k.AlgebraDim == 0 {
					alg = "none (null control)"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", k.Name, k.Dim, k.Task, alg, k.Description)
			}
			return tw.Flush()
		},
	}
}

// maxGenValues bounds the values data gen draws (rows × features).
const maxGenValues = 1 << 26

func newDataGenCmd() *cobra.Command {
	var (
		out   string
		rows  int
		seed  uint64
		expr  string
		dim   int
		noise float64
	)
	cmd := &cobra.Command{
		Use:   "gen NAME --out FILE [--rows N] [--seed S]",
		Short: "Write a known-answer table (sphere3, lightcone4, norm5, teacher3, teacher8) as .csv, .npz, .npy or .parquet",
		Long: `gen draws --rows points x ~ N(0, I) from --seed, labels them with the
table's formula and writes them in the format of --out's extension: .csv
(header x0 … x{d-1}, y), .npz (arrays x and y), .npy (one array, the target
last) or .parquet. The same name, rows and seed always give the same bytes.
` + "`liesweep data list`" + ` shows each table's formula and symmetry algebra.
NAME expr writes a regression on a formula of your own: y = --expr of
x0 … x{--dim − 1}, plus N(0, --noise²).`,
		Example: `  liesweep data gen sphere3 --out examples/tables/sphere3.csv
  liesweep data gen norm5 --out /tmp/norm5.npz --rows 10000 --seed 7
  liesweep data gen expr --expr "x0^2 + x1^2 + sin(x2)" --dim 3 --out /tmp/t.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				k   datasets.KnownTable
				err error
			)
			if args[0] == "expr" {
				if expr == "" || dim < 1 {
					return usageError{fmt.Errorf("gen expr needs --expr FORMULA and --dim N")}
				}
				if dim > sweeps.MaxDim {
					return usageError{fmt.Errorf("--dim %d is over the bound of %d (MaxDim: a spec's ℓ is at most that, so more features could not be used)", dim, sweeps.MaxDim)}
				}
				k, err = datasets.ExprTable(expr, dim, noise)
			} else {
				if expr != "" {
					return usageError{fmt.Errorf("--expr is read with NAME expr only")}
				}
				k, err = datasets.FindKnownTable(args[0])
			}
			if err != nil {
				return usageError{err}
			}
			if out == "" {
				return usageError{fmt.Errorf("--out FILE is required")}
			}
			if rows < 2 || rows > 10_000_000 {
				return usageError{fmt.Errorf("--rows must be in 2…10000000, got %d", rows)}
			}
			if int64(rows)*int64(k.Dim) > maxGenValues {
				return usageError{fmt.Errorf("--rows %d × %d features is over the bound of %d values (512 MiB of float64); write fewer rows", rows, k.Dim, maxGenValues)}
			}
			t := k.Generate(rows, seed)
			// a target that is not finite would be written, and then
			// refused by every command that reads the table
			for i, y := range t.Y {
				switch {
				case math.IsNaN(y) || math.IsInf(y, 0):
					return usageError{fmt.Errorf("%s: the target is %v on row %d (x = %v): the formula, plus the noise, is not finite on the drawn points (e.g. log or sqrt of a negative feature, division by zero, or a --noise too large); nothing was written", k.Name, y, i+1, t.Row(i))}
				case math.Abs(y) > datasets.MaxTableValue:
					// the tables' reader refuses it (its square overflows)
					return usageError{fmt.Errorf("%s: the target is %g on row %d, larger in magnitude than %g, which tables may not hold (rescale the formula or the noise); nothing was written", k.Name, y, i+1, datasets.MaxTableValue)}
				}
			}
			if dir := filepath.Dir(out); dir != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			// Written beside the target and renamed over it, so an
			// interrupted write never leaves a half file under the name.
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if err := datasets.WriteTable(tmp, out, t); err != nil {
				tmp.Close()
				return usageError{err}
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			if err := os.Chmod(tmp.Name(), 0o644); err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d rows of %s (%s, symmetry %s)\n", out, rows, k.Name, k.Task, k.Algebra)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (.csv, .npz, .npy or .parquet)")
	cmd.Flags().IntVar(&rows, "rows", 4000, "number of rows")
	cmd.Flags().StringVar(&expr, "expr", "", "NAME expr: the formula of the target, in x0 … x{dim-1} (the syntax of dataset.expr)")
	cmd.Flags().IntVar(&dim, "dim", 0, "NAME expr: the number of features")
	cmd.Flags().Float64Var(&noise, "noise", 0.05, "NAME expr: the standard deviation of the Gaussian noise added to the target")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the points (and of the noise)")
	return cmd
}

func newDataShuffleCmd() *cobra.Command {
	var (
		out     string
		seed    uint64
		classes []int
	)
	cmd := &cobra.Command{
		Use:   "shuffle SET --out DIR [--seed S] [--classes 0,1]",
		Short: "Write an image set with its labels shuffled: a null control on real images",
		Long: `shuffle reads an image set — "mnist" (the GoMNIST files) or a directory of
IDX files — keeps the images of --classes (all when empty), permutes the
training labels and the test labels at random (--seed) and writes the four
IDX files into --out. The images and the label counts are the set's; what
an image shows no longer says its label. Run it as kind: images with
path: DIR: with linear generators the verdict must be N_g = 0, and with MLP
generators any passing level must be within the trivial bound ℓ − rank ∂ψ.`,
		Example: `  liesweep data shuffle mnist --classes 0,1 --out examples/data/mnist01-shuffled`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("--out DIR is required")}
			}
			if distinct := slices.Compact(slices.Sorted(slices.Values(classes))); len(classes) == 1 || len(distinct) != len(classes) {
				// one class has nothing to shuffle between; a repeated one
				// was kept silently
				return usageError{fmt.Errorf("--classes %v: give at least two distinct labels, or none for all", classes)}
			}
			var (
				m   *datasets.MNIST
				err error
			)
			if args[0] == "mnist" {
				m, err = datasets.LoadMNIST("")
			} else {
				names := make([]string, len(datasets.IDXFiles))
				files := make([][]byte, len(datasets.IDXFiles))
				for i, f := range datasets.IDXFiles {
					for _, name := range []string{f, f + ".gz"} {
						p := filepath.Join(args[0], name)
						if b, e := os.ReadFile(p); e == nil {
							names[i], files[i] = p, b
							break
						}
					}
					if files[i] == nil {
						return usageError{fmt.Errorf("%s: no %s or %s.gz", args[0], f, f)}
					}
				}
				m, err = datasets.ParseIDXSet(names, files)
			}
			if err != nil {
				return err
			}
			for _, c := range classes {
				if !slices.Contains(m.TrainLabels, c) {
					return usageError{fmt.Errorf("--classes %v: the set has no image of label %d", classes, c)}
				}
			}
			s := datasets.ShuffleLabels(m, seed, classes)
			if len(s.TrainLabels) == 0 || len(s.TestLabels) == 0 {
				return usageError{fmt.Errorf("--classes %v keeps no training or no test image", classes)}
			}
			files, err := datasets.EncodeIDXSet(s)
			if err != nil {
				return err
			}
			if err := checkOutDir(out); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			for i, f := range datasets.IDXFiles {
				if err := writeFileAtomic(filepath.Join(out, f), files[i]); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d training and %d test images of %s, labels shuffled (seed %d)\n", out, len(s.TrainImages), len(s.TestImages), args[0], seed)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the directory to write the four IDX files into")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "the seed of the permutation")
	cmd.Flags().IntSliceVar(&classes, "classes", nil, "keep only the images of these labels (default: all)")
	return cmd
}

// writeFileAtomic writes b beside path and renames it over path, so an
// interrupted write never leaves a half file under the name.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
