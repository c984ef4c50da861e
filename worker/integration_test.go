package worker_test

// Integration tests: a real Temporal dev server and a real MinIO, started
// by this harness from the tools the Makefile builds, and liesweep workers
// as separate processes (so one can be killed with SIGKILL).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liesweep/liesweep/infra"
	"github.com/liesweep/liesweep/infra/devstack"
	"github.com/liesweep/liesweep/infra/s3store"
)

var (
	stack  *devstack.Stack
	binary string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	code, err := withStack(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration harness:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func withStack(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "liesweep-it-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	tools := os.Getenv("LIESWEEP_DEV_TOOLS_DIR")
	if tools == "" {
		tools = infra.DefaultConfig().Dev.ToolsDir
	}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = devstack.FreePort(); err != nil {
			return 0, err
		}
	}
	stack = &devstack.Stack{Dir: filepath.Join(dir, "state"), ToolsDir: tools, TemporalPort: ports[0], UIPort: ports[1], MinIOPort: ports[2], AccessKey: infra.DevAccessKey, SecretKey: infra.DevSecretKey}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := stack.Up(ctx); err != nil {
		stack.Down()
		return 0, err
	}
	defer stack.Down()
	binary = filepath.Join(dir, "liesweep")
	args := []string{"build", "-o", binary}
	if tags := os.Getenv("LIESWEEP_GOTAGS"); tags != "" {
		args = append(args, "-tags", tags) // as make test's own build (openblas)
	}
	build := exec.Command("go", append(args, "./cmd/liesweep")...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build liesweep: %v\n%s", err, out)
	}
	return m.Run(), nil
}

// env is the configuration of the CLI and workers for one test's bucket.
func env(bucket string) []string {
	return append(os.Environ(),
		"LIESWEEP_TEMPORAL_ADDRESS="+stack.TemporalAddress(),
		"LIESWEEP_TEMPORAL_UI="+stack.UIAddress(),
		"LIESWEEP_S3_ENDPOINT="+stack.MinIOAddress(),
		"LIESWEEP_S3_BUCKET="+bucket,
		"LIESWEEP_S3_ACCESS_KEY="+infra.DevAccessKey,
		"LIESWEEP_S3_SECRET_KEY="+infra.DevSecretKey,
	)
}

func store(t *testing.T, bucket string) *s3store.Store {
	t.Helper()
	s, err := s3store.New(s3store.Config{Endpoint: stack.MinIOAddress(), AccessKey: infra.DevAccessKey, SecretKey: infra.DevSecretKey, Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cli(t testing.TB, bucket string, args ...string) (string, error) {
	t.Helper()
	return runCLI(env(bucket), args...)
}

// runCLI runs the liesweep binary with the environment env and returns its
// output (stdout, and stderr too when it fails).
func runCLI(env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

type workerProc struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

func startWorker(t testing.TB, bucket, name string, extra ...string) *workerProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"worker", "--name", name}, extra...)...)
	cmd.Env = env(bucket)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, log: &log}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
			}
		}
	})
	return w
}

func writeSpec(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// report is the JSON of `sweep report --format json`.
type report struct {
	Sweep  string `json:"sweep"`
	Groups []struct {
		Dataset   string `json:"dataset"`
		LatentDim int    `json:"latent_dim"`
		MaxNG     int    `json:"max_ng"`
		Bounded   bool   `json:"bounded"`
		Levels    []struct {
			NG     int  `json:"ng"`
			Passed bool `json:"passed"`
			Trials []struct {
				Passed bool   `json:"passed"`
				Worker string `json:"worker"`
				Stages []struct {
					Stage       string  `json:"stage"`
					Seconds     float64 `json:"seconds"`
					Reused      bool    `json:"reused"`
					ResumedFrom int     `json:"resumed_from"`
				} `json:"stages"`
			} `json:"trials"`
		} `json:"levels"`
	} `json:"groups"`
}

func getReport(t testing.TB, bucket, id string) report {
	t.Helper()
	out, err := cli(t, bucket, "sweep", "report", id, "--format", "json")
	if err != nil {
		t.Fatalf("sweep report: %v\n%s", err, out)
	}
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	return r
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server and MinIO")
	}
}

const so3Small = `name: so3-it
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 100}
ng: [1, 2, 3, 4]
seeds: [1]
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 1500, lr: 1.0e-2, checkpoint_every: 500, eval_points: 100}
concurrency: 2
`

