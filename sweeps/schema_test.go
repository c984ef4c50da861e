package sweeps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	schemaFile    = "../docs/spec.schema.json"
	referenceFile = "../docs/spec-reference.md"
	schemaFix     = "run `make schema` (or `go test ./sweeps -run Schema -update`) and commit the result"
)

// TestSchemaUpToDate regenerates the spec's JSON Schema from the Go types
// and compares it with docs/spec.schema.json, so the committed schema
// cannot fall behind a change to Spec, its defaults or its bounds.
func TestSchemaUpToDate(t *testing.T) {
	checkGenerated(t, schemaFile, SpecSchema())
}

// TestSchemaReferenceUpToDate does the same for docs/spec-reference.md.
func TestSchemaReferenceUpToDate(t *testing.T) {
	checkGenerated(t, referenceFile, []byte(SpecReference()))
}

func checkGenerated(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: %s", err, schemaFix)
	}
	if !bytes.Equal(want, got) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		line := 0
		for line < min(len(gl), len(wl)) && gl[line] == wl[line] {
			line++
		}
		g, w := "(end of file)", "(end of file)"
		if line < len(gl) {
			g = gl[line]
		}
		if line < len(wl) {
			w = wl[line]
		}
		t.Errorf("%s is out of date with sweeps.Spec: %s.\nfirst difference, line %d:\n  committed: %s\n  generated: %s", strings.TrimPrefix(path, "../"), schemaFix, line+1, w, g)
	}
}

// parsedSchema is SpecSchema as a generic JSON value.
func parsedSchema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(SpecSchema(), &s); err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	return s
}

// schemaAt returns the schema of the dotted key path.
func schemaAt(root map[string]any, path string) map[string]any {
	node := root
	for _, part := range strings.Split(path, ".") {
		props, _ := node["properties"].(map[string]any)
		next, ok := props[part].(map[string]any)
		if !ok {
			return nil
		}
		node = next
	}
	return node
}

// valueSchema is a leaf's schema of one value: the first branch of a
// sweepable key's anyOf.
func valueSchema(s map[string]any) map[string]any {
	if branches, ok := s["anyOf"].([]any); ok {
		return branches[0].(map[string]any)
	}
	return s
}

// TestSchemaDescribesEveryField walks sweeps.Spec by reflection, apart from
// KeyDocs, and finds each YAML key in the schema with its type and a
// description; and every entry of schema.go's tables names a key.
func TestSchemaDescribesEveryField(t *testing.T) {
	root := parsedSchema(t)
	if root["$schema"] != SchemaURL {
		t.Errorf("$schema = %v", root["$schema"])
	}
	seen := map[string]bool{}
	leaves := 0
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
			if tag == "-" {
				continue
			}
			if tag == "" {
				t.Errorf("%s.%s has no mapstructure tag", typ.Name(), f.Name)
				continue
			}
			path := strings.TrimPrefix(prefix+"."+tag, ".")
			seen[path] = true
			s := schemaAt(root, path)
			if s == nil {
				t.Errorf("%s (%s.%s) is not in the schema", path, typ.Name(), f.Name)
				continue
			}
			if d, _ := s["description"].(string); strings.TrimSpace(d) == "" {
				t.Errorf("%s has no description: add one to specDescriptions in sweeps/schema.go", path)
			}
			want := map[reflect.Kind]string{reflect.Struct: "object", reflect.Slice: "array", reflect.Int: "integer", reflect.Float64: "number", reflect.String: "string", reflect.Bool: "boolean"}[f.Type.Kind()]
			if got := valueSchema(s)["type"]; got != want {
				t.Errorf("%s: type %v, want %s", path, got, want)
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, path)
			} else {
				leaves++
			}
		}
	}
	walk(reflect.TypeOf(Spec{}), "")
	if leaves < 50 {
		t.Errorf("only %d leaf keys found", leaves)
	}
	if _, ok := root["properties"].(map[string]any)["axes"]; ok {
		t.Error("Spec.Axes (mapstructure:\"-\") is not a YAML key but is in the schema")
	}
	var keys []string
	for k := range specDescriptions {
		keys = append(keys, k)
	}
	for k := range specEnums {
		keys = append(keys, k)
	}
	for k := range specBounds {
		keys = append(keys, k)
	}
	for k := range specRequired {
		keys = append(keys, k)
	}
	for k := range specDefaults {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if !seen[k] {
			t.Errorf("sweeps/schema.go describes %q, which is not a spec key", k)
		}
	}
	if got := len(KeyDocs()); got != len(seen) {
		t.Errorf("KeyDocs lists %d keys, the types have %d", got, len(seen))
	}
}

