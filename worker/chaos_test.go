package worker_test

// The chaos suite (`make chaos`; docs/reliability.md): a small analytic
// sweep through `liesweep sweep start --wait`, with two worker processes,
// on a Temporal dev server and a MinIO of its own, disturbed while it
// trains:
//
//  1. the Temporal dev server killed with SIGKILL and restarted on the same
//     port and SQLite database file, at once and (1b) after 20 s;
//  2. MinIO stopped (SIGSTOP) for 60 s, then continued (SIGCONT);
//  3. three workers killed with SIGKILL at random moments, each replaced;
//  4. the network between the workers and MinIO cut for 30 s (a TCP proxy
//     drops every connection and refuses new ones).
//
// Each must end as an undisturbed run of the same spec (run once, on a
// stack of its own): the same verdict (max_ng, bounded, every level and
// trial passed or not), every trial's result once in sweeps/<id>/results/,
// every object but the checkpoints written once (bucket versioning counts
// the writes), and the generators' weights the same bytes under the same
// content-addressed keys — bit-identical, also where a training was
// interrupted and resumed from its checkpoint. Each case logs its timeline
// and a CHAOS line with its wall time against the undisturbed run's.
//
// The cases run only with LIESWEEP_CHAOS=1 (make chaos): the shortest
// takes 20–30 s plus as long again for the undisturbed run it needs
// (45–70 s in all on 2 shared cores), over the minute a case may add to
// `make test`.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chaosSpec: so(3) with linear generators, N_g ∈ {1, 3}, two seeds: four
// trials of 8000 epochs (about 4 s for N_g = 1 and 7 s for N_g = 3 on one
// core), each checkpointing every 1000 epochs. Early stopping is off so
// every training runs (and checkpoints) the same number of epochs.
const chaosSpec = `name: so3-chaos
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 300}
ng: [1, 3]
seeds: [1, 2]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 8000, lr: 1.0e-3, checkpoint_every: 1000, eval_points: 300, early_stop: false}
concurrency: 2
`

const chaosEpochs = 8000

var chaosBase struct {
	mu sync.Mutex
	o  *outcome
}

// chaosBaseline runs the undisturbed sweep once per test binary, on a
// stack of its own, the same way as the cases (two workers of one slot).
func chaosBaseline(t *testing.T) *outcome {
	t.Helper()
	chaosBase.mu.Lock()
	defer chaosBase.mu.Unlock()
	if chaosBase.o != nil {
		return chaosBase.o
	}
	t.Run("undisturbed", func(t *testing.T) {
		st := newChaosStack(t)
		r := newChaosRun(t, st, "chaos-base", "chaos-base")
		r.startWorker()
		r.startWorker()
		p := r.startSweep(writeSpec(t, chaosSpec))
		<-p.done
		if p.err != nil {
			t.Fatalf("undisturbed sweep: %v\n%s\n%s", p.err, p.out.String(), r.workerLogs())
		}
		o := r.collect(p.wall)
		if len(o.resumed) != 0 {
			t.Errorf("the undisturbed run resumed trainings: %v", o.resumed)
		}
		if o.trials != 4 || len(o.weights) != 4 || o.verdict[0] != "norm(n=3) ℓ=3: max_ng 3 bounded false" {
			t.Fatalf("undisturbed run: %d trials, %d weights, verdict\n%v\nwant so(3)'s: 4 trials, max_ng 3", o.trials, len(o.weights), o.verdict)
		}
		t.Logf("CHAOS undisturbed: wall %.1f s; %d trials; workers %v; %d objects, %d rewritten (checkpoints: %d writes); load %s", o.wall.Seconds(), o.trials, o.workers, o.objects, len(o.rewrites), o.ckWrites, o.load)
		chaosBase.o = o
	})
	if chaosBase.o == nil {
		t.Fatal("no undisturbed baseline")
	}
	return chaosBase.o
}

// finish waits for the `sweep start --wait` of a case. Should it exit with
// an error, the test fails, and the sweep is followed with `sweep watch`
// to its end so the other checks still run.
func (r *chaosRun) finish(p *sweepProc) time.Duration {
	<-p.done
	if p.err == nil {
		r.event("sweep start --wait returned: the sweep completed")
		return p.wall
	}
	r.t.Errorf("BUG (docs/reliability.md, \"the waiting CLI gives up\"): `liesweep sweep start --wait` exited with %v while the sweep went on: "+
		"watch() in cmd/liesweep/sweep_status.go returns the first error of DescribeWorkflowExecution (the SDK's 10 s RPC deadline) instead of waiting for the server:\n%s", p.err, tail(p.out.String(), 3000))
	w := r.runCLI("sweep", "watch", r.id)
	<-w.done
	if w.err != nil {
		r.t.Fatalf("sweep watch: %v\n%s\n%s", w.err, w.out.String(), r.workerLogs())
	}
	r.event("sweep watch returned: the sweep completed")
	return time.Since(r.start)
}

// TestChaosTemporalRestart kills the Temporal dev server with SIGKILL in
// the middle of the trainings and restarts it at once on the same port and
// SQLite file; the workers and the waiting CLI stay up.
func TestChaosTemporalRestart(t *testing.T) {
	needChaos(t)
	temporalKill(t, "temporal-restart", 0)
}

// TestChaosTemporalDown20s is the same with the server kept down for 20 s
// before the restart, longer than the activities' heartbeat timeout (10 s)
// and the SDK's RPC retries: the workers' failed heartbeats cancel their
// running trainings, the restarted server times the attempts out and
// retries them, and they resume from their checkpoints. The waiting CLI
// rides out the outage (it gave up after 10 s before the fix recorded in
// docs/reliability.md).
func TestChaosTemporalDown20s(t *testing.T) {
	needChaos(t)
	temporalKill(t, "temporal-down-20s", 20*time.Second)
}

