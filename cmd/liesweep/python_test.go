package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/liesweep/liesweep/infra/filestore"
	"github.com/liesweep/liesweep/lie"
	"github.com/liesweep/liesweep/models"
	"github.com/liesweep/liesweep/pipeline"
	"github.com/liesweep/liesweep/sweeps"
)

// pythonTorch is the interpreter of Debian's python3-torch.
const pythonTorch = "/usr/bin/python3"

// torchPythonDir skips a test that trains (what) under -short or without
// Debian's PyTorch, and returns the absolute path of python/, where
// liesweep_io.py lives.
func torchPythonDir(t *testing.T, what string) string {
	t.Helper()
	if testing.Short() {
		t.Skip(what)
	}
	if err := exec.Command(pythonTorch, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (apt-get install python3-torch): %v", pythonTorch, err)
	}
	pyDir, err := filepath.Abs("../../python")
	if err != nil {
		t.Fatal(err)
	}
	return pyDir
}

// pyRoundTrip loads what the Go side trained through python/liesweep_io.py
// and prints, as one JSON object, everything the test compares.
const pyRoundTrip = `
import json, os, sys
import torch
import liesweep_io as lio

inp = json.load(open(sys.argv[1]))
out = {}
z = torch.tensor(inp["points"], dtype=torch.float64)
with torch.no_grad():
    for name in ("mlp", "linear"):
        t = lio.load_trial(inp[name])
        g = t.generators
        rec = {"kind": g.kind, "n": g.n, "dim": g.dim, "fields": g(z).tolist(),
               "streamline": g.streamline(0, z[0], 1e-3, 50, 10).tolist(),
               "schema_version": t.result["schema_version"], "history": t.history,
               "jsonl": lio.load_history(os.path.join(inp[name], "losses.jsonl"))}
        if g.closure_coeffs is not None:
            rec["coeffs"] = g.closure_coeffs.tolist()
        out[name] = rec
    m = lio.load_trial(inp["mnist"])
    n = inp["n"]
    val = m.latents["val_z"][:n]
    images = torch.tensor(inp["images"], dtype=torch.float32)
    out["mnist"] = {
        "stages": sorted(m.paths),
        "val_z": val.tolist(), "val_y": m.latents["val_y"][:n].tolist(),
        "psi": m.oracle(val).tolist(), "probabilities": m.oracle.probabilities(val).tolist(),
        "decoded": m.autoencoder.decode(val).reshape(n, 784).tolist(),
        "encoded": m.autoencoder.encode(images).tolist(),
        "phi": m.classifier.probabilities(images).tolist(),
        "history": lio.load_history(m.paths["oracle"]),
    }
    rows = lio.load_trials_csv(inp["csv"])
    out["csv"] = {"rows": len(rows), "inv_ratio": [r["inv_ratio"] for r in rows],
                  "structure_constants": [r["structure_constants"] for r in rows]}
    out["verdict_trials"] = len(lio.verdict_trials(inp["verdict"]))
print(json.dumps(out))
`

// pyOutput is what pyRoundTrip prints.
type pyOutput struct {
	MLP    pyGenerators `json:"mlp"`
	Linear pyGenerators `json:"linear"`
	MNIST  struct {
		Stages        []string             `json:"stages"`
		ValZ          [][]float64          `json:"val_z"`
		ValY          []int                `json:"val_y"`
		Psi           [][]float64          `json:"psi"`
		Probabilities [][]float64          `json:"probabilities"`
		Decoded       [][]float64          `json:"decoded"`
		Encoded       [][]float64          `json:"encoded"`
		Phi           [][]float64          `json:"phi"`
		History       []map[string]float64 `json:"history"`
	} `json:"mnist"`
	CSV struct {
		Rows               int             `json:"rows"`
		InvRatio           []float64       `json:"inv_ratio"`
		StructureConstants [][][][]float64 `json:"structure_constants"`
	} `json:"csv"`
	VerdictTrials int `json:"verdict_trials"`
}

type pyGenerators struct {
	Kind          string               `json:"kind"`
	N             int                  `json:"n"`
	Dim           int                  `json:"dim"`
	Fields        [][][]float64        `json:"fields"` // [α][point][coordinate]
	Streamline    [][]float64          `json:"streamline"`
	SchemaVersion int                  `json:"schema_version"`
	History       []map[string]float64 `json:"history"`
	JSONL         []map[string]float64 `json:"jsonl"`
	Coeffs        [][]float64          `json:"coeffs"` // pairs α<β × N_g
}

