package worker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/liesweep/liesweep/infra"
	"github.com/minio/minio-go/v7"
)

// workerProcesses counts running processes of the liesweep test binary
// started as workers.
func workerProcesses() int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && isWorker(strings.Split(string(b), "\x00")) {
			n++
		}
	}
	return n
}

const so3Cluster = `name: so3-cluster
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 300}
ng: [1, 2, 3, 4]
seeds: [1, 2]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 6000, lr: 1.0e-3, checkpoint_every: 500, eval_points: 300}
concurrency: 2
`

// gpuPlacement are the constraints that place workers on GPU nodes, by
// node class and by node meta.
var gpuPlacement = []string{"${node.class} = gpu", "${meta.liesweep_role} = gpu"}

// TestNomadCluster: on a cluster of a Nomad server and three clients, two
// of class gpu and one of class cpu, `infra nomad deploy` with GPU
// placement constraints places two raw_exec workers, one on each GPU node
// and none on the CPU node; one sweep is served by both, every result
// naming a worker of gpu1 or gpu2, both present; stopping one allocation
// mid-training loses nothing (Nomad replaces it on a GPU node, the trial
// resumes, every final artifact is written once); `stop --purge` removes
// the job and every worker process.
func TestNomadCluster(t *testing.T) {
	skipShort(t)
	bucket := "it-nomad"
	ctx := context.Background()
	c := startNomadCluster(t, gpuNodes...)
	if err := store(t, bucket).EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	mc := minioClient(t)
	if err := mc.EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	job := "lsw-it"
	run := func(args ...string) (string, error) { return cli(t, bucket, args...) }
	plan, err := run(append([]string{"infra", "nomad", "plan"}, c.workerArgs(job, 2, gpuPlacement...)...)...)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, plan)
	}
	if strings.Contains(plan, infra.DevSecretKey) || !strings.Contains(plan, "<redacted>") || !strings.Contains(plan, `+ job "lsw-it"`) {
		t.Errorf("plan must show the job and Nomad's diff with secrets redacted:\n%s", plan)
	}
	running := c.deployWorkers(run, job, 2, gpuPlacement...)
	if got := allocNodes(running); fmt.Sprint(got) != "map[gpu1:1 gpu2:1]" {
		t.Errorf("workers placed on %v, want one on each GPU node and none on cpu1", got)
	}
	if out, _ := run("infra", "nomad", "status", "--nomad-address", c.Addr(), "--name", job); strings.Count(out, "running") != 2 || !strings.Contains(out, "liesweep-train,liesweep") || !strings.Contains(out, "gpu1") || !strings.Contains(out, "gpu2") {
		t.Errorf("status:\n%s", out)
	}

	spec := writeSpec(t, so3Cluster)
	if out, err := run("sweep", "start", "--spec", spec, "--id", "cluster"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	// stop one allocation while its worker trains (a checkpoint exists)
	waitFor(t, 3*time.Minute, "a generators checkpoint", func() bool { e, _ := checkpointEpoch(t, bucket); return e >= 500 })
	_, running = c.allocs(job)
	victim := running[0]
	if _, err := c.api.Allocations().Stop(&api.Allocation{ID: victim.ID, Namespace: victim.Namespace}, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := run("sweep", "watch", "cluster"); err != nil {
		t.Fatalf("watch: %v\n%s", err, out)
	}
	r := getReport(t, bucket, "cluster")
	if g := r.Groups[0]; g.MaxNG != 3 || !g.Bounded {
		t.Errorf("verdict max_ng %d bounded %v, want 3, true", g.MaxNG, g.Bounded)
	}
	nodes := map[string]int{}
	for _, lv := range r.Groups[0].Levels {
		for _, tr := range lv.Trials {
			nodes[nodeOf(tr.Worker)]++
		}
	}
	if len(nodes) != 2 || nodes["gpu1"] == 0 || nodes["gpu2"] == 0 {
		t.Errorf("trials per node %v, want trials on both gpu1 and gpu2 and none elsewhere", nodes)
	}
	t.Logf("trials per node: %v", nodes)
	waitFor(t, 90*time.Second, "Nomad to replace the stopped allocation", func() bool { _, running = c.allocs(job); return len(running) == 2 })
	all, _ := c.allocs(job)
	if got := allocNodes(all); got["cpu1"] > 0 || len(all) != 3 {
		t.Errorf("allocations on %v, want 3 (2 and a replacement), all on GPU nodes", got)
	}
	versions := map[string]int{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true, Prefix: "artifacts/"}) {
		versions[o.Key]++
	}
	for k, n := range versions {
		if n != 1 && !rewrittenByDesign(k) {
			t.Errorf("%s written %d times", k, n)
		}
	}
	if out, err := run("infra", "nomad", "stop", "--purge", "--nomad-address", c.Addr(), "--name", job); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	waitFor(t, 60*time.Second, "every worker process to exit", func() bool { return workerProcesses() == 0 })
	if _, _, err := c.api.Jobs().Info(job, nil); err == nil {
		t.Error("the job is still registered after stop --purge")
	}
}

// allocNodes counts allocations per node name.
func allocNodes(allocs []*api.AllocationListStub) map[string]int {
	n := map[string]int{}
	for _, a := range allocs {
		n[a.NodeName]++
	}
	return n
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
