package worker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liesweep/liesweep/infra"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// tableSmall is a short table sweep: enough epochs to run every stage on a
// worker, not to find an algebra (TestScienceTableSphere does that).
const tableSmall = `name: table-it
dataset: {kind: table, path: %s, target: y, task: classification}
oracle_net: {epochs: 3, batch: 64}
ng: [1]
seeds: [1]
generator: {kind: linear, orthogonality: global, closure: joint}
train: {epochs: 50, eval_points: 50, checkpoint_every: 25, early_stop: false}
`

// TestTableSweepOnTheStack: `sweep start` with a local table puts its bytes
// into the sweep's bucket once, under their SHA-256, and the worker (a
// separate process that never sees the file) trains from those bytes; the
// same bytes given as an s3:// object start a second sweep that writes no
// second copy and reuses every stage; an s3:// object that does not exist
// is an error naming it, before anything is scheduled.
func TestTableSweepOnTheStack(t *testing.T) {
	skipShort(t)
	bucket := "it-table"
	startWorker(t, bucket, "w-table", "--slots", "1")
	dir := t.TempDir()
	data := filepath.Join(dir, "sphere3.csv")
	if out, err := cli(t, bucket, "data", "gen", "sphere3", "--rows", "300", "--out", data); err != nil {
		t.Fatalf("data gen: %v\n%s", err, out)
	}
	spec := filepath.Join(dir, "table.yaml")
	os.WriteFile(spec, []byte(strings.Replace(tableSmall, "%s", "sphere3.csv", 1)), 0o644)
	out, err := cli(t, bucket, "sweep", "start", "--spec", spec, "--id", "table-local", "--wait")
	if err != nil {
		t.Fatalf("sweep start: %v\n%s", err, out)
	}
	r := getReport(t, bucket, "table-local")
	if len(r.Groups) != 1 || len(r.Groups[0].Levels) != 1 || r.Groups[0].LatentDim != 3 {
		t.Fatalf("report %+v, want one group at ℓ = 3", r.Groups)
	}
	for _, s := range r.Groups[0].Levels[0].Trials[0].Stages {
		if s.Reused && s.Stage != "analysis" {
			t.Errorf("first sweep reused %s: nothing should be stored yet", s.Stage)
		}
	}
	ctx := context.Background()
	keys, err := store(t, bucket).List(ctx, "data/")
	if err != nil || len(keys) != 1 || !strings.HasSuffix(keys[0], "/sphere3.csv") {
		t.Fatalf("data objects %v (%v), want one data/<sha256>/sphere3.csv", keys, err)
	}
	mc, err := minio.New(stack.MinIOAddress(), &minio.Options{Creds: credentials.NewStaticV4(infra.DevAccessKey, infra.DevSecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	before, err := mc.StatObject(ctx, bucket, keys[0], minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// the same bytes from S3 (another bucket): no second upload, every stage reused
	src := "it-table-src"
	if err := mc.MakeBucket(ctx, src, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.FPutObject(ctx, src, "jets/sphere3.csv", data, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // LastModified has a resolution of one second
	s3spec := filepath.Join(dir, "s3.yaml")
	os.WriteFile(s3spec, []byte(strings.Replace(tableSmall, "%s", "s3://"+src+"/jets/sphere3.csv", 1)), 0o644)
	if out, err := cli(t, bucket, "sweep", "start", "--spec", s3spec, "--id", "table-s3", "--wait"); err != nil {
		t.Fatalf("sweep start from s3: %v\n%s", err, out)
	}
	after, err := mc.StatObject(ctx, bucket, keys[0], minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastModified.Equal(before.LastModified) {
		t.Errorf("the unchanged table was uploaded again (%v → %v)", before.LastModified, after.LastModified)
	}
	for _, s := range getReport(t, bucket, "table-s3").Groups[0].Levels[0].Trials[0].Stages {
		if !s.Reused && s.Stage != "analysis" {
			t.Errorf("the same bytes from S3 trained %s again", s.Stage)
		}
	}

	// a missing object is refused before anything is scheduled
	missing := filepath.Join(dir, "missing.yaml")
	os.WriteFile(missing, []byte(strings.Replace(tableSmall, "%s", "s3://"+src+"/no/such.csv", 1)), 0o644)
	out, err = cli(t, bucket, "sweep", "start", "--spec", missing, "--id", "table-missing")
	if err == nil || !strings.Contains(out, "s3://"+src+"/no/such.csv") {
		t.Errorf("missing object: want an error naming it, got %v\n%s", err, out)
	}
	if out, _ := cli(t, bucket, "sweep", "status", "table-missing"); !strings.Contains(out, "no sweep") {
		t.Errorf("a sweep with missing data was scheduled:\n%s", out)
	}
}