// TestSchemaStructure: every object in the schema forbids other keys, the
// top level requires dataset and dataset requires kind, and the sweepable
// keys are exactly SweepableKey's.
func TestSchemaStructure(t *testing.T) {
	root := parsedSchema(t)
	var walk func(any, string)
	objects := 0
	walk = func(n any, where string) {
		switch x := n.(type) {
		case map[string]any:
			if x["type"] == "object" {
				objects++
				if x["additionalProperties"] != false {
					t.Errorf("%s: an object without additionalProperties: false", where)
				}
			}
			for k, v := range x {
				walk(v, where+"/"+k)
			}
		case []any:
			for i, v := range x {
				walk(v, fmt.Sprintf("%s/%d", where, i))
			}
		}
	}
	walk(root, "#")
	if objects < 10 {
		t.Errorf("only %d objects", objects)
	}
	if !reflect.DeepEqual(root["required"], []any{"dataset"}) {
		t.Errorf("top level required = %v, want [dataset]", root["required"])
	}
	if !reflect.DeepEqual(schemaAt(root, "dataset")["required"], []any{"kind"}) {
		t.Errorf("dataset required = %v, want [kind]", schemaAt(root, "dataset")["required"])
	}
	var swept []string
	for _, k := range KeyDocs() {
		s := schemaAt(root, k.Path)
		_, anyOf := s["anyOf"]
		if k.Type != "object" && SweepableKey(k.Path) == nil {
			swept = append(swept, k.Path)
			if !anyOf {
				t.Errorf("%s is sweepable but its schema has no anyOf", k.Path)
				continue
			}
			branches := s["anyOf"].([]any)
			if len(branches) != 3 {
				t.Errorf("%s: %d branches", k.Path, len(branches))
				continue
			}
			list := branches[1].(map[string]any)
			wb := branches[2].(map[string]any)["properties"].(map[string]any)["values"]
			if !reflect.DeepEqual(list["items"], branches[0]) || !reflect.DeepEqual(wb, list) {
				t.Errorf("%s: the list and {values: [...]} forms do not hold the key's own schema", k.Path)
			}
		} else if anyOf {
			t.Errorf("%s is not sweepable but its schema has an anyOf", k.Path)
		}
	}
	for _, want := range []string{"train.lr", "generator.hidden", "generator.kind", "verdict.inv_ratio", "classifier.batch"} {
		if !slices.Contains(swept, want) {
			t.Errorf("%s should be sweepable", want)
		}
	}
	for _, not := range []string{"verdict.quorum", "dataset.dim", "ng", "seeds", "latent_dims", "concurrency", "adaptive.max_ng"} {
		if slices.Contains(swept, not) {
			t.Errorf("%s should not be sweepable", not)
		}
	}
}

// fieldAt returns the field of s at the dotted path.
func fieldAt(t *testing.T, s *Spec, path string) reflect.Value {
	t.Helper()
	v := reflect.ValueOf(s).Elem()
	for _, part := range strings.Split(path, ".") {
		found := false
		for i := 0; i < v.NumField(); i++ {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("mapstructure"), ","); tag == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			t.Fatalf("no field %s", path)
		}
	}
	return v
}

func jsonOf(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Len() == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSchemaDefaultsAreDefaultSpec: each default in the schema is
// DefaultSpec's value or, where schema.go says so, what Normalize fills;
// a key without a default has none in DefaultSpec either.
func TestSchemaDefaultsAreDefaultSpec(t *testing.T) {
	root := parsedSchema(t)
	def := DefaultSpec()
	analytic := DefaultSpec()
	analytic.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 3}
	analytic.Normalize()
	mnist := DefaultSpec()
	mnist.Dataset = Dataset{Kind: "mnist"}
	mnist.Normalize()
	table := DefaultSpec()
	table.Dataset = Dataset{Kind: "table", Path: "t.csv"}
	table.Normalize()
	normalized := map[string]*Spec{"dataset.samples": &analytic, "dataset.classes": &mnist,
		"dataset.task": &table, "dataset.val_fraction": &table, "oracle_net.hidden": &table, "oracle_net.activation": &table}
	for _, k := range KeyDocs() {
		if k.Type == "object" {
			continue
		}
		s := schemaAt(root, k.Path)
		d, has := s["default"]
		if has != k.HasDefault {
			t.Errorf("%s: schema default %v, KeyDoc.HasDefault %v", k.Path, has, k.HasDefault)
		}
		if k.DefaultText == "" {
			t.Errorf("%s: no default text for the reference", k.Path)
		}
		from := &def
		if n, ok := normalized[k.Path]; ok {
			from = n
		} else if _, ok := specDefaults[k.Path]; ok && has {
			t.Errorf("%s: schema.go gives a default that no test checks; add it to normalized here", k.Path)
		}
		field := fieldAt(t, from, k.Path)
		if !has {
			if !fieldAt(t, &def, k.Path).IsZero() {
				t.Errorf("%s: the schema gives no default but DefaultSpec has %v", k.Path, fieldAt(t, &def, k.Path))
			}
			continue
		}
		if got, want := jsonOf(d), jsonOf(field.Interface()); got != want {
			t.Errorf("%s: schema default %s, want %s", k.Path, got, want)
		}
	}
	// the normalization by kind the reference states
	for kind, want := range map[string]string{"mlp": "pointwise", "linear": "frobenius"} {
		s := analytic
		s.Generator.Kind, s.Generator.Normalization = kind, ""
		s.Normalize()
		if s.Generator.Normalization != want || !strings.Contains(specDefaults["generator.normalization"].text, "`"+want+"` ("+kind+")") {
			t.Errorf("generator.normalization for %s: Normalize gives %q, the reference says %q", kind, s.Generator.Normalization, specDefaults["generator.normalization"].text)
		}
	}
}

