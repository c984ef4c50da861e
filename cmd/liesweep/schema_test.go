package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/liesweep/liesweep/datasets"
	"github.com/liesweep/liesweep/sweeps"
	"go.yaml.in/yaml/v3"
)

// schemaModeline is the first line of every example: editors with the YAML
// language server validate and complete the spec with the schema.
const schemaModeline = "# yaml-language-server: $schema=../docs/spec.schema.json"

func runSchemaCmd(t *testing.T, args ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"schema"}, args...))
	if err := cmd.Execute(); err != nil {
		t.Fatalf("liesweep schema %s: %v", strings.Join(args, " "), err)
	}
	return out.Bytes()
}

// TestSchemaCommand: `liesweep schema` prints docs/spec.schema.json and
// `liesweep schema --reference` docs/spec-reference.md, as committed.
func TestSchemaCommand(t *testing.T) {
	for file, args := range map[string][]string{"../../docs/spec.schema.json": nil, "../../docs/spec-reference.md": {"--reference"}} {
		got := runSchemaCmd(t, args...)
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("liesweep schema %s differs from %s: run `make schema`", strings.Join(args, " "), file)
		}
	}
	var s map[string]any
	if err := json.Unmarshal(runSchemaCmd(t), &s); err != nil || s["$schema"] != sweeps.SchemaURL {
		t.Errorf("liesweep schema does not print a JSON Schema: %v", err)
	}
}

// loadSchema reads the committed schema.
func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../../docs/spec.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSchemaExamples: every example starts with the yaml-language-server
// line, every key path in it is a key of the schema (a sweepable key's
// {values: [...]} included), and it validates against the schema.
func TestSchemaExamples(t *testing.T) {
	schema := loadSchema(t)
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(raw), "\n"); first != schemaModeline {
			t.Errorf("%s: the first line is %q, want %q", f, first, schemaModeline)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		paths := 0
		for _, p := range schemaKeyPaths(schema, doc.Content[0], "", &paths) {
			t.Errorf("%s: %s", f, p)
		}
		if paths < 3 {
			t.Errorf("%s: only %d key paths", f, paths)
		}
		for _, p := range validateYAML(t, schema, raw) {
			t.Errorf("%s does not validate against the schema: %s", f, p)
		}
	}
}

// schemaKeyPaths walks the mapping n and reports each key path that is not
// in the schema s.
func schemaKeyPaths(s map[string]any, n *yaml.Node, path string, count *int) []string {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var bad []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := strings.TrimPrefix(path+"."+k.Value, ".")
		*count++
		props, _ := s["properties"].(map[string]any)
		ks, ok := props[k.Value].(map[string]any)
		if !ok {
			if branches, sweepable := s["anyOf"].([]any); sweepable && k.Value == "values" {
				ks = branches[2].(map[string]any)["properties"].(map[string]any)["values"].(map[string]any)
			} else {
				bad = append(bad, fmt.Sprintf("line %d: key %s is not in the schema", k.Line, sub))
				continue
			}
		}
		bad = append(bad, schemaKeyPaths(ks, v, sub, count)...)
	}
	return bad
}

// validateYAML decodes a YAML spec and validates it against the schema.
func validateYAML(t *testing.T, schema map[string]any, raw []byte) []string {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v == nil {
		v = map[string]any{}
	}
	var errs []string
	validateSchema(schema, v, "", &errs)
	return errs
}

