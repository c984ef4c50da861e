package worker_test

// More chaos cases (docs/reliability.md, cases 7 and 8), judged as the
// others in chaos_test.go:
//
//  7. MinIO killed with SIGKILL while the trainings write checkpoints, and
//     restarted after 5 s on the same data directory and port;
//  8. the network between the workers and Temporal cut for 20 s (longer
//     than the activities' 10 s heartbeat timeout) by a TCP proxy, with
//     Temporal and MinIO alive.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/minio/minio-go/v7"
)

// ckVersion is one write of a checkpoint as the bucket keeps it.
type ckVersion struct {
	epoch int  // -1 when it does not parse
	sound bool // its bytes match the SHA-256 recorded with it
}

// checkpointVersions reads every version of a checkpoint and checks each
// against the SHA-256 in its metadata (what s3store.Get verifies).
func (r *chaosRun) checkpointVersions(ctx context.Context, key string) []ckVersion {
	mc := r.minio()
	var ids []string
	for obj := range mc.ListObjects(ctx, r.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			r.t.Fatal(obj.Err)
		}
		if obj.Key == key && !obj.IsDeleteMarker {
			ids = append(ids, obj.VersionID)
		}
	}
	var vs []ckVersion
	for _, id := range ids {
		o, err := mc.GetObject(ctx, r.bucket, key, minio.GetObjectOptions{VersionID: id})
		if err != nil {
			r.t.Fatal(err)
		}
		st, err := o.Stat()
		if err != nil {
			o.Close()
			r.t.Fatalf("stat %s version %s: %v", key, id, err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		v := ckVersion{epoch: -1}
		want := st.UserMetadata["Sha256"]
		if want == "" {
			want = st.Metadata.Get("X-Amz-Meta-Sha256")
		}
		v.sound = err == nil && want != "" && sweeps.Digest(b) == want
		if err == nil {
			if _, meta, err := models.ReadSafetensors(bytes.NewReader(b)); err == nil {
				if e, err := strconv.Atoi(meta["epoch"]); err == nil {
					v.epoch = e
				}
			}
		}
		vs = append(vs, v)
	}
	return vs
}

// TestChaosMinIOKilled kills MinIO with SIGKILL as soon as a training has
// written its first checkpoint (the trainings write one every ~0.5–0.9 s,
// so a write may be in flight), keeps it down 5 s, and restarts it on the
// same data directory and port. The workers' store calls fail meanwhile:
// a failed checkpoint Put fails the training activity, which Temporal
// retries; the retry resumes from the last checkpoint stored. Besides the
// checks of every case: every version of every checkpoint either matches
// its recorded SHA-256 or was never resumed from (a torn one is detected by
// s3store.Get and ignored), and every resume was from a sound checkpoint
// at a periodic epoch.
func TestChaosMinIOKilled(t *testing.T) {
	needChaos(t)
	base := chaosBaseline(t)
	st := newChaosStack(t)
	r := newChaosRun(t, st, "chaos-minio-kill", "chaos-minio-kill")
	px := startCutProxy(t, st.MinIOAddress()) // only to see the checkpoint writes: it never cuts
	r.s3 = px.addr
	ws := []*chaosWorker{r.startWorker(), r.startWorker()}
	p := r.startSweep(writeSpec(t, chaosSpec))
	at := r.waitMidTraining(p, chaosCheckpointEvery)
	pid := st.PID("minio")
	struck := make(chan string, 1)
	var killed time.Time
	var req string // the request line of the checkpoint write cut
	px.Tap(func(b []byte) bool {
		line, _, _ := bytes.Cut(b, []byte("\r\n"))
		if !bytes.HasPrefix(line, []byte("PUT ")) || !bytes.Contains(line, []byte("/checkpoint.safetensors")) {
			return false
		}
		req = string(line)
		return true
	}, func(what string) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Error(err)
		}
		killed = time.Now()
		if !waitExit(pid, 10*time.Second) {
			t.Errorf("minio (pid %d) still there after SIGKILL", pid)
		}
		struck <- what
	})
	r.event("a training %s; the next checkpoint write will be cut part-way by MinIO's SIGKILL", at)
	select {
	case what := <-struck:
		r.event("SIGKILL MinIO (pid %d) during a checkpoint write, %q: %s", pid, req, what)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no checkpoint write within 2 minutes\n%s", r.workerLogs())
	}
	time.Sleep(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := st.Up(ctx); err != nil { // restarts what is not running: MinIO, same port and data dir
		t.Fatalf("restart MinIO: %v", err)
	}
	r.event("MinIO restarted on %s with the same data directory, ready %.1f s after the kill (pid %d; CLI still waiting: %v)", st.MinIOAddress(), time.Since(killed).Seconds(), st.PID("minio"), !p.finished())
	wall := r.finish(p)
	for _, w := range ws {
		if !w.alive() {
			t.Errorf("worker %s exited when MinIO went away:\n%s", w.name, tail(w.log.String(), 3000))
		}
	}
	o := r.collect(wall)
	// every checkpoint write: sound or torn; a retry resumed only from a sound one
	torn := 0
	trialOf := map[string]string{}
	for trial, rs := range o.resumed {
		trialOf[rs.weights] = trial
	}
	for _, k := range slices.Sorted(maps.Keys(o.weights)) {
		vs := r.checkpointVersions(context.Background(), strings.TrimSuffix(k, "weights.safetensors")+"checkpoint.safetensors")
		var epochs []string
		soundAt := map[int]bool{}
		for _, v := range vs {
			if v.sound {
				soundAt[v.epoch] = true
				epochs = append(epochs, strconv.Itoa(v.epoch))
			} else {
				torn++
				epochs = append(epochs, fmt.Sprintf("TORN(%d)", v.epoch))
			}
		}
		t.Logf("generators %s: checkpoint writes %v", short(strings.TrimPrefix(k, "artifacts/generators/")), epochs)
		if trial, ok := trialOf[k]; ok {
			rs := o.resumed[trial]
			switch {
			case !soundAt[rs.epoch]:
				t.Errorf("%s resumed from epoch %d, which no sound checkpoint holds", trial, rs.epoch)
			case rs.epoch%chaosCheckpointEvery != 0:
				t.Errorf("%s resumed from epoch %d, not a periodic checkpoint", trial, rs.epoch)
			default:
				r.event("%s was retried by %s and resumed from its sound checkpoint at epoch %d", trial, o.finished[trial], rs.epoch)
			}
		}
	}
	for _, trial := range o.reused {
		r.event("%s had stored its weights before its completion was lost; the retry by %s reused them", trial, o.finished[trial])
	}
	logs := r.workerLogs()
	corrupt := strings.Count(logs, "checkpoint is corrupt")
	r.event("%d torn checkpoint writes in the bucket; the workers reported %d corrupt checkpoints (detected by SHA-256, not used)", torn, corrupt)
	if torn > 0 && corrupt == 0 {
		t.Logf("a torn checkpoint was stored but no retry read it before it was overwritten")
	}
	compareOutcome(t, "minio-killed", base, o)
}

