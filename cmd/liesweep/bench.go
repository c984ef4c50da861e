package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/liesweep/liesweep/models"
	"github.com/spf13/cobra"
)

// benchRun is one measured run of a workload in a child process.
type benchRun struct {
	models.BenchResult
	RSSMB float64 `json:"rss_mb"`
}

// benchRow is one workload of bench/latest.json.
type benchRow struct {
	Workload        string  `json:"workload"`
	Unit            string  `json:"unit"`
	Liesweep        float64 `json:"liesweep"`     // median throughput
	LiesweepMin     float64 `json:"liesweep_min"` // min throughput
	PyTorch         float64 `json:"pytorch"`      // median of the faster thread setting
	PyTorchMin      float64 `json:"pytorch_min"`
	PyTorchThreads  int     `json:"pytorch_threads"`
	Ratio           float64 `json:"ratio"` // liesweep / pytorch (medians)
	RSSLiesweepMB   float64 `json:"rss_liesweep_mb"`
	RSSPyTorchMB    float64 `json:"rss_pytorch_mb"`
	LossLiesweep    float64 `json:"loss_liesweep"`
	LossPyTorch     float64 `json:"loss_pytorch"`
	BLAS            string  `json:"blas"`
	SimilarLossNote string  `json:"loss_check"`
	// Baseline is the median throughput of --baseline's binary on the
	// same workload in the same run, and VsBaseline liesweep / it.
	Baseline   float64 `json:"baseline,omitempty"`
	VsBaseline float64 `json:"vs_baseline,omitempty"`
}

func runChild(cmd *exec.Cmd) (benchRun, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return benchRun{}, fmt.Errorf("%s: %v\n%s", cmd.Args, err, errb.String())
	}
	var r benchRun
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r.BenchResult); err != nil {
		return r, fmt.Errorf("%s printed %q: %v", cmd.Args, out.String(), err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.RSSMB = float64(ru.Maxrss) / 1024
	}
	if r.PeakRSSMB > 0 {
		r.RSSMB = r.PeakRSSMB
	}
	return r, nil
}

func medianMin(rs []benchRun) (med, lo, rss, loss float64) {
	v := make([]float64, len(rs))
	lo = math.Inf(1)
	for i, r := range rs {
		v[i] = r.Throughput
		lo = math.Min(lo, r.Throughput)
		rss = math.Max(rss, r.RSSMB)
		loss = r.FinalLoss
	}
	sort.Float64s(v)
	return v[len(v)/2], lo, rss, loss
}

