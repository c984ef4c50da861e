package sweeps

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestValidateRejectsNonFinite: an infinite or NaN rate, weight or
// threshold is reported with its field (issue 11: +Inf passed validation
// and panicked later).
func TestValidateRejectsNonFinite(t *testing.T) {
	for _, c := range []struct {
		field string
		set   func(*Spec)
	}{
		{"train.lr", func(s *Spec) { s.Train.LR = math.Inf(1) }},
		{"train.h_norm", func(s *Spec) { s.Train.HNorm = math.Inf(1) }},
		{"train.epsilon", func(s *Spec) { s.Train.Epsilon = math.NaN() }},
		{"verdict.inv_ratio", func(s *Spec) { s.Verdict.InvRatio = math.Inf(1) }},
		{"classifier.lr", func(s *Spec) { s.Classifier.LR = math.Inf(1) }},
	} {
		s := DefaultSpec()
		s.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
		s.LatentDims = []int{2}
		s.Normalize()
		c.set(&s)
		err := s.Validate()
		if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: Validate() = %v, want an invalid-spec error naming the field", c.field, err)
		}
	}
	s := DefaultSpec()
	s.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
	s.LatentDims = []int{2}
	s.Classifier = StageTrain{}
	s.Normalize()
	if err := s.Validate(); err != nil {
		t.Errorf("a spec stored before the classifier section existed: %v (Normalize should give it the defaults)", err)
	}
}

