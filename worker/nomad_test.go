package worker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/devstack"
	"github.com/minio/minio-go/v7"
)

// NomadVersion is the agent the Makefile builds (the last MPL-2.0 release).
const NomadVersion = "v1.6.3"

// startNomad runs `nomad agent -dev` on loopback with raw_exec enabled and
// its own data dir; it is stopped with SIGTERM only (SIGKILL orphans its
// executors).
func startNomad(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("LIESWEEP_DEV_TOOLS_DIR")
	if tools == "" {
		tools = infra.DefaultConfig().Dev.ToolsDir
	}
	bin, err := devstack.FindTool(tools, "nomad", NomadVersion)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "liesweep-nomad-")
	if err != nil {
		t.Fatal(err)
	}
	var ports [3]int
	for i := range ports {
		ports[i], _ = devstack.FreePort()
	}
	cfg := fmt.Sprintf(`bind_addr = "127.0.0.1"
data_dir = %q
ports {
  http = %d
  rpc  = %d
  serf = %d
}
plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, filepath.Join(dir, "data"), ports[0], ports[1], ports[2])
	cfgPath := filepath.Join(dir, "agent.hcl")
	os.WriteFile(cfgPath, []byte(cfg), 0o644)
	logf, _ := os.Create(filepath.Join(dir, "agent.log"))
	cmd := exec.Command(bin, "agent", "-dev", "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Log("nomad agent did not stop on SIGTERM within 30 s")
		}
		logf.Close()
		os.RemoveAll(dir)
	})
	addr := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, _ := api.NewClient(&api.Config{Address: addr})
		if c != nil {
			if nodes, _, err := c.Nodes().List(nil); err == nil && len(nodes) > 0 && nodes[0].Status == "ready" {
				return addr
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
			t.Fatalf("nomad agent not ready in 60 s:\n%s", b)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// workerProcesses counts running processes of the liesweep test binary
// started as workers.
func workerProcesses() int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 1 && args[0] == binary && args[1] == "worker" {
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

// TestNomadCluster: `infra nomad deploy` places two raw_exec workers on a
// real Nomad agent; one sweep is served by both; stopping one allocation
// mid-training loses nothing (Nomad replaces it, the trial resumes, every
// final artifact is written once); `stop --purge` removes the job and every
// worker process.
func TestNomadCluster(t *testing.T) {
	skipShort(t)
	bucket := "it-nomad"
	ctx := context.Background()
	nomadAddr := startNomad(t)
	if err := store(t, bucket).EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	mc := minioClient(t)
	if err := mc.EnableVersioning(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	job := "lsw-it"
	nomadArgs := []string{"--nomad-address", nomadAddr, "--name", job}
	plan, err := cli(t, bucket, append([]string{"infra", "nomad", "plan", "--count", "2", "--driver", "raw_exec", "--binary", binary, "--queue", "liesweep-train", "--queue", "liesweep", "--secrets-from", "env", "--cpu", "300", "--memory", "512"}, nomadArgs...)...)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, plan)
	}
	if strings.Contains(plan, infra.DevSecretKey) || !strings.Contains(plan, "<redacted>") || !strings.Contains(plan, `+ job "lsw-it"`) {
		t.Errorf("plan must show the job and Nomad's diff with secrets redacted:\n%s", plan)
	}
	if out, err := cli(t, bucket, append([]string{"infra", "nomad", "deploy", "--count", "2", "--driver", "raw_exec", "--binary", binary, "--queue", "liesweep-train", "--queue", "liesweep", "--secrets-from", "env", "--cpu", "300", "--memory", "512"}, nomadArgs...)...); err != nil {
		t.Fatalf("deploy: %v\n%s", err, out)
	}
	nc, _ := api.NewClient(&api.Config{Address: nomadAddr})
	running := func() []*api.AllocationListStub {
		allocs, _, _ := nc.Jobs().Allocations(job, false, nil)
		var out []*api.AllocationListStub
		for _, a := range allocs {
			if a.ClientStatus == "running" {
				out = append(out, a)
			}
		}
		return out
	}
	waitFor(t, 90*time.Second, "two running worker allocations", func() bool { return len(running()) == 2 })
	if out, _ := cli(t, bucket, append([]string{"infra", "nomad", "status"}, nomadArgs...)...); strings.Count(out, "running") != 2 || !strings.Contains(out, "liesweep-train,liesweep") {
		t.Errorf("status:\n%s", out)
	}

	spec := writeSpec(t, so3Cluster)
	if out, err := cli(t, bucket, "sweep", "start", "--spec", spec, "--id", "cluster"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	// stop one allocation while its worker trains (a checkpoint exists)
	waitFor(t, 3*time.Minute, "a generators checkpoint", func() bool { e, _ := checkpointEpoch(t, bucket); return e >= 500 })
	victim := running()[0]
	if _, err := nc.Allocations().Stop(&api.Allocation{ID: victim.ID, Namespace: victim.Namespace}, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, bucket, "sweep", "watch", "cluster"); err != nil {
		t.Fatalf("watch: %v\n%s", err, out)
	}
	r := getReport(t, bucket, "cluster")
	if g := r.Groups[0]; g.MaxNG != 3 || !g.Bounded {
		t.Errorf("verdict max_ng %d bounded %v, want 3, true", g.MaxNG, g.Bounded)
	}
	workers := map[string]bool{}
	for _, lv := range r.Groups[0].Levels {
		for _, tr := range lv.Trials {
			workers[tr.Worker] = true
		}
	}
	if len(workers) < 2 {
		t.Errorf("trials ran on %v, want at least two workers", workers)
	}
	waitFor(t, 90*time.Second, "Nomad to replace the stopped allocation", func() bool { return len(running()) == 2 })
	versions := map[string]int{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true, Prefix: "artifacts/"}) {
		versions[o.Key]++
	}
	for k, n := range versions {
		if !strings.HasSuffix(k, "checkpoint.safetensors") && n != 1 {
			t.Errorf("%s written %d times", k, n)
		}
	}
	if out, err := cli(t, bucket, append([]string{"infra", "nomad", "stop", "--purge"}, nomadArgs...)...); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	waitFor(t, 60*time.Second, "every worker process to exit", func() bool { return workerProcesses() == 0 })
	if _, _, err := nc.Jobs().Info(job, nil); err == nil {
		t.Error("the job is still registered after stop --purge")
	}
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