// TestChaosTemporalPartition puts a TCP proxy between the workers and
// Temporal (the CLI and MinIO are reached directly) and cuts it for 20 s in
// the middle of the trainings: every open connection is dropped and new
// ones are refused, then it listens again on the same port. That is longer
// than the activities' 10 s heartbeat timeout: the workers' failed
// heartbeats cancel their trainings, Temporal (alive throughout) times the
// attempts out and retries them once the workers reconnect, and the retries
// resume from their checkpoints. The workers stay up.
func TestChaosTemporalPartition(t *testing.T) {
	needChaos(t)
	base := chaosBaseline(t)
	st := newChaosStack(t)
	r := newChaosRun(t, st, "chaos-temporal-net", "chaos-temporal-net")
	px := startCutProxy(t, st.TemporalAddress())
	r.temporal = px.addr
	ws := []*chaosWorker{r.startWorker(), r.startWorker()}
	p := r.startSweep(writeSpec(t, chaosSpec))
	at := r.waitMidTraining(p, 2*chaosCheckpointEvery)
	r.event("cut the workers' network to Temporal (proxy %s → %s), a training %s", px.addr, st.TemporalAddress(), at)
	dropped, err := px.Cut(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r.event("network back after 20 s (%d connections dropped; sweep still waiting: %v)", dropped, !p.finished())
	wall := r.finish(p)
	for _, w := range ws {
		if !w.alive() {
			t.Errorf("worker %s exited during the partition:\n%s", w.name, tail(w.log.String(), 3000))
		}
	}
	o := r.collect(wall)
	for _, trial := range slices.Sorted(maps.Keys(o.resumed)) {
		rs := o.resumed[trial]
		r.event("%s was retried by %s and resumed from its checkpoint at epoch %d", trial, o.finished[trial], rs.epoch)
	}
	for _, trial := range o.reused {
		r.event("%s had stored its weights before its completion was lost; the retry by %s reused them", trial, o.finished[trial])
	}
	compareOutcome(t, "temporal-partition-20s", base, o)
}