// validationBases are valid specs (before Normalize) on which one key at a
// time is set to check the schema's enums and bounds against Validate.
func validationBases() map[string]Spec {
	analytic := DefaultSpec()
	analytic.Dataset = Dataset{Kind: "analytic", Oracle: "norm", Dim: 3}
	linear := analytic
	linear.Generator = Generator{Kind: "linear", Orthogonality: "global", Closure: "joint"}
	expr := analytic
	expr.Dataset = Dataset{Kind: "analytic", Oracle: "expr", Dim: 3, Expr: []string{"x0^2 + x1^2 + x2^2"}}
	mnist := DefaultSpec()
	mnist.Dataset = Dataset{Kind: "mnist", Classes: []int{0, 1}}
	mnist.LatentDims = []int{2}
	table := DefaultSpec()
	table.Dataset = Dataset{Kind: "table", Path: "data.csv", Target: "y"}
	table.LatentDims = []int{3}
	images := mnist
	images.Dataset = Dataset{Kind: "images", Path: "fashion", Classes: []int{0, 1}}
	// mini-batches: the memory bound counts the batch, so train.max_points
	// can reach its own bound (full batch, 10⁷ points are over the memory
	// bound, and analytic oracles take no max_points)
	batched := mnist
	batched.Train.Batch = 256
	return map[string]Spec{"analytic": analytic, "analytic-linear": linear, "analytic-expr": expr, "mnist": mnist, "mnist-batched": batched, "table": table, "images": images}
}

// validates sets key to v on a copy of base and reports whether the
// normalised spec is valid.
func validates(t *testing.T, base Spec, key string, v any) bool {
	t.Helper()
	s := base
	s.Dataset.Expr = slices.Clone(base.Dataset.Expr)
	if xs, ok := v.([]string); ok { // Set takes lists of integers only
		fieldAt(t, &s, key).Set(reflect.ValueOf(xs))
	} else if err := s.Set(key, v); err != nil {
		t.Fatalf("set %s = %v: %v", key, v, err)
	}
	s.Normalize()
	return s.Validate() == nil
}

func TestSchemaBasesAreValid(t *testing.T) {
	for name, b := range validationBases() {
		b.Normalize()
		if err := b.Validate(); err != nil {
			t.Errorf("base %s: %v", name, err)
		}
	}
}

// TestSchemaEnumsMatchValidate: each value of an enum is valid on some base
// spec and another value is valid on none; a string key without an enum
// takes any value Validate checks.
func TestSchemaEnumsMatchValidate(t *testing.T) {
	bases := validationBases()
	for _, k := range KeyDocs() {
		if k.Type != "string" {
			continue
		}
		if k.Enum == nil {
			ok := false
			for _, b := range bases {
				ok = ok || validates(t, b, k.Path, "anything-else")
			}
			if !ok {
				t.Errorf("%s: Validate rejects a value on every base, but the schema gives it no enum", k.Path)
			}
			continue
		}
		for _, v := range append(slices.Clone(k.Enum), "bogus") {
			ok := false
			for _, b := range bases {
				ok = ok || validates(t, b, k.Path, v)
			}
			if want := v != "bogus"; ok != want {
				t.Errorf("%s = %q: valid on some base %v, the schema's enum %v says %v", k.Path, v, ok, k.Enum, want)
			}
		}
	}
}

