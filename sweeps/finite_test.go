package sweeps

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// randomResult returns a trial result whose floats are drawn from r, each
// replaced by NaN, +Inf or −Inf with probability bad.
func randomResult(r *rand.Rand, bad float64) TrialResult {
	x := func() float64 {
		if r.Float64() < bad {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(3)]
		}
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10))
	}
	n := 1 + r.IntN(3)
	cube := func() [][][]float64 {
		a := make([][][]float64, n)
		for i := range a {
			a[i] = make([][]float64, n)
			for j := range a[i] {
				a[i][j] = []float64{x(), x()}
			}
		}
		return a
	}
	acc, mse := x(), x()
	res := TrialResult{
		SchemaVersion: ResultSchemaVersion, Dataset: "d", NG: n, LatentDim: 2, Seed: 1,
		Losses:             Losses{Total: x(), Inv: x(), Norm: x(), Ortho: x(), Closure: x()},
		Metrics:            Metrics{InvRatio: x(), OrthoCos2: x(), NormDev: x(), ClosureRel: x()},
		Thresholds:         DefaultSpec().Verdict,
		PairResidual:       []float64{x(), x()},
		PairOrtho:          []float64{x()},
		StructureConstants: cube(),
		JointConstants:     cube(),
		SparseBasis:        &SparseBasis{Matrices: cube(), StructureConstants: cube(), Rotation: [][]float64{{x()}}, Point: []float64{x()}},
		OracleAccuracy:     &acc,
		AutoencoderMSE:     &mse,
		MetricIntervals:    &MetricIntervals{InvRatio: [2]float64{x(), x()}, OrthoCos2: [2]float64{x(), x()}, NormDev: [2]float64{x(), x()}, ClosureRel: [2]float64{x(), x()}, Rounds: 200},
		Stages:             []StageRun{{Stage: "generators", Seconds: x()}},
	}
	res.Algebra.Tol = x()
	res.Judge(res.Thresholds)
	return res
}

// sameFloat is equality with every NaN equal to every NaN and ±Inf to NaN
// (what a null decodes to).
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsInf(a, 0) {
		return math.IsNaN(b)
	}
	return a == b
}

// TestResultJSONNonFinite: a result holding NaN or ±Inf anywhere encodes
// (it used to panic with "json: unsupported value"); its metrics, losses and
// intervals come back NaN where they were not finite and equal elsewhere,
// a non-finite metric still fails Judge after the round trip, every other
// float collection that held one is left out with a note, and a fully
// finite result round-trips exactly without notes.
func TestResultJSONNonFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		bad := []float64{0, 0.05, 0.5}[i%3]
		in := randomResult(r, bad)
		b, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var out TrialResult
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("case %d: decode: %v\n%s", i, err, b)
		}
		for _, p := range [][2]reflect.Value{
			{reflect.ValueOf(in.Metrics), reflect.ValueOf(out.Metrics)},
			{reflect.ValueOf(in.Losses), reflect.ValueOf(out.Losses)},
			{reflect.ValueOf(*in.MetricIntervals), reflect.ValueOf(*out.MetricIntervals)},
		} {
			for f := 0; f < p[0].NumField(); f++ {
				a, c := p[0].Field(f), p[1].Field(f)
				switch a.Kind() {
				case reflect.Float64:
					if !sameFloat(a.Float(), c.Float()) {
						t.Fatalf("case %d: %s.%s %g came back %g", i, p[0].Type().Name(), p[0].Type().Field(f).Name, a.Float(), c.Float())
					}
				case reflect.Array:
					for j := 0; j < a.Len(); j++ {
						if !sameFloat(a.Index(j).Float(), c.Index(j).Float()) {
							t.Fatalf("case %d: %s.%s[%d] %g came back %g", i, p[0].Type().Name(), p[0].Type().Field(f).Name, j, a.Index(j).Float(), c.Index(j).Float())
						}
					}
				}
			}
		}
		rejudged := out
		rejudged.Judge(out.Thresholds)
		if !reflect.DeepEqual(rejudged.FailedOn, in.FailedOn) || rejudged.Passed != in.Passed {
			t.Fatalf("case %d: judged %v before encoding, %v after", i, in.FailedOn, rejudged.FailedOn)
		}
		if !finite3(in.StructureConstants) != (out.StructureConstants == nil) {
			t.Fatalf("case %d: structure constants finite=%v, decoded %v", i, finite3(in.StructureConstants), out.StructureConstants)
		}
		if !finite3(in.StructureConstants) && !strings.Contains(strings.Join(out.Notes, "; "), "structure_constants not finite") {
			t.Fatalf("case %d: no note for the dropped structure constants: %q", i, out.Notes)
		}
		if bad == 0 {
			if len(out.Notes) > 0 {
				t.Fatalf("case %d: notes on a finite result: %q", i, out.Notes)
			}
			again, _ := json.MarshalIndent(out, "", "  ")
			if string(again) != string(b) {
				t.Fatalf("case %d: a finite result does not round-trip:\n%s\n%s", i, b, again)
			}
		}
	}
}

