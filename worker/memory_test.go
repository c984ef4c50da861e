package worker_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/liesweep/liesweep/sweeps"
)

// TestMemoryEstimateBoundsPeak is the property behind the memory bound
// (issue 22, "bounds that do not bound"): validate refuses a spec whose
// Spec.GeneratorMemory is over MaxGeneratorMemory, which only bounds
// anything if the estimate is not far below what training takes. Over
// random specs whose per-point term dominates (linear and MLP generators,
// ℓ 8–40, 400–1200 points, N_g 1–6), `liesweep train` in a process of its
// own peaks (its own VmHWM, followed while it runs) at no more than 1.1×
// the estimate (the
// 10 % for the garbage collector's timing; 28 draws on 2026-12-07 peaked
// at 0.58–0.93× the estimate by wait4's measure, which counts more, and
// at up to 1.17× the estimate before it counted the analysis). MEMSEED=N
// draws other specs.
func TestMemoryEstimateBoundsPeak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the CLI")
	}
	seed := uint64(22)
	if v := os.Getenv("MEMSEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	for i := range 4 {
		s := sweeps.DefaultSpec()
		l := 8 + r.IntN(33)
		s.Dataset = sweeps.Dataset{Kind: "analytic", Oracle: "norm", Dim: l, Samples: 400 + r.IntN(801)}
		s.Generator = sweeps.Generator{Kind: "linear", Orthogonality: "global", Closure: "posthoc"}
		hidden := ""
		if r.IntN(2) == 1 {
			s.Generator.Kind, s.Generator.Hidden = "mlp", []int{16 + r.IntN(113)}
			hidden = fmt.Sprintf(", hidden: [%d]", s.Generator.Hidden[0])
		}
		ng := 1 + r.IntN(6)
		s.NG = []int{ng}
		s.Train.Epochs, s.Train.EvalPoints, s.Train.EarlyStop = 10, 200, false
		s.Normalize()
		if err := s.Validate(); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		est, points, ok := s.GeneratorMemory()
		if !ok {
			t.Fatalf("case %d: no estimate", i)
		}
		spec := filepath.Join(dir, fmt.Sprintf("s%d.yaml", i))
		os.WriteFile(spec, []byte(fmt.Sprintf(`dataset: {kind: analytic, oracle: norm, dim: %d, samples: %d}
generator: {kind: %s, orthogonality: global, closure: posthoc%s}
train: {epochs: 10, eval_points: 200, early_stop: false}
`, l, s.Dataset.Samples, s.Generator.Kind, hidden)), 0o644)
		cmd := exec.Command(binary, "train", "--spec", spec, "--ng", fmt.Sprint(ng), "--seed", "1", "--out", filepath.Join(dir, fmt.Sprint("out", i)))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		peak := watchPeak(cmd.Process.Pid)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, out.Bytes())
		}
		pk := <-peak
		if pk == 0 {
			t.Fatalf("case %d: no peak read from /proc", i)
		}
		t.Logf("%s ℓ=%d, %d points, N_g=%d%s: peak %d MiB, estimate %d MiB (%.2f)", s.Generator.Kind, l, points, ng, hidden, pk>>20, est>>20, float64(pk)/float64(est))
		if float64(pk) > 1.1*float64(est) {
			t.Errorf("case %d: training peaked at %d MiB, the estimate validate bounds is %d MiB", i, pk>>20, est>>20)
		}
	}
}

// watchPeak follows the process's own peak resident set (VmHWM of
// /proc/PID/status, which exec starts afresh: wait4's figure also counts
// this test process's at the fork, 20–30 MiB more in CI) every 5 ms until
// the process is gone, then sends the last value read, in bytes.
func watchPeak(pid int) chan int64 {
	ch := make(chan int64, 1)
	go func() {
		var last int64
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				break
			}
			i := bytes.Index(b, []byte("VmHWM:"))
			if i < 0 {
				break // a zombie has no memory lines
			}
			var kb int64
			fmt.Sscan(string(b[i+len("VmHWM:"):]), &kb)
			last = kb << 10
			time.Sleep(5 * time.Millisecond)
		}
		ch <- last
	}()
	return ch
}