// TestSweepEndToEnd: a small analytic sweep through the CLI, a worker
// process, Temporal and MinIO gives so(3)'s verdict: max N_g = 3, bounded.
func TestSweepEndToEnd(t *testing.T) {
	skipShort(t)
	bucket := "it-e2e"
	startWorker(t, bucket, "w-e2e", "--slots", "2")
	spec := writeSpec(t, so3Small)
	out, err := cli(t, bucket, "sweep", "start", "--spec", spec, "--id", "e2e", "--wait")
	if err != nil {
		t.Fatalf("sweep start --wait: %v\n%s", err, out)
	}
	if !strings.Contains(out, "sweep e2e started") || !strings.Contains(out, "/namespaces/default/workflows/e2e") {
		t.Errorf("start output lacks the id or the Web UI link:\n%s", out)
	}
	r := getReport(t, bucket, "e2e")
	if len(r.Groups) != 1 || r.Groups[0].MaxNG != 3 || !r.Groups[0].Bounded {
		t.Fatalf("verdict %+v, want max_ng 3, bounded", r.Groups)
	}
	var pattern []bool
	for _, lv := range r.Groups[0].Levels {
		pattern = append(pattern, lv.Passed)
		for _, tr := range lv.Trials {
			if tr.Worker != "w-e2e" {
				t.Errorf("trial ran on %q, want w-e2e", tr.Worker)
			}
		}
	}
	if fmt.Sprint(pattern) != "[true false true false]" {
		t.Errorf("levels passed %v, want so(3)'s [true false true false]", pattern)
	}
	ok, err := store(t, bucket).Exists(context.Background(), "sweeps/e2e/verdict.json")
	if err != nil || !ok {
		t.Errorf("verdict not stored beside the sweep: %v", err)
	}
	dir := t.TempDir()
	csvOut, err := cli(t, bucket, "sweep", "report", "e2e", "--format", "csv", "--out", dir)
	if err != nil || strings.Count(csvOut, "\n") != 5 || !strings.HasPrefix(csvOut, "sweep,dataset,latent_dim,ng,seed,passed") {
		t.Errorf("csv report (a header and 4 trials): %v\n%s", err, csvOut)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "[J1, J2] = ") || !strings.Contains(string(md), "Maximal closed algebra: N_g = 3") {
		t.Errorf("markdown report lacks the verdict or the structure constants:\n%s", md)
	}
	for _, k := range []string{"report.md", "report.html", "flows.json", "plots/l3-projections.png", "plots/l3-losses.png"} {
		if ok, _ := store(t, bucket).Exists(context.Background(), "sweeps/e2e/report/"+k); !ok {
			t.Errorf("report file %s not stored beside the sweep", k)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(k))); err != nil {
			t.Errorf("report file %s not written to --out: %v", k, err)
		}
	}
	if out, err := cli(t, bucket, "sweep", "compare", "e2e", "e2e"); err != nil || strings.Contains(out, "*") || !strings.Contains(out, "e2e: N_g = 3") {
		t.Errorf("compare of a sweep with itself: %v\n%s", err, out)
	}
	// a malformed spec is rejected before anything is scheduled, naming the field
	bad := writeSpec(t, strings.Replace(so3Small, "lr: 1.0e-2", "lr: -1", 1))
	out, err = cli(t, bucket, "sweep", "start", "--spec", bad, "--id", "bad")
	if err == nil || !strings.Contains(out, `"train.lr"`) {
		t.Errorf("malformed spec: want an error naming train.lr, got %v\n%s", err, out)
	}
	if out, _ := cli(t, bucket, "sweep", "status", "bad"); !strings.Contains(out, "no sweep") {
		t.Errorf("a rejected spec was scheduled:\n%s", out)
	}
	// dead ends (issue 22): an unknown id is a usage mistake, not "no
	// verdict yet"; a completed sweep whose verdict.json is gone says so,
	// and resume writes it again from the stored results
	if out, err := cli(t, bucket, "sweep", "report", "nosuch"); exitStatus(err) != 2 || !strings.Contains(out, `no sweep "nosuch"`) {
		t.Errorf("report of an unknown sweep: %v\n%s", err, out)
	}
	if err := store(t, bucket).Delete(context.Background(), "sweeps/e2e/verdict.json"); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, bucket, "sweep", "report", "e2e"); err == nil || !strings.Contains(out, "completed but its verdict is not in bucket") {
		t.Errorf("report of a sweep whose verdict was deleted: %v\n%s", err, out)
	}
	if out, err := cli(t, bucket, "sweep", "resume", "e2e", "--wait"); err != nil {
		t.Fatalf("resume of a completed sweep without its verdict: %v\n%s", err, out)
	}
	r = getReport(t, bucket, "e2e")
	if len(r.Groups) != 1 || r.Groups[0].MaxNG != 3 {
		t.Fatalf("verdict after resume %+v, want max_ng 3 again", r.Groups)
	}
	if out, err := cli(t, bucket, "sweep", "resume", "e2e"); err == nil || !strings.Contains(out, "nothing to resume") {
		t.Errorf("resume of a completed sweep with its verdict: %v\n%s", err, out)
	}
	// weights that are gone: the report cannot draw them, and resume (which
	// said "nothing to resume") trains them again from their checkpoint,
	// the same bytes
	var wk string
	gen, _ := store(t, bucket).List(context.Background(), "artifacts/generators/")
	for _, k := range gen {
		if strings.HasSuffix(k, "/weights.safetensors") {
			wk = k
			break
		}
	}
	want, err := store(t, bucket).Get(context.Background(), wk)
	if err != nil {
		t.Fatal(err)
	}
	if err := store(t, bucket).Delete(context.Background(), wk); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, bucket, "sweep", "resume", "e2e", "--wait"); err != nil {
		t.Fatalf("resume of a completed sweep whose weights are gone: %v\n%s", err, out)
	}
	if got, err := store(t, bucket).Get(context.Background(), wk); err != nil || !bytes.Equal(got, want) {
		t.Errorf("weights after resume: %d bytes, %v; want the deleted bytes back", len(got), err)
	}
	// the sweep, resumed twice, is one row of the list (one per run before)
	out, err = cli(t, bucket, "sweep", "list", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Runs   int    `json:"runs"`
	}
	json.Unmarshal([]byte(out), &rows)
	n := 0
	for _, r := range rows {
		if r.ID == "e2e" {
			n++
			if r.Runs < 3 || r.Status != "completed" {
				t.Errorf("sweep list row %+v, want e2e completed with 3 runs", r)
			}
		}
	}
	if n != 1 {
		t.Errorf("sweep list shows e2e %d times, want once:\n%s", n, out)
	}
	if out, err := cli(t, bucket, "sweep", "cancel", "e2e"); err == nil || !strings.Contains(out, "already ended (completed): nothing to cancel") {
		t.Errorf("cancel of a completed sweep (Temporal accepts it silently): %v\n%s", err, out)
	}
}

