package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liesweep/liesweep/sweeps"
)

// exportPsi is the PyTorch side of TestONNXOracleSameVerdict: it rebuilds
// liesweep's learned ψ from its stored weights (python/liesweep_io.py), puts
// the table's standardisation in front of it — the model a user would
// have, trained on raw features — and exports it to ONNX (opset 13,
// dynamic batch).
const exportPsi = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
import liesweep_io as lio
oracle_path, latents_path, out = sys.argv[2], sys.argv[3], sys.argv[4]
psi = lio.load_oracle(oracle_path).net
_, meta = lio.read_safetensors(latents_path)
mean = torch.tensor(json.loads(meta["feature_mean"]), dtype=torch.float64)
std = torch.tensor(json.loads(meta["feature_std"]), dtype=torch.float64)
class Raw(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.psi = psi
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
    def forward(self, x):
        return self.psi((x - self.mean) / self.std)
m = Raw().double().eval()
torch.onnx.export(m, torch.zeros(2, mean.numel(), dtype=torch.float64), out, opset_version=13,
                  input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
`

// TestONNXOracleSameVerdict: a ψ brought as ONNX gives the verdict of the
// same ψ trained natively. liesweep learns ψ on a sphere3 table and trains
// its generators; PyTorch exports that ψ (with the standardisation in
// front, on raw features); a second run imports the ONNX file as
// oracle_net.onnx and trains the same generators against it. The imported
// ψ equals the native one up to float64 rounding (~1e-15), so every metric
// agrees to 1e-6 relative and the verdicts are equal.
func TestONNXOracleSameVerdict(t *testing.T) {
	pyDir := torchPythonDir(t, "trains ψ and generators, runs PyTorch")
	dir := t.TempDir()
	if _, stderr, code := execute(t, "data", "gen", "sphere3", "--out", filepath.Join(dir, "sphere3.csv"), "--rows", "600"); code != 0 {
		t.Fatal(stderr)
	}
	const base = `dataset: {kind: table, path: sphere3.csv, target: y, task: classification}
oracle_net: {hidden: [32, 32], epochs: 150, batch: 64%s}
generator: {kind: linear, orthogonality: global, normalization: frobenius, closure: joint}
train: {epochs: 1500, lr: 3.0e-3, max_points: 200, eval_points: 150}
`
	native := filepath.Join(dir, "native.yaml")
	os.WriteFile(native, []byte(strings.Replace(base, "%s", "", 1)), 0o644)
	nOut := filepath.Join(dir, "native")
	if _, stderr, code := execute(t, "train", "--spec", native, "--ng", "3", "--seed", "1", "--out", nOut); code != 0 {
		t.Fatalf("native: %s", stderr)
	}
	var a sweeps.TrialResult
	readJSON(t, filepath.Join(nOut, "result.json"), &a)

	onnxPath := filepath.Join(dir, "psi.onnx")
	cmd := exec.Command(pythonTorch, "-c", exportPsi, pyDir,
		filepath.Join(nOut, a.Artifacts[sweeps.StageOracle]), filepath.Join(nOut, a.Artifacts[sweeps.StageLatents]), onnxPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	imported := filepath.Join(dir, "imported.yaml")
	os.WriteFile(imported, []byte(strings.Replace(base, "%s", ", onnx: psi.onnx", 1)), 0o644)
	iOut := filepath.Join(dir, "imported")
	_, stderr, code := execute(t, "train", "--spec", imported, "--ng", "3", "--seed", "1", "--out", iOut)
	if code != 0 {
		t.Fatalf("imported: %s", stderr)
	}
	if !strings.Contains(stderr, "ψ imported from") {
		t.Errorf("train does not say ψ was imported:\n%s", stderr)
	}
	var b sweeps.TrialResult
	readJSON(t, filepath.Join(iOut, "result.json"), &b)
	if a.OracleAccuracy == nil || b.OracleAccuracy == nil || *a.OracleAccuracy != *b.OracleAccuracy {
		t.Errorf("ψ accuracy native %v, imported %v", a.OracleAccuracy, b.OracleAccuracy)
	}
	for name, pair := range map[string][2]float64{
		"inv_ratio": {a.Metrics.InvRatio, b.Metrics.InvRatio}, "ortho_cos2": {a.Metrics.OrthoCos2, b.Metrics.OrthoCos2},
		"norm_dev": {a.Metrics.NormDev, b.Metrics.NormDev}, "closure_rel": {a.Metrics.ClosureRel, b.Metrics.ClosureRel},
	} {
		if d := math.Abs(pair[0] - pair[1]); d > 1e-6*math.Max(math.Abs(pair[0]), 1e-12) {
			t.Errorf("%s: native %.10g, imported %.10g", name, pair[0], pair[1])
		}
	}
	if a.Passed != b.Passed || a.Algebra.Summary() != b.Algebra.Summary() {
		t.Errorf("verdicts differ: native passed=%v %s; imported passed=%v %s", a.Passed, a.Algebra.Summary(), b.Passed, b.Algebra.Summary())
	}
	t.Logf("native and imported ψ: accuracy %.4f, passed %v, inv_ratio %.4g / %.4g, algebra %s", *a.OracleAccuracy, a.Passed, a.Metrics.InvRatio, b.Metrics.InvRatio, b.Algebra.Summary())
}