// TestValidateBounds: each of issue 11's oversized or nonsensical values is
// rejected naming its field and the bound, and a spec at the bounds passes.
func TestValidateBounds(t *testing.T) {
	analytic := func() Spec {
		s := DefaultSpec()
		s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 3}
		s.Generator = Generator{Kind: "linear", Orthogonality: "global", Closure: "joint"}
		s.Normalize()
		return s
	}
	mnist := func() Spec {
		s := DefaultSpec()
		s.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
		s.LatentDims = []int{2}
		s.Normalize()
		return s
	}
	cases := []struct {
		name, field, text string
		spec              func() Spec
		set               func(*Spec)
	}{
		{"dim", "dataset.dim", "over the bound of 256", analytic, func(s *Spec) { s.Dataset.Dim = 200000; s.LatentDims = []int{200000} }},
		{"samples", "dataset.samples", "over the bound of 1000000", analytic, func(s *Spec) { s.Dataset.Samples = 2e9 }},
		{"samples × dim", "dataset.samples", "samples × dim", analytic, func(s *Spec) {
			s.Dataset.Dim, s.LatentDims, s.Dataset.Samples = 256, []int{256}, 100000
		}},
		{"hidden width", "generator.hidden", "over the bound of 4096", mnist, func(s *Spec) { s.Generator.Hidden = []int{1e9} }},
		{"hidden layers", "generator.hidden", "MaxHiddenLayers", mnist, func(s *Spec) { s.Generator.Hidden = []int{8, 8, 8, 8, 8, 8, 8, 8, 8} }},
		{"generator weights", "generator", "MaxGeneratorWeights", mnist, func(s *Spec) {
			s.LatentDims, s.NG, s.Generator.Hidden = []int{256}, []int{64}, []int{4096, 4096}
		}},
		// the ascent stops at MaxNG = 64 linear 256×256 generators: within the
		// weights bound, but not within the memory bound
		{"adaptive ascent to ℓ²", "train", "MaxGeneratorMemory", analytic, func(s *Spec) {
			s.Dataset.Dim, s.LatentDims, s.Adaptive.Enabled = 256, []int{256}, true
		}},
		{"ng", "ng", "1…64", analytic, func(s *Spec) { s.NG = []int{100000} }},
		{"train epochs", "train.epochs", "over the bound of 1000000", analytic, func(s *Spec) { s.Train.Epochs = 1e12 }},
		{"autoencoder epochs", "autoencoder.epochs", "MaxEpochs", mnist, func(s *Spec) { s.Autoencoder.Epochs = 1e7 + 1 }},
		{"unused stage epochs", "classifier.epochs", "MaxEpochs", analytic, func(s *Spec) { s.Classifier.Epochs = math.MaxInt }},
		{"oracle epochs", "oracle_net.epochs", "MaxEpochs", mnist, func(s *Spec) { s.OracleNet.Epochs = 1e9 }},
		{"negative seed", "seeds", "≥ 0", analytic, func(s *Spec) { s.Seeds = []int{-1} }},
		{"latent dims", "latent_dims", "1…256", mnist, func(s *Spec) { s.LatentDims = []int{1024} }},
		{"duplicate latent dims", "latent_dims", "twice", mnist, func(s *Spec) { s.LatentDims = []int{2, 2} }},
		{"batch", "train.batch", "≥ 0", analytic, func(s *Spec) { s.Train.Batch = -1 }},
		{"max points", "train.max_points", "over the bound of 10000000", mnist, func(s *Spec) { s.Train.MaxPoints = 1e8 }},
		{"eval points", "train.eval_points", "over the bound", mnist, func(s *Spec) { s.Train.EvalPoints = 1e8 }},
		{"grid", "seeds", "MaxTrials", analytic, func(s *Spec) {
			s.NG = []int{1, 2, 3, 4, 5, 6, 7, 8}
			for i := range 600 {
				s.Seeds = append(s.Seeds, i+2)
			}
		}},
		{"concurrency", "concurrency", "MaxConcurrency", analytic, func(s *Spec) { s.Concurrency = 1 << 40 }},
		{"expressions", "dataset.expr", "MaxExprs", analytic, func(s *Spec) {
			s.Dataset.Oracle, s.Dataset.Expr = "expr", strings.Split(strings.Repeat("x0,", 17)[:3*17-1], ",")
		}},
		{"expression bytes", "dataset.expr", "MaxExprBytes", analytic, func(s *Spec) {
			s.Dataset.Oracle, s.Dataset.Expr = "expr", []string{strings.Repeat("x0+", 1400) + "x0", strings.Repeat("x0+", 1400) + "x0"}
		}},
		{"name", "name", "MaxNameLen", analytic, func(s *Spec) { s.Name = strings.Repeat("n", 113) }},
		// the example: inside every other bound, ~44 GB in practice
		{"memory", "train", "MaxGeneratorMemory", analytic, func(s *Spec) {
			s.Dataset.Dim, s.LatentDims, s.Dataset.Samples = 256, []int{256}, 65536
			s.Generator = Generator{Kind: "mlp", Hidden: []int{4096}, Orthogonality: "pointwise", Normalization: "pointwise", Closure: "posthoc"}
			s.NG = []int{1}
		}},
		// the stages before the generators had no bound on their batch
		{"autoencoder batch", "autoencoder.batch", "MaxGeneratorMemory", mnist, func(s *Spec) { s.Autoencoder.Batch = 60000 }},
		{"classifier batch", "classifier.batch", "MaxGeneratorMemory", mnist, func(s *Spec) { s.Classifier.Batch = 1e6 }},
		{"oracle weights", "oracle_net.hidden", "MaxGeneratorWeights", mnist, func(s *Spec) {
			s.OracleNet.Hidden = []int{4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096}
		}},
		{"oracle batch", "oracle_net.batch", "MaxGeneratorMemory", mnist, func(s *Spec) { s.OracleNet.Batch = 1e9 }},
		// shapes the analysis cannot solve (issue 22)
		{"linear N_g > ℓ²", "ng", "at most ℓ² = 9", analytic, func(s *Spec) { s.NG = []int{1, 10} }},
		{"N_g > values per field", "ng", "fewer than the 10 unknowns", analytic, func(s *Spec) {
			s.Generator = Generator{Kind: "mlp", Hidden: []int{8}, Orthogonality: "pointwise", Normalization: "pointwise", Closure: "posthoc"}
			s.Dataset.Samples, s.NG = 3, []int{10}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.spec()
			if err := s.Validate(); err != nil {
				t.Fatalf("base spec: %v", err)
			}
			c.set(&s)
			err := s.Validate()
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), `"`+c.field+`"`) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("Validate() = %v, want an invalid-spec error naming %s and containing %q", err, c.field, c.text)
			}
		})
	}
	// at the bounds
	s := analytic()
	s.Dataset.Dim, s.LatentDims, s.Dataset.Samples = MaxDim, []int{MaxDim}, MaxSampleValues/MaxDim
	s.NG, s.Train.Epochs, s.Train.EvalPoints = []int{MaxNG}, MaxEpochs, MaxPoints
	// every size at its bound at once needs terabytes: the memory bound
	// refuses it (issue 22: "bounds that do not bound") …
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "MaxGeneratorMemory") {
		t.Errorf("a spec with every size at its bound: %v, want the memory bound", err)
	}
	// … and the same spec on 8 points is fine
	s.Dataset.Samples = 8
	if err := s.Validate(); err != nil {
		t.Errorf("a spec at the bounds on 8 points: %v", err)
	}
	// train.max_points does not shrink an analytic oracle's training set:
	// it is refused, not taken as a cap the memory bound believes in
	s.Dataset.Samples, s.Train.MaxPoints = MaxSampleValues/MaxDim, 8
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "MaxGeneratorMemory") || !strings.Contains(err.Error(), `"train.max_points"`) {
		t.Errorf("at the bounds with max_points 8: %v, want the memory bound and max_points refused", err)
	}
	s = mnist()
	s.LatentDims, s.Generator.Hidden, s.NG = []int{MaxLatentDim}, []int{MaxHiddenWidth, MaxHiddenWidth}, []int{2}
	if err := s.Validate(); err != nil {
		t.Errorf("a spec at the width bound: %v", err)
	}
}

