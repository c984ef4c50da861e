package sweeps

import (
	"encoding/json"
	"flag"
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