type probe struct {
	v  any
	ok bool
}

// boundProbes are values at and just past each bound of k.
func boundProbes(k KeyDoc) []probe {
	b := k.Bounds
	var ps []probe
	switch k.Type {
	case "integer", "number":
		step := 1.0
		if k.Type == "number" {
			step = 1e-9
		}
		if b.Min != nil {
			ps = append(ps, probe{*b.Min, true}, probe{*b.Min - step, false})
		}
		if b.ExclusiveMin != nil {
			ps = append(ps, probe{*b.ExclusiveMin + step, true}, probe{*b.ExclusiveMin, false})
		}
		if b.Max != nil {
			ps = append(ps, probe{*b.Max, true}, probe{*b.Max + step, false})
		}
	case "array":
		if k.Items == "integer" {
			lo := 0
			if b.Min != nil {
				lo = int(*b.Min)
				ps = append(ps, probe{[]int{lo, lo + 1}, true}, probe{[]int{lo - 1, lo}, false})
			}
			if b.Max != nil {
				hi := int(*b.Max)
				ps = append(ps, probe{[]int{hi, hi - 1}, true}, probe{[]int{hi + 1, hi}, false})
			}
			if b.Unique {
				ps = append(ps, probe{[]int{lo + 1, lo}, true}, probe{[]int{lo + 1, lo + 1}, false})
			}
			if b.MinItems > 0 {
				ps = append(ps, probe{[]int{}, false})
			}
			if b.MaxItems > 0 {
				at := make([]int, b.MaxItems+1)
				for i := range at {
					at[i] = lo + 1 + i
				}
				ps = append(ps, probe{at[:b.MaxItems], true}, probe{at, false})
			}
		} else if b.MaxItems > 0 {
			at := slices.Repeat([]string{"x0"}, b.MaxItems+1)
			ps = append(ps, probe{at[:b.MaxItems], true}, probe{at, false})
		}
	case "string":
		if b.MaxLength > 0 {
			ps = append(ps, probe{strings.Repeat("a", b.MaxLength), true}, probe{strings.Repeat("a", b.MaxLength+1), false})
		}
	}
	return ps
}

// TestSchemaBoundsMatchValidate: on some base spec (the keys of one
// dataset kind are only checked with it), Validate accepts the values at
// each of a key's bounds and rejects the values just past them; and a
// number or integer without a maximum takes 10⁹.
func TestSchemaBoundsMatchValidate(t *testing.T) {
	bases := validationBases()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range bases {
			if !yield(n) {
				return
			}
		}
	})
	dynamic := map[string]bool{"verdict.quorum": true} // at most the number of seeds
	checked := 0
	for _, k := range KeyDocs() {
		ps := boundProbes(k)
		if len(ps) == 0 {
			if k.Type == "integer" || k.Type == "number" {
				t.Errorf("%s: a number without bounds (Validate checks every number)", k.Path)
			}
			continue
		}
		found := false
		for _, name := range names {
			good := true
			for _, p := range ps {
				if validates(t, bases[name], k.Path, p.v) != p.ok {
					good = false
				}
			}
			if good {
				found = true
				break
			}
		}
		if !found {
			for _, name := range names {
				for _, p := range ps {
					if got := validates(t, bases[name], k.Path, p.v); got != p.ok {
						t.Logf("%s = %v on base %s: valid %v, the schema says %v", k.Path, p.v, name, got, p.ok)
					}
				}
			}
			t.Errorf("%s: on no base spec does Validate accept the values at the schema's bounds and reject those past them", k.Path)
		}
		checked++
		if (k.Type == "integer" || k.Type == "number") && k.Bounds.Max == nil && !dynamic[k.Path] {
			ok := false
			for _, b := range bases {
				ok = ok || validates(t, b, k.Path, 1e9)
			}
			if !ok {
				t.Errorf("%s = 1e9 is invalid on every base, but the schema gives it no maximum", k.Path)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d keys with bounds", checked)
	}
	// name's pattern says what Validate checks
	re := regexp.MustCompile(specBounds["name"].Pattern)
	for _, name := range []string{"so3-demo", "a.b_c", "ünï", "a b", "a/b", "a\tb", "a\nb", "/", "a..b", "a.", ".a", "-a", "a:b", "a._-.b"} {
		s := bases["analytic"]
		s.Name = name
		s.Normalize()
		if got, want := re.MatchString(name), s.Validate() == nil; got != want {
			t.Errorf("name %q: pattern matches %v, Validate accepts %v", name, got, want)
		}
	}
}