// validateSchema is a JSON Schema validator for the keywords the spec's
// schema uses; any other keyword is an error, so a keyword the generator
// starts to write is not silently ignored here.
func validateSchema(s map[string]any, v any, path string, errs *[]string) {
	bad := func(format string, args ...any) {
		p := path
		if p == "" {
			p = "(top level)"
		}
		*errs = append(*errs, p+": "+fmt.Sprintf(format, args...))
	}
	for kw, arg := range s {
		switch kw {
		case "$schema", "$comment", "title", "description", "default":
		case "type":
			ok := false
			switch arg {
			case "object":
				_, ok = v.(map[string]any)
			case "array":
				_, ok = v.([]any)
			case "string":
				_, ok = v.(string)
			case "boolean":
				_, ok = v.(bool)
			case "integer":
				_, ok = v.(int) // a YAML !!int, as the strict decoder wants
			case "number":
				_, isInt := v.(int)
				_, isFloat := v.(float64)
				ok = isInt || isFloat
			default:
				bad("unknown type %v", arg)
			}
			if !ok {
				bad("%v (%T) is not of type %v", v, v, arg)
			}
		case "properties":
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			props := arg.(map[string]any)
			for k, sub := range m {
				if ps, ok := props[k]; ok {
					validateSchema(ps.(map[string]any), sub, strings.TrimPrefix(path+"."+k, "."), errs)
				}
			}
		case "additionalProperties":
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			if arg != false {
				bad("additionalProperties %v", arg)
			}
			props, _ := s["properties"].(map[string]any)
			for k := range m {
				if _, ok := props[k]; !ok {
					bad("unknown key %q", k)
				}
			}
		case "required":
			if m, ok := v.(map[string]any); ok {
				for _, k := range arg.([]any) {
					if _, ok := m[k.(string)]; !ok {
						bad("the required key %v is missing", k)
					}
				}
			}
		case "items":
			if l, ok := v.([]any); ok {
				for i, e := range l {
					validateSchema(arg.(map[string]any), e, fmt.Sprintf("%s[%d]", path, i), errs)
				}
			}
		case "anyOf":
			var all []string
			matched := false
			for _, b := range arg.([]any) {
				var sub []string
				validateSchema(b.(map[string]any), v, path, &sub)
				if len(sub) == 0 {
					matched = true
					break
				}
				all = append(all, sub...)
			}
			if !matched {
				bad("matches none of anyOf: %s", strings.Join(all, "; "))
			}
		case "enum":
			found := false
			for _, e := range arg.([]any) {
				found = found || e == v
			}
			if !found {
				bad("%v is not one of %v", v, arg)
			}
		case "minimum", "maximum", "exclusiveMinimum":
			x, ok := toNumber(v)
			if !ok {
				continue
			}
			b := arg.(float64)
			if kw == "minimum" && x < b || kw == "maximum" && x > b || kw == "exclusiveMinimum" && x <= b {
				bad("%v is out of bounds (%s %v)", v, kw, b)
			}
		case "minItems", "maxItems":
			if l, ok := v.([]any); ok {
				n := int(arg.(float64))
				if kw == "minItems" && len(l) < n || kw == "maxItems" && len(l) > n {
					bad("%d entries (%s %d)", len(l), kw, n)
				}
			}
		case "uniqueItems":
			if l, ok := v.([]any); ok && arg == true {
				seen := map[string]bool{}
				for _, e := range l {
					k := fmt.Sprintf("%#v", e)
					if seen[k] {
						bad("%v is given twice", e)
					}
					seen[k] = true
				}
			}
		case "maxLength":
			if str, ok := v.(string); ok && utf8.RuneCountInString(str) > int(arg.(float64)) {
				bad("longer than %v characters", arg)
			}
		case "pattern":
			if str, ok := v.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(str) {
				bad("%q does not match %v", str, arg)
			}
		default:
			bad("the test's validator does not know the keyword %q", kw)
		}
	}
}

func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	}
	return 0, false
}