func newBenchCmd() *cobra.Command {
	var rounds int
	var out, script, python, baseline, readScript string
	var readRows int
	var only string
	cmd := &cobra.Command{
		Use:   "bench [--rounds N] [--out bench/latest.json]",
		Short: "Compare training throughput with the same networks in PyTorch (python3-torch, CPU)",
		Long: `bench trains the workloads (autoencoder ℓ=16, oracle 16→128→128→32→10,
generator sets N_g = 1, 4, 10 against a frozen oracle, the 45 linear
generators of so(10) with joint closure) in liesweep and in
PyTorch (bench/torch_bench.py; at 1 and 2 threads), alternating the two for
--rounds rounds, each run in its own process. It prints per workload the
median and min throughput of each, the ratio liesweep / PyTorch (against the
faster PyTorch thread setting), max RSS, and the mean loss of the last epoch
of each (different initial weights: similar, not equal), and writes the table
as JSON. With --baseline BIN another liesweep binary (e.g. the previous
commit's) runs each workload in the same rounds too, and a last column
gives this binary's throughput against it: what a change made faster or
slower, measured on the same machine in the same run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			workloads := []struct {
				name   string
				epochs int
			}{{"autoencoder", 3}, {"oracle", 3}, {"generators-1", 5}, {"generators-4", 5}, {"generators-10", 3}, {"generators-linear-so10", 100}}
			var rows []benchRow
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%-14s %-6s %12s %12s %7s %6s %9s %9s  %s\n", "workload", "unit", "liesweep", "pytorch", "threads", "ratio", "rss_ls_MB", "rss_pt_MB", "last-epoch loss (liesweep / pytorch)")
			for _, wl := range workloads {
				if only != "" && only != wl.name {
					continue
				}
				var ls, base []benchRun
				pt := map[int][]benchRun{}
				for r := 0; r < rounds; r++ {
					g, err := runChild(exec.Command(self, "bench-workload", wl.name, strconv.Itoa(wl.epochs)))
					if err != nil {
						return err
					}
					ls = append(ls, g)
					if baseline != "" {
						g, err := runChild(exec.Command(baseline, "bench-workload", wl.name, strconv.Itoa(wl.epochs)))
						if err != nil {
							return fmt.Errorf("baseline: %w", err)
						}
						base = append(base, g)
					}
					for _, th := range []int{1, 2} {
						p, err := runChild(exec.Command(python, script, wl.name, strconv.Itoa(wl.epochs), strconv.Itoa(th)))
						if err != nil {
							return fmt.Errorf("pytorch side (install Debian's python3-torch): %w", err)
						}
						pt[th] = append(pt[th], p)
					}
				}
				row := benchRow{Workload: wl.name, Unit: ls[0].Unit, BLAS: models.BLAS}
				row.Liesweep, row.LiesweepMin, row.RSSLiesweepMB, row.LossLiesweep = medianMin(ls)
				best := -1.0
				for _, th := range []int{1, 2} {
					med, lo, rss, loss := medianMin(pt[th])
					if med > best {
						best = med
						row.PyTorch, row.PyTorchMin, row.RSSPyTorchMB, row.LossPyTorch, row.PyTorchThreads = med, lo, rss, loss, th
					}
				}
				row.Ratio = row.Liesweep / row.PyTorch
				vs := ""
				if len(base) > 0 {
					row.Baseline, _, _, _ = medianMin(base)
					row.VsBaseline = row.Liesweep / row.Baseline
					vs = fmt.Sprintf("  %.2f× baseline", row.VsBaseline)
				}
				row.SimilarLossNote = "similar"
				if r := row.LossLiesweep / row.LossPyTorch; r > 2 || r < 0.5 {
					row.SimilarLossNote = fmt.Sprintf("differs by %.2g×: check before trusting the ratio", r)
				}
				rows = append(rows, row)
				fmt.Fprintf(w, "%-14s %-6s %12.0f %12.0f %7d %6.2f %9.0f %9.0f  %.4g / %.4g (%s)%s\n", row.Workload, row.Unit, row.Liesweep, row.PyTorch, row.PyTorchThreads, row.Ratio, row.RSSLiesweepMB, row.RSSPyTorchMB, row.LossLiesweep, row.LossPyTorch, row.SimilarLossNote, vs)
			}
			if readRows > 0 && (only == "" || only == "read") {
				rs, err := benchReads(self, python, readScript, readRows, rounds, w)
				if err != nil {
					return err
				}
				rows = append(rows, rs...)
			}
			cpu := cpuInfo()
			fmt.Fprintf(w, "CPU: %s (family %s, model %s), %d cores, SIMD %s; BLAS %s\n", cpu.Model, cpu.Family, cpu.ModelNum, runtime.NumCPU(), cpu.SIMD, models.BLAS)
			doc := map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "go": runtime.Version(), "cpus": runtime.NumCPU(), "cpu": cpu, "blas": models.BLAS, "rounds": rounds, "workloads": rows}
			b, _ := json.MarshalIndent(doc, "", "  ")
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, append(b, '\n'), 0o644)
		},
	}
	cmd.Flags().IntVar(&rounds, "rounds", 3, "alternating rounds per workload")
	cmd.Flags().StringVar(&out, "out", "bench/latest.json", "where to write the table")
	cmd.Flags().StringVar(&script, "script", "bench/torch_bench.py", "the PyTorch side")
	cmd.Flags().StringVar(&python, "python", "/usr/bin/python3", "the Python with Debian's python3-torch")
	cmd.Flags().StringVar(&only, "only", "", "run one workload only (autoencoder, oracle, generators-1, generators-4, generators-10, generators-linear-so10, or read: the table-reading rows)")
	cmd.Flags().IntVar(&readRows, "read-rows", 1_000_000, "rows of the 16-feature table the table-reading rows read (0: skip them)")
	cmd.Flags().StringVar(&readScript, "read-script", "bench/read_bench.py", "the pandas/NumPy side of the table-reading rows")
	cmd.Flags().StringVar(&baseline, "baseline", "", "another liesweep binary to compare with in the same run (e.g. the previous commit's)")
	return cmd
}

// newBenchWorkloadCmd is the child-process side of bench: one workload in
// a fresh process, so its max RSS is its own.
func newBenchWorkloadCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "bench-workload WORKLOAD EPOCHS",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			epochs, err := strconv.Atoi(args[1])
			if err != nil {
				return err
			}
			r, err := models.BenchWorkload(args[0], epochs)
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(r)
		},
	}
}

// cpuDesc is the CPU a benchmark ran on: ratios against PyTorch depend on it
// (a Zen 3 and a Zen 5 machine gave opposite verdicts on the same code).
type cpuDesc struct {
	Model    string `json:"model"`
	Family   string `json:"family"`
	ModelNum string `json:"model_number"`
	// SIMD lists the vector extensions the kernels can use (avx, avx2,
	// fma, avx512*).
	SIMD  string `json:"simd"`
	Flags string `json:"flags"`
}

// cpuInfo reads /proc/cpuinfo (Linux); elsewhere it names the architecture.
func cpuInfo() cpuDesc {
	d := cpuDesc{Model: runtime.GOARCH}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return d
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "model name" && d.Model == runtime.GOARCH:
			d.Model = v
		case k == "cpu family" && d.Family == "":
			d.Family = v
		case k == "model" && d.ModelNum == "":
			d.ModelNum = v
		case k == "flags" && d.Flags == "":
			d.Flags = v
			var simd []string
			for _, f := range strings.Fields(v) {
				if strings.HasPrefix(f, "avx") || f == "fma" || f == "sse4_2" {
					simd = append(simd, f)
				}
			}
			d.SIMD = strings.Join(simd, " ")
		}
	}
	return d
}
