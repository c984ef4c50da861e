package sweeps

import (
	"reflect"
	"strings"
	"testing"
)

// notStageInputs are the spec fields that no stage's output depends on:
// the grid axes enter through the Trial, the rest orchestrate or judge.
var notStageInputs = map[string]bool{
	"Name": true, "LatentDims": true, "NG": true, "Seeds": true,
	"Verdict": true, "Concurrency": true, "Adaptive": true,
	"Dataset.MNISTDir": true, "Train.CheckpointEvery": true,
	// Axes expand into combinations, each a spec without axes.
	"Axes": true,
}

// TestStageKeysCoverConfig perturbs every leaf field of the spec, one at a
// time, and checks that some stage key of an MNIST or an analytic trial
// changes. A field added to a config that no key covers fails here, so a
// new hyperparameter can never silently reuse old artifacts.
func TestStageKeysCoverConfig(t *testing.T) {
	mnist := DefaultSpec()
	mnist.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}, MaxTrain: 100, MaxVal: 50}
	analytic := DefaultSpec()
	analytic.Dataset = Dataset{Kind: "analytic", Oracle: "expr", Dim: 2, Samples: 10, Expr: []string{"x0^2"}}
	trial := Trial{Latent: 2, NG: 1, Seed: 1}
	var leaves []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name := prefix + f.Name
			if notStageInputs[name] {
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				walk(name+".", f.Type)
				continue
			}
			leaves = append(leaves, name)
		}
	}
	walk("", reflect.TypeOf(Spec{}))
	if len(leaves) < 25 {
		t.Fatalf("only %d leaf fields found: %v", len(leaves), leaves)
	}
	for _, leaf := range leaves {
		changed := false
		for _, base := range []Spec{mnist, analytic} {
			before := StageKeys(&base, trial)
			s := base
			s.Dataset.Classes = append([]int(nil), base.Dataset.Classes...)
			s.Generator.Hidden = append([]int(nil), base.Generator.Hidden...)
			perturb(t, reflect.ValueOf(&s).Elem(), strings.Split(leaf, "."))
			if StageKeys(&s, trial) != before {
				changed = true
			}
		}
		if !changed {
			t.Errorf("spec field %s changes no stage key: add it to its stage's key (or to notStageInputs if no stage depends on it)", leaf)
		}
	}
	// The fields that must not change any key do not.
	s := mnist
	s.Train.CheckpointEvery++
	s.Verdict.InvRatio *= 2
	s.Dataset.MNISTDir = "/elsewhere"
	if StageKeys(&s, trial) != StageKeys(&mnist, trial) {
		t.Error("checkpoint interval, thresholds or the MNIST folder changed a stage key")
	}
}

func perturb(t *testing.T, v reflect.Value, path []string) {
	f := v.FieldByName(path[0])
	if len(path) > 1 {
		perturb(t, f, path[1:])
		return
	}
	switch f.Kind() {
	case reflect.Int:
		f.SetInt(f.Int() + 7)
	case reflect.Float64:
		f.SetFloat(f.Float()*3 + 0.5)
	case reflect.String:
		f.SetString(f.String() + "x")
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Slice:
		switch f.Type().Elem().Kind() {
		case reflect.Int:
			f.Set(reflect.Append(f, reflect.ValueOf(9)))
		case reflect.String:
			f.Set(reflect.Append(f, reflect.ValueOf("x1")))
		default:
			t.Fatalf("%s: slice of %s not handled", path[0], f.Type().Elem())
		}
	default:
		t.Fatalf("%s: kind %s not handled", path[0], f.Kind())
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"so3-20261128-101500", "a", "mnist01_l2.v2"} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "../../x", "a/results/x", "-x", ".x", "a..b", "with space", strings.Repeat("a", 129), "é"} {
		if err := ValidateID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestValidateAxes: every value of a swept key is validated, and an
// invalid one is reported with its combination.
func TestValidateAxes(t *testing.T) {
	s := DefaultSpec()
	s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 2, Samples: 10}
	s.Normalize()
	s.Axes = []Axis{{Key: "train.lr", Values: []any{1e-3, -1.0}}, {Key: "generator.kind", Values: []any{"mlp", "cnn"}}}
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "train.lr=-1") || !strings.Contains(err.Error(), `"cnn"`) {
		t.Errorf("got %v, want the bad lr and the bad kind reported with their combinations", err)
	}
	s.Axes = []Axis{{Key: "dataset.dim", Values: []any{2.0, 3.0}}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "cannot be swept") && !strings.Contains(err.Error(), "only keys of") {
		t.Errorf("dataset.dim was accepted as an axis: %v", err)
	}
}

func TestValidateKey(t *testing.T) {
	for _, ok := range []string{"artifacts/generators/0123abcd/weights.safetensors", "sweeps/so3-1/results/h1-l2-ng1-seed1.json", "result.json", "results/l2-ng1-seed1.json"} {
		if err := ValidateKey(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/abs", "a//b", "a/../b", "../x", "a/", "with space", "a\\b", "é"} {
		if err := ValidateKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSweptKindNormalization: with generator.kind swept and no explicit
// normalization, each combination gets its kind's default.
func TestSweptKindNormalization(t *testing.T) {
	s := DefaultSpec()
	s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 2, Samples: 10}
	s.Axes = []Axis{{Key: "generator.kind", Values: []any{"mlp", "linear"}}}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	combos, err := s.Combos()
	if err != nil {
		t.Fatal(err)
	}
	if n0, n1 := combos[0].Spec.Generator.Normalization, combos[1].Spec.Generator.Normalization; n0 != "pointwise" || n1 != "frobenius" {
		t.Errorf("normalization %q for mlp, %q for linear; want pointwise, frobenius", n0, n1)
	}
}
