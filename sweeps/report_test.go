package sweeps

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

type verdictDoc struct {
	Sweep  string  `json:"sweep"`
	Groups []Group `json:"groups"`
}

// TestReportGolden renders recorded verdicts of real runs (testdata: a
// so(3) sweep and the MNIST {0,1} ℓ = 2 example) as table, CSV, Markdown
// and JSON, and compares with golden files.
func TestReportGolden(t *testing.T) {
	for _, name := range []string{"so3", "mnist01-l2"} {
		raw, err := os.ReadFile("testdata/" + name + "-verdict.json")
		if err != nil {
			t.Fatal(err)
		}
		var d verdictDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		js, _ := json.MarshalIndent(d, "", "  ")
		for ext, got := range map[string]string{
			"txt": FormatTable(d.Groups), "csv": FormatCSV(d.Sweep, d.Groups), "md": FormatMarkdown(d.Sweep, d.Groups), "json": string(js) + "\n",
		} {
			golden := "testdata/" + name + ".golden." + ext
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n%s", ext, golden, got)
			}
		}
	}
}

func TestBracketLines(t *testing.T) {
	a := [][][]float64{{{0, 0, 0}, {0, 0, 0.998}, {0, -1, 0.004}}, {{0, 0, -0.998}, {0, 0, 0}, {1, 0, 0}}, {{0, 1, 0}, {-1, 0, 0}, {0, 0, 0}}}
	got := strings.Join(BracketLines(a), "; ")
	if want := "[J1, J2] = 0.998 J3; [J1, J3] = -1.000 J2; [J2, J3] = 1.000 J1"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestCompareMarksDifferences(t *testing.T) {
	raw, _ := os.ReadFile("testdata/so3-verdict.json")
	var a, b verdictDoc
	json.Unmarshal(raw, &a)
	json.Unmarshal(raw, &b)
	// the same sweep with the N_g = 3 level failed
	lv := &b.Groups[0].Levels[2]
	lv.Passed, lv.SuccessFraction = false, 0
	b.Groups = Aggregate(append(append(append([]TrialResult(nil), b.Groups[0].Levels[0].Trials...), b.Groups[0].Levels[1].Trials...), failAll(lv.Trials)...), 1)
	got := FormatCompare("A", a.Groups, "B", b.Groups)
	if !strings.Contains(got, "A: N_g ≥ 3   B: N_g = 1 *") || !strings.Contains(got, "  3    | ✓") || strings.Count(got, " *") != 2 {
		t.Errorf("compare:\n%s", got)
	}
}

func failAll(ts []TrialResult) []TrialResult {
	out := append([]TrialResult(nil), ts...)
	for i := range out {
		out[i].Metrics.ClosureRel = 0.9
		out[i].Judge(out[i].Thresholds)
	}
	return out
}

// TestHumanTablesSpread: the mean ± std cells use the sample standard
// deviation (n − 1), say "n/a" with one seed instead of a spread of 0,
// print "–" for the metrics that do not apply at N_g = 1, and spell every
// pass and fail ✓/✗, never true/false.
func TestHumanTablesSpread(t *testing.T) {
	rs := []TrialResult{
		// N_g = 2, two seeds, inv_ratio 1e-3 and 3e-3: mean 2e-3, sample
		// std √(((1−2)² + (3−2)²)/(2−1))·1e-3 = 1.41e-3 (the population
		// std would be 1e-3).
		trial(2, 1, Metrics{InvRatio: 1e-3, OrthoCos2: 1e-9, NormDev: 1e-9, ClosureRel: 1e-7}),
		trial(2, 2, Metrics{InvRatio: 3e-3, OrthoCos2: 2e-9, NormDev: 3e-9, ClosureRel: 0.5}),
		// N_g = 1, one seed: no spread; ortho_cos2 and closure_rel are 0
		// by definition.
		trial(1, 1, Metrics{InvRatio: 2e-3, NormDev: 1e-9}),
	}
	groups := Aggregate(rs, 1)
	md := FormatMarkdown("s", groups)
	for _, want := range []string{
		"| 1 | ✓ | 100% (21–100%) | 0.002 ± n/a | – | 1e-09 ± n/a | – |",
		"| 2 | ✓ | 50% (9–91%) | 0.002 ± 0.0014 |",
		"| 1 | 1 | ✓ | – | 0.002 | – | 1e-09 | – |",
		"| 2 | 2 | ✗ | closure_rel | 0.003 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "± 0 |") {
		t.Errorf("markdown prints a spread of 0:\n%s", md)
	}
	table := FormatTable(groups)
	if !strings.Contains(table, "  1     ✓      100%     0.002      –          1e-09      –") {
		t.Errorf("table lacks the N_g = 1 row with – for ortho_cos2 and closure_rel:\n%s", table)
	}
	for name, s := range map[string]string{"markdown": md, "table": table} {
		if strings.Contains(s, "true") || strings.Contains(s, "false") {
			t.Errorf("%s spells a bool true/false instead of ✓/✗:\n%s", name, s)
		}
	}
	// CSV keeps its zeros and its true/false.
	if csv := FormatCSV("s", groups); !strings.Contains(csv, ",true,true,") {
		t.Errorf("CSV changed:\n%s", csv)
	}
	if m, s := meanStd(rs[:2], func(m Metrics) float64 { return m.InvRatio }); m != 2e-3 || math.Abs(s-math.Sqrt2*1e-3) > 1e-15 {
		t.Errorf("meanStd = %g, %g; want 2e-3, √2·1e-3", m, s)
	}
}

// TestCompareKeepsCombinations: groups of two hyperparameter combinations
// are compared each with its own (all but one were dropped).
func TestCompareKeepsCombinations(t *testing.T) {
	g := func(label string, maxNG int) Group {
		return Group{Dataset: "d", LatentDim: 2, HyperLabel: label, MaxNG: maxNG, Bounded: true}
	}
	a := []Group{g("train.lr=0.01", 1), g("train.lr=1e+300", 0)}
	got := FormatCompare("A", a, "B", a)
	if !strings.Contains(got, "d ℓ=2 train.lr=0.01") || !strings.Contains(got, "d ℓ=2 train.lr=1e+300") {
		t.Errorf("compare lost a combination:\n%s", got)
	}
}
