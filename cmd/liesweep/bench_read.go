package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/models"
	"github.com/spf13/cobra"
)

// benchReads measures reading a table of n rows × 16 features and a class
// label: liesweep's reader (datasets.ReadTable, the file read included)
// against pandas.read_csv for CSV and numpy.load for .npy, each in its own
// process (so max RSS is its own), alternating for rounds rounds.
func benchReads(self, python, script string, n, rounds int, w io.Writer) ([]benchRow, error) {
	dir, err := os.MkdirTemp("", "liesweep-bench-read-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t := benchTable(n)
	exts := []string{"csv", "npy"}
	for _, ext := range exts {
		path := filepath.Join(dir, "table."+ext)
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if err := datasets.WriteTable(f, path, t); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	// A child's peak RSS starts from this process's at the fork (Linux
	// carries the high-water mark across exec): let the table go first.
	t = nil
	debug.FreeOSMemory()
	var rows []benchRow
	for _, ext := range exts {
		path := filepath.Join(dir, "table."+ext)
		fi, _ := os.Stat(path)
		var ls, py []benchRun
		for r := 0; r < rounds; r++ {
			g, err := runChild(exec.Command(self, "bench-read", path))
			if err != nil {
				return nil, err
			}
			ls = append(ls, g)
			p, err := runChild(exec.Command(python, script, path))
			if err != nil {
				return nil, fmt.Errorf("numpy/pandas side (install Debian's python3-pandas): %w", err)
			}
			py = append(py, p)
		}
		row := benchRow{Workload: fmt.Sprintf("read-%s-%dx16", ext, n), Unit: "rows/s", BLAS: models.BLAS}
		row.Liesweep, row.LiesweepMin, row.RSSLiesweepMB, row.LossLiesweep = medianMin(ls)
		row.PyTorch, row.PyTorchMin, row.RSSPyTorchMB, row.LossPyTorch = medianMin(py)
		row.Ratio = row.Liesweep / row.PyTorch
		row.SimilarLossNote = "same values"
		if d := row.LossLiesweep - row.LossPyTorch; d > 1e-6*float64(n) || d < -1e-6*float64(n) {
			row.SimilarLossNote = fmt.Sprintf("sums differ (%g vs %g): the readers disagree", row.LossLiesweep, row.LossPyTorch)
		}
		rows = append(rows, row)
		other := "pandas.read_csv"
		if ext == "npy" {
			other = "numpy.load"
		}
		fmt.Fprintf(w, "%-14s %-6s %12.0f %12.0f %7s %6.2f %9.0f %9.0f  file %.0f MB, against %s; sum of values %s\n", row.Workload, row.Unit, row.Liesweep, row.PyTorch, "-", row.Ratio, row.RSSLiesweepMB, row.RSSPyTorchMB, float64(fi.Size())/1e6, other, row.SimilarLossNote)
	}
	return rows, nil
}

// benchTable is n rows of 16 standard Gaussian features (shortest
// round-trip decimals in CSV, as pandas writes them) and a label 0…9.
func benchTable(n int) *datasets.Table {
	r := rand.New(rand.NewPCG(1, 2))
	t := &datasets.Table{N: n, D: 16, X: make([]float64, n*16), Y: make([]float64, n), Target: "y"}
	for j := 0; j < 16; j++ {
		t.Features = append(t.Features, "f"+strconv.Itoa(j))
	}
	for i := range t.X {
		t.X[i] = r.NormFloat64()
	}
	for i := range t.Y {
		t.Y[i] = float64(r.IntN(10))
	}
	return t
}

// newBenchReadCmd is the child-process side of the table-reading rows: it
// reads FILE as `liesweep run` does (os.ReadFile, then datasets.ReadTable,
// classification on the last column) and prints its rows per second and
// the sum of every value read.
func newBenchReadCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "bench-read FILE",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			b, err := datasets.ReadFile(args[0], 0)
			if err != nil {
				return err
			}
			t, err := datasets.ReadTable(args[0], b, datasets.TableOptions{Task: "classification"})
			if err != nil {
				return err
			}
			d := time.Since(start)
			var sum float64
			for i := range t.N {
				for _, v := range t.Row(i) {
					sum += v
				}
			}
			for _, v := range t.Y {
				sum += t.Labels[int(v)]
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(models.BenchResult{Workload: "read", Throughput: float64(t.N) / d.Seconds(), Unit: "rows/s", FinalLoss: sum, Steps: 1, PeakRSSMB: peakRSSMB()})
		},
	}
}

// peakRSSMB is this process's peak resident memory (VmHWM of
// /proc/self/status) in MiB, or 0 where it cannot be read.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
