package worker_test

// Tools of the chaos suite (chaos_test.go): a local stack of its own per
// case (so killing its servers leaves the harness's shared stack alone),
// worker processes that can be killed, a TCP proxy that can cut the
// network, and the outcome of a sweep as the suite compares it.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/liesweep/liesweep/activities"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/devstack"
	"github.com/liesweep/liesweep/infra/s3store"
	"github.com/liesweep/liesweep/models"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// chaosEnabled: the chaos cases run under `make chaos` (LIESWEEP_CHAOS=1)
// only; `go test ./worker` skips them.
func chaosEnabled() bool { return os.Getenv("LIESWEEP_CHAOS") == "1" }

func needChaos(t *testing.T) {
	t.Helper()
	skipShort(t)
	if !chaosEnabled() {
		t.Skip("chaos case: run it with `make chaos` (LIESWEEP_CHAOS=1)")
	}
}

// newChaosStack starts a Temporal dev server and a MinIO of the test's
// own, under its temporary directory; they are stopped when it ends.
func newChaosStack(t *testing.T) *devstack.Stack {
	t.Helper()
	dir := t.TempDir() // removed after the stack is down (cleanups run last-in first-out)
	ports := make([]int, 3)
	for i := range ports {
		var err error
		if ports[i], err = devstack.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	st := &devstack.Stack{Dir: filepath.Join(dir, "state"), ToolsDir: stack.ToolsDir, TemporalPort: ports[0], UIPort: ports[1], MinIOPort: ports[2], AccessKey: infra.DevAccessKey, SecretKey: infra.DevSecretKey}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := st.Up(ctx); err != nil {
		st.Down()
		t.Fatalf("chaos stack: %v", err)
	}
	t.Cleanup(func() {
		if p := st.PID("minio"); p > 0 {
			syscall.Kill(p, syscall.SIGCONT) // a case that failed while MinIO was stopped
		}
		st.Down()
	})
	return st
}

// waitExit waits until the process pid is gone (reaped), at most limit.
func waitExit(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// chaosRun is one sweep of a case: its stack, bucket, S3 endpoint for the
// workers (a proxy in the network case), its workers, and a timeline of
// what the case did.
type chaosRun struct {
	t      *testing.T
	st     *devstack.Stack
	bucket string
	id     string
	s3     string // the workers' LIESWEEP_S3_ENDPOINT
	// temporal is the workers' LIESWEEP_TEMPORAL_ADDRESS when it is not the
	// stack's (a proxy in the Temporal partition case); the CLI goes direct
	temporal string
	start    time.Time

	mu      sync.Mutex
	workers []*chaosWorker
	events  []string
	nextW   int
	// moreLogs adds the logs of workers the run did not start (Nomad's).
	moreLogs func() string
}

func newChaosRun(t *testing.T, st *devstack.Stack, bucket, id string) *chaosRun {
	r := &chaosRun{t: t, st: st, bucket: bucket, id: id, s3: st.MinIOAddress(), start: time.Now()}
	// versioning counts every write: a final artifact must have one version
	ctx := context.Background()
	// a MinIO that passed its health check may still answer "not
	// initialized" for a moment
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := r.store().EnsureBucket(ctx)
		var er minio.ErrorResponse
		if err == nil {
			break
		}
		if !errors.As(err, &er) || er.Code != "XMinioServerNotInitialized" || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := r.minio().EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	return r
}

// event logs a step of the case with the time since the sweep started.
func (r *chaosRun) event(format string, args ...any) {
	msg := fmt.Sprintf("+%5.1fs  ", time.Since(r.start).Seconds()) + fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.events = append(r.events, msg)
	r.mu.Unlock()
	r.t.Log(msg)
}

func (r *chaosRun) env(s3 string) []string {
	return append(os.Environ(),
		"LIESWEEP_TEMPORAL_ADDRESS="+r.st.TemporalAddress(),
		"LIESWEEP_TEMPORAL_UI="+r.st.UIAddress(),
		"LIESWEEP_S3_ENDPOINT="+s3,
		"LIESWEEP_S3_BUCKET="+r.bucket,
		"LIESWEEP_S3_ACCESS_KEY="+infra.DevAccessKey,
		"LIESWEEP_S3_SECRET_KEY="+infra.DevSecretKey,
	)
}

// store and minio talk to the case's MinIO directly (never through the proxy).
func (r *chaosRun) store() *s3store.Store {
	s, err := s3store.New(s3store.Config{Endpoint: r.st.MinIOAddress(), AccessKey: infra.DevAccessKey, SecretKey: infra.DevSecretKey, Bucket: r.bucket})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *chaosRun) minio() *minio.Client {
	c, err := minio.New(r.st.MinIOAddress(), &minio.Options{Creds: credentials.NewStaticV4(infra.DevAccessKey, infra.DevSecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// cli runs a liesweep command against the case's stack (MinIO direct).
func (r *chaosRun) cli(args ...string) (string, error) {
	return runCLI(r.env(r.st.MinIOAddress()), args...)
}

// chaosWorker is a `liesweep worker` process.
type chaosWorker struct {
	name string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

func (w *chaosWorker) alive() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// startWorker starts a worker serving both queues with one training slot.
func (r *chaosRun) startWorker() *chaosWorker {
	r.mu.Lock()
	r.nextW++
	name := fmt.Sprintf("w%d", r.nextW)
	r.mu.Unlock()
	cmd := exec.Command(binary, "worker", "--name", name, "--slots", "1")
	cmd.Env = r.env(r.s3)
	if r.temporal != "" {
		cmd.Env = append(cmd.Env, "LIESWEEP_TEMPORAL_ADDRESS="+r.temporal) // the last value wins
	}
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	w := &chaosWorker{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(w.done) }()
	r.t.Cleanup(func() {
		if w.alive() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-w.done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-w.done
			}
		}
	})
	r.mu.Lock()
	r.workers = append(r.workers, w)
	r.mu.Unlock()
	return w
}

// kill sends SIGKILL to a worker and waits for it to die.
func (r *chaosRun) kill(w *chaosWorker) {
	if err := w.cmd.Process.Kill(); err != nil {
		r.t.Fatal(err)
	}
	<-w.done
}

func (r *chaosRun) workerLogs() string {
	var b strings.Builder
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.workers {
		fmt.Fprintf(&b, "--- worker %s ---\n%s\n", w.name, tail(w.log.String(), 4000))
	}
	if r.moreLogs != nil {
		b.WriteString(r.moreLogs())
	}
	return b.String()
}

// short abbreviates a stage key.
func short(k string) string {
	if len(k) > 8 {
		return k[:8] + "…"
	}
	return k
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// sweepProc is a running `liesweep sweep start --wait` (or `sweep watch`).
type sweepProc struct {
	out   lockedBuffer
	err   error
	wall  time.Duration
	done  chan struct{}
	start time.Time
}

func (r *chaosRun) runCLI(args ...string) *sweepProc {
	p := &sweepProc{done: make(chan struct{}), start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = r.env(r.st.MinIOAddress())
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		cancel()
		r.t.Fatal(err)
	}
	go func() {
		defer cancel()
		p.err = cmd.Wait()
		p.wall = time.Since(p.start)
		close(p.done)
	}()
	return p
}

// startSweep runs `sweep start --spec … --id … --wait`.
func (r *chaosRun) startSweep(spec string) *sweepProc {
	r.start = time.Now()
	return r.runCLI("sweep", "start", "--spec", spec, "--id", r.id, "--wait")
}

func (p *sweepProc) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// genProgress is the generators' training as the bucket shows it: per
// stage key the epoch of its checkpoint and whether its weights are stored.
type genProgress map[string]struct {
	Epoch int
	Done  bool
}

func (r *chaosRun) progress(ctx context.Context) (genProgress, error) {
	s := r.store()
	keys, err := s.List(ctx, "artifacts/generators/")
	if err != nil {
		return nil, err
	}
	g := genProgress{}
	for _, k := range keys {
		dir := k[:strings.LastIndex(k, "/")]
		e := g[dir]
		switch {
		case strings.HasSuffix(k, "/weights.safetensors"):
			e.Done = true
		case strings.HasSuffix(k, "/checkpoint.safetensors"):
			b, err := s.Get(ctx, k)
			if err != nil {
				continue // being rewritten
			}
			_, meta, err := models.ReadSafetensors(bytes.NewReader(b))
			if err != nil {
				continue
			}
			e.Epoch, _ = strconv.Atoi(meta["epoch"])
		}
		g[dir] = e
	}
	return g, nil
}

// waitMidTraining waits until some trial's generators have checkpointed at
// least minEpoch epochs and are not finished: a training is in progress.
func (r *chaosRun) waitMidTraining(p *sweepProc, minEpoch int) string {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if p.finished() {
			r.t.Fatalf("the sweep ended before any training reached epoch %d:\n%s\n%s", minEpoch, p.out.String(), r.workerLogs())
		}
		g, err := r.progress(context.Background())
		if err == nil {
			for k, e := range g {
				if e.Epoch >= minEpoch && !e.Done {
					return fmt.Sprintf("(generators %s) at epoch %d", short(strings.TrimPrefix(k, "artifacts/generators/")), e.Epoch)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no training reached epoch %d within 5 minutes\n%s", minEpoch, r.workerLogs())
	return ""
}

// training is a generators training in progress as its heartbeat shows it.
type training struct {
	trial  string // trialLabel
	worker string
	epoch  int
}

// waitTraining polls `sweep status` until a trial's heartbeat shows its
// generators training at an epoch in [minEpoch, maxEpoch], and returns the
// one at the lowest epoch (the most left to train). A heartbeat is up to
// 2 s old (activities.heartbeatEvery).
func (r *chaosRun) waitTraining(p *sweepProc, minEpoch, maxEpoch int) training {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if p.finished() {
			r.t.Fatalf("the sweep ended before a heartbeat showed a training at epoch %d–%d:\n%s\n%s", minEpoch, maxEpoch, p.out.String(), r.workerLogs())
		}
		out, err := r.cli("sweep", "status", r.id, "-o", "json")
		var st struct {
			Trials []struct {
				Beat *activities.Heartbeat `json:"heartbeat"`
			} `json:"trials"`
		}
		if err == nil && json.Unmarshal([]byte(out), &st) == nil {
			var best *training
			for _, tr := range st.Trials {
				if b := tr.Beat; b != nil && b.Stage == "generators" && b.Epoch >= minEpoch && b.Epoch <= maxEpoch && (best == nil || b.Epoch < best.epoch) {
					best = &training{trial: trialLabel(b.NG, b.Seed), worker: b.Worker, epoch: b.Epoch}
				}
			}
			if best != nil {
				return *best
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("no heartbeat showed a training at epoch %d–%d within 5 minutes\n%s", minEpoch, maxEpoch, r.workerLogs())
	return training{}
}

func trialLabel(ng, seed int) string { return fmt.Sprintf("N_g=%d seed=%d", ng, seed) }

// checkpointEpochs lists the epoch of every write of a stage's checkpoint
// (the bucket keeps every version), in ascending order.
func (r *chaosRun) checkpointEpochs(ctx context.Context, key string) []int {
	mc := r.minio()
	var epochs []int
	var objs []minio.ObjectInfo
	for obj := range mc.ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			r.t.Fatal(obj.Err)
		}
		if obj.Key == key && !obj.IsDeleteMarker {
			objs = append(objs, obj)
		}
	}
	for _, obj := range objs {
		o, err := mc.GetObject(ctx, r.bucket, key, minio.GetObjectOptions{VersionID: obj.VersionID})
		if err != nil {
			r.t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			r.t.Fatalf("read %s version %s: %v", key, obj.VersionID, err)
		}
		_, meta, err := models.ReadSafetensors(bytes.NewReader(b))
		if err != nil {
			r.t.Fatalf("%s version %s: %v", key, obj.VersionID, err)
		}
		e, err := strconv.Atoi(meta["epoch"])
		if err != nil {
			r.t.Fatalf("%s version %s: epoch %q: %v", key, obj.VersionID, meta["epoch"], err)
		}
		epochs = append(epochs, e)
	}
	slices.Sort(epochs)
	return epochs
}

// chaosReport is the part of `sweep report --format json` the suite compares.
type chaosReport struct {
	Groups []struct {
		Dataset   string `json:"dataset"`
		LatentDim int    `json:"latent_dim"`
		MaxNG     int    `json:"max_ng"`
		Bounded   bool   `json:"bounded"`
		Levels    []struct {
			NG     int  `json:"ng"`
			Passed bool `json:"passed"`
			Trials []struct {
				NG     int    `json:"ng"`
				Seed   int    `json:"seed"`
				Passed bool   `json:"passed"`
				Worker string `json:"worker"`
				Stages []struct {
					Stage       string `json:"stage"`
					Key         string `json:"key"`
					Reused      bool   `json:"reused"`
					ResumedFrom int    `json:"resumed_from"`
				} `json:"stages"`
			} `json:"trials"`
		} `json:"levels"`
	} `json:"groups"`
}

// outcome is what the suite compares between a disturbed sweep and the
// undisturbed baseline.
type outcome struct {
	wall     time.Duration
	verdict  []string          // one line per group, level and trial: max_ng, bounded, passed
	trials   int               // trials in the verdict
	results  []string          // files under sweeps/<id>/results/
	weights  map[string]string // generator weights key → SHA-256 of its bytes
	resumed  map[string]resume // trial → where its generators' training resumed
	reused   []string          // trials whose generators were found stored: an attempt's completion was lost and its retry reused them
	workers  map[string]int    // trials finished per worker
	finished map[string]string // trial → the worker that finished it
	rewrites []string          // objects written more than once (checkpoints excepted)
	objects  int               // objects in the bucket
	ckWrites int               // versions of the checkpoints (every write of one)
	load     string            // /proc/loadavg when the sweep ended
}

// resume is where a trial's generator training resumed: the checkpoint's
// epoch and the key of the weights it ended with.
type resume struct {
	epoch   int
	weights string
}

// collect reads the verdict, the results and the artifacts of the run's
// sweep, and checks what holds whatever the disturbance: every trial once
// in results/, every object but the checkpoints written once.
func (r *chaosRun) collect(wall time.Duration) *outcome {
	t := r.t
	ctx := context.Background()
	la, _ := os.ReadFile("/proc/loadavg")
	o := &outcome{wall: wall, load: strings.Join(strings.Fields(string(la))[:min(3, len(strings.Fields(string(la))))], " "), weights: map[string]string{}, resumed: map[string]resume{}, workers: map[string]int{}, finished: map[string]string{}}
	out, err := r.cli("sweep", "report", r.id, "--format", "json")
	if err != nil {
		t.Fatalf("sweep report: %v\n%s", err, out)
	}
	var rep chaosReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	var wantResults []string
	for _, g := range rep.Groups {
		o.verdict = append(o.verdict, fmt.Sprintf("%s ℓ=%d: max_ng %d bounded %v", g.Dataset, g.LatentDim, g.MaxNG, g.Bounded))
		for _, lv := range g.Levels {
			o.verdict = append(o.verdict, fmt.Sprintf("  N_g=%d passed %v", lv.NG, lv.Passed))
			for _, tr := range lv.Trials {
				o.trials++
				o.workers[tr.Worker]++
				o.finished[trialLabel(tr.NG, tr.Seed)] = tr.Worker
				o.verdict = append(o.verdict, fmt.Sprintf("    N_g=%d seed=%d passed %v", tr.NG, tr.Seed, tr.Passed))
				wantResults = append(wantResults, fmt.Sprintf("l%d-ng%d-seed%d.json", g.LatentDim, tr.NG, tr.Seed))
				for _, s := range tr.Stages {
					if s.Stage == "generators" && s.Reused {
						o.reused = append(o.reused, trialLabel(tr.NG, tr.Seed))
					}
					if s.Stage == "generators" && s.ResumedFrom > 0 {
						o.resumed[trialLabel(tr.NG, tr.Seed)] = resume{epoch: s.ResumedFrom, weights: "artifacts/generators/" + s.Key + "/weights.safetensors"}
					}
				}
			}
		}
	}
	s := r.store()
	keys, err := s.List(ctx, "sweeps/"+r.id+"/results/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		o.results = append(o.results, strings.TrimPrefix(k, "sweeps/"+r.id+"/results/"))
	}
	sort.Strings(o.results)
	sort.Strings(wantResults)
	if !slices.Equal(o.results, wantResults) {
		t.Errorf("results in the bucket %v, want each trial of the verdict once: %v", o.results, wantResults)
	}
	keys, err = s.List(ctx, "artifacts/generators/")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "/weights.safetensors") {
			b, err := s.Get(ctx, k) // verifies the SHA-256 in the object's metadata too
			if err != nil {
				t.Fatalf("generator weights %s: %v", k, err)
			}
			sum := sha256.Sum256(b)
			o.weights[k] = hex.EncodeToString(sum[:])
		}
	}
	versions := map[string]int{}
	for obj := range r.minio().ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if obj.IsDeleteMarker {
			o.rewrites = append(o.rewrites, obj.Key+" deleted")
			continue
		}
		versions[obj.Key]++
		if strings.HasSuffix(obj.Key, "/checkpoint.safetensors") {
			o.ckWrites++
		}
	}
	o.objects = len(versions)
	for k, n := range versions {
		if n != 1 && !rewrittenByDesign(k) {
			o.rewrites = append(o.rewrites, fmt.Sprintf("%s written %d times", k, n))
		}
	}
	sort.Strings(o.rewrites)
	for _, w := range o.rewrites {
		t.Errorf("final object rewritten: %s", w)
	}
	return o
}

// compare checks a disturbed run's outcome against the baseline's: the
// same verdict, the same generator weights bit for bit (the same keys
// holding the same bytes), and logs the time lost.
func compareOutcome(t *testing.T, name string, base, got *outcome) {
	t.Helper()
	if !slices.Equal(base.verdict, got.verdict) {
		t.Errorf("%s: verdict differs from the undisturbed run's:\n got:\n%s\nwant:\n%s", name, strings.Join(got.verdict, "\n"), strings.Join(base.verdict, "\n"))
	}
	if len(got.weights) != len(base.weights) {
		t.Errorf("%s: %d generator weights in the bucket, the undisturbed run stored %d", name, len(got.weights), len(base.weights))
	}
	for k, sum := range base.weights {
		if got.weights[k] != sum {
			t.Errorf("%s: generator weights %s have SHA-256 %q, the undisturbed run's %q", name, k, got.weights[k], sum)
		}
	}
	for trial, rs := range got.resumed {
		same := got.weights[rs.weights] != "" && got.weights[rs.weights] == base.weights[rs.weights]
		t.Logf("%s: %s resumed from epoch %d: final weights %s SHA-256 %s, bit-identical to the undisturbed run's: %v", name, trial, rs.epoch, short(strings.TrimPrefix(rs.weights, "artifacts/generators/")), short(got.weights[rs.weights]), same)
		if !same {
			t.Errorf("%s: %s resumed from epoch %d and ended with other weights than the undisturbed run", name, trial, rs.epoch)
		}
	}
	t.Logf("CHAOS %s: wall %.1f s, undisturbed %.1f s, lost %.1f s; %d trials; %d resumed from a checkpoint, %d reused stored weights %v; workers %v; verdict equal %v; weights identical %v (%d); %d objects, %d rewritten (checkpoints: %d writes); load %s",
		name, got.wall.Seconds(), base.wall.Seconds(), (got.wall - base.wall).Seconds(), got.trials, len(got.resumed), len(got.reused), got.reused, got.workers,
		slices.Equal(base.verdict, got.verdict), weightsEqual(base, got), len(got.weights), got.objects, len(got.rewrites), got.ckWrites, got.load)
}

func weightsEqual(a, b *outcome) bool {
	if len(a.weights) != len(b.weights) {
		return false
	}
	for k, v := range a.weights {
		if b.weights[k] != v {
			return false
		}
	}
	return true
}

// cutProxy forwards TCP connections to a target; Cut drops every
// connection and refuses new ones (its port closed) for a while.
type cutProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]struct{}
	n     int // connections forwarded

	// a tap (Tap): a request it matches is interrupted part-way by hit
	tapMatch func(header []byte) bool
	tapHit   func(what string)
}

// Tap arms the proxy once: the first request from a client whose first
// chunk match accepts is forwarded in part (its header and about half of
// its body, or half of its header when no body follows it), then hit runs
// (synchronously, the rest of the request held back), then the rest is
// forwarded. hit is told where the request was cut.
func (p *cutProxy) Tap(match func(header []byte) bool, hit func(what string)) {
	p.mu.Lock()
	p.tapMatch, p.tapHit = match, hit
	p.mu.Unlock()
}

// tapped returns the armed tap's hit when b matches it, and disarms it.
func (p *cutProxy) tapped(b []byte) func(string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tapMatch == nil || !p.tapMatch(b) {
		return nil
	}
	hit := p.tapHit
	p.tapMatch, p.tapHit = nil, nil
	return hit
}

// upstream copies what the client c sends to u, through the tap.
func (p *cutProxy) upstream(u, c net.Conn) {
	buf := make([]byte, 64<<10)
	var pending func(string) // a tapped request whose body is still to come
	var head int             // bytes of its header
	for {
		n, err := c.Read(buf)
		if n > 0 {
			b := buf[:n]
			hit := pending
			pending = nil
			split := -1
			var what string
			switch {
			case hit != nil: // the body of a tapped request
				split = n / 2
				what = fmt.Sprintf("its %d-byte header and %d bytes of its body forwarded (%d held back)", head, split, n-split)
			default:
				if hit = p.tapped(b); hit == nil {
					break
				}
				if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 && i+4 < n {
					head = i + 4
					split = head + (n-head)/2
					what = fmt.Sprintf("its %d-byte header and %d bytes of its body forwarded (%d held back)", head, split-head, n-split)
				} else if i >= 0 { // the body follows in the next chunk
					head, pending, hit = n, hit, nil
				} else {
					split = n / 2
					what = fmt.Sprintf("%d bytes of its header forwarded", split)
				}
			}
			if hit != nil {
				if _, werr := u.Write(b[:split]); werr != nil {
					return
				}
				hit(what)
				b = b[split:]
			}
			if _, werr := u.Write(b); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.ln != nil {
			p.ln.Close()
			p.ln = nil
		}
		for c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *cutProxy) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		c.Close()
		u.Close()
		return
	}
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.n++
	p.mu.Unlock()
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			c.Close()
			u.Close()
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, u)
			p.mu.Unlock()
		})
	}
	go func() { p.upstream(u, c); closeBoth() }()
	io.Copy(c, u)
	closeBoth()
}

// Cut closes the listening port and every open connection, waits d, and
// listens again on the same port. It returns how many connections it dropped.
func (p *cutProxy) Cut(d time.Duration) (dropped int, err error) {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		dropped++
	}
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	time.Sleep(d)
	var ln net.Listener
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return dropped / 2, fmt.Errorf("proxy: listen again on %s: %w", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
	return dropped / 2, nil // two sockets per connection
}

// rewrittenByDesign reports whether an object is one that training
// rewrites: a stage's checkpoint and the loss-history chunk a checkpoint
// ends in. Every other object is written once.
func rewrittenByDesign(k string) bool {
	return strings.HasSuffix(k, "/checkpoint.safetensors") || strings.Contains(k, "/checkpoint.losses-")
}