// TestPythonRoundTrip: python/liesweep_io.py rebuilds liesweep's networks
// as torch modules that compute what liesweep computes. Three real trials
// are trained with `liesweep train` (so(3) with MLP generators, so(3) with
// linear generators and jointly trained structure constants, a tiny MNIST
// {0,1} at ℓ = 2); Python loads the files and evaluates them, and the
// numbers are compared with liesweep's own (pipeline.Runner.Load, then
// models.GeneratorSet.At / Streamline, models.EvalOracle, the autoencoder's
// Decode and Encode). The float64 networks (generators, ψ) must agree to
// 1e-6 (they agree to rounding, ~1e-16); the float32 autoencoder and φ to
// 1e-6 too, in pixels, in the encoder's output (before standardisation) and
// in probabilities (float32 convolutions summed in another order: ~1e-7).
// Loss histories, latents and the CSV's full-precision numbers must
// round-trip exactly.
func TestPythonRoundTrip(t *testing.T) {
	pyDir := torchPythonDir(t, "trains three trials and runs PyTorch")
	dir := t.TempDir()
	start := time.Now()
	mlpOut, mlpSpec := trainForPython(t, dir, "mlp", `name: py-mlp
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 100}
generator: {kind: mlp, hidden: [8, 8]}
train: {epochs: 300, eval_points: 100}
`, "--ng", "2")
	linOut, linSpec := trainForPython(t, dir, "linear", `name: py-linear
dataset: {kind: analytic, oracle: norm, dim: 3, samples: 100}
generator: {kind: linear, orthogonality: global, closure: joint}
train: {epochs: 300, lr: 3.0e-3, eval_points: 100}
`, "--ng", "3")
	mnistOut, mnistSpec := trainForPython(t, dir, "mnist", `name: py-mnist
dataset: {kind: mnist, classes: [0, 1], max_train: 200, max_val: 100}
latent_dims: [2]
autoencoder: {epochs: 1}
oracle_net: {epochs: 1}
classifier: {epochs: 1}
train: {epochs: 20, eval_points: 50}
`, "--ng", "1", "--latent", "2")
	t.Logf("trained three trials in %.1fs", time.Since(start).Seconds())

	ctx := context.Background()
	load := func(out string, spec *sweeps.Spec, tr sweeps.Trial) *pipeline.Trained {
		t.Helper()
		store, err := filestore.New(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := (&pipeline.Runner{Store: store}).Load(ctx, spec, tr)
		if err != nil {
			t.Fatalf("load %s: %v", out, err)
		}
		return got
	}
	mlp := load(mlpOut, mlpSpec, sweeps.Trial{Latent: 3, NG: 2, Seed: 1})
	lin := load(linOut, linSpec, sweeps.Trial{Latent: 3, NG: 3, Seed: 1})
	mnTrial := sweeps.Trial{Latent: 2, NG: 1, Seed: 1}
	// `train` leaves φ to reports; train it here (1 epoch) so Python loads
	// it too
	mnStore, err := filestore.New(mnistOut)
	if err != nil {
		t.Fatal(err)
	}
	phi, _, _, err := (&pipeline.Runner{Store: mnStore}).PixelClassifier(ctx, mnistSpec, mnTrial)
	if err != nil {
		t.Fatal(err)
	}
	// result.json names φ only when it was there at analysis time (it was
	// not): put the copy beside it, where load_trial also looks.
	phiBytes, err := mnStore.Get(ctx, sweeps.ArtifactKey(sweeps.StageClassifier, sweeps.StageKeys(mnistSpec, mnTrial).Classifier, "weights.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnistOut, "classifier.safetensors"), phiBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	mn := load(mnistOut, mnistSpec, mnTrial)

	// liesweep's side of the autoencoder check: images decoded from the
	// first validation latents, which Python decodes and encodes too
	const n = 10
	images, err := mn.AE.Decode(mn.Val[:n])
	if err != nil {
		t.Fatal(err)
	}
	// a CSV written now (not the golden file) from a recorded verdict
	verdictPath := "../../sweeps/testdata/so3-verdict.json"
	raw, err := os.ReadFile(verdictPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sweep  string         `json:"sweep"`
		Groups []sweeps.Group `json:"groups"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "trials.csv")
	if err := os.WriteFile(csvPath, []byte(sweeps.FormatCSV(doc.Sweep, doc.Groups)), 0o644); err != nil {
		t.Fatal(err)
	}

	points := [][]float64{{1, 0, 0}, {0, 1, 0}, {0.3, -0.7, 1.2}, {-1.5, 0.2, 0.4}, {2, -1, -0.5}}
	input, _ := json.Marshal(map[string]any{"points": points, "mlp": mlpOut, "linear": linOut, "mnist": mnistOut,
		"n": n, "images": images, "csv": csvPath, "verdict": verdictPath})
	inputPath := filepath.Join(dir, "python-input.json")
	if err := os.WriteFile(inputPath, input, 0o644); err != nil {
		t.Fatal(err)
	}
	pyStart := time.Now()
	cmd := exec.Command(pythonTorch, "-c", pyRoundTrip, inputPath)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pyDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	t.Logf("python loaded and evaluated everything in %.1fs", time.Since(pyStart).Seconds())
	var py pyOutput
	if err := json.Unmarshal(stdout.Bytes(), &py); err != nil {
		t.Fatalf("python output: %v\n%s", err, stdout.String())
	}

	// generators: every field at the fixed points, a streamline, the joint constants
	for _, c := range []struct {
		name string
		out  string
		set  *models.GeneratorSet
		py   pyGenerators
		tr   *pipeline.Trained
	}{{"mlp", mlpOut, mlp.Set, py.MLP, mlp}, {"linear", linOut, lin.Set, py.Linear, lin}} {
		t.Run(c.name, func(t *testing.T) {
			if c.py.Kind != c.set.Kind || c.py.N != c.set.N || c.py.Dim != c.set.Dim {
				t.Fatalf("python loaded %s N_g=%d on R^%d, liesweep %s N_g=%d on R^%d", c.py.Kind, c.py.N, c.py.Dim, c.set.Kind, c.set.N, c.set.Dim)
			}
			var worst float64
			for a := 0; a < c.set.N; a++ {
				for i, z := range points {
					worst = max(worst, pyMaxAbsDiff(t, fmt.Sprintf("g_%d(z_%d)", a, i), c.set.At(a, z), c.py.Fields[a][i], 1e-6))
				}
			}
			t.Logf("largest |g_python − g_liesweep| = %.2g", worst)
			line, err := c.set.Streamline(0, points[0], 1e-3, 50, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(line) != len(c.py.Streamline) {
				t.Fatalf("streamline: python %d points, liesweep %d", len(c.py.Streamline), len(line))
			}
			for i := range line {
				pyMaxAbsDiff(t, fmt.Sprintf("streamline point %d", i), line[i], c.py.Streamline[i], 1e-6)
			}
			if c.py.SchemaVersion != sweeps.ResultSchemaVersion {
				t.Errorf("result.json schema_version %d, want %d", c.py.SchemaVersion, sweeps.ResultSchemaVersion)
			}
			if len(c.tr.History) == 0 || !pyEqualHistories(c.py.History, c.tr.History) || !pyEqualHistories(c.py.JSONL, c.tr.History) {
				t.Errorf("loss history: python read %d epochs from the weights and %d from losses.jsonl, liesweep stored %d (or they differ)",
					len(c.py.History), len(c.py.JSONL), len(c.tr.History))
			}
		})
	}
	res := pyReadResult(t, filepath.Join(linOut, "result.json"))
	if len(res.JointConstants) != 3 || len(py.Linear.Coeffs) != 3 {
		t.Fatalf("joint constants: result.json has %d, python loaded %d pairs", len(res.JointConstants), len(py.Linear.Coeffs))
	}
	for pi, p := range lie.Pairs(3) {
		pyMaxAbsDiff(t, fmt.Sprintf("closure.coeffs pair %v", p), res.JointConstants[p[0]][p[1]], py.Linear.Coeffs[pi], 0)
	}

	t.Run("mnist", func(t *testing.T) {
		m := py.MNIST
		for _, s := range []string{"autoencoder", "classifier", "generators", "latents", "oracle"} {
			if !slices.Contains(m.Stages, s) {
				t.Errorf("python loaded the stages %v, not %s", m.Stages, s)
			}
		}
		if len(m.ValZ) != n {
			t.Fatalf("python read %d latents, want %d", len(m.ValZ), n)
		}
		for i := range n {
			pyMaxAbsDiff(t, fmt.Sprintf("val_z[%d]", i), mn.Val[i], m.ValZ[i], 0)
			if m.ValY[i] != mn.ValY[i] {
				t.Errorf("val_y[%d]: python %d, liesweep %d", i, m.ValY[i], mn.ValY[i])
			}
		}
		psi, err := models.EvalOracle(mn.Oracle, mn.Val[:n])
		if err != nil {
			t.Fatal(err)
		}
		probs, err := mn.Classifier.Probabilities(mn.Val[:n])
		if err != nil {
			t.Fatal(err)
		}
		phiProbs, err := phi.Probabilities(images)
		if err != nil {
			t.Fatal(err)
		}
		var worstPsi, worstImg, worstZ, worstPhi float64
		for i := range n {
			worstPsi = max(worstPsi, pyMaxAbsDiff(t, fmt.Sprintf("ψ(z_%d)", i), psi[i], m.Psi[i], 1e-6))
			pyMaxAbsDiff(t, fmt.Sprintf("P(class | z_%d)", i), probs[i], m.Probabilities[i], 1e-6)
			worstImg = max(worstImg, pyMaxAbsDiff(t, fmt.Sprintf("D(z_%d)", i), pyFloat64s(images[i]), m.Decoded[i], 1e-6))
			worstPhi = max(worstPhi, pyMaxAbsDiff(t, fmt.Sprintf("φ(D(z_%d))", i), phiProbs[i], m.Phi[i], 1e-6))
		}
		// the encoder's float32 output, E(x) = z·scale + shift, to 1e-6:
		// compared in those units, as the standardisation divides by the
		// latents' spread (here ~0.02)
		enc, err := mn.AE.Encode(images)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			raw := func(z []float64) []float64 {
				out := make([]float64, len(z))
				for j, v := range z {
					out[j] = v * mn.AE.Scale[j]
				}
				return out
			}
			worstZ = max(worstZ, pyMaxAbsDiff(t, fmt.Sprintf("E(D(z_%d))", i), raw(enc[i]), raw(m.Encoded[i]), 1e-6))
		}
		t.Logf("largest differences: ψ %.2g, decoded pixels %.2g, encoder output %.2g, φ %.2g", worstPsi, worstImg, worstZ, worstPhi)
		if len(m.History) == 0 {
			t.Errorf("python read no loss history from the oracle's weights")
		}
	})

	t.Run("csv", func(t *testing.T) {
		var trials []sweeps.TrialResult
		for _, g := range doc.Groups {
			for _, lv := range g.Levels {
				trials = append(trials, lv.Trials...)
			}
		}
		if py.CSV.Rows != len(trials) || py.VerdictTrials != len(trials) {
			t.Fatalf("python read %d CSV rows and %d verdict trials, the verdict has %d", py.CSV.Rows, py.VerdictTrials, len(trials))
		}
		for i, tr := range trials {
			if py.CSV.InvRatio[i] != tr.Metrics.InvRatio {
				t.Errorf("row %d: inv_ratio %v read back as %v (not full precision)", i, tr.Metrics.InvRatio, py.CSV.InvRatio[i])
			}
			got, _ := json.Marshal(py.CSV.StructureConstants[i])
			want, _ := json.Marshal(tr.StructureConstants)
			if !bytes.Equal(got, want) {
				t.Errorf("row %d: structure constants %s read back as %s", i, want, got)
			}
		}
	})
}

// trainForPython runs `liesweep train` on spec (written to DIR/name.yaml)
// into DIR/name and returns that folder and the spec with its defaults.
func trainForPython(t *testing.T, dir, name, spec string, args ...string) (string, *sweeps.Spec) {
	t.Helper()
	specPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	cmd := newRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"train", "--spec", specPath, "--out", out, "--seed", "1"}, args...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("liesweep train %s: %v\n%s", name, err, stderr.String())
	}
	for _, f := range []string{"result.json", "generators.safetensors", "losses.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("liesweep train %s wrote no %s: %v", name, f, err)
		}
	}
	s, err := loadSpecFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	return out, s
}

func pyReadResult(t *testing.T, path string) *sweeps.TrialResult {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r sweeps.TrialResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// pyMaxAbsDiff reports an error when want and got differ in length or by
// more than tol in any entry, and returns the largest difference.
func pyMaxAbsDiff(t *testing.T, what string, want, got []float64, tol float64) float64 {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: python %d values, liesweep %d", what, len(got), len(want))
		return math.Inf(1)
	}
	var worst float64
	for i := range want {
		d := math.Abs(want[i] - got[i])
		if !(d <= tol) {
			t.Errorf("%s[%d]: python %v, liesweep %v (|Δ| %.3g > %g)", what, i, got[i], want[i], d, tol)
		}
		worst = max(worst, d)
	}
	return worst
}

func pyEqualHistories(a, b []map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k, v := range b[i] {
			if w, ok := a[i][k]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

func pyFloat64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