func temporalKill(t *testing.T, name string, down time.Duration) {
	base := chaosBaseline(t)
	st := newChaosStack(t)
	r := newChaosRun(t, st, "chaos-"+name, "chaos-"+name)
	ws := []*chaosWorker{r.startWorker(), r.startWorker()}
	p := r.startSweep(writeSpec(t, chaosSpec))
	at := r.waitMidTraining(p, 2000)
	pid := st.PID("temporal")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitExit(pid, 10*time.Second) {
		t.Fatalf("temporal (pid %d) still there after SIGKILL", pid)
	}
	killed := time.Now()
	r.event("SIGKILL the Temporal dev server (pid %d), a training %s", pid, at)
	time.Sleep(down)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := st.Up(ctx); err != nil { // restarts what is not running: Temporal, same port and database
		t.Fatalf("restart Temporal: %v", err)
	}
	r.event("Temporal restarted on %s with the same database file, answering %.1f s after the kill (pid %d; CLI still waiting: %v)", st.TemporalAddress(), time.Since(killed).Seconds(), st.PID("temporal"), !p.finished())
	wall := r.finish(p)
	for _, w := range ws {
		if !w.alive() {
			t.Errorf("worker %s exited when Temporal went away:\n%s", w.name, tail(w.log.String(), 3000))
		}
	}
	compareOutcome(t, name, base, r.collect(wall))
}

// TestChaosMinIOStopped stops MinIO with SIGSTOP for 60 s in the middle of
// the trainings (it holds its connections but answers nothing), then
// continues it.
func TestChaosMinIOStopped(t *testing.T) {
	needChaos(t)
	base := chaosBaseline(t)
	st := newChaosStack(t)
	r := newChaosRun(t, st, "chaos-minio", "chaos-minio")
	r.startWorker()
	r.startWorker()
	p := r.startSweep(writeSpec(t, chaosSpec))
	at := r.waitMidTraining(p, 2000)
	pid := st.PID("minio")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	r.event("SIGSTOP MinIO (pid %d), a training %s", pid, at)
	time.Sleep(60 * time.Second)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	r.event("SIGCONT MinIO after 60 s (sweep still waiting: %v)", !p.finished())
	wall := r.finish(p)
	compareOutcome(t, "minio-stopped-60s", base, r.collect(wall))
}

// TestChaosWorkerKills kills three workers with SIGKILL at random moments
// of one sweep, starting a new worker after each kill (LIESWEEP_CHAOS_SEED
// replays a run's moments).
func TestChaosWorkerKills(t *testing.T) {
	needChaos(t)
	base := chaosBaseline(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LIESWEEP_CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("moments drawn with LIESWEEP_CHAOS_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	st := newChaosStack(t)
	r := newChaosRun(t, st, "chaos-workers", "chaos-workers")
	live := []*chaosWorker{r.startWorker(), r.startWorker()}
	// three moments drawn in 10–70 % of the undisturbed wall time: all land
	// within the sweep (which the kills make longer), in its trainings,
	// analyses or hand-overs as they fall
	var moments []time.Duration
	for range 3 {
		moments = append(moments, time.Duration(float64(base.wall)*(0.1+0.6*rng.Float64())))
	}
	slices.Sort(moments)
	p := r.startSweep(writeSpec(t, chaosSpec))
	kills := 0
	for _, m := range moments {
		select {
		case <-p.done:
		case <-time.After(time.Until(r.start.Add(m))):
		}
		if p.finished() {
			break
		}
		i := rng.IntN(len(live))
		victim := live[i]
		g, _ := r.progress(context.Background())
		var training []string
		for k, e := range g {
			if !e.Done && e.Epoch > 0 {
				training = append(training, fmt.Sprintf("%s@%d", short(strings.TrimPrefix(k, "artifacts/generators/")), e.Epoch))
			}
		}
		slices.Sort(training)
		r.kill(victim)
		kills++
		nw := r.startWorker()
		live[i] = nw
		r.event("kill %d: SIGKILL worker %s (pid %d); unfinished trainings' last checkpoints: %v; started %s", kills, victim.name, victim.cmd.Process.Pid, training, nw.name)
	}
	if kills < 3 {
		t.Errorf("the sweep ended after %d kills, want 3", kills)
	}
	wall := r.finish(p)
	o := r.collect(wall)
	if len(o.resumed) == 0 {
		t.Logf("no kill interrupted a training between checkpoints (the weights are still compared)")
	}
	compareOutcome(t, "worker-kills", base, o)
}

// TestChaosNetworkCut puts a TCP proxy between the workers and MinIO and
// cuts it for 30 s in the middle of the trainings: every open connection is
// dropped and new ones are refused (the port is closed), then it listens
// again on the same port.
func TestChaosNetworkCut(t *testing.T) {
	needChaos(t)
	base := chaosBaseline(t)
	st := newChaosStack(t)
	r := newChaosRun(t, st, "chaos-net", "chaos-net")
	px := startCutProxy(t, st.MinIOAddress())
	r.s3 = px.addr
	r.startWorker()
	r.startWorker()
	p := r.startSweep(writeSpec(t, chaosSpec))
	at := r.waitMidTraining(p, 2000)
	r.event("cut the workers' network to MinIO (proxy %s → %s), a training %s", px.addr, st.MinIOAddress(), at)
	dropped, err := px.Cut(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r.event("network back after 30 s (%d connections dropped; sweep still waiting: %v)", dropped, !p.finished())
	wall := r.finish(p)
	compareOutcome(t, "network-cut-30s", base, r.collect(wall))
}
