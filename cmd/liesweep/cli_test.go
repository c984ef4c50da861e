package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
	"github.com/spf13/cobra"
)

// execute runs the CLI with args and returns stdout, stderr and the exit
// status main would give.
func execute(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitCode(err)
}

// TestExitCodes: usage mistakes and invalid specs exit 2, an unreachable
// server 3, a failed verdict under --fail-on-verdict 4, success 0.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("dataset: {kind: analytic, oracle: norm, dim: 2}\ntrain: {epochs: 20.7}\n"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	// 30 epochs cannot train so(2)'s generator: the trial fails the verdict.
	os.WriteFile(good, []byte("dataset: {kind: analytic, oracle: norm, dim: 2, samples: 50}\ngenerator: {kind: linear, orthogonality: global, closure: joint}\ntrain: {epochs: 30, eval_points: 50, early_stop: false}\n"), 0o644)
	noMNIST := filepath.Join(dir, "nomnist.yaml")
	os.WriteFile(noMNIST, []byte("dataset: {kind: mnist, classes: [0, 1], mnist_dir: "+filepath.Join(dir, "nonexistent")+"}\nlatent_dims: [2]\n"), 0o644)
	// a table path that is a named pipe: reading it hung for ever
	fifo := filepath.Join(dir, "pipe.yaml")
	syscall.Mkfifo(filepath.Join(dir, "pipe.csv"), 0o644)
	os.WriteFile(fifo, []byte("dataset: {kind: table, path: pipe.csv, task: classification}\n"), 0o644)
	// a quorum of 2 seeds: train's one trial must not be judged by it
	quorum2 := filepath.Join(dir, "q2.yaml")
	os.WriteFile(quorum2, []byte("dataset: {kind: analytic, oracle: norm, dim: 2, samples: 50}\ngenerator: {kind: linear, orthogonality: global, closure: joint}\nseeds: [1, 2]\nverdict: {quorum: 2}\ntrain: {epochs: 30, eval_points: 50, early_stop: false}\n"), 0o644)
	t.Setenv("LIESWEEP_TEMPORAL_ADDRESS", "127.0.0.1:1")
	t.Setenv("LIESWEEP_S3_ENDPOINT", "127.0.0.1:1")
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"unknown flag", []string{"train", "--no-such-flag"}, exitUsage},
		{"unknown command", []string{"trian"}, exitUsage},
		{"missing argument", []string{"validate"}, exitUsage},
		{"invalid spec", []string{"validate", bad}, exitUsage},
		{"bad -o", []string{"validate", good, "-o", "yaml"}, exitUsage},
		{"valid spec", []string{"validate", good}, 0},
		{"--ng over the bound", []string{"train", "--spec", good, "--ng", "100000", "--out", filepath.Join(dir, "t0")}, exitUsage},
		{"negative --seed", []string{"train", "--spec", good, "--seed", "-5", "--out", filepath.Join(dir, "t0")}, exitUsage},
		// the spec lists N_g = 1; --ng 5 is over ℓ² = 4 for linear generators
		{"--ng unsolvable", []string{"train", "--spec", good, "--ng", "5", "--out", filepath.Join(dir, "t0")}, exitUsage},
		{"spec with quorum 2", []string{"train", "--spec", quorum2, "--out", filepath.Join(dir, "q2")}, 0},
		{"--latent not the dim", []string{"train", "--spec", good, "--latent", "7", "--out", filepath.Join(dir, "t0")}, exitUsage},
		{"stray argument", []string{"run", good, "--out", filepath.Join(dir, "r0")}, exitUsage},
		{"worker --slots 0", []string{"worker", "--slots", "0"}, exitUsage},
		{"unreachable servers", []string{"sweep", "list"}, exitInfra},
		{"not a sweep id", []string{"sweep", "status", "ψ"}, exitUsage},
		{"a path for a sweep id", []string{"sweep", "report", "../etc"}, exitUsage},
		{"unknown subcommand", []string{"sweep", "stat", "x"}, exitUsage},
		{"missing spec file", []string{"validate", filepath.Join(dir, "nope.yaml")}, exitUsage},
		{"spec is a directory", []string{"validate", dir}, exitUsage},
		{"data path is a named pipe", []string{"validate", fifo}, exitUsage},
		{"mnist_dir missing", []string{"validate", noMNIST}, exitUsage},
		{"--out is a file", []string{"run", "--spec", good, "--out", bad}, exitUsage},
		{"unknown report format", []string{"sweep", "report", "x", "--format", "pdf"}, exitUsage},
		{"unknown queue", []string{"worker", "--queue", "bogus"}, exitUsage},
		{"--fail-on-verdict without --wait", []string{"sweep", "start", "--spec", good, "--fail-on-verdict"}, exitUsage},
		{"worker --slots unbounded", []string{"worker", "--slots", "100000"}, exitUsage},
		{"nomad --slots negative", []string{"infra", "nomad", "plan", "--slots", "-3"}, exitUsage},
		{"data shuffle one class", []string{"data", "shuffle", "mnist", "--classes", "3", "--out", filepath.Join(dir, "sh")}, exitUsage},
		{"data shuffle absent class", []string{"data", "shuffle", "mnist", "--classes", "0,10", "--out", filepath.Join(dir, "sh")}, exitUsage},
		{"data gen --dim unbounded", []string{"data", "gen", "expr", "--expr", "x0", "--dim", "100000000", "--out", filepath.Join(dir, "e.csv")}, exitUsage},
		{"data gen NaN target", []string{"data", "gen", "expr", "--expr", "log(x0)", "--dim", "2", "--out", filepath.Join(dir, "e.csv")}, exitUsage},
		{"data gen huge target", []string{"data", "gen", "expr", "--expr", "exp(200*x0)", "--dim", "2", "--out", filepath.Join(dir, "e.csv")}, exitUsage},
		{"data gen infinite noise", []string{"data", "gen", "expr", "--expr", "x0", "--dim", "2", "--noise", "inf", "--out", filepath.Join(dir, "e.csv")}, exitUsage},
		{"failed trial", []string{"train", "--spec", good, "--out", filepath.Join(dir, "t1")}, 0},
		{"failed trial, --fail-on-verdict", []string{"train", "--spec", good, "--out", filepath.Join(dir, "t2"), "--fail-on-verdict"}, exitVerdict},
	} {
		_, stderr, code := execute(t, c.args...)
		if code != c.want {
			t.Errorf("%s: liesweep %s exited %d, want %d\n%s", c.name, strings.Join(c.args, " "), code, c.want, stderr)
		}
	}
}