// exitStatus is a CLI run's exit status (0 without an error).
func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestUnreachableServers: the errors name the address and how to start
// the local stack.
func TestUnreachableServers(t *testing.T) {
	skipShort(t)
	port, _ := devstack.FreePort()
	cmd := exec.Command(binary, "sweep", "list")
	cmd.Env = append(env("it-unreach"), fmt.Sprintf("LIESWEEP_S3_ENDPOINT=127.0.0.1:%d", port))
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), fmt.Sprintf("127.0.0.1:%d", port)) || !strings.Contains(string(out), "liesweep dev up") {
		t.Errorf("unreachable MinIO: %s", out)
	}
	cmd = exec.Command(binary, "sweep", "list")
	cmd.Env = append(env("it-unreach"), fmt.Sprintf("LIESWEEP_TEMPORAL_ADDRESS=127.0.0.1:%d", port))
	out, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out), fmt.Sprintf("Temporal at 127.0.0.1:%d", port)) || !strings.Contains(string(out), "liesweep dev up") {
		t.Errorf("unreachable Temporal: %s", out)
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

// TestAdaptiveSweepStatusEnds: every trial of an ended adaptive sweep shows
// its final state in `sweep status`. The levels run as child workflows
// whose progress signals go without waiting and could land after the
// sweep's last look: status showed every trial "analysing" for ever.
func TestAdaptiveSweepStatusEnds(t *testing.T) {
	skipShort(t)
	bucket := "it-adaptive"
	startWorker(t, bucket, "w-adaptive", "--slots", "2")
	spec := writeSpec(t, `name: adaptive-small
dataset: {kind: analytic, oracle: norm, dim: 2, samples: 50}
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
ng: [1]
seeds: [1, 2]
train: {epochs: 30, eval_points: 50, early_stop: false}
adaptive: {enabled: true}
`)
	if out, err := cli(t, bucket, "sweep", "start", "--spec", spec, "--id", "adaptive", "--wait"); err != nil {
		t.Fatalf("sweep start --wait: %v\n%s", err, out)
	}
	out, err := cli(t, bucket, "sweep", "status", "adaptive", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Trials []struct {
			NG    int    `json:"ng"`
			Seed  int    `json:"seed"`
			Stage string `json:"stage"`
		} `json:"trials"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	if len(v.Trials) < 2 {
		t.Fatalf("status lists %d trials:\n%s", len(v.Trials), out)
	}
	for _, tr := range v.Trials {
		if tr.Stage != "done" && tr.Stage != "failed" {
			t.Errorf("N_g = %d seed %d: stage %q after the sweep ended", tr.NG, tr.Seed, tr.Stage)
		}
	}
}
