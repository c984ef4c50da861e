package worker_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// scaleSpec is a grid of tiny analytic trials: so(2) (the norm oracle in
// R², N_g = 1), a few epochs each, over seeds × four learning rates.
func scaleSpec(trials, epochs, concurrency int) string {
	return fmt.Sprintf(`name: scale
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 64}
ng: [1]
seeds: [%s]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: %d, lr: [1.0e-2, 2.0e-2, 3.0e-2, 5.0e-2], checkpoint_every: 100000, eval_points: 64, early_stop: false}
concurrency: %d
`, seedList(trials/4), epochs, concurrency)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// rssMB reads a process's resident set size.
func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds reads a process's user + system CPU time.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100 // USER_HZ
}

// BenchmarkSweepScale runs a sweep of thousands of tiny trials (2,000 by
// default: LIESWEEP_SCALE_TRIALS, a multiple of 4; LIESWEEP_SCALE_EPOCHS
// sets the trials' length, LIESWEEP_SCALE_CONCURRENCY the units at once)
// on the local stack with one worker of 2 training slots, and reports what
// decides whether such a sweep is practical: the largest history of any
// workflow run (the sweep continues as new before 10,000 events), how
// many runs the sweep took, wall time against Σ trial compute / slots, the
// orchestration cost per trial in slot time, the worker's and the Temporal
// server's memory over the run (first and last quarter), and how long
// `sweep status` takes on the running sweep. Run it with `make bench-scale`.
func BenchmarkSweepScale(b *testing.B) {
	if testing.Short() {
		b.Skip("needs the Temporal dev server and MinIO")
	}
	const slots = 2
	trials := envInt("LIESWEEP_SCALE_TRIALS", 2000) / 4 * 4
	epochs := envInt("LIESWEEP_SCALE_EPOCHS", 20)
	conc := envInt("LIESWEEP_SCALE_CONCURRENCY", 16)
	// One worker for every iteration: workers share the task queues, so a
	// second one would serve this sweep against another bucket.
	bucket := fmt.Sprintf("bench-scale-%d", time.Now().UnixNano())
	w := startWorker(b, bucket, "w-scale", "--slots", fmt.Sprint(slots))
	spec := writeSpec(b, scaleSpec(trials, epochs, conc))
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("scale-%d", time.Now().UnixNano())

		// Memory and status time, sampled while the sweep runs.
		type sample struct{ worker, server float64 }
		var (
			mu       sync.Mutex
			samples  []sample
			statusMs []float64
		)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Second):
				}
				s := sample{rssMB(w.cmd.Process.Pid), rssMB(stack.PID("temporal"))}
				mu.Lock()
				samples = append(samples, s)
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Second):
				}
				t0 := time.Now()
				if _, err := cli(b, bucket, "sweep", "status", id, "--json"); err == nil {
					mu.Lock()
					statusMs = append(statusMs, float64(time.Since(t0).Milliseconds()))
					mu.Unlock()
				}
			}
		}()

		pids := map[string]int{"worker": w.cmd.Process.Pid, "Temporal": stack.PID("temporal"), "MinIO": stack.PID("minio")}
		cpu0 := map[string]float64{}
		for k, pid := range pids {
			cpu0[k] = cpuSeconds(pid)
		}
		start := time.Now()
		out, err := cli(b, bucket, "sweep", "start", "--spec", spec, "--id", id, "--wait")
		wall := time.Since(start).Seconds()
		var cpuNote []string
		for _, k := range []string{"Temporal", "worker", "MinIO"} {
			cpuNote = append(cpuNote, fmt.Sprintf("%s %.0f ms", k, 1000*(cpuSeconds(pids[k])-cpu0[k])/float64(trials)))
		}
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatalf("sweep start --wait: %v\n%s", err, tail(out, 3000))
		}

		r := getReport(b, bucket, id)
		var compute float64
		n := 0
		for _, g := range r.Groups {
			for _, lv := range g.Levels {
				for _, t := range lv.Trials {
					n++
					for _, st := range t.Stages {
						compute += st.Seconds
					}
				}
			}
		}
		if n != trials {
			b.Fatalf("%d trials in the verdict, want %d", n, trials)
		}

		runs, maxParent, maxChild, children := histories(b, id)
		ideal := compute / slots
		perTrial := (wall*slots - compute) / float64(n)
		q := len(samples) / 4
		mean := func(xs []sample, f func(sample) float64) float64 {
			s := 0.0
			for _, x := range xs {
				s += f(x)
			}
			return s / float64(max(1, len(xs)))
		}
		wFirst, wLast := mean(samples[:q], func(s sample) float64 { return s.worker }), mean(samples[len(samples)-q:], func(s sample) float64 { return s.worker })
		sFirst, sLast := mean(samples[:q], func(s sample) float64 { return s.server }), mean(samples[len(samples)-q:], func(s sample) float64 { return s.server })
		slices.Sort(statusMs)
		med, worst := 0.0, 0.0
		if len(statusMs) > 0 {
			med, worst = statusMs[len(statusMs)/2], statusMs[len(statusMs)-1]
		}
		b.ReportMetric(wall, "wall-s")
		b.ReportMetric(compute, "compute-s")
		b.ReportMetric(wall/ideal, "wall/ideal")
		b.ReportMetric(1000*perTrial, "overhead-ms/trial")
		b.ReportMetric(float64(maxParent), "max-parent-events")
		b.ReportMetric(float64(maxChild), "max-child-events")
		b.ReportMetric(float64(runs), "sweep-runs")
		b.ReportMetric(med, "status-ms-median")
		b.Logf("%d trials (one N_g each, so as many units; concurrency %d, %d epochs each) on %d slots: wall %.1f s, Σ activity compute %.1f s → ideal %.1f s, wall/ideal %.2f, %.0f ms of slot time per trial beyond compute",
			n, conc, epochs, slots, wall, compute, ideal, wall/ideal, 1000*perTrial)
		b.Logf("histories: the sweep ran as %d runs, the largest had %d events; %d child workflows, the largest had %d events", runs, maxParent, children, maxChild)
		b.Logf("memory (RSS, mean of the first and last quarter of %d samples): worker %.0f → %.0f MB, Temporal dev server %.0f → %.0f MB", len(samples), wFirst, wLast, sFirst, sLast)
		b.Logf("`sweep status --json` on the running sweep (%d calls, CLI process included): median %.0f ms, max %.0f ms", len(statusMs), med, worst)
		b.Logf("CPU per trial: %s (wall %.0f ms per trial; the machine has %d cores)", strings.Join(cpuNote, ", "), 1000*wall/float64(n), runtime.NumCPU())
		b.Logf("at 3-second trials this orchestration cost would give wall/ideal ≈ %.3f", (3+perTrial)/3)
	}
}

// histories lists every run of the sweep id and of its children and
// returns the number of sweep runs, the largest history of a sweep run,
// the largest of a child, and the number of children.
func histories(b *testing.B, id string) (runs int, maxParent, maxChild int64, children int) {
	c, err := client.Dial(client.Options{HostPort: stack.TemporalAddress(), Logger: nopLog{}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", PageSize: 1000, NextPageToken: token})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range resp.Executions {
			wid := e.Execution.GetWorkflowId()
			if wid != id && !strings.HasPrefix(wid, id+"/") {
				continue
			}
			n := e.GetHistoryLength()
			if n == 0 {
				if d, err := c.DescribeWorkflowExecution(ctx, wid, e.Execution.GetRunId()); err == nil {
					n = d.WorkflowExecutionInfo.GetHistoryLength()
				}
			}
			if wid == id {
				runs++
				maxParent = max(maxParent, n)
			} else {
				children++
				maxChild = max(maxChild, n)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return
		}
	}
}

type nopLog struct{}

func (nopLog) Debug(string, ...any) {}
func (nopLog) Info(string, ...any)  {}
func (nopLog) Warn(string, ...any)  {}
func (nopLog) Error(string, ...any) {}
