package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/storetest"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/sweeps"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestS3Contract runs the ArtifactStore contract against MinIO; a corrupt
// object is one whose bytes no longer match the SHA-256 in its metadata.
func TestS3Contract(t *testing.T) {
	skipShort(t)
	s := store(t, "it-contract")
	storetest.Run(t, s, func(t *testing.T, key string) {
		b, err := s.Get(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutRaw(context.Background(), key, append([]byte("x"), b...), sweeps.Digest(b)); err != nil {
			t.Fatal(err)
		}
	})
}

func minioClient(t *testing.T) *minio.Client {
	c, err := minio.New(stack.MinIOAddress(), &minio.Options{Creds: credentials.NewStaticV4(infra.DevAccessKey, infra.DevSecretKey, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkpointEpoch returns the epoch of the generators' checkpoint in the
// bucket, or 0.
func checkpointEpoch(t *testing.T, bucket string) (int, string) {
	s := store(t, bucket)
	keys, _ := s.List(context.Background(), "artifacts/generators/")
	for _, k := range keys {
		if strings.HasSuffix(k, "checkpoint.safetensors") {
			b, err := s.Get(context.Background(), k)
			if err != nil {
				return 0, ""
			}
			_, meta, err := models.ReadSafetensors(bytes.NewReader(b))
			if err != nil {
				return 0, ""
			}
			e, _ := strconv.Atoi(meta["epoch"])
			return e, k
		}
	}
	return 0, ""
}

const so3Kill = `name: so3-kill
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 300}
ng: [3]
seeds: [1]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 6000, lr: 1.0e-3, checkpoint_every: 500, eval_points: 300}
`

// TestWorkerKilledMidTraining: kill -9 the worker in the middle of a
// training activity and start another: the sweep finishes, the trial
// resumes from its last checkpoint (no epoch before it is trained again),
// its final weights equal an uninterrupted run's bit for bit, and no final
// artifact is written twice (bucket versioning counts the writes).
func TestWorkerKilledMidTraining(t *testing.T) {
	skipShort(t)
	bucket := "it-kill"
	ctx := context.Background()
	mc := minioClient(t)
	if err := store(t, bucket).EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mc.EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	a := startWorker(t, bucket, "w-a")
	spec := writeSpec(t, so3Kill)
	if out, err := cli(t, bucket, "sweep", "start", "--spec", spec, "--id", "kill"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if e, _ := checkpointEpoch(t, bucket); e >= 1500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint past epoch 1500 within 3 minutes; worker log:\n%s", a.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := a.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	a.cmd.Wait()
	lastEpoch, _ := checkpointEpoch(t, bucket)
	if lastEpoch >= 6000 {
		t.Fatalf("the worker finished before it was killed (checkpoint at %d)", lastEpoch)
	}
	startWorker(t, bucket, "w-b")
	if out, err := cli(t, bucket, "sweep", "watch", "kill"); err != nil {
		t.Fatalf("watch: %v\n%s", err, out)
	}
	r := getReport(t, bucket, "kill")
	tr := r.Groups[0].Levels[0].Trials[0]
	var resumed = -1
	for _, s := range tr.Stages {
		if s.Stage == "generators" {
			resumed = s.ResumedFrom
		}
	}
	if resumed != lastEpoch {
		t.Errorf("generators resumed from epoch %d, want the last checkpoint %d", resumed, lastEpoch)
	}
	if tr.Worker != "w-b" || !tr.Passed {
		t.Errorf("trial finished on %q passed=%v, want w-b and passed", tr.Worker, tr.Passed)
	}
	// an uninterrupted run of the same trial, locally
	dir := t.TempDir()
	cmd := exec.Command(binary, "train", "--spec", spec, "--ng", "3", "--seed", "1", "--out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	want, _ := readFile(filepath.Join(dir, "generators.safetensors"))
	keys, _ := store(t, bucket).List(ctx, "artifacts/generators/")
	var got []byte
	for _, k := range keys {
		if strings.HasSuffix(k, "weights.safetensors") {
			got, _ = store(t, bucket).Get(ctx, k)
		}
	}
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("final weights after the kill differ from the uninterrupted run's (%d vs %d bytes)", len(got), len(want))
	}
	// every final artifact was written once; only checkpoints are rewritten
	versions := map[string]int{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true, Prefix: "artifacts/"}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		versions[o.Key]++
	}
	for k, n := range versions {
		if n != 1 && !rewrittenByDesign(k) {
			t.Errorf("%s written %d times", k, n)
		}
	}
}

// TestResumeRunsOnlyWhatIsMissing: a cancelled sweep, resumed, reuses the
// trials that had finished and trains only the rest.
func TestResumeRunsOnlyWhatIsMissing(t *testing.T) {
	skipShort(t)
	bucket := "it-resume"
	ctx := context.Background()
	mc := minioClient(t)
	if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := mc.EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	startWorker(t, bucket, "w-r", "--slots", "2")
	// N_g = 3 trains ~4× longer than N_g = 1, leaving a wide window to cancel in
	// (and full length: early stopping would end both in a few seconds).
	spec := writeSpec(t, strings.NewReplacer("ng: [3]", "ng: [1, 3]", "epochs: 6000", "epochs: 20000", "checkpoint_every: 500", "checkpoint_every: 500, early_stop: false").Replace(so3Kill))
	if out, err := cli(t, bucket, "sweep", "start", "--spec", spec, "--id", "res"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, _ := cli(t, bucket, "sweep", "status", "res", "--json")
		var v struct {
			Trials []struct {
				NG    int    `json:"ng"`
				Stage string `json:"stage"`
			} `json:"trials"`
		}
		json.Unmarshal([]byte(out), &v)
		done := false
		for _, tr := range v.Trials {
			done = done || (tr.NG == 1 && tr.Stage == "done")
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("N_g = 1 did not finish: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, err := cli(t, bucket, "sweep", "cancel", "res"); err != nil {
		t.Fatalf("cancel: %v\n%s", err, out)
	}
	if out, err := cli(t, bucket, "sweep", "watch", "res"); err == nil || !strings.Contains(out, "canceled") {
		t.Fatalf("watch after cancel: want a cancelled sweep, got %v\n%s", err, out)
	}
	// A sweep reported cancelled trains nowhere: N_g = 3's training has
	// stopped, so no checkpoint is written after the cancel (a training
	// still running would race the resume and store its weights twice).
	checkpoints := func() int {
		n := 0
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true, Prefix: "artifacts/generators/"}) {
			if o.Err == nil && strings.HasSuffix(o.Key, "checkpoint.safetensors") {
				n++
			}
		}
		return n
	}
	before := checkpoints()
	time.Sleep(3 * time.Second)
	if after := checkpoints(); after != before {
		t.Errorf("%d checkpoints written after the sweep was reported cancelled: its training was still running", after-before)
	}
	// Usually N_g = 3 is mid-training at the cancel; on a fast machine it
	// may have finished in the moments before the cancel reached it. The
	// resume must then reuse it, and otherwise train it.
	finishedBefore := 0
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, Prefix: "artifacts/generators/"}) {
		if o.Err == nil && strings.HasSuffix(o.Key, "weights.safetensors") {
			finishedBefore++
		}
	}
	ng3Finished := finishedBefore == 2
	t.Logf("N_g = 3 finished before the cancel took effect: %v", ng3Finished)
	if out, err := cli(t, bucket, "sweep", "resume", "res", "--wait"); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	// A result is written once, by the run that produced it: N_g = 1's
	// still says how the first run trained it, and its weights and result
	// were written once (bucket versioning counts the writes), so the
	// resume did not train it again. N_g = 3 was trained by the resume,
	// continuing from a checkpoint of the first run.
	r := getReport(t, bucket, "res")
	versions := map[string]int{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		versions[o.Key]++
	}
	weights := 0
	for k, n := range versions {
		if strings.HasPrefix(k, "artifacts/generators/") && strings.HasSuffix(k, "weights.safetensors") {
			weights++
			if n != 1 {
				t.Errorf("%s written %d times: a finished training was trained again", k, n)
			}
		}
	}
	if weights != 2 {
		t.Errorf("%d generator weights stored, want N_g = 1's and 3's", weights)
	}
	if n := versions["sweeps/res/results/l3-ng1-seed1.json"]; n != 1 {
		t.Errorf("N_g = 1's result was written %d times", n)
	}
	for _, lv := range r.Groups[0].Levels {
		tr := lv.Trials[0]
		for _, s := range tr.Stages {
			if lv.NG == 3 && s.Stage == "generators" && s.Reused != ng3Finished {
				t.Errorf("N_g = 3: finished before the cancel %v, but reported reused %v", ng3Finished, s.Reused)
			}
		}
	}
}