// TestMetricsJSONLayout: the finite encoding is what encoding/json writes
// for the plain struct, so results stored before stay byte for byte.
func TestMetricsJSONLayout(t *testing.T) {
	type plain Metrics
	m := Metrics{InvRatio: 0.0225, OrthoCos2: 0, NormDev: 1e-300, ClosureRel: 0.99}
	got, _ := json.MarshalIndent(m, "", "  ")
	want, _ := json.MarshalIndent(plain(m), "", "  ")
	if string(got) != string(want) {
		t.Errorf("custom encoding\n%s\nplain\n%s", got, want)
	}
	type plainIv MetricIntervals
	iv := MetricIntervals{InvRatio: [2]float64{0.01, 0.03}, Rounds: 200}
	got, _ = json.Marshal(iv)
	want, _ = json.Marshal(plainIv(iv))
	if string(got) != string(want) {
		t.Errorf("custom encoding %s, plain %s", got, want)
	}
}

// TestUndefinedMetricsReadAsUndefined: a metric that is not finite (null in
// result.json) reads "undefined" in every human format — the table, the
// Markdown report with its intervals and means — and is an empty cell in
// CSV, never "+Inf" or "NaN",
// which read as measured values, and the Markdown report carries the
// trial's note saying why (the evidence line points to it).
func TestUndefinedMetricsReadAsUndefined(t *testing.T) {
	v := DefaultSpec().Verdict
	bad := TrialResult{NG: 2, LatentDim: 2, Seed: 1, Dataset: "d", Metrics: Metrics{InvRatio: math.NaN(), OrthoCos2: math.Inf(1), NormDev: 0.1, ClosureRel: 0.2},
		MetricIntervals: &MetricIntervals{InvRatio: [2]float64{math.NaN(), 1}}, Notes: []string{"inv_ratio is undefined: ψ is constant"}}
	bad.Judge(v)
	good := TrialResult{NG: 2, LatentDim: 2, Seed: 2, Dataset: "d", Metrics: Metrics{InvRatio: 1e-4, OrthoCos2: 1e-4, NormDev: 0.01, ClosureRel: 0.01}}
	good.Judge(v)
	groups := Aggregate([]TrialResult{bad, good}, 1)
	for name, text := range map[string]string{"table": FormatTable(groups), "markdown": FormatMarkdown("s", groups)} {
		if strings.Contains(text, "NaN") || strings.Contains(text, "Inf") || !strings.Contains(text, "undefined") {
			t.Errorf("%s: want undefined metrics as \"undefined\", got\n%s", name, text)
		}
	}
	if csv := FormatCSV("s", groups); strings.Contains(csv, "NaN") || strings.Contains(csv, "Inf") {
		t.Errorf("CSV writes undefined metrics as values, want empty cells:\n%s", csv)
	}
	if md := FormatMarkdown("s", groups); !strings.Contains(md, "N_g = 2, seed 1: inv_ratio is undefined: ψ is constant") {
		t.Errorf("the Markdown report does not carry the trial's note:\n%s", md)
	}
}

// TestEvidenceOfAFailedTrialCitesItsNote: a trial that failed as a whole
// (every metric undefined) is cited in the evidence by why it failed, not
// as "ortho_cos2 not finite".
func TestEvidenceOfAFailedTrialCitesItsNote(t *testing.T) {
	nan := math.NaN()
	r := TrialResult{NG: 2, LatentDim: 2, Seed: 1, Dataset: "d", Metrics: Metrics{InvRatio: nan, OrthoCos2: nan, NormDev: nan, ClosureRel: nan},
		Notes: []string{"the closure analysis cannot be solved, so the trial has no metrics and fails: 21 generators on 10 evaluation points"}}
	r.Judge(DefaultSpec().Verdict)
	g := Aggregate([]TrialResult{r}, 1)
	if !strings.Contains(g[0].Evidence, "best seed: the closure analysis cannot be solved)") {
		t.Errorf("evidence %q", g[0].Evidence)
	}
}