// TestVersionAndJSON: --version names the BLAS; -o json prints
// result.json's document (schema_version included) instead of the summary.
func TestVersionAndJSON(t *testing.T) {
	out, _, code := execute(t, "--version")
	if code != 0 || !strings.Contains(out, "BLAS") || !strings.Contains(out, "go1.") {
		t.Errorf("--version printed %q (exit %d)", out, code)
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "so2.yaml")
	os.WriteFile(spec, []byte("dataset: {kind: analytic, oracle: norm, dim: 2, samples: 50}\ngenerator: {kind: linear, orthogonality: global, closure: joint}\ntrain: {epochs: 50, eval_points: 50}\n"), 0o644)
	out, stderr, code := execute(t, "train", "--spec", spec, "--out", filepath.Join(dir, "out"), "-o", "json")
	if code != 0 {
		t.Fatalf("train -o json exited %d: %s", code, stderr)
	}
	var res sweeps.TrialResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train -o json printed no JSON document: %v\n%s", err, out)
	}
	if res.NG != 1 || res.SchemaVersion != sweeps.ResultSchemaVersion || res.Metrics.InvRatio == 0 {
		t.Errorf("result %+v", res)
	}
}

// TestNoCommandTakesStrayArguments: every runnable command refuses
// positional arguments beyond those its usage line names, as a usage
// mistake (exit 2); a command with no Args of its own used to ignore them.
func TestNoCommandTakesStrayArguments(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && c.HasParent():
			// a command of commands: an unknown one is a usage mistake
			// (it printed the help and exited 0)
			args := append(strings.Fields(c.CommandPath())[1:], "nosuchcommand")
			if _, stderr, code := execute(t, args...); code != exitUsage || !strings.Contains(stderr, `unknown command "nosuchcommand"`) {
				t.Errorf("liesweep %s: exit %d, %q; want %d naming the unknown command", strings.Join(args, " "), code, stderr, exitUsage)
			}
		case c.Runnable():
			err := c.Args(c, []string{"a", "b", "c", "d", "e"})
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("%s accepts five positional arguments (error %v)", c.CommandPath(), err)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
}