// TestFieldErrorWraps: a FieldError is an invalid spec and keeps its cause.
func TestFieldErrorWraps(t *testing.T) {
	cause := errors.New("bad exponent")
	err := error(&FieldError{Field: "dataset.expr[2]", Err: cause})
	if !errors.Is(err, ErrInvalidSpec) || !errors.Is(err, cause) {
		t.Errorf("%v does not wrap ErrInvalidSpec and its cause", err)
	}
	if got, want := err.Error(), `spec field "dataset.expr[2]": bad exponent`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestAxisDuplicateValues: a swept key listing a value twice is refused
// (each of its combinations would run twice under the same label), also
// when the two are spelled differently (1e-3 and 0.001; [32, 32] twice).
func TestAxisDuplicateValues(t *testing.T) {
	for _, c := range []struct {
		key  string
		vals []any
	}{
		{"train.lr", []any{1e-3, 0.001}},
		{"generator.hidden", []any{[]any{32, 32}, []any{16}, []any{32, 32}}},
	} {
		s := DefaultSpec()
		s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 3}
		s.Generator = Generator{Kind: "mlp", Hidden: []int{8}, Orthogonality: "pointwise", Normalization: "pointwise", Closure: "posthoc"}
		s.Normalize()
		s.Axes = []Axis{{Key: c.key, Values: c.vals}}
		err := s.Validate()
		if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s %v: %v, want a duplicate-value error", c.key, c.vals, err)
		}
	}
}

// TestAxisOfAnUnreadKey: sweeping a key the dataset never reads (the
// autoencoder of an analytic oracle) made every combination train the
// same trials again; it is refused, and the same key on MNIST is not.
func TestAxisOfAnUnreadKey(t *testing.T) {
	for _, c := range []struct {
		kind, key string
		refused   bool
	}{
		{"analytic", "autoencoder.lr", true},
		{"analytic", "classifier.epochs", true},
		{"analytic", "oracle_net.lr", true},
		{"analytic", "train.lr", false},
		{"mnist", "autoencoder.lr", false},
		{"mnist", "oracle_net.lr", false},
	} {
		s := DefaultSpec()
		s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 3}
		if c.kind == "mnist" {
			s.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
			s.LatentDims = []int{2}
		}
		s.Normalize()
		v := []any{1e-3, 1e-2}
		if strings.HasSuffix(c.key, "epochs") {
			v = []any{1, 2}
		}
		s.Axes = []Axis{{Key: c.key, Values: v}}
		err := s.Validate()
		if refused := err != nil && strings.Contains(err.Error(), "same trials again"); refused != c.refused {
			t.Errorf("%s sweeping %s: %v, want refused %v", c.kind, c.key, err, c.refused)
		}
	}
}

// TestValidateRecorded: the checks added on 2026-12-07 refuse specs that
// sweeps already running were started with; ValidateRecorded, which the
// workflow replays such histories with, still accepts them.
func TestValidateRecorded(t *testing.T) {
	s := DefaultSpec()
	s.Name = "ünï"
	s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 2}
	s.Generator = Generator{Kind: "linear", Orthogonality: "global", Closure: "joint"}
	s.NG = []int{1, 5}
	s.Normalize()
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "ℓ² = 4") || !strings.Contains(err.Error(), `"name"`) {
		t.Errorf("Validate: %v, want the N_g > ℓ² and name errors", err)
	}
	if err := s.ValidateRecorded(RulesOriginal); err != nil {
		t.Errorf("ValidateRecorded: %v, want the spec accepted as before", err)
	}
	// train.max_points on an analytic oracle: accepted (and ignored) by
	// the rules of 2026-12-07, refused since.
	s = DefaultSpec()
	s.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 2, Samples: 500}
	s.Train.MaxPoints = 100
	s.Normalize()
	if err := s.ValidateRecorded(Rules1207); err != nil {
		t.Errorf("ValidateRecorded(Rules1207): %v", err)
	}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `"train.max_points"`) || !strings.Contains(err.Error(), "dataset.samples") {
		t.Errorf("Validate: %v, want max_points refused for an analytic oracle, pointing to dataset.samples", err)
	}
}