// TestSchemaAgreesWithLoadSpec: specs the loader takes validate against the
// schema, and the schema rejects what the loader does for a wrong key, type,
// value or bound.
func TestSchemaAgreesWithLoadSpec(t *testing.T) {
	schema := loadSchema(t)
	const base = "dataset: {kind: analytic, oracle: norm, dim: 3}\n"
	valid := []string{
		base,
		sweeps.SpecSweepExample,
		base + "train: {lr: [1.0e-3, 3.0e-3], epochs: {values: [10, 20]}, h_norm: 2}\n",
		base + "generator: {kind: mlp, hidden: [[16, 16], [32]]}\n",
		base + "generator: {hidden: {values: [[8], [16, 16]]}}\n",
		base + "verdict: {inv_ratio: 1, quorum: 1}\nadaptive: {enabled: true, max_ng: 9}\n",
		"name: m\ndataset: {kind: mnist, classes: [0, 1], max_train: 100}\nlatent_dims: [2, 3]\nclassifier: {epochs: 1}\noracle_net: {preserve: probabilities}\n",
	}
	for _, src := range valid {
		if _, err := loadSpec(strings.NewReader(src)); err != nil {
			t.Errorf("loadSpec(%q): %v", src, err)
		}
		for _, p := range validateYAML(t, schema, []byte(src)) {
			t.Errorf("%q: %s", src, p)
		}
	}
	invalid := []string{
		"ng: [1]\n", // no dataset
		"dataset: {oracle: norm, dim: 3}\n",
		"dataset: {kind: circle}\n",
		base + "seed: [1]\n",
		base + "NG: [1]\n",
		base + "train: {epoch: 5}\n",
		base + "train: {epochs: 20.7}\n",
		base + "train: {epochs: \"10\"}\n",
		base + "train: {epochs: 0}\n",
		base + "train: {lr: 0}\n",
		base + "train: {lr: false}\n",
		base + "train: {lr: {values: []}}\n",
		base + "train: {lr: {values: [1], other: 2}}\n",
		base + "seeds: 1\n",
		base + "seeds: [1, 1]\n",
		base + "ng: []\n",
		base + "ng: [65]\n",
		base + "verdict: {quorum: [1, 2]}\n",
		base + "verdict: {quorum: 0}\n",
		base + "generator: {kind: 1}\n",
		base + "generator: {hidden: [0]}\n",
		base + "adaptive: {enabled: 1}\n",
		base + "adaptive: {max_ng: 65}\n",
		base + "concurrency: [1, 2]\n",
		base + "oracle_net: {preserve: softmax}\n",
		base + "name: a b\n",
		base + "train: [1]\n",
		"dataset: {kind: analytic, oracle: norm, dim: 257}\n",
		"dataset: {kind: analytic, oracle: norm, dim: [2, 3]}\n",
	}
	for _, src := range invalid {
		if _, err := loadSpec(strings.NewReader(src)); err == nil {
			t.Errorf("loadSpec(%q) takes it; the case is not invalid", src)
		}
		if errs := validateYAML(t, schema, []byte(src)); len(errs) == 0 {
			t.Errorf("%q validates against the schema, but loadSpec rejects it", src)
		}
	}
	// the key-path walk of TestSchemaExamples
	for src, want := range map[string]int{
		base + "train: {lr: {values: [1]}, epochs: [1, 2]}\n":           0,
		base + "train: {epoch: 5}\ngenerator: {hidden: {value: [1]}}\n": 2,
		base + "dataset2: {}\n": 1,
	} {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		n := 0
		if got := schemaKeyPaths(schema, doc.Content[0], "", &n); len(got) != want {
			t.Errorf("%q: unknown key paths %q, want %d", src, got, want)
		}
	}
	// each swept value is held to the key's own schema
	for _, src := range []string{
		base + "generator: {kind: [mlp, cnn]}\n",
		base + "train: {lr: [1.0e-3, -1]}\n",
		base + "train: {epochs: {values: [10, 2.5]}}\n",
		base + "generator: {hidden: [[16], [0]]}\n",
	} {
		if errs := validateYAML(t, schema, []byte(src)); len(errs) == 0 {
			t.Errorf("%q validates against the schema", src)
		}
	}
}

// TestSchemaReferenceExample: the reference's sweep example is a valid
// spec with the combinations and trials the reference says.
func TestSchemaReferenceExample(t *testing.T) {
	s, err := loadSpec(strings.NewReader(sweeps.SpecSweepExample))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range s.Axes {
		keys = append(keys, a.Key)
	}
	slices.Sort(keys)
	if want := []string{"generator.closure", "train.epochs", "train.lr"}; !slices.Equal(keys, want) {
		t.Errorf("axes %v, want %v", keys, want)
	}
	trials, _, err := s.GridSize()
	if err != nil || trials != 32 {
		t.Errorf("GridSize = %d, %v; the reference says 32 trials", trials, err)
	}
	if !strings.Contains(sweeps.SpecReference(), "= 8\ncombinations × 4 N_g = 32 trials") {
		t.Error("the reference no longer states the example's 8 combinations and 32 trials")
	}
}

// TestSchemaExprBoundIsDatasets: the schema's bound on one expression is
// datasets.MaxExprLen (sweeps cannot import datasets).
func TestSchemaExprBoundIsDatasets(t *testing.T) {
	schema := loadSchema(t)
	items := schema["properties"].(map[string]any)["dataset"].(map[string]any)["properties"].(map[string]any)["expr"].(map[string]any)["items"].(map[string]any)
	if got := items["maxLength"]; got != float64(datasets.MaxExprLen) {
		t.Errorf("dataset.expr entries: maxLength %v, datasets.MaxExprLen is %d", got, datasets.MaxExprLen)
	}
}