// TestOutputFlagsAreNeverIgnored: -o json on a command that prints no JSON,
// and output flags that contradict each other, are usage mistakes naming
// both, before anything runs (each used to be silently overruled); every
// command that claims JSON output exists.
func TestOutputFlagsAreNeverIgnored(t *testing.T) {
	t.Setenv("LIESWEEP_TEMPORAL_ADDRESS", "127.0.0.1:1")
	t.Setenv("LIESWEEP_S3_ENDPOINT", "127.0.0.1:1")
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Name() != "help" && c.Name() != "completion" && c.Parent() != nil && c.Parent().Name() != "completion" {
			seen[c.CommandPath()] = true
			err := checkOutputFlagsFor(t, c, "-o", "json")
			var ue usageError
			if jsonCommands[c.CommandPath()] == errors.As(err, &ue) && c.Name() != "start" && c.Name() != "resume" {
				t.Errorf("%s -o json: error %v (in jsonCommands: %v)", c.CommandPath(), err, jsonCommands[c.CommandPath()])
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
	for path := range jsonCommands {
		if !seen[path] {
			t.Errorf("jsonCommands names %q, which is no command", path)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "report", "x", "--format", "md", "-o", "json"}, "--format md and -o json"},
		{[]string{"sweep", "report", "x", "--format", "json", "-o", "text"}, "--format json and -o text"},
		{[]string{"sweep", "status", "x", "--json", "-o", "text"}, "--json and -o text"},
		{[]string{"schema", "--reference", "-o", "json"}, "--reference"},
		{[]string{"sweep", "start", "--spec", "x.yaml", "-o", "json"}, "add --wait"},
		{[]string{"dev", "up", "-o", "json"}, "prints text only"},
	} {
		_, stderr, code := execute(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("liesweep %s: exit %d, %q; want %d saying %q", strings.Join(c.args, " "), code, stderr, exitUsage, c.want)
		}
	}
}

// checkOutputFlagsFor parses args as c's flags and checks them.
func checkOutputFlagsFor(t *testing.T, c *cobra.Command, args ...string) error {
	t.Helper()
	if err := c.ParseFlags(args); err != nil {
		t.Fatalf("%s: %v", c.CommandPath(), err)
	}
	return checkOutputFlags(c)
}

// TestReportFolderHasNoStalePlots: a report written into a folder that
// holds an earlier report keeps none of its plots (they stayed beside the
// new ones, unmentioned), and leaves the user's own files alone, a PNG in
// plots/ included.
func TestReportFolderHasNoStalePlots(t *testing.T) {
	dir := t.TempDir()
	if err := writeFiles(dir, map[string][]byte{"report.md": []byte("old"), "plots/l2-field.png": []byte("old"), "plots/l3-metrics.png": []byte("old")}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"plots/fig1.png", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, f), []byte("mine"), 0o644)
	}
	if err := writeFiles(dir, map[string][]byte{"report.md": []byte("new"), "plots/l3-metrics.png": []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "l2-field.png")); !os.IsNotExist(err) {
		t.Errorf("the earlier grid's plot is still there (%v)", err)
	}
	for f, want := range map[string]string{"plots/l3-metrics.png": "new", "notes.txt": "mine", "plots/fig1.png": "mine", "report.md": "new"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != want {
			t.Errorf("%s holds %q, want %q", f, b, want)
		}
	}
}
